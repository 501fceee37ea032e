"""A fake LLM provider: an HTTP server speaking the Anthropic and OpenAI wire APIs, scripted and deterministic.

The real SDK clients talk to it through their `base_url`, so instrumentation, the demo and tests
exercise the same code paths as production, with no network and no keys::

    with FakeLLM() as fake:
        client = anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="x")
        openai_client = openai.OpenAI(base_url=fake.openai_base_url, api_key="x")

Endpoints (standard library only, so the SDK-only install can use it in users' tests):

    POST /v1/messages                 Anthropic Messages, JSON or SSE ("stream": true)
    POST /v1/messages/count_tokens    Anthropic token counting
    POST /v1/chat/completions         OpenAI Chat Completions, JSON or SSE (stream_options.include_usage)
    POST /v1/responses                OpenAI Responses, JSON or SSE
    GET  /healthz                     {"status": "ok"}

What each request gets, first match wins:

    1. the next reply queued with `FakeLLM.enqueue` (TextReply, ToolUseReply, ErrorReply; an
       ErrorReply with mid_stream=True fails a streaming request inside its event stream);
    2. the `script` responder, when one is set;
    3. `default_responder`: deterministic rules for the seed workflows (agent loop with a
       calculate/search tool, chain-of-thought "Break down this problem", support/sales/general
       classification, safety check), and these markers in the last user message:

         [[fake:error=400]]  [[fake:error=429]]  [[fake:error=500]]  [[fake:error=529]]
             answer that error (OpenAI gets 503 for 529, its overload status)
         [[fake:delay_ms=300]]
             wait 300 ms before answering (or send the header `x-fake-delay-ms: 300`, e.g. with
             the SDKs' `extra_headers`, to keep the prompt as the user wrote it)

Usage is deterministic: input tokens are ceil(characters / 4) of the request's tools, system
prompt and messages; output tokens likewise of the reply. Anthropic reports
cache_creation_input_tokens the first time a prefix ending at a `cache_control` block is seen by
this instance and cache_read_input_tokens afterwards, and its `input_tokens` excludes both, as
the real API does. OpenAI reports prompt_tokens_details.cached_tokens when a prompt of at least
1024 tokens repeats a prefix seen before (1024 plus 128-token increments), and its
prompt_tokens includes them. Ids count up per instance (msg_fake…, toolu_fake…, chatcmpl-fake…,
call_fake…, resp_fake…); OpenAI's `created` is fixed.

Run `python -m looptrace.demo.fake_llm --port 8089` to serve until Ctrl-C.
"""

from __future__ import annotations

import argparse
import threading
from types import TracebackType
from typing import Self

from looptrace.demo._engine import ReplyEngine
from looptrace.demo._http import FakeLLMServer
from looptrace.demo._script import (
    DELAY_HEADER,
    ApiName,
    ErrorReply,
    ErrorStatus,
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
    "ApiName",
    "ErrorReply",
    "ErrorStatus",
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

# How often the accept loop checks for stop(); it bounds how long stop() takes.
_POLL_INTERVAL_SEC = 0.02


class FakeLLM:
    """A scripted Anthropic + OpenAI compatible server on 127.0.0.1, in a daemon thread.

    Thread safety: every public method may be called from any thread while the server answers
    requests on its own threads; replies are taken from the queue in arrival order.
    """

    def __init__(self, port: int = 0, script: Responder | None = None, *, host: str = "127.0.0.1") -> None:
        """Create the server (not yet listening).

        Args:
            port: TCP port; 0 picks a free one.
            script: Decides replies when nothing is queued; `default_responder` when None.
            host: Interface to bind; keep the loopback default unless you mean to expose it.
        """
        self._host = host
        self._port = port
        self._engine = ReplyEngine(script)
        self._server: FakeLLMServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self. Raises RuntimeError if already started."""
        if self._server is not None:
            raise RuntimeError("FakeLLM is already running")
        server = FakeLLMServer((self._host, self._port), self._engine)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(_POLL_INTERVAL_SEC,), name="looptrace-fake-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close open connections. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port. Raises RuntimeError before `start`."""
        if self._server is None:
            raise RuntimeError("FakeLLM is not running; call start() or use it as a context manager")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self._host}:{self.port}"

    @property
    def anthropic_base_url(self) -> str:
        """The `base_url` for `anthropic.Anthropic` (the SDK adds /v1/messages itself)."""
        return self.base_url

    @property
    def openai_base_url(self) -> str:
        """The `base_url` for `openai.OpenAI` (it must end in /v1)."""
        return f"{self.base_url}/v1"

    @property
    def script(self) -> Responder | None:
        """The responder used when nothing is queued (None means `default_responder`)."""
        return self._engine.script

    @script.setter
    def script(self, responder: Responder | None) -> None:
        self._engine.script = responder

    @property
    def requests(self) -> list[FakeRequest]:
        """A copy of the requests answered so far (model endpoints only), oldest first."""
        return self._engine.requests

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies; each of the next requests takes one, in order, before the script applies."""
        self._engine.enqueue(replies)

    def reset(self) -> None:
        """Forget queued replies, recorded requests, cached prompts and id counters."""
        self._engine.reset()


def main(argv: list[str] | None = None) -> None:
    """Serve a FakeLLM until Ctrl-C, printing the base URLs to pass to the SDK clients.

    Args:
        argv: Command-line arguments (`--host`, `--port`); sys.argv when None.
    """
    parser = argparse.ArgumentParser(
        prog="python -m looptrace.demo.fake_llm", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port to listen on (default 8089; 0 picks one)")
    args = parser.parse_args(argv)
    with FakeLLM(port=args.port, host=args.host) as fake:
        print(f"fake LLM listening on {fake.base_url}", flush=True)
        print(f"  anthropic.Anthropic(base_url={fake.anthropic_base_url!r}, api_key='x')", flush=True)
        print(f"  openai.OpenAI(base_url={fake.openai_base_url!r}, api_key='x')", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", flush=True)


if __name__ == "__main__":
    main()
