"""Extraction in child processes, each file under a time and a memory limit, so one hostile file costs at most
`timeout_s` seconds and `max_mb` MB and never the batch.

Why a child process: a 150 KB PDF whose pages share one compressed 70 MB content stream costs pypdf about 3-6 s
and 200 MB a page; a thread cannot be stopped, a process can. The pool is reused across files (pebble kills a
worker that runs over its time and starts a fresh one) and uses the "forkserver" start method with only this
module preloaded, so a worker never inherits the encoder (torch) from the ingest process: it starts in
milliseconds, and its address-space limit is not eaten up by the model's mappings (the limit counts from the
worker's size at start in any case, see `_limit_memory`). As with any multiprocessing
start method but "fork", a worker imports the program's main script: a script that ingests must keep its work
under `if __name__ == "__main__":` (the `nzc` entry point, uvicorn and pytest do).

Example:
    with IsolatedExtractor(ExtractionLimits(timeout_s=60, max_mb=1024)) as extractor:
        pending = [extractor.submit(path) for path in paths]
        documents = [extractor.result(job) for job in pending]  # raises ExtractionError per bad file
"""

from __future__ import annotations

import multiprocessing
import resource  # POSIX, like the forkserver the workers start from
import signal
import sys
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from pebble import ProcessExpired, ProcessFuture, ProcessPool

from nzc_knowledge.errors import ExtractionError, InvalidParameter
from nzc_knowledge.ingest.extract import extract
from nzc_knowledge.ingest.extract.limits import DEFAULT_MAX_TEXT_CHARS
from nzc_knowledge.models import ExtractedDoc


MB = 1024 * 1024


@dataclass(frozen=True)
class ExtractionLimits:
    """What one file may cost: see the NZC_EXTRACT_TIMEOUT_S, NZC_EXTRACT_MAX_MB and NZC_MAX_* settings."""

    timeout_s: float = 60.0
    max_mb: int = 1024
    max_file_bytes: int = 100_000_000
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    workers: int = 1  # one ingest runs at a time; the parent chunks while the worker extracts the next file

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise InvalidParameter(f"the extraction time limit must be positive, got {self.timeout_s}")
        if self.max_mb < 64:
            raise InvalidParameter(f"the extraction memory limit must be at least 64 MB, got {self.max_mb}")
        if self.max_file_bytes < 1 or self.max_text_chars < 1 or self.workers < 1:
            raise InvalidParameter("max_file_bytes, max_text_chars and workers must be at least 1")

    @classmethod
    def from_settings(cls, settings) -> ExtractionLimits:
        """The limits of a `nzc_knowledge.settings.Settings`."""
        return cls(timeout_s=settings.extract_timeout_s, max_mb=settings.extract_max_mb,
                   max_file_bytes=settings.max_file_bytes, max_text_chars=settings.max_text_chars)


class MemoryLimitExceeded(Exception):
    """Raised in the worker when an allocation fails under its address-space limit."""


STATM = Path("/proc/self/statm")


def address_space_bytes() -> int:
    """This process's virtual size (VmSize) on Linux; 0 where /proc is missing (macOS does not enforce RLIMIT_AS)."""
    if not STATM.exists():
        return 0
    return int(STATM.read_text().split()[0]) * resource.getpagesize()


def _limit_memory(max_mb: int) -> None:
    """Worker initializer: cap the worker's address space at what it holds now plus `max_mb`, so an allocation
    past that fails with MemoryError.

    Relative to the start, not absolute: what a worker holds before its first file is not the file's doing and
    varies with the program that started it (multiprocessing re-imports the main script in every worker; a worker
    of a reindex worker started with `-m` held 1.2 GB, torch included, so an absolute 1024 MB cap left it no
    room to send its first message). The cap bounds what one file's extraction adds, which is what the setting says.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = address_space_bytes() + max_mb * MB
    limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _extract_in_worker(path: str, max_text_chars: int) -> ExtractedDoc:
    try:
        return extract(Path(path), max_text_chars)
    except MemoryError:
        raise MemoryLimitExceeded() from None


def _loaded_modules() -> list[str]:
    return sorted(sys.modules)


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Preload this module in the fork server (not the default '__main__', which may have imported torch).
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


class IsolatedExtractor:
    """A pool of extraction workers under `ExtractionLimits`; use as a context manager."""

    def __init__(self, limits: ExtractionLimits | None = None) -> None:
        self.limits = limits or ExtractionLimits()
        self._pool: ProcessPool | None = None

    def __enter__(self) -> IsolatedExtractor:
        self._pool = ProcessPool(max_workers=self.limits.workers, initializer=_limit_memory,
                                 initargs=(self.limits.max_mb,), context=_context())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.stop()  # pending files are not needed any more; running ones are killed
            self._pool.join()
            self._pool = None

    def submit(self, path: Path) -> ProcessFuture:
        """Queue `path` for extraction; its time limit starts when a worker picks it up."""
        if self._pool is None:
            raise RuntimeError("use IsolatedExtractor as a context manager")
        return self._pool.schedule(_extract_in_worker, args=(str(path), self.limits.max_text_chars),
                                   timeout=self.limits.timeout_s)

    def result(self, job: ProcessFuture) -> ExtractedDoc:
        """The extracted document; ExtractionError with the reason when the file is unusable or over a limit."""
        try:
            return job.result()
        except FutureTimeout:
            raise ExtractionError(f"extraction timed out after {self.limits.timeout_s:g} s") from None
        except MemoryLimitExceeded:
            raise ExtractionError(f"extraction exceeded {self.limits.max_mb} MB") from None
        except ProcessExpired as error:
            raise ExtractionError(f"the extraction process died ({_describe_exit(error.exitcode)}); the file may be "
                                  f"malformed or need more than {self.limits.max_mb} MB") from None

    def extract(self, path: Path) -> ExtractedDoc:
        """Extract one file under the limits."""
        return self.result(self.submit(path))

    def worker_address_space(self) -> int:
        """A worker's virtual size in bytes (what it held before its files, to check the limit counts from it)."""
        if self._pool is None:
            raise RuntimeError("use IsolatedExtractor as a context manager")
        return self._pool.schedule(address_space_bytes).result()

    def worker_modules(self) -> list[str]:
        """The modules a worker has loaded (to check that it stays free of torch and the models)."""
        if self._pool is None:
            raise RuntimeError("use IsolatedExtractor as a context manager")
        return self._pool.schedule(_loaded_modules).result()


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"
