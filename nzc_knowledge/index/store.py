"""Versioned snapshots in an index folder, with an atomic CURRENT pointer, rollback and retention.

Layout:
    index_dir/CURRENT              the id of the serving snapshot (replaced atomically)
    index_dir/snapshots/<id>/      complete snapshots (each has manifest.json)
    index_dir/.building-<id>/      a build in progress; left-overs of a killed build are removed later

Why: a curator's reindex must never leave the portal without an index. A build is written beside the
live snapshot and only becomes current by an atomic rename of the pointer file, so a crash at any
moment leaves either the old or the new snapshot current, never a half-written one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nzc_knowledge.errors import Conflict, NoSnapshot, NotFound
from nzc_knowledge.index.snapshot import MANIFEST

CURRENT = "CURRENT"
SNAPSHOTS = "snapshots"
BUILDING_PREFIX = ".building-"
LOCK_FILE = ".build.lock"


class SnapshotStore:
    """The snapshots of one index folder.

    Example:
        store = SnapshotStore(Path("indexes"))
        with store.build(fingerprint) as (snapshot_id, folder):
            snapshot.save(folder)
        store.current_id()  # the new snapshot, now serving
    """

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)

    @property
    def snapshots_dir(self) -> Path:
        return self.index_dir / SNAPSHOTS

    def path(self, snapshot_id: str) -> Path:
        return self.snapshots_dir / snapshot_id

    def current_id(self) -> str | None:
        pointer = self.index_dir / CURRENT
        if not pointer.exists():
            return None
        snapshot_id = pointer.read_text(encoding="utf-8").strip()
        return snapshot_id if (self.path(snapshot_id) / MANIFEST).exists() else None

    def current_path(self) -> Path:
        snapshot_id = self.current_id()
        if snapshot_id is None:
            raise NoSnapshot(f"no index snapshot in {self.index_dir}: build one with `nzc ingest SOURCE_DIR --index-dir {self.index_dir}`")
        return self.path(snapshot_id)

    def list(self) -> list[dict[str, Any]]:
        """Complete snapshots, newest first, each with its manifest summary and whether it is current."""
        if not self.snapshots_dir.exists():
            return []
        current = self.current_id()
        rows = []
        for folder in self.snapshots_dir.iterdir():
            manifest_path = folder / MANIFEST
            if not manifest_path.exists():
                continue
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            rows.append({
                "snapshot_id": folder.name,
                "created_at": manifest.get("created_at"),
                "resources": manifest.get("counts", {}).get("resources"),
                "chunks": manifest.get("counts", {}).get("chunks"),
                "current": folder.name == current,
            })
        return sorted(rows, key=lambda row: (row["created_at"] or "", row["snapshot_id"]), reverse=True)

    def new_id(self, fingerprint: str) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return f"{stamp}-{fingerprint[:8]}"

    @contextmanager
    def build(self, fingerprint: str) -> Iterator[tuple[str, Path]]:
        """A temporary folder to write a snapshot into; on success it is renamed in and made current.

        An exclusive lock on the index folder keeps two builders (a CLI ingest and a server's reindex job) from
        interleaving; the kernel releases it even when a builder is killed with SIGKILL.
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self._build_lock():
            yield from self._build(fingerprint)

    @contextmanager
    def _build_lock(self) -> Iterator[None]:
        with open(self.index_dir / LOCK_FILE, "a+") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict(f"another build is writing to {self.index_dir}; try again when it has finished") from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _build(self, fingerprint: str) -> Iterator[tuple[str, Path]]:
        self.remove_unfinished()
        snapshot_id = self.new_id(fingerprint)
        folder = self.index_dir / f"{BUILDING_PREFIX}{snapshot_id}"
        folder.mkdir()
        try:
            yield snapshot_id, folder
            if not (folder / MANIFEST).exists():
                raise RuntimeError("the snapshot build finished without writing its manifest")
            self.snapshots_dir.mkdir(exist_ok=True)
            os.rename(folder, self.path(snapshot_id))
            self.set_current(snapshot_id)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def set_current(self, snapshot_id: str) -> None:
        if not (self.path(snapshot_id) / MANIFEST).exists():
            raise NotFound(f"no complete snapshot {snapshot_id!r} in {self.index_dir}")
        handle, temporary = tempfile.mkstemp(prefix=".CURRENT-", dir=self.index_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as pointer:
            pointer.write(snapshot_id + "\n")
            pointer.flush()
            os.fsync(pointer.fileno())
        os.replace(temporary, self.index_dir / CURRENT)

    def rollback(self, snapshot_id: str | None = None) -> str:
        """Make `snapshot_id` (default: the newest one older than the current) current; return its id."""
        rows = self.list()
        if snapshot_id is None:
            current = self.current_id()
            ids = [row["snapshot_id"] for row in rows]
            older = ids[ids.index(current) + 1 :] if current in ids else ids
            if not older:
                raise NotFound("no older snapshot to roll back to")
            snapshot_id = older[0]
        self.set_current(snapshot_id)
        return snapshot_id

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest `keep` snapshots, never the current one; return the deleted ids."""
        current = self.current_id()
        deleted = []
        for row in self.list()[keep:]:
            if row["snapshot_id"] != current:
                shutil.rmtree(self.path(row["snapshot_id"]), ignore_errors=True)
                deleted.append(row["snapshot_id"])
        return deleted

    def remove_unfinished(self) -> None:
        """Remove folders of builds that were killed before they completed."""
        if self.index_dir.exists():
            for folder in self.index_dir.glob(f"{BUILDING_PREFIX}*"):
                shutil.rmtree(folder, ignore_errors=True)
