"""Multi-label tagging of passages by emission domain, barrier and lever of change, rolled up to the resource.

Evidence per passage and label comes from label knowledge (`label_knowledge.py`: IPCC 2006 categories, the
thesaurus, the taxonomy), never from sample texts:
- meaning: the passage vector against many prototype phrases of the label; the label's score is the mean of the
  `top_k` closest prototypes. English passages use the main encoder (MiniLM); other languages use the
  multilingual encoder when the index has one (MiniLM is an English model: it ranked the right domain first
  for 53% of the non-English labelled passages, the multilingual encoder for 84%);
- relative meaning: the score minus the family's mean and minus the best other label (the encoders' cosines are
  close together; the ranking is not), and for domains minus the score of cross-cutting climate text, so that a
  general climate strategy is not "the nearest domain";
- rules: distinct phrases of the label (taxonomy synonyms and thesaurus terms, the passage's language plus
  English) found by spaCy's PhraseMatcher over normalised text; for barriers also how many general obstacle words
  the passage has (`OBSTACLE_CUE_STEMS`: "delay", "lack", "Hürde", "brak" ...), since whether a passage discusses an
  obstacle at all is the barriers' hardest decision.

A per-family calibrator (`tagger_weights.json`, fitted by `python -m nzc_knowledge.ingest.train_tagger` on the
"tune" half of the hand-labelled passages in eval/tags/passages.jsonl) turns the evidence into a probability:
a logistic combination of the label-agnostic features above, then isotonic regression, so that confidence 0.8
means "right about 8 times in 10" on labelled passages. A passage gets a label when its probability passes
the family's threshold, or the label's own where the weights fix one (at most `max_per_family`); a resource gets a
label when its passages do (see `roll_up`), judged with resource thresholds of its own ("resource_thresholds", fitted
on the tune half's curated resources by `train_tagger --resources-from`). Cross-cutting text gets no domain, and a
resource without climate content (no domain, and no passage close to cross-cutting climate text) gets no tags at all.

`tagger_fingerprint()` hashes the weights and the label knowledge; the ingest pipeline records it, so a change of
either (a new cue phrase, refitted weights) rebuilds the snapshots.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from spacy.matcher import PhraseMatcher

from nzc_knowledge.encoders import Encoder
from nzc_knowledge.ingest.label_knowledge import (
    FAMILY_CONTEXT_PHRASES,
    OBSTACLE_CUE_STEMS,
    cross_cutting_phrases,
    label_phrases,
)
from nzc_knowledge.ingest.phrase_vectors import PhraseVectors
from nzc_knowledge.models import Chunk, Tag
from nzc_knowledge.taxonomy import FAMILIES, TAG_FAMILIES, keys_of
from nzc_knowledge.thesaurus import CONCEPTS
from nzc_knowledge.text.analysis import normalise_doc, normaliser

WEIGHTS_FILE = Path(__file__).with_name("tagger_weights.json")
MAIN_SPACE, MULTILINGUAL_SPACE = "main", "multilingual"
DEFAULT_TOP_K = 10
FEATURES = ("similarity", "above_family_mean", "above_best_other", "phrases", "above_cross_cutting", "family_context",
            "obstacle_cues")
OBSTACLE_CUES = re.compile(r"\b(?:" + "|".join(re.escape(stem) for stem in OBSTACLE_CUE_STEMS) + ")", re.IGNORECASE)


@dataclass(frozen=True)
class TaggerSettings:
    """Decision settings of the tagger, recorded in the snapshot manifest."""

    threshold: float = 0.5  # calibrated probability a label needs where the weights fix no threshold for its family
    max_per_family: int = 3
    resource_passages: int = 2  # a resource label needs this many labelled passages, or ...
    resource_share: float = 0.25  # ... this share of its passages (short resources), see roll_up


class Calibrator:
    """Features -> probability: a logistic combination, then an isotonic (non-decreasing) map fitted on labels.

    Example:
        calibrator = Calibrator.from_dict(weights["domains"]["main"])
        probabilities = calibrator(features)  # (n, n_features) -> (n,)
    """

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float,
                 knots_x: np.ndarray, knots_y: np.ndarray) -> None:
        if len(knots_x) != len(knots_y) or len(knots_x) < 2:
            raise ValueError("a calibrator needs at least two isotonic knots, as many x as y")
        if np.any(np.diff(knots_x) < 0) or np.any(np.diff(knots_y) < 0):
            raise ValueError("isotonic knots must be non-decreasing in x and y")
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept
        self.knots_x, self.knots_y = knots_x, knots_y

    def score(self, features: np.ndarray) -> np.ndarray:
        """The uncalibrated evidence score (logistic decision value)."""
        return ((features - self.mean) / self.scale) @ self.coef + self.intercept

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return np.interp(self.score(features), self.knots_x, self.knots_y)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        return cls(np.asarray(data["mean"]), np.asarray(data["scale"]), np.asarray(data["coef"]),
                   float(data["intercept"]), np.asarray(data["isotonic_x"]), np.asarray(data["isotonic_y"]))

    def to_dict(self) -> dict[str, Any]:
        return {"mean": _rounded(self.mean), "scale": _rounded(self.scale), "coef": _rounded(self.coef),
                "intercept": round(float(self.intercept), 6), "isotonic_x": _rounded(self.knots_x),
                "isotonic_y": _rounded(self.knots_y)}


def tagger_fingerprint(weights_file: Path = WEIGHTS_FILE) -> str:
    """Hash of everything that decides the tags besides the encoders and `TaggerSettings`: the fitted weights and the
    label knowledge (prototype and cue phrases in every language), so that editing either rebuilds the snapshots."""
    return _knowledge_fingerprint(Path(weights_file).read_bytes())


@lru_cache(maxsize=4)
def _knowledge_fingerprint(weights: bytes) -> str:
    from nzc_knowledge.text.language import SUPPORTED_LANGUAGES

    knowledge = {
        language: {
            "labels": {f"{family}:{label.key}": [label_phrases(family, label.key, language), sorted(label.synonyms.items())]
                       for family, labels in FAMILIES.items() for label in labels},
            "cross_cutting": cross_cutting_phrases(language),
        }
        for language in sorted(SUPPORTED_LANGUAGES)
    }
    knowledge["context"] = FAMILY_CONTEXT_PHRASES
    knowledge["obstacle_cues"] = OBSTACLE_CUE_STEMS
    digest = hashlib.sha256(weights)
    digest.update(json.dumps(knowledge, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(value), 6) for value in values]


def _best_other(scores: np.ndarray) -> np.ndarray:
    """(passages x labels): for each label, the highest score among the other labels of the row."""
    if scores.shape[1] < 2:
        return np.full_like(scores, -np.inf)
    order = np.sort(scores, axis=1)
    best, second = order[:, -1:], order[:, -2:-1]
    return np.where(scores == best, second, best)


def label_thresholds(weights: dict[str, Any], family: str, default: float) -> np.ndarray:
    """The decision threshold of each label of `family` (taxonomy order): the weights' per-label threshold where they
    give one, else the family's threshold, else `default`."""
    family_threshold = float(weights.get("thresholds", {}).get(family, default))
    own = weights.get("label_thresholds", {}).get(family, {})
    return np.array([float(own.get(key, family_threshold)) for key in keys_of(family)])


