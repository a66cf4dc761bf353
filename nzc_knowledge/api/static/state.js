// The page's state lives in the URL's query string, so every view can be linked, bookmarked and
// reached again with the back button. The parameters mirror the API's on purpose:
//
//   /?q=heat+pumps&domain=energy&country=DE&offset=10     search (same names as GET /search)
//   /?view=resource&id=munich-geothermal-district-heating  one resource (GET /resources/{id})
//   /?view=city&city=Milan&barrier=finance                 a city and its peers (GET /cities/{city}/peers)
//   /?view=cities&q=krak                                    find a city (GET /cities?q=)

/** Search filters offered as facets, in display order (the keys of `facets` in GET /search). */
export const FACETS = ["domain", "barrier", "lever", "type", "country", "language"];

/** Filters of GET /cities/{city}/peers that the city view offers. */
export const PEER_FILTERS = ["domain", "barrier", "lever", "exclude_country", "prefer_nearby"];

export const PAGE_SIZES = [10, 20, 50];
export const DEFAULT_LIMIT = 10;
export const DEFAULT_PEERS = 5;

function positiveInt(value, fallback, { min = 0, max = 10_000 } = {}) {
  const number = Number.parseInt(value ?? "", 10);
  return Number.isFinite(number) && number >= min && number <= max ? number : fallback;
}

/** Read the state from a URL (defaults to the current location). */
export function stateFromUrl(url = window.location.href) {
  const params = new URL(url, window.location.href).searchParams;
  const view = params.get("view");
  if (view === "resource" && params.get("id")) {
    return { view: "resource", id: params.get("id") };
  }
  if (view === "city" && params.get("city")) {
    const filters = {};
    for (const name of PEER_FILTERS) filters[name] = params.get(name) || "";
    return { view: "city", city: params.get("city"), filters };
  }
  if (view === "cities") {
    return { view: "cities", q: params.get("q") || "" };
  }
  const filters = {};
  for (const name of FACETS) filters[name] = params.getAll(name).filter(Boolean);
  return {
    view: "search",
    q: params.get("q") || "",
    filters,
    limit: positiveInt(params.get("limit"), DEFAULT_LIMIT, { min: 1, max: 100 }),
    offset: positiveInt(params.get("offset"), 0),
  };
}

/** The page URL (path + query) for a state; default values are left out to keep URLs short. */
export function urlFor(state) {
  const params = new URLSearchParams();
  if (state.view === "resource") {
    params.set("view", "resource");
    params.set("id", state.id);
  } else if (state.view === "city") {
    params.set("view", "city");
    params.set("city", state.city);
    for (const name of PEER_FILTERS) {
      if (state.filters?.[name]) params.set(name, state.filters[name]);
    }
  } else if (state.view === "cities") {
    params.set("view", "cities");
    if (state.q) params.set("q", state.q);
  } else {
    if (state.q) params.set("q", state.q);
    for (const name of FACETS) {
      for (const value of state.filters?.[name] || []) params.append(name, value);
    }
    if (state.limit && state.limit !== DEFAULT_LIMIT) params.set("limit", String(state.limit));
    if (state.offset) params.set("offset", String(state.offset));
  }
  const text = params.toString();
  return text ? `/?${text}` : "/";
}

/** Shortcuts for links. */
export const resourceUrl = (id) => urlFor({ view: "resource", id });
export const cityUrl = (city) => urlFor({ view: "city", city, filters: {} });

/** A search state with everything at its default. */
export function emptySearch(q = "") {
  const filters = {};
  for (const name of FACETS) filters[name] = [];
  return { view: "search", q, filters, limit: DEFAULT_LIMIT, offset: 0 };
}

/** The GET /search parameters for a search state. */
export function searchParams(state) {
  return { q: state.q, ...state.filters, limit: state.limit, offset: state.offset };
}
