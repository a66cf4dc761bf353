"""Multi-label tagging of chunks and resources by emission domain, barrier and lever of change.

Two kinds of evidence per label:
- rules: spaCy PhraseMatcher over lemmatised text with the taxonomy's synonyms in the text's language (plus
  English, which city reports mix in); distinct phrases count more than one phrase repeated;
- meaning: cosine similarity between passage vectors and the label's description vector, absolute and
  relative to the other labels of the family (the encoder's cosines are close together; the ranking is not).
A small logistic model per family (weights in `tagger_weights.json`, trained by
`python -m nzc_knowledge.ingest.train_tagger` on half of the sample corpus' curated tags) turns the evidence
into a calibrated confidence. A resource gets a label when its confidence passes the threshold, at most
`max_per_family` per family, and only if it has climate content at all (an events page gets nothing).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from spacy.matcher import PhraseMatcher

from nzc_knowledge.encoders import Encoder
from nzc_knowledge.models import Chunk, Tag
from nzc_knowledge.taxonomy import FAMILIES, TAG_FAMILIES
from nzc_knowledge.text.analysis import normalise_doc, normaliser

WEIGHTS_FILE = Path(__file__).with_name("tagger_weights.json")
FEATURES = ("distinct_phrases", "phrase_hits", "best_similarity", "relative_similarity", "top_share", "is_top")


@dataclass(frozen=True)
class TaggerSettings:
    """Decision settings of the tagger, recorded in the snapshot manifest."""

    threshold: float = 0.5
    max_per_family: int = 3
    min_domain_phrases: int = 1  # climate-content gate: no domain phrase at all and ...
    min_domain_similarity: float = 0.30  # ... no passage close to any domain means "no climate content"


def label_features(
    phrase_counts: Sequence[Counter[str]], similarities: np.ndarray, column: int
) -> list[float]:
    """Evidence for one label over a set of passages: rules pooled, meaning from the best passage.

    similarities: (passages x labels of the family) cosine matrix.
    """
    pooled: Counter[str] = Counter()
    for counts in phrase_counts:
        pooled.update(counts)
    best = similarities.max(axis=0) if similarities.size else np.zeros(similarities.shape[1])
    top_of_passage = similarities.argmax(axis=1) if similarities.size else np.zeros(0, dtype=int)
    return [
        math.log1p(len(pooled)),
        math.log1p(sum(pooled.values())),
        float(best[column]),
        float(best[column] - best.mean()),
        float((top_of_passage == column).mean()) if len(top_of_passage) else 0.0,
        float(best.argmax() == column),
    ]


class Tagger:
    """Tags chunks and resources.

    Example:
        tagger = Tagger(encoder)
        resource_tags, chunk_tags = tagger.tag(chunks, chunk_vectors, language="it")
    """

    def __init__(self, encoder: Encoder, settings: TaggerSettings | None = None, weights_file: Path = WEIGHTS_FILE) -> None:
        self.encoder = encoder
        self.settings = settings or TaggerSettings()
        self.weights = json.loads(weights_file.read_text(encoding="utf-8"))
        self._matchers: dict[str, PhraseMatcher] = {}

    @cached_property
    def label_vectors(self) -> dict[str, np.ndarray]:
        """One description vector per label, per family (rows in taxonomy order)."""
        return {
            family: self.encoder.encode_passages([f"{label.label}. {label.description}" for label in labels])
            for family, labels in FAMILIES.items()
        }

    def _matcher(self, language: str) -> PhraseMatcher:
        if language not in self._matchers:
            nlp = normaliser(language)
            matcher = PhraseMatcher(nlp.vocab, attr="NORM")
            for family, labels in FAMILIES.items():
                for label in labels:
                    phrases = set(label.synonyms.get("en", ())) | set(label.synonyms.get(language, ()))
                    matcher.add(f"{family}:{label.key}", [normalise_doc(nlp, phrase) for phrase in sorted(phrases)])
            self._matchers[language] = matcher
        return self._matchers[language]

    def phrase_hits(self, text: str, language: str | None) -> dict[str, Counter[str]]:
        """Matched phrases per 'family:key' label in a text."""
        language = language or "en"
        matcher = self._matcher(language)
        doc = normalise_doc(normaliser(language), text)
        hits: dict[str, Counter[str]] = defaultdict(Counter)
        for match_id, start, end in matcher(doc):
            hits[doc.vocab.strings[match_id]][" ".join(token.norm_ for token in doc[start:end])] += 1
        return hits

    def evidence(
        self, chunks: Sequence[Chunk], chunk_vectors: np.ndarray, language: str | None
    ) -> tuple[list[dict[str, Counter[str]]], dict[str, np.ndarray]]:
        """Phrase hits per chunk and (chunks x labels) similarities per family."""
        hits = [self.phrase_hits(chunk.text, language) for chunk in chunks]
        similarities = {family: chunk_vectors @ vectors.T for family, vectors in self.label_vectors.items()}
        return hits, similarities

    def tag(
        self, chunks: Sequence[Chunk], chunk_vectors: np.ndarray, language: str | None
    ) -> tuple[dict[str, list[Tag]], list[dict[str, list[Tag]]]]:
        """Tags of the whole resource and of each chunk (same model; evidence pooled for the resource)."""
        hits, similarities = self.evidence(chunks, chunk_vectors, language)
        chunk_tags = [
            self.decide([hits[i]], {family: sims[i : i + 1] for family, sims in similarities.items()})
            for i in range(len(chunks))
        ]
        return self.decide(hits, similarities), chunk_tags

    def confidence(self, family: str, features: list[float]) -> float:
        model = self.weights[family]
        z = model["intercept"] + sum(w * (x - m) / s for w, x, m, s in zip(model["coef"], features, model["mean"], model["scale"], strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def decide(self, hits: list[dict[str, Counter[str]]], similarities: dict[str, np.ndarray]) -> dict[str, list[Tag]]:
        s = self.settings
        if not self._has_climate_content(hits, similarities["domains"]):
            return {family: [] for family in TAG_FAMILIES}
        tags: dict[str, list[Tag]] = {}
        for family in TAG_FAMILIES:
            scored = []
            for column, label in enumerate(FAMILIES[family]):
                counts = [chunk_hits.get(f"{family}:{label.key}", Counter()) for chunk_hits in hits]
                scored.append((self.confidence(family, label_features(counts, similarities[family], column)), label.key))
            scored.sort(key=lambda pair: (-pair[0], pair[1]))
            tags[family] = [Tag(key=key, confidence=round(score, 3)) for score, key in scored[: s.max_per_family] if score >= s.threshold]
        return tags

    def _has_climate_content(self, hits: list[dict[str, Counter[str]]], domain_similarities: np.ndarray) -> bool:
        phrases = sum(len(counts) for chunk_hits in hits for label, counts in chunk_hits.items() if label.startswith("domains:"))
        best = float(domain_similarities.max()) if domain_similarities.size else -1.0
        return phrases >= self.settings.min_domain_phrases or best >= self.settings.min_domain_similarity
