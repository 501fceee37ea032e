"""looptrace: tracing for LLM agents, multi-step chains and multi-model workflows."""

from __future__ import annotations

__all__: list[str] = []
