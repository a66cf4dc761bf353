"""Ingest with embedding as a Ray Data pipeline (a local Ray in this process) writes the single-process snapshot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import ray

from nzc_knowledge.index import Snapshot, SnapshotStore
from nzc_knowledge.ingest.build import build_snapshot
from nzc_knowledge.ingest.ray_embed import RayEncoder
from nzc_knowledge.recommend.profiles import snapshot_extensions

CORPUS = Path(__file__).parents[1] / "data" / "corpus"


def built(index: Path, encoder) -> Snapshot:
    build_snapshot(CORPUS, index, encoder=encoder, extensions=snapshot_extensions(CORPUS), multilingual=None)
    return Snapshot.load(SnapshotStore(index).current_path())


@pytest.fixture(scope="module")
def ray_local():
    yield
    ray.shutdown()


def test_ray_ingest_equals_the_single_process_snapshot(tmp_path, encoder, ray_local):
    single = built(tmp_path / "single", encoder)
    on_ray = built(tmp_path / "ray", RayEncoder(encoder, actors=1, batch_size=8, local_below=0))  # several batches, one actor
    assert len(single.chunks) > 8
    assert [chunk.id for chunk in on_ray.chunks] == [chunk.id for chunk in single.chunks]
    assert [resource.id for resource in on_ray.resources] == [resource.id for resource in single.resources]
    np.testing.assert_allclose(on_ray.dense.all_vectors(), single.dense.all_vectors(), atol=1e-5)


def test_the_vectors_come_back_in_row_order_from_several_actors(encoder, ray_local):
    texts = [f"passage {number}: {'heat pumps ' * (number % 7)}district heating in town {number}" for number in range(40)]
    vectors = RayEncoder(encoder, actors=2, batch_size=5, local_below=0).encode_passages(texts)
    np.testing.assert_allclose(vectors, encoder.encode_passages(texts), atol=1e-5)


def test_small_calls_embed_locally_without_ray(encoder):
    texts = ["district heating", "bike lanes"]
    # An address no Ray answers at: a call below `local_below` must never try to reach it.
    on_ray = RayEncoder(encoder, actors=2, address="127.0.0.1:1", local_below=512)
    np.testing.assert_allclose(on_ray.encode_passages(texts), encoder.encode_passages(texts), atol=1e-6)


def test_actors_share_the_cpus_without_oversubscribing(ray_local):
    from nzc_knowledge.ingest.ray_embed import actor_threads, start_ray

    start_ray(None)
    cpus = int(ray.cluster_resources()["CPU"])
    assert actor_threads(1) == cpus
    for actors in range(1, cpus + 3):
        assert 1 <= actor_threads(actors) and (actor_threads(actors) * actors <= cpus or actor_threads(actors) == 1)
