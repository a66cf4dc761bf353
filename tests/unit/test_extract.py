"""Converters on real files: a multi-page PDF, HTML with boilerplate, and files that must be skipped with a reason."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from nzc_knowledge.errors import ExtractionError
from nzc_knowledge.ingest.extract import extract

DATA = Path(__file__).parents[1] / "data"
DOCS = DATA / "corpus" / "docs"


def test_multi_page_pdf_keeps_pages_and_repairs_layout_artifacts():
    path = DOCS / "kozani-report.pdf"
    raw_pages = [page.extract_text() for page in PdfReader(path).pages]
    document = extract(path)

    assert document.page_count == len(raw_pages) >= 3
    assert {block.page for block in document.blocks} == set(range(1, len(raw_pages) + 1))
    # running header and page footers are printed on every page of the file but not kept
    assert all("Heat Office" in page for page in raw_pages)
    assert "Heat Office" not in document.text
    assert not re.search(r"\bPage \d+\b", document.text)
    # ligature characters become letters (NFKC)
    assert any("\ufb01" in page for page in raw_pages)
    assert "\ufb01" not in document.text and "financial" in document.text
    # every word the typesetter hyphenated across a line break is whole again
    broken = re.findall(r"(\w+)-\n(\w+)", "\n".join(unicodedata.normalize("NFKC", page) for page in raw_pages))
    assert broken, "the fixture must contain hyphenated line breaks"
    for head, tail in broken:
        if tail[0].islower():
            assert f"{head}{tail}" in document.text or f"{head}-{tail}" in document.text
            assert f"{head}- {tail}" not in document.text


def test_block_offsets_point_into_the_text():
    document = extract(DOCS / "kozani-report.pdf")
    for block in document.blocks:
        assert document.text[block.start : block.end] == block.text


def test_html_keeps_the_article_and_drops_boilerplate():
    document = extract(DOCS / "kozani-heat.html")
    assert document.title == "Kozani district heating after lignite"
    assert "seasonal storage had never been built in Greece" in document.text
    for boilerplate in ("cookies", "Got it", "Contact us", "Council meeting", "Copyright", "Privacy policy", "Home >"):
        assert boilerplate not in document.text
    assert [block.text for block in document.blocks if block.kind == "heading"][1:] == ["New heat sources", "Obstacles"]


def test_markdown_title_and_headings():
    document = extract(DOCS / "milan-lez.md")
    assert document.title == "Area B: Milan's low-emission zone"
    assert [block.kind for block in document.blocks][:2] == ["heading", "paragraph"]


def test_plain_text_first_short_line_is_the_title():
    document = extract(DOCS / "notes.txt")
    assert document.title == "Heat pumps in Aarhus social housing"


def test_pdf_with_empty_user_password_is_read():
    assert "district heating" in extract(DATA / "files" / "restricted-but-readable.pdf").text


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (DOCS / "broken.pdf", "corrupt or unreadable PDF"),
        (DOCS / "empty.md", "empty file"),
        (DATA / "files" / "encrypted.pdf", "encrypted PDF"),
        (DATA / "files" / "image-only.pdf", "no extractable text"),
        (DOCS / "slides.pptx", "unsupported file type '.pptx'"),
    ],
)
def test_unusable_files_raise_a_reason(path: Path, reason: str):
    with pytest.raises(ExtractionError, match=re.escape(reason)):
        extract(path)
