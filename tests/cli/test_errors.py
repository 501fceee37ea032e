"""Exit codes and messages scripts can rely on: 0 ok, 1 not found, 2 usage, 3 no server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.conftest import Servers, post_trace_and_wait
from looptrace.cli import main
from support.otlp_builders import S, trace_request
from support.servers import ServerProcess, free_port

TWINS = ("abcdef0100000000000000000000000a", "abcdef0100000000000000000000000b")


@pytest.fixture(scope="module")
def twins(servers: Servers) -> ServerProcess:
    """Two traces whose ids share their first 8 characters."""
    for trace_id in TWINS:
        post_trace_and_wait(servers.spare, trace_id, trace_request(trace_id, [S("00000000000000aa", "twin", 0, 1)]))
    return servers.spare


@pytest.mark.parametrize(
    "argv",
    [
        ["traces"],
        ["show", "4bf92f35"],
        ["tail"],
        ["stats"],
        ["export", "-o", "/dev/null"],
    ],
)
def test_every_command_exits_3_with_a_hint_when_no_server_answers(argv: list[str], capsys: pytest.CaptureFixture[str]):
    url = f"http://127.0.0.1:{free_port()}"
    assert main([*argv, "--server", url]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"looptrace {argv[0]}: no looptrace server at {url} — start one with `looptrace serve` or pass --server\n"
    )


def test_import_exits_3_when_no_server_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "t.jsonl"
    path.write_text("{}\n")
    assert main(["import", str(path), "--server", f"http://127.0.0.1:{free_port()}"]) == 3
    assert "no looptrace server at" in capsys.readouterr().err


def test_the_server_comes_from_looptrace_server_when_no_flag_names_it(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("LOOPTRACE_SERVER", server.url.removeprefix("http://"))
    assert main(["traces", "--json", "--limit", "1"]) == 0
    assert '"trace_id"' in capsys.readouterr().out


def test_show_of_an_unknown_trace_exits_1(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["show", "ffffffffffffffff", "--server", server.url]) == 1
    assert capsys.readouterr().err == "looptrace show: trace ffffffffffffffff not found\n"


def test_show_of_an_ambiguous_prefix_exits_1_and_lists_the_candidates(
    twins: ServerProcess, capsys: pytest.CaptureFixture[str]
):
    assert main(["show", "abcdef01", "--server", twins.url]) == 1
    assert capsys.readouterr().err == (
        f"looptrace show: trace id prefix matches several traces; give more characters:\n  {TWINS[0]}\n  {TWINS[1]}\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "xyz"], "looptrace show: the server refused the request: trace id must be hex characters"),
        (["traces", "--min-duration", "soon"], "looptrace traces: --min-duration: 'soon' is not a duration"),
        (["traces", "--since", "yesterday"], "looptrace traces: --since: 'yesterday' is not a time"),
        (["traces", "--attr", "novalue"], "looptrace traces: --attr: 'novalue' must look like key=value"),
        (["traces", "--limit", "0"], "looptrace traces: --limit must be at least 1"),
        (["show", "4bf92f35", "--depth", "-1"], "looptrace show: --depth must be 0 or more"),
        (["stats", "--until", "now-1x"], "looptrace stats: --until: '1x' is not a duration"),
        (["tail", "--interval", "often"], "looptrace tail: --interval: 'often' is not a duration"),
    ],
)
def test_bad_arguments_exit_2_with_a_message_naming_them(
    server: ServerProcess, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
):
    assert main([*argv, "--server", server.url]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_argparse_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        main(["traces", "--status", "sometimes"])
    assert exited.value.code == 2
    assert "invalid choice: 'sometimes'" in capsys.readouterr().err


def test_top_level_help_documents_the_commands_and_exit_codes():
    out = subprocess.run(
        [sys.executable, "-m", "looptrace.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("traces", "show", "tail", "stats", "export", "import"):
        assert f"    {command} " in out
    assert "exit codes: 0 ok, 1 not found (unknown or ambiguous id) or server error, 2 usage error," in out


@pytest.mark.parametrize("command", ["traces", "show", "tail", "stats", "export", "import"])
def test_each_command_help_has_examples(command: str, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "examples:\n  looptrace " + command in out
    assert "--server URL" in out
