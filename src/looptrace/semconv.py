"""Every attribute key and span-name constant looptrace reads or writes, and the conventions table.

Three conventions describe LLM work in OpenTelemetry today; `looptrace.ingest.normalize`
maps each onto the promoted fields of `looptrace.model.Span`:

    OpenTelemetry GenAI  gen_ai.*            (current names and the older ones)
    OpenInference        openinference.*, llm.*, tool.*, input.value, ...   (Arize Phoenix)
    OpenLLMetry          traceloop.*, gen_ai.prompt.N.*, llm.usage.*        (Traceloop)

This module imports nothing: it is constants and tables only.
"""

from __future__ import annotations

# --- OpenTelemetry GenAI semantic conventions -------------------------------------------------
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_SYSTEM = "gen_ai.system"  # older name of gen_ai.provider.name
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_PROMPT_TOKENS = "gen_ai.usage.prompt_tokens"  # older name
GEN_AI_USAGE_COMPLETION_TOKENS = "gen_ai.usage.completion_tokens"  # older name
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens"  # anthropic client, util-genai
GEN_AI_USAGE_COST = "gen_ai.usage.cost"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_AGENT_ID = "gen_ai.agent.id"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_STREAM = "gen_ai.request.stream"
GEN_AI_OUTPUT_TYPE = "gen_ai.output.type"
"""The output type the request asks for: "json" for structured output (a JSON schema or JSON mode), else "text"."""
GEN_AI_TOOL_DEFINITIONS = "gen_ai.tool.definitions"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
"""Seconds from the request to the first streamed content chunk (a double)."""
ERROR_TYPE = "error.type"
HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"
ENDUSER_ID = "enduser.id"

# GenAI content events (older conventions), sent as span events or as OTLP log records
GEN_AI_EVENT_NAME = "event.name"
GEN_AI_CHOICE_EVENT = "gen_ai.choice"

# gen_ai.operation.name values
OP_CHAT = "chat"
OP_TEXT_COMPLETION = "text_completion"
OP_GENERATE_CONTENT = "generate_content"
OP_EMBEDDINGS = "embeddings"
OP_EXECUTE_TOOL = "execute_tool"
OP_INVOKE_AGENT = "invoke_agent"
OP_CREATE_AGENT = "create_agent"

# --- OpenInference ----------------------------------------------------------------------------
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
LLM_PROVIDER = "llm.provider"
LLM_SYSTEM = "llm.system"
LLM_MODEL_NAME = "llm.model_name"
LLM_REQUEST_MODEL_NAME = "llm.request.model_name"
LLM_RESPONSE_MODEL_NAME = "llm.response.model_name"
LLM_FINISH_REASON = "llm.finish_reason"
AGENT_NAME = "agent.name"
LLM_TOKEN_COUNT_PROMPT = "llm.token_count.prompt"
LLM_TOKEN_COUNT_COMPLETION = "llm.token_count.completion"
LLM_TOKEN_COUNT_TOTAL = "llm.token_count.total"
LLM_TOKEN_COUNT_PROMPT_CACHE_READ = "llm.token_count.prompt_details.cache_read"
LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE = "llm.token_count.prompt_details.cache_write"
LLM_COST_TOTAL = "llm.cost.total"
LLM_INPUT_MESSAGES = "llm.input_messages"
LLM_OUTPUT_MESSAGES = "llm.output_messages"
TOOL_NAME = "tool.name"
TOOL_CALL_ID = "tool_call.id"
LLM_OUTPUT_TOOL_CALL_NAME = "llm.output_messages.0.message.tool_calls.0.tool_call.function.name"
LLM_OUTPUT_TOOL_CALL_ID = "llm.output_messages.0.message.tool_calls.0.tool_call.id"
INPUT_VALUE = "input.value"
OUTPUT_VALUE = "output.value"
SESSION_ID = "session.id"
USER_ID = "user.id"

