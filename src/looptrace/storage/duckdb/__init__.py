"""The embedded storage engine: one DuckDB file per data directory.

    DuckDBTraceStore ─┬─ _writer  batch → Arrow → spans, trace_summary (UPSERT), logs, meta
                      ├─ _reader  searches on trace_summary, lookups and aggregates on spans
                      ├─ _schema  DDL and schema version
                      └─ _arrow   model ⇄ Arrow tables and rows

Nothing DuckDB-specific leaves this package: callers see `looptrace.storage.api` only.
"""

from __future__ import annotations

from looptrace.storage.duckdb._store import DuckDBTraceStore

__all__ = ["DuckDBTraceStore"]
