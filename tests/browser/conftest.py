"""Fixtures for the browser tests: a snapshot of the sample corpus, a live server, Debian's chromium.

The snapshot is built once per session with the real MiniLM encoder (about a minute) and served by
uvicorn in a background thread on a free 127.0.0.1 port. Chromium is driven by Playwright but is the
system's `/usr/bin/chromium` (`apt-get install chromium`); Playwright's own browser download is never
used. A missing chromium fails the tests (CI installs it), it does not skip them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SERVER_START_SECONDS = 120


@dataclass
class LiveServer:
    """The running API: its base URL and a plain HTTP client to compare the page with the API."""

    url: str
    client: httpx.Client

    def api(self, path: str, **params) -> dict:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()


@dataclass
class PageGuard:
    """What a page did that a test must not allow: requests leaving the server, script errors."""

    external_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    expect_http_errors: bool = False  # set by tests that provoke 4xx answers on purpose

    def unexpected_errors(self) -> list[str]:
        # Chromium logs every 4xx fetch to the console; that is only an error where none was provoked.
        if not self.expect_http_errors:
            return self.errors
        return [error for error in self.errors if "the server responded with a status of 4" not in error]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def snapshot_dir(tmp_path_factory: pytest.TempPathFactory, encoder) -> Path:
    """An index folder holding a snapshot of the sample corpus in ingest/ (built once per session)."""
    from nzc_knowledge.ingest.build import build_snapshot
    from nzc_knowledge.recommend.profiles import snapshot_extensions

    index_dir = tmp_path_factory.mktemp("browser-index")
    report = build_snapshot(ROOT / "ingest", index_dir, encoder=encoder, extensions=snapshot_extensions(ROOT / "ingest"))
    if not report.ingested or report.snapshot_id is None:
        pytest.fail(f"the sample corpus built no snapshot: {report}")
    return index_dir


@pytest.fixture(scope="session")
def live_server(snapshot_dir: Path, encoders) -> Iterator[LiveServer]:
    """uvicorn serving create_app over the session snapshot, in a daemon thread."""
    import uvicorn

    from nzc_knowledge.api.app import create_app
    from nzc_knowledge.settings import Settings

    settings = Settings(_env_file=None, index_dir=snapshot_dir, source_dir=ROOT / "ingest", admin_token=None, cors_origins="")
    app = create_app(settings, encoders)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="browser-test-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the test server did not start on {base} within {SERVER_START_SECONDS} s")
        time.sleep(0.1)
    with httpx.Client(base_url=base, timeout=30) as client:
        health = client.get("/health")
        if health.status_code != 200:
            pytest.fail(f"the test server answers /health with {health.status_code}: {health.text}")
        yield LiveServer(base, client)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, launched once per session."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's chromium. Install it with "
            "`apt-get install -y chromium` (never `playwright install`: no browser download is used)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _guarded_page(browser, live_server: LiveServer, viewport: dict):
    """A fresh page that records script errors and blocks (and records) any request off the test server."""
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    guard = PageGuard()
    server_origin = urlsplit(live_server.url).netloc

    def only_local(route):
        url = route.request.url
        if urlsplit(url).netloc == server_origin or url.startswith("data:"):
            route.continue_()
        else:
            guard.external_requests.append(url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("pageerror", lambda error: guard.errors.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and guard.errors.append(f"console error: {message.text}"))
    page.guard = guard
    return context, page


def _check_guard(page) -> None:
    guard: PageGuard = page.guard
    assert not guard.external_requests, f"the page tried to fetch from outside the server: {guard.external_requests}"
    unexpected = guard.unexpected_errors()
    assert not unexpected, "\n".join(unexpected)


@pytest.fixture
def page(browser, live_server):
    """A desktop-sized page (1280x900) on the live server."""
    context, page = _guarded_page(browser, live_server, DESKTOP)
    yield page
    try:
        _check_guard(page)
    finally:
        context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A phone-sized page (390x844, the width of a current iPhone)."""
    context, page = _guarded_page(browser, live_server, PHONE)
    yield page
    try:
        _check_guard(page)
    finally:
        context.close()


@pytest.fixture(scope="session")
def shoot():
    """Save a screenshot under test-artifacts/browser/<name>.png (gitignored) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
