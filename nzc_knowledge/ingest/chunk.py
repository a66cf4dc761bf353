"""Structure-aware chunking sized in the encoder's own tokens, so the encoder never silently truncates.

Sentences are packed into chunks of at most `max_tokens` word pieces; a new chunk starts at a section
heading when the current one is already half full, and each chunk repeats the last `overlap_tokens`
worth of sentences of the previous one so that an answer spanning a boundary is still found whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from nzc_knowledge.errors import InvalidParameter
from nzc_knowledge.models import Block, Chunk, ExtractedDoc

TokenCounter = Callable[[Sequence[str]], list[int]]
_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'\u201d)]?\s+(?=[\"'\u201c(]?[A-ZÀ-ÖØ-Þ0-9ĄĆĘŁŃÓŚŹŻ])")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkerSettings:
    """Chunk size and overlap in model tokens; `reserved_tokens` leaves room for the title prefix and specials."""

    max_tokens: int = 200
    overlap_tokens: int = 40
    reserved_tokens: int = 48

    def validate(self, model_max_seq_length: int) -> None:
        if self.max_tokens < 16:
            raise InvalidParameter(f"max_tokens must be at least 16, got {self.max_tokens}")
        if not 0 <= self.overlap_tokens < self.max_tokens:
            raise InvalidParameter(
                f"overlap_tokens must be between 0 and max_tokens - 1 ({self.max_tokens - 1}), got {self.overlap_tokens}"
            )
        if self.max_tokens + self.reserved_tokens > model_max_seq_length:
            raise InvalidParameter(
                f"max_tokens ({self.max_tokens}) + reserved_tokens ({self.reserved_tokens}) exceeds the encoder's "
                f"max_seq_length ({model_max_seq_length}); chunks would be truncated"
            )

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class _Segment:
    start: int
    end: int
    tokens: int
    page: int | None
    heading: str | None
    starts_section: bool


class Chunker:
    """Split an ExtractedDoc into Chunks with provenance.

    Example:
        chunker = Chunker(ChunkerSettings(max_tokens=200, overlap_tokens=40), encoder.count_tokens)
        chunks = chunker.split("milan-area-b", document)
    """

    def __init__(self, settings: ChunkerSettings, count_tokens: TokenCounter) -> None:
        self.settings = settings
        self.count_tokens = count_tokens

    def split(self, resource_id: str, document: ExtractedDoc) -> list[Chunk]:
        segments = self._segments(document)
        groups = self._pack(segments, document.text)
        chunks = []
        for ordinal, group in enumerate(groups):
            start, end = group[0].start, group[-1].end
            chunks.append(
                Chunk(
                    id=f"{resource_id}#{start}",
                    resource_id=resource_id,
                    ordinal=ordinal,
                    text=document.text[start:end],
                    start=start,
                    end=end,
                    page=group[0].page,
                    heading=group[0].heading,
                    token_count=sum(segment.tokens for segment in group),
                )
            )
        return chunks

    def _segments(self, document: ExtractedDoc) -> list[_Segment]:
        """Sentences of each block (headings whole), with token counts, split further if still too long."""
        spans: list[tuple[int, int, Block, str | None, bool]] = []
        heading: str | None = None
        for block in document.blocks:
            if block.kind == "heading":
                heading = block.text
                spans.append((block.start, block.end, block, heading, True))
                continue
            for start, end in _sentence_spans(block.text):
                spans.append((block.start + start, block.start + end, block, heading, False))
        counts = self.count_tokens([document.text[start:end] for start, end, *_ in spans]) if spans else []
        segments: list[_Segment] = []
        for (start, end, block, section, is_heading), tokens in zip(spans, counts, strict=True):
            if tokens <= self.settings.max_tokens:
                segments.append(_Segment(start, end, tokens, block.page, section, is_heading))
            else:
                segments.extend(self._split_long(document.text, start, end, block.page, section))
        return segments

    def _split_long(self, text: str, start: int, end: int, page: int | None, heading: str | None) -> list[_Segment]:
        """A sentence longer than a chunk (a table row, a run-on list) is cut at word boundaries."""
        words = [(start + match.start(), start + match.end()) for match in _WORD.finditer(text[start:end])]
        counts = self.count_tokens([text[a:b] for a, b in words])
        pieces: list[_Segment] = []
        piece_start, piece_tokens = words[0][0], 0
        previous_end = words[0][1]
        for (word_start, word_end), tokens in zip(words, counts, strict=True):
            if piece_tokens and piece_tokens + tokens > self.settings.max_tokens:
                pieces.append(_Segment(piece_start, previous_end, piece_tokens, page, heading, False))
                piece_start, piece_tokens = word_start, 0
            piece_tokens += tokens
            previous_end = word_end
        pieces.append(_Segment(piece_start, previous_end, piece_tokens, page, heading, False))
        return pieces

    def _tail(self, group: list[_Segment], text: str, budget: int) -> list[_Segment]:
        """The end of a chunk, at most `budget` tokens, repeated at the start of the next one.

        Whole sentences when they fit; otherwise the last words of the last sentence, so a long
        sentence cut by a page or chunk boundary is still seen with its context.
        """
        tail: list[_Segment] = []
        size = 0
        for segment in reversed(group):
            if segment.starts_section or size + segment.tokens > budget:
                break
            tail.insert(0, segment)
            size += segment.tokens
        last = group[-1]
        if tail or budget <= 0 or last.starts_section:
            return tail
        words = [match.start() for match in _WORD.finditer(text, last.start, last.end)]
        for keep in range(min(len(words) - 1, budget), 0, -1):
            start = words[-keep]
            tokens = self.count_tokens([text[start : last.end]])[0]
            if tokens <= budget:
                return [_Segment(start, last.end, tokens, last.page, last.heading, False)]
        return []

    def _pack(self, segments: list[_Segment], text: str) -> list[list[_Segment]]:
        limit, overlap = self.settings.max_tokens, self.settings.overlap_tokens
        groups: list[list[_Segment]] = []
        current: list[_Segment] = []
        size = 0
        for segment in segments:
            section_break = segment.starts_section and size >= limit // 2
            if current and (size + segment.tokens > limit or section_break):
                groups.append(current)
                current = [] if section_break else self._tail(current, text, min(overlap, limit - segment.tokens))
                size = sum(item.tokens for item in current)
            current.append(segment)
            size += segment.tokens
        if current:
            groups.append(current)
        return groups




def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _SENTENCE_BOUNDARY.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]
