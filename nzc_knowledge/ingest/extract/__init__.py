"""One converter per format; `extract(path)` picks it by file extension.

A converter raises `ExtractionError` with a reason a curator can act on; the pipeline reports and skips.
The ingest pipeline runs `extract` in a child process under a time and memory limit (see `isolation`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nzc_knowledge.errors import ExtractionError
from nzc_knowledge.ingest.extract.html import extract_html
from nzc_knowledge.ingest.extract.limits import DEFAULT_MAX_TEXT_CHARS
from nzc_knowledge.ingest.extract.pdf import extract_pdf
from nzc_knowledge.ingest.extract.text import extract_markdown, extract_plain_text
from nzc_knowledge.models import ExtractedDoc

CONVERTERS: dict[str, Callable[[Path, int], ExtractedDoc]] = {  # (file, longest text accepted)
    ".pdf": extract_pdf,
    ".html": extract_html,
    ".htm": extract_html,
    ".md": extract_markdown,
    ".markdown": extract_markdown,
    ".txt": extract_plain_text,
}
SUPPORTED_SUFFIXES = tuple(CONVERTERS)

__all__ = ["SUPPORTED_SUFFIXES", "extract"]


def extract(path: Path, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> ExtractedDoc:
    """Extract clean text and structure from a file; raise ExtractionError if it cannot be used."""
    converter = CONVERTERS.get(path.suffix.lower())
    if converter is None:
        raise ExtractionError(
            f"unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise ExtractionError("empty file (0 bytes)")
    document = converter(path, max_text_chars)
    if not document.text.strip():
        raise ExtractionError("no text could be extracted")
    return document
