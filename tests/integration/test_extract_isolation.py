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
    with IsolatedExtractor(ExtractionLimits(timeout_s=60, max_mb=250)) as extractor:
        with pytest.raises(ExtractionError, match=r"^extraction exceeded 250 MB$"):
            extractor.extract(whitespace_pdf)
        assert PROSE in extractor.extract(good).text


def test_the_worker_does_not_load_torch_even_when_the_parent_has():
    pytest.importorskip("torch")
    assert "torch" in sys.modules
    with IsolatedExtractor() as extractor:
        modules = extractor.worker_modules()
    assert "pypdf" in modules and "trafilatura" in modules
    assert not {"torch", "sentence_transformers", "faiss"} & set(modules)
