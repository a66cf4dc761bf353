"""Shared fixtures: the real encoder and a real index of tests/data/corpus, built once per session."""

from __future__ import annotations

import gc
import importlib.abc
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"
UNIT = Path(__file__).parent / "unit"


class _NoTorchInUnitTests(importlib.abc.MetaPathFinder):
    """Makes `import torch` fail in a session of unit tests only.

    Unit tests load no model, so none needs torch; spaCy's thinc imports it whenever it is installed (about 3 s of
    the unit run's start) and goes without it when the import fails. A unit test that reaches a model fails here with
    this message instead of passing slowly.
    """

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"{name}: unit tests load no model (tests/conftest.py); put this test under "
                                      "tests/integration")
        return None


def pytest_configure(config: pytest.Config) -> None:
    """Blocks torch when every path this session collects lies in tests/unit (plain `pytest`)."""
    paths = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    if paths and "torch" not in sys.modules and all(path.is_relative_to(UNIT) for path in paths):
        sys.meta_path.insert(0, _NoTorchInUnitTests())


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keeps CPython's cyclic garbage collector off what the session holds for its whole length.

    The collected modules and the tables tests load (lemma tables, the city registry, GeoNames) are hundreds of
    thousands of long-lived containers; with the default thresholds the collector rescanned them in about twenty
    full collections, 7 of the unit run's 43 CPU seconds. Frozen objects are never scanned (nor freed, and
    nothing of a session's imports is), and fewer, larger young collections still free every cycle a test makes.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


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
