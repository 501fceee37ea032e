"""The query layer: search, trace tree, subtree rollups, critical path and stats.

    server / CLI ─► QueryService ─► TraceReader (looptrace.storage.api)
                         │
                         └─► tree.build_tree ─► tree.compute_rollups, critical_path.compute_critical_path

Imports only `looptrace.storage.api`, `looptrace.model` and `looptrace.semconv`: never an
engine, never the server.
"""

from __future__ import annotations

from looptrace.query.critical_path import CriticalPath, compute_critical_path, find_bottlenecks
from looptrace.query.service import AmbiguousTraceIdError, QueryService, build_trace_view
from looptrace.query.tree import (
    TraceTree,
    build_tree,
    compute_rollups,
    compute_totals,
    merge_rollups,
    summarize_trace,
)
from looptrace.query.views import CriticalPathSegment, Rollup, SpanNode, SpanView, TraceTotals, TraceView

__all__ = [
    "AmbiguousTraceIdError",
    "CriticalPath",
    "CriticalPathSegment",
    "QueryService",
    "Rollup",
    "SpanNode",
    "SpanView",
    "TraceTotals",
    "TraceTree",
    "TraceView",
    "build_trace_view",
    "build_tree",
    "compute_critical_path",
    "compute_rollups",
    "compute_totals",
    "find_bottlenecks",
    "merge_rollups",
    "summarize_trace",
]
