from __future__ import annotations

import json

import pytest

from looptrace.cli import main
from looptrace.cli._common import Style
from looptrace.cli._render import render_trace_tree
from looptrace.client import LooptraceClient
from support.otlp_builders import AGENT_TRACE_ID, RESEARCH_TRACE_ID
from support.servers import ServerProcess

AGENT_TREE = """\
agent_loop  4bf92f3577b34da6a3ce929d0e0e4736  support-bot
started 2023-11-14 22:13:20 · 1.50s · 7 spans · 2 LLM calls · depth 3 · 0 errors
tokens 2,550 in (cache 0 read, 0 write) · 120 out · cost $0.0025

    SPAN                             DURATION  DETAILS                   0                    1.50s
*   agent_loop                 agent    1.50s  Σ 2 llm 2.7k tok $0.0025 │██████████████████████████│
*   ├─ agent_iteration_1       chain    890ms  Σ 1 llm 1.3k tok $0.0013 │████████████████          │
*   │  ├─ agent_decision       chain    600ms  Σ 1 llm 1.3k tok $0.0013 │███████████               │
*   │  │  └─ chat claude-3-5-… llm      580ms       1.2k→80 tok $0.0013 │███████████               │
*   │  └─ tool_call_calculate  tool     250ms                           │          ██████          │
*   └─ agent_iteration_2       chain    580ms  Σ 1 llm 1.4k tok $0.0012 │               ███████████│
*      └─ chat claude-3-5-hai… llm      560ms       1.4k→40 tok $0.0012 │               ███████████│

* critical path   ! error   » bottleneck: the parallel branch its siblings waited for
"""

RESEARCH_TREE = """\
research  0af7651916cd43dd8448eb211c80319c  support-bot
started 2023-11-14 22:13:20 · 4.00s · 7 spans · 2 LLM calls · depth 2 · 1 error
tokens 5,800 in (cache 0 read, 0 write) · 1,020 out · cost $0.033

    SPAN                                     DURATION  DETAILS                   0                              4.00s
    research                           agent    4.00s  Σ 2 llm  6.8k tok $0.033 │████████████████████████████████████│
*   ├─ chat claude-3-5-sonnet-20241022 llm      500ms       800→120 tok $0.0042 │█████                               │
*   ├─ parallel_search                 chain    2.50s                           │    ███████████████████████         │
    │  ├─ search arxiv                 tool     990ms                           │    ██████████                      │
* » │  ├─ search web                   tool     2.48s                           │    ███████████████████████         │
 !  │  └─ search news                  tool     190ms  TimeoutError: news API   │    ███                             │
*   └─ chat claude-3-5-sonnet-20241022 llm      1.00s       5.0k→900 tok $0.029 │                           █████████│

* critical path   ! error   » bottleneck: the parallel branch its siblings waited for
"""


def test_show_draws_the_agent_loop_as_a_tree_with_waterfall_bars(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
):
    assert main(["show", "4bf92f35", "--server", server.url, "--width", "100"]) == 0
    assert capsys.readouterr().out == AGENT_TREE


def test_show_marks_the_bottleneck_and_the_error_of_a_parallel_research_trace(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
):
    assert main(["show", RESEARCH_TRACE_ID, "--server", server.url, "--width", "118"]) == 0
    assert capsys.readouterr().out == RESEARCH_TREE


