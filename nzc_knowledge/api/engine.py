"""The serving engine: one loaded snapshot with its services, swapped atomically when CURRENT changes.

Why a holder: a request takes the engine reference once and uses it to the end, so a search that started
on the old snapshot finishes on it while new requests already see the new one; nothing is restarted.

Why leases: a request holds a lease on its engine (`EngineHolder.lease()`). A replaced engine with leases
left is "retiring": the holder keeps it until its last request is done, then drops it so its memory goes.
A new snapshot is loaded only when no engine is retiring, so at most two versions are in memory at once
(serving + loading, or serving + retiring) however often CURRENT flips; a load that has to wait is retried
by the next request, which meanwhile is served by the current engine.

A snapshot that fails to load is remembered with its reason (shown by /health as "degraded") and not
retried until CURRENT changes again, so a broken pointer costs one failed load, not one per request;
the last good snapshot keeps serving meanwhile.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from dataclasses import dataclass, field
from pathlib import Path

from nzc_knowledge.encoders import DEFAULT_ENCODER, Encoder, Encoders
from nzc_knowledge.errors import BrokenSnapshot, Conflict, NoSnapshot, NZCError, UnreadablePointer
from nzc_knowledge.index.leases import ServingLease
from nzc_knowledge.index.snapshot import MANIFEST, Snapshot
from nzc_knowledge.index.store import CURRENT, SnapshotStore
from nzc_knowledge.recommend.peers import PeerService
from nzc_knowledge.search.backend import BackendFactory
from nzc_knowledge.search.service import SearchService, open_search_service

# Called with the snapshot; with a retrieval backend other than the snapshot's own also given `backend=` (as
# PeerService.from_snapshot takes it), so peers read passage vectors from the same place search does.
PeerFactory = Callable[..., PeerService]

logger = logging.getLogger(__name__)
# A rollback waits this long for the requests of a replaced version before answering 409 (it must load its snapshot).
ROLLBACK_DRAIN_WAIT_S = 10.0
# After a reindex, requests still on the version before the last swap get this long to finish (else the next request
# loads the new one); at start-up nothing is retiring and nothing waits.
LOAD_DRAIN_WAIT_S = 30.0
NO_SNAPSHOT_MESSAGE = ("no index snapshot is being served; build one with `nzc ingest SOURCE_DIR` or start a reindex "
                       "with POST /admin/reindex")


@dataclass
class Engine:
    """A snapshot and the services over it; immutable once published.

    The peer service is built on first use (about a second: the registry's names), by the factory the
    composition root passed in, so a server that only searches never pays for it.
    """

    snapshot: Snapshot
    search: SearchService
    peer_factory: PeerFactory = PeerService.from_snapshot
    _peers: PeerService | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    leases: int = field(default=0, compare=False)  # requests using this engine now (changed under the holder's lock)

    @property
    def peers(self) -> PeerService:
        """The peer-city service of this snapshot."""
        with self._lock:
            if self._peers is None:
                self._peers = self.peer_factory(self.snapshot)
            return self._peers


@dataclass(frozen=True)
class LoadFailure:
    """Why the snapshot CURRENT names is not the one serving (no index paths: /health shows it)."""

    snapshot_id: str | None
    reason: str


class EngineHolder:
    """Loads the current snapshot and reloads it when the CURRENT pointer changes."""

    def __init__(self, index_dir: Path, encoders: Encoders, peer_factory: PeerFactory = PeerService.from_snapshot,
                 backend_factory: BackendFactory | None = None) -> None:
        self.store = SnapshotStore(index_dir)
        self.encoders = encoders
        self.backend_factory = backend_factory  # None: each snapshot's own indexes (the embedded backend)
        self.peer_factory = peer_factory
        self._engine: Engine | None = None
        self._failure: LoadFailure | None = None
        self._pointer_stamp: tuple[float, int] | None = None
        self._reload_lock = threading.Lock()
        self._retiring: list[Engine] = []  # replaced engines that in-flight requests still use
        self._leases = threading.Condition()  # guards `_engine` swaps, lease counts and `_retiring`
        # The versions held in memory, recorded under the index folder so that pruning keeps their files.
        self.serving_lease = ServingLease(self.store.index_dir)

    @property
    def encoder(self) -> Encoder:
        """The dense encoder snapshots are built and searched with."""
        return self.encoders.get(DEFAULT_ENCODER)

    @property
    def loaded(self) -> Engine | None:
        return self._engine

    @property
    def failure(self) -> LoadFailure | None:
        """The last failed load, while CURRENT still names what failed; None when CURRENT is serving."""
        return self._failure

    def load(self, drain_wait_s: float = LOAD_DRAIN_WAIT_S) -> Engine | None:
        """Load the current snapshot now (start-up, after a reindex); on failure keep the old one and remember why.

        `drain_wait_s`: how long to wait for the requests of a retiring version first (else the next request loads).
        """
        with self._reload_lock:
            return self._load_locked(drain_wait_s)

    def current(self) -> Engine:
        """The engine to use now; reloads first if CURRENT was switched (by a reindex worker, another process).

        For a whole request use `lease()`, which also keeps a replaced engine until the request is done.
        """
        self._refresh()
        engine = self._engine
        if engine is None:
            raise NoSnapshot(NO_SNAPSHOT_MESSAGE)
        return engine

    @contextmanager
    def lease(self) -> Iterator[Engine]:
        """The engine for one request, kept (and counted) until the request is done, even if a new one is published."""
        self._refresh()
        with self._leases:  # never reload while holding this lock: a reload takes it to publish
            engine = self._engine
            if engine is None:
                raise NoSnapshot(NO_SNAPSHOT_MESSAGE)
            engine.leases += 1
        try:
            yield engine
        finally:
            released = False
            with self._leases:
                engine.leases -= 1
                if engine.leases == 0 and any(old is engine for old in self._retiring):
                    self._retiring = [old for old in self._retiring if old is not engine]
                    logger.info("released snapshot %s: its last request is done", engine.snapshot.id)
                    self._leases.notify_all()
                    released = True
            if released:
                self._record_lease()

    def versions_in_memory(self) -> list[str]:
        """Ids of the engines held now: the serving one first, then those retiring (at most one)."""
        with self._leases:
            return [engine.snapshot.id for engine in ([self._engine] if self._engine else []) + self._retiring]

    def close(self) -> None:
        """Release the serving lease (shutdown): the versions this holder served may be pruned from now on."""
        self.serving_lease.release()

    def _record_lease(self, *loading: str) -> None:
        """Record the versions in memory (plus one about to be opened) in the serving lease."""
        try:
            self.serving_lease.hold([*self.versions_in_memory(), *loading])
        except OSError as error:  # a read-only index folder: serve anyway, pruning is the builder's concern
            logger.warning("could not record the serving lease: %s", error)

    def _refresh(self) -> None:
        self.serving_lease.heartbeat()
        if self._stamp() != self._pointer_stamp:
            with self._reload_lock:
                if self._stamp() != self._pointer_stamp:  # another request may have reloaded meanwhile
                    self._load_locked()

    def _retired_released(self, wait_s: float) -> bool:
        """Whether no replaced engine is left in memory, waiting up to `wait_s` for its requests to finish."""
        with self._leases:
            return self._leases.wait_for(lambda: not self._retiring, timeout=wait_s)

    def _publish(self, engine: Engine) -> None:
        """Serve `engine` from now on; the one it replaces is kept only while requests still use it."""
        with self._leases:
            previous, self._engine = self._engine, engine
            if previous is not None and previous is not engine and previous.leases > 0:
                self._retiring.append(previous)
        self._record_lease()  # the replaced version stays leased only while it is retiring

    def rollback(self, snapshot_id: str | None) -> str:
        """Switch to an older snapshot only once it has loaded here; a snapshot that does not load stays unserved."""
        prepared: dict[str, Engine] = {}

        def load_first(chosen: str) -> None:
            if self._engine is not None and self._engine.snapshot.id == chosen:
                prepared["engine"] = self._engine
                return
            try:
                prepared["engine"] = self._open(chosen)
            except Exception as error:
                logger.warning("rollback to %s refused: it does not load (%s)", chosen, self._reason(error))
                raise BrokenSnapshot(f"snapshot {chosen} cannot be served: {self._reason(error)}; choose another one") from None

        with self._reload_lock:
            if not self._retired_released(ROLLBACK_DRAIN_WAIT_S):
                raise Conflict("the snapshot served before the last switch is still answering requests; try the "
                               "rollback again in a few seconds")
            try:
                chosen = self.store.rollback(snapshot_id, before_switch=load_first)
            except BaseException:
                self._record_lease()  # a version loaded for the rollback but not switched to is not held
                raise
            self._publish(prepared["engine"])
            self._failure = None
            self._pointer_stamp = self._stamp()
        logger.info("serving snapshot %s after a rollback", chosen)
        return chosen

    def _load_locked(self, drain_wait_s: float = 0.0) -> Engine | None:
        stamp = self._stamp()
        try:
            snapshot_id = self.store.read_pointer()
        except UnreadablePointer as error:
            self._pointer_stamp = stamp
            self._remember(LoadFailure(None, error.message))
            return self._engine
        if snapshot_id is None or (self._engine is not None and self._engine.snapshot.id == snapshot_id):
            self._pointer_stamp = stamp
            self._failure = None
            return self._engine
        if not self._retired_released(drain_wait_s):
            # A third version in memory is what the leases prevent: keep serving, the next request tries again.
            logger.debug("snapshot %s waits to load: requests still use an older version", snapshot_id)
            return self._engine
        self._pointer_stamp = stamp  # whatever happens below, retry only when CURRENT changes again
        starting = self._engine is None
        try:
            # At start-up nothing serves yet: the engine serves as soon as its snapshot is open, and warms up (models
            # run once, lexicons, filter and facet indexes) in the background; a search arriving meanwhile does what
            # is still missing itself (or waits for it). A swap warms the new version before it serves.
            engine = self._open(snapshot_id, warm=not starting)
            self._publish(engine)
            # A large snapshot is millions of long-lived Python objects (resources, their tags): frozen, the cyclic
            # collector stops walking them during requests (a full pass is a p99 spike); they are still freed by
            # reference counting when their version is dropped.
            gc.freeze()
            if starting:
                threading.Thread(target=self._warm_up, args=(engine,), name="nzc-warm-up", daemon=True).start()
        except Exception as error:  # a damaged snapshot must not take the service down: keep the previous one
            logger.error("could not load snapshot %s; still serving %s", snapshot_id,
                         self._engine.snapshot.id if self._engine else "nothing",
                         exc_info=not isinstance(error, NZCError))  # a known damage needs no traceback
            self._remember(LoadFailure(snapshot_id, self._reason(error)))
            return self._engine
        self._failure = None
        logger.info("serving snapshot %s", snapshot_id)
        return self._engine

    def _open(self, snapshot_id: str, warm: bool = True) -> Engine:
        self._record_lease(snapshot_id)  # before reading a file of it: a prune from now on keeps it
        try:
            return self._open_leased(snapshot_id, warm)
        except BaseException:
            self._record_lease()  # not held after all
            raise

    def _open_leased(self, snapshot_id: str, warm: bool) -> Engine:
        self.store.verify(snapshot_id)  # cheap: a truncated or missing file is named before loading fails on it
        # The encoders load in a second thread while this one reads the snapshot (both take seconds; the model
        # loads are mostly native code and file reads, so they overlap on two cores).
        preload = threading.Thread(target=self._load_encoders, args=(snapshot_id,), name="nzc-encoders", daemon=True)
        preload.start()
        # Segments the serving version shares by hard link are taken over, not read again: a version that adds one
        # small segment to a million passages loads in the time of that segment (plus the row bookkeeping).
        serving = self._engine
        snapshot = Snapshot.load(self.store.path(snapshot_id), previous=serving.snapshot if serving else None)
        preload.join()
        backend = self.backend_factory(snapshot) if self.backend_factory is not None else None
        search = open_search_service(snapshot, self.encoders, backend=backend)
        if warm:
            search.warm_up()
        # Peers read passage vectors where search reads them: from Milvus when the index lives there.
        peer_factory = self.peer_factory if backend is None else partial(self.peer_factory, backend=backend)
        return Engine(snapshot=snapshot, search=search, peer_factory=peer_factory)

    def _load_encoders(self, snapshot_id: str) -> None:
        """Load the encoders a snapshot's manifest names (errors are left to `open_search_service` to raise)."""
        try:
            manifest = json.loads((self.store.path(snapshot_id) / MANIFEST).read_text(encoding="utf-8"))
            for entry in (manifest.get("encoder"), manifest.get("multilingual_encoder")):
                if isinstance(entry, dict) and entry.get("name"):
                    # One query encoded: some models finish loading on first use (USE reads its tokenizer then).
                    self.encoders.get(entry["name"]).encode_queries(["warm up"])
        except Exception as error:  # noqa: BLE001 (reported when the service is opened with them)
            logger.debug("encoders of snapshot %s not preloaded: %s", snapshot_id, error)

    def _warm_up(self, engine: Engine) -> None:
        try:
            engine.search.warm_up()
            logger.info("snapshot %s warmed up", engine.snapshot.id)
        except Exception:  # a failed warm-up only means the first search does the work
            logger.exception("warming up snapshot %s failed", engine.snapshot.id)

    def _remember(self, failure: LoadFailure) -> None:
        if failure != self._failure:
            logger.warning("snapshot %s not served: %s", failure.snapshot_id or "(none)", failure.reason)
        self._failure = failure

    def _reason(self, error: BaseException) -> str:
        """The error without server paths (it is shown on /health)."""
        text = error.message if isinstance(error, NZCError) else f"{type(error).__name__}: {error}"
        for folder in {str(self.store.index_dir.resolve()), str(self.store.index_dir)}:
            if folder not in (".", ""):
                text = text.replace(folder + "/", "").replace(folder, "<index>")
        return text

    def _stamp(self) -> tuple[float, int] | None:
        try:
            stat = (self.store.index_dir / CURRENT).stat()
        except OSError:  # missing, or the folder cannot be searched: treated as "no pointer", never a 500
            return None
        return (stat.st_mtime, stat.st_ino)
