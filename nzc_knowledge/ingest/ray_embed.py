"""Bulk embedding with Ray Data: passages flow through encoder actors (`map_batches`), vectors come back in order.

`RayEncoder` wraps an encoder for ingest: `encode_passages` becomes a Ray Data pipeline over a pool of actors, each
loading the model once, on a local Ray started in this process or on a cluster (`nzc ingest --ray ADDRESS`).
Everything else (queries, token counts for the chunker) stays with the local encoder, so the snapshot an ingest
writes is the same as the single-process one: same passages, same ids, vectors from the same model.

Two things keep the actors busy rather than starting: a pipeline's actors live as long as that one pipeline, so the
ingest hands a RayEncoder all its passages in a few large calls (`texts_per_call`), not in the 256-passage calls the
local encoder gets (each call would start and load a fresh pool), while small calls stay local; and each actor reserves as many CPUs as its encoder
runs threads (`threads` per actor, by default the CPUs divided among the actors), so actors x threads never
oversubscribes the cores.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from nzc_knowledge.encoders import DEFAULT_ENCODER, ENCODERS, Encoder, EncoderOptions, load_encoder

logger = logging.getLogger(__name__)

LOCAL = "local"  # `--ray` without an address: a Ray started in this process
# Smaller calls embed with the local encoder: a pool of actors (a process and a model load each) costs more than
# a few hundred passages, and the tagger asks for its label phrases in one small call per language.
LOCAL_BELOW = 512


class _EncoderActor:
    """One Ray actor: loads the encoder once (with `threads` compute threads), then embeds batch after batch."""

    def __init__(self, name: str, options: EncoderOptions | None, threads: int) -> None:
        self.encoder = _load(name, options, threads)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        texts = [str(text) for text in batch["text"]]
        vectors = self.encoder.encode_passages(texts, batch_size=len(texts) or 1)
        return {"row": batch["row"], "vector": np.asarray(vectors, dtype=np.float32)}


def _load(name: str, options: EncoderOptions | None, threads: int) -> Encoder:
    """The encoder `name`, its compute limited to `threads` threads (ONNX Runtime's or BLAS' pool)."""
    if name == DEFAULT_ENCODER:
        return load_encoder(name, replace(options or EncoderOptions(), threads=threads))
    return ENCODERS[name](threads=threads)


def actor_threads(actors: int) -> int:
    """Threads per encoder actor: the cluster's CPUs shared among `actors`, at most one node's CPUs."""
    import ray

    per_node = [float(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node.get("Alive")]
    total = sum(per_node) or float(os.cpu_count() or 1)
    return max(1, min(int(total) // max(1, actors), int(max(per_node, default=total))))


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

    # How many passages the ingest pipeline hands over per call: one pool of actors (and model loads) per call.
    texts_per_call = 65_536

    def __init__(self, local: Encoder, options: EncoderOptions | None = None, actors: int = 2,
                 batch_size: int = 64, address: str | None = LOCAL, threads: int | None = None,
                 local_below: int = LOCAL_BELOW) -> None:
        self.local = local
        self.info = local.info
        self.options = options
        self.actors = actors
        self.batch_size = batch_size
        self.address = address
        self.threads = threads  # per actor; None: actor_threads(actors) once Ray is up
        self.local_below = local_below

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        if len(texts) < self.local_below:  # e.g. the tagger's label phrases, once per language
            return self.local.encode_passages(texts, batch_size=batch_size, show_progress=show_progress)
        import ray

        start_ray(self.address)
        threads = self.threads or actor_threads(self.actors)
        dataset = ray.data.from_items([{"row": row, "text": text} for row, text in enumerate(texts)])
        embedded = dataset.map_batches(
            _EncoderActor, fn_constructor_kwargs={"name": self.info.name, "options": self.options, "threads": threads},
            batch_size=self.batch_size, compute=ray.data.ActorPoolStrategy(size=self.actors), num_cpus=threads,
            batch_format="numpy",
        )
        logger.info("embedding %d passages with %s on %d Ray actors x %d threads", len(texts), self.info.name,
                    self.actors, threads)
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
