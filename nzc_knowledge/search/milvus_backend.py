"""Milvus as the retrieval backend: one collection per snapshot, the serving version named by an alias.

A collection holds one row per passage (primary key: the snapshot's passage row, so the service's metadata,
fusion and snippets work unchanged) with
    dense, multilingual   FLOAT_VECTOR: both encoders' vectors, read back out of the snapshot's FAISS indexes
    lexical               SPARSE_FLOAT_VECTOR: the product's own per-language BM25 terms, each weighted with its
                          precomputed BM25 score (bm25s), so a query's sparse vector {term id: count} scores exactly
                          as the embedded BM25 does. Why not Milvus' BM25 function: Milvus Lite only has the
                          'standard' and 'jieba' tokenizers (no stemmers, no per-language stop words), while the
                          product analyses each passage in its own language.
    scalar fields         the filter fields of the passage's resource (tags as ARRAY fields), so filters run inside
                          retrieval as a Milvus boolean expression (`milvus_filter`)
The same client (pymilvus `MilvusClient`) talks to Milvus Lite (a file path), a standalone server or a cluster (a URL).

Versions: a snapshot's collection is `nzc_<snapshot id>`; the alias `nzc_current` names the serving one and is
moved in one step (`MilvusVersions.publish`), so a search through the alias never sees a missing collection.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nzc_knowledge.errors import Conflict, MilvusUnavailable
from nzc_knowledge.index.dense import QUANTIZED_THRESHOLD
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.search.backend import Ranking, Space
from nzc_knowledge.search.filters import SearchFilters, field_values

logger = logging.getLogger(__name__)

ALIAS = "nzc_current"
COLLECTION_PREFIX = "nzc_"
TAG_FIELDS = {"domain": "domains", "barrier": "barriers", "lever": "levers"}  # filter field -> taxonomy family
MAX_TAGS = 256  # ARRAY capacity per tag family
WRITE_BATCH = 1_000
HNSW_EF_FLOOR = 256  # HNSW's search breadth: at least this, and at least k
MAX_TOP_K = 16_384  # the most hits Milvus returns for one search
READ_BATCH = 4_096  # passage vectors read back per query (Milvus returns at most 16,384 rows per query)
WRITER_WAIT_S = 60.0  # how long a replica waits for another one writing the same collection


def collection_name(snapshot_id: str) -> str:
    """The collection of one snapshot ('20261123T190102Z-1a2b3c4d' -> 'nzc_20261123T190102Z_1a2b3c4d')."""
    return COLLECTION_PREFIX + re.sub(r"[^0-9A-Za-z_]", "_", snapshot_id)


def connect(uri: str, token: str | None = None) -> Any:
    """A pymilvus client: a file path opens Milvus Lite in this process, http(s)://host:19530 a server or cluster."""
    from pymilvus import MilvusClient  # imported here: `nzc --help` and the embedded backend never load it
    from pymilvus.exceptions import MilvusException

    try:
        return MilvusClient(uri, token=token or "")
    except (MilvusException, OSError, RuntimeError) as error:  # milvus-lite reports a held file as a RuntimeError
        raise MilvusUnavailable(f"cannot open Milvus at {uri}: {error}") from error


# ---- filters -----------------------------------------------------------------------------------------------
def _literal(value: str) -> str:
    """A Milvus string literal (JSON escaping: quotes and backslashes in a city name stay inside the string)."""
    return json.dumps(value, ensure_ascii=False)


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_literal(value) for value in values) + "]"


def milvus_filter(filters: SearchFilters | None) -> str:
    """The filters as a Milvus boolean expression ('' when nothing is filtered); OR within a field, AND across."""
    if filters is None or not filters.active:
        return ""
    clauses = []
    for name in TAG_FIELDS:
        if wanted := getattr(filters, name):
            clauses.append(f"array_contains_any({name}, {_list(wanted)})")
    for name in ("type", "country", "city", "language"):
        if wanted := getattr(filters, name):
            clauses.append(f"{name} in {_list(wanted)}")
    if filters.year_from is not None or filters.year_to is not None:
        clauses.append("has_year == true")  # a resource without a year fails any year bound, as in the mask
    if filters.year_from is not None:
        clauses.append(f"year >= {int(filters.year_from)}")
    if filters.year_to is not None:
        clauses.append(f"year <= {int(filters.year_to)}")
    if filters.exclude_ids:
        clauses.append(f"resource_id not in {_list(filters.exclude_ids)}")
    return " and ".join(clauses)


