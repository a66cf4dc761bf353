"""/docs and /redoc work without the internet: every asset they load is served by the app itself."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from nzc_knowledge.api.app import create_app
from nzc_knowledge.settings import Settings


def test_docs_pages_load_only_assets_the_app_serves(tmp_path):
    with TestClient(create_app(Settings(index_dir=tmp_path / "indexes", source_dir=tmp_path))) as client:
        for page in ("/docs", "/redoc"):
            response = client.get(page)
            assert response.status_code == 200
            assert "cdn." not in response.text and "googleapis" not in response.text
            assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', response.text)
            assert assets, f"{page} names no script or style"
            for asset in assets:
                assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
                assert client.get(asset).status_code == 200, asset
            assert "https:" not in response.headers["content-security-policy"]
