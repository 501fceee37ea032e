"""The composition root: `create_app(settings)` wires runtime, receivers and routes.

lifespan start: Runtime.open (lock, store, ingest log, replay, pipeline) ─► gRPC receiver
lifespan stop:  gRPC receiver stops ─► Runtime.close (log flushed, pipeline drained, store closed)
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from looptrace import pricing
from looptrace.server import api, jaeger, otlp_http, ui
from looptrace.server.otlp_grpc import OTLPGrpcReceiver
from looptrace.server.runtime import Runtime
from looptrace.server.settings import Settings

_log = logging.getLogger(__name__)


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """Build the ASGI app serving OTLP/HTTP, the REST API and (later) the UI on one port.

    Args:
        settings: the server's configuration.
        runtime: an already opened runtime (the CLI opens it first to report a locked data
            directory clearly); when None, the lifespan opens one. Either way the lifespan
            closes it.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None]:
        opened = runtime if runtime is not None else await asyncio.to_thread(Runtime.open, settings)
        grpc_receiver: OTLPGrpcReceiver | None = None
        try:
            if settings.grpc_port is not None:
                grpc_receiver = OTLPGrpcReceiver(
                    opened.log,
                    host=settings.host,
                    port=settings.grpc_port,
                    max_request_bytes=settings.max_request_bytes,
                    has_room=opened.pipeline.has_room,
                    normalize_span=opened.pipeline.span_normalizer,
                )
                grpc_receiver.start()
                app.state.grpc_port = grpc_receiver.port
        except BaseException:
            await asyncio.to_thread(opened.close)
            raise
        app.state.runtime = opened
        if not settings.ingest_worker:
            # Loading the price tables takes a second or two: do it once the port is open, beside
            # the first requests, rather than in the first batch or before the server answers.
            # With the ingest worker, the worker prices spans and loads them; this process does
            # only if it has to prepare a batch itself (~25 MB it would otherwise hold).
            threading.Thread(target=pricing.warm_up, name="looptrace-pricing-warm-up", daemon=True).start()
        _log.info(
            "looptrace ready: OTLP/HTTP and API on http://%s:%d, OTLP/gRPC on %s, data in %s",
            settings.host,
            settings.port,
            f"{settings.host}:{app.state.grpc_port}" if grpc_receiver is not None else "(off)",
            settings.data_dir.resolve(),
        )
        try:
            yield
        finally:
            if grpc_receiver is not None:
                await asyncio.to_thread(grpc_receiver.stop)
            await asyncio.to_thread(opened.close)
            _log.info("looptrace stopped; every acknowledged span is stored")

    app = otlp_http.OTLPApp(
        title="looptrace",
        summary="Tracing for LLM agents: OTLP in, normalized LLM spans, query API out.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.grpc_port = None
    app.include_router(otlp_http.router)
    app.include_router(api.router)
    app.include_router(jaeger.router)
    app.include_router(ui.router)  # last, so API routes win
    return app
