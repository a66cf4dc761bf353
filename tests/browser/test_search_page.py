"""The search page (GET /) in a real browser: search, facets, pages, resource and city views, keyboard.

Run with `pytest tests/browser` (needs /usr/bin/chromium). Screenshots land in test-artifacts/browser/.
Every test also checks (in the page fixtures) that the page fetched nothing from outside the server
and raised no script error.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

COUNT = "#result-count"
CARDS = ".result-list > li.card"


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def total_in(page: Page) -> int:
    """The number at the start of the announced count ("42 results for …")."""
    text = page.locator(COUNT).inner_text()
    match = re.match(r"(\d+) ", text)
    assert match, f"no count in {text!r}"
    return int(match.group(1))


def search(page: Page, text: str) -> None:
    """Type into the search box like a person (one key at a time) and wait for the announced count."""
    box = page.get_by_role("searchbox", name="Search climate-action resources")
    box.fill("")
    box.press_sequentially(text, delay=20)
    expect(page.locator(COUNT)).to_contain_text(f"for “{text}”")


def test_page_is_served_with_its_assets(live_server):
    page = live_server.client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    for asset, kind in (("/app.js", "javascript"), ("/style.css", "text/css")):
        response = live_server.client.get(asset)
        assert response.status_code == 200 and kind in response.headers["content-type"], asset
    # No external URL anywhere in what the page loads (no CDN, no web font).
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)


def test_typing_shows_results_and_the_count(page: Page, live_server, shoot):
    page.goto("/")
    expect(page.locator(COUNT)).to_have_text(re.compile(r"^\d+ resources, newest first$"))
    shoot(page, "desktop-01-home", full_page=False)

    search(page, "district heating")
    expected = live_server.api("/search", q="district heating")
    expect(page.locator(COUNT)).to_have_text(f"{expected['total']} results for “district heating”")
    # The count sits in a polite live region, so screen readers announce it.
    status = page.get_by_role("status").filter(has=page.locator(COUNT))
    expect(status).to_have_attribute("aria-live", "polite")
    # Instant search kept the state in the URL and showed the API's first page, in order.
    assert query_of(page)["q"] == ["district heating"]
    titles = page.locator(f"{CARDS} .card-title").all_inner_texts()
    assert titles == [result["title"] for result in expected["results"]]
    # Snippets keep the server's <mark> highlighting and nothing else.
    first = page.locator(CARDS).first
    expect(first.locator(".snippet mark").first).to_be_visible()
    expect(first.locator(".badge")).to_have_text(re.compile(r"\w"))
    expect(first.locator(".tags li").first).to_be_visible()
    assert page.title().startswith("“district heating”")
    shoot(page, "desktop-02-search")


def test_spelling_correction_is_shown(page: Page, live_server):
    expected = live_server.api("/search", q="renovaton")
    assert expected["corrected_query"], "the sample corpus should correct 'renovaton'"
    page.goto("/")
    search(page, "renovaton")
    hint = page.locator("#corrected-query")
    expect(hint).to_be_visible()
    expect(hint).to_have_text(f"Searched for: {expected['corrected_query']}")
    # A correctly spelt query shows no hint.
    search(page, "renovation")
    expect(hint).to_be_hidden()


def test_a_facet_narrows_the_results_and_back_undoes_it(page: Page, live_server, shoot):
    page.goto("/")
    search(page, "heat")
    before = total_in(page)
    energy = page.get_by_role("checkbox", name=re.compile(r"^Energy systems"))
    facet_count = int(page.locator("label[for='facet-domain-energy'] .facet-count").inner_text().split()[0])
    assert facet_count < before, "pick a query where the facet really narrows"

    energy.check()
    expect(page.locator(COUNT)).to_have_text(f"{facet_count} results for “heat” with these filters")
    assert query_of(page)["domain"] == ["energy"]
    assert query_of(page).get("offset") is None  # a new filter starts at page 1
    # Every card shown treats energy, and focus stayed on the checkbox that was ticked.
    for card in page.locator(CARDS).all():
        expect(card.locator(".tag-domain", has_text="Energy systems")).to_have_count(1)
    expect(page.locator("#facet-domain-energy")).to_be_focused()
    expect(page.get_by_role("button", name="Clear 1 filter")).to_be_visible()
    shoot(page, "desktop-03-facet")

    # A second facet (type) narrows further, combined with the first.
    type_box = page.locator(".facet input[name='type']").first
    type_key = type_box.get_attribute("value")
    type_count = int(page.locator(f"label[for='facet-type-{type_key}'] .facet-count").inner_text().split()[0])
    type_box.check()
    expect(page.locator(COUNT)).to_have_text(f"{type_count} results for “heat” with these filters")
    api = live_server.api("/search", q="heat", domain="energy", type=type_key)
    assert api["total"] == type_count

    page.go_back()
    expect(page.locator(COUNT)).to_have_text(f"{facet_count} results for “heat” with these filters")
    page.go_back()
    expect(page.locator(COUNT)).to_have_text(f"{before} results for “heat”")
    expect(energy).not_to_be_checked()


def test_pagination(page: Page, live_server, shoot):
    total = live_server.api("/search")["total"]
    assert total > 20
    page.goto("/")
    pages = page.get_by_role("navigation", name="Result pages")
    expect(pages).to_contain_text(f"Showing 1–10 of {total}")
    expect(page.locator(CARDS)).to_have_count(10)
    first_page = page.locator(f"{CARDS} .card-title").all_inner_texts()

    pages.get_by_role("link", name="Next →").click()
    expect(pages).to_contain_text(f"Showing 11–20 of {total}")
    assert query_of(page)["offset"] == ["10"]
    second_page = page.locator(f"{CARDS} .card-title").all_inner_texts()
    assert second_page == [r["title"] for r in live_server.api("/search", offset=10)["results"]]
    assert not set(first_page) & set(second_page)
    expect(page.locator("#results-heading")).to_be_focused()  # keyboard users start at the new page's top
    shoot(page, "desktop-04-page-2")

    # The page size is part of the state too.
    page.get_by_label("Per page").select_option("20")
    expect(pages).to_contain_text(f"Showing 1–20 of {total}")
    assert query_of(page)["limit"] == ["20"]

    page.go_back()
    expect(pages).to_contain_text(f"Showing 11–20 of {total}")
    page.go_back()
    expect(pages).to_contain_text(f"Showing 1–10 of {total}")
    expect(pages.locator("[aria-disabled='true']", has_text="Previous")).to_have_count(1)

    # An offset past the end says so and links back to the first page.
    page.goto(f"/?offset={total + 50}")
    expect(pages).to_contain_text(f"This page is past the last of {total} results.")
    pages.get_by_role("link", name="First page").click()
    expect(pages).to_contain_text(f"Showing 1–10 of {total}")


def test_a_result_opens_with_its_tags_and_similar_resources(page: Page, live_server, shoot):
    page.goto("/")
    search(page, "geothermal")
    first = live_server.api("/search", q="geothermal")["results"][0]
    page.locator(CARDS).first.locator(".result-link").click()

    heading = page.get_by_role("heading", level=2, name=first["title"])
    expect(heading).to_be_visible()
    expect(heading).to_be_focused()
    assert query_of(page) == {"view": ["resource"], "id": [first["id"]]}
    detail = live_server.api(f"/resources/{first['id']}")
    tags = page.locator(".tag-table")
    for family in ("domains", "barriers", "levers"):
        for tag in detail[family]:
            expect(tags).to_contain_text(f"{tag['label']} ({tag['source']}")
    expect(page.locator(".excerpt-text")).to_contain_text(detail["excerpt"][:40])

    similar = live_server.api(f"/resources/{first['id']}/similar")["results"]
    assert similar
    cards = page.locator(".similar .card")
    expect(cards).to_have_count(len(similar))
    expect(cards.first.locator(".card-title")).to_have_text(similar[0]["title"])
    shoot(page, "desktop-05-resource")

    # A similar resource opens in turn; Back returns to the first one, then to the search.
    cards.first.locator(".result-link").click()
    expect(page.get_by_role("heading", level=2, name=similar[0]["title"])).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", level=2, name=first["title"])).to_be_visible()
    page.go_back()
    expect(page.locator(COUNT)).to_contain_text("for “geothermal”")
    expect(page.get_by_role("searchbox")).to_have_value("geothermal")


def test_a_city_view_shows_its_profile_and_explained_peers(page: Page, live_server, shoot):
    page.goto("/")
    search(page, "geothermal district heating Munich")
    page.locator(".city-link", has_text="Munich").first.click()

    expect(page.get_by_role("heading", level=2, name="Munich")).to_be_focused()
    assert query_of(page) == {"view": ["city"], "city": ["Munich"]}
    profile = live_server.api("/cities/Munich")
    expect(page.locator(".city-resources li")).to_have_count(len(profile["resources"]))
    expect(page.locator(".challenge-profile")).to_contain_text(profile["domains"][0]["label"])

    peers = live_server.api("/cities/Munich/peers")["peers"]
    assert peers
    cards = page.locator(".peer-list > li")
    expect(cards).to_have_count(len(peers))
    top = cards.first
    expect(top.locator(".peer-link")).to_have_text(peers[0]["city"])
    expect(top.locator(".explanation")).to_have_text(peers[0]["explanation"])
    expect(top.locator(".evidence li")).to_have_count(len(peers[0]["evidence"]))
    # Evidence links are named by the resources' titles once looked up.
    evidence_title = live_server.api(f"/resources/{peers[0]['evidence'][0]}")["title"]
    expect(top.locator(".evidence a").first).to_have_text(evidence_title)
    shoot(page, "desktop-06-city")

    # Peer filters go through the API and into the URL: leave Germany out.
    page.get_by_label("Leave out country").fill("de")
    page.get_by_role("button", name="Update peers").click()
    expect(page.locator("#peers-heading")).to_be_focused()
    assert query_of(page)["exclude_country"] == ["DE"]
    filtered = live_server.api("/cities/Munich/peers", exclude_country="DE")["peers"]
    expect(cards.locator(".peer-link")).to_have_text([peer["city"] for peer in filtered])
    expect(cards.filter(has_text=", Germany")).to_have_count(0)

    # A peer opens its own view; any common spelling finds a city.
    cards.first.locator(".peer-link").click()
    expect(page.get_by_role("heading", level=2, name=filtered[0]["city"])).to_be_visible()
    page.goto("/?view=city&city=Milano")
    expect(page.get_by_role("heading", level=2, name="Milan")).to_be_visible()


def test_cities_can_be_found_by_any_spelling(page: Page, live_server, shoot):
    page.goto("/")
    page.get_by_role("link", name="Cities").click()
    listed = live_server.api("/cities", limit=100)
    expect(page.locator(".city-list li")).to_have_count(len(listed["cities"]))
    page.get_by_label("Find a city").press_sequentially("Krakow", delay=20)
    expect(page.locator(".city-list li").first.locator("a")).to_have_text("Kraków")
    assert query_of(page) == {"view": ["cities"], "q": ["Krakow"]}
    shoot(page, "desktop-09-cities", full_page=False)
    page.locator(".city-list li").first.locator("a").click()
    expect(page.get_by_role("heading", level=2, name="Kraków")).to_be_visible()


def test_keyboard_only_use(page: Page, live_server, shoot):
    page.goto("/")
    expect(page.locator(COUNT)).to_contain_text("resources")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    box = page.get_by_role("searchbox", name="Search climate-action resources")
    for _ in range(5):  # the skip link, then the header's links, then the search box
        if box.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(box).to_be_focused()
    # The focus ring is visible (not the browser default turned off).
    outline = box.evaluate("element => [getComputedStyle(element).outlineStyle, getComputedStyle(element).outlineWidth]")
    assert outline[0] != "none" and outline[1] != "0px", outline

    page.keyboard.type("cycling")
    page.keyboard.press("Enter")
    expect(page.locator(COUNT)).to_contain_text("for “cycling”")
    expect(box).to_be_focused()  # Enter searches and leaves you where you were typing

    links = page.locator(f"{CARDS} .result-link")
    page.keyboard.press("ArrowDown")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(links.nth(1)).to_be_focused()
    shoot(page, "desktop-07-keyboard-focus", full_page=False)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(box).to_be_focused()

    page.keyboard.press("ArrowDown")
    title = links.nth(0).inner_text()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name=title)).to_be_focused()

    # Facets are plain checkboxes: Tab reaches them and Space ticks one.
    page.go_back()
    expect(page.locator(COUNT)).to_contain_text("for “cycling”")
    box_id = page.locator(".facet input").first.get_attribute("id")
    page.locator(f"#{box_id}").focus()
    page.keyboard.press("Space")
    expect(page.locator(COUNT)).to_contain_text("with these filters")
    expect(page.locator(f"#{box_id}")).to_be_focused()
    expect(page.locator(f"#{box_id}")).to_be_checked()


def test_api_errors_are_shown(page: Page, live_server, shoot):
    page.guard.expect_http_errors = True
    page.goto("/?view=resource&id=no-such-resource")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("HTTP 404")
    expect(alert).to_contain_text("no resource with id 'no-such-resource'")
    shoot(page, "desktop-08-error-404", full_page=False)

    page.goto("/?q=" + "x" * 600)
    expect(page.get_by_role("alert")).to_contain_text("q is 600 characters long; the limit is 512")
    expect(page.locator(COUNT)).to_have_text("The search failed.")

    page.goto("/?view=city&city=Nowhereville")
    expect(page.get_by_role("alert")).to_contain_text("unknown city 'Nowhereville'")


def test_snippets_are_inserted_only_when_they_hold_nothing_but_marks(page: Page):
    page.goto("/")
    expect(page.locator(COUNT)).to_contain_text("resources")
    result = page.evaluate(
        """async () => {
            const { setSnippet } = await import("/dom.js");
            const safe = document.createElement("p");
            const unsafe = document.createElement("p");
            const usedHtml = setSnippet(safe, "a &amp; <mark>heat</mark> b");
            const usedHtmlUnsafe = setSnippet(unsafe, "x <img src=x onerror=\\"window.pwned=1\\"> <mark>y</mark>");
            return { usedHtml, usedHtmlUnsafe, safe: safe.innerHTML, unsafeText: unsafe.textContent,
                     unsafeChildren: unsafe.children.length, pwned: Boolean(window.pwned) };
        }"""
    )
    assert result["usedHtml"] is True and result["safe"] == "a &amp; <mark>heat</mark> b"
    assert result["usedHtmlUnsafe"] is False and result["unsafeChildren"] == 0 and not result["pwned"]
    assert "<img" in result["unsafeText"]


def test_phone_layout(phone_page: Page, live_server, shoot):
    page = phone_page
    page.goto("/")
    search(page, "cycling")
    no_overflow = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_overflow)
    # Filters fold behind a button so the results come first.
    toggle = page.get_by_role("button", name=re.compile(r"^Filters"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#facet-panel")).to_be_hidden()
    shoot(page, "phone-01-search", full_page=False)
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#facet-panel")).to_be_visible()
    shoot(page, "phone-02-filters-open", full_page=False)
    page.get_by_role("checkbox", name=re.compile(r"^Mobility")).check()
    expect(page.locator(COUNT)).to_contain_text("with these filters")
    expect(toggle).to_contain_text("1 active")

    page.locator(CARDS).first.locator(".result-link").click()
    expect(page.locator(".similar .card").first).to_be_visible()
    assert page.evaluate(no_overflow)
    shoot(page, "phone-03-resource")

    page.goto("/?view=city&city=Milan")
    expect(page.locator(".peer-list > li").first).to_be_visible()
    assert page.evaluate(no_overflow)
    shoot(page, "phone-04-city")
