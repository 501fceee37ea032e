"""CPU per span of each server ingest stage, on the realistic agent traces of `bench_ingest.make_requests`.

Stages, as the pipeline runs them on one batch:

    decode     OTLP protobuf → model Spans (`looptrace.otlp.decode.decode_traces`)
    normalize  promoted fields, cost, duplicate flags (`looptrace.ingest.normalize.normalize_spans`,
               compiled with the ingest group when built: `looptrace._native`)
    to_arrow   Spans → Arrow table (`looptrace.storage.duckdb._arrow.spans_to_arrow`, also inside prepare)
    prepare    the store's batch preparer: dedup in the batch, partial summaries, to_arrow (in the
               ingest worker process by default)
    commit     `write_prepared`: stored summaries, merge, INSERTs, COMMIT (the server's own process;
               DuckDB's threads included)

Process CPU time (not wall time), so a loaded machine shows less noise; each stage runs `--repeat` times
and the table shows the best and the median. Pricing data is loaded before timing (the server does it at
start through `looptrace.pricing.warm_up`).

Run:

    .venv/bin/python bench/bench_ingest_stages.py [--traces 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT / "bench"))
sys.path.insert(0, str(_ROOT / "tests"))

import bench_ingest as b  # noqa: E402

from looptrace import pricing  # noqa: E402
from looptrace.ingest import normalize as normalizer  # noqa: E402
from looptrace.model import Span  # noqa: E402
from looptrace.otlp.decode import decode_traces  # noqa: E402
from looptrace.storage.api import PreparedBatch  # noqa: E402
from looptrace.storage.duckdb import DuckDBTraceStore  # noqa: E402
from looptrace.storage.duckdb._arrow import spans_to_arrow  # noqa: E402

_BATCH = 5000


def _cpu_us_per_span(fn: Callable[[], object], n: int) -> float:
    started = time.process_time()
    fn()
    return (time.process_time() - started) / n * 1e6


def main() -> None:
    """Print a table of CPU µs per span for each stage."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    reqs = b.make_requests(args.traces)
    n = sum(k for _, k in reqs)
    pricing.warm_up()

    def batches(spans: list[Span]) -> list[list[Span]]:
        return [spans[i : i + _BATCH] for i in range(0, len(spans), _BATCH)]

    results: dict[str, list[float]] = {"decode": [], "normalize": [], "to_arrow": [], "prepare": [], "commit": []}
    for _ in range(args.repeat):
        decoded = [decode_traces(body, "protobuf") for body, _ in reqs]
        spans = batches([s for d in decoded for s in d.spans])

        def decode() -> None:
            for body, _ in reqs:
                decode_traces(body, "protobuf")

        def normalize(spans: list[list[Span]] = spans) -> None:
            for batch in spans:
                normalizer.normalize_spans(batch, [])

        def to_arrow(spans: list[list[Span]] = spans) -> None:
            for batch in spans:
                spans_to_arrow(batch)

        results["decode"].append(_cpu_us_per_span(decode, n))
        results["normalize"].append(_cpu_us_per_span(normalize, n))
        results["to_arrow"].append(_cpu_us_per_span(to_arrow, n))
        with tempfile.TemporaryDirectory() as tmp:
            store = DuckDBTraceStore(Path(tmp) / "x.duckdb")

            prepared: list[PreparedBatch] = []

            def prepare(
                spans: list[list[Span]] = spans, store: DuckDBTraceStore = store, out: list[PreparedBatch] = prepared
            ) -> None:
                out.extend(store.batch_preparer(batch, []) for batch in spans)

            def commit(store: DuckDBTraceStore = store, batches: list[PreparedBatch] = prepared) -> None:
                for position, batch in enumerate(batches, start=1):
                    store.write_prepared(batch, position)

            results["prepare"].append(_cpu_us_per_span(prepare, n))
            results["commit"].append(_cpu_us_per_span(commit, n))
            store.close()

    load = os.getloadavg()
    print(f"{n} spans in {args.traces} traces, {args.repeat} runs, load average {load[0]:.2f} {load[1]:.2f}")
    print(f"{'stage':10s} {'best µs/span':>13s} {'median':>8s}")
    # to_arrow runs again inside prepare: the server's total is decode + normalize + prepare + commit.
    for stage, values in results.items():
        print(f"{stage:10s} {min(values):13.1f} {statistics.median(values):8.1f}")
    best = {stage: min(values) for stage, values in results.items()}
    total = best["decode"] + best["normalize"] + best["prepare"] + best["commit"]
    print(
        f"{'total':10s} {total:13.1f}   (decode + normalize + prepare + commit) → {1e6 / total:,.0f} spans/s per core"
    )
    worker = best["decode"] + best["normalize"] + best["prepare"]
    server = best["decode"] + best["commit"]
    print(
        f"with the ingest worker: worker {worker:.1f} µs/span (decode again, normalize, prepare), server "
        f"{server:.1f} (decode to validate, commit) + HTTP and the ingest log"
    )


if __name__ == "__main__":
    main()
