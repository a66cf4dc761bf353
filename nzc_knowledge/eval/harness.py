"""Index a BEIR corpus with the production pipeline (cached by fingerprint) and run queries through SearchService.

Why the production path: a benchmark is only a regression gate for the product if it exercises the same
chunker, encoder, analysers, BM25 and FAISS indexes, and the same query analysis and fusion, that users get.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nzc_knowledge.encoders import Encoder
from nzc_knowledge.errors import InvalidParameter, OutdatedSnapshot
from nzc_knowledge.eval.formats import BeirDataset, BeirDocument, Query, Run
from nzc_knowledge.eval.metrics import run_from_ranking
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.ingest.extract.blocks import assemble
from nzc_knowledge.ingest.pipeline import IngestPipeline, IngestSettings, Progress
from nzc_knowledge.models import ExtractedDoc, Resource
from nzc_knowledge.search.backend import RetrievalBackend
from nzc_knowledge.search.filters import SearchFilters
from nzc_knowledge.search.service import Mode, RankingSettings, SearchService

BEIR_DOCUMENT_VERSION = 1  # bump when beir_documents() changes what a BEIR document becomes
MODES: tuple[Mode, ...] = ("lexical", "dense", "hybrid")
DEFAULT_LIMIT = 100


class CachingEncoder:
    """An encoder that remembers query vectors, so a grid of ranking settings encodes each query once.

    Passages are passed straight through; the vectors are the wrapped encoder's, bit for bit.
    """

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.info = encoder.info
        self._queries: dict[str, np.ndarray] = {}

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        return self.encoder.encode_passages(texts, batch_size=batch_size, show_progress=show_progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self._queries]
        if missing:
            for text, vector in zip(missing, self.encoder.encode_queries(missing), strict=True):
                self._queries[text] = vector
        return np.vstack([self._queries[text] for text in texts]) if texts else np.zeros((0, self.info.dimension), np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.encoder.count_tokens(texts)


def beir_documents(corpus: Sequence[BeirDocument], language: str = "en") -> list[tuple[Resource, ExtractedDoc]]:
    """One Resource per BEIR document (its id is the resource id); title + text is the document."""
    documents = []
    for item in corpus:
        parts = [("heading", item.title, None, 1), ("paragraph", item.text, None, 0)]
        document = assemble(parts, title=item.title or None, fmt="beir")
        resource = Resource(id=item.id, file=f"corpus.jsonl#{item.id}", title=document.title or "", language=language,
                            text=document.text, format="beir")
        documents.append((resource, document))
    return documents


def index_record(pipeline: IngestPipeline) -> dict[str, Any]:
    """The pipeline's settings_record(), without the tagger's parts when tagging is off (they change nothing then)."""
    record = dict(pipeline.settings_record())
    if not pipeline.settings.tag_resources:
        for key in [key for key in record if key.startswith("tagger")]:
            del record[key]
    return record


def corpus_fingerprint(corpus_file: Path, pipeline_settings: Mapping[str, Any], language: str) -> str:
    """Hash of the corpus file's bytes, the pipeline's settings and how documents are built from the corpus."""
    digest = hashlib.sha256()
    with Path(corpus_file).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    recipe = {"pipeline": pipeline_settings, "beir_document_version": BEIR_DOCUMENT_VERSION, "language": language}
    digest.update(json.dumps(recipe, sort_keys=True, default=str).encode())
    return digest.hexdigest()


@dataclass
class IndexedCorpus:
    snapshot: Snapshot
    index_dir: Path
    fingerprint: str
    reused: bool
    seconds: float


def beir_index(
    dataset: BeirDataset,
    cache_dir: Path,
    encoder: Encoder,
    language: str = "en",
    progress: Progress | None = None,
    settings: IngestSettings | None = None,
    multilingual_encoder: Encoder | None = None,
) -> IndexedCorpus:
    """The snapshot of `dataset`'s corpus under `cache_dir`, built only when no snapshot has the same fingerprint.

    The fingerprint covers the corpus file's bytes and the pipeline settings (chunker, encoders, pipeline
    version), so a changed corpus or pipeline builds a new index beside the old one.
    """
    started = time.perf_counter()
    pipeline = IngestPipeline(encoder, settings or IngestSettings(tag_resources=False, keep_snapshots=1),
                              multilingual_encoder=multilingual_encoder)
    fingerprint = corpus_fingerprint(dataset.corpus_file, index_record(pipeline), language)
    index_dir = Path(cache_dir) / f"{dataset.path.name}-{fingerprint[:12]}"
    store = SnapshotStore(index_dir)
    current = store.current_id()
    if current is not None:
        try:
            snapshot: Snapshot | None = Snapshot.load(store.path(current))
        except OutdatedSnapshot:
            snapshot = None  # an index cached by an older engine: rebuilt below
        if snapshot is not None and snapshot.manifest.get("source_fingerprint") == fingerprint:
            return IndexedCorpus(snapshot, index_dir, fingerprint, True, time.perf_counter() - started)
    pipeline.run_documents(beir_documents(dataset.corpus, language), store, fingerprint, progress)
    snapshot = Snapshot.load(store.current_path())
    return IndexedCorpus(snapshot, index_dir, fingerprint, False, time.perf_counter() - started)


def make_service(
    snapshot: Snapshot, encoder: Encoder, ranking: RankingSettings | None = None,
    multilingual_encoder: Encoder | None = None, backend: RetrievalBackend | None = None,
) -> SearchService:
    """SearchService as production wires it: the multilingual encoder joins when the snapshot has its index."""
    if snapshot.multilingual is not None and multilingual_encoder is not None:
        return SearchService(snapshot, encoder, ranking, multilingual_encoder=multilingual_encoder, backend=backend)
    return SearchService(snapshot, encoder, ranking, backend=backend)


def query_filters(query: Query) -> SearchFilters:
    """The query's filters, validated like the HTTP API validates them (a typo in a key is an error)."""
    if not query.filters:
        return SearchFilters()
    allowed = {"domain", "barrier", "lever", "type", "country", "city", "language", "year_from", "year_to"}
    unknown = sorted(set(query.filters) - allowed)
    if unknown:
        raise InvalidParameter(f"query {query.id}: unknown filter {unknown[0]!r}; expected one of {', '.join(sorted(allowed))}")
    values = {key: ([value] if isinstance(value, str) else value) for key, value in query.filters.items()
              if key not in ("year_from", "year_to")}
    return SearchFilters.parse(**values, year_from=query.filters.get("year_from"), year_to=query.filters.get("year_to"))


