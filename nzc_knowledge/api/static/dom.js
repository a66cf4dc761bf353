// DOM helpers. Text from the API is always set with textContent (never parsed as HTML); the one
// exception, search snippets, goes through `setSnippet`, which checks them first.

/**
 * Create an element: h("a", {href: "/", class: "x"}, "text", childNode, [more, children]).
 * Attributes whose value is null/undefined/false are left out; `true` sets an empty attribute.
 * Keys starting with "on" add event listeners; strings become text nodes.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Append children (nodes, strings, numbers, nested arrays; null/false are skipped). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace all children of `parent`. */
export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

const MARK_TAG = /<\/?mark>/g;

/**
 * Show a search snippet. The API escapes the passage and wraps query terms in <mark>…</mark>, so the
 * snippet is inserted as HTML, but only after checking that, once those two tags are removed, no "<"
 * is left (i.e. there is no other tag). Anything else is shown as plain text, tags removed.
 */
export function setSnippet(element, snippet) {
  const text = String(snippet ?? "");
  const withoutMarks = text.replace(MARK_TAG, "");
  if (withoutMarks.includes("<")) {
    element.textContent = decodeEntities(withoutMarks);
    return false;
  }
  element.innerHTML = text;
  return true;
}

/** Decode HTML entities (&amp; …) of an escaped string without executing anything. */
function decodeEntities(text) {
  // A <textarea>'s content is parsed as text only (RCDATA), so no markup can come alive here.
  const area = document.createElement("textarea");
  area.innerHTML = text.replace(/</g, "&lt;");
  return area.value;
}

/**
 * `url` as an absolute http(s) address, or null. Ingest keeps only such URLs; this is the second line of
 * defence, so that a javascript: or data: URL in an older snapshot can never become a clickable link.
 */
export function safeHref(url) {
  if (typeof url !== "string") return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Text hidden on screen but read by screen readers. */
export const srOnly = (text) => h("span", { class: "visually-hidden" }, text);

/** Postpone calls to `fn` until `wait` ms have passed without a new call; `.cancel()` drops a pending one. */
export function debounce(fn, wait) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, wait);
  };
  debounced.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return debounced;
}
