"""The tagger's phrase vectors are cached per encoder: a warm cache gives the same vectors without encoding again."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nzc_knowledge.encoders import EncoderInfo
from nzc_knowledge.ingest.phrase_vectors import PhraseVectors, encoder_key


class CountingEncoder:
    """Deterministic pseudo-vectors from the text; counts the phrases it is asked to encode."""

    def __init__(self, name: str = "fake-encoder", dimension: int = 8) -> None:
        self.info = EncoderInfo(name=name, dimension=dimension, max_seq_length=64, backend="numpy")
        self.encoded: list[str] = []

    def encode_passages(self, texts, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        self.encoded += list(texts)
        rows = [np.random.default_rng(sum(map(ord, text))).standard_normal(self.info.dimension) for text in texts]
        return np.asarray(rows, dtype=np.float32)


def test_a_warm_cache_gives_the_same_vectors_without_encoding(tmp_path: Path):
    cold_encoder = CountingEncoder()
    cold = PhraseVectors(cold_encoder, tmp_path).matrix(["district heating", "energy poverty", "district heating"])
    assert cold_encoder.encoded == ["district heating", "energy poverty"]  # each phrase once
    warm_encoder = CountingEncoder()
    warm = PhraseVectors(warm_encoder, tmp_path)
    assert np.array_equal(warm.matrix(["district heating", "energy poverty", "district heating"]), cold)
    assert warm_encoder.encoded == []
    warm.matrix(["energy poverty", "bike lanes"])
    assert warm_encoder.encoded == ["bike lanes"]  # only the new phrase, and it is kept for the next run
    assert set(PhraseVectors(CountingEncoder(), tmp_path).known) == {"district heating", "energy poverty", "bike lanes"}


def test_another_encoder_never_reads_the_cache_of_the_first(tmp_path: Path):
    PhraseVectors(CountingEncoder("first"), tmp_path).matrix(["district heating"])
    other = CountingEncoder("second")
    assert encoder_key(other) != encoder_key(CountingEncoder("first"))
    PhraseVectors(other, tmp_path).matrix(["district heating"])
    assert other.encoded == ["district heating"]


def test_a_damaged_cache_file_is_ignored_and_rewritten(tmp_path: Path):
    encoder = CountingEncoder()
    vectors = PhraseVectors(encoder, tmp_path)
    vectors.path.parent.mkdir(parents=True)
    vectors.path.write_bytes(b"not an npz file")
    fresh = PhraseVectors(encoder, tmp_path)
    assert fresh.known == {}
    fresh.matrix(["district heating"])
    assert list(PhraseVectors(CountingEncoder(), tmp_path).known) == ["district heating"]


def test_without_a_cache_folder_nothing_is_written(tmp_path: Path):
    encoder = CountingEncoder()
    vectors = PhraseVectors(encoder, None)
    vectors.matrix(["district heating"])
    vectors.matrix(["district heating"])
    assert encoder.encoded == ["district heating"]  # still encoded once per tagger
    assert not list(tmp_path.iterdir())
