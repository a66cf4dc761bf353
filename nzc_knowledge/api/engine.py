"""The serving engine: one loaded snapshot with its services, swapped atomically when CURRENT changes.

Why a holder: a request takes the engine reference once and uses it to the end, so a search that started
on the old snapshot finishes on it while new requests already see the new one; nothing is restarted.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nzc_knowledge.encoders import DEFAULT_ENCODER, Encoder, shared_encoder
from nzc_knowledge.errors import NoSnapshot
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.index.store import CURRENT, SnapshotStore
from nzc_knowledge.search.service import SearchService, open_search_service

logger = logging.getLogger(__name__)


@dataclass
class Engine:
    """A snapshot and the services over it; immutable once published."""

    snapshot: Snapshot
    search: SearchService
    _lazy: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def service(self, name: str, factory):
        """A service built on first use for this snapshot (e.g. the peer-city engine)."""
        with self._lock:
            if name not in self._lazy:
                self._lazy[name] = factory(self.snapshot)
            return self._lazy[name]


class EngineHolder:
    """Loads the current snapshot and reloads it when the CURRENT pointer changes."""

    def __init__(self, index_dir: Path, encoder: Encoder | None = None) -> None:
        self.store = SnapshotStore(index_dir)
        self._encoder = encoder
        self._engine: Engine | None = None
        self._pointer_stamp: tuple[float, int] | None = None
        self._reload_lock = threading.Lock()

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = shared_encoder(DEFAULT_ENCODER)
        return self._encoder

    def load(self) -> Engine | None:
        """Load the current snapshot now (start-up, after a reindex or rollback); keep the old one on failure."""
        with self._reload_lock:
            stamp = self._stamp()
            snapshot_id = self.store.current_id()
            if snapshot_id is None:
                self._pointer_stamp = stamp
                return self._engine
            if self._engine is not None and self._engine.snapshot.id == snapshot_id:
                self._pointer_stamp = stamp
                return self._engine
            try:
                snapshot = Snapshot.load(self.store.path(snapshot_id))
                search = open_search_service(snapshot, self.encoder)
                search.warm_up()
            except Exception:
                logger.exception("could not load snapshot %s; still serving the previous one", snapshot_id)
                return self._engine
            self._engine = Engine(snapshot=snapshot, search=search)
            self._pointer_stamp = stamp
            logger.info("serving snapshot %s", snapshot_id)
            return self._engine

    def current(self) -> Engine:
        """The engine to use for one request; reloads first if CURRENT was switched by another process."""
        if self._stamp() != self._pointer_stamp:
            self.load()
        if self._engine is None:
            raise NoSnapshot(
                f"no index snapshot is available in {self.store.index_dir}; build one with "
                f"`nzc ingest SOURCE_DIR --index-dir {self.store.index_dir}`"
            )
        return self._engine

    @property
    def loaded(self) -> Engine | None:
        return self._engine

    def _stamp(self) -> tuple[float, int] | None:
        try:
            stat = (self.store.index_dir / CURRENT).stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime, stat.st_ino)
