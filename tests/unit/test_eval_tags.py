"""Tag quality against curated tags, checked on a hand-made case."""

from __future__ import annotations

import json

import pytest

from nzc_knowledge.eval.tags import tag_quality
from nzc_knowledge.ingest.manifest import curated_empty_families
from nzc_knowledge.models import Resource, Tag


def resource(resource_id: str, curated: list[str], predicted: list[str]) -> Resource:
    return Resource(
        id=resource_id, file=f"{resource_id}.md", title=resource_id,
        domains=[Tag(key, 1.0, "curated") for key in curated] or [Tag(key, 0.6, "predicted") for key in predicted],
        predicted={"domains": [Tag(key, 0.6, "predicted") for key in predicted]},
    )


def test_precision_recall_f1_match_hand_computation():
    resources = [
        resource("r1", ["energy", "buildings"], ["energy"]),  # TP energy, FN buildings
        resource("r2", ["mobility"], ["mobility", "energy"]),  # TP mobility, FP energy
        resource("calendar", [], ["energy"]),  # curated as 'no domain': FP energy
        resource("unjudged", [], ["industry"]),  # no curated judgment at all: left out
    ]
    quality = tag_quality(resources, {"domains": {"calendar"}})["domains"]
    assert quality.resources == 3
    assert quality.micro.precision == pytest.approx(2 / 4)
    assert quality.micro.recall == pytest.approx(2 / 3)
    assert quality.micro.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    energy, buildings, mobility = (quality.labels[key] for key in ("energy", "buildings", "mobility"))
    assert (energy.precision, energy.recall, energy.f1) == pytest.approx((1 / 3, 1.0, 0.5))
    assert (buildings.precision, buildings.recall, buildings.support) == (0.0, 0.0, 1)
    assert (mobility.precision, mobility.recall) == (1.0, 1.0)
    assert quality.labels["industry"].predicted == 0  # the unjudged resource does not count
    # macro F1 averages all six domain labels, labels without support or predictions count as 0
    assert quality.macro.f1 == pytest.approx((0.5 + 0.0 + 1.0) / 6)
    assert quality.exact_match == pytest.approx(0.0)


def test_manifest_empty_lists_are_judgments(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    lines = [{"id": "calendar", "file": "c.html", "domains": [], "barriers": []},
             {"id": "milan", "file": "m.md", "domains": ["mobility"]}]
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n", encoding="utf-8")
    empty = curated_empty_families(manifest)
    assert empty["domains"] == {"calendar"} and empty["barriers"] == {"calendar"} and empty["levers"] == set()
    assert curated_empty_families(tmp_path / "missing.jsonl") == {"domains": set(), "barriers": set(), "levers": set()}


def test_include_keeps_only_the_chosen_resources():
    resources = [resource("a", ["energy"], ["energy"]), resource("b", ["mobility"], ["energy"])]
    quality = tag_quality(resources, include=lambda resource_id: resource_id == "a")["domains"]
    assert quality.resources == 1 and quality.micro.f1 == 1.0


def test_reliability_brier_and_bins_match_hand_computation():
    import numpy as np

    from nzc_knowledge.eval.tags import reliability

    probabilities = {"domains": np.array([[0.9, 0.1], [0.8, 0.3]])}
    truth = {"domains": np.array([[1, 0], [0, 0]])}
    result = reliability(probabilities, truth, {"domains": 0.25}, bins=2)
    assert result.brier == pytest.approx((0.01 + 0.01 + 0.64 + 0.09) / 4)
    assert result.brier_base_rate == pytest.approx((0.5625 + 3 * 0.0625) / 4)
    assert result.bins_count == [2, 2]  # below / above 0.5
    assert result.bins_predicted == pytest.approx([0.2, 0.85]) and result.bins_observed == pytest.approx([0.0, 0.5])


def test_decisions_keep_the_most_probable_labels_above_threshold():
    import numpy as np

    from nzc_knowledge.eval.tags import scores_from_matrices
    from nzc_knowledge.ingest.tag import passing_labels

    probabilities = np.array([[0.9, 0.7, 0.6, 0.2], [0.1, 0.2, 0.3, 0.4]])
    decided = passing_labels(probabilities, 0.5, max_per_family=2)
    assert decided.tolist() == [[1, 1, 0, 0], [0, 0, 0, 0]]
    # a label with its own threshold: the second label needs more, the fourth less (only the two most probable count)
    own = passing_labels(probabilities, np.array([0.5, 0.8, 0.5, 0.35]), max_per_family=2)
    assert own.tolist() == [[1, 0, 0, 0], [0, 0, 0, 1]]
    quality = scores_from_matrices(np.array([[1, 0, 1, 0], [0, 0, 0, 1]]), decided, ["a", "b", "c", "d"], 2)
    assert quality.micro.precision == pytest.approx(0.5) and quality.micro.recall == pytest.approx(1 / 3)
    assert quality.labels["a"].f1 == 1.0 and quality.labels["b"].precision == 0.0