# --- OpenLLMetry (Traceloop) ------------------------------------------------------------------
TRACELOOP_SPAN_KIND = "traceloop.span.kind"
TRACELOOP_ENTITY_NAME = "traceloop.entity.name"
TRACELOOP_ENTITY_INPUT = "traceloop.entity.input"
TRACELOOP_ENTITY_OUTPUT = "traceloop.entity.output"
LLM_USAGE_TOTAL_TOKENS = "llm.usage.total_tokens"
LLM_USAGE_PROMPT_TOKENS = "llm.usage.prompt_tokens"
LLM_USAGE_COMPLETION_TOKENS = "llm.usage.completion_tokens"
TRACELOOP_SESSION_ID = "traceloop.association.properties.session_id"
TRACELOOP_USER_ID = "traceloop.association.properties.user_id"
GEN_AI_COMPLETION_TOOL_CALL_NAME = "gen_ai.completion.0.tool_calls.0.name"
GEN_AI_COMPLETION_TOOL_CALL_ID = "gen_ai.completion.0.tool_calls.0.id"
GEN_AI_COMPLETION_FINISH_REASON = "gen_ai.completion.0.finish_reason"
LLM_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read_input_tokens"
LLM_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation_input_tokens"
LLM_REQUEST_TYPE = "llm.request.type"
GEN_AI_PROMPT_PREFIX = "gen_ai.prompt."
GEN_AI_COMPLETION_PREFIX = "gen_ai.completion."

# --- looptrace's own keys ---------------------------------------------------------------------
LOOPTRACE_SPAN_CATEGORY = "looptrace.span.category"
LOOPTRACE_ITERATION = "looptrace.iteration"
LOOPTRACE_COST_USD = "looptrace.cost_usd"
LOOPTRACE_COST_NOTE = "looptrace.cost.note"
"""Set by normalize when a computed cost needs explaining, e.g. "priced as claude-3-5-haiku-latest"."""
LOG_EVENT_BODY = "body"
"""The attribute under which a log record joined to its span as a SpanEvent keeps the record's body."""

# --- Anthropic's own client (anthropic>=2 traces itself whenever a tracer provider exists) -------
ANTHROPIC_SCOPE = "com.anthropic.sdk.python"
ANTHROPIC_STOP_REASON = "anthropic.message.stop_reason"

# --- The seed article's raw-API style: bare keys set by hand with tracer.start_as_current_span ----
RAW_MODEL = "model"
RAW_INPUT_TOKENS = "input_tokens"
"""Anthropic's own `usage.input_tokens`: it EXCLUDES cache reads and writes."""
RAW_OUTPUT_TOKENS = "output_tokens"
RAW_CACHE_READ_INPUT_TOKENS = "cache_read_input_tokens"
RAW_CACHE_CREATION_INPUT_TOKENS = "cache_creation_input_tokens"
RAW_STOP_REASON = "stop_reason"
RAW_TOOL_NAME = "tool_name"
RAW_ITERATION = "iteration"
RAW_USER_ID = "user_id"
RAW_SESSION_ID = "session_id"
RAW_TOOL_SPAN_PREFIX = "tool_call_"
RAW_ITERATION_SPAN_PREFIX = "agent_iteration_"
RAW_AGENT_NAME_MARK = "agent"
EXECUTE_TOOL_SPAN_PREFIX = "execute_tool "

# --- Resource and general keys ----------------------------------------------------------------
SERVICE_NAME = "service.name"
EVENT_NAME = GEN_AI_EVENT_NAME  # log records: the event name when LogRecord.event_name is unset (older protos)
EXCEPTION_EVENT = "exception"
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"

