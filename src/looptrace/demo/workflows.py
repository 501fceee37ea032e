"""The seed article's five workflows, plus a failing tool and a runaway loop, against the fake LLM.

The five are written as the article writes them, with the plain OpenTelemetry API
(`tracer.start_as_current_span`); only the Anthropic client's `base_url` points at the fake LLM,
and `tracer` traces on the provider `looptrace.init()` wired (global or not), as the LLM spans do.
looptrace adds the LLM spans (the instrumented client) and the server adds token and cost rollups.

    agent_loop              agent_loop ─ agent_iteration_N ─ agent_decision ─ chat <model>
                                                           └ tool_call_calculate / tool_call_search
    chain_of_thought        reasoning_step_0 ─ chat, recursive_call ─ reasoning_step_1 ─ ...
    multi_model             multi_model_workflow ─ step_1_classify (haiku) ─ step_2_generate (routed model)
                                                 └ step_3_safety_check (support only); cost per step
    parallel_research       parallel_research ─ research_academic | research_news | analyze_with_llm
                                                (asyncio.gather: side by side in time)
    debugging               complex_workflow with workflow_started / workflow_completed events and a
                            cached system prompt (cache write, then cache read)
    failing_tool            looptrace.agent ─ agent_iteration_1 ─ execute_tool flaky_lookup (ERROR)
    max_iterations          looptrace.agent(max_iterations=3): always asks for a tool, marked exceeded

Each workflow starts its own trace; `run_all` returns each workflow's trace id. `run_all` runs
each one as a turn of a `looptrace.session` (`SESSIONS`), the workflows' bodies unchanged, so every
span carries `session.id` and `user.id` and the Sessions page groups the traces:

    demo-support-chat (user_123)   agent_loop, multi_model, debugging, failing_tool
    demo-research (user_456)       chain_of_thought, parallel_research, max_iterations
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider

import looptrace
from looptrace.demo._tracing import RuntimeProviderTracer
from looptrace.demo.fake_llm import DELAY_HEADER, FakeLLM, ToolUseReply

if TYPE_CHECKING:
    import anthropic

__all__ = ["RESEARCH_SESSION", "SESSIONS", "SUPPORT_SESSION", "WORKFLOWS", "DemoClients", "WorkflowResult", "run_all"]

# The article's `trace.get_tracer(__name__)`, on the provider looptrace.init() wired rather than the
# process-global one, which OpenTelemetry sets only once and which may not be it (see _tracing).
tracer = RuntimeProviderTracer(__name__)

AGENT_MODEL = "claude-3-opus-20240229"
FAST_MODEL = "claude-3-5-haiku-20241022"
BALANCED_MODEL = "claude-3-5-sonnet-20241022"

_TOOLS: Any = [
    {
        "name": "search",
        "description": "Search the web for information",
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
    },
    {
        "name": "calculate",
        "description": "Perform a mathematical calculation",
        "input_schema": {"type": "object", "properties": {"expression": {"type": "string"}}},
    },
]


@dataclass(frozen=True, slots=True)
class DemoClients:
    """What a workflow talks to: clients pointed at the fake LLM, and the fake itself (for scripting)."""

    anthropic: anthropic.Anthropic
    fake: FakeLLM

    def async_anthropic(self) -> anthropic.AsyncAnthropic:
        """A new async client (bind one to each event loop; close it there)."""
        import anthropic

        return anthropic.AsyncAnthropic(base_url=self.fake.anthropic_base_url, api_key="demo", max_retries=0)

    @classmethod
    def create(cls, fake: FakeLLM) -> DemoClients:
        """Clients for a started fake LLM (no retries: a demo error should show at once)."""
        import anthropic

        return cls(
            anthropic=anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="demo", max_retries=0),
            fake=fake,
        )


@dataclass(frozen=True, slots=True)
class WorkflowResult:
    """One workflow's outcome."""

    name: str
    trace_id: str
    output: str
    session_id: str | None = None


# --- 1. agent loop (the article's code, with a search tool and a calculator) -------------------


