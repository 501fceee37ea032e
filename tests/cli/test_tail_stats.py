from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from cli.conftest import Servers, post_json
from looptrace.cli import main
from support.otlp_builders import S, category, sid, trace_request
from support.servers import ServerProcess


def _tail_trace(trace_id: str, *, child: bool = True, root: bool = True) -> dict[str, object]:
    """A trace that starts now: tail follows what happens from now on."""
    spans: list[S] = []
    if root:
        spans.append(S(sid(1), "tailed", 0, 30, attrs=category("agent")))
    if child:
        spans.append(S(sid(2), "step", 10, 20, sid(1), category("tool") | {"gen_ai.tool.name": "t"}))
    return trace_request(trace_id, spans, service="tail-svc", base_ns=time.time_ns())


def test_tail_prints_each_new_trace_once_when_its_root_arrives(servers: Servers, capsys: pytest.CaptureFixture[str]):
    first, second = "7a11000000000000000000000000000a", "7a11000000000000000000000000000b"
    argv = ["tail", "--server", servers.spare.url, "--service", "tail-svc", "--json"]
    argv += ["--last", "0", "--count", "2", "--interval", "50ms"]
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(argv)), daemon=True)
    thread.start()
    time.sleep(0.3)
    # The first trace shows up without its root first: tail waits for the root.
    post_json(servers.spare.url, "/v1/traces", _tail_trace(first, root=False))
    time.sleep(0.3)
    post_json(servers.spare.url, "/v1/traces", _tail_trace(first, child=False))
    post_json(servers.spare.url, "/v1/traces", _tail_trace(second))
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert codes == [0]
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(p["trace_id"], p["root_name"], p["span_count"]) for p in printed] == [
        (first, "tailed", 2),
        (second, "tailed", 2),
    ]


def test_tail_backlog_prints_the_last_traces_oldest_first(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["tail", "--server", server.url, "--last", "2", "--count", "2", "--width", "100"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("START")
    assert [line.split()[3] for line in lines[1:]] == ["agent_loop", "refund_request"]


def _sigint_as_in_a_terminal() -> None:
    # A shell starts background jobs with SIGINT ignored, and Python keeps an ignored SIGINT
    # ignored: pytest run that way (`make test &`) would hand the child a Ctrl-C it cannot see.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_tail_exits_0_on_ctrl_c(server: ServerProcess):
    with subprocess.Popen(
        [sys.executable, "-m", "looptrace.cli", "tail", "--server", server.url, "--interval", "100ms"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_sigint_as_in_a_terminal,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().startswith(b"START")
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=20)
        finally:
            if process.poll() is None:  # never hang the suite on a tail that ignored Ctrl-C
                process.kill()
    assert process.returncode == 0
    assert err == b""


def test_stats_totals_models_and_latency_over_all_time(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["stats", "--server", server.url, "--since", "all", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"looptrace stats, all time  ({server.url})\n"
        "traces 3 · spans 17 · LLM calls 5 · cost $0.048\n"
        "tokens 11,350 in (cache 0 read, 0 write) · 1,640 out\n"
        "errors 1 span in 1 trace (5.9% of spans)\n"
        "\n"
        "MODEL                       PROVIDER    CALLS     INPUT  CACHE RD  CACHE WR    OUTPUT       COST\n"
        "claude-3-5-sonnet-20241022  anthropic       2      5.8k         0         0      1.0k     $0.033\n"
        "gpt-4o                      openai          1      3.0k         0         0       500     $0.013\n"
        "claude-3-5-haiku-20241022   anthropic       2      2.5k         0         0       120    $0.0025\n"
        "\n"
        "SPAN NAME                        CATEGORY     COUNT  ERRORS       P50       P95       P99       MAX\n"
        "chat claude-3-5-haiku-20241022   llm              2       0     570ms     579ms     580ms     580ms\n"
        "chat claude-3-5-sonnet-20241022  llm              2       0     750ms     975ms     995ms     1.00s\n"
        "agent_decision                   chain            1       0     600ms     600ms     600ms     600ms\n"
        "more span names in this window: the 3 most frequent shown (--limit N)\n"
    )


def test_stats_json_and_an_empty_recent_window(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["stats", "--server", server.url, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["start"] == "now-24h"
    assert document["summary"]["trace_count"] == 0
    assert document["models"] == [] and document["latency"] == []
    assert document["errors"]["error_count"] == 0
    assert main(["stats", "--server", server.url, "--json", "--since", "all"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["summary"]["span_count"] == 17
    assert document["errors"] == {
        "span_count": 17,
        "error_count": 1,
        "trace_count": 3,
        "error_trace_count": 1,
        "error_rate": 1 / 17,
    }
