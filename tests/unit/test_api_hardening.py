"""Hostile requests: security headers, repeated parameters, audited refusals, request ids, documented errors
(TestClient, no index). Body caps before the body is read need a real server:
tests/integration/test_api_hardening_live.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from nzc_knowledge.api.app import STATIC_DIR, create_app
from nzc_knowledge.api.deps import admin_caller
from nzc_knowledge.api.logs import JsonFormatter, RequestIdFilter
from nzc_knowledge.errors import AdminDenied
from nzc_knowledge.settings import Settings

from hardening_settings import REQUEST_LIMIT, TOKEN, settings_for


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(settings_for(tmp_path))) as test_client:
        yield test_client


# ---- headers, methods, parameters (TestClient, no index needed) -----------------------------------------------

def test_security_headers_on_every_response(client):
    responses = [
        client.get("/taxonomy"),                                  # 200 JSON
        client.get("/"),                                          # the page
        client.get("/no-such-path"),                              # 404
        client.post("/admin/reindex"),                            # 401 from the admin guard
        client.post("/twinning", content=b"x" * (REQUEST_LIMIT + 1), headers={"content-type": "application/json"}),
    ]
    assert [response.status_code for response in responses] == [200, 200, 404, 401, 413]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert "unsafe-inline" not in policy


class _PageAssets(HTMLParser):
    """Every URL the page loads and whether it carries inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            if attributes.get(name) and (tag in ("script", "img") or attributes.get("rel") in ("stylesheet", "icon")):
                self.urls.append(attributes[name])
        if tag == "script" and not attributes.get("src"):
            self.inline.append("inline <script>")
        if "style" in attributes or any(name.startswith("on") for name in attributes):
            self.inline.append(f"inline attribute on <{tag}>")
        if tag == "style":
            self.inline.append("<style> element")


def test_the_page_only_needs_what_its_content_security_policy_allows(client):
    """The CSP allows same-origin scripts/styles and data: images, no inline code: the page must fit in that."""
    page = _PageAssets()
    page.feed(client.get("/").text)
    assert page.urls and not page.inline, page.inline
    for url in page.urls:
        assert url.startswith("/") and not url.startswith("//") or url.startswith("data:"), url
        if url.startswith("/"):
            assert client.get(url).status_code == 200, url
    scripts = "\n".join(path.read_text(encoding="utf-8") for path in STATIC_DIR.glob("*.js"))
    assert not re.search(r"\beval\(|new Function\(|\.style\.|setAttribute\(\s*['\"](style|on)", scripts)
    assert not re.search(r"https?://", re.sub(r"//.*", "", scripts)), "the page must not fetch from other origins"
    docs = client.get("/docs")
    assert "'unsafe-inline'" in docs.headers["content-security-policy"]  # Swagger UI starts with an inline script
    assert "'unsafe-inline'" not in client.get("/").headers["content-security-policy"]


def test_unsupported_methods_are_405_with_a_matching_allow_header(client):
    for method, path, allowed in [("OPTIONS", "/twinning", "POST"), ("GET", "/twinning", "POST"),
                                  ("POST", "/search", "GET"), ("OPTIONS", "/admin/rollback", "POST"),
                                  ("DELETE", "/", "GET, HEAD"),
                                  ("OPTIONS", "/admin/jobs/abc", "GET, DELETE")]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        response = client.request(method, path, headers=headers)
        assert response.status_code == 405, (method, path, response.status_code)
        assert set(response.headers["allow"].split(", ")) == set(allowed.split(", "))
        assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(("query", "name"), [("q=a&q=b", "q"), ("limit=1&limit=2", "limit"),
                                              ("q=x&mode=dense&mode=lexical", "mode")])
def test_a_repeated_scalar_parameter_is_422_with_a_message(client, query, name):
    response = client.get(f"/search?{query}")
    assert response.status_code == 422
    assert response.json()["detail"] == f"{name} is given 2 times; give it once"


def test_repeated_list_parameters_stay_allowed(client):
    # No snapshot in this app: getting past the parameter check means a 503, not a 422.
    assert client.get("/search?domain=energy&domain=mobility").status_code == 503
    assert client.get("/cities?limit=1&limit=2").status_code == 422


# ---- audit ------------------------------------------------------------------------------------------------------

