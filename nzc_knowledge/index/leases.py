"""Serving leases: which snapshot versions running servers hold open, so that pruning keeps them.

Layout:
    index_dir/leases/<host>-<pid>-<token>.json   {"host", "pid", "versions": [...]}, one file per serving holder

Why: a server keeps serving the version it loaded until its next request sees a new CURRENT, and a replaced version
until its in-flight requests are done (or for good when the new version fails to load). Pruning that version's
folder under it breaks those requests (its text store cannot be reopened). So a server records the versions it
holds before it opens them, refreshes the record's mtime as a heartbeat and removes it on shutdown; prune skips
every leased version.

A lease left by a process that died without removing it must not keep a version forever: on this host a lease
whose process is gone is stale at once (and removed); a lease from another host (a shared index folder) is stale
once its heartbeat is older than `stale_after_s`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

LEASES = "leases"
STALE_AFTER_S = 15 * 60.0  # a lease from another host whose heartbeat is older than this: its server is gone
HEARTBEAT_EVERY_S = 60.0  # how often a serving holder refreshes its lease's mtime (at most; on requests and loads)


class ServingLease:
    """This holder's record of the snapshot versions it serves (the current one and any still retiring).

    Example:
        lease = ServingLease(Path("indexes"))
        lease.hold(["20261123T190102Z-1a2b3c4d"])  # before opening it
        lease.heartbeat()                          # now and then while serving
        lease.release()                            # on shutdown
    """

    def __init__(self, index_dir: Path) -> None:
        self.folder = Path(index_dir) / LEASES
        self.path = self.folder / f"{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        self._beaten_at = 0.0

    def hold(self, versions: Iterable[str]) -> None:
        """Record exactly `versions` as held (atomically: prune never reads half a lease)."""
        record = {"host": _host(), "pid": os.getpid(), "versions": sorted(set(versions))}
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".lease-", dir=self.folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(record, out)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._beaten_at = time.monotonic()

    def heartbeat(self, every_s: float = HEARTBEAT_EVERY_S) -> None:
        """Refresh the lease's mtime if the last refresh is older than `every_s` (cheap enough for every request)."""
        if time.monotonic() - self._beaten_at < every_s:
            return
        self._beaten_at = time.monotonic()
        try:
            os.utime(self.path)
        except FileNotFoundError:
            pass  # nothing held yet, or released
        except OSError as error:  # a read-only or vanished index folder must not fail a search
            logger.warning("could not refresh the serving lease %s: %s", self.path.name, error)

    def release(self) -> None:
        """Remove the lease (shutdown): its versions may be pruned from now on."""
        self.path.unlink(missing_ok=True)


def leased_versions(index_dir: Path, stale_after_s: float = STALE_AFTER_S) -> set[str]:
    """Versions some live server holds; stale leases of dead processes on this host are removed on the way."""
    folder = Path(index_dir) / LEASES
    try:
        paths = sorted(folder.glob("*.json"))
    except OSError:
        return set()
    held: set[str] = set()
    for path in paths:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            continue  # released meanwhile
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            logger.warning("ignoring unreadable serving lease %s: %s", path.name, error)
            continue
        if not isinstance(record, dict) or not isinstance(record.get("versions"), list):
            logger.warning("ignoring malformed serving lease %s", path.name)
            continue
        if record.get("host") == _host() and isinstance(record.get("pid"), int):
            if not _alive(record["pid"]):
                path.unlink(missing_ok=True)  # its server died without releasing it
                continue
        elif age > stale_after_s:
            continue  # another host's server that stopped beating
        held.update(str(version) for version in record["versions"])
    return held


def _host() -> str:
    return socket.gethostname()


def _alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    return True
