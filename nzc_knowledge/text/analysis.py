"""Per-language normalisation: spaCy tokenizers, lemmas from spaCy's lookup tables, Snowball stems where none exists.

Used by the tagger (phrase matching on normalised forms) and the lexical index (stemmed terms
without stop words), so both see "buildings", "building" and "Gebäuden"/"Gebäude" as one term.

The lemma of a token is what spaCy's lookup lemmatizer gives (`table.get(text, text)`), read from the same
spacy-lookups-data table, but from a plain dict: spaCy's `Lookups` table hashes every one of up to 600,000 keys
into its string store and a Bloom filter (2-4 s per language), the JSON parse alone takes a fraction of that, and
the spelling lexicon reads the same dict instead of parsing the file a second time.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import Stemmer

if TYPE_CHECKING:
    from spacy.language import Language

# spaCy is imported only where a tokenizer pipeline is built (the tagger): importing it imports thinc and torch,
# seconds of a server's start for nothing, since search needs only word lists, stemmers and lemma tables.

SNOWBALL = {"en": "english", "it": "italian", "de": "german", "fr": "french", "es": "spanish", "pl": "polish",
            "nl": "dutch", "pt": "portuguese", "da": "danish", "sv": "swedish", "fi": "finnish", "el": "greek",
            "hu": "hungarian", "ro": "romanian", "lt": "lithuanian", "et": "estonian", "ga": "irish", "cs": "czech"}
LEMMA_LANGUAGES = ("en", "it", "de", "fr", "es", "nl", "pt", "da", "sv", "ro")
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_JOINER = re.compile(r"[-'’]")
_lock = threading.Lock()
_SPACY_LANG = Path(importlib.util.find_spec("spacy").submodule_search_locations[0]) / "lang"  # found, not imported


@lru_cache(maxsize=None)
def stop_words(language: str) -> frozenset[str]:
    # spaCy's word list file on its own: importing the language's package compiles its tokenizer exceptions (French:
    # seconds of regular expressions), which a word list does not need and a starting server would wait for.
    path = _SPACY_LANG / language / "stop_words.py" if language.isalpha() else None
    if path is None or not path.is_file():
        from spacy.util import get_lang_class

        try:
            return frozenset(word.lower() for word in get_lang_class(language).Defaults.stop_words)
        except (ImportError, KeyError):  # spaCy has no class for this language code (its error E048 is an ImportError)
            return frozenset()
    spec = importlib.util.spec_from_file_location(f"_nzc_stop_words_{language}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(word.lower() for word in module.STOP_WORDS)


@lru_cache(maxsize=None)
def stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(SNOWBALL.get(language, "english"))


@lru_cache(maxsize=None)
def _pipeline(language: str) -> Language:
    import spacy

    with _lock:
        try:
            return spacy.blank(language)
        except ImportError:  # spaCy has no class for this language code (E048): its multi-language tokenizer
            return spacy.blank("xx")


@lru_cache(maxsize=None)
def lemma_table(language: str) -> dict[str, str]:
    """spaCy's lookup lemmatizer table of a language (word form -> lemma); empty where no table exists."""
    if language not in LEMMA_LANGUAGES:
        return {}
    import spacy_lookups_data  # what spaCy's `registry.lookups` names, read without importing spaCy

    with _lock:
        try:
            source = getattr(spacy_lookups_data, language)["lemma_lookup"]
            table = source if isinstance(source, dict) else _read_json_table(Path(str(source)))
        except (ValueError, KeyError, OSError, AttributeError):  # spacy-lookups-data lacks the language or its table
            return {}
    if set(map(type, table.values())) <= {str}:  # every table but the French one (a copy would double the load time)
        return table
    # The French table gives every form a list of lemmas, of which spaCy's lookup lemmatizer takes the first. Kept
    # as strings, the table is a dict of strings only, which the garbage collector does not track: 217,000 lists
    # fewer to rescan in every full collection, and the lexicon holds French words, not the text of lists.
    return {form: lemma if isinstance(lemma, str) else (lemma[0] if lemma else "") for form, lemma in table.items()}


def _read_json_table(path: Path) -> dict[str, str]:
    """A lookups table file, or its gzipped twin (as spaCy's `load_language_data` reads it)."""
    if path.exists():
        return json.loads(path.read_bytes())
    zipped = path.with_suffix(path.suffix + ".gz")
    if zipped.exists():
        return json.loads(gzip.decompress(zipped.read_bytes()))
    raise ValueError(f"no lookups table {path.name}")


def normaliser(language: str) -> Language:
    """The spaCy tokenizer pipeline `normalise_doc` uses for `language` (English for an unknown code)."""
    return _pipeline(language if language in SNOWBALL or language in LEMMA_LANGUAGES else "en")


def normalise_doc(nlp: Language, text: str):
    """Tokenise lower-cased text and set each token's NORM to its lemma (spaCy's lookup table) or Snowball stem."""
    doc = nlp(text.lower())
    language = nlp.lang
    lemmas = lemma_table(language)
    stem = stemmer(language)
    for token in doc:
        lemma = lemmas.get(token.text, token.text) if lemmas else ""
        token.norm_ = lemma.lower() if lemma else stem.stemWord(token.lower_)
    return doc


@lru_cache(maxsize=None)
def lexicon(language: str) -> frozenset[str]:
    """Known word forms of a language (spaCy lookup lemmatizer tables); empty where no table exists.

    Used to tell a misspelling from a correct word that the indexed content merely never uses.
    """
    return frozenset(lemma.lower() for lemma in lemma_table(language).values() if lemma)


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