def agent_loop(clients: DemoClients, user_query: str = "What is 15 * (10 + 5)?", max_iterations: int = 5) -> str:
    """Agent loop with tracing for decision flow."""
    with tracer.start_as_current_span("agent_loop") as root_span:
        root_span.set_attribute("max_iterations", max_iterations)
        root_span.set_attribute("user_query", user_query[:100])
        client = clients.anthropic
        iteration = 0
        messages: list[Any] = [{"role": "user", "content": user_query}]
        while iteration < max_iterations:
            iteration += 1
            with tracer.start_as_current_span(f"agent_iteration_{iteration}") as iter_span:
                iter_span.set_attribute("iteration", iteration)
                with tracer.start_as_current_span("agent_decision") as decision_span:
                    response = client.messages.create(
                        model=AGENT_MODEL, max_tokens=1024, tools=_TOOLS, messages=messages
                    )
                    decision_span.set_attribute("stop_reason", response.stop_reason or "")
                    decision_span.set_attribute("input_tokens", response.usage.input_tokens)
                    decision_span.set_attribute("output_tokens", response.usage.output_tokens)
                if response.stop_reason == "tool_use":
                    for block in response.content:
                        if block.type == "tool_use":
                            tool_input: dict[str, Any] = dict(block.input)
                            with tracer.start_as_current_span(f"tool_call_{block.name}") as tool_span:
                                tool_span.set_attribute("tool_name", block.name)
                                tool_span.set_attribute("tool_input", json.dumps(tool_input)[:200])
                                if block.name == "search":
                                    tool_result = _search_web(str(tool_input.get("query")))
                                elif block.name == "calculate":
                                    tool_result = _evaluate_expression(str(tool_input.get("expression")))
                                else:
                                    tool_result = "Tool not found"
                                tool_span.set_attribute("tool_result_length", len(tool_result))
                            messages.append({"role": "assistant", "content": response.content})
                            messages.append(
                                {
                                    "role": "user",
                                    "content": [
                                        {"type": "tool_result", "tool_use_id": block.id, "content": tool_result}
                                    ],
                                }
                            )
                            iter_span.set_attribute("action", f"tool_call_{block.name}")
                elif response.stop_reason == "end_turn":
                    iter_span.set_attribute("action", "final_answer")
                    final_answer = "".join(block.text for block in response.content if block.type == "text")
                    root_span.set_attribute("final_answer", final_answer[:200])
                    return final_answer
        root_span.set_attribute("status", "max_iterations_exceeded")
        return "Agent reached max iterations without a final answer"


def _search_web(query: str) -> str:
    return f"Results for '{query}': [Result 1, Result 2, Result 3]"


def _evaluate_expression(expression: str) -> str:
    # The article uses eval(); a demo that runs on users' machines evaluates arithmetic only.
    allowed = set("0123456789+-*/(). ")
    if not expression or not set(expression) <= allowed:
        return "Invalid expression"
    try:
        return str(eval(expression, {"__builtins__": {}}, {}))  # noqa: S307 - digits and operators only
    except (SyntaxError, ZeroDivisionError, TypeError):
        return "Invalid expression"


# --- 2. recursive chain of thought -------------------------------------------------------------


def chain_of_thought(
    clients: DemoClients,
    problem: str = "What is the capital of France and what is its population?",
    depth: int = 0,
    max_depth: int = 3,
) -> str:
    """Recursive chain-of-thought reasoning with tracing."""
    with tracer.start_as_current_span(f"reasoning_step_{depth}") as span:
        span.set_attribute("depth", depth)
        span.set_attribute("problem", problem[:100])
        if depth >= max_depth:
            span.set_attribute("reason_for_stop", "max_depth_reached")
            return "Base case reached"
        response = clients.anthropic.messages.create(
            model=AGENT_MODEL,
            max_tokens=512,
            messages=[
                {
                    "role": "user",
                    "content": f"Break down this problem into one intermediate step and the final answer:\n{problem}",
                }
            ],
        )
        reasoning = _text(response)
        span.set_attribute("reasoning_length", len(reasoning))
        if "step:" in reasoning.lower():
            subproblem = reasoning.split("step:")[-1].split("\n")[0]
            with tracer.start_as_current_span("recursive_call") as recursive_span:
                recursive_span.set_attribute("subproblem", subproblem[:100])
                result = chain_of_thought(clients, subproblem, depth=depth + 1, max_depth=max_depth)
            span.set_attribute("recursion_result", result[:100])
        return reasoning