# --- looptrace SDK keys (appended by the SDK; owned by src/looptrace/sdk) ----------------------
# Span categories written to LOOPTRACE_SPAN_CATEGORY by the SDK helpers.
CATEGORY_AGENT = "agent"
CATEGORY_LLM = "llm"
CATEGORY_TOOL = "tool"
CATEGORY_CHAIN = "chain"
# The article's plain `iteration` attribute, kept next to looptrace.iteration for its readers:
# the key normalize reads back (RAW_ITERATION), under the name the SDK writes it.
ITERATION = RAW_ITERATION
LOOPTRACE_AGENT_MAX_ITERATIONS = "looptrace.agent.max_iterations"
LOOPTRACE_AGENT_MAX_ITERATIONS_EXCEEDED = "looptrace.agent.max_iterations_exceeded"
LOOPTRACE_AGENT_ITERATIONS = "looptrace.agent.iterations"
LOOPTRACE_TRUNCATED = "looptrace.truncated"
LOOPTRACE_DEPTH = "looptrace.depth"
LOOPTRACE_DEPTH_LIMIT = "looptrace.depth_limit"
LOOPTRACE_ROLLUP_LLM_CALLS = "looptrace.rollup.llm_calls"
LOOPTRACE_ROLLUP_INPUT_TOKENS = "looptrace.rollup.input_tokens"
LOOPTRACE_ROLLUP_OUTPUT_TOKENS = "looptrace.rollup.output_tokens"
LOOPTRACE_ROLLUP_CACHE_READ_TOKENS = "looptrace.rollup.cache_read_tokens"
LOOPTRACE_ROLLUP_CACHE_WRITE_TOKENS = "looptrace.rollup.cache_write_tokens"
LOOPTRACE_ROLLUP_COST_USD = "looptrace.rollup.cost_usd"
LOOPTRACE_SAMPLING_DECISION = "looptrace.sampling.decision"
LOOPTRACE_SAMPLING_WEIGHT = "looptrace.sampling.weight"
LOOPTRACE_SAMPLING_DROPPED_SPANS = "looptrace.sampling.dropped_spans"
# Event names the SDK adds to spans.
EVENT_MAX_ITERATIONS_EXCEEDED = "max_iterations_exceeded"
EVENT_WORKFLOW_COMPLETED = "workflow_completed"
EVENT_DEPTH_EXCEEDED = "looptrace.depth_exceeded"
EVENT_FIRST_TOKEN = "looptrace.first_token"
"""Added by the LLM client instrumentations when a stream's first content chunk arrives."""
LOOPTRACE_STREAM_INCOMPLETE = "looptrace.stream.incomplete"
"""True on an LLM span whose stream was closed or dropped before its end."""
LOOPTRACE_RETRIES = "looptrace.retries"
"""On an LLM span: how many attempts of the call failed and were retried by the client."""
EVENT_RETRY = "looptrace.retry"
"""Added to an LLM span per failed attempt the client retries (with the keys below and error.type)."""
LOOPTRACE_RETRY_ATTEMPT = "looptrace.retry.attempt"
"""On a `looptrace.retry` event: the number of the attempt that failed, from 1."""
LOOPTRACE_RETRY_DELAY_S = "looptrace.retry.delay_s"
"""On a `looptrace.retry` event: how long the client waits before the next attempt, in seconds."""
OPENAI_RESPONSE_STATUS = "openai.response.status"
"""On a Responses API span: the response's status (completed, incomplete, failed, ...)."""
# Span-name prefixes the SDK helpers use (GenAI convention: "{operation} {name}").
AGENT_ITERATION_SPAN_PREFIX = RAW_ITERATION_SPAN_PREFIX


# =============================================================================================
# The conventions table: how each convention's attributes become the promoted fields of a Span.
#
# Each *_KEYS tuple lists candidate attribute keys for one promoted field, in order of preference:
# the first key present on a span wins. Current OpenTelemetry GenAI names come first, then their
# older names, then OpenInference, then OpenLLMetry, then the seed article's bare keys.
# `looptrace.ingest.normalize` reads them; the SDK writes the first of each.
# =============================================================================================

