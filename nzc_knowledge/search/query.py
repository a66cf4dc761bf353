"""Query analysis: spelling correction against the index vocabulary, thesaurus expansion, lexical terms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from nzc_knowledge.search.expansion import expand_query
from nzc_knowledge.text.analysis import lexical_terms, lexicon, stop_words
from nzc_knowledge.text.language import detect_language

_WORD = re.compile(r"\w+", re.UNICODE)
MIN_CORRECTABLE_LENGTH = 4  # shorter words are too often acronyms or valid rare words


@dataclass
class AnalysedQuery:
    """What the retrievers use: the corrected text for the encoder, stemmed terms for BM25, and the thesaurus
    expansion kept apart (its own terms and text) so that ranking can weigh it below the query's own words."""

    original: str
    corrected: str
    language: str | None
    dense_text: str
    terms: list[str] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)  # the thesaurus phrases added to the query
    analysed_in: tuple[str, ...] = ()  # the languages whose analysers made `terms`
    expansion_terms: list[str] = field(default_factory=list)  # stemmed terms of `expansions` not already in `terms`
    expansion_languages: tuple[str, ...] = ()  # the languages `expansion_terms` were analysed in
    expanded_dense_text: str | None = None  # the query followed by its expansions, for a second query vector
    concepts: list[str] = field(default_factory=list)  # the thesaurus concepts the query names
    expansion_coverage: float = 0.0  # the share of the query's words the recognised thesaurus variants account for

    @property
    def was_corrected(self) -> bool:
        return self.corrected != self.original


class SpellingCorrector:
    """Replaces words the index has never seen by the most frequent close word it has seen.

    Edit distance 1 for words up to 6 letters, 2 beyond ("distict heeting" -> "district heating").
    """

    LEXICON_LANGUAGES = ("en", "de", "fr", "it", "es", "nl")

    def __init__(self, vocabulary: dict[str, int], min_frequency: int = 2) -> None:
        self.known = {word for word in vocabulary if word.isalpha()}
        self.frequency = {word: count for word, count in vocabulary.items() if count >= min_frequency and word.isalpha()}
        self.words = list(self.frequency)

    def is_known(self, word: str) -> bool:
        """In the index or a correct word of a main EU language (so 'island' is not 'corrected' to 'inland')."""
        return word in self.known or any(word in lexicon(language) for language in self.LEXICON_LANGUAGES)

    def correct_word(self, word: str) -> str:
        lower = word.lower()
        if len(lower) < MIN_CORRECTABLE_LENGTH or not lower.isalpha() or not self.words or self.is_known(lower):
            return word
        if any(character.isupper() for character in word[1:]):
            return word  # "ITAM", "dLNs", "EMAs": acronyms and symbols, not misspellings
        limit = 1 if len(lower) <= 6 else 2
        candidates = process.extract(lower, self.words, scorer=Levenshtein.distance, score_cutoff=limit, limit=20)
        if not candidates:
            return word
        best = min(candidates, key=lambda item: (item[1], -self.frequency[item[0]], item[0]))
        return best[0]

    def correct(self, text: str) -> str:
        return _WORD.sub(lambda match: self.correct_word(match.group(0)), text)


def analyse_query(
    text: str, corrector: SpellingCorrector | None, index_languages: tuple[str, ...] = ("en",)
) -> AnalysedQuery:
    """Correct, expand and analyse a query.

    The lexical side analyses the query in its detected language only, so the Italian "porta a porta" is not
    stemmed by the English analyser into "port"; when the language of a short query cannot be told, in
    English and every language the index holds, so "Wärmeplanung" still meets the German analyser that
    indexed it.
    """
    original = " ".join(text.split())
    corrected = corrector.correct(original) if corrector else original
    language = detect_language(corrected, default=None, min_confidence=0.8)
    analysers = tuple(dict.fromkeys([language] if language else ["en", *index_languages]))
    # A query of unknown language is analysed several ways; a word that is a stop word in any of them ("as",
    # "by") is left out of all, or the German analyser would keep the English "by" as a search term.
    any_stop = frozenset().union(*(stop_words(analyser) for analyser in analysers)) if len(analysers) > 1 else frozenset()

    def analyse(text: str) -> list[str]:
        return list(dict.fromkeys(term for analyser in analysers for term in lexical_terms(text, analyser, any_stop)))

    terms = analyse(corrected)
    expansion = expand_query(corrected, language, analysers)
    extra = expansion.phrases
    # Phrases in the query's language go through the query's analysers; English ones through the English analyser,
    # so a thesaurus match gives BM25 evidence on English passages for a foreign query too ("zona a traffico
    # limitato" -> "limited traffic zone").
    expansion_terms: list[str] = []
    for phrase, phrase_language in zip(extra, expansion.languages, strict=True):
        stems = analyse(phrase) if phrase_language in analysers else lexical_terms(phrase, phrase_language)
        expansion_terms += [term for term in stems if term not in terms and term not in expansion_terms]
    expansion_languages = tuple(dict.fromkeys([*analysers, *expansion.languages])) if extra else ()
    expanded_dense_text = f"{corrected} ({'; '.join(extra)})" if extra else None
    # An acronym means nothing to an encoder: its query vector is the expanded one (search/expansion.py).
    dense_text = expanded_dense_text if extra and expansion.acronym else corrected
    return AnalysedQuery(original, corrected, language, dense_text, terms, extra, analysers, expansion_terms,
                         expansion_languages, expanded_dense_text, expansion.concepts, expansion.coverage)
