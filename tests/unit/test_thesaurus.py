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


# ---- query expansion ---------------------------------------------------------------------------------------

def test_everyday_words_find_the_trades_concept_in_any_word_order():
    from nzc_knowledge.search.expansion import expand_query

    expansion = expand_query("shared bikes and e-scooters for students", "en")
    assert "micromobility" in expansion.concepts
    assert "micromobility" in expansion.phrases
    assert set(expansion.languages) == {"en"}
    assert expand_query("the old town: how to stop cars", "en").concepts == ["access_restriction_zone"]


def test_a_foreign_query_gets_technical_terms_in_its_language_and_in_english():
    from nzc_knowledge.search.expansion import expand_query

    expansion = expand_query("undichte Fenster im Altbau", "de", ("de",))
    assert "building_envelope" in expansion.concepts
    german = [phrase for phrase, language in zip(expansion.phrases, expansion.languages, strict=True) if language == "de"]
    english = [phrase for phrase, language in zip(expansion.phrases, expansion.languages, strict=True) if language == "en"]
    assert "gebäudehülle" in german and "building envelope" in english


def test_everyday_variants_count_only_in_the_querys_own_language():
    from nzc_knowledge.search.expansion import expand_query

    # "flat" is everyday Dutch for an apartment block; in an English query about roofs it is not that concept
    assert "multi_apartment_renovation" not in expand_query("flat roof drainage", None, ("en", "nl")).concepts
    assert "multi_apartment_renovation" in expand_query("oude flat", "nl", ("nl",)).concepts
    # technical variants and acronyms are recognised in every language the query is analysed in
    assert expand_query("LEZ", None, ("en", "it", "nl")).concepts == ["access_restriction_zone"]


def test_one_plain_word_of_a_longer_query_is_not_enough_to_name_a_concept():
    from nzc_knowledge.search.expansion import expand_query

    assert expand_query("cargo bikes tender", "en").concepts == []  # "bikes": a third of the query
    assert "micromobility" in expand_query("shared bikes", "en").concepts


def test_words_already_in_the_query_are_not_added_again():
    from nzc_knowledge.search.expansion import expand_query

    expansion = expand_query("low-emission zone rules", "en")
    assert "low-emission zone" not in expansion.phrases and "limited traffic zone" in expansion.phrases


def test_analysed_query_keeps_the_expansion_apart_from_the_querys_own_terms():
    from nzc_knowledge.search.query import analyse_query

    analysed = analyse_query("bin collection", None, ("en",))
    assert "waste_collection" in analysed.concepts
    assert analysed.dense_text == "bin collection"
    assert analysed.expanded_dense_text.startswith("bin collection (")
    assert "kerbsid" in analysed.expansion_terms and "kerbsid" not in analysed.terms
    assert not set(analysed.terms) & set(analysed.expansion_terms)


class _ConstantEncoder:
    """Every text gets the same vector: dense retrieval cannot prefer either resource."""

    def __init__(self) -> None:
        from nzc_knowledge.encoders import EncoderInfo

        self.info = EncoderInfo(name="constant", dimension=4, normalized=True, max_seq_length=128)

    def encode_passages(self, texts, batch_size=32, show_progress=False):
        import numpy as np

        return np.tile(np.array([0.5, 0.5, 0.5, 0.5], dtype=np.float32), (len(texts), 1))

    def encode_queries(self, texts):
        return self.encode_passages(texts)

    def count_tokens(self, texts):
        return [len(text.split()) for text in texts]


def _service(texts: dict[str, str], **ranking):
    from nzc_knowledge.index.dense import DenseIndex
    from nzc_knowledge.index.lexical import LexicalIndex
    from nzc_knowledge.index.snapshot import Snapshot
    from nzc_knowledge.models import Chunk, Resource
    from nzc_knowledge.search.service import RankingSettings, SearchService
    from nzc_knowledge.text.analysis import lexical_terms

    encoder = _ConstantEncoder()
    resources = [Resource(id=key, file=f"{key}.md", title=key, language="en", text=text) for key, text in texts.items()]
    chunks = [Chunk(id=f"{key}#0", resource_id=key, ordinal=0, text=text, start=0, end=len(text), page=None, heading=None,
                    token_count=len(text.split()), language="en") for key, text in texts.items()]
    snapshot = Snapshot(
        manifest={"snapshot_id": "thesaurus-test", "encoder": {"name": encoder.info.name}},
        resources=resources, chunks=chunks,
        dense=DenseIndex.build(encoder.encode_passages(list(texts.values()))),
        lexical=LexicalIndex.build([lexical_terms(text, "en") for text in texts.values()]),
    )
    return SearchService(snapshot, encoder, RankingSettings(**ranking))


def test_a_resource_matching_the_querys_own_words_ranks_above_one_matching_only_an_expansion():
    # Dense retrieval is switched off (weight 0) so that only the words decide; ids are chosen so that a tie in the
    # fused score would put the expansion-only resource first (ties break by id).
    texts = {
        "a-expansion-only": "Kerbside collection and separate collection of municipal solid waste in the districts.",
        "b-exact": "Bin schedules change in spring: the new calendar for households.",
        "c-unrelated": "Cycling lanes along the river.",
    }
    service = _service(texts, dense_weight=0)
    page = service.search("bin schedules", limit=3)
    assert page.analysed.concepts == ["waste_collection"]
    assert [hit.resource.id for hit in page.hits] == ["b-exact", "a-expansion-only"]  # found through the thesaurus
    assert [hit.resource.id for hit in _service(texts, dense_weight=0, expansion_weight=0).search("bin schedules").hits] == [
        "b-exact"]


@pytest.mark.parametrize("weight", [0.5, 0.9])
def test_exact_match_wins_at_every_expansion_weight_below_one(weight):
    texts = {"a-expansion-only": "Micromobility: shared micromobility and bike sharing schemes.",
             "b-exact": "E-scooters parked on pavements: rules for operators."}
    service = _service(texts, dense_weight=0, expansion_weight=weight)
    assert [hit.resource.id for hit in service.search("e-scooters", limit=2).hits] == ["b-exact", "a-expansion-only"]


def test_at_equal_weight_the_expansion_would_tie_with_the_exact_match():
    """Why the weight stays below 1: at 1 the two tie and the id decides."""
    texts = {"a-expansion-only": "Micromobility: shared micromobility and bike sharing schemes.",
             "b-exact": "E-scooters parked on pavements: rules for operators."}
    hits = _service(texts, dense_weight=0, expansion_weight=1.0).search("e-scooters", limit=2).hits
    assert hits[0].score == hits[1].score
