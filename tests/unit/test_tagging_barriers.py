"""Barriers said the way reports say them, in several languages: cue phrases and the full tagger."""

from __future__ import annotations

import pytest

from nzc_knowledge.ingest.label_knowledge import BARRIER_STATEMENTS, label_phrases
from nzc_knowledge.ingest.tag import Tagger
from nzc_knowledge.taxonomy import keys_of

from barrier_texts import ACCEPTANCE_PL, PROCUREMENT_DE

REGULATION_IT = (
    "L'instabilità normativa ha bloccato i cantieri: le modifiche normative sulla cessione del credito e una sentenza "
    "del TAR hanno fermato i lavori di riqualificazione per due anni."
)
CAPACITY_FR = (
    "Le manque de compétences freine la rénovation : les artisans qualifiés sont trop peu nombreux et la petite "
    "équipe municipale manque de temps et de moyens humains pour monter les dossiers."
)


class _NoEncoder:
    """Phrase matching needs no encoder; any use of one would be a bug in this test."""


def test_barrier_cues_cover_every_language_of_the_corpus():
    for key in keys_of("barriers"):
        assert len(BARRIER_STATEMENTS[key]) >= 3, key
        for language in ("en", "de", "fr", "it", "es", "pl", "nl"):
            phrases = label_phrases("barriers", key, language)
            assert set(BARRIER_STATEMENTS[key]) <= set(phrases)
            assert len(phrases) > len(BARRIER_STATEMENTS[key]) + 10, (key, language)


@pytest.mark.parametrize(("text", "language", "family_key"), [
    (PROCUREMENT_DE, "de", "barriers:procurement"),
    (ACCEPTANCE_PL, "pl", "barriers:acceptance"),
    (REGULATION_IT, "it", "barriers:regulation"),
    (CAPACITY_FR, "fr", "barriers:capacity"),
])
def test_obstacle_phrasing_is_matched_in_its_language(text, language, family_key):
    hits = Tagger(_NoEncoder(), weights={}).phrase_hits(text, language)
    assert family_key in hits
    assert sum(hits[family_key].values()) >= 2


def test_a_plain_heat_pump_sentence_matches_no_barrier():
    text = "Die Stadt fördert Wärmepumpen in Einfamilienhäusern und berät die Eigentümer kostenlos."
    hits = Tagger(_NoEncoder(), weights={}).phrase_hits(text, "de")
    assert not [key for key in hits if key.startswith("barriers:")]


def test_tagger_fingerprint_follows_the_weights(tmp_path):
    from nzc_knowledge.ingest.tag import WEIGHTS_FILE, tagger_fingerprint

    copy = tmp_path / "weights.json"
    copy.write_bytes(WEIGHTS_FILE.read_bytes())
    assert tagger_fingerprint(copy) == tagger_fingerprint(WEIGHTS_FILE)
    copy.write_bytes(WEIGHTS_FILE.read_bytes().replace(b'"top_k"', b'"top_k" ', 1))
    assert tagger_fingerprint(copy) != tagger_fingerprint(WEIGHTS_FILE)


def test_tagger_fingerprint_follows_the_label_knowledge(monkeypatch):
    from nzc_knowledge.ingest import label_knowledge, tag

    before = tag.tagger_fingerprint()
    monkeypatch.setitem(label_knowledge.BARRIER_STATEMENTS, "finance", ("the bank refused the loan",))
    tag._knowledge_fingerprint.cache_clear()
    try:
        assert tag.tagger_fingerprint() != before
    finally:
        tag._knowledge_fingerprint.cache_clear()
