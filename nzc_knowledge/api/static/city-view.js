// The city view: a city's challenge profile and resources (GET /cities/{city}) and the peer cities
// suggested for it (GET /cities/{city}/peers), each with the explanation of why it matches and the
// resources that back it up. Peer filters (domain, barrier, lever, other countries only) are part
// of the URL like everything else.

import * as api from "./api.js";
import { errorBox, loadingLine, percent, typeBadge } from "./components.js";
import { h, replaceChildren, srOnly } from "./dom.js";
import { FACET_TITLES, keys, label } from "./labels.js";
import { DEFAULT_PEERS, PEER_FILTERS, cityUrl, resourceUrl } from "./state.js";

const PROFILE_FAMILIES = [
  ["domains", "domain", "Works on"],
  ["barriers", "barrier", "Held back by"],
  ["levers", "lever", "Levers of change used"],
];
const SHARED_FAMILIES = [
  ["shared_domains", "domain", "Domains"],
  ["shared_barriers", "barrier", "Barriers"],
  ["shared_levers", "lever", "Levers"],
];
const MAX_ALIASES = 8;

/** Resource titles already looked up for evidence links (id -> Promise<title|null>). */
const titles = new Map();

/**
 * @param {HTMLElement} container
 * @param {{navigate: Function, backLink: Function, setTitle: Function}} app callbacks of the app shell
 */
export function mountCityView(container, app) {
  let controller = null;

  async function update(state, { focusHeading = false } = {}) {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    const heading = h("h2", { id: "city-title", tabindex: "-1", class: "view-title" }, state.city);
    const profile = h("div", { class: "city-profile" }, loadingLine());
    const peerBody = h("div", { class: "peer-body" }, loadingLine("Finding peer cities…"));
    const peerSection = h(
      "section",
      { class: "peers", "aria-labelledby": "peers-heading" },
      h("h3", { id: "peers-heading", tabindex: "-1" }, "Suggested peer cities"),
      peerFilterForm(state, app),
      peerBody,
    );
    replaceChildren(
      container,
      h("article", { class: "city", "aria-labelledby": "city-title" }, app.backLink(), heading, profile, peerSection),
    );
    if (focusHeading) heading.focus();

    const city = api.city(state.city, signal);
    const peers = api.peers(state.city, { limit: DEFAULT_PEERS, ...state.filters }, signal);
    peers.catch(() => {}); // awaited below; this only keeps an early return from leaving it unhandled
    try {
      const answer = await city;
      heading.textContent = answer.city;
      app.setTitle(answer.city);
      replaceChildren(profile, cityProfile(answer));
    } catch (error) {
      if (error.name === "AbortError") return;
      app.setTitle(`${state.city} – city not available`);
      replaceChildren(profile, errorBox(error, "Loading the city"));
      // An unknown or ambiguous name fails the peers the same way: one message is enough.
      peerSection.remove();
      return;
    }
    try {
      replaceChildren(peerBody, peerList(await peers, signal));
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(peerBody, errorBox(error, "Finding peer cities"));
    }
  }

  return {
    update,
    destroy() {
      controller?.abort();
    },
  };
}

// ---- the profile ---------------------------------------------------------------------------------

function cityProfile(city) {
  const facts = [
    ["Country", city.country ? city.country_name || label("country", city.country) : null],
    ["Population", city.population ? city.population.toLocaleString("en") : null],
    ["Region", regionLabel(city.region)],
    ["Registry name", city.registry_name && city.registry_name !== city.city ? city.registry_name : null],
    ["Commitments", city.commitments?.length ? city.commitments.map((item) => item.label).join("; ") : null],
    ["Also known as", city.aliases?.length ? city.aliases.slice(0, MAX_ALIASES).join(", ") : null],
  ].filter(([, value]) => value);
  const resources = city.resources || [];
  return [
    city.explanation ? h("p", { class: "lead" }, city.explanation) : null,
    facts.length ? h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])) : null,
    h(
      "section",
      { class: "challenge-profile", "aria-labelledby": "profile-heading" },
      h("h3", { id: "profile-heading" }, "Challenge profile"),
      h("div", { class: "profile-grid" }, PROFILE_FAMILIES.map(([family, facet, title]) => weightList(city[family] || [], facet, title))),
    ),
    h(
      "section",
      { class: "city-resources", "aria-labelledby": "city-resources-heading" },
      h("h3", { id: "city-resources-heading" }, `Resources about ${city.city} (${resources.length})`),
      resources.length
        ? h(
            "ul",
            { class: "link-list" },
            resources.map((resource) =>
              h(
                "li",
                {},
                h("a", { href: resourceUrl(resource.id), "data-nav": true }, resource.title || resource.id),
                " ",
                typeBadge(resource.type),
                resource.year ? h("span", { class: "muted" }, ` ${resource.year}`) : null,
              ),
            ),
          )
        : h("p", { class: "muted" }, "No resource about this city in the repository yet."),
    ),
  ];
}

/** "Southern" -> "Southern Europe" (as the API's explanations say it); other regions keep their name. */
function regionLabel(region) {
  if (!region || region === "Other") return null;
  return ["Nordic", "Western", "Southern", "Central-Eastern"].includes(region) ? `${region} Europe` : region;
}

