"""The cyclic garbage collector paused around bursts of acyclic allocations."""

from __future__ import annotations

import gc
from collections.abc import Generator
from contextlib import contextmanager


def freeze_startup_heap() -> None:
    """Settle the collector for a process that now allocates many short-lived acyclic objects.

    Ingest (the server, its worker) decodes millions of spans freed by reference counting while the
    process holds a large, stable heap (modules, pricing data, caches). With the default thresholds
    the collector ran every 700 allocations and regularly walked that heap: 15-20 µs of every span's
    CPU (bench/bench_ingest.py). Freeze what start-up built and collect the young generation far
    less often. Call once, after start-up.
    """
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


@contextmanager
def collector_paused() -> Generator[None]:
    """Pause the cyclic collector for the block; whoever found it enabled turns it back on.

    For code that allocates many objects none of which is in a reference cycle (a trace view:
    tree lists, rollups, nodes; a JSON document: a few containers per span). With the collector
    on, those allocations set off collections that walk everything the process holds, for
    nothing. Another thread may pause it too.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