PROVIDER_KEYS: tuple[str, ...] = (GEN_AI_PROVIDER_NAME, GEN_AI_SYSTEM, LLM_PROVIDER, LLM_SYSTEM)
REQUEST_MODEL_KEYS: tuple[str, ...] = (GEN_AI_REQUEST_MODEL, LLM_REQUEST_MODEL_NAME, LLM_MODEL_NAME, RAW_MODEL)
RESPONSE_MODEL_KEYS: tuple[str, ...] = (GEN_AI_RESPONSE_MODEL, LLM_RESPONSE_MODEL_NAME, LLM_MODEL_NAME)

INPUT_TOKENS_KEYS: tuple[str, ...] = (
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_PROMPT_TOKENS,
    LLM_TOKEN_COUNT_PROMPT,
    LLM_USAGE_PROMPT_TOKENS,
)
"""Input-token keys whose value counts every input token, cached or not (every instrumentation we know)."""
OUTPUT_TOKENS_KEYS: tuple[str, ...] = (
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_COMPLETION_TOKENS,
    LLM_TOKEN_COUNT_COMPLETION,
    LLM_USAGE_COMPLETION_TOKENS,
)
CACHE_READ_KEYS: tuple[str, ...] = (
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    LLM_USAGE_CACHE_READ_INPUT_TOKENS,
    LLM_TOKEN_COUNT_PROMPT_CACHE_READ,
)
CACHE_WRITE_KEYS: tuple[str, ...] = (
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    LLM_USAGE_CACHE_CREATION_INPUT_TOKENS,
    LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE,
)
"""Cache-write tokens come under these spellings: the GenAI conventions' `cache_creation.input_tokens`,
Anthropic's client's and util-genai's `cache_write.input_tokens`, OpenLLMetry's older
`cache_creation_input_tokens` and OpenInference's `prompt_details.cache_write`."""

RAW_INPUT_TOKENS_KEYS: tuple[str, ...] = (RAW_INPUT_TOKENS,)
"""Bare input-token keys that hold Anthropic's own number, which excludes cached tokens."""
RAW_OUTPUT_TOKENS_KEYS: tuple[str, ...] = (RAW_OUTPUT_TOKENS,)
RAW_CACHE_READ_KEYS: tuple[str, ...] = (RAW_CACHE_READ_INPUT_TOKENS,)
RAW_CACHE_WRITE_KEYS: tuple[str, ...] = (RAW_CACHE_CREATION_INPUT_TOKENS,)

COST_KEYS: tuple[str, ...] = (LOOPTRACE_COST_USD, GEN_AI_USAGE_COST, LLM_COST_TOTAL)
"""Keys under which a producer reports the cost in USD it computed itself (kept, `cost_source=reported`)."""

FINISH_REASON_KEYS: tuple[str, ...] = (
    GEN_AI_RESPONSE_FINISH_REASONS,
    LLM_FINISH_REASON,
    GEN_AI_COMPLETION_FINISH_REASON,
    ANTHROPIC_STOP_REASON,
    RAW_STOP_REASON,
)
TOOL_NAME_KEYS: tuple[str, ...] = (GEN_AI_TOOL_NAME, TOOL_NAME, RAW_TOOL_NAME)
TOOL_CALL_ID_KEYS: tuple[str, ...] = (GEN_AI_TOOL_CALL_ID, TOOL_CALL_ID)
LLM_TOOL_CALL_NAME_KEYS: tuple[str, ...] = (LLM_OUTPUT_TOOL_CALL_NAME, GEN_AI_COMPLETION_TOOL_CALL_NAME)
"""Where an LLM span names the first tool the model asked for (a tool-use decision)."""
LLM_TOOL_CALL_ID_KEYS: tuple[str, ...] = (LLM_OUTPUT_TOOL_CALL_ID, GEN_AI_COMPLETION_TOOL_CALL_ID)
SESSION_ID_KEYS: tuple[str, ...] = (SESSION_ID, GEN_AI_CONVERSATION_ID, TRACELOOP_SESSION_ID, RAW_SESSION_ID)
USER_ID_KEYS: tuple[str, ...] = (USER_ID, ENDUSER_ID, TRACELOOP_USER_ID, RAW_USER_ID)
AGENT_NAME_KEYS: tuple[str, ...] = (GEN_AI_AGENT_NAME, AGENT_NAME)
ITERATION_KEYS: tuple[str, ...] = (LOOPTRACE_ITERATION, RAW_ITERATION)

