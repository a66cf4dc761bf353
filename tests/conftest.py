"""Shared fixtures: the real encoder and a real index of tests/data/corpus, built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"


@pytest.fixture(scope="session")
def encoders():
    """One `Encoders` for the whole session: each model loads once, whichever test asks first."""
    from nzc_knowledge.encoders import Encoders

    return Encoders()


@pytest.fixture(scope="session")
def encoder(encoders):
    """The default dense encoder (MiniLM)."""
    return encoders.get()


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, encoder):
    """(index_dir, report) of the fixture corpus, built with the production pipeline and the real model."""
    from nzc_knowledge.ingest.build import build_snapshot
    from nzc_knowledge.recommend.profiles import snapshot_extensions

    index_dir = tmp_path_factory.mktemp("index")
    report = build_snapshot(CORPUS, index_dir, encoder=encoder, extensions=snapshot_extensions(CORPUS))
    return index_dir, report


@pytest.fixture(scope="session")
def snapshot(built_index):
    from nzc_knowledge.index import Snapshot, SnapshotStore

    return Snapshot.load(SnapshotStore(built_index[0]).current_path())


@pytest.fixture(scope="session")
def search_service(snapshot, encoders):
    from nzc_knowledge.search.service import open_search_service

    return open_search_service(snapshot, encoders)


@pytest.fixture(scope="session")
def app_settings(built_index):
    from nzc_knowledge.settings import Settings

    return Settings(index_dir=built_index[0], source_dir=CORPUS, admin_token="test-token", max_limit=50,
                    cors_origins="https://portal.example.org")


@pytest.fixture(scope="session")
def client(app_settings, encoders):
    from fastapi.testclient import TestClient

    from nzc_knowledge.api.app import create_app

    with TestClient(create_app(app_settings, encoders=encoders)) as test_client:
        yield test_client
