"""The persisted index snapshot (FAISS + BM25 + metadata) and the store of versioned snapshots."""

from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.index.store import SnapshotStore

__all__ = ["Snapshot", "SnapshotStore"]
