"""Query analysis and lexical terms: compounds, query language, spelling correction, synonyms. No model needed."""

from __future__ import annotations

from nzc_knowledge.search.query import SpellingCorrector, analyse_query
from nzc_knowledge.text.analysis import lexical_terms

VOCABULARY = {"district": 9, "heating": 12, "heat": 7, "port": 5, "tam": 4, "ema": 3, "financing": 6, "zone": 4}


def test_a_hyphenated_compound_is_indexed_whole_and_by_its_parts():
    terms = lexical_terms("Low-emission zones cut NO2", "en")
    assert terms[:3] == ["low-emiss", "low", "emiss"]
    assert "emiss" in lexical_terms("emission", "en")  # so the plain word meets the compound's part


def test_an_elided_article_does_not_hide_the_word():
    assert "efficac" in lexical_terms("l'efficacité énergétique", "fr")
    assert lexical_terms("l'efficacité", "fr").count("efficac") == 1  # a part stemming like its word counts once


def test_a_confident_foreign_query_is_analysed_in_its_own_language_only():
    analysed = analyse_query("raccolta dei rifiuti porta a porta", SpellingCorrector(VOCABULARY), ("en", "it"))
    assert analysed.language == "it"
    assert analysed.analysed_in == ("it",)


def test_a_query_of_unknown_language_drops_every_analysers_stop_words():
    analysed = analyse_query("PAYT", SpellingCorrector(VOCABULARY), ("de", "en", "it"))
    assert analysed.language is None and analysed.analysed_in == ("en", "de", "it")
    assert "pay-as-you-throw" in analysed.expansions
    assert not {"as", "you", "by"} & set(analysed.terms)  # English stop words the German analyser would keep
    assert len(analysed.terms) == len(set(analysed.terms))


def test_spelling_correction_fixes_typos_but_leaves_acronyms_and_symbols():
    corrector = SpellingCorrector(VOCABULARY)
    assert corrector.correct("distict heeting financing") == "district heating financing"
    assert corrector.correct("ITAM dLNs EMAs") == "ITAM dLNs EMAs"
    assert corrector.correct("Heeting") == "heating"  # a capitalised first letter is still a word
    assert SpellingCorrector({"energie": 5}).correct("énergie") == "énergie"  # a French word, not a typo
