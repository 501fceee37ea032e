"""`looptrace serve`'s one configuration object: environment, flags, and the errors a user sees."""

from __future__ import annotations

import pytest

from looptrace.server.settings import ConfigError, Settings


@pytest.mark.parametrize(
    ("text", "expected"), [("on", True), ("1", True), ("TRUE", True), ("off", False), ("no", False)]
)
def test_the_ingest_worker_switch_reads_the_usual_spellings(text: str, expected: bool) -> None:
    assert Settings.from_env({"LOOPTRACE_INGEST_WORKER": text}).ingest_worker is expected


def test_the_ingest_worker_is_off_unless_asked_for_and_a_flag_wins_over_the_environment() -> None:
    assert Settings.from_env({}).ingest_worker is False
    assert Settings.from_env({"LOOPTRACE_INGEST_WORKER": "off"}, ingest_worker=True).ingest_worker is True


def test_an_unreadable_switch_names_the_variable_and_the_accepted_values() -> None:
    with pytest.raises(ConfigError, match=r"LOOPTRACE_INGEST_WORKER: 'maybe' is not on or off \(1/0, on/off"):
        Settings.from_env({"LOOPTRACE_INGEST_WORKER": "maybe"})


def test_sizes_and_durations_from_the_environment() -> None:
    settings = Settings.from_env(
        {"LOOPTRACE_MAX_REQUEST_BYTES": "32MiB", "LOOPTRACE_RETENTION": "24h", "LOOPTRACE_GRPC_PORT": "off"}
    )
    assert (settings.max_request_bytes, settings.retention_sec, settings.grpc_port) == (32 << 20, 86400.0, None)
    with pytest.raises(ConfigError, match="LOOPTRACE_RETENTION: 'soon' is not a duration"):
        Settings.from_env({"LOOPTRACE_RETENTION": "soon"})


def test_the_defaults_serve_help_states_are_the_settings_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    import re

    from looptrace.cli import main
    from looptrace.server import settings

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    stated = dict(re.findall(r"\[(LOOPTRACE_[A-Z_]+)\S*\] \(default ([^)]+)\)", text))
    assert settings.parse_duration_sec(stated["LOOPTRACE_RETENTION"], setting="") == settings.DEFAULT_RETENTION_SEC
    assert (
        settings.parse_size_bytes(stated["LOOPTRACE_MAX_REQUEST_BYTES"], setting="")
        == settings.DEFAULT_MAX_REQUEST_BYTES
    )
    assert settings.parse_size_bytes(stated["LOOPTRACE_MAX_LOG_BYTES"], setting="") == settings.DEFAULT_MAX_LOG_BYTES
    assert int(stated["LOOPTRACE_PORT"]) == settings.DEFAULT_PORT
    assert int(stated["LOOPTRACE_WARM_SPANS"]) == settings.DEFAULT_WARM_SPANS
    assert stated["LOOPTRACE_LOG_LEVEL"] == settings.Settings().log_level
