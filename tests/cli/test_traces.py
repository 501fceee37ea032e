from __future__ import annotations

import json

import pytest

from looptrace.cli import main
from support.otlp_builders import AGENT_TRACE_ID, BILLING_TRACE_ID, RESEARCH_TRACE_ID
from support.servers import ServerProcess


def test_traces_prints_a_table_of_every_trace_newest_first(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["traces", "--server", server.url, "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "START                TRACE     ROOT            DURATION  SPANS   LLM   TOKENS      COST  ERR\n"
        "2023-11-14 22:14:20  b111ab1e  refund_request     2.50s      3     1     3.5k    $0.013    0\n"
        "2023-11-14 22:13:20  4bf92f35  agent_loop         1.50s      7     2     2.7k   $0.0025    0\n"
        "2023-11-14 22:13:20  0af76519  research           4.00s      7     2     6.8k    $0.033    1\n"
    )


def test_traces_full_ids_and_sorting_by_cost(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["traces", "--server", server.url, "--full-ids", "--sort", "cost"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[2] for row in rows] == [RESEARCH_TRACE_ID, BILLING_TRACE_ID, AGENT_TRACE_ID]


def test_traces_json_is_the_api_page(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["traces", "--server", server.url, "--json", "--status", "error"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert page["next_cursor"] is None
    assert [t["trace_id"] for t in page["traces"]] == [RESEARCH_TRACE_ID]
    summary = page["traces"][0]
    assert summary["root_name"] == "research"
    assert summary["error_count"] == 1
    assert summary["span_count"] == 7
    assert summary["models"] == ["claude-3-5-sonnet-20241022"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--service", "billing"], [BILLING_TRACE_ID]),
        (["--name", "agent_loop"], [AGENT_TRACE_ID]),
        (["--status", "ok"], [BILLING_TRACE_ID, AGENT_TRACE_ID]),
        (["--min-duration", "2s"], [BILLING_TRACE_ID, RESEARCH_TRACE_ID]),
        (["--min-cost", "0.01"], [BILLING_TRACE_ID, RESEARCH_TRACE_ID]),
        (["--model", "gpt-4o"], [BILLING_TRACE_ID]),
        (["--tool", "calculate"], [AGENT_TRACE_ID]),
        (["--session", "sess-42"], [BILLING_TRACE_ID]),
        (["--attr", "user.tier=pro", "--attr", "session.id=sess-42"], [BILLING_TRACE_ID]),
        (["--search", "refund order"], [BILLING_TRACE_ID]),
        (["--since", "2023-11-14T22:14:00Z"], [BILLING_TRACE_ID]),
        (["--until", "2023-11-14 22:14:00"], [AGENT_TRACE_ID, RESEARCH_TRACE_ID]),
        (["--since", "1h"], []),
        (["--sort", "duration", "--asc", "--limit", "2"], [AGENT_TRACE_ID, BILLING_TRACE_ID]),
    ],
)
def test_traces_filters_reach_the_api(
    server: ServerProcess, capsys: pytest.CaptureFixture[str], flags: list[str], expected: list[str]
):
    assert main(["traces", "--server", server.url, "--json", *flags]) == 0
    assert [t["trace_id"] for t in json.loads(capsys.readouterr().out)["traces"]] == expected


def test_traces_limit_pages_and_says_more_exist(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["traces", "--server", server.url, "--limit", "1"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2
    assert "raise --limit" in captured.err


def test_traces_says_so_when_nothing_matches(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["traces", "--server", server.url, "--service", "nobody"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "no traces match\n"


def test_traces_colours_only_when_asked_or_on_a_terminal(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["traces", "--server", server.url]) == 0
    assert "\x1b[" not in capsys.readouterr().out
    assert main(["traces", "--server", server.url, "--color", "always"]) == 0
    assert "\x1b[31m" in capsys.readouterr().out


def test_traces_fits_a_narrow_terminal_by_cutting_the_root_name(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
):
    assert main(["traces", "--server", server.url, "--width", "76"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 76
    assert lines[1].startswith("22:14:20  b111ab1e  refund_r… ")
