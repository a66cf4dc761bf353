"""Merging a snapshot's segments into one, published as a new version.

Why: every incremental reindex adds a segment, and each search visits every segment (one FAISS search and one
postings lookup each) while deleted rows still take memory and disk. Past `merge_at` segments the live passages are
rewritten as one segment and published like any build (under the build lock, atomically); the version being
served keeps serving until the engine sees the new CURRENT, and older versions stay available for rollback until
retention prunes them. Nothing is re-embedded: vectors are decoded from the indexes (exact from flat ones, within
SQ8 rounding from quantized ones), BM25 postings are concatenated, texts are copied.
"""

from __future__ import annotations

import json
import logging

from nzc_knowledge.index.snapshot import MANIFEST, Snapshot
from nzc_knowledge.index.store import SnapshotStore

logger = logging.getLogger(__name__)

DEFAULT_MERGE_AT = 8  # segments a snapshot may have before they are merged (NZC_SEGMENT_MERGE_AT)


def segment_counts(store: SnapshotStore, snapshot_id: str) -> tuple[int, int]:
    """How many segments a snapshot lists and how many passages it marks deleted ((0, 0) when unreadable)."""
    try:
        manifest = json.loads((store.path(snapshot_id) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0, 0
    segments = manifest.get("segments")
    if not isinstance(segments, list):
        return 0, 0
    return len(segments), sum(int(entry.get("deleted", 0)) for entry in segments if isinstance(entry, dict))


def merge_segments(store: SnapshotStore, merge_at: int = DEFAULT_MERGE_AT, keep_snapshots: int = 5,
                   force: bool = False) -> str | None:
    """Publish the current snapshot as one segment when it has more than `merge_at` segments (or, with `force`,
    more than one or any deleted passage); return the new snapshot id, or None when there was nothing to merge.

    Holds the build lock throughout (`Conflict` when a build or rollback runs), like a build.
    """
    with store.exclusive():
        current = store.current_id()
        if current is None:
            return None
        count, deleted = segment_counts(store, current)
        worth = (count > 1 or deleted > 0) if force else count > max(merge_at, 1)
        if not worth:
            return None
        merged = Snapshot.load(store.path(current), mmap=True).merged()
        merged.manifest["merged_from"] = current
        fingerprint = str(merged.manifest.get("source_fingerprint") or "merged00")
        with store.build(fingerprint) as (snapshot_id, folder):
            merged.manifest["snapshot_id"] = snapshot_id
            merged.save(folder)
        store.prune(keep_snapshots)
    logger.info("merged the %d segments of snapshot %s into snapshot %s", count, current, snapshot_id)
    return snapshot_id
