"""The seed workflows and the fake LLM provider (Anthropic + OpenAI wire APIs).

Names are loaded lazily so that `python -m looptrace.demo.fake_llm` does not import the module
twice (runpy warns when a package import has already loaded the module it is asked to run).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from looptrace.demo.fake_llm import (
        DELAY_HEADER,
        ErrorReply,
        FakeLLM,
        FakeRequest,
        Reply,
        Responder,
        TextReply,
        ToolCall,
        ToolUseReply,
        Usage,
        default_responder,
    )

__all__ = [
    "DELAY_HEADER",
    "ErrorReply",
    "FakeLLM",
    "FakeRequest",
    "Reply",
    "Responder",
    "TextReply",
    "ToolCall",
    "ToolUseReply",
    "Usage",
    "default_responder",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("looptrace.demo.fake_llm"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
