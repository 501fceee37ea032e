// The UI's only data source: the looptrace HTTP API.

/**
 * A failed API call: `status` is the HTTP status, `problems` the error body's `detail` as
 * [{param, message, input}] (param null when the server did not name one; input undefined when
 * it did not echo it), and `message` those problems in words: "min_cost: Input should be a valid
 * number, unable to parse string as a number", several joined with "; ".
 */
export class ApiError extends Error {
  constructor(status, detail) {
    const problems = describeDetail(detail);
    super(problems.map((p) => (p.param ? `${p.param}: ${p.message}` : p.message)).join("; ") || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problems = problems;
  }
}

// FastAPI's loc starts with where the value came from; the rest names it ("min_cost", "body.items.0").
const LOC_SOURCES = new Set(["query", "path", "body", "header", "cookie"]);

/**
 * An error body's `detail` as a list of problems. FastAPI sends a string (HTTPException) or, on a
 * failed validation (422), a list of {loc, msg, input, ...}; anything else is shown as JSON
 * rather than lost.
 */
export function describeDetail(detail) {
  if (detail == null || detail === "") return [];
  if (typeof detail === "string") return [{ param: null, message: detail, input: undefined }];
  if (!Array.isArray(detail)) return [{ param: null, message: JSON.stringify(detail), input: undefined }];
  return detail.map((item) => {
    if (item == null || typeof item !== "object" || typeof item.msg !== "string") return { param: null, message: typeof item === "string" ? item : JSON.stringify(item), input: undefined };
    const loc = Array.isArray(item.loc) ? item.loc.map(String) : [];
    const path = LOC_SOURCES.has(loc[0]) ? loc.slice(1) : loc;
    return { param: path.length ? path.join(".") : null, message: item.msg, input: item.input };
  });
}

/** GET a JSON API path (with an optional URLSearchParams) and return the parsed body. */
export async function getJson(path, params) {
  const qs = params && [...params].length ? `?${params}` : "";
  const response = await fetch(`${path}${qs}`, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail ?? detail;
    } catch {
      /* a non-JSON error body: keep the status text */
    }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

/** Paths of the trace endpoints. */
export const tracePaths = {
  skeleton: (traceId) => `/api/v1/traces/${encodeURIComponent(traceId)}/skeleton`,
  span: (traceId, spanId) => `/api/v1/traces/${encodeURIComponent(traceId)}/spans/${encodeURIComponent(spanId)}`,
};

/**
 * A loader of one trace's span details (GET /api/v1/traces/{id}/spans/{span_id}): each span is
 * fetched once (the promise is kept), and at most `concurrency` requests are in flight.
 *
 * @returns {(spanId: string) => Promise<object>}
 */
export function spanLoader(traceId, concurrency = 4) {
  const cache = new Map();
  const waiting = [];
  let active = 0;
  const next = () => {
    while (active < concurrency && waiting.length) {
      const [spanId, resolve, reject] = waiting.shift();
      active++;
      getJson(tracePaths.span(traceId, spanId))
        .then(resolve, reject)
        .finally(() => {
          active--;
          next();
        });
    }
  };
  return (spanId) => {
    let promise = cache.get(spanId);
    if (!promise) {
      promise = new Promise((resolve, reject) => waiting.push([spanId, resolve, reject]));
      // A failed fetch is not kept: the next click asks again.
      promise.catch(() => cache.delete(spanId));
      cache.set(spanId, promise);
      next();
    }
    return promise;
  };
}
