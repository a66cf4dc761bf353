"""The multilingual thesaurus: shape of the data and the query expansion built on it. No model needed."""

from __future__ import annotations

import pytest

from nzc_knowledge.taxonomy import CONCEPTS, DOMAINS, THESAURUS_LANGUAGES, concept, concepts_of_domain


def test_every_concept_names_itself_in_every_main_language():
    for item in CONCEPTS:
        for language in THESAURUS_LANGUAGES:
            assert item.terms.get(language), f"{item.key} has no technical term in {language}"
            assert item.everyday.get(language), f"{item.key} has no everyday variant in {language}"


def test_concept_keys_are_unique_and_domains_are_contract_keys():
    keys = [item.key for item in CONCEPTS]
    assert len(keys) == len(set(keys))
    domain_keys = {label.key for label in DOMAINS}
    assert {item.domain for item in CONCEPTS} - {None} <= domain_keys
    assert all(concepts_of_domain(key) for key in domain_keys)


def test_concept_lookup_by_key():
    assert "micromobility" in concept("micromobility").terms["en"]
    with pytest.raises(KeyError, match="not a thesaurus concept"):
        concept("no-such-concept")