# --- 3. multi-model routing with cost per step -------------------------------------------------


def multi_model(clients: DemoClients, user_input: str = "I have a billing issue with my account") -> str:
    """Workflow combining multiple models: a cheap classifier, a routed generator, a safety check."""
    with tracer.start_as_current_span("multi_model_workflow"):
        client = clients.anthropic
        with tracer.start_as_current_span("step_1_classify") as span1:
            span1.set_attribute("model", FAST_MODEL)
            response_classify = client.messages.create(
                model=FAST_MODEL,
                max_tokens=50,
                messages=[{"role": "user", "content": f"Classify this as support/sales/general:\n{user_input}"}],
            )
            intent = _text(response_classify).strip().lower()
            span1.set_attribute("intent", intent)
            span1.set_attribute("cost", _cost(response_classify))
        with tracer.start_as_current_span("step_2_generate") as span2:
            model_for_intent = {"support": AGENT_MODEL, "sales": BALANCED_MODEL, "general": FAST_MODEL}
            selected_model = model_for_intent.get(intent, BALANCED_MODEL)
            span2.set_attribute("model", selected_model)
            response_generate = client.messages.create(
                model=selected_model,
                max_tokens=1024,
                messages=[
                    {"role": "user", "content": f"Based on this intent ({intent}), respond helpfully:\n{user_input}"}
                ],
            )
            generated_response = _text(response_generate)
            span2.set_attribute("cost", _cost(response_generate))
        if intent == "support":
            with tracer.start_as_current_span("step_3_safety_check") as span3:
                span3.set_attribute("model", FAST_MODEL)
                safety_check = client.messages.create(
                    model=FAST_MODEL,
                    max_tokens=10,
                    messages=[
                        {
                            "role": "user",
                            "content": f"Does this response contain harmful content? yes/no:\n{generated_response}",
                        }
                    ],
                )
                span3.set_attribute("is_safe", "no" in _text(safety_check).lower())
                span3.set_attribute("cost", _cost(safety_check))
        return generated_response


def _input_tokens(usage: Any) -> int:
    """Every input token of a call: Anthropic's `input_tokens` leaves out the cached ones, so they are added back."""
    return int(usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0))


def _tokens(response: Any) -> int:
    """Every token of a call, cached input included."""
    return _input_tokens(response.usage) + int(response.usage.output_tokens)


def _cost(response: Any) -> float:
    """The step's cost from the real price table (the article multiplies by a hand-typed price)."""
    from looptrace.pricing import compute_cost

    usage = response.usage
    price = compute_cost(
        "anthropic",
        response.model,
        input_tokens=_input_tokens(usage),
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_input_tokens,
        cache_write_tokens=usage.cache_creation_input_tokens,
    )
    if price.cost_usd is None:  # every demo model is in the price table
        raise RuntimeError(f"no price for {response.model}")
    return price.cost_usd


# --- 4. parallel research ----------------------------------------------------------------------


async def parallel_research(clients: DemoClients, query: str = "quantum computing applications") -> str:
    """Execute parallel research tasks with tracing (the LLM call is async, so all three overlap)."""
    async with clients.async_anthropic() as client:
        return await _parallel_research(client, query)


async def _parallel_research(client: anthropic.AsyncAnthropic, query: str) -> str:
    with tracer.start_as_current_span("parallel_research") as root_span:
        root_span.set_attribute("query", query[:100])

        async def research_academic() -> str:
            with tracer.start_as_current_span("research_academic"):
                await asyncio.sleep(0.25)
                return "Academic paper summary: ..."

        async def research_news() -> str:
            with tracer.start_as_current_span("research_news"):
                await asyncio.sleep(0.15)
                return "News headline: ..."

        async def analyze_with_llm() -> str:
            with tracer.start_as_current_span("analyze_with_llm"):
                response = await client.messages.create(
                    model=AGENT_MODEL,
                    max_tokens=512,
                    messages=[{"role": "user", "content": f"Analyze this query:\n{query}"}],
                    extra_headers={DELAY_HEADER: "100"},  # the fake LLM takes 100 ms, as a real one would
                )
                return _text(response)

        academic, news, analysis = await asyncio.gather(research_academic(), research_news(), analyze_with_llm())
        root_span.set_attribute("total_subtasks", 3)
        return f"Results: {academic}\n{news}\n{analysis}"


