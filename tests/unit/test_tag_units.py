"""Tagger parts without a model: roll-up, calibration, thresholds, climate gate, label knowledge, data loaders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nzc_knowledge.eval.tags import SDG_DOMAINS, load_sdg_check
from nzc_knowledge.ingest.label_knowledge import IPCC_DOMAIN_CATEGORIES, cross_cutting_phrases, ipcc_phrases, label_phrases
from nzc_knowledge.ingest.tag import FEATURES, OBSTACLE_CUES, Calibrator, Tagger, TaggerSettings, roll_up
from nzc_knowledge.ingest.train_tagger import (
    RolledUpResources,
    best_threshold,
    fit_calibrator,
    fit_resource_thresholds,
    load_passages,
    per_label_thresholds,
)
from nzc_knowledge.models import Chunk, Tag
from nzc_knowledge.taxonomy import keys_of


def test_roll_up_needs_more_than_one_passing_mention_in_a_long_resource():
    settings = TaggerSettings(resource_passages=2, resource_share=0.25)
    # ten passages: label 0 is carried by one passage only, label 1 by three
    probabilities = np.zeros((10, 2))
    probabilities[0, 0] = 0.95
    probabilities[[1, 2, 3], 1] = [0.9, 0.8, 0.7]
    rolled = roll_up(probabilities, settings)
    assert rolled[0] == pytest.approx(0.475)  # mean of the two best: one mention is not enough
    assert rolled[1] == pytest.approx(0.85)


def test_roll_up_of_a_short_resource_follows_its_passage():
    settings = TaggerSettings(resource_passages=2, resource_share=0.25)
    one_passage = np.array([[0.8, 0.1]])
    assert roll_up(one_passage, settings).tolist() == pytest.approx([0.8, 0.1])
    three = np.array([[0.9, 0.0], [0.1, 0.0], [0.0, 0.6]])  # ceil(0.25 * 3) = 1 passage suffices
    assert roll_up(three, settings).tolist() == pytest.approx([0.9, 0.6])


def test_isotonic_calibration_is_monotone_and_bounded():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(600, len(FEATURES)))
    truth = (features[:, 0] + 0.5 * rng.normal(size=600) > 0.8).astype(int)
    calibrator, out_of_fold = fit_calibrator(features, truth, np.arange(600) % 12)
    line = np.zeros((50, len(FEATURES)))
    line[:, 0] = np.linspace(-4, 4, 50)  # more of the informative feature, all else equal
    probabilities = calibrator(line)
    assert np.all(np.diff(probabilities) >= 0)
    assert probabilities[0] < 0.1 < 0.9 < probabilities[-1]
    assert np.all((0 <= out_of_fold) & (out_of_fold <= 1))
    # round trip through the weights file keeps the same function
    again = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))
    assert np.allclose(again(line), probabilities, atol=1e-4)


def test_calibrator_rejects_decreasing_knots():
    with pytest.raises(ValueError, match="non-decreasing"):
        Calibrator(np.zeros(1), np.ones(1), np.ones(1), 0.0, np.array([0.0, 1.0]), np.array([0.9, 0.1]))


def test_best_threshold_maximises_f1():
    probabilities = np.array([0.9, 0.8, 0.3, 0.26, 0.2, 0.1])
    truth = np.array([1, 1, 1, 1, 0, 0])
    assert best_threshold(probabilities, truth) == pytest.approx(0.25)


class _NoEncoder:
    """Stands in for an encoder in tests that never encode."""


def _weights() -> dict:
    knots = {"mean": [0.0] * len(FEATURES), "scale": [1.0] * len(FEATURES), "coef": [1.0] + [0.0] * (len(FEATURES) - 1),
             "intercept": 0.0, "isotonic_x": [0.0, 1.0], "isotonic_y": [0.0, 1.0]}
    return {"top_k": 3, "families": {f: {"main": knots} for f in ("domains", "barriers", "levers")},
            "thresholds": {"domains": 0.5, "barriers": 0.3, "levers": 0.5}, "climate_gate": {"main": 0.2}}


def test_cross_cutting_text_gets_no_domain_but_keeps_its_lever():
    tagger = Tagger(_NoEncoder(), weights=_weights())
    # a general climate strategy: no domain passes, governance does, and the text is climate text (gate passed)
    probabilities = {"domains": np.array([0.3, 0.2, 0.1, 0.1, 0.4, 0.1]),
                     "barriers": np.zeros(8), "levers": np.array([0.0, 0.8, 0.0, 0.0, 0.0, 0.0])}
    tags = tagger.decide(probabilities)
    assert tags["domains"] == [] and [t.key for t in tags["levers"]] == ["governance"]
    assert tagger.has_climate_content(tags, np.array([0.05]))  # its passage is above the climate-text gate
    # an events page: nothing passes; one of four passages slightly above the gate is not enough
    assert not tagger.has_climate_content({"domains": []}, np.array([-0.09, -0.08, -0.04, 0.01]))
    assert tagger.has_climate_content({"domains": []}, np.array([-0.09, 0.03, 0.02, 0.01]))
    assert tagger.has_climate_content({"domains": [Tag("energy", 0.9)]}, np.array([-0.5]))


def test_family_thresholds_come_from_the_weights():
    tagger = Tagger(_NoEncoder(), weights=_weights())
    probabilities = {"domains": np.zeros(6), "barriers": np.array([0.35, 0, 0, 0, 0, 0, 0, 0.25]), "levers": np.zeros(6)}
    assert [t.key for t in tagger.decide(probabilities)["barriers"]] == ["finance"]  # 0.35 >= 0.3 > 0.25
    assert tagger.top_k == 3


def test_a_label_threshold_in_the_weights_overrides_its_family_threshold():
    weights = _weights() | {"label_thresholds": {"barriers": {"procurement": 0.2, "finance": 0.4}}}
    tagger = Tagger(_NoEncoder(), weights=weights)
    assert tagger.thresholds["barriers"].tolist() == pytest.approx([0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.2])
    probabilities = {"domains": np.zeros(6), "barriers": np.array([0.35, 0.32, 0, 0, 0, 0, 0, 0.25]), "levers": np.zeros(6)}
    # finance now needs 0.4, regulation keeps the family's 0.3, procurement passes its own 0.2
    assert [t.key for t in tagger.decide(probabilities)["barriers"]] == ["regulation", "procurement"]


def test_a_resource_is_decided_with_the_resource_threshold_not_the_passage_one():
    weights = _weights() | {"label_thresholds": {"barriers": {"finance": 0.6}},
                            "resource_thresholds": {"families": {"domains": 0.5, "barriers": 0.2, "levers": 0.5},
                                                    "labels": {"barriers": {"procurement": 0.1}}}}
    tagger = Tagger(_NoEncoder(), weights=weights)
    rolled_up = {"domains": np.zeros(6), "barriers": np.array([0.25, 0, 0, 0, 0, 0, 0, 0.15]), "levers": np.zeros(6)}
    # passage thresholds: finance needs its own 0.6, procurement the family's 0.3 -> nothing passes
    assert tagger.decide(rolled_up)["barriers"] == []
    # resource thresholds: the family's 0.2 (the passage label threshold does not apply) and procurement's own 0.1
    assert [t.key for t in tagger.decide(rolled_up, resource=True)["barriers"]] == ["finance", "procurement"]
    # a family without fitted resource thresholds falls back to the passage thresholds
    del weights["resource_thresholds"]["families"]["levers"]
    assert Tagger(_NoEncoder(), weights=weights).resource_thresholds["levers"].tolist() == pytest.approx([0.5] * 6)


def test_tag_rolls_up_and_applies_the_resource_threshold(monkeypatch):
    weights = _weights() | {"resource_thresholds": {"families": {"domains": 0.5, "barriers": 0.2, "levers": 0.5}}}
    tagger = Tagger(_NoEncoder(), weights=weights)
    barriers = np.zeros((2, 8))
    barriers[:, 0] = [0.25, 0.25]  # below the passage threshold 0.3, above the resource threshold 0.2
    probabilities = {"domains": np.tile([0.9, 0, 0, 0, 0, 0], (2, 1)), "barriers": barriers, "levers": np.zeros((2, 6))}
    monkeypatch.setattr(tagger, "passage_probabilities", lambda *args: (probabilities, np.array([0.1, 0.1])))
    chunks = [Chunk(f"r#{i}", "r", i, "text", 0, 4, None, None, 1) for i in range(2)]
    resource, passages = tagger.tag(chunks, np.zeros((2, 4)), "en")
    assert [t.key for t in resource["barriers"]] == ["finance"]
    assert all(tags["barriers"] == [] for tags in passages)


def test_resource_thresholds_are_chosen_on_the_included_resources_only():
    # one barrier label; tune resources (included) are separated at 0.3, the others would want 0.55
    rolled = np.array([0.35, 0.33, 0.32, 0.31, 0.2, 0.18, 0.15, 0.1, 0.6, 0.58, 0.5, 0.45, 0.35, 0.3])
    truth = np.array([1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0])
    include = np.array([True] * 8 + [False] * 6)
    count = len(rolled)

    def family(values: np.ndarray, labels: int) -> np.ndarray:
        return np.hstack([values[:, None], np.zeros((count, labels - 1), dtype=values.dtype)])

    resources = RolledUpResources(
        ids=[str(i) for i in range(count)],
        probabilities={"domains": family(np.full(count, 0.9), 6), "barriers": family(rolled, 8),
                       "levers": np.zeros((count, 6))},
        climate_text=np.ones(count, dtype=bool),
        truth={"domains": family(np.ones(count, dtype=np.int64), 6), "barriers": family(truth, 8),
               "levers": np.zeros((count, 6), dtype=np.int64)},
        judged={name: np.ones(count, dtype=bool) for name in ("domains", "barriers", "levers")},
    )
    passage = {"domains": np.full(6, 0.5), "barriers": np.full(8, 0.5), "levers": np.full(6, 0.5)}
    fitted = fit_resource_thresholds(resources, include, passage, max_per_family=3, folds=4)
    # the passage threshold (0.5) tags none of the tune resources: the fitted one beats it on the folds
    assert 0.2 < fitted["families"]["barriers"] <= 0.3
    assert fitted["trained_on"]["resources"]["barriers"] == 8
    assert "levers" not in fitted["families"]  # no curated levers: nothing beats the passage threshold


def test_per_label_thresholds_move_only_labels_with_enough_support():
    # label 0: positives score 0.5-0.6 and negatives 0.3-0.45, so its best threshold is above the family's 0.3;
    # label 1 has the same pattern but only two labelled passages: it keeps the family threshold
    probabilities = np.array([[0.6, 0.6], [0.55, 0.55], [0.5, 0.1], [0.5, 0.1], [0.5, 0.1], [0.45, 0.45], [0.4, 0.4],
                              [0.35, 0.35], [0.3, 0.3]])
    truth = np.array([[1, 1], [1, 1], [1, 0], [1, 0], [1, 0], [0, 0], [0, 0], [0, 0], [0, 0]])
    thresholds = per_label_thresholds(probabilities, truth, family_threshold=0.3, max_per_family=2, min_support=5)
    assert thresholds[0] == pytest.approx(0.5) and thresholds[1] == pytest.approx(0.3)


def test_obstacle_cues_count_obstacle_words_in_every_corpus_language():
    said = {
        "en": "The main obstacle was a lack of staff, which caused a delay.",
        "de": "Die größte Hürde war fehlendes Personal; das führte zu Verzögerungen.",
        "it": "L'ostacolo principale è stata la carenza di personale, con ritardi nei lavori.",
        "pl": "Główną przeszkodą był brak kadr, co spowodowało opóźnienia.",
        "nl": "Het grootste obstakel was een tekort aan personeel, met vertraging als gevolg.",
    }
    for language, text in said.items():
        assert len(OBSTACLE_CUES.findall(text)) >= 3, language
    assert not OBSTACLE_CUES.findall("The city installs heat pumps in schools and trains caretakers to run them.")


def test_label_knowledge_comes_from_the_ipcc_categories_and_the_thesaurus():
    assert set(IPCC_DOMAIN_CATEGORIES) == set(keys_of("domains"))
    assert "Road Transportation" in ipcc_phrases("mobility")
    assert "Solid Waste Disposal" in ipcc_phrases("waste_circular")
    assert "Photovoltaics" not in ipcc_phrases("industry")  # IPCC's electronics products are left out on purpose
    assert "Residential" in ipcc_phrases("buildings")
    german = label_phrases("domains", "energy", "de")
    assert "fernwärme" in german and "district heating" in german  # taxonomy in both languages, thesaurus terms too
    assert "climate city contract" in cross_cutting_phrases()
    assert not set(cross_cutting_phrases()) & set(label_phrases("domains", "nature_based"))


def test_sdg_mapping_loader_keeps_only_relevant_snippets_of_mapped_sdgs():
    snippets = load_sdg_check()
    assert {s.sdg for s in snippets} == {*SDG_DOMAINS, 13}
    assert all(s.domain == SDG_DOMAINS.get(s.sdg) for s in snippets)
    assert sum(s.domain is not None for s in snippets) == 162  # positives of SDG 7, 9, 12, 15 in the benchmark
    assert len({s.id for s in snippets}) == len(snippets)
    only_energy = load_sdg_check({7: "energy"})
    assert {s.sdg for s in only_energy} == {7, 13} and all(s.text for s in only_energy)


def test_labelled_passages_file_is_valid_and_split_by_resource(tmp_path):
    passages = load_passages()
    assert len(passages) >= 300
    assert len({p.language for p in passages}) >= 4
    by_resource: dict[str, set[str]] = {}
    for passage in passages:
        by_resource.setdefault(passage.resource_id, set()).add(passage.split)
    assert all(len(splits) == 1 for splits in by_resource.values())
    assert {p.split for p in passages} == {"tune", "held_out"}
    bad = tmp_path / "bad.jsonl"
    row = {"id": "x", "resource_id": "r", "language": "en", "split": "tune", "text": "t",
           "domains": ["energy", "space"], "barriers": [], "levers": []}
    bad.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: unknown domains \['space'\]"):
        load_passages(bad)
