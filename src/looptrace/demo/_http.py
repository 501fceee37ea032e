"""The HTTP side of the fake LLM: a ThreadingHTTPServer whose handler routes each path to its wire format."""

from __future__ import annotations

import itertools
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, cast

from looptrace.demo import _anthropic_wire, _openai_wire
from looptrace.demo._common import Exchange, InvalidRequestError, Prompt, sse_frame
from looptrace.demo._engine import ReplyEngine
from looptrace.demo._script import ApiName, ErrorReply, FakeRequest

_logger = logging.getLogger(__name__)
_REASONS = {529: "Overloaded"}
_Parser = Callable[[dict[str, Any], Mapping[str, str]], tuple[FakeRequest, Prompt]]


@dataclass(frozen=True, slots=True)
class _Route:
    api: ApiName
    parse: _Parser
    render_json: Callable[[Exchange], dict[str, Any]]
    render_stream: Callable[[Exchange], Iterator[bytes]]


_COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
_ROUTES: dict[str, _Route] = {
    "/v1/messages": _Route(
        "anthropic.messages", _anthropic_wire.parse_request, _anthropic_wire.message, _anthropic_wire.events
    ),
    "/v1/chat/completions": _Route(
        "openai.chat.completions",
        _openai_wire.parse_chat_request,
        _openai_wire.chat_completion,
        _openai_wire.chat_chunks,
    ),
    "/v1/responses": _Route(
        "openai.responses", _openai_wire.parse_responses_request, _openai_wire.response, _openai_wire.response_events
    ),
}


class FakeLLMServer(ThreadingHTTPServer):
    """Serves the wire APIs for a `ReplyEngine`; one thread per connection, keep-alive."""

    daemon_threads = True
    # Idle keep-alive connections would make server_close() wait for clients to hang up.
    block_on_close = False

    def __init__(self, address: tuple[str, int], engine: ReplyEngine) -> None:
        super().__init__(address, _Handler)
        self.engine = engine
        # Error replies carry request ids; a counter keeps them repeatable (next() on a count is atomic).
        self.request_ids = itertools.count(1)
        # _connections_lock guards _connections: opened on handler threads, closed by stop().
        self._connections_lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down open client connections so their handler threads exit."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a client hanging up mid-stream is routine here.
        _logger.debug("fake LLM connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "looptrace-fake-llm"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log line that the base class writes to stderr."""

    def do_GET(self) -> None:
        """Answer the health check; everything else is 404."""
        if self.path.split("?", 1)[0] == "/healthz":
            self._send_json(200, {"status": "ok"})
        else:
            self._send_error_reply(self._provider_of_path(), 404, f"Invalid URL (GET {self.path})")

    def do_POST(self) -> None:
        """Route a model request: parse, pick a reply, wait, answer."""
        body_bytes = self._read_body()
        path = self.path.split("?", 1)[0]
        route = _ROUTES.get("/v1/messages" if path == _COUNT_TOKENS_PATH else path)
        if route is None:
            self._send_error_reply(self._provider_of_path(), 404, f"Invalid URL (POST {path})")
            return
        provider: Literal["anthropic", "openai"] = "openai" if route.api.startswith("openai") else "anthropic"
        try:
            body = json.loads(body_bytes)
            if not isinstance(body, dict):
                raise InvalidRequestError("The request body must be a JSON object.")
            headers = {name.lower(): value for name, value in self.headers.items()}
            if path == _COUNT_TOKENS_PATH:
                request, prompt = _anthropic_wire.parse_request(body, headers, count_only=True)
            else:
                request, prompt = route.parse(body, headers)
        except ValueError as exc:
            self._send_error_reply(provider, 400, f"Malformed JSON body: {exc}")
            return
        except InvalidRequestError as exc:
            self._send_error_reply(provider, 400, str(exc))
            return
        except Exception as exc:  # any other shape the parser did not expect is still the client's 400
            self._send_error_reply(provider, 400, f"Invalid request body: {type(exc).__name__}: {exc}")
            return
        engine = cast(FakeLLMServer, self.server).engine
        if path == _COUNT_TOKENS_PATH:
            self._send_json(200, {"input_tokens": engine.count_tokens(prompt)})
            return
        try:
            reply = engine.next_reply(request)
        except Exception as exc:  # a responder bug must reach the test as a 500, not kill the thread
            _logger.debug("fake LLM responder failed", exc_info=True)
            self._send_error_reply(provider, 500, f"fake LLM responder raised {type(exc).__name__}: {exc}")
            return
        if reply.delay_ms > 0:
            time.sleep(reply.delay_ms / 1000)
        if isinstance(reply, ErrorReply) and reply.mid_stream and request.stream:
            _, error_body = _error_body(provider, reply.status, reply.message, self._new_request_id())
            self._send_stream(iter([sse_frame(error_body, "error" if provider == "anthropic" else None)]))
            return
        if isinstance(reply, ErrorReply):
            self._send_error_reply(provider, reply.status, reply.message, reply.retry_after_sec)
            return
        exchange = engine.resolve(request, prompt, reply)
        if request.stream:
            self._send_stream(route.render_stream(exchange))
        else:
            self._send_json(200, route.render_json(exchange))

    def _read_body(self) -> bytes:
        try:
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                return self._read_chunked_body()
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length > 0 else b""
        except ValueError:
            # The framing is broken, so the rest of the connection cannot be trusted: answer (400) and close.
            self.close_connection = True
            return b""

    def _read_chunked_body(self) -> bytes:
        chunks: list[bytes] = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailer fields
        return b"".join(chunks)

    def _new_request_id(self) -> str:
        return f"req_fake{next(cast(FakeLLMServer, self.server).request_ids):016d}"

    def _provider_of_path(self) -> Literal["anthropic", "openai"]:
        return "anthropic" if self.path.startswith("/v1/messages") else "openai"

    def _send_error_reply(
        self, provider: Literal["anthropic", "openai"], status: int, message: str | None, retry_after_sec: float = 0
    ) -> None:
        request_id = self._new_request_id()
        http_status, body = _error_body(provider, status, message, request_id)
        headers = {"request-id": request_id, "x-request-id": request_id}
        if status in (429, 529) and retry_after_sec > 0:
            headers["retry-after"] = str(math.ceil(retry_after_sec))
            headers["retry-after-ms"] = str(round(retry_after_sec * 1000))
        self._send_json(http_status, body, headers)

    def _send_json(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status, _REASONS.get(status))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, frames: Iterator[bytes]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for frame in frames:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
        self.wfile.write(b"0\r\n\r\n")


def _error_body(
    provider: Literal["anthropic", "openai"], status: int, message: str | None, request_id: str
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of an error in the provider's shape."""
    if provider == "anthropic":
        return _anthropic_wire.error(status, message, request_id)
    return _openai_wire.error(status, message)
