// The resource view: one resource with its tags (GET /resources/{id}) and the resources most
// similar to it (GET /resources/{id}/similar), fetched side by side.

import * as api from "./api.js";
import { errorBox, loadingLine, metaLine, percent, resultCard, typeBadge } from "./components.js";
import { h, replaceChildren, safeHref } from "./dom.js";
import { FACET_TITLES, description } from "./labels.js";

const SIMILAR_LIMIT = 5;
const TAG_FAMILIES = [
  ["domains", "domain"],
  ["barriers", "barrier"],
  ["levers", "lever"],
];

/**
 * @param {HTMLElement} container
 * @param {{backLink: Function, setTitle: Function}} app callbacks of the app shell
 */
export function mountResourceView(container, app) {
  let controller = null;

  async function update(state, { focusHeading = false } = {}) {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    const heading = h("h2", { id: "resource-title", tabindex: "-1", class: "view-title" }, "Resource");
    const body = h("div", { class: "resource-body" }, loadingLine());
    const similarList = h("div", { class: "similar-body" }, loadingLine("Finding similar resources…"));
    const similarSection = h(
      "section",
      { class: "similar", "aria-labelledby": "similar-heading" },
      h("h3", { id: "similar-heading" }, "Similar resources"),
      similarList,
    );
    replaceChildren(
      container,
      h(
        "article",
        { class: "resource", "aria-labelledby": "resource-title" },
        app.backLink(),
        heading,
        body,
        similarSection,
      ),
    );
    if (focusHeading) heading.focus();

    // Both requests start at once; each part shows its own answer or error.
    const detail = api.resource(state.id, signal);
    const similar = api.similar(state.id, SIMILAR_LIMIT, signal);
    similar.catch(() => {}); // awaited below; this only keeps an early return from leaving it unhandled
    try {
      const resource = await detail;
      heading.textContent = resource.title;
      app.setTitle(resource.title);
      replaceChildren(body, resourceBody(resource));
    } catch (error) {
      if (error.name === "AbortError") return;
      heading.textContent = "Resource not available";
      app.setTitle("Resource not available");
      replaceChildren(body, errorBox(error, "Loading the resource"));
      // Without the resource there is nothing to be similar to: one error message is enough.
      similarSection.remove();
      return;
    }
    try {
      const answer = await similar;
      replaceChildren(
        similarList,
        answer.results.length
          ? h("ol", { class: "result-list compact" }, answer.results.map((result) => resultCard(result, { heading: "h4", idPrefix: "similar" })))
          : h("p", { class: "muted" }, "No similar resources."),
      );
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(similarList, errorBox(error, "Finding similar resources"));
    }
  }

  return {
    update,
    destroy() {
      controller?.abort();
    },
  };
}

/** Facts, tags and the excerpt of a ResourceDetail. */
function resourceBody(resource) {
  const source = safeHref(resource.url);
  const facts = [
    ["Format", resource.format ? resource.format.toUpperCase() : null],
    ["Pages", resource.page_count],
    [
      "Source",
      source ? h("a", { href: source, rel: "noopener noreferrer", class: "source-link" }, resource.url) : null,
    ],
    ["Inferred", resource.inferred_fields?.length ? `${resource.inferred_fields.join(", ")} (not given by the curator)` : null],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");

  return [
    h("p", { class: "card-meta" }, typeBadge(resource.type), " ", metaLine(resource)),
    facts.length ? h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])) : null,
    h("section", { class: "resource-tags", "aria-labelledby": "tags-heading" }, h("h3", { id: "tags-heading" }, "Tags"), tagTable(resource)),
    h(
      "section",
      { class: "excerpt", "aria-labelledby": "excerpt-heading" },
      h("h3", { id: "excerpt-heading" }, "Excerpt"),
      // Plain text: the excerpt is raw document text, never HTML.
      h("p", { class: "excerpt-text" }, resource.excerpt || "No text."),
    ),
  ];
}

/** Tags as "Emission domain: Energy systems (curated, 100%)" grouped by family. */
function tagTable(resource) {
  const groups = TAG_FAMILIES.map(([family, facet]) => {
    const tags = resource[family] || [];
    return [
      h("dt", {}, FACET_TITLES[facet]),
      h(
        "dd",
        {},
        tags.length
          ? h(
              "ul",
              { class: "tags" },
              tags.map((tag) =>
                h(
                  "li",
                  { class: `tag tag-${facet}`, title: description(facet, tag.key) || null },
                  tag.label,
                  h("span", { class: "tag-source" }, ` (${tag.source}, ${percent(tag.confidence)})`),
                ),
              ),
            )
          : h("span", { class: "muted" }, "none"),
      ),
    ];
  });
  return h("dl", { class: "tag-table" }, groups);
}