def resource_label_thresholds(weights: dict[str, Any], family: str, default: float) -> np.ndarray:
    """The threshold of each label of `family` for a resource's rolled-up probability: the weights'
    "resource_thresholds" (per family, per label where given) when fitted, else the passage thresholds.

    A rolled-up probability is a mean over a resource's best passages, a different quantity from one passage's
    probability, so the thresholds are fitted apart (on the tune half's curated resources)."""
    fitted = weights.get("resource_thresholds")
    if not fitted or family not in fitted.get("families", {}):
        return label_thresholds(weights, family, default)
    family_threshold = float(fitted["families"][family])
    own = fitted.get("labels", {}).get(family, {})
    return np.array([float(own.get(key, family_threshold)) for key in keys_of(family)])


def passing_labels(probabilities: np.ndarray, thresholds: float | np.ndarray, max_per_family: int) -> np.ndarray:
    """0/1 (items x labels): the labels whose probability passes their threshold (one for all, or one per label), at
    most `max_per_family` most probable per item."""
    decided = np.zeros(probabilities.shape, dtype=np.int64)
    needed = np.broadcast_to(np.asarray(thresholds, dtype=float), probabilities.shape[1:])
    for row, values in enumerate(probabilities):
        for column in np.argsort(-values, kind="stable")[:max_per_family]:
            if values[column] >= needed[column]:
                decided[row, column] = 1
    return decided


