"""Instrumentation of LLM client libraries (one module per client)."""
