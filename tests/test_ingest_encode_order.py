"""Ingest encodes in length-sorted batches; the vectors still come back in chunk order, unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from nzc_knowledge.encoders import EncoderInfo
from nzc_knowledge.ingest.pipeline import encode_by_length


class RecordingEncoder:
    """A vector that depends on the text alone, and a log of the batches asked for."""

    info = EncoderInfo(name="recording", dimension=3, max_seq_length=512)

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def encode_passages(self, texts, batch_size=32, show_progress=False):
        self.batches.append(list(texts))
        return np.array([[len(text), ord(text[0]), sum(map(ord, text)) % 97] for text in texts], dtype=np.float32)


def no_progress(stage: str, done: int, total: int) -> None:
    pass


def test_vectors_come_back_in_input_order_and_batches_go_longest_first():
    texts = [("word " * length).strip() + f" {index}" for index, length in enumerate([3, 40, 1, 17, 40, 8, 25])]
    encoder = RecordingEncoder()
    vectors = encode_by_length(encoder, texts, batch_size=1, notify=no_progress, stage="embed")
    assert np.array_equal(vectors, RecordingEncoder().encode_passages(texts))  # row i is text i's vector
    sent = [text for batch in encoder.batches for text in batch]
    assert sorted(sent) == sorted(texts) and len(sent) == len(texts)  # each text encoded exactly once
    lengths = [len(text) for text in sent]
    assert lengths == sorted(lengths, reverse=True)
    assert sent.index(texts[1]) < sent.index(texts[4])  # equal lengths keep their order: deterministic


def test_no_text_no_call():
    encoder = RecordingEncoder()
    assert encode_by_length(encoder, [], 32, no_progress, "embed").shape == (0, 3)
    assert encoder.batches == []


@pytest.mark.integration
def test_minilm_vectors_are_the_same_sorted_or_not():
    from nzc_knowledge.encoders import EncoderOptions, MiniLMEncoder

    encoder = MiniLMEncoder(EncoderOptions(backend="torch"))
    texts = ["Heat pumps", "A district heating network fed by waste heat from a data centre " * 6, "Bike lanes in Ghent",
             "Citizens' assemblies on the climate plan of Lyon", "Trees"]
    sorted_vectors = encode_by_length(encoder, texts, batch_size=2, notify=no_progress, stage="embed")
    one_by_one = np.vstack([encoder.encode_passages([text]) for text in texts])
    assert np.allclose(sorted_vectors, one_by_one, atol=1e-5)