def run_queries(
    service: SearchService,
    queries: Mapping[str, Query],
    mode: Mode,
    limit: int = DEFAULT_LIMIT,
    show_progress: bool = True,
) -> tuple[Run, float]:
    """(run, seconds) for every query, through SearchService.search with the query's own filters."""
    ranking: dict[str, list[tuple[str, float]]] = {}
    service.warm_up()  # lazily loaded analysers and lexicons are not query time
    started = time.perf_counter()
    for query in _progress(queries.values(), len(queries), f"{mode} queries", show_progress):
        page = service.search(query.text, query_filters(query), limit=limit, mode=mode)
        ranking[query.id] = [(hit.resource.id, hit.score) for hit in page.hits]
    return run_from_ranking(ranking), time.perf_counter() - started


class RankingOnly:
    """The ranking steps of SearchService.search (analyse, rank_chunks, rank_resources) without snippets and facets.

    For a grid of ranking settings: the query analysis is the same for every setting, so it is done once,
    and the per-hit snippets that dominate a search's time are never needed. The integration tests check
    that it returns exactly what SearchService.search returns.
    """

    def __init__(self, queries: Mapping[str, Query]) -> None:
        self.queries = queries
        self._analysed: dict[str, Any] = {}

    def run(self, service: SearchService, mode: Mode, limit: int = DEFAULT_LIMIT, show_progress: bool = False) -> Run:
        from nzc_knowledge.search.query import analyse_query

        ranking: dict[str, list[tuple[str, float]]] = {}
        for query in _progress(self.queries.values(), len(self.queries), f"{mode} queries", show_progress):
            if query.id not in self._analysed:
                self._analysed[query.id] = analyse_query(query.text, service.corrector, service.index_languages)
            _, allowed = service.allowed_chunks(query_filters(query))
            fused, matching = service.rank_chunks(self._analysed[query.id], allowed, mode)
            hits = service.rank_resources(fused, matching)[:limit]
            ranking[query.id] = [(hit.resource.id, hit.score) for hit in hits]
        return run_from_ranking(ranking)


def _progress(items: Iterable[Any], total: int, description: str, enabled: bool) -> Iterable[Any]:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=description, unit="q", file=sys.stderr, leave=False)


def stage_progress(enabled: bool) -> tuple[Progress, Callable[[], None]]:
    """A pipeline progress callback drawing one tqdm bar per stage on stderr, and a function that closes them."""
    bars: dict[str, Any] = {}

    def notify(stage: str, done: int, total: int) -> None:
        if not enabled:
            return
        from tqdm import tqdm

        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr)
        bar.n = done
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return notify, close


