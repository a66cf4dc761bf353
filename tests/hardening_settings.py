"""Settings of the hardening tests (unit and live-server): one admin token and small body caps to cross."""

from __future__ import annotations

from pathlib import Path

from nzc_knowledge.settings import Settings

TOKEN = "hardening-token"
UPLOAD_LIMIT = 50_000
REQUEST_LIMIT = 10_000


def settings_for(tmp_path: Path, **overrides) -> Settings:
    """Settings over `tmp_path` with the caps above and JSON logs; `overrides` replace any field."""
    values = dict(index_dir=tmp_path / "index", source_dir=tmp_path / "source", admin_token=TOKEN,
                  max_upload_bytes=UPLOAD_LIMIT, max_request_bytes=REQUEST_LIMIT, log_format="json")
    values.update(overrides)
    return Settings(_env_file=None, **values)
