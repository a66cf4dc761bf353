"""The committed OpenAPI description (api/openapi.json) matches what the code serves."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_is_current():
    spec = importlib.util.spec_from_file_location("export_openapi", ROOT / "scripts" / "export_openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = json.loads((ROOT / "api" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(module.openapi_text()), "run: .venv/bin/python scripts/export_openapi.py"
    for path in ("/search", "/resources/{resource_id}", "/taxonomy", "/health", "/cities/{city}/peers", "/twinning",
                 "/admin/reindex", "/admin/jobs/{job_id}", "/admin/resources"):
        assert path in committed["paths"]
