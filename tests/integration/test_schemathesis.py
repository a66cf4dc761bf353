"""The OpenAPI contract holds: schemathesis `--checks all` over every route (admin ones with a token) finds nothing.

A real uvicorn server serves a throwaway copy of the test index and corpus (uploads, reindex jobs and rollbacks
change them). tests/contract/schemathesis.toml says which rules the schema cannot state and why; the budget is small
enough for CI (about two minutes on two cores). A larger run, as recorded in the report:

    NZC_CONTRACT_EXAMPLES=100 NZC_CONTRACT_SEED=7 .venv/bin/python -m pytest tests/integration/test_schemathesis.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

CONTRACT = Path(__file__).parents[1] / "contract"
CORPUS = Path(__file__).parents[1] / "data" / "corpus"
TOKEN = "contract-token"


@pytest.fixture
def throwaway_server(built_index, encoders, tmp_path):
    from nzc_knowledge.api.app import create_app
    from nzc_knowledge.bench.server import live_server
    from nzc_knowledge.settings import Settings

    index_dir, source_dir = tmp_path / "index", tmp_path / "source"
    shutil.copytree(built_index[0], index_dir)
    shutil.copytree(CORPUS, source_dir)
    settings = Settings(_env_file=None, index_dir=index_dir, source_dir=source_dir, admin_token=TOKEN,
                        multilingual_encoder="none", max_upload_bytes=200_000, log_format="text", log_level="WARNING")
    with live_server(create_app(settings, encoders=encoders)) as base_url:
        yield base_url, index_dir


def test_schemathesis_finds_no_contract_failure(throwaway_server, tmp_path):
    base_url, index_dir = throwaway_server
    examples = os.environ.get("NZC_CONTRACT_EXAMPLES", "8")
    seed = os.environ.get("NZC_CONTRACT_SEED", "1")
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONTRACT / "schemathesis.toml"),
        "run", f"{base_url}/openapi.json", "--checks", "all", "--header", f"Authorization: Bearer {TOKEN}",
        "--max-examples", examples, "--seed", seed, "--workers", "1", "--generation-database", "none",
        "--request-timeout", "30", "--no-color",
    ]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(CONTRACT), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=900)
    summary = re.search(r"(\d+) generated, .*", run.stdout)
    print(run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert summary and "failure" not in summary.group(0) and int(summary.group(1)) > 500, run.stdout[-2000:]
    operations = sum(len(methods) for methods in httpx.get(f"{base_url}/openapi.json").json()["paths"].values())
    assert f"{operations} selected / {operations} total" in run.stdout  # every route, admin ones included

    # Whatever it uploaded, rolled back or reindexed, the server still serves a loadable snapshot.
    health = httpx.get(f"{base_url}/health", timeout=30)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert (index_dir / "snapshots" / health.json()["snapshot_id"] / "manifest.json").exists()