# --- 5. debugging context with events ----------------------------------------------------------


def debugging(clients: DemoClients, user_request: str = "Summarise my last three orders") -> str:
    """Complex workflow with rich debugging context: attributes and events on the root span."""
    with tracer.start_as_current_span("complex_workflow") as root_span:
        root_span.set_attribute("user_id", "user_123")
        root_span.set_attribute("request_id", "req_456")
        root_span.set_attribute("workflow_version", "2.1")
        root_span.add_event(
            name="workflow_started",
            attributes={"timestamp": "2026-06-02T14:30:00Z", "input_length": len(user_request)},
        )
        total_tokens = 0
        total_cost = 0.0
        answer = ""
        for step in ("plan", "answer"):
            with tracer.start_as_current_span(f"step_{step}"):
                response = clients.anthropic.messages.create(
                    model=FAST_MODEL,
                    max_tokens=256,
                    system=_CACHED_POLICY,  # the second step reads the prompt cache the first one wrote
                    messages=[{"role": "user", "content": f"{step}: {user_request}"}],
                )
                total_tokens += _tokens(response)
                total_cost += _cost(response)
                answer = _text(response)
        root_span.add_event(
            name="workflow_completed",
            attributes={
                "success": True,
                "total_llm_calls": 2,
                "total_tokens": total_tokens,
                "total_cost_usd": round(total_cost, 8),
            },
        )
        return answer


# --- 6. a tool that fails, 7. a loop that never answers (looptrace helpers) ---------------------


_CACHED_POLICY: list[Any] = [
    {
        "type": "text",
        "text": "You are the order desk of an online shop. Answer from the order history only. " * 30,
        "cache_control": {"type": "ephemeral"},
    }
]


_ORDER_LOOKUP_TOOL: Any = {
    "name": "flaky_lookup",
    "description": "Look an order up in the order service",
    "input_schema": {"type": "object", "properties": {"order_id": {"type": "integer"}}, "required": ["order_id"]},
}


class LookupFailedError(RuntimeError):
    """The demo's flaky tool failed."""


def failing_tool(clients: DemoClients) -> str:
    """An agent whose tool raises: the tool span is ERROR, the agent records the failure and answers."""
    clients.fake.enqueue(ToolUseReply("flaky_lookup", {"order_id": 42}))
    with looptrace.agent("order_agent", max_iterations=2, input="Where is order 42?") as run:
        for _ in run.iterations():
            response = clients.anthropic.messages.create(
                model=FAST_MODEL,
                max_tokens=128,
                tools=[_ORDER_LOOKUP_TOOL],
                messages=[{"role": "user", "content": "Where is order 42?"}],
            )
            [call] = [block for block in response.content if block.type == "tool_use"]
            try:
                with looptrace.tool(call.name, input=call.input, call_id=call.id):
                    raise LookupFailedError("order service timed out")
            except LookupFailedError as error:
                looptrace.event("tool_failed", tool="flaky_lookup", error=str(error))
                run.finish("Sorry, the order service is unavailable right now.")
        return str(run.final_answer)


def max_iterations(clients: DemoClients) -> str:
    """An agent the model keeps sending to a tool: it stops at max_iterations and is marked exceeded."""
    tool_calls = [ToolUseReply("search", {"query": f"attempt {n}"}) for n in range(1, 4)]
    clients.fake.enqueue(*tool_calls)
    messages: list[Any] = [{"role": "user", "content": "Find the perfect answer"}]
    with looptrace.agent("stubborn_agent", max_iterations=3) as run:
        for _ in run.iterations():
            response = clients.anthropic.messages.create(
                model=FAST_MODEL, max_tokens=128, tools=_TOOLS, messages=messages
            )
            for block in response.content:
                if block.type == "tool_use":
                    with looptrace.tool("search", input=block.input) as call:
                        call.output = _search_web(str(dict(block.input).get("query")))
                    messages.append({"role": "assistant", "content": response.content})
                    messages.append(
                        {
                            "role": "user",
                            "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "nothing"}],
                        }
                    )
        return "gave up"