def test_show_fills_exactly_the_width_it_is_given(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    for width in (60, 80, 100, 160, 220):
        assert main(["show", "0af76519", "--server", server.url, "--width", str(width)]) == 0
        rows = [line for line in capsys.readouterr().out.splitlines() if line.endswith("│")]
        assert len(rows) == 7
        assert {len(row) for row in rows} == {width}


def test_show_depth_cuts_the_tree_and_counts_what_it_hid(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["show", "0af76519", "--server", server.url, "--width", "100", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "search web" not in out
    assert "parallel_search" in out
    assert "3 deeper spans hidden by --depth 1" in out


def test_show_colours_errors_red_and_the_critical_path_yellow_when_asked(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
):
    assert main(["show", "0af76519", "--server", server.url, "--color", "always"]) == 0
    lines = capsys.readouterr().out.splitlines()
    news = next(line for line in lines if "search news" in line)
    web = next(line for line in lines if "search web" in line)
    assert news.startswith("\x1b[31m !")
    assert web.startswith("\x1b[33m* »")


def test_show_json_is_the_api_trace(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["show", AGENT_TRACE_ID, "--server", server.url, "--json"]) == 0
    trace = json.loads(capsys.readouterr().out)
    assert set(trace) == {"summary", "totals", "max_depth", "critical_path", "spans", "logs"}
    assert [(s["name"], s["depth"]) for s in trace["spans"]][:3] == [
        ("agent_loop", 0),
        ("agent_iteration_1", 1),
        ("agent_decision", 2),
    ]
    assert len(trace["logs"]) == 2


def test_show_span_prints_messages_tokens_cost_and_attributes_of_an_llm_call(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
):
    assert main(["show", "4bf92f35", "--server", server.url, "--span", "0000000000000004", "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "chat claude-3-5-haiku-20241022  span 0000000000000004  trace 4bf92f3577b34da6a3ce929d0e0e4736\n"
        "client · llm · support-bot · scope tests.cli\n"
        "started 2023-11-14 22:13:20 (+30.0ms into the trace) · 580ms · depth 3 · parent 0000000000000003\n"
    )
    assert "  provider anthropic · model claude-3-5-haiku-20241022 · finish tool_call\n" in out
    assert "  tokens 1,200 in (cache - read, - write) · 80 out\n" in out
    assert "  cost $0.0013 (computed)\n" in out
    assert (
        "messages\n"
        "  [input user]\n"
        "    What is 15 * (10 + 5)?\n"
        "  [output assistant]\n"
        '    → tool call calculate({"expression": "15 * (10 + 5)"})\n'
    ) in out
    assert "    gen_ai.usage.output_tokens      80\n" in out


def test_show_span_by_name_prints_events_and_logs(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["show", "4bf92f35", "--server", server.url, "--span", "tool_call_calculate"]) == 0
    out = capsys.readouterr().out
    assert "events (time from the span's start)\n  +1.00ms  tool_started  attempt=1\n" in out
    assert (
        "logs (time from the span's start)\n"
        "  +70.0ms  INFO   calculating 15 * (10 + 5)\n"
        "  +170ms  ERROR  slow evaluator\n"
    ) in out


def test_show_span_lists_the_candidates_when_a_name_is_ambiguous(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
):
    assert main(["show", "4bf92f35", "--server", server.url, "--span", "chat claude-3-5-haiku-20241022"]) == 1
    err = capsys.readouterr().err
    assert "2 spans match" in err
    assert "0000000000000004" in err and "0000000000000007" in err


def test_show_span_by_a_part_of_its_name_in_any_case(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["show", "4bf92f35", "--server", server.url, "--span", "CALCULATE"]) == 0
    assert "tool_call_calculate" in capsys.readouterr().out
    assert main(["show", "4bf92f35", "--server", server.url, "--span", "agent_iter"]) == 1  # two iterations
    err = capsys.readouterr().err
    assert "2 spans match 'agent_iter'" in err and "agent_iteration_1" in err and "agent_iteration_2" in err


def test_show_span_that_does_not_exist_is_exit_code_1(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["show", "4bf92f35", "--server", server.url, "--span", "nope"]) == 1
    assert "no span 'nope'" in capsys.readouterr().err


def test_rendering_a_skeleton_in_process_matches_the_command(server: ServerProcess):
    with LooptraceClient(server.url) as client:
        skeleton = client.get_trace_skeleton(AGENT_TRACE_ID[:8])
    assert skeleton["span_count"] == 7
    assert "\n".join(render_trace_tree(skeleton, 100, Style(enabled=False))) + "\n" == AGENT_TREE


def test_an_80_column_terminal_keeps_tokens_cost_and_errors_and_nothing_is_wider(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
):
    assert main(["show", RESEARCH_TRACE_ID, "--server", server.url, "--width", "80"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines[3:]) <= 80  # the header lines carry the whole trace id
    rows = [line for line in lines if line.endswith("│")]
    assert "TimeoutError" in next(row for row in rows if row.startswith(" !"))
    assert sum("tok $" in row for row in rows) == 3  # the root's subtree total and the two LLM calls
    assert "* critical path" in lines and "! error" in lines  # the legend, one entry a line
    assert not any("need --width" in line for line in lines)
    assert main(["show", RESEARCH_TRACE_ID, "--server", server.url, "--width", "60"]) == 0
    narrow = capsys.readouterr().out.splitlines()
    assert "tokens, cost and errors of each span need --width 64 or more" in narrow
    assert "TimeoutError" not in "\n".join(narrow)
