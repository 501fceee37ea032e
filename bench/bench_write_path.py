"""Wall time of the store's write path: prepared SDK-sized batches into a fresh DuckDB store, fsync on.

Prepares every batch first (decode, normalize, Arrow, partial summaries), then times only
`DuckDBTraceStore.write_prepared` for each: stored summaries, merge, INSERTs, COMMIT, and the
checkpoints DuckDB runs inside a COMMIT once its WAL passes the threshold. Wall time, not CPU: most
of a write is DuckDB's own threads and the disk. It prints µs per span over the run, the median and
slowest batches (a checkpoint shows as a batch several times the median), and DuckDB's WAL bytes
per span after the first batch.

Run (about 30 s; the ingest pipeline writes batches of up to 5,000 spans):

    .venv/bin/python bench/bench_write_path.py [--traces 8000] [--requests-per-batch 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT / "bench"))

import bench_ingest as b  # noqa: E402

from looptrace import pricing  # noqa: E402
from looptrace.ingest.log import LogEntry, RecordKind  # noqa: E402
from looptrace.ingest.prepare import Record, prepare  # noqa: E402
from looptrace.storage.duckdb import DuckDBTraceStore  # noqa: E402


def main() -> None:
    """Print the write path's wall time per span and per batch."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=8000, help="agent traces of 22 spans (default 8000)")
    parser.add_argument(
        "--requests-per-batch", type=int, default=10, help="506-span requests per batch (default 10: 5,060 spans)"
    )
    args = parser.parse_args()
    print(f"encoding {args.traces} agent traces and preparing the batches ...", flush=True)
    requests = b.make_requests(args.traces, 23)
    spans = sum(count for _, count in requests)
    pricing.warm_up()
    records: list[Record] = [
        (LogEntry(RecordKind.TRACES_PROTOBUF, body, i + 1), None) for i, (body, _) in enumerate(requests)
    ]
    per = args.requests_per_batch
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "looptrace.duckdb"
        store = DuckDBTraceStore(path)
        batches = [prepare(store.batch_preparer, records[i : i + per]).batch for i in range(0, len(records), per)]
        walls: list[float] = []
        wal_bytes_per_span = 0.0
        try:
            for position, batch in enumerate(batches, start=1):
                started = time.perf_counter()
                store.write_prepared(batch, position)
                walls.append(time.perf_counter() - started)
                if position == 1:
                    wal = path.with_name(path.name + ".wal")
                    wal_bytes_per_span = wal.stat().st_size / batch.span_count if wal.exists() else 0.0
        finally:
            store.close()
    total = sum(walls)
    slowest = sorted(walls)[-3:]
    print(f"{len(batches)} batches of {batches[0].span_count:,} spans, {spans:,} spans in all")
    print(f"write_prepared: {total / spans * 1e6:.1f} µs/span of wall time, {spans / total:,.0f} spans/s")
    print(
        f"batch: median {statistics.median(walls) * 1000:.1f} ms, slowest "
        + ", ".join(f"{w * 1000:.0f}" for w in slowest)
        + " ms"
    )
    print(f"DuckDB WAL after the first batch: {wal_bytes_per_span:.0f} bytes/span")


if __name__ == "__main__":
    main()
