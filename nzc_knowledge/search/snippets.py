"""Snippets: the best window of the best passage, HTML-escaped, with query terms marked."""

from __future__ import annotations

import html
import re

from nzc_knowledge.text.analysis import SNOWBALL, stemmer

_WORD = re.compile(r"\S+")
_CORE = re.compile(r"[\w'’-]+", re.UNICODE)


def make_snippet(text: str, query_terms: set[str], language: str | None, window_words: int = 36) -> str:
    """An HTML-safe excerpt of about `window_words` words with `<mark>` around words whose stem is a query term."""
    words = _WORD.findall(text)
    if not words:
        return ""
    hits = _hits(words, query_terms, language)
    start = _best_window(hits, window_words)
    end = min(len(words), start + window_words)
    pieces = []
    for word, hit in zip(words[start:end], hits[start:end], strict=True):
        core = _CORE.search(word) if hit else None
        if core is None:
            pieces.append(html.escape(word, quote=True))
            continue
        before, middle, after = word[: core.start()], core.group(0), word[core.end() :]
        pieces.append(f"{html.escape(before, quote=True)}<mark>{html.escape(middle, quote=True)}</mark>"
                      f"{html.escape(after, quote=True)}")
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(words) else ""
    return prefix + " ".join(pieces) + suffix


def _hits(words: list[str], query_terms: set[str], language: str | None) -> list[bool]:
    """Whether each word's stem (in the passage's language or in English) is a query term; stemmed a list at a time
    (one call into the stemmer instead of two per word)."""
    if not query_terms:
        return [False] * len(words)
    cores = [_CORE.search(word) for word in words]
    lowers = [core.group(0).lower() if core else "" for core in cores]
    own = stemmer(language if language in SNOWBALL else "en").stemWords(lowers)
    english = stemmer("en").stemWords(lowers)
    return [core is not None and (first in query_terms or second in query_terms)
            for core, first, second in zip(cores, own, english, strict=True)]


def _best_window(hits: list[bool], size: int) -> int:
    """Start of the window with the most hits (earliest on ties), backed off a few words for context."""
    if len(hits) <= size or not any(hits):
        return 0
    best_start, best_count = 0, sum(hits[:size])
    count = best_count
    for start in range(1, len(hits) - size + 1):
        count += hits[start + size - 1] - hits[start - 1]
        if count > best_count:
            best_start, best_count = start, count
    first_hit = next(i for i in range(best_start, best_start + size) if hits[i])
    return max(0, min(best_start, first_hit - 4))
