// Pieces shared by the views: result cards, tag lists, error messages.

import { h, setSnippet } from "./dom.js";
import { TAG_PREFIX, label } from "./labels.js";
import { cityUrl, resourceUrl } from "./state.js";

/** Tag families of a search result, with the facet whose labels name their keys. */
const TAG_FAMILIES = [
  ["domains", "domain"],
  ["barriers", "barrier"],
  ["levers", "lever"],
];

/** "Munich, Germany · 2023 · English" with the city linked to its view. */
export function metaLine(result) {
  const parts = [];
  if (result.city) {
    const place = [h("a", { href: cityUrl(result.city), "data-nav": true, class: "city-link" }, result.city)];
    if (result.country) place.push(`, ${label("country", result.country)}`);
    parts.push(place);
  } else if (result.country) {
    parts.push(label("country", result.country));
  }
  if (result.year) parts.push(String(result.year));
  if (result.language) parts.push(label("language", result.language));
  return parts.flatMap((part, index) => (index ? [h("span", { class: "sep", "aria-hidden": "true" }, " · "), part] : [part]));
}

/** The type of a resource as a badge ("Case study"). */
export function typeBadge(type) {
  return type ? h("span", { class: "badge" }, label("type", type)) : null;
}

/**
 * Tags of a search result (lists of keys) as chips; each chip says its family in words
 * ("Barrier: Finance"), so colour is never the only cue.
 */
export function tagList(result) {
  const items = [];
  for (const [family, facet] of TAG_FAMILIES) {
    for (const key of result[family] || []) {
      items.push(
        h("li", { class: `tag tag-${facet}` }, h("span", { class: "tag-family" }, `${TAG_PREFIX[facet]}:`), " ", label(facet, key)),
      );
    }
  }
  return items.length ? h("ul", { class: "tags", "aria-label": "Tags" }, items) : null;
}

/**
 * One result as a card: title (a link to the resource view), type, place, year, language, the
 * highlighted snippet and the tags.
 * @param {object} result a SearchResult of the API
 * @param {{heading?: string, idPrefix?: string}} options heading level and a prefix for element ids
 */
export function resultCard(result, { heading = "h3", idPrefix = "result" } = {}) {
  const titleId = `${idPrefix}-${result.id}`;
  const snippet = h("p", { class: "snippet" });
  if (result.snippet) setSnippet(snippet, result.snippet);
  return h(
    "li",
    { class: "card" },
    h(
      "article",
      { "aria-labelledby": titleId },
      h(heading, { class: "card-title", id: titleId }, h("a", { href: resourceUrl(result.id), "data-nav": true, class: "result-link" }, result.title)),
      h("p", { class: "card-meta" }, typeBadge(result.type), " ", metaLine(result)),
      result.snippet ? snippet : null,
      tagList(result),
    ),
  );
}

/** An error from the API, worded for people; role="alert" makes screen readers announce it. */
export function errorBox(error, what = "The request") {
  const status = error?.status;
  const title = status ? `${what} failed (HTTP ${status})` : `${what} failed`;
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", { class: "error-title" }, title),
    h("p", { class: "error-detail" }, error?.detail ?? error?.message ?? String(error)),
  );
}

/** A short "Loading…" line (not a live region: the result count is what gets announced). */
export const loadingLine = (text = "Loading…") => h("p", { class: "loading" }, text);

/** Confidence 0..1 as "87%". */
export const percent = (value) => `${Math.round((Number(value) || 0) * 100)}%`;
