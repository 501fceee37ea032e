"""Run the server process: uvicorn for HTTP, the app's lifespan for everything else."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

import uvicorn

from looptrace._gc import freeze_startup_heap
from looptrace.server.app import create_app
from looptrace.server.runtime import Runtime
from looptrace.server.settings import Settings
from looptrace.storage.api import StoreLockedError

_log = logging.getLogger("looptrace.server")


_SWITCH_INTERVAL_SEC = 0.0001
"""The GIL switch interval of a server process (see `serve`)."""


def serve(settings: Settings) -> int:
    """Serve until SIGTERM/SIGINT; returns the process exit code.

    Uvicorn turns SIGTERM into a graceful shutdown, which runs the app's lifespan exit:
    the ingest log is flushed, the pipeline drained and the store closed.
    """
    try:
        runtime = Runtime.open(settings)
    except StoreLockedError as exc:
        print(f"looptrace serve: {exc}", file=sys.stderr)
        return 1
    app = create_app(settings, runtime)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    # The event loop, the ingest log's commit thread and the pipeline thread hand work to each
    # other many times per request, and DuckDB takes the GIL back several times inside every
    # statement of a write. Each time, a thread waiting for the GIL waits up to the switch interval
    # behind whichever thread holds it: at the default 5 ms that capped ingest at a few thousand
    # spans/s. 0.1 ms rather than 0.5 ms: a batch's write_prepared took 28 instead of 36 µs/span
    # beside a busy decoding thread, and bench/bench_ingest.py stored 8% more (docs/benchmarks.md).
    sys.setswitchinterval(_SWITCH_INTERVAL_SEC)
    freeze_startup_heap()
    # Uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown (so the process would die
    # "by signal"); with these handlers in place that re-raise is a no-op and a drained
    # server exits 0, which is what supervisors and scripts check.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _ignore_signal)
    server.run()
    if not server.started:
        runtime.close()  # startup failed before the lifespan took ownership (no-op if it closed it)
        # Startup failed (port in use, locked data dir, ...): uvicorn has logged why.
        return 1
    return 0


def _ignore_signal(sig: int, frame: FrameType | None) -> None:
    """Stand-in handler restored by uvicorn after shutdown (see `serve`)."""
