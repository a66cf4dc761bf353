"""Chunk boundaries, sizes in model tokens, overlap and provenance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nzc_knowledge.ingest.chunk import Chunker, ChunkerSettings
from nzc_knowledge.ingest.extract import extract

DOCS = Path(__file__).parents[1] / "data" / "corpus" / "docs"


def word_count(texts):
    """A stand-in tokenizer for fast unit tests: one token per word piece of punctuation or letters."""
    return [len(re.findall(r"\w+|[^\w\s]", text)) for text in texts]


@pytest.fixture
def document():
    return extract(DOCS / "kozani-report.pdf")


def test_chunks_respect_the_token_budget_and_keep_provenance(document):
    settings = ChunkerSettings(max_tokens=60, overlap_tokens=15, reserved_tokens=0)
    chunks = Chunker(settings, word_count).split("kozani-report", document)

    assert len(chunks) > 5
    for ordinal, chunk in enumerate(chunks):
        assert chunk.ordinal == ordinal
        assert chunk.id == f"kozani-report#{chunk.start}"
        assert chunk.text == document.text[chunk.start : chunk.end]
        assert chunk.token_count == word_count([chunk.text])[0]
        assert chunk.token_count <= settings.max_tokens
        assert chunk.page is not None and 1 <= chunk.page <= document.page_count
    assert [chunk.page for chunk in chunks] == sorted(chunk.page for chunk in chunks)
    assert chunks[-1].page == document.page_count


def test_consecutive_chunks_overlap_or_start_a_section(document):
    settings = ChunkerSettings(max_tokens=60, overlap_tokens=20, reserved_tokens=0)
    chunks = Chunker(settings, word_count).split("r", document)
    for previous, current in zip(chunks, chunks[1:]):
        assert current.start > previous.start
        starts_section = current.text.startswith("Section") or current.heading == current.text.split("\n")[0]
        assert current.start < previous.end or starts_section


def test_everything_is_covered(document):
    chunks = Chunker(ChunkerSettings(max_tokens=40, overlap_tokens=0, reserved_tokens=0), word_count).split("r", document)
    covered = "".join(document.text[chunk.start : chunk.end] for chunk in chunks)
    assert re.sub(r"\s+", "", covered) == re.sub(r"\s+", "", document.text)


def test_a_sentence_longer_than_a_chunk_is_cut_at_words():
    from nzc_knowledge.models import Block, ExtractedDoc

    text = " ".join(f"word{i}" for i in range(500))
    document = ExtractedDoc(text=text, blocks=[Block(text=text, kind="paragraph", start=0, end=len(text))])
    chunks = Chunker(ChunkerSettings(max_tokens=100, overlap_tokens=0, reserved_tokens=0), word_count).split("x", document)
    assert len(chunks) >= 5
    assert all(chunk.token_count <= 100 for chunk in chunks)
    assert all(not chunk.text.startswith(" ") and re.fullmatch(r"[\w ]+", chunk.text) for chunk in chunks)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (ChunkerSettings(max_tokens=8), "max_tokens must be at least 16, got 8"),
        (ChunkerSettings(max_tokens=100, overlap_tokens=100), "overlap_tokens must be between 0 and max_tokens - 1 (99), got 100"),
        (ChunkerSettings(max_tokens=250, reserved_tokens=48), "max_tokens (250) + reserved_tokens (48) exceeds the encoder's max_seq_length (256)"),
    ],
)
def test_settings_are_validated_with_exact_messages(settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        settings.validate(model_max_seq_length=256)
