"""Barrier cue phrases on whole texts through the real tagger and encoders."""

from __future__ import annotations

import pytest

from nzc_knowledge.encoders import USE_ENCODER
from nzc_knowledge.ingest.chunk import Chunker, ChunkerSettings
from nzc_knowledge.ingest.extract.blocks import assemble
from nzc_knowledge.ingest.tag import Tagger

from barrier_texts import ACCEPTANCE_PL, PROCUREMENT_DE


@pytest.fixture(scope="module")
def tag_text(encoder, encoders):
    multilingual = encoders.get(USE_ENCODER)
    tagger = Tagger(encoder, multilingual_encoder=multilingual)
    chunker = Chunker(ChunkerSettings(), encoder.count_tokens)

    def run(text: str, language: str) -> dict[str, list[str]]:
        chunks = chunker.split("t", assemble([("paragraph", text, None, 0)], title=None, fmt="text"))
        for chunk in chunks:
            chunk.language = language
        texts = [chunk.text for chunk in chunks]
        resource_tags, _ = tagger.tag(chunks, encoder.encode_passages(texts), language,
                                      multilingual.encode_passages(texts))
        return {family: [tag.key for tag in tags] for family, tags in resource_tags.items()}

    return run


def test_german_procurement_rules_get_the_procurement_barrier(tag_text):
    keys = tag_text(PROCUREMENT_DE, "de")
    assert "procurement" in keys["barriers"]
    assert "acceptance" not in keys["barriers"]


def test_polish_public_opposition_gets_the_acceptance_barrier(tag_text):
    keys = tag_text(ACCEPTANCE_PL, "pl")
    assert "acceptance" in keys["barriers"]
    assert "procurement" not in keys["barriers"]
