"""Foreign-language noise: how often a non-relevant resource in another language outranks a relevant one in the query's.

Why: the cross-language boost lets a passage that only the multilingual encoder can judge compete with passages
that every retriever agrees on; when that evidence is weak, a German or Polish page on a neighbouring topic comes
first for an English query. nDCG hides this among other errors, so it is counted on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from nzc_knowledge.eval.formats import Qrels, Run


@dataclass
class ForeignNoise:
    """For queries in `language`: those where a foreign, non-relevant resource ranks above a relevant same-language one."""

    language: str
    depth: int
    queries: int  # queries in `language` with at least one relevant resource in `language`
    affected: list[str] = field(default_factory=list)  # their ids, where it happens
    inversions: int = 0  # (foreign non-relevant, relevant same-language) pairs ranked the wrong way round, summed

    @property
    def share(self) -> float:
        return len(self.affected) / self.queries if self.queries else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"language": self.language, "depth": self.depth, "queries": self.queries, "affected": len(self.affected),
                "share": round(self.share, 4), "inversions": self.inversions, "affected_ids": list(self.affected)}


def foreign_noise(
    run: Run,
    qrels: Qrels,
    query_language: Mapping[str, str | None],
    resource_language: Mapping[str, str | None],
    language: str = "en",
    depth: int = 10,
) -> ForeignNoise:
    """Count, in each ranking's first `depth` results, foreign non-relevant resources above relevant `language` ones.

    A resource is foreign when its language is known and differs from `language`; relevant means a grade above 0.
    Only queries written in `language` whose judgments name a relevant resource in `language` are counted.
    """
    result = ForeignNoise(language, depth, 0)
    for query_id, judged in sorted(qrels.items()):
        if query_language.get(query_id) != language:
            continue
        relevant = {doc for doc, grade in judged.items() if grade > 0}
        if not any(resource_language.get(doc) == language for doc in relevant):
            continue
        result.queries += 1
        ranked = sorted((run.get(query_id) or {}).items(), key=lambda item: -item[1])[:depth]
        noise_above = 0  # foreign non-relevant resources seen so far
        inversions = 0
        for doc, _ in ranked:
            doc_language = resource_language.get(doc)
            if doc in relevant and doc_language == language:
                inversions += noise_above
            elif doc not in relevant and doc_language not in (None, language):
                noise_above += 1
        if inversions:
            result.affected.append(query_id)
            result.inversions += inversions
    return result
