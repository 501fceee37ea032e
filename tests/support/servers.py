"""Real looptrace servers for tests: a child process speaking on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A real `looptrace serve` in a child process."""

    data_dir: Path
    port: int
    grpc_port: int
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra: str, timeout_sec: float = 20.0) -> None:
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = self._spawn(log, extra)
        deadline = time.monotonic() + timeout_sec
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start in {timeout_sec}s:\n{self.output()}")

    def _spawn(self, log: IO[bytes], extra: tuple[str, ...]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "looptrace.cli",
                "serve",
                "--port",
                str(self.port),
                "--grpc-port",
                str(self.grpc_port),
                "--data",
                str(self.data_dir),
                *extra,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self, sig: int = signal.SIGTERM, timeout_sec: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout_sec)
        self.process = None
        return code

    def wait_for_spans(self, count: int, timeout_sec: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_sec
        stored = 0
        while time.monotonic() < deadline:
            stored = httpx.get(f"{self.url}/api/v1/stats/summary").json()["span_count"]
            if stored >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"only {stored} of {count} spans became queryable")
