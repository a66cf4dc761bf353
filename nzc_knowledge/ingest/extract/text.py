"""Markdown and plain-text converter: headings and blank-line separated paragraphs become blocks."""

from __future__ import annotations

import re
from pathlib import Path

from nzc_knowledge.errors import ExtractionError
from nzc_knowledge.ingest.extract.blocks import assemble
from nzc_knowledge.ingest.extract.decode import decode_text
from nzc_knowledge.ingest.extract.limits import DEFAULT_MAX_TEXT_CHARS, text_too_long
from nzc_knowledge.models import ExtractedDoc

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")


def read_text(path: Path, max_chars: int = DEFAULT_MAX_TEXT_CHARS) -> str:
    """The file's text, decoded by detection; raise ExtractionError for binary content or text over `max_chars`."""
    text = decode_text(path.read_bytes())
    if len(text) > max_chars:
        raise ExtractionError(text_too_long(len(text), max_chars))
    return text


def _strip_markdown(line: str) -> str:
    line = _LINK.sub(r"\1", line)
    line = _LIST_MARK.sub("", line)
    line = line.replace("|", " ")
    return _EMPHASIS.sub("", line)


def markdown_parts(source: str) -> list[tuple[str, str, int | None, int]]:
    """Split Markdown into heading and paragraph parts; list items and table rows stay separate lines."""
    parts: list[tuple[str, str, int | None, int]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            parts.append(("paragraph", " ".join(paragraph), None, 0))
            paragraph.clear()

    for line in source.splitlines():
        heading = _HEADING.match(line)
        if heading:
            flush()
            parts.append(("heading", _strip_markdown(heading.group(2)), None, len(heading.group(1))))
        elif not line.strip() or _TABLE_RULE.match(line) or line.strip() in {"---", "***"}:
            flush()
        elif _LIST_MARK.match(line) or line.lstrip().startswith("|"):
            flush()
            paragraph.append(_strip_markdown(line))
            flush()
        else:
            paragraph.append(_strip_markdown(line.strip()))
    flush()
    return parts


def extract_markdown(path: Path, max_chars: int = DEFAULT_MAX_TEXT_CHARS) -> ExtractedDoc:
    parts = markdown_parts(read_text(path, max_chars))
    title = next((text for kind, text, _, level in parts if kind == "heading" and level == 1), None)
    return assemble(parts, title=title, fmt="markdown")


def extract_plain_text(path: Path, max_chars: int = DEFAULT_MAX_TEXT_CHARS) -> ExtractedDoc:
    paragraphs = [block for block in re.split(r"\n\s*\n", read_text(path, max_chars)) if block.strip()]
    parts: list[tuple[str, str, int | None, int]] = [("paragraph", " ".join(block.split()), None, 0) for block in paragraphs]
    if parts and _looks_like_title(paragraphs[0]):
        parts[0] = ("heading", parts[0][1], None, 1)
    return assemble(parts, title=None, fmt="text")


def _looks_like_title(block: str) -> bool:
    """A first block that is one short line without a full stop reads as the document's title."""
    line = block.strip()
    return "\n" not in line and len(line) <= 120 and not line.endswith((".", ":", ";", ","))