/** Weighted tags as labelled bars; the number is in the text, the bar only repeats it. */
function weightList(items, facet, title) {
  return h(
    "div",
    { class: "weights" },
    h("h4", {}, title),
    items.length
      ? h(
          "ul",
          {},
          items.map((item) =>
            h(
              "li",
              {},
              h("span", { class: "weight-label" }, item.label || label(facet, item.key)),
              h("span", { class: "weight-value" }, percent(item.weight)),
              // A <meter>, not a styled span: the page's Content-Security-Policy forbids inline style attributes.
              h("meter", { class: "bar", "aria-hidden": "true", min: "0", max: "1", value: String(Math.min(1, item.weight)) }),
            ),
          ),
        )
      : h("p", { class: "muted" }, "nothing on record"),
  );
}

// ---- peers ---------------------------------------------------------------------------------------

/** Filters of the peer query; applying them navigates (so they land in the URL and Back undoes them). */
function peerFilterForm(state, app) {
  const select = (name, facet) => {
    const id = `peer-${name}`;
    return h(
      "p",
      { class: "field" },
      h("label", { for: id }, FACET_TITLES[facet]),
      h(
        "select",
        { id, name },
        h("option", { value: "" }, "Any"),
        keys(facet).map((key) => h("option", { value: key, selected: state.filters[name] === key }, label(facet, key))),
      ),
    );
  };
  const form = h(
    "form",
    { class: "peer-filters", "aria-label": "Peer filters" },
    select("domain", "domain"),
    select("barrier", "barrier"),
    select("lever", "lever"),
    h(
      "p",
      { class: "field" },
      h("label", { for: "peer-exclude-country" }, "Leave out country"),
      h("input", {
        id: "peer-exclude-country", name: "exclude_country", value: state.filters.exclude_country || "", size: "6",
        maxlength: "2", autocomplete: "off", placeholder: "e.g. IT", "aria-describedby": "peer-exclude-help",
      }),
      h("span", { id: "peer-exclude-help", class: "hint" }, "Two-letter code"),
    ),
    h(
      "p",
      { class: "field checkbox" },
      h("input", { type: "checkbox", id: "peer-nearby", name: "prefer_nearby", value: "true", checked: state.filters.prefer_nearby === "true" }),
      h("label", { for: "peer-nearby" }, "Prefer nearby cities"),
    ),
    h("p", { class: "field" }, h("button", { type: "submit" }, "Update peers")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const filters = {};
    for (const name of PEER_FILTERS) filters[name] = String(data.get(name) || "").trim();
    filters.exclude_country = filters.exclude_country.toUpperCase();
    app.navigate({ ...state, filters });
    // The view was rebuilt: put focus where the answer is, on the peers heading.
    document.getElementById("peers-heading")?.focus();
  });
  return form;
}

function peerList(answer, signal) {
  const peers = answer.peers || [];
  return [
    answer.note ? h("p", { class: "note" }, answer.note) : null,
    peers.length
      ? h("ol", { class: "peer-list" }, peers.map((peer, index) => peerCard(peer, index, signal)))
      : h("p", { class: "muted" }, "No peer city to suggest."),
  ];
}

function peerCard(peer, index, signal) {
  const titleId = `peer-${index}`;
  // What both cities treat, one line per family, strongest shared first (the API's order).
  const shared = SHARED_FAMILIES.filter(([field]) => peer[field]?.length).map(([field, facet, title]) => [
    h("dt", {}, title),
    h("dd", {}, peer[field].map((key) => label(facet, key)).join(", ")),
  ]);
  const evidence = (peer.evidence || []).map((id) => {
    const link = h("a", { href: resourceUrl(id), "data-nav": true }, id);
    resourceTitle(id, signal).then((title) => {
      if (title) link.textContent = title;
    });
    return h("li", {}, link);
  });
  return h(
    "li",
    { class: "card peer" },
    h(
      "article",
      { "aria-labelledby": titleId },
      h(
        "h4",
        { class: "card-title", id: titleId },
        h("a", { href: cityUrl(peer.city), "data-nav": true, class: "peer-link" }, peer.city),
        peer.country ? h("span", { class: "muted" }, `, ${label("country", peer.country)}`) : null,
      ),
      h("p", { class: "score" }, "Match ", h("strong", {}, percent(peer.score)), srOnly(" (how close the profiles are)")),
      h("p", { class: "explanation" }, peer.explanation),
      shared.length ? [h("p", { class: "small-heading", id: `${titleId}-shared` }, "In common"), h("dl", { class: "shared", "aria-labelledby": `${titleId}-shared` }, shared)] : null,
      evidence.length ? [h("p", { class: "small-heading" }, "Evidence"), h("ul", { class: "link-list evidence", "aria-label": "Evidence" }, evidence)] : null,
    ),
  );
}

/** The title of a resource for an evidence link (looked up once; the id stays when it fails). */
function resourceTitle(id, signal) {
  if (!titles.has(id)) {
    titles.set(
      id,
      api.resource(id, signal).then(
        (resource) => resource.title,
        () => {
          titles.delete(id); // try again next time (the request may just have been cancelled)
          return null;
        },
      ),
    );
  }
  return titles.get(id);
}
