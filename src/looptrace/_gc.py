"""The cyclic garbage collector paused around bursts of acyclic allocations."""

from __future__ import annotations

import gc
from collections.abc import Generator
from contextlib import contextmanager


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
