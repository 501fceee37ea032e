"""Time of the one-time upgrade of a schema 2 store: trace summaries rebuilt from the spans.

Builds a store with bench_store's generator (20-span traces, a fifth of the LLM calls on a model
without a price), turns it back into what schema 2 wrote (no `unpriced_llm_calls` or
`stopped_at_max_iterations`, 0.0 where no call had a price), then times opening it read-write,
which runs `rebuild_summaries`, and checks the upgraded summaries against the spans.

Run (about 30 s for a million spans):

    .venv/bin/python bench/bench_schema_upgrade.py [--spans 1000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_store import generate  # noqa: E402

from looptrace.storage.duckdb import DuckDBTraceStore  # noqa: E402

_UNPRICED_MODEL = "acme-private-9"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spans", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="looptrace-upgrade-") as tmp:
        path = Path(tmp) / "looptrace.duckdb"
        print(f"building a store of {args.spans:,} spans ...", flush=True)
        with closing(DuckDBTraceStore(path)) as store:
            for position, batch in enumerate(generate(args.spans, 5_000), start=1):
                for span in batch:
                    if span.category == "llm" and int(span.trace_id[-4:], 16) % 5 == 0:
                        span.response_model = _UNPRICED_MODEL
                        span.cost_usd, span.cost_source = None, "unknown"
                store.write(batch, [], position)
        with closing(duckdb.connect(str(path))) as con:
            con.execute("UPDATE trace_summary SET cost_usd = coalesce(cost_usd, 0.0)")
            con.execute("ALTER TABLE trace_summary DROP COLUMN unpriced_llm_calls")
            con.execute("ALTER TABLE trace_summary DROP COLUMN stopped_at_max_iterations")
            con.execute("UPDATE meta SET value = 2 WHERE key = 'schema_version'")
            con.execute("CHECKPOINT")
            traces = con.execute("SELECT count(*) FROM trace_summary").fetchall()[0][0]
        start = time.perf_counter()
        with closing(DuckDBTraceStore(path)):
            seconds = time.perf_counter() - start
        with closing(duckdb.connect(str(path), read_only=True)) as con:
            unknown, unpriced = con.execute(
                "SELECT count(*) FILTER (WHERE cost_usd IS NULL), sum(unpriced_llm_calls) FROM trace_summary"
            ).fetchall()[0]
            expected = con.execute(
                "SELECT count(*) FROM spans WHERE category = 'llm' AND NOT is_duplicate_llm AND cost_usd IS NULL"
            ).fetchall()[0][0]
    assert unpriced == expected, (unpriced, expected)
    print(
        f"{args.spans:,} spans, {traces:,} traces: upgrade from schema 2 on open {seconds:.2f} s; "
        f"{unknown:,} traces now read as unknown cost, {unpriced:,} unpriced calls counted"
    )


if __name__ == "__main__":
    main()
