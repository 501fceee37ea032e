"""Ingest benchmark: OTLP/HTTP protobuf agent traces into a real `looptrace serve`, fsync on.

Requests are pre-encoded with the real OpenTelemetry SDK and OTLP encoder: agent traces of about
20 spans (agent root, iterations, LLM calls carrying ~1 KB of prompt/completion text, tool calls).
For 1, 4 and 8 concurrent sender processes, and for each request size, it prints:

    accepted spans/s  — spans in 2xx-acknowledged requests per second of sending
    stored spans/s    — spans queryable (GET /api/v1/stats/summary) per second since the first send
    server CPU        — CPU of the server process and its children (the ingest worker) per span
    other CPU         — CPU of everything else on the machine per span: the senders, the kernel's
                        loopback networking, any other load (from /proc/stat)
    machine busy      — share of all cores busy during the run: near 100% means the machine's
                        cores, not the server's design, bound the run
    server peak RSS   — VmHWM of the server process and of its ingest worker, and their sum

Request sizes (`--traces-per-request`, default "1,23"): 1 is one agent trace per request, the
worst case; 23 traces (506 spans) is what the OpenTelemetry SDK's BatchSpanProcessor sends from a
busy process (max_export_batch_size 512).

Run (takes about two minutes):

    .venv/bin/python bench/bench_ingest.py [--traces 2000] [--senders 1,4,8] [--traces-per-request 1,23]
                                           [--fresh-server] [--server-args=--ingest-worker]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from support.servers import ServerProcess, free_port  # noqa: E402

_TEXT = "The agent considers which tool to call next given the search results so far. "


def make_requests(count: int, traces_per_request: int = 1) -> list[tuple[bytes, int]]:
    """Encoded ExportTraceServiceRequests holding `count` agent traces of ~22 spans, `traces_per_request` each."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    requests: list[tuple[bytes, int]] = []
    for t in range(count):
        with tracer.start_as_current_span("research_agent") as root:
            root.set_attribute("gen_ai.operation.name", "invoke_agent")
            root.set_attribute("gen_ai.agent.name", "research_agent")
            root.set_attribute("session.id", f"session-{t % 50}")
            for i in range(4):
                with tracer.start_as_current_span(f"agent_iteration_{i + 1}") as it:
                    it.set_attribute("iteration", i + 1)
                    with tracer.start_as_current_span("chat claude-3-5-haiku-20241022") as llm:
                        llm.set_attributes(
                            {
                                "gen_ai.operation.name": "chat",
                                "gen_ai.system": "anthropic",
                                "gen_ai.request.model": "claude-3-5-haiku-20241022",
                                "gen_ai.usage.input_tokens": 1200 + i,
                                "gen_ai.usage.output_tokens": 150 + t % 100,
                                "gen_ai.usage.cache_read.input_tokens": 800,
                                "gen_ai.response.finish_reasons": ["tool_use"],
                                "input.value": _TEXT * 9,
                                "output.value": _TEXT * 4,
                            }
                        )
                    with tracer.start_as_current_span("execute_tool search") as tool:
                        tool.set_attributes(
                            {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search", "input.value": "q"}
                        )
                        with tracer.start_as_current_span("http GET"):
                            pass
                    with tracer.start_as_current_span("parse_result"):
                        pass
            with tracer.start_as_current_span("final_answer"):
                pass
        if (t + 1) % traces_per_request == 0 or t == count - 1:
            spans = exporter.get_finished_spans()
            exporter.clear()
            requests.append((encode_spans(spans).SerializeToString(), len(spans)))
    provider.shutdown()
    return requests


def _sender(port: int, requests: list[tuple[bytes, int]], out: mp.Queue) -> None:  # type: ignore[type-arg]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    failed_spans = 0
    for body, spans in requests:
        conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            failed_spans += spans
    conn.close()
    out.put(failed_spans)


def _get_json(port: int, path: str) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path)
    body: dict[str, Any] = json.loads(conn.getresponse().read())
    conn.close()
    return body


def _stored_spans(port: int) -> int:
    """Spans queryable in the store: the count an API user gets (one scan of the spans table)."""
    return int(_get_json(port, "/api/v1/stats/summary")["span_count"])


def _committed_spans(port: int) -> int:
    """Spans whose batch has committed, from /healthz's counter: no query, so polling it costs the
    server almost nothing (polling the summary every 20 ms scanned the spans table 50 times a
    second, about 5 µs of server CPU per stored span in this benchmark)."""
    return int(_get_json(port, "/healthz")["ingest"]["spans_stored"])


