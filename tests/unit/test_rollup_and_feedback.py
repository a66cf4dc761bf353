"""Passage roll-up to resources and dense pseudo-relevance feedback (RankingSettings). No model needed."""

from __future__ import annotations

import numpy as np
import pytest

from nzc_knowledge.encoders import EncoderInfo
from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import LexicalIndex
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.models import Chunk, Resource
from nzc_knowledge.search.service import RankingSettings, SearchService
from nzc_knowledge.text.analysis import lexical_terms


class _FixedEncoder:
    """Every query maps to the first axis; passages get the vectors a test gives them."""

    def __init__(self) -> None:
        self.info = EncoderInfo(name="fixed", dimension=3, normalized=True, max_seq_length=128)

    def encode_queries(self, texts):
        return np.tile(np.array([1.0, 0.0, 0.0], dtype=np.float32), (len(texts), 1))

    def encode_passages(self, texts, batch_size=32, show_progress=False):
        raise NotImplementedError

    def count_tokens(self, texts):
        return [len(text.split()) for text in texts]


def _service(passages: list[tuple[str, str, list[float]]], **ranking) -> SearchService:
    """A one-language snapshot of (resource id, passage text, passage vector) rows; a resource may have several rows."""
    ids = list(dict.fromkeys(resource for resource, _, _ in passages))
    resources = [Resource(id=key, file=f"{key}.md", title=key, language="en",
                          text=" ".join(text for owner, text, _ in passages if owner == key)) for key in ids]
    chunks = [Chunk(id=f"{owner}#{row}", resource_id=owner, ordinal=row, text=text, start=0, end=len(text), page=None,
                    heading=None, token_count=len(text.split()), language="en")
              for row, (owner, text, _) in enumerate(passages)]
    vectors = np.array([vector for _, _, vector in passages], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    snapshot = Snapshot(
        manifest={"snapshot_id": "rollup-test", "encoder": {"name": "fixed"}},
        resources=resources, chunks=chunks,
        dense=DenseIndex.build(vectors),
        lexical=LexicalIndex.build([lexical_terms(text, "en") for _, text, _ in passages]),
    )
    return SearchService(snapshot, _FixedEncoder(), RankingSettings(**ranking))


# "a-single" has the single best passage; "b-several" three passages that all match, each a little less well.
ROLLUP_PASSAGES = [
    ("a-single", "Kerbside bin collection calendar for the old town.", [1.0, 0.05, 0.0]),
    ("a-single", "Opening hours of the town hall.", [0.0, 1.0, 0.0]),
    ("b-several", "Bin collection routes were redrawn.", [1.0, 0.2, 0.0]),
    ("b-several", "Bin collection crews and their trucks.", [1.0, 0.3, 0.0]),
    ("b-several", "Households rated the new bin collection.", [1.0, 0.4, 0.0]),
]


def _order(service: SearchService, query: str) -> list[str]:
    return [hit.resource.id for hit in service.search(query, limit=10).hits]


def test_best_passage_alone_decides_without_rollup():
    assert _order(_service(ROLLUP_PASSAGES), "bin collection calendar")[0] == "a-single"


def test_with_rollup_a_resource_several_passages_of_which_match_comes_first():
    assert _order(_service(ROLLUP_PASSAGES, rollup_share=0.75, rollup_passages=4), "bin collection calendar")[0] == "b-several"


def test_rollup_counts_at_most_rollup_passages_passages():
    service = _service(ROLLUP_PASSAGES, rollup_share=0.5, rollup_passages=2)
    fused, matching = service.rank_chunks(service.search("bin collection").analysed, None)
    hits = {hit.resource.id: hit.score for hit in service.rank_resources(fused, matching)}
    b_scores = sorted((fused[row] for row in (2, 3, 4)), reverse=True)
    assert hits["b-several"] == pytest.approx(b_scores[0] + 0.5 * b_scores[1], abs=1e-6)


# Dense feedback: "a-exact" has every query word and is the dense favourite; "b-near" sits next to it in vector space
# but further from the query; "c-away" is closer to the query than "b-near" but away from "a-exact"; "d-weak" is too
# far from the query (below min_dense_similarity) to be a match on its own, yet close to "a-exact".
FEEDBACK_PASSAGES = [
    ("a-exact", "Door-to-door biowaste collection with pay-as-you-throw.", [0.8, 0.6, 0.0]),
    ("b-near", "Biowaste bins for flats.", [0.6, 0.8, 0.0]),
    ("c-away", "Biowaste bins at the market.", [0.7, 0.0, 0.714]),
    ("d-weak", "The compost plant's annual report.", [0.25, 0.968, 0.0]),
]
QUERY = "door-to-door biowaste collection pay-as-you-throw"


def test_feedback_moves_the_ranking_towards_the_top_passages_neighbours():
    before = _order(_service(FEEDBACK_PASSAGES), QUERY)
    after = _order(_service(FEEDBACK_PASSAGES, dense_feedback_weight=1.5, dense_feedback_depth=1), QUERY)
    assert before.index("c-away") < before.index("b-near")
    assert after.index("b-near") < after.index("c-away")


@pytest.mark.parametrize("weight", [0.5, 1.5, 5.0])
def test_feedback_never_drops_or_demotes_the_resource_matching_every_query_word(weight):
    after = _order(_service(FEEDBACK_PASSAGES, dense_feedback_weight=weight, dense_feedback_depth=1), QUERY)
    assert after[0] == "a-exact"


def test_feedback_reorders_but_adds_no_resource_to_the_results():
    plain = _service(FEEDBACK_PASSAGES)
    fed = _service(FEEDBACK_PASSAGES, dense_feedback_weight=5.0, dense_feedback_depth=1)
    assert "d-weak" not in _order(plain, QUERY)
    assert set(_order(fed, QUERY)) == set(_order(plain, QUERY))
    assert fed.search(QUERY).total == plain.search(QUERY).total
