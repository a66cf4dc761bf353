"""PDF converter (pypdf): page numbers kept; ligatures, hyphenated line breaks and running headers/footers repaired.

Why the repairs: pypdf returns text line by line as typeset, so a report's running header and page number
would otherwise be indexed once per page, and words split across lines ("ﬁnanc-\nial") would never match
a query. NFKC (in `clean_inline`) turns the ligature characters back into letters.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from nzc_knowledge.errors import ExtractionError
from nzc_knowledge.ingest.extract.blocks import assemble
from nzc_knowledge.ingest.extract.limits import DEFAULT_MAX_TEXT_CHARS, text_too_long
from nzc_knowledge.models import ExtractedDoc

logger = logging.getLogger(__name__)

EDGE_LINES = 2  # how many lines at the top and bottom of a page may be a running header/footer
_DIGITS = re.compile(r"\d+")
_HYPHEN_BREAK = re.compile(r"\b(\w+)-\n(\w+)")  # \b: a match starts only at a word start (3x faster)
_HYPHENATED_WORD = re.compile(r"\b\w+(?:-\w+)+")
_HEADER_BYTES = 1024  # readers accept the %PDF- header anywhere in the first kilobyte
_SENTENCE_END = (".", "!", "?", ":", ";", "\u201d", '"', ")")
_BULLET = re.compile(r"^[\u2022\u25aa\u25cf\u2013\-*]\s+")


def extract_pdf(path: Path, max_chars: int = DEFAULT_MAX_TEXT_CHARS) -> ExtractedDoc:
    pages = _read_pages(path, max_chars)
    if not any(page.strip() for page in pages):
        raise ExtractionError("no extractable text: the PDF holds only images (scanned?) or is blank")
    pages = [unicodedata.normalize("NFKC", page) for page in pages]
    pages = _drop_running_lines(pages)
    compounds = hyphenated_compounds(pages)
    parts: list[tuple[str, str, int | None, int]] = []
    for number, page in enumerate(pages, start=1):
        parts.extend((kind, text, number, level) for kind, text, level in _page_blocks(join_hyphenated(page, compounds)))
    return assemble(parts, title=None, fmt="pdf", page_count=len(pages))


def _check_header(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(_HEADER_BYTES)
    if b"%PDF-" not in head:
        kind = " (it is a ZIP archive)" if head.startswith(b"PK\x03\x04") else ""
        raise ExtractionError(f"not a PDF: no %PDF- header in the first {_HEADER_BYTES} bytes{kind}")


def _read_pages(path: Path, max_chars: int) -> list[str]:
    _check_header(path)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            # An empty user password still opens many "protected" PDFs (print/copy restrictions only).
            try:
                opened = reader.decrypt("")
            except Exception as error:  # pypdf raises several types for unsupported crypto
                raise ExtractionError(f"encrypted PDF that cannot be opened without a password ({error})") from error
            if not opened:
                raise ExtractionError("encrypted PDF that cannot be opened without a password")
        pages, length = [], 0
        for number, page in enumerate(reader.pages, start=1):
            pages.append(page.extract_text() or "")
            length += len(pages[-1])
            if length > max_chars:
                raise ExtractionError(text_too_long(length, max_chars, where=f" by page {number} of {len(reader.pages)}"))
        return pages
    except ExtractionError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise ExtractionError(f"corrupt or unreadable PDF: {error}") from error


def _edge_key(line: str) -> str:
    return _DIGITS.sub("#", line.strip().lower())


def _drop_running_lines(pages: list[str]) -> list[str]:
    """Remove lines that recur at the top or bottom of most pages (with page numbers normalised)."""
    if len(pages) < 2:
        return [_drop_lone_page_number(page) for page in pages]
    counts: Counter[str] = Counter()
    for page in pages:
        lines = [line for line in page.splitlines() if line.strip()]
        counts.update({_edge_key(line) for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:]})
    threshold = max(2, (len(pages) + 1) // 2)
    running = {key for key, count in counts.items() if count >= threshold}
    cleaned = []
    for page in pages:
        lines = page.splitlines()
        nonblank = [i for i, line in enumerate(lines) if line.strip()]
        edges = set(nonblank[:EDGE_LINES] + nonblank[-EDGE_LINES:])
        kept = [line for i, line in enumerate(lines) if not (i in edges and _edge_key(line) in running)]
        cleaned.append(_drop_lone_page_number("\n".join(kept)))
    return cleaned


def _drop_lone_page_number(page: str) -> str:
    lines = page.rstrip().splitlines()
    if lines and re.fullmatch(r"\s*(page\s*)?\d+(\s*(/|of)\s*\d+)?\s*", lines[-1], flags=re.IGNORECASE):
        lines = lines[:-1]
    return "\n".join(lines)


def hyphenated_compounds(pages: list[str]) -> set[str]:
    """Every 'head-tail' pair the document spells with a hyphen on one line ('self-consumption'), lower case.

    Collected once per document so that repairing line breaks is linear in its length (it was quadratic:
    each page searched the whole document's text).
    """
    pairs: set[str] = set()
    for page in pages:
        for word in _HYPHENATED_WORD.findall(page.lower()):
            parts = word.split("-")
            pairs.update(f"{head}-{tail}" for head, tail in zip(parts, parts[1:]))
    return pairs


def join_hyphenated(page: str, compounds: set[str]) -> str:
    """Join 'ﬁnanc-\\nial' into 'financial', but keep real compounds ('self-\\nconsumption') hyphenated.

    A compound is recognised when the document elsewhere spells it with a hyphen on one line (`compounds`),
    or when its second part starts with a capital ('Emilia-\\nRomagna').
    """

    def repair(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        if f"{head}-{tail}".lower() in compounds or tail[:1].isupper():
            return f"{head}-{tail}"
        return f"{head}{tail}"

    return _HYPHEN_BREAK.sub(repair, page)


def _page_blocks(page: str) -> list[tuple[str, str, int]]:
    """Group a page's lines into headings and paragraphs using line length and punctuation."""
    lines = [line.strip() for line in page.splitlines()]
    widths = sorted(len(line) for line in lines if line)
    if not widths:
        return []
    full_width = widths[int(len(widths) * 0.8)] if len(widths) >= 5 else max(widths)
    blocks: list[tuple[str, str, int]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(("paragraph", " ".join(paragraph), 0))
            paragraph.clear()

    for line in lines:
        if not line:
            flush()
            continue
        if _BULLET.match(line):
            flush()
            paragraph.append(_BULLET.sub("", line))
            continue
        short = len(line) < 0.6 * full_width
        if short and not paragraph and not line.endswith(_SENTENCE_END) and len(line.split()) <= 14:
            blocks.append(("heading", line, 2))
            continue
        paragraph.append(line)
        if short and line.endswith(_SENTENCE_END):
            flush()
    flush()
    return blocks