def run(server: ServerProcess, requests: list[tuple[bytes, int]], senders: int) -> tuple[float, float, int]:
    """Send every request from `senders` processes; return (accepted/s, stored/s, spans refused).

    Stored means queryable: the clock stops once /healthz counts every accepted span as committed
    and a summary query then counts them all in the store (that last query is timed too).
    """
    before_stored = _stored_spans(server.port)
    before_committed = _committed_spans(server.port)
    total = sum(n for _, n in requests)
    chunks = [requests[i::senders] for i in range(senders)]
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    procs = [mp.Process(target=_sender, args=(server.port, chunk, out)) for chunk in chunks]
    started = time.perf_counter()
    for p in procs:
        p.start()
    failures = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    accepted_sec = time.perf_counter() - started
    expected = total - failures
    poll_sec = float(os.environ.get("POLL_SEC", "0.02"))
    while True:
        while _committed_spans(server.port) < before_committed + expected:
            time.sleep(poll_sec)
        if _stored_spans(server.port) >= before_stored + expected:
            break
        time.sleep(poll_sec)  # committed but not counted: never seen, but keep the claim honest
    stored_sec = time.perf_counter() - started
    return total / accepted_sec, total / stored_sec, failures


def descendants(pid: int) -> list[int]:
    """The process ids of `pid`'s children, grandchildren and so on (the ingest worker)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        out.extend(children)
        todo.extend(children)
    return out


def cpu_sec(pid: int) -> float:
    """User + system CPU seconds a process has used (load-independent cost measure)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_sec(pid: int) -> float:
    """CPU seconds of a process and its live descendants."""
    return sum(cpu_sec(p) for p in [pid, *descendants(pid)])


def machine_cpu_sec() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (from /proc/stat)."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq + steal
    tick = os.sysconf("SC_CLK_TCK")
    return busy / tick, (busy + idle + iowait) / tick


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process, in MB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=2000, help="agent traces per run (default 2000)")
    parser.add_argument("--senders", default="1,4,8", help="comma-separated sender counts (default 1,4,8)")
    parser.add_argument(
        "--traces-per-request", default="1,23", help="comma-separated traces per request (default 1,23)"
    )
    parser.add_argument("--fresh-server", action="store_true", help="an empty server for each run")
    parser.add_argument(
        "--server-args", default="", help="extra `looptrace serve` flags, e.g. --server-args=--ingest-worker"
    )
    args = parser.parse_args()

    sender_counts = [int(s) for s in args.senders.split(",")]
    sizes = [int(s) for s in args.traces_per_request.split(",")]
    cases = [(size, senders) for size in sizes for senders in sender_counts]
    print(f"encoding {args.traces} agent traces for each of {len(cases)} runs ...", flush=True)
    # Fresh traces for every run: the store ignores spans it already holds.
    runs = [make_requests(args.traces, size) for size, _ in cases]

    print(
        f"{'spans/request':>13} {'senders':>8} {'accepted spans/s':>17} {'stored spans/s':>15} "
        f"{'server CPU µs/span':>19} {'other CPU µs/span':>18} {'machine busy':>13} {'refused':>8}"
    )
    # One server for every run (the store grows: later runs pay for DuckDB checkpoints), or with
    # --fresh-server one empty server per run.
    groups = [[i] for i in range(len(cases))] if args.fresh_server else [list(range(len(cases)))]
    peak_rss = peak_worker_rss = 0.0
    for group in groups:
        workdir = Path(tempfile.mkdtemp(prefix="looptrace-bench-"))
        server = ServerProcess(workdir / "data", free_port(), free_port())
        server.start("--no-grpc", *args.server_args.split())
        try:
            assert server.process is not None
            pid = server.process.pid
            for i in group:
                senders, requests = cases[i][1], runs[i]
                cpu_before = tree_cpu_sec(pid)
                machine_busy_before, machine_total_before = machine_cpu_sec()
                accepted, stored, failures = run(server, requests, senders)
                server_sec = tree_cpu_sec(pid) - cpu_before
                machine_busy, machine_total = machine_cpu_sec()
                machine_busy -= machine_busy_before
                machine_total -= machine_total_before
                spans = sum(n for _, n in requests)
                cpu_us = server_sec / spans * 1e6
                other_us = max(0.0, machine_busy - server_sec) / spans * 1e6
                busy_pct = 100 * machine_busy / machine_total if machine_total else float("nan")
                print(
                    f"{spans / len(requests):>13.0f} {senders:>8} {accepted:>17,.0f} {stored:>15,.0f} "
                    f"{cpu_us:>19.1f} {other_us:>18.1f} {busy_pct:>12.0f}% {failures:>8}",
                    flush=True,
                )
            peak_rss = max(peak_rss, peak_rss_mb(pid))
            peak_worker_rss = max([peak_worker_rss, *(peak_rss_mb(child) for child in descendants(pid))])
        finally:
            server.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average after the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        f"server peak RSS (fsync on): {peak_rss:.0f} MB; largest child (ingest worker) {peak_worker_rss:.0f} MB; "
        f"sum {peak_rss + peak_worker_rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
