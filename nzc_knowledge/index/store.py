"""Versioned snapshots in an index folder, with an atomic CURRENT pointer, rollback and retention.

Layout:
    index_dir/CURRENT              the id of the serving snapshot (replaced atomically)
    index_dir/snapshots/<id>/      complete snapshots (each has manifest.json)
    index_dir/.building-<id>/      a build in progress; left-overs of a killed build are removed later
    index_dir/.build.lock          held (flock) by whoever builds or rolls back
    index_dir/leases/              versions running servers hold; prune keeps them (see leases.py)

Why: a curator's reindex must never leave the portal without an index. A build is written beside the
live snapshot and only becomes current by an atomic rename of the pointer file, so a crash at any
moment leaves either the old or the new snapshot current, never a half-written one. Files and folders
are fsynced before each rename, so a power cut cannot leave CURRENT naming a snapshot whose data never
reached the disk.

Builds and rollbacks exclude each other: a builder holds the lock from the moment it reads the current
snapshot (to reuse unchanged files) until it has published, and a rollback while the lock is held is
refused with `Conflict`. So a build never publishes over a rollback it did not see.

Error messages here never name the index folder: they reach HTTP clients; the CLI adds the folder itself.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nzc_knowledge.errors import BrokenSnapshot, Conflict, NoSnapshot, NotFound, UnreadablePointer
from nzc_knowledge.index.leases import leased_versions
from nzc_knowledge.index.snapshot import MANIFEST

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"
SNAPSHOTS = "snapshots"
BUILDING_PREFIX = ".building-"
LOCK_FILE = ".build.lock"
POINTER_MODE = 0o644  # readable like every other index file (mkstemp would leave 0600)
# What a snapshot id may look like: a plain folder name, never a path (no slash, no leading dot).
SNAPSHOT_ID_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$"
_SNAPSHOT_ID = re.compile(SNAPSHOT_ID_PATTERN)
_ID_STAMP = re.compile(r"^(\d{8}T\d{6})(\d{6})?Z-")


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
        self._lock_depth = 0  # >0 while this instance holds the build lock (builds nest inside `exclusive`)

    @property
    def snapshots_dir(self) -> Path:
        return self.index_dir / SNAPSHOTS

    def path(self, snapshot_id: str) -> Path:
        return self.snapshots_dir / snapshot_id

    # -- the pointer ---------------------------------------------------------------------------------------

    def read_pointer(self) -> str | None:
        """The id CURRENT names, or None when there is no CURRENT; `UnreadablePointer` when it is unusable."""
        pointer = self.index_dir / CURRENT
        try:
            text = pointer.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise UnreadablePointer(f"the CURRENT pointer cannot be read ({_describe(error)})") from None
        snapshot_id = text.strip()
        if not _SNAPSHOT_ID.match(snapshot_id):
            raise UnreadablePointer(f"the CURRENT pointer does not hold a snapshot id ({snapshot_id[:40]!r})")
        if not (self.path(snapshot_id) / MANIFEST).is_file():
            raise UnreadablePointer(f"the CURRENT pointer names snapshot {snapshot_id!r}, which is not in the store")
        return snapshot_id

    def current_id(self) -> str | None:
        """The serving snapshot's id; None when there is none or CURRENT is unusable (logged, never raised)."""
        try:
            return self.read_pointer()
        except UnreadablePointer as error:
            logger.warning("%s in %s", error.message, self.index_dir)
            return None

    def current_path(self) -> Path:
        snapshot_id = self.current_id()
        if snapshot_id is None:
            raise NoSnapshot(f"no index snapshot in {self.index_dir}: build one with `nzc ingest SOURCE_DIR --index-dir {self.index_dir}`")
        return self.path(snapshot_id)

    # -- listing and checking -------------------------------------------------------------------------------

    def ids(self) -> list[str]:
        """Names of the folders under snapshots/ (complete or damaged), unsorted."""
        try:
            entries = list(self.snapshots_dir.iterdir())
        except FileNotFoundError:
            return []
        return [entry.name for entry in entries if _SNAPSHOT_ID.match(entry.name) and entry.is_dir()]

    def list(self) -> list[dict[str, Any]]:
        """Snapshots, newest first, each with its manifest summary, whether it is current and any `problem`.

        A damaged snapshot (unreadable manifest, missing file) is listed with its problem instead of breaking
        the listing, pruning or rollback.
        """
        current = self.current_id()
        rows = []
        for snapshot_id in self.ids():
            manifest, problem = self._read_manifest(snapshot_id)
            if manifest is None and problem is None:
                continue  # no manifest at all: not a snapshot (e.g. a folder someone copied in by hand)
            if problem is None:
                problem = self._files_problem(snapshot_id, manifest)
            if problem is not None:
                logger.warning("snapshot %s is damaged: %s", snapshot_id, problem)
            manifest = manifest or {}
            counts = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
            segments = manifest.get("segments") if isinstance(manifest.get("segments"), list) else []
            rows.append({
                "snapshot_id": snapshot_id,
                "created_at": manifest.get("created_at"),
                "resources": counts.get("resources"),
                "chunks": counts.get("chunks"),
                "current": snapshot_id == current,
                "problem": problem,
                "segments": len(segments),
                "deleted": sum(int(entry.get("deleted", 0)) for entry in segments if isinstance(entry, dict)),
            })
        return sorted(rows, key=_age_key, reverse=True)

    def verify(self, snapshot_id: str) -> None:
        """Raise `NotFound` for an id this store does not hold, `BrokenSnapshot` for a damaged snapshot.

        Checks that the manifest parses and that every file it lists is there, with its recorded size, and
        readable; the server additionally loads the snapshot before switching to it.
        """
        if snapshot_id not in self.ids():
            raise NotFound(f"no complete snapshot {snapshot_id!r}; list them with GET /admin/snapshots or `nzc snapshots list`")
        manifest, problem = self._read_manifest(snapshot_id)
        if manifest is None and problem is None:
            problem = f"it has no {MANIFEST}"
        problem = problem or self._files_problem(snapshot_id, manifest or {}, read=True)
        if problem:
            raise BrokenSnapshot(f"snapshot {snapshot_id} cannot be served: {problem}; choose another one")

    def _read_manifest(self, snapshot_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """(manifest, None), (None, problem), or (None, None) when the folder has no manifest at all."""
        path = self.path(snapshot_id) / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None, None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            return None, f"{MANIFEST} is unreadable ({_describe(error)})"
        if not isinstance(manifest, dict):
            return None, f"{MANIFEST} is not a JSON object"
        return manifest, None

    def _files_problem(self, snapshot_id: str, manifest: dict[str, Any], read: bool = False) -> str | None:
        """The first file the manifest lists that is missing, has another size or (with `read`) cannot be read."""
        files = manifest.get("files", {})
        if not isinstance(files, dict):
            return f"{MANIFEST} has a malformed file list"
        folder = self.path(snapshot_id)
        for name, size in files.items():
            path = folder / name
            if ".." in Path(name).parts or Path(name).is_absolute():
                return f"{MANIFEST} lists a file outside the snapshot ({name!r})"
            try:
                actual = path.stat().st_size
                if read:
                    with path.open("rb") as handle:
                        handle.read(1)
            except OSError as error:
                return f"{name} is missing or unreadable ({_describe(error)})"
            if actual != size:
                return f"{name} has {actual} bytes, the manifest recorded {size}"
        return None

    # -- building ------------------------------------------------------------------------------------------

    def new_id(self, fingerprint: str) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return f"{stamp}-{fingerprint[:8]}"

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the build lock for a whole build (read the current snapshot ... publish) or a rollback.

        `Conflict` at once when another builder holds it; the kernel releases it even when a builder is killed
        with SIGKILL. Re-entrant for this instance, so `build` inside `exclusive` does not lock itself out.
        """
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / LOCK_FILE, "a+") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict("a build is running on this index; try again when it has finished") from None
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @contextmanager
    def build(self, fingerprint: str) -> Iterator[tuple[str, Path]]:
        """A temporary folder to write a snapshot into; on success it is fsynced, renamed in and made current."""
        with self.exclusive():
            yield from self._build(fingerprint)

    def _build(self, fingerprint: str) -> Iterator[tuple[str, Path]]:
        self.remove_unfinished()
        snapshot_id = self.new_id(fingerprint)
        folder = self.index_dir / f"{BUILDING_PREFIX}{snapshot_id}"
        folder.mkdir()
        try:
            yield snapshot_id, folder
            if not (folder / MANIFEST).exists():
                raise RuntimeError("the snapshot build finished without writing its manifest")
            _fsync_tree(folder)
            self.snapshots_dir.mkdir(exist_ok=True)
            os.rename(folder, self.path(snapshot_id))
            _fsync_dir(self.snapshots_dir)
            self._point_to(snapshot_id)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # -- switching -----------------------------------------------------------------------------------------

    def set_current(self, snapshot_id: str) -> None:
        """Make a complete, readable snapshot current; `NotFound` / `BrokenSnapshot` leave CURRENT as it was."""
        self.verify(snapshot_id)
        self._point_to(snapshot_id)

    def _point_to(self, snapshot_id: str) -> None:
        handle, temporary = tempfile.mkstemp(prefix=".CURRENT-", dir=self.index_dir)
        try:
            os.fchmod(handle, POINTER_MODE)
            with os.fdopen(handle, "w", encoding="utf-8") as pointer:
                pointer.write(snapshot_id + "\n")
                pointer.flush()
                os.fsync(pointer.fileno())
            os.replace(temporary, self.index_dir / CURRENT)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_dir(self.index_dir)

    def rollback(self, snapshot_id: str | None = None, before_switch: Callable[[str], None] | None = None) -> str:
        """Make `snapshot_id` (default: the newest sound one older than the current) current; return its id.

        Takes the build lock (`Conflict` while a build runs), refuses unknown ids (`NotFound`) and damaged
        snapshots (`BrokenSnapshot`). `before_switch(id)` runs under the lock before CURRENT changes, e.g. the
        server loading the snapshot; if it raises, CURRENT is left alone.
        """
        with self.exclusive():
            if snapshot_id is None:
                snapshot_id = self._previous_sound()
            self.verify(snapshot_id)
            if before_switch is not None:
                before_switch(snapshot_id)
            self._point_to(snapshot_id)
        return snapshot_id

    def _previous_sound(self) -> str:
        rows = self.list()
        ids = [row["snapshot_id"] for row in rows]
        current = self.current_id()
        older = rows[ids.index(current) + 1 :] if current in ids else rows
        sound = [row["snapshot_id"] for row in older if row["problem"] is None]
        if not sound:
            raise NotFound("no older snapshot to roll back to")
        return sound[0]

    # -- retention -----------------------------------------------------------------------------------------

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest `keep` snapshots (damaged ones included), never the current one nor one that a
        running server still holds (a serving lease, see `leases.py`): its requests would lose their files."""
        current = self.current_id()
        leased = leased_versions(self.index_dir)
        deleted = []
        for row in self.list()[keep:]:
            if row["snapshot_id"] in leased:
                logger.info("kept snapshot %s beyond retention: a server still serves it", row["snapshot_id"])
            elif row["snapshot_id"] != current:
                shutil.rmtree(self.path(row["snapshot_id"]), ignore_errors=True)
                deleted.append(row["snapshot_id"])
        return deleted

    def remove_unfinished(self) -> None:
        """Remove folders of builds that were killed before they completed."""
        if self.index_dir.exists():
            for folder in self.index_dir.glob(f"{BUILDING_PREFIX}*"):
                shutil.rmtree(folder, ignore_errors=True)


def _age_key(row: dict[str, Any]) -> tuple[str, str]:
    """Order by the build time in the id (also known when the manifest is damaged), else by created_at."""
    stamp = _ID_STAMP.match(row["snapshot_id"])
    if stamp:
        return (stamp.group(1) + (stamp.group(2) or "000000"), row["snapshot_id"])
    return (str(row["created_at"] or ""), row["snapshot_id"])


def _describe(error: BaseException) -> str:
    """A reason without the absolute path an OSError carries (messages may reach HTTP clients)."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {Path(str(error.filename)).name}" if error.filename else error.strerror
    return f"{type(error).__name__}: {error}"


def _fsync_tree(folder: Path) -> None:
    """Flush every file of a finished build, then its folders, before it is renamed into place."""
    for path in sorted(folder.rglob("*"), key=lambda item: len(item.parts), reverse=True):
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        elif path.is_dir():
            _fsync_dir(path)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    """Make a rename or new entry in `folder` durable (POSIX needs the directory itself flushed)."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
