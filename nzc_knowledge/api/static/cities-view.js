// The cities view: find a city by any common spelling (GET /cities?q=); with an empty box it lists
// the cities the repository has resources about. Each city links to its profile and peers.

import * as api from "./api.js";
import { errorBox } from "./components.js";
import { debounce, h, replaceChildren } from "./dom.js";
import { label } from "./labels.js";
import { cityUrl } from "./state.js";

const LIST_LIMIT = 100;
const FIND_LIMIT = 20;
const SIZE_WORDS = { small: "small town", medium: "mid-size city", large: "large city", metropolis: "metropolis" };

/**
 * @param {HTMLElement} container
 * @param {{navigate: Function, setTitle: Function}} app callbacks of the app shell
 */
export function mountCitiesView(container, app) {
  let state = null;
  let controller = null;

  const heading = h("h2", { id: "cities-title", tabindex: "-1", class: "view-title" }, "Cities");
  const input = h("input", { id: "city-q", type: "search", autocomplete: "off", "aria-describedby": "city-q-help" });
  const count = h("p", { class: "result-count", role: "status", "aria-live": "polite" });
  const errors = h("div");
  const list = h("ul", { class: "city-list", "aria-labelledby": "cities-title" });
  replaceChildren(
    container,
    h(
      "section",
      { class: "cities", "aria-labelledby": "cities-title" },
      heading,
      h(
        "form",
        { class: "city-finder", role: "search", "aria-label": "Cities", onsubmit: (event) => event.preventDefault() },
        h("label", { for: "city-q" }, "Find a city"),
        input,
        h("p", { id: "city-q-help", class: "hint" }, "Any common spelling: Milano or Milan, Krakow or Kraków. Empty: the cities with resources."),
      ),
      count,
      errors,
      list,
    ),
  );

  // Each pause in typing replaces the history entry: the URL follows the box without flooding Back.
  input.addEventListener(
    "input",
    debounce(() => app.navigate({ view: "cities", q: input.value.trim() }, { replace: true }), 250),
  );

  async function update(next, { focusHeading = false } = {}) {
    state = next;
    if (document.activeElement !== input) input.value = state.q;
    if (focusHeading) heading.focus();
    controller?.abort();
    controller = new AbortController();
    try {
      const answer = await api.cities({ q: state.q, limit: state.q ? FIND_LIMIT : LIST_LIMIT }, controller.signal);
      replaceChildren(errors);
      count.textContent = state.q
        ? `${answer.cities.length} ${answer.cities.length === 1 ? "city matches" : "cities match"} “${state.q}”`
        : `${answer.total} cities with resources`;
      replaceChildren(list, answer.cities.map(cityItem));
    } catch (error) {
      if (error.name === "AbortError") return;
      count.textContent = "The city search failed.";
      replaceChildren(list);
      replaceChildren(errors, errorBox(error, "Finding cities"));
    }
  }

  return {
    update,
    destroy() {
      controller?.abort();
    },
  };
}

function cityItem(city) {
  const facts = [
    city.country ? label("country", city.country) : null,
    city.size_class ? SIZE_WORDS[city.size_class] : null,
    city.has_content ? `${city.resource_count} resource${city.resource_count === 1 ? "" : "s"}` : "no resources yet",
    city.matched && city.matched !== city.city ? `matched “${city.matched}”` : null,
  ].filter(Boolean);
  // Registry-only names repeat across countries ("Name, CC" is the API's way to say which one);
  // cities with resources keep the plain, shorter URL.
  const name = city.has_content || !city.country ? city.city : `${city.city}, ${city.country}`;
  return h(
    "li",
    {},
    h("a", { href: cityUrl(name), "data-nav": true, class: "city-link" }, city.city),
    h("span", { class: "muted" }, ` – ${facts.join(" · ")}`),
  );
}
