"""Write the API's OpenAPI description to api/openapi.json (the portal team's contract snapshot).

    .venv/bin/python scripts/export_openapi.py

tests/unit/test_openapi_snapshot.py fails when the committed file differs from what the code describes.
"""

from __future__ import annotations

import json
from pathlib import Path

from nzc_knowledge.api.app import create_app
from nzc_knowledge.settings import Settings

TARGET = Path(__file__).resolve().parents[1] / "api" / "openapi.json"


def openapi_text() -> str:
    return json.dumps(create_app(Settings()).openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    TARGET.write_text(openapi_text(), encoding="utf-8")
    print(f"wrote {TARGET}")
