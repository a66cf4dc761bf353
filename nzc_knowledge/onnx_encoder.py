"""A sentence-transformers model folder run on ONNX Runtime: exported once from the local weights into a cache
folder (never into site-packages, never from a hub), optionally int8-quantized, then reused by every later load.

Why our own export and not `SentenceTransformer(..., backend="onnx")`: that path needs `optimum`, whose releases
pin an older `transformers` than the one this project runs; `torch.onnx.export` plus ONNX Runtime's own dynamic
quantizer need nothing beyond `onnx` and `onnxruntime`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when the export or quantization recipe changes (a new cache entry is made)
ONNX_OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# Dynamic int8 on the MatMul weights only, one scale per output channel, 7-bit range: on CPUs without VNNI the
# u8*s8 products can saturate at full range. Measured on MiniLM: cosine to torch >= 0.989 on real sentences,
# where the per-tensor default (embeddings included) falls to 0.95.
QUANTIZATION = {"op_types_to_quantize": ["MatMul"], "per_channel": True, "reduce_range": True}


def _fingerprint(model_dir: Path, quantized: bool) -> str:
    """Identity of the weights and of the recipe; the cache entry's name, so new weights never load stale files."""
    # The installed versions as their packages record them (equal to `torch.__version__`, `onnxruntime.__version__`):
    # importing torch to read its version took seconds of every server start that only loads the exported file.
    digest = hashlib.sha256(f"{EXPORT_VERSION}\0{ONNX_OPSET}\0{quantized}\0{importlib.metadata.version('torch')}\0"
                            f"{importlib.metadata.version('onnxruntime')}\0{json.dumps(QUANTIZATION, sort_keys=True)}"
                            .encode())
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        path = model_dir / name
        if path.exists():
            stat = path.stat()
            digest.update(f"{name}\0{stat.st_size}\0".encode())
            with path.open("rb") as handle:  # size plus the head: cheap, and enough to tell two releases apart
                digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:16]


def cached_onnx_file(model_dir: Path, cache_dir: Path, quantized: bool) -> Path:
    """The ONNX file of `model_dir` (int8 when `quantized`), exporting it into `cache_dir` the first time."""
    target = Path(cache_dir) / f"{model_dir.name}-{_fingerprint(model_dir, quantized)}" / (
        "model-int8.onnx" if quantized else "model.onnx")
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.warning("exporting %s to ONNX%s into %s (once; later loads reuse it)",
                   model_dir.name, " int8" if quantized else "", target.parent)
    source = cached_onnx_file(model_dir, cache_dir, quantized=False) if quantized else None
    # Written beside the target, then renamed: a concurrent loader never reads a half-written file.
    handle, partial = tempfile.mkstemp(suffix=".onnx.partial", dir=target.parent)
    os.close(handle)
    try:
        if source is None:
            _export(model_dir, Path(partial))
        else:
            quantize(source, Path(partial))
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return target


