"""The resource page never renders a non-http(s) `url` as a link (defence in depth behind the ingest check).

Run with `pytest tests/browser` (needs /usr/bin/chromium).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect


def _serve_resource_with_url(page: Page, url: str) -> None:
    """Answer GET /resources/{id} as the server does, but with `url` replaced (as an old snapshot might hold)."""

    def replace_url(route):
        response = route.fetch()
        body = response.json()
        body["url"] = url
        route.fulfill(response=response, json=body)

    page.route("**/resources/*", replace_url)  # `*` stops at "/": /resources/{id}/similar passes through


@pytest.mark.parametrize("url", ["javascript:window.pwned=1", " JavaScript:window.pwned=1", "data:text/html,<b>x</b>"])
def test_a_script_url_is_not_rendered_as_a_link(page: Page, live_server, url: str):
    first = live_server.api("/search", q="heat")["results"][0]
    _serve_resource_with_url(page, url)
    page.goto(f"/?view=resource&id={first['id']}")
    expect(page.get_by_role("heading", level=2, name=first["title"])).to_be_visible()
    expect(page.locator(".facts")).to_be_visible()
    assert page.locator("a.source-link").count() == 0
    assert page.locator("a[href^='javascript' i], a[href^=' javascript' i], a[href^='data:' i]").count() == 0
    assert not page.evaluate("Boolean(window.pwned)")


def test_an_https_url_is_rendered_as_a_link(page: Page, live_server):
    first = live_server.api("/search", q="heat")["results"][0]
    _serve_resource_with_url(page, "https://example.org/report")
    page.goto(f"/?view=resource&id={first['id']}")
    expect(page.locator("a.source-link")).to_have_attribute("href", "https://example.org/report")