# ---- writing a snapshot --------------------------------------------------------------------------------------
def _schema(client: Any, dimension: int, multilingual_dimension: int | None) -> Any:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("resource", DataType.INT64)
    schema.add_field("resource_id", DataType.VARCHAR, max_length=512)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    if multilingual_dimension:
        schema.add_field("multilingual", DataType.FLOAT_VECTOR, dim=multilingual_dimension)
    schema.add_field("lexical", DataType.SPARSE_FLOAT_VECTOR)
    for name in TAG_FIELDS:
        schema.add_field(name, DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=MAX_TAGS, max_length=128)
    for name, length in (("type", 64), ("country", 8), ("city", 256), ("language", 16)):
        schema.add_field(name, DataType.VARCHAR, max_length=length)
    schema.add_field("year", DataType.INT64)
    schema.add_field("has_year", DataType.BOOL)
    return schema


def _index_params(client: Any, size: int, vector_fields: list[str]) -> Any:
    params = client.prepare_index_params()
    for name in vector_fields:
        # Exact below the size where the embedded backend quantizes too; HNSW above (Milvus Lite serves it as well).
        if size < QUANTIZED_THRESHOLD:
            params.add_index(name, index_type="FLAT", metric_type="IP")
        else:
            params.add_index(name, index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    params.add_index("lexical", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    return params


def _resource_fields(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Per resource row, the scalar fields its passages carry (values as the filters compare them)."""
    rows = []
    for resource in snapshot.resources:
        held = field_values(resource)
        rows.append({
            "resource_id": resource.id,
            **{name: sorted(held[name]) for name in TAG_FIELDS},
            **{name: next(iter(held[name]), "") for name in ("type", "country", "city", "language")},
            "year": int(resource.year or 0),
            "has_year": resource.year is not None,
        })
    return rows


def passage_rows(snapshot: Snapshot, batch: int = WRITE_BATCH) -> Iterator[list[dict[str, Any]]]:
    """The collection's rows for every passage of `snapshot`, `batch` at a time."""
    weights = snapshot.lexical.weight_matrix()  # BM25 weights, columns as in `snapshot.lexical.term_ids()`
    resources = _resource_fields(snapshot)
    owner = np.asarray(snapshot.chunk_resource)
    total = len(owner)
    for start in range(0, total, batch):
        rows = np.arange(start, min(start + batch, total), dtype=np.int64)
        dense = snapshot.dense.vectors_of(rows)
        multilingual = snapshot.multilingual.vectors_of(rows) if snapshot.multilingual is not None else None
        out = []
        for position, row in enumerate(rows.tolist()):
            line = weights.getrow(row)
            # A passage without terms still needs a non-empty sparse vector: one term id no query can hold.
            lexical = dict(zip(line.indices.tolist(), line.data.tolist(), strict=True)) or {weights.shape[1]: 1e-9}
            resource_row = int(owner[row])
            record = {"row": row, "resource": resource_row, **resources[resource_row],
                      "dense": dense[position].tolist(), "lexical": lexical}
            if multilingual is not None:
                record["multilingual"] = multilingual[position].tolist()
            out.append(record)
        yield out


def write_collection(client: Any, snapshot: Snapshot, name: str | None = None) -> str:
    """Write `snapshot`'s passages into a new collection (replacing an unfinished one of that name); its name."""
    name = name or collection_name(snapshot.id)
    if client.has_collection(name):
        client.drop_collection(name)
    multilingual = snapshot.multilingual.dimension if snapshot.multilingual is not None else None
    vector_fields = ["dense"] + (["multilingual"] if multilingual else [])
    size = len(snapshot.chunk_resource)
    client.create_collection(name, schema=_schema(client, snapshot.dense.dimension, multilingual),
                             index_params=_index_params(client, size, vector_fields), consistency_level="Strong")
    for rows in passage_rows(snapshot):
        client.insert(name, rows)
    client.flush(name)
    client.load_collection(name)
    logger.info("wrote %d passages of snapshot %s into Milvus collection %s", size, snapshot.id, name)
    return name


# ---- versions --------------------------------------------------------------------------------------------------
class MilvusVersions:
    """Collections per snapshot and the alias that names the serving one.

    Example:
        versions = MilvusVersions(connect("indexes/milvus.db"))
        versions.publish(snapshot)          # write nzc_<id> if missing, then move the alias to it
        versions.prune(keep={"20261123T190102Z-1a2b3c4d"})
    """

    def __init__(self, client: Any, alias: str = ALIAS) -> None:
        self.client = client
        self.alias = alias
        self._lock = threading.Lock()  # one writer per process: two engines must not write one collection twice

    def ensure(self, snapshot: Snapshot, wait_s: float = WRITER_WAIT_S) -> str:
        """The snapshot's collection, written now when missing (or left incomplete by a writer that is gone).

        Another replica may be writing it right now: an incomplete collection gets `wait_s` to fill up first.
        """
        name = collection_name(snapshot.id)
        with self._lock:
            deadline = time.monotonic() + wait_s
            while self.client.has_collection(name):
                if self._complete(name, snapshot):
                    self.client.load_collection(name)
                    return name
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.5)
            return write_collection(self.client, snapshot, name)

    def _complete(self, name: str, snapshot: Snapshot) -> bool:
        try:
            stats = self.client.get_collection_stats(name)
        except Exception:  # dropped meanwhile by the writer that is replacing it
            return False
        return int(stats.get("row_count", -1)) == len(snapshot.chunk_resource)

    def serving(self) -> str | None:
        """The collection the alias names (None: no alias yet)."""
        # Listed first: describing an unknown alias logs an RPC error on every first publish.
        if self.alias not in self.client.list_aliases().get("aliases", []):
            return None
        try:
            return str(self.client.describe_alias(self.alias)["collection_name"])
        except Exception:  # dropped in between: pymilvus raises a plain MilvusException for an unknown alias
            return None

    def publish(self, snapshot: Snapshot) -> str:
        """Make `snapshot`'s collection the serving one: write it if needed, then move the alias in one step."""
        name = self.ensure(snapshot)
        self.switch(name)
        return name

    def switch(self, name: str) -> None:
        """Point the alias at collection `name` (a rollback is a switch back)."""
        if not self.client.has_collection(name):
            raise Conflict(f"Milvus has no collection {name}; publish its snapshot first")
        with self._lock:
            if self.serving() is None:
                self.client.create_alias(name, self.alias)
            else:
                self.client.alter_alias(name, self.alias)
        logger.info("Milvus alias %s now names %s", self.alias, name)

    def collections(self) -> list[str]:
        """This engine's collections (one per snapshot written)."""
        return sorted(name for name in self.client.list_collections() if name.startswith(COLLECTION_PREFIX))

    def prune(self, keep: Iterable[str]) -> list[str]:
        """Drop the collections of snapshots not in `keep` (snapshot ids), never the one the alias names."""
        wanted = {collection_name(snapshot_id) for snapshot_id in keep}
        serving = self.serving()
        dropped = [name for name in self.collections() if name not in wanted and name != serving]
        for name in dropped:
            self.client.drop_collection(name)
        return dropped


# ---- searching -------------------------------------------------------------------------------------------------
class MilvusBackend:
    """Lexical and dense candidates from one Milvus collection (or an alias), filters as boolean expressions.

    Example:
        backend = MilvusBackend(client, "nzc_current", vocabulary=snapshot.lexical.term_ids())
        rows, scores = backend.lexical(["district", "heat"], 50, None, SearchFilters.parse(country=["DE"]))
    """

    name = "milvus"

    def __init__(self, client: Any, collection: str, vocabulary: dict[str, int], spaces: tuple[str, ...] = ("dense",),
                 size: int = 0, dimensions: dict[str, int] | None = None) -> None:
        self.client = client
        self.collection = collection
        self.vocabulary = vocabulary  # term -> sparse dimension, the snapshot's BM25 vocabulary
        self.spaces = spaces
        self.hnsw = size >= QUANTIZED_THRESHOLD
        self.dimensions = dimensions or {}  # space -> vector width, for an empty read

    @classmethod
    def for_snapshot(cls, client: Any, snapshot: Snapshot, collection: str | None = None) -> MilvusBackend:
        """A backend over `snapshot`'s collection (by default the one named after it; it must exist)."""
        dimensions = {"dense": snapshot.dense.dimension}
        if snapshot.multilingual is not None:
            dimensions["multilingual"] = snapshot.multilingual.dimension
        return cls(client, collection or collection_name(snapshot.id), snapshot.lexical.term_ids(), tuple(dimensions),
                   len(snapshot.chunk_resource), dimensions)

    def has(self, space: Space) -> bool:
        return space in self.spaces

    def lexical(self, terms: list[str], k: int, allowed: np.ndarray | None,
                filters: SearchFilters | None = None) -> Ranking:
        counts = Counter(self.vocabulary[term] for term in terms if term in self.vocabulary)
        if not counts or k <= 0:
            return _empty()
        query = {int(term): float(count) for term, count in counts.items()}
        rows, scores = self._search("lexical", query, k, allowed, filters, {"metric_type": "IP"})
        keep = scores > 0
        return rows[keep], scores[keep]

    def dense(self, space: Space, vector: np.ndarray, k: int, allowed: np.ndarray | None,
              filters: SearchFilters | None = None) -> Ranking:
        if space not in self.spaces:
            raise ValueError(f"collection {self.collection} has no {space} vectors")
        if k <= 0:
            return _empty()
        params: dict[str, Any] = {"metric_type": "IP"}
        if self.hnsw:
            params["params"] = {"ef": max(k, HNSW_EF_FLOOR)}
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        return self._search(space, query, k, allowed, filters, params)

    def passage_vectors(self, space: Space, rows: np.ndarray) -> np.ndarray:
        if space not in self.spaces:
            raise ValueError(f"collection {self.collection} has no {space} vectors")
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        found: dict[int, list[float]] = {}
        wanted = np.unique(rows)
        for start in range(0, len(wanted), READ_BATCH):
            batch = wanted[start:start + READ_BATCH]
            # A run of consecutive rows (all passages, block by block) is a range, not a list of thousands of ids.
            contiguous = int(batch[-1]) - int(batch[0]) + 1 == len(batch)
            expression = (f"row >= {int(batch[0])} and row <= {int(batch[-1])}" if contiguous
                          else f"row in {batch.tolist()}")
            for hit in self.client.query(self.collection, filter=expression, output_fields=["row", space],
                                         limit=len(batch)):
                found[int(hit["row"])] = hit[space]
        if missing := [int(row) for row in wanted if int(row) not in found]:
            raise ValueError(f"collection {self.collection} has no passage rows {missing[:5]}")
        if len(rows) == 0:
            return np.zeros((0, self.dimensions.get(space, 0)), dtype=np.float32)
        return np.asarray([found[int(row)] for row in rows], dtype=np.float32)

    def _search(self, field: str, query: Any, k: int, allowed: np.ndarray | None, filters: SearchFilters | None,
                params: dict[str, Any]) -> Ranking:
        if filters is not None:
            expression = milvus_filter(filters)
        elif allowed is not None:  # a caller that only knows the rows (e.g. the eval harness)
            expression = f"row in {allowed.astype(np.int64).tolist()}"
        else:
            expression = ""
        if allowed is not None and len(allowed) == 0:
            return _empty()
        k = min(k, MAX_TOP_K)
        result = self.client.search(self.collection, data=[query], anns_field=field, limit=k, filter=expression,
                                    output_fields=["row"], search_params=params)
        hits = result[0] if result else []
        rows = np.fromiter((hit["row"] for hit in hits), dtype=np.int64, count=len(hits))
        scores = np.fromiter((hit["distance"] for hit in hits), dtype=np.float32, count=len(hits))
        # Equal scores in the order the embedded backend gives them (lower row first), so fusion sees the same ranks.
        order = np.lexsort((rows, -scores))
        return rows[order], scores[order]


def milvus_backend_factory(uri: str, token: str | None, index_dir: Path) -> Callable[[Snapshot], MilvusBackend]:
    """Opens each loaded snapshot on Milvus: publish it (write + move the alias), prune collections of dropped snapshots.

    Collections follow the snapshot store's own pruning: a collection whose snapshot folder is gone is dropped.
    """
    client = connect(uri, token)
    versions = MilvusVersions(client)
    store = SnapshotStore(index_dir)

    def open_backend(snapshot: Snapshot) -> MilvusBackend:
        from pymilvus.exceptions import MilvusException

        try:
            name = versions.publish(snapshot)
        except (MilvusException, OSError, RuntimeError) as error:
            raise MilvusUnavailable(f"cannot publish snapshot {snapshot.id} to Milvus: {error}") from error
        dropped = versions.prune(keep=set(store.ids()) | {snapshot.id})
        if dropped:
            logger.info("dropped Milvus collections of pruned snapshots: %s", ", ".join(dropped))
        return MilvusBackend.for_snapshot(client, snapshot, name)

    return open_backend


def _empty() -> Ranking:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
