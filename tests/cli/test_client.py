"""`looptrace.client` against a real server: typed results, paging, errors translated at the boundary."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from cli.conftest import Servers, post_trace_and_wait
from looptrace import LooptraceError
from looptrace.client import (
    AmbiguousTraceIdError,
    BadRequestError,
    ClientError,
    ExportResult,
    LooptraceClient,
    NotFoundError,
    ServerError,
    ServerUnreachableError,
    resolve_server_url,
)
from support.otlp_builders import AGENT_TRACE_ID, BILLING_TRACE_ID, RESEARCH_TRACE_ID, S, trace_request
from support.servers import ServerProcess, free_port


@pytest.fixture
def client(server: ServerProcess):
    with LooptraceClient(server.url, timeout=10) as c:
        yield c


def test_the_server_url_comes_from_the_argument_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("LOOPTRACE_SERVER", raising=False)
    assert resolve_server_url() == "http://127.0.0.1:4318"
    monkeypatch.setenv("LOOPTRACE_SERVER", "collector:4318/")
    assert resolve_server_url() == "http://collector:4318"
    assert resolve_server_url("https://lt.example.com") == "https://lt.example.com"


def test_list_traces_returns_the_api_page_with_its_filters(client: LooptraceClient):
    page = client.list_traces(attributes={"user.tier": "pro"}, start=datetime(2023, 11, 14, 22, 14, tzinfo=UTC))
    assert [t["trace_id"] for t in page["traces"]] == [BILLING_TRACE_ID]
    assert page["next_cursor"] is None
    summary = page["traces"][0]
    assert (summary["root_name"], summary["service_name"], summary["session_id"]) == (
        "refund_request",
        "billing",
        "sess-42",
    )


def test_iter_traces_follows_the_cursor_page_after_page(client: LooptraceClient):
    ids = [t["trace_id"] for t in client.iter_traces(page_size=1, sort="duration", ascending=True)]
    assert ids == [AGENT_TRACE_ID, BILLING_TRACE_ID, RESEARCH_TRACE_ID]


def test_get_trace_accepts_a_prefix_and_get_span_returns_the_span_with_its_logs(client: LooptraceClient):
    trace = client.get_trace(AGENT_TRACE_ID[:10])
    assert trace["summary"]["trace_id"] == AGENT_TRACE_ID
    assert trace["totals"]["llm_calls"] == 2
    span = client.get_span(AGENT_TRACE_ID[:8], "0000000000000005")
    assert span["name"] == "tool_call_calculate"
    assert [log["body"] for log in span["logs"]] == ["calculating 15 * (10 + 5)", "slow evaluator"]


def test_stats_and_health(client: LooptraceClient):
    assert client.stats_summary()["trace_count"] == 3
    models = client.stats_models(bucket="1d")
    assert models["bucket"] == "1d"
    assert {row["model"] for row in models["rows"]} == {
        "claude-3-5-haiku-20241022",
        "claude-3-5-sonnet-20241022",
        "gpt-4o",
    }
    assert client.stats_latency(limit=1)["rows"][0]["count"] == 2
    assert sum(row["error_count"] for row in client.stats_errors()["rows"]) == 1
    assert client.health()["status"] == "ok"


def test_errors_are_translated_into_the_client_error_tree(client: LooptraceClient):
    with pytest.raises(NotFoundError, match="trace ffffffffffffffff not found"):
        client.get_trace("ffffffffffffffff")
    with pytest.raises(NotFoundError):
        client.get_span(AGENT_TRACE_ID, "00000000000000ff")
    with pytest.raises(BadRequestError, match="trace id must be hex characters") as bad:
        client.get_trace("not-hex!")
    assert bad.value.status_code == 422
    with pytest.raises(BadRequestError, match="limit"):
        client.list_traces(limit=5000)
    assert issubclass(ClientError, LooptraceError)


def test_an_ambiguous_prefix_lists_the_candidates(servers: Servers):
    twins = ["cafe0000" + "0" * 23 + "1", "cafe0000" + "0" * 23 + "2"]
    for trace_id in twins:
        post_trace_and_wait(servers.spare, trace_id, trace_request(trace_id, [S("0000000000000001", "twin", 0, 1)]))
    with LooptraceClient(servers.spare.url) as client, pytest.raises(AmbiguousTraceIdError) as ambiguous:
        client.get_trace("cafe0000")
    assert ambiguous.value.candidates == twins
    assert isinstance(ambiguous.value, BadRequestError)
    assert "matches more than one trace" in str(ambiguous.value)


def test_no_server_is_server_unreachable_with_a_hint():
    url = f"http://127.0.0.1:{free_port()}"
    with LooptraceClient(url) as client, pytest.raises(ServerUnreachableError) as unreachable:
        client.health()
    assert unreachable.value.url == url
    assert str(unreachable.value).startswith(
        f"no looptrace server at {url} — start one with `looptrace serve` or pass --server"
    )


def test_send_traces_reports_rejected_spans_and_refuses_malformed_bodies(servers: Servers):
    with LooptraceClient(servers.spare.url) as client:
        good = trace_request("5e4d0000000000000000000000000001", [S("0000000000000001", "sent", 0, 1)])
        assert client.send_traces(json.dumps(good).encode()) == ExportResult()
        bad = trace_request("5e4d0000000000000000000000000002", [S("0000000000000001", "backwards", 5, 1)])
        result = client.send_traces(json.dumps(bad).encode())
        assert result.rejected == 1
        assert "before startTimeUnixNano" in result.message
        with pytest.raises(BadRequestError, match="expected a list"):
            client.send_traces(b'{"resourceSpans": "oops"}')
        with pytest.raises(ServerError) as unsupported:
            client.send_traces(b"x", "text/plain")
        assert unsupported.value.status_code == 415


def test_the_transport_seam_lets_tests_answer_for_the_server():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get_list("attr") == ["a=1", "b=2"]
        return httpx.Response(503, headers={"Retry-After": "2"}, json={"detail": "draining"})

    with LooptraceClient("http://looptrace", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ServerError) as busy:
            client.list_traces(attributes=["a=1", "b=2"])
    assert (busy.value.status_code, busy.value.retry_after_sec, str(busy.value)) == (
        503,
        2.0,
        "server answered 503: draining",
    )


def test_get_trace_skeleton_returns_the_columns_in_the_full_traces_order(client: LooptraceClient):
    skeleton = client.get_trace_skeleton(AGENT_TRACE_ID[:8])
    trace = client.get_trace(AGENT_TRACE_ID)
    assert skeleton["format"] == "looptrace.skeleton.v1"
    assert skeleton["summary"] == trace["summary"]
    assert skeleton["spans"]["span_id"] == [s["span_id"] for s in trace["spans"]]
    assert skeleton["spans"]["status_message"] == [s["status"]["message"] for s in trace["spans"]]
    with pytest.raises(NotFoundError):
        client.get_trace_skeleton("f" * 32)


def test_a_skeleton_in_a_layout_the_client_does_not_know_is_a_server_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"format": "looptrace.skeleton.v9", "spans": {}})

    with LooptraceClient("http://looptrace", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ServerError, match="skeleton.v9"):
            client.get_trace_skeleton("4bf92f35")
