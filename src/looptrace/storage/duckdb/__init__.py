"""The embedded storage engine: one DuckDB file per data directory.

    DuckDBTraceStore ─┬─ _writer    prepared batch → spans, trace_summary (UPSERT), logs, meta
                      ├─ _prepared  batch → Arrow tables + partial summaries (no database: runs
                      │             in the ingest worker process)
                      ├─ _reader    searches on trace_summary, lookups and aggregates on spans
                      ├─ _schema    DDL and schema version
                      └─ _arrow     model ⇄ Arrow tables and rows

Nothing DuckDB-specific leaves this package: callers see `looptrace.storage.api` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from looptrace.storage.duckdb._store import DuckDBTraceStore

__all__ = ["DuckDBTraceStore"]


def __getattr__(name: str) -> object:
    # Lazy (PEP 562): the ingest worker imports `_prepared` from this package and needs no DuckDB
    # (~15 MB of its memory).
    if name == "DuckDBTraceStore":
        from looptrace.storage.duckdb._store import DuckDBTraceStore

        return DuckDBTraceStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
