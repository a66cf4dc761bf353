"""Taxonomy tagging of short texts in two languages, with the real encoders (MiniLM, and USE for Italian)."""

from __future__ import annotations

import pytest

from nzc_knowledge.encoders import USE_ENCODER
from nzc_knowledge.ingest.chunk import Chunker, ChunkerSettings
from nzc_knowledge.ingest.extract.blocks import assemble
from nzc_knowledge.ingest.tag import Tagger
from nzc_knowledge.taxonomy import FAMILIES, TYPE_KEYS

ENGLISH = (
    "The city extended its district heating network and installed large heat pumps. The main obstacle was the "
    "upfront cost: the municipal budget could not cover the investment, so the utility took a loan from the "
    "European Investment Bank and received an ELENA grant for project preparation."
)
ITALIAN = (
    "Il Comune ha promosso una comunità energetica rinnovabile con impianti fotovoltaici sui tetti delle scuole. "
    "Il quadro normativo incerto e le autorizzazioni lente hanno rallentato il progetto; un bando ha finanziato "
    "gli impianti con un contributo a fondo perduto e i cittadini hanno partecipato a un processo partecipativo."
)
STRATEGY = (
    "The climate strategy commits the city to climate neutrality by 2030. It sets out the governance of the climate "
    "city contract, the annual reporting of greenhouse gas emissions against the baseline inventory and the role of the "
    "climate office in coordinating all departments."
)
EVENTS = (
    "The Saturday market opens at eight on the main square. The museum stays open until midnight on Thursday "
    "with live jazz, and the half marathon starts on the second Sunday of October."
)


@pytest.fixture(scope="module")
def tag(encoder, encoders):
    multilingual = encoders.get(USE_ENCODER)
    tagger = Tagger(encoder, multilingual_encoder=multilingual)
    chunker = Chunker(ChunkerSettings(), encoder.count_tokens)

    def run(text: str, language: str):
        document = assemble([("paragraph", text, None, 0)], title=None, fmt="text")
        chunks = chunker.split("t", document)
        for chunk in chunks:
            chunk.language = language
        texts = [chunk.text for chunk in chunks]
        vectors, multilingual_vectors = encoder.encode_passages(texts), multilingual.encode_passages(texts)
        resource_tags, chunk_tags = tagger.tag(chunks, vectors, language, multilingual_vectors)
        return {family: [t.key for t in tags] for family, tags in resource_tags.items()}, resource_tags, chunk_tags

    return run


def test_english_text(tag):
    keys, tags, chunk_tags = tag(ENGLISH, "en")
    assert keys["domains"][0] == "energy"
    assert "finance" in keys["barriers"]
    assert "finance" in keys["levers"]
    assert "mobility" not in keys["domains"] and "waste_circular" not in keys["domains"]
    assert all(0.0 < t.confidence <= 1.0 and t.source == "predicted" for family in tags.values() for t in family)
    assert chunk_tags[0]["domains"][0].key == "energy"


def test_italian_text(tag):
    keys, _, _ = tag(ITALIAN, "it")
    assert keys["domains"][0] == "energy"
    assert "regulation" in keys["barriers"]
    assert "participation" in keys["levers"] or "finance" in keys["levers"]


def test_text_without_climate_content_gets_no_tags(tag):
    keys, _, chunk_tags = tag(EVENTS, "en")
    assert keys == {"domains": [], "barriers": [], "levers": []}
    assert all(not tags for chunk in chunk_tags for tags in chunk.values())


def test_general_climate_strategy_is_not_given_a_domain(tag):
    keys, _, _ = tag(STRATEGY, "en")
    assert keys["domains"] == []
    assert "governance" in keys["levers"]


def test_taxonomy_keys_are_the_contract():
    assert [label.key for label in FAMILIES["domains"]] == ["energy", "buildings", "mobility", "waste_circular",
                                                            "nature_based", "industry"]
    assert [label.key for label in FAMILIES["barriers"]] == ["finance", "regulation", "capacity", "governance", "data",
                                                             "acceptance", "technology", "procurement"]
    assert [label.key for label in FAMILIES["levers"]] == ["technology", "governance", "finance", "social_innovation",
                                                           "learning", "participation"]
    assert TYPE_KEYS == ("case_study", "factsheet", "method_note", "guide", "financing_note")
    for labels in FAMILIES.values():
        for label in labels:
            assert label.description and label.synonyms.get("en")
            assert {"it", "de", "fr", "es", "pl", "nl"} <= set(label.synonyms)
