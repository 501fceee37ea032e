// The UI's only data source: the looptrace HTTP API.

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
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
