"""Normalisation for phrase matching: lemmas from spaCy's lookup tables, read without spaCy's `Lookups`."""

from __future__ import annotations

import spacy

from spacy.util import get_lang_class

from nzc_knowledge.text.analysis import SNOWBALL, lemma_table, lexicon, normalise_doc, normaliser, stop_words


def test_norms_equal_what_spacys_lookup_lemmatizer_gives():
    # English: its table is the smallest, so building spaCy's own lemmatizer stays cheap in a unit test
    reference = spacy.blank("en")
    reference.add_pipe("lemmatizer", config={"mode": "lookup"})
    reference.initialize()
    words = sorted(lemma_table("en"))[::40]  # about 1,000 forms from every part of the alphabet
    text = " ".join(words) + " Buildings were retrofitted; low-emission zones"
    expected = [token.lemma_.lower() for token in reference(text.lower())]
    assert [token.norm_ for token in normalise_doc(normaliser("en"), text)] == expected
    assert len(expected) > 1000


def test_lemma_or_stem_per_language():
    assert [token.norm_ for token in normalise_doc(normaliser("de"), "wurden saniert")] == ["werden", "sanieren"]
    # Polish has no lookup table: the Snowball stem
    assert lemma_table("pl") == {}
    assert [token.norm_ for token in normalise_doc(normaliser("pl"), "budynkach")] == ["budynk"]


def test_french_lemmas_come_from_its_table_of_lemma_lists():
    # spaCy's French table gives each form a list of lemmas; its lookup lemmatizer takes the first
    doc = normalise_doc(normaliser("fr"), "Les portes étaient ouvertes aux énergies renouvelables")
    assert [token.norm_ for token in doc] == ["le", "porte", "être", "ouvert", "aux", "énergie", "renouvelable"]
    assert {"porte", "être", "énergie"} <= lexicon("fr")  # words, not the text of lists ("['porte']")


def test_the_lexicon_holds_the_lemmas_and_stop_words_come_from_the_language_defaults():
    assert "building" in lexicon("en") and lexicon("pl") == frozenset()
    assert {"the", "and"} <= stop_words("en") and "und" in stop_words("de")
    assert stop_words("tlh") == frozenset()  # no spaCy class for the code


def test_stop_words_read_from_spacys_files_equal_its_language_defaults():
    for language in SNOWBALL:  # the languages whose stop words are read without importing their Language class
        assert stop_words(language) == {word.lower() for word in get_lang_class(language).Defaults.stop_words}
        assert len(stop_words(language)) > 20, language