def _text(response: Any) -> str:
    return "".join(block.text for block in response.content if block.type == "text")


WORKFLOWS: dict[str, Callable[[DemoClients], Any]] = {
    "agent_loop": agent_loop,
    "chain_of_thought": chain_of_thought,
    "multi_model": multi_model,
    "parallel_research": parallel_research,
    "debugging": debugging,
    "failing_tool": failing_tool,
    "max_iterations": max_iterations,
}
"""Every demo workflow by name, in the order `run_all` runs them."""

SUPPORT_SESSION = "demo-support-chat"
RESEARCH_SESSION = "demo-research"

SESSIONS: dict[str, tuple[str, str]] = {
    "agent_loop": (SUPPORT_SESSION, "user_123"),
    "chain_of_thought": (RESEARCH_SESSION, "user_456"),
    "multi_model": (SUPPORT_SESSION, "user_123"),
    "parallel_research": (RESEARCH_SESSION, "user_456"),
    # The article's debugging workflow sets user_id=user_123 on its root span: the same user.
    "debugging": (SUPPORT_SESSION, "user_123"),
    "failing_tool": (SUPPORT_SESSION, "user_123"),
    "max_iterations": (RESEARCH_SESSION, "user_456"),
}
"""The session (and user) each workflow runs in, as one turn of it: workflow name -> (session id, user id)."""


def run_all(fake: FakeLLM) -> list[WorkflowResult]:
    """Run every workflow, each in its own trace, against a started fake LLM.

    Call after `looptrace.init()`; the trace ids are read off the root span each workflow starts.
    Each workflow runs inside its `SESSIONS` entry's `looptrace.session`.

    Args:
        fake: The fake LLM the clients talk to.

    Returns:
        Each workflow's name, trace id (32 hex digits, "" when nothing was traced), output and session id.
    """
    from looptrace.sdk import _state

    runtime = _state.current()
    roots = _RootRecorder() if runtime is None else _root_recorder(runtime.provider)
    roots.active = True
    clients = DemoClients.create(fake)
    results: list[WorkflowResult] = []
    try:
        for name, workflow in WORKFLOWS.items():
            roots.trace_ids.clear()
            session_id, user_id = SESSIONS[name]
            with looptrace.session(session_id, user_id=user_id):
                output = workflow(clients)
                if asyncio.iscoroutine(output):
                    output = asyncio.run(output)  # its tasks copy the context here, session included
            trace_id = format(roots.trace_ids[0], "032x") if roots.trace_ids else ""
            results.append(WorkflowResult(name=name, trace_id=trace_id, output=str(output), session_id=session_id))
    finally:
        roots.trace_ids.clear()
        roots.active = False
        clients.anthropic.close()
    return results


class _RootRecorder(SpanProcessor):
    """Remembers the trace id of every root span started while active (one workflow runs at a time, on one thread)."""

    def __init__(self) -> None:
        self.trace_ids: list[int] = []
        self.active = False

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self.active and span.parent is None:
            self.trace_ids.append(span.get_span_context().trace_id)


_RECORDERS: weakref.WeakKeyDictionary[TracerProvider, _RootRecorder] = weakref.WeakKeyDictionary()


def _root_recorder(provider: TracerProvider) -> _RootRecorder:
    """The provider's root recorder, added to it on the first `run_all`.

    A provider cannot take a span processor back, so later runs reuse it (inactive between runs)
    rather than stack another one that every span would pay for.
    """
    recorder = _RECORDERS.get(provider)
    if recorder is None:
        recorder = _RECORDERS[provider] = _RootRecorder()
        provider.add_span_processor(recorder)
    return recorder