def roll_up(passage_probabilities: np.ndarray, settings: TaggerSettings) -> np.ndarray:
    """Resource-level probability per label from (passages x labels) probabilities.

    A label counts for the resource when enough passages carry it: its confidence is the mean of the
    `resource_passages` most confident passages, or of the top `resource_share` of passages when that is fewer,
    so one passing mention in a long report does not tag the report, while a one-passage page can be tagged.
    """
    if passage_probabilities.size == 0:
        return np.zeros(passage_probabilities.shape[1] if passage_probabilities.ndim == 2 else 0)
    count = len(passage_probabilities)
    needed = max(1, min(settings.resource_passages, math.ceil(settings.resource_share * count)))
    ordered = -np.sort(-passage_probabilities, axis=0)
    return ordered[:needed].mean(axis=0)


class Tagger:
    """Tags passages and resources.

    Example:
        tagger = Tagger(encoder, multilingual_encoder=use)
        resource_tags, chunk_tags = tagger.tag(chunks, chunk_vectors, "it", multilingual_vectors)
    """

    def __init__(self, encoder: Encoder, settings: TaggerSettings | None = None, weights_file: Path = WEIGHTS_FILE,
                 multilingual_encoder: Encoder | None = None, weights: dict[str, Any] | None = None,
                 phrase_cache: Path | None = None) -> None:
        """`phrase_cache`: folder keeping the prototype phrases' vectors per encoder (phrase_vectors.py); None:
        encoded in memory by each tagger."""
        self.encoder = encoder
        self.phrase_cache = phrase_cache
        self.settings = settings or TaggerSettings()
        self.weights = weights if weights is not None else json.loads(Path(weights_file).read_text(encoding="utf-8"))
        # the number of prototypes averaged per label was chosen on the tune half together with the calibrators
        self.top_k = int(self.weights.get("top_k", DEFAULT_TOP_K))
        trained_with = self.weights.get("encoders", {}).get(MULTILINGUAL_SPACE)
        # calibrators are specific to an encoder's cosine scale: use the multilingual space only with the encoder
        # its calibrator was fitted for (empty weights: the calibrators are being fitted now)
        usable = multilingual_encoder is not None and (
            not self.weights.get("families") or multilingual_encoder.info.name == trained_with)
        self.multilingual_encoder = multilingual_encoder if usable else None
        self.calibrators = {
            family: {space: Calibrator.from_dict(data) for space, data in self.weights.get("families", {}).get(family, {}).items()}
            for family in TAG_FAMILIES
        }
        self.climate_gate = {space: float(value) for space, value in self.weights.get("climate_gate", {}).items()}
        self._prototypes: dict[tuple[str, str], dict[str, list[np.ndarray]]] = {}
        self._phrase_vectors: dict[str, PhraseVectors] = {}
        # decision thresholds per label (a family's own, or per label where that won on the tune half), chosen on the
        # tune half for F1; the probabilities stay calibrated
        self.thresholds = {family: label_thresholds(self.weights, family, self.settings.threshold) for family in TAG_FAMILIES}
        self.resource_thresholds = {family: resource_label_thresholds(self.weights, family, self.settings.threshold)
                                    for family in TAG_FAMILIES}
        self._matchers: dict[str, PhraseMatcher] = {}

    # ---- label knowledge as vectors -----------------------------------------------------------------------
    def prototypes(self, space: str, language: str) -> dict[str, list[np.ndarray]]:
        """family -> one (phrases x dim) matrix per label, plus "cross_cutting" -> [matrix]."""
        language = language if space == MULTILINGUAL_SPACE else "en"
        if (space, language) not in self._prototypes:
            encoder = self.multilingual_encoder if space == MULTILINGUAL_SPACE else self.encoder
            groups: list[tuple[str, tuple[str, ...]]] = [
                (family, label_phrases(family, label.key, language)) for family, labels in FAMILIES.items() for label in labels
            ]
            groups.append(("cross_cutting", cross_cutting_phrases(language)))
            groups += [(f"context:{family}", phrases) for family, phrases in FAMILY_CONTEXT_PHRASES.items()]
            phrases = [phrase for _, group in groups for phrase in group]
            # most phrases (English, IPCC) are shared by every language: encode each phrase once per encoder
            if space not in self._phrase_vectors:
                self._phrase_vectors[space] = PhraseVectors(encoder, self.phrase_cache)
            vectors = self._phrase_vectors[space].matrix(phrases)
            result: dict[str, list[np.ndarray]] = {}
            start = 0
            for family, group in groups:
                result.setdefault(family, []).append(vectors[start : start + len(group)])
                start += len(group)
            self._prototypes[(space, language)] = result
        return self._prototypes[(space, language)]

    def _knowledge_scores(self, vectors: np.ndarray, prototypes: list[np.ndarray]) -> np.ndarray:
        """(passages x labels): mean cosine of each label's top_k closest prototype phrases."""
        scores = np.zeros((len(vectors), len(prototypes)), dtype=np.float32)
        for column, matrix in enumerate(prototypes):
            # One (1 x dim) product per passage, stacked: the same floats as scoring passages one at a time (a single
            # matrix product of all passages sums in another order and moves the last bits).
            similarities = (vectors[:, None, :] @ matrix.T)[:, 0, :]
            k = min(self.top_k, matrix.shape[0])
            scores[:, column] = np.sort(similarities, axis=1)[:, -k:].mean(axis=1)
        return scores

    # ---- rules ----------------------------------------------------------------------------------------------
    def prepare_matchers(self, languages: Iterable[str | None]) -> None:
        """Build the phrase matchers of these passage languages now (their spaCy tokenizers load with them): the
        ingest pipeline runs this in a thread while the encoders, which release the GIL, embed the passages."""
        for language in dict.fromkeys(language or "en" for language in languages):
            self._matcher(language)

    def _matcher(self, language: str) -> PhraseMatcher:
        if language not in self._matchers:
            nlp = normaliser(language)
            matcher = PhraseMatcher(nlp.vocab, attr="NORM")
            for family, labels in FAMILIES.items():
                for label in labels:
                    phrases = set(label.synonyms.get("en", ())) | set(label.synonyms.get(language, ()))
                    if family == "domains":
                        for concept in CONCEPTS:
                            if concept.domain == label.key:
                                phrases |= set(concept.terms.get("en", ())) | set(concept.terms.get(language, ()))
                    phrases = {phrase for phrase in phrases if not (phrase.isupper() and len(phrase) <= 5)}
                    matcher.add(f"{family}:{label.key}", [normalise_doc(nlp, phrase) for phrase in sorted(phrases)])
            self._matchers[language] = matcher
        return self._matchers[language]

    def phrase_hits(self, text: str, language: str | None) -> dict[str, Counter[str]]:
        """Matched phrases per 'family:key' label in a text."""
        language = language or "en"
        matcher = self._matcher(language)
        doc = normalise_doc(normaliser(language), text)
        hits: dict[str, Counter[str]] = {}
        for match_id, start, end in matcher(doc):
            hits.setdefault(doc.vocab.strings[match_id], Counter())[" ".join(token.norm_ for token in doc[start:end])] += 1
        return hits

    # ---- evidence -> probabilities --------------------------------------------------------------------------
    def space_of(self, language: str | None) -> str:
        """Which vectors a passage in `language` is scored with."""
        return MULTILINGUAL_SPACE if (language or "en") != "en" and self.multilingual_encoder is not None else MAIN_SPACE

    def features(self, texts: Sequence[str], languages: Sequence[str | None], vectors: np.ndarray,
                 multilingual_vectors: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], list[str], np.ndarray]:
        """family -> (passages x labels x FEATURES) evidence, the space each passage was scored in, and each
        passage's similarity to cross-cutting climate text."""
        count = len(texts)
        cross_scores = np.zeros(count, dtype=np.float32)
        result = {family: np.zeros((count, len(FAMILIES[family]), len(FEATURES)), dtype=np.float32) for family in TAG_FAMILIES}
        spaces = [self.space_of(language) if multilingual_vectors is not None else MAIN_SPACE for language in languages]
        # Scored a group of passages at a time (one space and language: the same prototypes), not a passage and a
        # label at a time: the same features from a few matrix operations per group.
        groups: dict[tuple[str, str], list[int]] = {}
        for row, (space, language) in enumerate(zip(spaces, languages, strict=True)):
            groups.setdefault((space, language or "en"), []).append(row)
        for (space, language), rows in groups.items():
            group_vectors = (multilingual_vectors if space == MULTILINGUAL_SPACE else vectors)[rows]
            prototypes = self.prototypes(space, language)
            cross = self._knowledge_scores(group_vectors, prototypes["cross_cutting"])[:, 0]
            cross_scores[rows] = cross
            for family in TAG_FAMILIES:
                scores = self._knowledge_scores(group_vectors, prototypes[family])  # (passages x labels)
                context_prototypes = prototypes.get(f"context:{family}")
                context = (self._knowledge_scores(group_vectors, context_prototypes)[:, 0] if context_prototypes
                           else np.zeros(len(rows), dtype=np.float32))
                features = result[family]
                features[rows, :, 0] = scores
                features[rows, :, 1] = scores - scores.mean(axis=1, keepdims=True)
                features[rows, :, 2] = scores - _best_other(scores)
                features[rows, :, 4] = scores - cross[:, None]
                features[rows, :, 5] = context[:, None]
        for row, (text, language) in enumerate(zip(texts, languages, strict=True)):
            hits = self.phrase_hits(text, language)
            for family in TAG_FAMILIES:
                result[family][row, :, 3] = [math.log1p(len(hits.get(f"{family}:{label.key}", ())))
                                             for label in FAMILIES[family]]
            # evidence of an obstacle for every barrier alike (other families keep 0: their calibrators ignore it)
            result["barriers"][row, :, 6] = math.log1p(len(OBSTACLE_CUES.findall(text)))
        return result, spaces, cross_scores

    def probabilities(self, features: dict[str, np.ndarray], spaces: Sequence[str]) -> dict[str, np.ndarray]:
        """family -> (passages x labels) calibrated probabilities."""
        result = {}
        for family, values in features.items():
            probabilities = np.zeros(values.shape[:2])
            for space in set(spaces):
                rows = np.array([s == space for s in spaces])
                calibrator = self.calibrators[family].get(space) or self.calibrators[family][MAIN_SPACE]
                flat = values[rows].reshape(-1, values.shape[2])
                probabilities[rows] = calibrator(flat).reshape(int(rows.sum()), values.shape[1])
            result[family] = probabilities
        return result

    def passage_probabilities(self, texts: Sequence[str], languages: Sequence[str | None], vectors: np.ndarray,
                              multilingual_vectors: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """family -> (passages x labels) calibrated probabilities for raw passages, and how far each passage is
        above the climate-text gate of its space (its closeness to cross-cutting climate phrases minus the gate)."""
        features, spaces, cross = self.features(texts, languages, vectors, multilingual_vectors)
        climate = np.array([score - self.climate_gate.get(space, -1.0) for score, space in zip(cross, spaces, strict=True)])
        return self.probabilities(features, spaces), climate

    def has_climate_content(self, resource_tags: dict[str, list[Tag]], climate_margins: np.ndarray) -> bool:
        """A domain, or passages that read as climate text: the best two (or the only one) above the gate on average,
        so one stray passage of an events page is not enough."""
        if resource_tags["domains"]:
            return True
        best = -np.sort(-climate_margins)[:2]
        return bool(best.size) and float(best.mean()) >= 0.0

    def decide(self, probabilities: dict[str, np.ndarray], resource: bool = False) -> dict[str, list[Tag]]:
        """Tags from one row of probabilities per family: the most probable labels that pass their threshold (the
        resource thresholds for rolled-up probabilities, `resource=True`; else the passage thresholds)."""
        thresholds = self.resource_thresholds if resource else self.thresholds
        tags: dict[str, list[Tag]] = {}
        for family in TAG_FAMILIES:
            scored = sorted(((float(p), label.key) for p, label in zip(probabilities[family], FAMILIES[family], strict=True)),
                            key=lambda pair: (-pair[0], pair[1]))
            needed = dict(zip(keys_of(family), thresholds[family], strict=True))
            tags[family] = [Tag(key=key, confidence=round(score, 3)) for score, key in scored[: self.settings.max_per_family]
                            if score >= needed[key]]
        return tags

    def tag(self, chunks: Sequence[Chunk], chunk_vectors: np.ndarray, language: str | None,
            multilingual_vectors: np.ndarray | None = None) -> tuple[dict[str, list[Tag]], list[dict[str, list[Tag]]]]:
        """Tags of the whole resource (rolled up from its passages) and of each passage."""
        empty = {family: [] for family in TAG_FAMILIES}
        if not chunks:
            return empty, []
        languages = [chunk.language or language for chunk in chunks]
        probabilities, cross = self.passage_probabilities([chunk.text for chunk in chunks], languages, chunk_vectors,
                                                          multilingual_vectors)
        chunk_tags = [self.decide({family: values[row] for family, values in probabilities.items()}) for row in range(len(chunks))]
        resource = self.decide({family: roll_up(values, self.settings) for family, values in probabilities.items()},
                               resource=True)
        if not self.has_climate_content(resource, cross):
            # an events calendar or a page without climate content: a lever or barrier word alone is no topic
            return empty, [dict(empty) for _ in chunks]
        return resource, chunk_tags
