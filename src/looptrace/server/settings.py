"""The one configuration object of `looptrace serve`, from flags and `LOOPTRACE_*` variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from looptrace import envvars
from looptrace._durations import duration_sec

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318
DEFAULT_GRPC_PORT = 4317
DEFAULT_DATA_DIR = Path(".looptrace")
DEFAULT_RETENTION_SEC = 7 * 24 * 3600
DEFAULT_MAX_REQUEST_BYTES = 16 << 20
DEFAULT_MAX_LOG_BYTES = 1 << 30
DEFAULT_WARM_SPANS = 2_000

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3, None: 1}


class ConfigError(ValueError):
    """A setting has a value looptrace cannot use; the message names the setting."""


def parse_duration_sec(text: str, *, setting: str) -> float:
    """Parse "90", "500ms", "15m", "24h", "7d" or "2w" into seconds ("0" means never).

    Raises:
        ConfigError: the text is not a duration.
    """
    seconds = duration_sec(text)
    if seconds is None:
        raise ConfigError(f"{setting}: {text!r} is not a duration (examples: 90s, 15m, 24h, 7d, 0 for never)")
    return seconds


def parse_size_bytes(text: str, *, setting: str) -> int:
    """Parse "16777216", "16MiB", "512kb" or "1GiB" into bytes.

    Raises:
        ConfigError: the text is not a size.
    """
    match = _SIZE.match(text)
    if match is None:
        raise ConfigError(f"{setting}: {text!r} is not a size (examples: 16MiB, 512KiB, 1GiB)")
    unit = match.group(2).lower() if match.group(2) else None
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `looptrace serve` can be told. Flags win over environment, environment over defaults."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    grpc_port: int | None = DEFAULT_GRPC_PORT
    """None turns the OTLP/gRPC receiver off."""
    data_dir: Path = DEFAULT_DATA_DIR
    retention_sec: float = DEFAULT_RETENTION_SEC
    """Traces whose last span ended longer ago are deleted; 0 keeps everything."""
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    """Largest OTLP request body accepted, checked before and after gzip decompression."""
    max_log_bytes: int = DEFAULT_MAX_LOG_BYTES
    """Accepted bytes not yet stored past which receivers answer 429/503 (back-pressure)."""
    fsync: bool = True
    """fsync the ingest log before each acknowledgement. Only benchmarks turn it off."""
    warm_spans: int = DEFAULT_WARM_SPANS
    """Traces with at least this many spans get their waterfall skeleton built once they stop
    changing, before anyone opens them; 0 turns this off."""
    ingest_worker: bool = False
    """Prepare stored batches (decode, normalize, Arrow, summaries) in a worker process beside the
    server. Off by default: on a 2-core machine shared with the senders it stored fewer spans per
    second than one process (docs/benchmarks.md); it is for hosts with cores to spare."""
    log_level: str = "info"

    def __post_init__(self) -> None:
        for name, port in (("port", self.port), ("grpc_port", self.grpc_port)):
            if port is not None and not 0 <= port <= 65535:
                raise ConfigError(f"{name}: {port} is not a TCP port (0-65535)")
        if self.max_request_bytes <= 0:
            raise ConfigError("max_request_bytes must be positive")
        if self.max_log_bytes <= 0:
            raise ConfigError("max_log_bytes must be positive")
        if self.retention_sec < 0:
            raise ConfigError("retention must not be negative")
        if self.warm_spans < 0:
            raise ConfigError("warm_spans must not be negative (0 turns warming off)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from `LOOPTRACE_*` variables, then apply non-None `overrides` (flags).

        `grpc_port=-1` (in either) turns the gRPC receiver off.

        Raises:
            ConfigError: a variable or override has an unusable value.
        """
        env = os.environ if environ is None else environ
        settings = cls()
        values: dict[str, object] = {}
        if v := env.get(envvars.LOOPTRACE_HOST):
            values["host"] = v
        if v := env.get(envvars.LOOPTRACE_PORT):
            values["port"] = _parse_int(v, envvars.LOOPTRACE_PORT)
        if v := env.get(envvars.LOOPTRACE_GRPC_PORT):
            is_off = v.lower() in ("off", "none", "-1")
            values["grpc_port"] = None if is_off else _parse_int(v, envvars.LOOPTRACE_GRPC_PORT)
        if v := env.get(envvars.LOOPTRACE_DATA):
            values["data_dir"] = Path(v)
        if v := env.get(envvars.LOOPTRACE_RETENTION):
            values["retention_sec"] = parse_duration_sec(v, setting=envvars.LOOPTRACE_RETENTION)
        if v := env.get(envvars.LOOPTRACE_MAX_REQUEST_BYTES):
            values["max_request_bytes"] = parse_size_bytes(v, setting=envvars.LOOPTRACE_MAX_REQUEST_BYTES)
        if v := env.get(envvars.LOOPTRACE_MAX_LOG_BYTES):
            values["max_log_bytes"] = parse_size_bytes(v, setting=envvars.LOOPTRACE_MAX_LOG_BYTES)
        if v := env.get(envvars.LOOPTRACE_WARM_SPANS):
            values["warm_spans"] = _parse_int(v, envvars.LOOPTRACE_WARM_SPANS)
        if v := env.get(envvars.LOOPTRACE_INGEST_WORKER):
            values["ingest_worker"] = _parse_switch(v, envvars.LOOPTRACE_INGEST_WORKER)
        if v := env.get(envvars.LOOPTRACE_LOG_LEVEL):
            values["log_level"] = v.lower()
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values.get("grpc_port") == -1:  # the CLI's --no-grpc
            values["grpc_port"] = None
        return replace(settings, **values)


def _parse_switch(text: str, setting: str) -> bool:
    word = text.strip().lower()
    if word in envvars.TRUE_WORDS:
        return True
    if word in envvars.FALSE_WORDS:
        return False
    raise ConfigError(f"{setting}: {text!r} is not on or off (1/0, on/off, true/false, yes/no)")


def _parse_int(text: str, setting: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{setting}: {text!r} is not an integer") from None
