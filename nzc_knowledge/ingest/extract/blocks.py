"""Assemble blocks (headings, paragraphs) into an ExtractedDoc with exact character offsets."""

from __future__ import annotations

import re
import unicodedata

from nzc_knowledge.models import Block, ExtractedDoc

BLOCK_SEPARATOR = "\n\n"
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean_inline(text: str) -> str:
    """NFKC (ligatures, full-width forms), collapsed spaces, no soft hyphens or zero-width characters."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    return _SPACES.sub(" ", text).strip()


def assemble(
    parts: list[tuple[str, str, int | None, int]], title: str | None, fmt: str, page_count: int | None = None
) -> ExtractedDoc:
    """Build the document text from (kind, text, page, level) parts, recording each block's offsets."""
    blocks: list[Block] = []
    pieces: list[str] = []
    cursor = 0
    for kind, raw_text, page, level in parts:
        text = clean_inline(raw_text)
        if not text:
            continue
        if pieces:
            pieces.append(BLOCK_SEPARATOR)
            cursor += len(BLOCK_SEPARATOR)
        blocks.append(Block(text=text, kind=kind, start=cursor, end=cursor + len(text), page=page, level=level))  # type: ignore[arg-type]
        pieces.append(text)
        cursor += len(text)
    if title is None:
        title = next((block.text for block in blocks if block.kind == "heading"), None)
    return ExtractedDoc(text="".join(pieces), blocks=blocks, title=title, page_count=page_count, format=fmt)