def quantize(source: Path, destination: Path) -> None:
    """Dynamic int8 weights (`QUANTIZATION`) of the ONNX file `source`, written to `destination`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_quantizer():
        quantize_dynamic(source, destination, weight_type=QuantType.QInt8, **QUANTIZATION)


class _FromPackage(logging.Filter):
    """Passes a record unless it comes from a file under `folder` below `level`."""

    def __init__(self, folder: str, level: int) -> None:
        super().__init__()
        self.folder, self.level = folder, level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or not record.pathname.startswith(self.folder)


def quantizer_folder() -> str:
    """Where ONNX Runtime's quantizer's source files are (found without importing it)."""
    return str(Path(importlib.util.find_spec("onnxruntime").origin).parent / "quantization")


@contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """Drops the quantizer's info and warning lines for the duration of one export, errors still pass.

    ONNX Runtime's quantizer logs through the root logger itself (`logging.info(...)`: a line per tensor, and a
    warning to run its pre-processing, which this recipe does not need), so its records cannot be told apart by logger
    name: the filter on the root logger drops them by source file, and only while the export runs. Where the root
    logger has no handler yet, a temporary one stops `logging.info` from installing `basicConfig`'s for good.
    """
    root = logging.getLogger()
    quiet = _FromPackage(quantizer_folder(), logging.ERROR)
    placeholder = logging.NullHandler() if not root.handlers else None
    root.addFilter(quiet)
    if placeholder:
        root.addHandler(placeholder)
    try:
        yield
    finally:
        root.removeFilter(quiet)
        if placeholder:
            root.removeHandler(placeholder)


def _export(model_dir: Path, destination: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class LastHiddenState(torch.nn.Module):
        """Keyword arguments only: transformers' positional order of `forward` is not stable across releases."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    sample = AutoTokenizer.from_pretrained(str(model_dir))(["a short one", "a somewhat longer sample sentence"],
                                                          padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUT_NAMES, "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(LastHiddenState(model), tuple(sample[name] for name in INPUT_NAMES), str(destination),
                          input_names=list(INPUT_NAMES), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=ONNX_OPSET, dynamo=False)


class OnnxSentenceModel:
    """Mean-pooled, unit-length sentence vectors of a BERT-style model folder, on ONNX Runtime (CPU).

    Example:
        model = OnnxSentenceModel(model_dir, Path(".nzc-cache"), quantized=True)
        vectors = model.encode(["District heating in Milan"])  # shape (1, 384)
    """

    def __init__(self, model_dir: Path, cache_dir: Path, quantized: bool, max_seq_length: int = 256,
                 threads: int | None = None) -> None:
        import onnxruntime

        self.file = cached_onnx_file(Path(model_dir), Path(cache_dir), quantized)
        self.model_dir = Path(model_dir)
        self.max_seq_length = max_seq_length
        self._tokenizer = None
        self._fast = _fast_tokenizer(self.model_dir, max_seq_length)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if threads:  # ONNX Runtime's own intra-op pool ignores OMP_NUM_THREADS; default: one thread per core
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(self.file), options, providers=["CPUExecutionProvider"])
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors in input order; batches are formed by length so short texts are not padded to long ones."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda row: -len(texts[row]))
        for start in range(0, len(order), max(1, batch_size)):
            rows = order[start : start + batch_size]
            vectors[rows] = self._encode_batch([texts[row] for row in rows])
        return vectors

    @property
    def tokenizer(self):
        """transformers' tokenizer of the model (token counts for chunking), loaded on first use."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
        return self._tokenizer

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if self._fast is not None:
            encodings = self._fast.encode_batch(texts)
            feeds = {"input_ids": np.array([encoding.ids for encoding in encodings], dtype=np.int64),
                     "attention_mask": np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64),
                     "token_type_ids": np.array([encoding.type_ids for encoding in encodings], dtype=np.int64)}
        else:
            encoded = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_seq_length,
                                     return_tensors="np")
            feeds = {name: np.asarray(encoded[name], dtype=np.int64) for name in INPUT_NAMES}
        hidden = self.session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _fast_tokenizer(model_dir: Path, max_seq_length: int):
    """The model's `tokenizer.json` run by the `tokenizers` library itself (what transformers' fast tokenizer wraps),
    padding to the longest text and truncating at `max_seq_length` as `_encode_batch` asks; None without the file.

    Why: importing transformers (and the torch it pulls in) was most of a server's start; the ids are the same.
    """
    path = model_dir / "tokenizer.json"
    if not path.exists():
        return None
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_seq_length)
    pad_token = json.loads((model_dir / "special_tokens_map.json").read_text()).get("pad_token", "[PAD]") \
        if (model_dir / "special_tokens_map.json").exists() else "[PAD]"
    pad_token = pad_token.get("content", "[PAD]") if isinstance(pad_token, dict) else pad_token
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        return None
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
    return tokenizer