def test_refused_admin_attempts_are_audited_without_token_material(client, tmp_path):
    client.post("/admin/reindex")
    client.get("/admin/snapshots", headers={"Authorization": "Bearer guess-1"})
    client.post("/admin/resources", headers={"Authorization": "Basic Z3Vlc3M="})
    lines = (tmp_path / "index" / "audit.log").read_text(encoding="utf-8").splitlines()
    denied = [line for line in lines if "action=denied" in line]
    assert len(denied) == 3, lines
    assert "who=anonymous" in denied[0] and "status=401" in denied[0] and "path=/admin/reindex" in denied[0]
    assert "who=bad-token" in denied[1] and "status=403" in denied[1] and "method=GET" in denied[1]
    assert "who=anonymous" in denied[2] and "path=/admin/resources" in denied[2]
    assert "guess-1" not in "\n".join(lines)
    assert hashlib.sha256(b"guess-1").hexdigest()[:8] not in "\n".join(lines)


def test_the_audit_name_of_a_token_is_keyed_not_a_plain_digest():
    settings = Settings(_env_file=None, admin_token=TOKEN)
    first = admin_caller(f"Bearer {TOKEN}", settings, b"k" * 32)
    assert first.startswith("token:") and first == admin_caller(f"Bearer {TOKEN}", settings, b"k" * 32)
    assert first != admin_caller(f"Bearer {TOKEN}", settings, b"other-key" * 4)
    assert hashlib.sha256(TOKEN.encode()).hexdigest()[:8] not in first
    with pytest.raises(AdminDenied) as denied:
        admin_caller(f"Bearer {TOKEN}", Settings(_env_file=None, admin_token=None), b"k" * 32)
    assert denied.value.status == 403 and denied.value.caller == "disabled"


# ---- request ids and JSON logs ----------------------------------------------------------------------------------

@pytest.fixture
def access_log():
    """The `nzc.access` records, formatted by the server's JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("nzc.access")
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


def test_request_ids_are_echoed_generated_and_logged(client, access_log):
    given = client.get("/taxonomy", headers={"X-Request-ID": "portal-42.a"})
    assert given.headers["x-request-id"] == "portal-42.a"
    generated = client.get("/taxonomy")
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    hostile = client.get("/taxonomy", headers={"X-Request-ID": "a b\tinjected=" + "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    refused = client.post("/admin/reindex", headers={"X-Request-ID": "refused-1"})
    assert refused.headers["x-request-id"] == "refused-1"

    entries = access_log()
    assert [entry["request_id"] for entry in entries] == [
        "portal-42.a", generated.headers["x-request-id"], hostile.headers["x-request-id"], "refused-1"]
    assert entries[0]["route"] == "/taxonomy" and entries[0]["status"] == 200 and entries[0]["level"] == "INFO"
    assert entries[3]["route"] == "/admin/reindex" and entries[3]["status"] == 401
    assert all(isinstance(entry["duration_ms"], float) for entry in entries)


def test_settings_reject_nonsense_limits_and_levels():
    with pytest.raises(ValueError, match="at least 1 byte"):
        Settings(_env_file=None, max_request_bytes=0)
    with pytest.raises(ValueError, match="unknown log level"):
        Settings(_env_file=None, log_level="LOUD")
    with pytest.raises(ValueError):
        Settings(_env_file=None, log_format="xml")


# ---- the OpenAPI description tells the truth about errors ------------------------------------------------------

def test_every_documented_error_is_our_detail_body_and_caps_follow_the_settings(tmp_path):
    schema = create_app(settings_for(tmp_path, max_limit=37, max_query_length=99)).openapi()
    assert "HTTPValidationError" not in json.dumps(schema)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            errors = {status: body for status, body in operation["responses"].items() if int(status) >= 400}
            assert "500" in errors, (method, path)
            for status, body in errors.items():
                if (path, status) == ("/health", "503"):
                    continue  # /health answers 503 with its own status body (no snapshot yet)
                assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
            if path.startswith("/admin/"):
                assert {"401", "403"} <= set(errors) and operation["security"] == [{"HTTPBearer": []}], path
            if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
                assert "422" in errors, (method, path)
    search = {parameter["name"]: parameter["schema"] for parameter in schema["paths"]["/search"]["get"]["parameters"]}
    assert search["limit"]["maximum"] == 37 and search["q"]["maxLength"] == 99
    twinning = schema["components"]["schemas"]["TwinningRequest"]["properties"]
    assert twinning["pilots"]["minItems"] == 1 and twinning["twins"]["minItems"] == 1
    assert "404" in schema["paths"]["/resources/{resource_id}"]["get"]["responses"]
    assert "404" in schema["paths"]["/resources/{resource_id}/similar"]["get"]["responses"]
    assert "400" in schema["paths"]["/cities/{city}/peers"]["get"]["responses"]
