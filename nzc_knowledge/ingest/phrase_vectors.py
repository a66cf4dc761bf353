"""Vectors of the tagger's label phrases, kept on disk per encoder so that every ingest does not re-encode them.

Why: the tagger compares passages with thousands of prototype phrases (1,000 English ones for MiniLM, up to 3,000
across languages for the multilingual encoder). Encoding them took about a third of an ingest's time beyond the
passages' own encoding, and they only change when the label knowledge or the encoder does. Like the ONNX export,
they are a derived artifact of the model, cached in the model cache folder (`NZC_MODEL_CACHE`).

A phrase's vector is stored as the encoder gave it the first time it was encoded (float32, bit for bit), so a warm
cache gives the tags a cold one gives. The file is keyed by the encoder's identity: its `EncoderInfo` (what a
snapshot records to decide whether to re-embed) and, for ONNX models, the exported file's name, which carries a
hash of the weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from nzc_knowledge.encoders import Encoder

logger = logging.getLogger(__name__)

FOLDER = "tagger-phrases"
FORMAT_VERSION = 1


def encoder_key(encoder: Encoder) -> str:
    """A file-name-safe identity of the encoder's vectors."""
    identity = dict(asdict(encoder.info), format=FORMAT_VERSION)
    onnx_file = getattr(getattr(encoder, "onnx", None), "file", None)
    if onnx_file is not None:
        identity["onnx"] = f"{Path(onnx_file).parent.name}/{Path(onnx_file).name}"
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    return f"{encoder.info.name.replace('/', '_')}-{digest}"


class PhraseVectors:
    """Phrase -> vector for one encoder, read from and added to a cache file (None: memory only).

    Example:
        vectors = PhraseVectors(encoder, Path("~/.cache/nzc-knowledge/models"))
        matrix = vectors.matrix(["district heating", "energy poverty"])  # (2, dim)
    """

    def __init__(self, encoder: Encoder, cache_dir: Path | None) -> None:
        self.encoder = encoder
        self.path = Path(cache_dir) / FOLDER / f"{encoder_key(encoder)}.npz" if cache_dir is not None else None
        self.known: dict[str, np.ndarray] = self._read()

    def matrix(self, phrases: Sequence[str]) -> np.ndarray:
        """(phrases x dim) vectors; phrases not known yet are encoded in one call (as before caching) and stored."""
        missing = list(dict.fromkeys(phrase for phrase in phrases if phrase not in self.known))
        if missing:
            self.known.update(zip(missing, self.encoder.encode_passages(missing, batch_size=128), strict=True))
            self._write()
        return np.stack([self.known[phrase] for phrase in phrases])

    def _read(self) -> dict[str, np.ndarray]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                phrases, vectors = data["phrases"].tolist(), data["vectors"]
            if vectors.shape != (len(phrases), self.encoder.info.dimension) or vectors.dtype != np.float32:
                raise ValueError(f"shape {vectors.shape} {vectors.dtype}")
        except (OSError, KeyError, ValueError) as error:  # a damaged cache is rebuilt, never trusted
            logger.warning("ignoring the phrase vector cache %s: %s", self.path.name, error)
            return {}
        return dict(zip(phrases, vectors, strict=True))

    def _write(self) -> None:
        if self.path is None:
            return
        phrases = list(self.known)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".phrases-", suffix=".npz", dir=self.path.parent)
            try:
                os.fchmod(handle, 0o644)  # readable like the exported models beside it (mkstemp leaves 0600)
                with os.fdopen(handle, "wb") as out:
                    np.savez(out, phrases=np.array(phrases, dtype=str),
                             vectors=np.stack([self.known[phrase] for phrase in phrases]).astype(np.float32))
                os.replace(temporary, self.path)  # concurrent ingests: whole files only, the last one wins
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:  # a read-only cache folder costs time, never the ingest
            logger.warning("could not write the phrase vector cache %s: %s", self.path, error)
