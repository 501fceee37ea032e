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
