// The app shell: reads the state from the URL, shows the matching view, keeps the URL in step.
//
// Views:  search (default) -> search-view.js,  ?view=resource -> resource-view.js,
//         ?view=city -> city-view.js,  ?view=cities -> cities-view.js
// Navigation uses history.pushState, so the back button and links work; a link carrying
// `data-nav` is handled here instead of reloading the page (its href stays a real URL, so it can
// still be opened in a new tab).

import { mountCitiesView } from "./cities-view.js";
import { mountCityView } from "./city-view.js";
import { errorBox } from "./components.js";
import { debounce, h, replaceChildren } from "./dom.js";
import { loadLabels } from "./labels.js";
import { mountResourceView } from "./resource-view.js";
import { mountSearchView } from "./search-view.js";
import { emptySearch, stateFromUrl, urlFor } from "./state.js";

const SITE = "NZC knowledge";
const TYPING_DELAY_MS = 250; // search once typing pauses this long

const searchForm = document.getElementById("search-form");
const searchBox = document.getElementById("q");
const viewRoot = document.getElementById("view");
const notices = document.getElementById("notices");

const MOUNTS = { search: mountSearchView, resource: mountResourceView, city: mountCityView, cities: mountCitiesView };
const TITLES = { resource: () => "Resource", city: (state) => state.city, cities: () => "Cities" };

let current = { kind: null, view: null, state: null };
let lastSearch = emptySearch(); // where "Back to search" leads, and what a new query starts from
// True while the current history entry was created by typing: further keystrokes replace it
// instead of piling up one entry per word (Back then returns to what was there before typing).
let typingEntry = false;

/** The callbacks views use to talk to the shell. */
const app = {
  navigate,
  focusSearchBox: () => searchBox.focus(),
  setTitle: (title) => {
    document.title = `${title} – ${SITE}`;
  },
  backLink: () =>
    h("p", { class: "back" }, h("a", { href: urlFor(lastSearch), "data-nav": true, "data-focus": "results" }, "← Back to search")),
};

/**
 * Show `state` and record it in the URL.
 * @param {object} state see state.js
 * @param {{replace?: boolean, focus?: "heading"|"results"|"none"|null}} options replace the history
 *   entry instead of adding one; where to move focus once the view is shown (null: the view's heading
 *   when the view changes, else nowhere)
 */
function navigate(state, { replace = false, focus = null } = {}) {
  const url = urlFor(state);
  if (url !== location.pathname + location.search) {
    history[replace ? "replaceState" : "pushState"](null, "", url);
  }
  if (!replace) typingEntry = false;
  show(state, focus);
}

/** Mount the view for `state` (or reuse the one showing) and update it. */
function show(state, focus = null) {
  if (current.kind !== state.view) {
    current.view?.destroy();
    current = { kind: state.view, view: MOUNTS[state.view](viewRoot, app), state };
    // A new view (link, Back) puts focus on its heading, so screen readers start reading there.
    if (focus === null && state.view !== "search") focus = "heading";
  }
  current.state = state;
  // Mark the section in the header navigation: "page" on its own list, "true" inside it.
  const section = state.view === "search" || state.view === "resource" ? "search" : "cities";
  for (const link of document.querySelectorAll(".site-nav a")) {
    if (link.dataset.section !== section) link.removeAttribute("aria-current");
    else link.setAttribute("aria-current", state.view === section ? "page" : "true");
  }
  if (state.view === "search") {
    lastSearch = state;
    app.setTitle(state.q ? `“${state.q}” – Search` : "Search");
    current.view.update(state, { focusResults: focus === "results" });
  } else {
    app.setTitle(TITLES[state.view](state)); // the view sets a better one once its data is in
    current.view.update(state, { focusHeading: focus === "heading" || focus === "results" });
  }
}

// ---- the search box ----------------------------------------------------------------------------

/** A new query: from the search view keep its filters; from another view start from the last search. */
function searchFor(q) {
  const base = current.kind === "search" ? current.state : lastSearch;
  return { ...base, q, offset: 0 };
}

const searchAsYouType = debounce(() => {
  const q = searchBox.value;
  if (current.kind === "search" && current.state.q === q) return;
  navigate(searchFor(q), { replace: typingEntry });
  typingEntry = true;
}, TYPING_DELAY_MS);

searchBox.addEventListener("input", searchAsYouType);

searchForm.addEventListener("submit", (event) => {
  // Enter searches at once (no waiting for the debounce) and keeps focus in the box.
  event.preventDefault();
  searchAsYouType.cancel();
  navigate(searchFor(searchBox.value), { replace: typingEntry });
  typingEntry = false;
});

searchBox.addEventListener("keydown", (event) => {
  // ArrowDown jumps from the box to the first result; ArrowUp on the first result comes back.
  if (event.key === "ArrowDown" && current.kind === "search" && current.view.focusFirstResult()) {
    event.preventDefault();
  }
});

// ---- links and the back button -------------------------------------------------------------------

document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[data-nav]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // new tab/window: the browser's job
  event.preventDefault();
  searchAsYouType.cancel();
  const state = stateFromUrl(link.href);
  if (state.view === "search") searchBox.value = state.q;
  navigate(state, { focus: link.dataset.focus || "heading" });
});

window.addEventListener("popstate", () => {
  searchAsYouType.cancel();
  typingEntry = false;
  const state = stateFromUrl();
  if (state.view === "search") searchBox.value = state.q;
  show(state);
});

// ---- start -------------------------------------------------------------------------------------

async function start() {
  const state = stateFromUrl();
  searchBox.value = state.view === "search" ? state.q : "";
  // Labels name the facets; without them the page still works with raw keys, and says why.
  const labelError = await loadLabels();
  if (labelError) replaceChildren(notices, errorBox(labelError, "Loading the vocabulary labels"));
  show(state, "none"); // a fresh page load leaves focus alone: Tab starts at the skip link
}

start();
