"""One converter per format; `extract(path)` picks it by file extension.

A converter raises `ExtractionError` with a reason a curator can act on; the pipeline reports and skips.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nzc_knowledge.ingest.extract.errors import ExtractionError
from nzc_knowledge.ingest.extract.html import extract_html
from nzc_knowledge.ingest.extract.pdf import extract_pdf
from nzc_knowledge.ingest.extract.text import extract_markdown, extract_plain_text
from nzc_knowledge.models import ExtractedDoc

CONVERTERS: dict[str, Callable[[Path], ExtractedDoc]] = {
    ".pdf": extract_pdf,
    ".html": extract_html,
    ".htm": extract_html,
    ".md": extract_markdown,
    ".markdown": extract_markdown,
    ".txt": extract_plain_text,
}
SUPPORTED_SUFFIXES = tuple(CONVERTERS)

__all__ = ["ExtractionError", "SUPPORTED_SUFFIXES", "extract"]


def extract(path: Path) -> ExtractedDoc:
    """Extract clean text and structure from a file; raise ExtractionError if it cannot be used."""
    converter = CONVERTERS.get(path.suffix.lower())
    if converter is None:
        raise ExtractionError(
            f"unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise ExtractionError("empty file (0 bytes)")
    document = converter(path)
    if not document.text.strip():
        raise ExtractionError("no text could be extracted")
    return document
