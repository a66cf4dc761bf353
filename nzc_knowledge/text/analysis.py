"""Per-language normalisation: spaCy blank pipelines with lookup lemmatizers, Snowball stems where none exists.

Used by the tagger (phrase matching on normalised forms) and the lexical index (stemmed terms
without stop words), so both see "buildings", "building" and "Gebäuden"/"Gebäude" as one term.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import Stemmer
import spacy
from spacy.language import Language

SNOWBALL = {"en": "english", "it": "italian", "de": "german", "fr": "french", "es": "spanish", "pl": "polish",
            "nl": "dutch", "pt": "portuguese", "da": "danish", "sv": "swedish", "fi": "finnish", "el": "greek",
            "hu": "hungarian", "ro": "romanian", "lt": "lithuanian", "et": "estonian", "ga": "irish", "cs": "czech"}
LEMMA_LANGUAGES = ("en", "it", "de", "fr", "es", "nl", "pt", "da", "sv", "ro")
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_JOINER = re.compile(r"[-'’]")
_lock = threading.Lock()


@lru_cache(maxsize=None)
def stop_words(language: str) -> frozenset[str]:
    try:
        return frozenset(word.lower() for word in spacy.blank(language).Defaults.stop_words)
    except (ImportError, KeyError):  # spaCy has no class for this language code (its error E048 is an ImportError)
        return frozenset()


@lru_cache(maxsize=None)
def stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(SNOWBALL.get(language, "english"))


@lru_cache(maxsize=None)
def _pipeline(language: str) -> Language:
    with _lock:
        try:
            nlp = spacy.blank(language)
        except ImportError:  # spaCy has no class for this language code (E048): its multi-language tokenizer
            nlp = spacy.blank("xx")
        if language in LEMMA_LANGUAGES:
            nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
            nlp.initialize()
        return nlp


def normaliser(language: str) -> Language:
    """A spaCy pipeline whose tokens carry `norm_` = lower-case lemma (or Snowball stem) for phrase matching."""
    return _pipeline(language if language in SNOWBALL or language in LEMMA_LANGUAGES else "en")


def normalise_doc(nlp: Language, text: str):
    """Run the pipeline on lower-cased text and set each token's NORM to its lemma or stem."""
    doc = nlp(text.lower())
    language = nlp.lang
    has_lemmas = language in LEMMA_LANGUAGES
    stem = stemmer(language)
    for token in doc:
        if has_lemmas and token.lemma_:
            token.norm_ = token.lemma_.lower()
        else:
            token.norm_ = stem.stemWord(token.lower_)
    return doc


@lru_cache(maxsize=None)
def lexicon(language: str) -> frozenset[str]:
    """Known word forms of a language (spaCy lookup lemmatizer tables); empty where no table exists.

    Used to tell a misspelling from a correct word that the indexed content merely never uses.
    """
    if language not in LEMMA_LANGUAGES:
        return frozenset()
    from spacy.util import load_language_data, registry

    # The table's plain JSON, not `spacy.lookups.Table`: that hashes each of up to 600,000 keys (seconds per
    # language) while only the lemmas (the values) are used.
    try:
        source = registry.lookups.get(language)["lemma_lookup"]
        table = source if isinstance(source, dict) else load_language_data(source)
    except (ValueError, KeyError, OSError):
        return frozenset()
    return frozenset(str(word).lower() for word in table.values())


def lexical_terms(text: str, language: str | None, also_stop: frozenset[str] = frozenset()) -> list[str]:
    """Stemmed, stop-word-free terms for BM25; one analyser per language, English for unknown.

    A hyphenated or elided word yields itself and its parts ("low-emission" -> "low-emiss", "low", "emiss";
    "l'efficacité" -> also "efficac"), so an exact compound still scores highest while "emission" alone finds it
    too (SciFact lexical nDCG@10 0.669 -> 0.688, eval/README.md).
    """
    language = language if language in SNOWBALL else "en"
    stops = stop_words(language) | also_stop
    stem = stemmer(language)
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        word = match.group(0).lower()
        group = [word] if word not in stops else []
        if _JOINER.search(word):
            group += [part for part in _JOINER.split(word) if len(part) > 1 and part not in stops]
        terms += dict.fromkeys(stem.stemWords(group))  # a part that stems like its compound counts once
    return terms


def surface_words(text: str) -> list[str]:
    return [match.group(0).lower() for match in _TOKEN.finditer(text)]
