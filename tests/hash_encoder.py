"""A deterministic bag-of-words encoder for unit tests that build or search snapshots without loading a model."""

from __future__ import annotations

import zlib

import numpy as np

from nzc_knowledge.encoders import EncoderInfo

DIMENSION = 32


class HashEncoder:
    """Texts sharing words get close vectors: each word adds to one of `DIMENSION` hashed axes."""

    def __init__(self, max_seq_length: int = 512) -> None:
        self.info = EncoderInfo(name="hash-encoder", dimension=DIMENSION, max_seq_length=max_seq_length)

    def _encode(self, texts):
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, zlib.crc32(word.encode()) % DIMENSION] += 1.0
        vectors += 1e-3
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def encode_queries(self, texts):
        return self._encode(texts)

    def encode_passages(self, texts, batch_size=32, show_progress=False):
        return self._encode(texts)

    def count_tokens(self, texts):
        return [len(text.split()) for text in texts]
