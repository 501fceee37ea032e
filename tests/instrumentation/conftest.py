"""Real OpenAI clients pointed at the fake LLM, shared by the OpenAI instrumentation tests.

test_anthropic.py defines its own `client` and `async_client` (Anthropic), which take precedence there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest

from looptrace.demo.fake_llm import FakeLLM
from looptrace.testing import CapturedSpans


@pytest.fixture
def client(fake_llm: FakeLLM, captured_spans: CapturedSpans) -> Iterator[openai.OpenAI]:
    """A sync client with retries off, created after looptrace is initialised (captured_spans)."""
    with openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="test", max_retries=0) as client:
        yield client


@pytest.fixture
async def async_client(fake_llm: FakeLLM, captured_spans: CapturedSpans) -> AsyncIterator[openai.AsyncOpenAI]:
    """The async twin of `client`."""
    async with openai.AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="test", max_retries=0) as client:
        yield client
