"""Query expansion from the thesaurus: recognise a concept in a query, add the trade's words for it.

A concept is recognised when every stemmed, stop-word-free word of one of its variants occurs in the query
("stopping cars from driving into the old town" holds "cars ... old town"; "PAYT" is its own variant), so word
order, plurals and inflections do not matter. Technical variants (acronyms included) are recognised in every
language the query is analysed in; everyday variants only in the query's detected language, or English when the
language is unknown, so a plain English "flat" is not read as the Dutch for an apartment block.

The expansion is the concept's first technical terms in the query's language and in English. The search service
gives them their own, lower-weighted lexical and dense signals, so a resource that matches the query's own words
ranks above one that matches only an expansion. The recognised variants must account for at least half of the
query's words, so "bikes" in "cargo bikes tender" does not turn the query into one about cycling infrastructure.
One exception on the dense side: a query that names a concept by
its acronym ("LEZ", "PAYT") is encoded with its expansion, because the acronym alone means nothing to an encoder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from nzc_knowledge.taxonomy import CONCEPTS, Concept
from nzc_knowledge.text.analysis import lexical_terms

TERMS_PER_LANGUAGE = 3  # technical terms taken from each matched concept per language: the preferred ones come first
# The recognised variants must account for at least this share of the query's words: one plain word of a longer
# query ("bikes" in "cargo bikes tender") is not evidence that the query is about the concept behind it.
MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class _Variant:
    concept: Concept
    stems: frozenset[str]
    technical: bool
    acronym: bool  # "LEZ", "PAYT": a word an encoder cannot read, only its expansion says what it means


@dataclass
class Expansion:
    """The concepts a query names and the phrases that say the same in the trade's words."""

    concepts: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)  # the language of each phrase
    acronym: bool = False  # a concept was recognised by its acronym
    coverage: float = 0.0  # the share of the query's words that the recognised variants account for


@lru_cache(maxsize=None)
def _variants(language: str) -> tuple[_Variant, ...]:
    """Every concept variant of `language`, analysed by that language's analyser (built once per language)."""
    variants = []
    for concept in CONCEPTS:
        for phrases, technical in ((concept.terms.get(language, ()), True), (concept.everyday.get(language, ()), False)):
            for phrase in phrases:
                stems = frozenset(lexical_terms(phrase, language))
                if stems:  # a variant made only of stop words can never be told from noise
                    acronym = technical and " " not in phrase and phrase.isupper()
                    variants.append(_Variant(concept, stems, technical, acronym))
    return tuple(variants)


def expand_query(text: str, language: str | None, analysed_in: Iterable[str] = ("en",)) -> Expansion:
    """The thesaurus concepts `text` names and their technical phrases in `language` and English, without repeats.

    `language` is the query's detected language (None when unknown); `analysed_in` the languages whose analysers
    the lexical side uses for it.
    """
    everyday_language = language or "en"
    matched: list[Concept] = []
    acronym = False
    coverage = 0.0
    for analyser in dict.fromkeys([everyday_language, *analysed_in]):
        query_stems = set(lexical_terms(text, analyser))
        if not query_stems:
            continue
        explained: set[str] = set()
        for variant in _variants(analyser):
            if not (variant.technical or analyser == everyday_language) or not variant.stems <= query_stems:
                continue
            explained |= variant.stems
            if variant.concept not in matched:
                matched.append(variant.concept)
                acronym = acronym or variant.acronym
        coverage = max(coverage, len(explained) / len(query_stems))
    if coverage < MIN_COVERAGE:
        return Expansion()
    lowered = text.lower()
    expansion = Expansion([concept.key for concept in matched], acronym=acronym, coverage=coverage if matched else 0.0)
    for concept in matched:
        for phrase_language in dict.fromkeys([everyday_language, "en"]):
            for phrase in concept.terms.get(phrase_language, ())[:TERMS_PER_LANGUAGE]:
                if phrase.lower() not in lowered and phrase not in expansion.phrases:
                    expansion.phrases.append(phrase)
                    expansion.languages.append(phrase_language)
    return expansion
