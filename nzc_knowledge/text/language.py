"""Language identification with py3langid, restricted to the languages the portal serves."""

from __future__ import annotations

from functools import lru_cache

# EU languages of the Mission Cities that the analyser and the taxonomy synonyms cover.
SUPPORTED_LANGUAGES = ("en", "it", "de", "fr", "es", "pl", "nl", "pt", "da", "sv", "fi", "el", "cs", "sk", "sl",
                       "hu", "ro", "hr", "bg", "lt", "lv", "et", "ga", "mt")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=list(SUPPORTED_LANGUAGES))


def detect_language(text: str, default: str | None = None, min_confidence: float = 0.5) -> str | None:
    """ISO 639-1 code of the text's language, or `default` when the text is too short or ambiguous."""
    sample = text[:4000]
    if len(sample.split()) < 3:
        return default
    language, confidence = _identifier().classify(sample)
    return language if confidence >= min_confidence else default
