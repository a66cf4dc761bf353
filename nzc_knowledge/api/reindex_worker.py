"""Reindex builds in their own process, so a build never shares the server's memory, GIL and threads.

The server (`ReindexWorker`, a build function for `JobRunner`) starts `main()` of this module in a new Python
process (`python -c`, see `WORKER_COMMAND`) and talks to it with JSON lines:

- server -> worker, on stdin: one request `{"settings": {...}, "threads": n}`; stdin then stays open,
  and its end (the server exited or was killed) makes the worker exit too, so no build outlives its server.
- worker -> server, on its stdout: `{"event": "progress", "stage", "done", "total"}` per checkpoint, then
  `{"event": "succeeded", "report": {...}, "peak_rss_mb"}` or `{"event": "failed", "error"}`. Anything a
  library prints goes to stderr (the server's log), never into this channel.

Cancelling kills the worker's process group; a worker that dies without its last message (killed, out of memory)
fails the job with the signal or exit status. Either way the build lock dies with it (the kernel drops a dead
holder's flock), the half-written `.building-*` folder is removed, and the previous snapshot keeps serving,
since CURRENT flips only after a complete snapshot is in place.

The worker runs at a lower priority (`nice`) and with few threads (`threads` for torch, OpenMP, BLAS and the
encoders), so a search arriving during a build gets a core at once instead of queueing behind the build's threads.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import nzc_knowledge
from nzc_knowledge.api.jobs import BuildFailed, JobCancelled
from nzc_knowledge.errors import Conflict
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.settings import Settings

logger = logging.getLogger(__name__)

# `-c`, not `-m nzc_knowledge.api.reindex_worker`: multiprocessing re-imports a `-m` main module in every child it
# starts (extraction's forkserver workers), and this module's imports bring numpy, faiss, spaCy and torch: each
# extraction worker then started at 1.2 GB of address space, with torch, instead of 0.2 GB without.
WORKER_COMMAND = "import sys; from nzc_knowledge.api.reindex_worker import main; sys.exit(main())"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "RAYON_NUM_THREADS")
POLL_S = 0.2  # how soon a cancel is noticed while the worker is quiet (loading models, embedding a batch)
STOP_WAIT_S = 30.0
# Settings the worker never needs (secrets stay in the server).
NOT_SENT = {"admin_token"}


class ReindexWorker:
    """A `JobRunner` build function that runs `build_snapshot` in a child process at lower priority.

    Example:
        jobs = JobRunner(holder, settings.source_dir, settings.keep_snapshots, build=ReindexWorker(settings))
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, source_dir: Path, index_dir: Path, *, progress, cancelled: threading.Event,
                 started=None, keep_snapshots: int, multilingual: str | None = None, **_unused: Any) -> dict[str, Any]:
        """Build in a worker; return its report (with `worker`: pid and peak memory), or raise on cancel or failure."""
        fields = self.settings.model_dump(mode="json", exclude=NOT_SENT)
        fields.update(source_dir=str(Path(source_dir).resolve()), index_dir=str(Path(index_dir).resolve()),
                      keep_snapshots=keep_snapshots, multilingual_encoder=multilingual or "none")
        request = {"settings": fields, "threads": self.settings.reindex_threads}
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_COMMAND], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=_worker_environment(self.settings.reindex_threads), start_new_session=True,  # its own group: one kill
            text=True, encoding="utf-8",
        )
        _lower_priority(process.pid, self.settings.reindex_nice)
        logger.info("reindex worker started (pid %s, nice +%s, %s thread(s))", process.pid,
                    self.settings.reindex_nice, self.settings.reindex_threads)
        if started is not None:
            started(process.pid)
        try:
            try:
                process.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass  # it died at start: told below by its exit status
            outcome = self._follow(process, progress, cancelled)
        except BaseException:
            _stop(process)
            _remove_leftovers(Path(index_dir))
            raise
        finally:
            try:
                process.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
        process.wait()
        if outcome is None:
            _stop(process)  # the worker is gone; this ends the extraction processes it left in its group
            _remove_leftovers(Path(index_dir))
            raise BuildFailed(_death(process.pid, process.returncode))
        if outcome["event"] == "failed":
            raise BuildFailed(outcome["error"])
        return outcome["report"] | {"worker": {"pid": process.pid, "peak_rss_mb": outcome.get("peak_rss_mb"),
                                               "nice": self.settings.reindex_nice,
                                               "threads": self.settings.reindex_threads}}

    def _follow(self, process: subprocess.Popen, progress, cancelled: threading.Event) -> dict[str, Any] | None:
        """Relay progress until the worker's last message (returned) or its end without one (None)."""
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            for line in process.stdout:  # type: ignore[union-attr]
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, name=f"nzc-reindex-worker-{process.pid}", daemon=True).start()
        published = False
        while True:
            try:
                line = lines.get(timeout=POLL_S)
            except queue.Empty:
                # The pipeline's last checkpoint comes after publishing: a cancel that late changes nothing.
                if cancelled.is_set() and not published:
                    raise JobCancelled from None
                continue
            if line is None:
                return None
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                message = None
            if not isinstance(message, dict):
                logger.warning("reindex worker %s sent an unreadable line: %.200s", process.pid, line)
                continue
            if message.get("event") == "progress":
                stage, done, total = message["stage"], int(message["done"]), int(message["total"])
                published = stage == "index" and done >= total
                progress(stage, done, total)  # raises JobCancelled when a cancel was asked for
            elif message.get("event") in ("succeeded", "failed"):
                return message


