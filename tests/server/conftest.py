from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from looptrace.server.app import create_app
from looptrace.server.settings import Settings
from support.servers import ServerProcess, free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "data", free_port(), free_port())
    proc.start()
    yield proc
    if proc.process is not None:
        proc.stop()


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    # retention 0: the tests use fixed timestamps from 2023.
    settings = Settings(data_dir=tmp_path / "data", grpc_port=None, max_request_bytes=4 << 20, retention_sec=0)
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://looptrace") as c:
        yield c
