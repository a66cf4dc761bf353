"""The page's `safeHref` (static/dom.js) lets only http(s) addresses become links; run under Node.js.

The rendering itself is covered by tests/browser/test_safe_links.py; this checks the rule without a browser.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

DOM_JS = Path(__file__).resolve().parents[2] / "nzc_knowledge" / "api" / "static" / "dom.js"
CASES = {
    "https://example.org/report?page=2": "https://example.org/report?page=2",
    "http://example.org": "http://example.org/",
    "javascript:alert(document.cookie)": None,
    " JavaScript:alert(1)": None,
    "\tjava\nscript:alert(1)": None,
    "data:text/html,<script>alert(1)</script>": None,
    "vbscript:msgbox(1)": None,
    "//evil.example.org/x": None,
    "/relative/path": None,
    "": None,
}


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to import the page's ES module")
def test_only_http_and_https_urls_become_links():
    script = (
        f"import {{ safeHref }} from {json.dumps(DOM_JS.as_uri())};\n"
        f"const urls = {json.dumps(list(CASES) + [None, 42])};\n"
        "console.log(JSON.stringify(urls.map(safeHref)));\n"
    )
    result = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == list(CASES.values()) + [None, None]