def _worker_environment(threads: int) -> dict[str, str]:
    """The server's environment with thread limits, and this package importable however the server was started."""
    environment = dict(os.environ, HF_HUB_OFFLINE=os.environ.get("HF_HUB_OFFLINE", "1"), TOKENIZERS_PARALLELISM="false")
    environment.update({name: str(threads) for name in THREAD_VARIABLES})
    package_root = str(Path(nzc_knowledge.__file__).resolve().parent.parent)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    return environment


def _lower_priority(pid: int, increment: int) -> None:
    """Renice the worker at once, from here, so not even its model loading runs at the server's priority."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + increment))
    except ProcessLookupError:
        pass  # it already died; the job reports why


def _stop(process: subprocess.Popen) -> None:
    """Kill the worker and whatever it started (extraction processes share its process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        logger.error("reindex worker %s did not exit after SIGKILL", process.pid)
    logger.info("reindex worker %s stopped", process.pid)


def _remove_leftovers(index_dir: Path) -> None:
    """Remove the dead worker's `.building-*` folder; skipped while another builder holds the index (it cleans up)."""
    store = SnapshotStore(index_dir)
    try:
        with store.exclusive():
            store.remove_unfinished()
    except Conflict:
        logger.info("left-over build folders stay until the next build: another build holds the index")


def _death(pid: int, returncode: int | None) -> str:
    """Why a worker ended without a report, for the job's error text."""
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        hint = " (the kernel's out-of-memory killer sends SIGKILL)" if -returncode == signal.SIGKILL else ""
        return (f"WorkerCrashed: the reindex worker (pid {pid}) was killed by {name}{hint} before it finished; "
                "nothing was published and the previous snapshot keeps serving")
    return (f"WorkerCrashed: the reindex worker (pid {pid}) exited with status {returncode} without a report "
            "(see the server log); nothing was published and the previous snapshot keeps serving")


# -- the worker process --------------------------------------------------------------------------------------------


def _limit_threads(threads: int) -> None:
    """One knob for every thread pool a build touches (the environment already set OpenMP and BLAS)."""
    import faiss
    import torch

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)


def _load_encoder(name: str, threads: int, options=None):
    """An encoder with `threads` threads where its constructor takes a thread count (the numpy/C ones do);
    MiniLM with the backend the settings choose (`options`) and, on ONNX Runtime, `threads` intra-op threads."""
    from nzc_knowledge.encoders import ENCODERS, load_encoder

    factory = ENCODERS.get(name)
    if factory is not None and "threads" in inspect.signature(factory).parameters:
        return factory(threads=threads)
    return load_encoder(name, replace(options, threads=threads) if options else None)


def _watch_parent() -> None:
    """Exit when the server closes our stdin (it exited or was killed): a build must not outlive its server."""
    sys.stdin.read()
    os._exit(3)


def main() -> int:
    """Run one build as the server asked on stdin, reporting on stdout (see the module docstring)."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # anything else printed (a library's progress bar) goes to the log, not into the channel
    sys.stdout = sys.stderr
    request = json.loads(sys.stdin.readline())
    threading.Thread(target=_watch_parent, daemon=True).start()
    lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with lock:
            channel.write(json.dumps(message, default=str) + "\n")

    settings = Settings(**request["settings"])
    from nzc_knowledge.api.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    threads = int(request["threads"])
    try:
        _limit_threads(threads)
        from nzc_knowledge.encoders import DEFAULT_ENCODER
        from nzc_knowledge.ingest.build import build_snapshot
        from nzc_knowledge.ingest.extract.isolation import ExtractionLimits
        from nzc_knowledge.ingest.pipeline import IngestSettings
        from nzc_knowledge.recommend.profiles import snapshot_extensions

        started = time.monotonic()
        encoder = _load_encoder(DEFAULT_ENCODER, threads, settings.encoder_options)
        multilingual = settings.multilingual_encoder_name
        report = build_snapshot(
            settings.source_dir, settings.index_dir, encoder=encoder,
            progress=lambda stage, done, total: send({"event": "progress", "stage": stage, "done": done, "total": total}),
            keep_snapshots=settings.keep_snapshots,
            settings=IngestSettings(limits=ExtractionLimits.from_settings(settings), model_cache=settings.model_cache),
            extensions=snapshot_extensions(settings.source_dir),
            multilingual=_load_encoder(multilingual, threads) if multilingual else None,
            merge_at=settings.segment_merge_at,  # merged in this worker after publishing: searches never wait
        )
        logger.info("reindex worker finished in %.1f s", time.monotonic() - started)
        send({"event": "succeeded", "report": report.to_dict(),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
    except Exception as error:  # the job reports any failure; the previous snapshot keeps serving
        logger.exception("reindex failed in the worker")
        send({"event": "failed", "error": f"{type(error).__name__}: {error}"})
    channel.close()
    return 0


if __name__ == "__main__":  # `python -m` by hand works too, but its extraction workers re-import this module
    sys.exit(main())