# --- Category: each convention's span kind onto looptrace's categories -------------------------
OPERATION_CATEGORY: dict[str, str] = {
    OP_CHAT: "llm",
    OP_TEXT_COMPLETION: "llm",
    OP_GENERATE_CONTENT: "llm",
    "completion": "llm",
    OP_EMBEDDINGS: "embedding",
    OP_EXECUTE_TOOL: "tool",
    OP_INVOKE_AGENT: "agent",
    OP_CREATE_AGENT: "agent",
    "retrieval": "retriever",
    "invoke_workflow": "chain",
}
"""`gen_ai.operation.name` values."""
OPENINFERENCE_KIND_CATEGORY: dict[str, str] = {
    "LLM": "llm",
    "TOOL": "tool",
    "CHAIN": "chain",
    "AGENT": "agent",
    "RETRIEVER": "retriever",
    "RERANKER": "retriever",
    "EMBEDDING": "embedding",
    # Steps of a pipeline that are neither model calls nor tools.
    "GUARDRAIL": "chain",
    "EVALUATOR": "chain",
    "PROMPT": "chain",
    "DECISION": "chain",
    "UNKNOWN": "other",
}
"""`openinference.span.kind` values (upper case, as OpenInference sends them)."""
TRACELOOP_KIND_CATEGORY: dict[str, str] = {
    "workflow": "chain",
    "task": "chain",
    "agent": "agent",
    "tool": "tool",
    "unknown": "other",
}
"""`traceloop.span.kind` values."""
LLM_REQUEST_TYPE_CATEGORY: dict[str, str] = {
    "chat": "llm",
    "completion": "llm",
    "embedding": "embedding",
    "rerank": "retriever",
}
"""OpenLLMetry's `llm.request.type` values."""

# --- Finish reasons: raw provider values and normalized ones onto the GenAI FinishReason enum ----
FINISH_REASON_MAP: dict[str, str] = {
    # OpenTelemetry GenAI enum: stop, length, content_filter, tool_call, error (kept as they are)
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_call": "tool_call",
    "error": "error",
    # Anthropic raw stop_reason
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_call",
    "refusal": "content_filter",
    "model_context_window_exceeded": "length",
    # OpenAI raw finish_reason
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    # Gemini raw finishReason
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
}
"""Every producer's finish reason onto one vocabulary, so a filter on `tool_call` finds every provider's tool use.
Values not listed (e.g. Anthropic's `pause_turn`) are kept as they are, lower-cased."""

# --- Providers: each convention's provider names onto genai-prices provider ids ----------------
PROVIDER_ALIASES: dict[str, str] = {
    "anthropic": "anthropic",
    "openai": "openai",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.inference": "azure",
    "azure_openai": "azure",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "vertex_ai": "google",
    "vertexai": "google",
    "gemini": "google",
    "google": "google",
    "aws.bedrock": "aws",
    "aws": "aws",
    "bedrock": "aws",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "deepseek": "deepseek",
    "groq": "groq",
    "cohere": "cohere",
    "perplexity": "perplexity",
    "moonshot": "moonshotai",
}
"""Provider names as the conventions spell them (gen_ai.provider.name, gen_ai.system, llm.provider, llm.system)
onto genai-prices provider ids; names not listed are passed to genai-prices as they are."""
