// Human labels for the keys the API answers with.
//
// domain / barrier / lever / type labels come from GET /taxonomy (the one source of truth);
// countries (ISO 3166-1 alpha-2) and languages (ISO 639-1) are named by the browser's own
// Intl.DisplayNames, so no list is shipped and nothing is fetched.

import * as api from "./api.js";

/** Which taxonomy list names each facet. */
const TAXONOMY_FAMILY = { domain: "domains", barrier: "barriers", lever: "levers", type: "types" };

/** Headings of the facet groups and tag families. */
export const FACET_TITLES = {
  domain: "Emission domain",
  barrier: "Barrier",
  lever: "Lever of change",
  type: "Resource type",
  country: "Country",
  language: "Language",
};

/** Short family names in front of a tag chip ("Barrier: Finance"), so colour is never the only cue. */
export const TAG_PREFIX = { domain: "Domain", barrier: "Barrier", lever: "Lever" };

const byFacet = {}; // facet -> Map(key -> {label, description})
let loading = null;

function displayNames(type) {
  try {
    return new Intl.DisplayNames(["en"], { type, fallback: "code" });
  } catch {
    return null; // a very old browser: codes are shown as they are
  }
}
const countryNames = displayNames("region");
const languageNames = displayNames("language");

/**
 * Load the taxonomy once. When it fails the page still works with raw keys, so the error is
 * returned for the caller to show rather than thrown.
 * @returns {Promise<Error|null>}
 */
export function loadLabels() {
  loading ??= api
    .taxonomy()
    .then((taxonomy) => {
      for (const [facet, family] of Object.entries(TAXONOMY_FAMILY)) {
        byFacet[facet] = new Map((taxonomy[family] || []).map((entry) => [entry.key, entry]));
      }
      return null;
    })
    .catch((error) => error);
  return loading;
}

/** The label of a facet value: label("domain", "energy") -> "Energy systems". */
export function label(facet, key) {
  if (key === null || key === undefined || key === "") return "";
  if (facet === "country") return safeName(countryNames, key.toUpperCase());
  if (facet === "language") return safeName(languageNames, key.toLowerCase());
  return byFacet[facet]?.get(key)?.label ?? humanise(key);
}

/** The taxonomy's description of a key, when it has one (used as a tooltip-free hint text). */
export function description(facet, key) {
  return byFacet[facet]?.get(key)?.description ?? "";
}

/** All keys of a taxonomy facet in the taxonomy's order (for the peer filters' drop-downs). */
export function keys(facet) {
  return [...(byFacet[facet]?.keys() ?? [])];
}

function safeName(names, code) {
  try {
    return names ? names.of(code) : code;
  } catch {
    return code; // not a well-formed code: show it as it is
  }
}

function humanise(key) {
  const text = String(key).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
