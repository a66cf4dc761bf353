"""One entry point to build a snapshot from a content folder, used by the CLI, the admin API and eval."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from nzc_knowledge.encoders import DEFAULT_MULTILINGUAL_ENCODER, Encoder, load_encoder
from nzc_knowledge.index.merge import DEFAULT_MERGE_AT, merge_segments
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.ingest.pipeline import IngestPipeline, IngestSettings, Progress, SnapshotExtension
from nzc_knowledge.models import IngestReport


def build_snapshot(
    source_dir: Path,
    index_dir: Path,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    keep_snapshots: int = 5,
    settings: IngestSettings | None = None,
    extensions: Mapping[str, SnapshotExtension] | None = None,
    full: bool = False,
    multilingual: str | Encoder | None = DEFAULT_MULTILINGUAL_ENCODER,
    merge_at: int | None = DEFAULT_MERGE_AT,
) -> IngestReport:
    """Ingest `source_dir` into a new snapshot under `index_dir` and make it current (incremental unless `full`).

    `extensions` (name -> function of the resources) add files to the snapshot, e.g. the city profiles the
    composition root passes in (`{"cities": city_profiles_extension(...)}`): ingest knows nothing of cities.
    Publishes nothing (report outcome "unchanged") when the content matches the current snapshot; `Conflict` when
    another build or a rollback holds the index. An incremental build adds a segment; once the published snapshot
    has more than `merge_at` segments (None: never), they are merged into one and published again, after the
    change is already searchable.
    """
    settings = settings or IngestSettings()
    settings.keep_snapshots = keep_snapshots
    multilingual_encoder = load_encoder(multilingual) if isinstance(multilingual, str) else multilingual
    pipeline = IngestPipeline(encoder or load_encoder(), settings, extensions=dict(extensions or {}),
                              multilingual_encoder=multilingual_encoder)
    store = SnapshotStore(Path(index_dir))
    with store.exclusive():  # from reading the current snapshot to publishing: no rollback in between
        report = pipeline.run(Path(source_dir), store, progress=progress, full=full)
        if merge_at is not None and report.outcome != "unchanged":
            merged = merge_segments(store, merge_at, keep_snapshots)
            if merged is not None:
                report.notes.append(f"segments merged into snapshot {merged} (more than {merge_at})")
                report.snapshot_id = merged
    return report
