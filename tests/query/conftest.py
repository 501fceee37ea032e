from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a test builds tens of thousands of spans.

    Each Span owns four containers; creating 100,000 of them with the collector on sets
    off full collections that double the time of the test and measure nothing of ours.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
