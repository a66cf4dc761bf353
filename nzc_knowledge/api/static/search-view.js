// The search view: facet filters, the result count (announced), result cards and pagination.
//
// The view is built once and then updated in place for every new search, so the live region that
// announces the count stays the same element (screen readers only announce changes to an element
// they already know) and focus is not lost when a checkbox is ticked.

import * as api from "./api.js";
import { errorBox, resultCard } from "./components.js";
import { h, replaceChildren, srOnly } from "./dom.js";
import { FACET_TITLES, description, label } from "./labels.js";
import { FACETS, PAGE_SIZES, searchParams, urlFor } from "./state.js";

/** Facet values shown before "Show all". */
const FACET_PREVIEW = 6;

/**
 * Build the view into `container`.
 * @param {HTMLElement} container
 * @param {{navigate: Function, focusSearchBox: Function}} app callbacks of the app shell
 */
export function mountSearchView(container, app) {
  let state = null;
  let controller = null; // aborts the request of a search that a newer one replaced
  const expanded = {}; // facet -> true when "Show all" was pressed

  // ---- skeleton -------------------------------------------------------------------------------
  const filtersToggle = h("button", { type: "button", class: "filters-toggle", "aria-expanded": "false", "aria-controls": "facet-panel" }, "Filters");
  const facetPanel = h("div", { id: "facet-panel", class: "facet-panel" });
  const filters = h(
    "aside",
    { class: "filters", "aria-labelledby": "filters-heading" },
    h("h2", { id: "filters-heading", class: "filters-heading" }, filtersToggle, h("span", { class: "filters-title" }, "Filters")),
    facetPanel,
  );

  const heading = h("h2", { id: "results-heading", tabindex: "-1" }, "Results");
  const count = h("p", { id: "result-count", class: "result-count" });
  const corrected = h("p", { id: "corrected-query", class: "corrected-query", hidden: true });
  // role=status is a polite live region: the count (and a spelling correction) are read out after each search.
  const status = h("div", { role: "status", "aria-live": "polite", "aria-atomic": "true", class: "search-status" }, count, corrected);
  const pageSize = h(
    "select",
    { id: "page-size" },
    PAGE_SIZES.map((size) => h("option", { value: String(size) }, String(size))),
  );
  const errors = h("div", { class: "search-error" });
  const list = h("ol", { class: "result-list", "aria-labelledby": "results-heading" });
  const pagination = h("nav", { class: "pagination", "aria-label": "Result pages" });
  const results = h(
    "section",
    { class: "results", "aria-labelledby": "results-heading" },
    h("div", { class: "results-head" }, heading, h("p", { class: "page-size" }, h("label", { for: "page-size" }, "Per page"), " ", pageSize)),
    status,
    errors,
    list,
    pagination,
  );
  replaceChildren(container, h("div", { class: "search-layout" }, filters, results));

  // ---- events -------------------------------------------------------------------------------
  filtersToggle.addEventListener("click", () => {
    const open = filtersToggle.getAttribute("aria-expanded") !== "true";
    filtersToggle.setAttribute("aria-expanded", String(open));
    facetPanel.classList.toggle("is-open", open);
  });

  facetPanel.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
    const facet = box.name;
    const values = new Set(state.filters[facet]);
    if (box.checked) values.add(box.value);
    else values.delete(box.value);
    // A new filter changes the result set: start again at the first page.
    app.navigate({ ...state, filters: { ...state.filters, [facet]: [...values] }, offset: 0 });
  });

  pageSize.addEventListener("change", () => {
    app.navigate({ ...state, limit: Number(pageSize.value), offset: 0 });
  });

  // Arrow keys move between result titles; ArrowUp on the first goes back to the search box.
  list.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const links = [...list.querySelectorAll(".result-link")];
    const index = links.indexOf(document.activeElement);
    if (index < 0) return;
    event.preventDefault();
    if (event.key === "ArrowDown") links[Math.min(index + 1, links.length - 1)].focus();
    else if (index === 0) app.focusSearchBox();
    else links[index - 1].focus();
  });

  // ---- rendering ----------------------------------------------------------------------------
  async function update(next, { focusResults = false } = {}) {
    state = next;
    pageSize.value = String(state.limit);
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    results.setAttribute("aria-busy", "true");
    results.classList.add("is-loading");
    try {
      const page = await api.search(searchParams(state), signal);
      replaceChildren(errors);
      render(page);
    } catch (error) {
      if (error.name === "AbortError") return; // a newer search is under way
      replaceChildren(errors, errorBox(error, "The search"));
      count.textContent = "The search failed.";
      corrected.hidden = true;
      replaceChildren(list);
      replaceChildren(pagination);
    } finally {
      if (!signal.aborted) {
        results.removeAttribute("aria-busy");
        results.classList.remove("is-loading");
      }
    }
    if (focusResults && !signal.aborted) heading.focus();
  }

  function render(page) {
    count.textContent = countText(page, state);
    corrected.hidden = !page.corrected_query;
    replaceChildren(corrected, "Searched for: ", h("strong", {}, page.corrected_query || ""));
    replaceChildren(list, page.results.map((result) => resultCard(result)));
    renderPagination(page);
    renderFacets(page.facets || {});
  }

  function renderPagination(page) {
    const link = (text, offset, rel) => {
      if (offset === null) return h("span", { class: "page-link", "aria-disabled": "true" }, text);
      const target = { ...state, offset };
      return h("a", { class: "page-link", rel, href: urlFor(target), "data-nav": true, "data-focus": "results" }, text);
    };
    if (!page.total) {
      replaceChildren(pagination);
      return;
    }
    if (!page.results.length) {
      // An offset past the end (an old link, a hand-edited URL): say so and offer the way back.
      replaceChildren(pagination, h("p", { class: "page-info" }, `This page is past the last of ${page.total} results.`), link("First page", 0, "first"));
      return;
    }
    const pages = Math.max(1, Math.ceil(page.total / page.limit));
    const current = Math.floor(page.offset / page.limit) + 1;
    const first = page.offset + 1;
    const last = page.offset + page.results.length;
    replaceChildren(
      pagination,
      link("← Previous", page.offset > 0 ? Math.max(0, page.offset - page.limit) : null, "prev"),
      h("p", { class: "page-info" }, `Showing ${first}–${last} of ${page.total}`, h("span", { class: "page-number" }, ` · page ${current} of ${pages}`)),
      link("Next →", last < page.total ? page.offset + page.limit : null, "next"),
    );
  }

  function renderFacets(facets) {
    // Remember which checkbox had focus: the boxes are rebuilt, and focus must come back to the same one.
    const focusedId = facetPanel.contains(document.activeElement) ? document.activeElement.id : null;
    const groups = [];
    let active = 0;
    for (const facet of FACETS) {
      const counts = { ...(facets[facet] || {}) };
      const selected = state.filters[facet] || [];
      active += selected.length;
      // A ticked value stays listed even when it no longer counts anything, so it can be unticked.
      for (const value of selected) if (!(value in counts)) counts[value] = 0;
      const values = Object.keys(counts);
      if (!values.length) continue;
      groups.push(facetGroup(facet, values, counts, new Set(selected)));
    }
    const clear = active
      ? h("button", { type: "button", class: "clear-filters", onclick: clearFilters }, `Clear ${active} filter${active === 1 ? "" : "s"}`)
      : null;
    replaceChildren(facetPanel, clear, groups.length ? groups : h("p", { class: "muted" }, "No filters for these results."));
    replaceChildren(filtersToggle, "Filters", active ? h("span", { class: "filter-count" }, ` (${active} active)`) : null);
    if (focusedId) document.getElementById(focusedId)?.focus();
  }

  function facetGroup(facet, values, counts, selected) {
    const open = expanded[facet] || values.length <= FACET_PREVIEW + 1;
    const items = values.map((value, index) => {
      const id = `facet-${facet}-${value}`;
      const hint = description(facet, value);
      return h(
        "li",
        { class: "facet-value", hidden: !open && index >= FACET_PREVIEW && !selected.has(value) },
        h("input", { type: "checkbox", id, name: facet, value, checked: selected.has(value) }),
        h(
          "label",
          { for: id, title: hint || null },
          h("span", { class: "facet-label" }, label(facet, value)),
          " ",
          h("span", { class: "facet-count" }, String(counts[value]), srOnly(counts[value] === 1 ? " result" : " results")),
        ),
      );
    });
    const more = open
      ? null
      : h(
          "button",
          {
            type: "button",
            class: "facet-more",
            onclick: () => {
              expanded[facet] = true;
              for (const item of items) item.hidden = false;
              more.remove();
              items[FACET_PREVIEW]?.querySelector("input")?.focus();
            },
          },
          `Show all ${values.length}`,
          srOnly(` ${FACET_TITLES[facet].toLowerCase()} values`),
        );
    return h("fieldset", { class: "facet" }, h("legend", {}, FACET_TITLES[facet]), h("ul", {}, items), more);
  }

  function clearFilters() {
    const filters = {};
    for (const facet of FACETS) filters[facet] = [];
    app.navigate({ ...state, filters, offset: 0 });
    app.focusSearchBox();
  }

  return {
    update,
    /** Focus the first result title (ArrowDown in the search box); false when there is none. */
    focusFirstResult() {
      const first = list.querySelector(".result-link");
      first?.focus();
      return Boolean(first);
    },
    destroy() {
      controller?.abort();
    },
  };
}

/** "42 results for “heat pumps”", "92 resources", "No results for “xyz”". */
export function countText(page, state) {
  const filtered = FACETS.some((facet) => state.filters[facet]?.length);
  const where = filtered ? " with these filters" : "";
  const noun = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  if (!state.q.trim()) {
    return page.total ? `${noun(page.total, "resource", "resources")}${where}, newest first` : `No resources${where}`;
  }
  return page.total
    ? `${noun(page.total, "result", "results")} for “${state.q}”${where}`
    : `No results for “${state.q}”${where}`;
}

