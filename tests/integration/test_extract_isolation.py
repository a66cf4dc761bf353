"""Extraction in a worker process: a slow file times out, a greedy one hits the memory limit, the worker stays light."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from nzc_knowledge.errors import ExtractionError
from nzc_knowledge.ingest.extract.isolation import ExtractionLimits, IsolatedExtractor

sys.path.insert(0, str(Path(__file__).parents[1]))
from hostile_corpus import _whitespace_stream_pdf  # noqa: E402


PROSE = "Heat pumps replaced gas boilers in the social housing of the district."


@pytest.fixture(scope="module")
def whitespace_pdf(tmp_path_factory) -> Path:
    """Pages sharing one compressed 70 MB content stream of spaces: seconds and ~200 MB a page for pypdf."""
    path = tmp_path_factory.mktemp("hostile") / "whitespace-stream.pdf"
    _whitespace_stream_pdf(path, pages=20)
    return path


def test_a_slow_file_times_out_and_the_worker_is_replaced(tmp_path: Path, whitespace_pdf: Path):
    good = tmp_path / "good.md"
    good.write_text(f"# Good\n\n{PROSE}\n", encoding="utf-8")
    with IsolatedExtractor(ExtractionLimits(timeout_s=1, max_mb=2048)) as extractor:
        started = time.perf_counter()
        with pytest.raises(ExtractionError, match=r"^extraction timed out after 1 s$"):
            extractor.extract(whitespace_pdf)
        assert time.perf_counter() - started < 15
        assert PROSE in extractor.extract(good).text


def test_a_file_needing_too_much_memory_is_skipped(tmp_path: Path, whitespace_pdf: Path):
    good = tmp_path / "good.md"
    good.write_text(f"# Good\n\n{PROSE}\n", encoding="utf-8")
    # 100 MB on top of the worker's size at start; a page of this file needs about 200 MB
    with IsolatedExtractor(ExtractionLimits(timeout_s=60, max_mb=100)) as extractor:
        with pytest.raises(ExtractionError, match=r"^extraction exceeded 100 MB$"):
            extractor.extract(whitespace_pdf)
        assert PROSE in extractor.extract(good).text


def test_the_worker_does_not_load_torch_even_when_the_parent_has():
    pytest.importorskip("torch")
    assert "torch" in sys.modules
    with IsolatedExtractor() as extractor:
        modules = extractor.worker_modules()
    assert "pypdf" in modules and "trafilatura" in modules
    assert not {"torch", "sentence_transformers", "faiss"} & set(modules)


# A program whose main script holds 2 GB of address space at import (read-only, never touched: no memory used): multiprocessing re-runs that script in every
# extraction worker (as __mp_main__), so each worker starts with the 2 GB too, past an absolute 1024 MB limit.
HEAVY_MAIN = """
import mmap
import sys
from pathlib import Path

RESERVED = mmap.mmap(-1, 2 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ)

if __name__ == "__main__":
    from nzc_knowledge.errors import ExtractionError
    from nzc_knowledge.ingest.extract.isolation import ExtractionLimits, IsolatedExtractor

    good, hungry = map(Path, sys.argv[1:3])
    with IsolatedExtractor(ExtractionLimits(timeout_s=60, max_mb=100)) as extractor:
        print("worker MB", extractor.worker_address_space() >> 20)
        print("good:", extractor.extract(good).text.strip().splitlines()[-1])
        try:
            extractor.extract(hungry)
            print("hungry: extracted")
        except ExtractionError as error:
            print("hungry:", error)
"""


def test_the_limit_counts_from_the_workers_size_at_start(tmp_path: Path, whitespace_pdf: Path):
    import os
    import subprocess

    script = tmp_path / "heavy_main.py"
    script.write_text(HEAVY_MAIN, encoding="utf-8")
    good = tmp_path / "good.md"  # 1.4 MB: its extraction needs fresh memory, not just the heap's free bytes
    good.write_text("# Good\n\n" + f"{PROSE}\n\n" * 20_000, encoding="utf-8")
    root = str(Path(__file__).parents[2])
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    finished = subprocess.run([sys.executable, str(script), str(good), str(whitespace_pdf)], capture_output=True,
                              text=True, timeout=300, env=environment, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    lines = dict(line.split(":", 1) if ":" in line else line.rsplit(" ", 1) for line in finished.stdout.splitlines())
    assert int(lines["worker MB"]) > 2048  # the worker did start with its main script's 2 GB
    assert lines["good"].strip() == PROSE  # and still had room for a normal file
    assert lines["hungry"].strip() == "extraction exceeded 100 MB"  # while a greedy one is still stopped
