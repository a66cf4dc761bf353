"""Bulk embedding with Ray Data: passages flow through encoder actors (`map_batches`), vectors come back in order.

`RayEncoder` wraps an encoder for ingest: `encode_passages` becomes a Ray Data pipeline over a pool of actors, each
loading the model once, on a local Ray started in this process or on a cluster (`nzc ingest --ray ADDRESS`).
Everything else (queries, token counts for the chunker) stays with the local encoder, so the snapshot an ingest
writes is the same as the single-process one: same passages, same ids, vectors from the same model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from nzc_knowledge.encoders import Encoder, EncoderOptions, load_encoder

logger = logging.getLogger(__name__)

LOCAL = "local"  # `--ray` without an address: a Ray started in this process


class _EncoderActor:
    """One Ray actor: loads the encoder once, then embeds batch after batch."""

    def __init__(self, name: str, options: EncoderOptions | None) -> None:
        self.encoder = load_encoder(name, options)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        texts = [str(text) for text in batch["text"]]
        vectors = self.encoder.encode_passages(texts, batch_size=len(texts) or 1)
        return {"row": batch["row"], "vector": np.asarray(vectors, dtype=np.float32)}


def start_ray(address: str | None) -> None:
    """Connect to the Ray cluster at `address`, or start a local one in this process ('local' or None)."""
    import ray  # imported here: only `nzc ingest --ray` pays for it

    if ray.is_initialized():
        return
    if address in (None, LOCAL):
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    else:
        ray.init(address=address, log_to_driver=False)
    # Rows must come back in the order they went in: a passage's vector belongs to its row.
    ray.data.DataContext.get_current().execution_options.preserve_order = True


class RayEncoder:
    """An encoder whose passage embedding runs as a Ray Data pipeline of encoder actors.

    Example:
        encoder = RayEncoder(load_encoder(), actors=2)
        vectors = encoder.encode_passages(texts)     # Ray Data: from_items -> map_batches(_EncoderActor) -> vectors
    """

    def __init__(self, local: Encoder, options: EncoderOptions | None = None, actors: int = 2,
                 batch_size: int = 64, address: str | None = LOCAL) -> None:
        self.local = local
        self.info = local.info
        self.options = options
        self.actors = actors
        self.batch_size = batch_size
        self.address = address

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        import ray

        start_ray(self.address)
        dataset = ray.data.from_items([{"row": row, "text": text} for row, text in enumerate(texts)])
        embedded = dataset.map_batches(
            _EncoderActor, fn_constructor_kwargs={"name": self.info.name, "options": self.options},
            batch_size=self.batch_size, concurrency=self.actors, batch_format="numpy",
        )
        rows: list[np.ndarray] = []
        vectors: list[np.ndarray] = []
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            rows.append(np.asarray(batch["row"]))
            vectors.append(np.asarray(batch["vector"], dtype=np.float32))
        order = np.concatenate(rows)
        stacked = np.concatenate(vectors)
        result = np.zeros_like(stacked)
        result[order] = stacked  # placed by row, whatever order the batches arrived in
        return result

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.local.encode_queries(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.local.count_tokens(texts)

    def __getattr__(self, name: str) -> Any:
        # Anything else an encoder offers (e.g. a tagger's helpers) is the local encoder's.
        if name == "local":
            raise AttributeError(name)
        return getattr(self.local, name)
