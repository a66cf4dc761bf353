// A small client for the nzc-knowledge HTTP API.
//
// Everything the page shows comes through these functions, so they double as a reference for the
// portal: each one is a plain GET with query parameters, answering JSON. Errors come back as
// `{"detail": "message"}` with a 4xx/5xx status; `ApiError` carries both so the page can show them.

/** An error answered by the API (status >= 400) or a failure to reach it (status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the request never got an answer
   * @param {string} detail the API's `detail` message, shown to the user as is
   */
  constructor(status, detail) {
    super(status ? `${status}: ${detail}` : detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }
}

/**
 * Build a query string from an object; arrays become repeated parameters (`domain=a&domain=b`),
 * which is how the API takes several values of one filter. Empty values are left out.
 * @param {Record<string, string|number|boolean|null|undefined|Array<string>>} params
 */
export function queryString(params = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item !== undefined && item !== null && item !== "" && item !== false) {
        search.append(name, String(item));
      }
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * GET a JSON document from the API.
 * @param {string} path e.g. "/search" (relative to the page's origin)
 * @param {object} [params] query parameters, see `queryString`
 * @param {AbortSignal} [signal] lets the caller cancel a request that is no longer wanted
 */
export async function getJSON(path, params = {}, signal = undefined) {
  let response;
  try {
    response = await fetch(path + queryString(params), { headers: { Accept: "application/json" }, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error; // cancelled on purpose: not an error to show
    throw new ApiError(0, `Could not reach the API (${error.message}). Is the server running?`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // A proxy error page or an empty body: fall through with body = null.
  }
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : response.statusText || "request failed";
    throw new ApiError(response.status, detail);
  }
  return body;
}

const enc = encodeURIComponent;

// ---- the endpoints the page uses ----------------------------------------------------------------

/** GET /search: {query, total, limit, offset, results, facets, corrected_query, mode}. */
export const search = (params, signal) => getJSON("/search", params, signal);

/** GET /taxonomy: {domains, barriers, levers, types}, each a list of {key, label, description}. */
export const taxonomy = (signal) => getJSON("/taxonomy", {}, signal);

/** GET /resources/{id}: a resource with tags as [{key, label, confidence, source}] and an excerpt. */
export const resource = (id, signal) => getJSON(`/resources/${enc(id)}`, {}, signal);

/** GET /resources/{id}/similar: {id, results} (results shaped like search results). */
export const similar = (id, limit, signal) => getJSON(`/resources/${enc(id)}/similar`, { limit }, signal);

/** GET /cities?q=&limit=: cities that match a name (any common spelling). */
export const cities = (params, signal) => getJSON("/cities", params, signal);

/** GET /cities/{city}: a city's profile with its resources. */
export const city = (name, signal) => getJSON(`/cities/${enc(name)}`, {}, signal);

/**
 * GET /cities/{city}/peers: {city, peers: [{city, country, score, shared_domains, shared_barriers,
 * shared_levers, explanation, evidence}]}; params: limit, domain, barrier, lever, country, exclude_country.
 */
export const peers = (name, params, signal) => getJSON(`/cities/${enc(name)}/peers`, params, signal);
