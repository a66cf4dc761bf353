"""Per-language normalisation: spaCy tokenizers, lemmas from spaCy's lookup tables, Snowball stems where none exists.

Used by the tagger (phrase matching on normalised forms) and the lexical index (stemmed terms
without stop words), so both see "buildings", "building" and "Gebäuden"/"Gebäude" as one term.

The lemma of a token is what spaCy's lookup lemmatizer gives (`table.get(text, text)`), read from the same
spacy-lookups-data table, but from a plain dict: spaCy's `Lookups` table hashes every one of up to 600,000 keys
into its string store and a Bloom filter (2-4 s per language), the JSON parse alone takes a fraction of that, and
the spelling lexicon reads the same dict instead of parsing the file a second time.
"""

from __future__ import annotations

import re
import runpy
import threading
from functools import lru_cache
from pathlib import Path

import Stemmer
import spacy
import spacy.lang
from spacy.language import Language
from spacy.util import get_lang_class, load_language_data, registry

SNOWBALL = {"en": "english", "it": "italian", "de": "german", "fr": "french", "es": "spanish", "pl": "polish",
            "nl": "dutch", "pt": "portuguese", "da": "danish", "sv": "swedish", "fi": "finnish", "el": "greek",
            "hu": "hungarian", "ro": "romanian", "lt": "lithuanian", "et": "estonian", "ga": "irish", "cs": "czech"}
LEMMA_LANGUAGES = ("en", "it", "de", "fr", "es", "nl", "pt", "da", "sv", "ro")
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_JOINER = re.compile(r"[-'’]")
_lock = threading.Lock()
_SPACY_LANGUAGES = Path(spacy.lang.__file__).parent


@lru_cache(maxsize=None)
def stop_words(language: str) -> frozenset[str]:
    """spaCy's stop words of a language (its `Defaults.stop_words`); empty where spaCy has no class for the code."""
    if language in SNOWBALL:
        # Read from the language's stop_words.py, not its Language class: importing spacy.lang.fr compiles the
        # French tokenizer's regular expressions (4 s of CPU at a server's warm-up), which no query needs.
        words = runpy.run_path(str(_SPACY_LANGUAGES / language / "stop_words.py"))["STOP_WORDS"]
        return frozenset(word.lower() for word in words)
    try:
        # the language's defaults, not a `spacy.blank` pipeline: building its tokenizer is not needed for a word list
        return frozenset(word.lower() for word in get_lang_class(language).Defaults.stop_words)
    except (ImportError, KeyError):  # spaCy has no class for this language code (its error E048 is an ImportError)
        return frozenset()


@lru_cache(maxsize=None)
def stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(SNOWBALL.get(language, "english"))


@lru_cache(maxsize=None)
def _pipeline(language: str) -> Language:
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
    with _lock:
        try:
            source = registry.lookups.get(language)["lemma_lookup"]
            table = source if isinstance(source, dict) else load_language_data(source)
        except (ValueError, KeyError, OSError):  # spacy-lookups-data lacks the language or its table
            return {}
    if set(map(type, table.values())) <= {str}:  # every table but the French one (a copy would double the load time)
        return table
    # The French table gives every form a list of lemmas, of which spaCy's lookup lemmatizer takes the first. Kept
    # as strings, the table is a dict of strings only, which the garbage collector does not track: 217,000 lists
    # fewer to rescan in every full collection, and the lexicon holds French words, not the text of lists.
    return {form: lemma if isinstance(lemma, str) else (lemma[0] if lemma else "") for form, lemma in table.items()}


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
