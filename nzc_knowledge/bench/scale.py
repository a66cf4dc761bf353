"""`nzc bench scale`: a synthetic snapshot of N passages written through the normal writer, served by `nzc serve`.

Measures what issue #15 asks of a 2-core box: start-up time, the server's resident memory (and per passage beyond
a server on the sample index), `/search` p50/p99 unfiltered and with a selective and a broad filter, recall@10 of
each dense index against exact search, BM25 latency on its own, bytes per passage on disk, and the time from a
changed file to a searchable index: one resource's passages change, an incremental version (one new segment plus
deletion marks) is published, taken up as the server takes it up, and searched until the change is found.

Building and measuring are separate steps when wanted: `--build-only` writes the snapshot, `--reuse` measures one an
earlier run wrote (a million passages take most of an hour to build on a busy 2-core box, minutes to measure).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from nzc_knowledge.bench.queries import LATENCY_QUERIES
from nzc_knowledge.bench.server import serve_in_child
from nzc_knowledge.encoders import Encoders
from nzc_knowledge.errors import Conflict
from nzc_knowledge.index.dense import exact_top_k, recall_at_k
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.index.store import SnapshotStore

RECALL_QUERIES = 200


def change_to_searchable(store: SnapshotStore, restore: bool = False, holder: Any = None) -> dict[str, Any]:
    """Change one resource's passages, publish the change as a new segment and time until a search finds it;
    `restore`: afterwards make the measured version current again and delete the changed one.

    With `holder` (what `nzc serve` serves `store` with: an `api.engine.EngineHolder`, passed in by the composition
    root), the new version is taken up as the server takes it up (the holder serving the current version swaps to
    the new one: shared segments kept, search service opened and warmed) and found by a hybrid search; without, it
    is loaded over the served version and found by BM25 alone.
    """
    import dataclasses

    from nzc_knowledge.index.dense import DenseIndex
    from nzc_knowledge.index.lexical import LexicalIndex
    from nzc_knowledge.ingest.pipeline import IncrementalBase, publish_segment
    from nzc_knowledge.text.analysis import lexical_terms, surface_words

    marker = "segmentmarkerword"
    # What the server holds before the change (not timed: it was loaded when the server started).
    serving = holder.load().snapshot if holder is not None else Snapshot.load(store.current_path())
    started = time.perf_counter()
    base_id = store.current_id()
    base = Snapshot.load(store.path(base_id), mmap=True)
    row = len(base.resources) // 2
    changed_id = base.resources[row].id
    rows = base.resource_chunks[row]
    chunks = [dataclasses.replace(chunk, text=f"{chunk.text} {marker}") for chunk in base.chunks_of(rows)]
    resources = [dataclasses.replace(resource, text="\n\n".join(chunk.text for chunk in chunks))
                 if resource.id == changed_id else resource for resource in base.resources]
    addition = Snapshot(
        manifest={key: value for key, value in base.manifest.items() if key not in {"segments", "files"}},
        resources=resources,
        chunks=chunks,
        dense=DenseIndex.build(base.dense.vectors_of(rows)),  # stands in for the changed file's new vectors
        lexical=LexicalIndex.build([lexical_terms(chunk.text, chunk.language) for chunk in chunks]),
        vocabulary=dict(Counter(word for chunk in chunks for word in surface_words(chunk.text))),
        extras=base.extras,
        multilingual=DenseIndex.build(base.multilingual.vectors_of(rows)) if base.multilingual is not None else None,
    )
    kept = {resource.id for resource in base.resources} - {changed_id}
    fingerprint = str(base.manifest.get("source_fingerprint") or "changed0")
    snapshot_id, added, removed = publish_segment(store, IncrementalBase(base, store.path(base_id), kept), addition,
                                                  fingerprint)
    published_s = time.perf_counter() - started
    folder = store.path(snapshot_id)
    try:
        if holder is not None:
            engine = holder.load()
            served = engine.snapshot
            hits = engine.search.search(marker, limit=10).hits
            found_resource = changed_id in {hit.resource.id for hit in hits}
        else:
            served = Snapshot.load(folder, previous=serving)
            found_resource = True
        ids, _ = served.lexical.search(lexical_terms(marker, "en"), 50)
        found = sorted(served.chunk(int(hit)).id for hit in ids)
        seconds = time.perf_counter() - started
        reused = sum(any(segment.dense is old.dense for old in serving.segments) for segment in served.segments)
        written = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and path.stat().st_nlink == 1)
        shared = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and path.stat().st_nlink > 1)
    finally:
        if restore:  # the one-segment version stays the one measured (a later `--reuse` run finds it as it was)
            store.set_current(base_id)
            shutil.rmtree(folder)
    return {"seconds": round(seconds, 2), "published_s": round(published_s, 2), "passages_changed": added,
            "passages_marked_deleted": removed,
            "found": found == sorted(chunk.id for chunk in chunks) and found_resource and served.id == snapshot_id,
            "segments_reused": reused, "segments_loaded": len(served.segments) - reused,
            "through": "the server's engine holder" if holder is not None else "Snapshot.load",
            "bytes_written": written, "bytes_shared_by_hard_link": shared, "snapshot_id": snapshot_id}


def _percentiles(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples) * 1000
    return {"p50_ms": round(float(np.percentile(values, 50)), 1), "p99_ms": round(float(np.percentile(values, 99)), 1),
            "n": len(samples)}


def _rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _folder_bytes(folder: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            top = path.relative_to(folder).parts
            # segments/<id>/<part>/...: summed per part over all segments
            key = f"segments/{top[2]}" if top[0] == "segments" and len(top) > 2 else top[0]
            sizes[key] = sizes.get(key, 0) + path.stat().st_size
    return sizes


def served(index_dir: Path, log_path: Path, start_timeout: float = 1800.0):
    """`nzc serve` on `index_dir` in a child process; yields (base URL, pid, seconds from start to healthy)."""
    return serve_in_child(index_dir, log_path, start_timeout)


def _first_search_s(base_url: str) -> float:
    """Seconds for a search sent the moment the server turned healthy (it may wait for the warm-up)."""
    started = time.perf_counter()
    response = httpx.get(f"{base_url}/search", params={"q": "district heating network", "limit": 10}, timeout=600)
    if response.status_code != 200:
        raise RuntimeError(f"/search answered {response.status_code}: {response.text[:200]}")
    return time.perf_counter() - started


def _http_latency(base_url: str, filters: dict[str, list[str]], rounds: int) -> dict[str, float]:
    samples = []
    with httpx.Client(base_url=base_url, timeout=120) as client:
        client.get("/search", params={"q": "warm up", "limit": 10, **filters})
        for _ in range(rounds):
            for query in LATENCY_QUERIES:
                started = time.perf_counter()
                response = client.get("/search", params={"q": query, "limit": 10, **filters})
                samples.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"/search answered {response.status_code}: {response.text[:200]}")
    return _percentiles(samples)


def choose_filters(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """A selective filter (the rarest city holding >= 1% of resources) and a broad one (the commonest domain)."""
    total = len(snapshot.resources)
    cities = Counter(resource.city for resource in snapshot.resources if resource.city)
    domains = Counter(key for resource in snapshot.resources for key in resource.tag_keys("domains"))
    city = min((name for name, count in cities.items() if count >= total / 100), key=lambda name: cities[name])
    domain = domains.most_common(1)[0][0]
    return {
        "selective": {"params": {"city": [city]}, "resource_share": round(cities[city] / total, 4)},
        "broad": {"params": {"domain": [domain]}, "resource_share": round(domains[domain] / total, 4)},
    }


def _query_texts(source: Snapshot, queries_file: Path | None) -> list[str]:
    """Real queries (eval set + the latency set), topped up with sample passages' openings to RECALL_QUERIES."""
    texts = list(LATENCY_QUERIES)
    if queries_file and queries_file.exists():
        texts += [json.loads(line)["text"] for line in queries_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = list(dict.fromkeys(texts))
    for chunk in source.chunks:
        if len(texts) >= RECALL_QUERIES:
            break
        texts.append(" ".join(chunk.text.split()[:12]))
    return texts[:RECALL_QUERIES]


def _dense_recall(served: Snapshot, vectors: dict[str, np.ndarray], queries: dict[str, np.ndarray]) -> dict[str, float]:
    recall = {}
    for name, index in (("dense", served.dense), ("multilingual", served.multilingual)):
        if index is None or name not in vectors:
            continue
        exact = exact_top_k(vectors[name], queries[name], 10)
        found = np.full_like(exact, -1)
        for row, query in enumerate(queries[name]):
            ids, _ = index.search(query, 10)
            found[row, : len(ids)] = ids
        recall[name] = round(recall_at_k(found, exact), 4)
    return recall


def _lexical_latency(snapshot: Snapshot, filters: dict[str, dict[str, Any]], rounds: int = 3) -> dict[str, Any]:
    """BM25 alone (analysed terms -> top 200), unfiltered and with each filter: the lexical share of a search."""
    from nzc_knowledge.search.filters import FilterIndex, SearchFilters
    from nzc_knowledge.text.analysis import lexical_terms

    filter_index = FilterIndex(snapshot.resources)
    allowed_of: dict[str, np.ndarray | None] = {"unfiltered": None}
    for name, spec in filters.items():
        mask = SearchFilters.parse(**spec["params"]).mask(snapshot.resources, filter_index)
        allowed_of[name] = np.flatnonzero(mask[snapshot.chunk_resource]).astype(np.int64)
    terms = [lexical_terms(query, "en") for query in LATENCY_QUERIES]
    result = {}
    for name, allowed in allowed_of.items():
        samples = []
        for _ in range(rounds):
            for query_terms in terms:
                started = time.perf_counter()
                snapshot.lexical.search(query_terms, 200, allowed)
                samples.append(time.perf_counter() - started)
        result[name] = _percentiles(samples)
    return result


BUILD_RECORD = "synthetic-build.json"  # beside snapshots/: how the synthetic snapshot was built (not counted as disk)


def source_vectors_digest(source: Snapshot) -> str:
    """A digest of the source's vectors: the synthetic vectors (and so exact-search recall) derive from them."""
    digest = hashlib.sha256()
    for index in (source.dense, source.multilingual):
        if index is not None:
            digest.update(np.ascontiguousarray(index.all_vectors(), dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def build_synthetic(chunks: int, index_dir: Path, source: Snapshot, log=lambda message: None) -> dict[str, Any]:
    """Write a synthetic snapshot of `chunks` passages made from `source` into `index_dir`; return the build record
    (also written to `index_dir`/synthetic-build.json)."""
    from nzc_knowledge.bench.synthetic import SyntheticPlan, write_synthetic

    started = time.perf_counter()
    plan = SyntheticPlan.make(source, chunks)
    store = SnapshotStore(index_dir)
    with store.build(f"synthetic{chunks:08d}") as (snapshot_id, folder):
        write_synthetic(source, plan, folder, snapshot_id, log,
                        extra_manifest={"synthetic_source": {"snapshot_id": source.id,
                                                             "vectors_sha256": source_vectors_digest(source)}})
    store.prune(keep=1)
    record = {"snapshot_id": snapshot_id, "chunks": chunks, "synthetic": plan.describe(),
              "source_snapshot_id": source.id, "build_s": round(time.perf_counter() - started, 1)}
    (index_dir / BUILD_RECORD).write_text(json.dumps(record), encoding="utf-8")
    log(f"wrote snapshot {snapshot_id} in {record['build_s']:.0f} s")
    return record


def reusable_snapshot(chunks: int, index_dir: Path, source: Snapshot) -> dict[str, Any]:
    """The build record of the synthetic snapshot of `chunks` passages current in `index_dir`; `Conflict` with
    the reason when the folder holds anything else."""
    store = SnapshotStore(index_dir)
    current = store.current_id()
    record_path = index_dir / BUILD_RECORD
    if current is None or not record_path.is_file():
        raise Conflict(f"{index_dir} holds no synthetic snapshot written by `nzc bench scale`: run it once "
                          "without --reuse to build one")
    manifest = json.loads((store.path(current) / "manifest.json").read_text(encoding="utf-8"))
    synthetic = manifest.get("synthetic")
    if not isinstance(synthetic, dict):
        raise Conflict(f"the current snapshot in {index_dir} ({current}) is not a synthetic one: give the folder "
                          "of an earlier `nzc bench scale` run")
    if synthetic.get("chunks") != chunks:
        raise Conflict(f"{index_dir} holds a synthetic snapshot of {synthetic.get('chunks')} passages, not "
                          f"{chunks}: give --chunks {synthetic.get('chunks')} or another folder")
    if len(manifest.get("segments") or []) != 1 or any(entry.get("deleted") for entry in manifest["segments"]):
        raise Conflict(f"the synthetic snapshot in {index_dir} has been changed since it was built "
                          f"({len(manifest.get('segments') or [])} segments): build a new one")
    origin = manifest.get("synthetic_source") or {}
    if origin.get("vectors_sha256") != source_vectors_digest(source):
        raise Conflict(f"the synthetic snapshot in {index_dir} was made from another source index (snapshot "
                          f"{origin.get('snapshot_id')}, not {source.id}): its recall cannot be checked against "
                          "this one's vectors; give the same --source-index")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    if record.get("snapshot_id") != current:
        raise Conflict(f"the build record in {index_dir} names snapshot {record.get('snapshot_id')}, but "
                          f"{current} is current: build a new one")
    return record


def scale_bench(chunks: int, index_dir: Path, source_index: Path, encoders: Encoders, queries_file: Path | None = None,
                rounds: int = 3, log=lambda message: None, reuse: bool = False, build_only: bool = False,
                holder_factory: Callable[[Path], Any] | None = None) -> dict[str, Any]:
    """Write a synthetic snapshot of `chunks` passages into `index_dir` (or, with `reuse`, take the one an earlier
    run wrote there) and measure it served (see module docstring); `encoders` embed the recall queries."""
    from nzc_knowledge.bench.synthetic import SyntheticPlan, synthetic_vectors

    source = Snapshot.load(SnapshotStore(source_index).current_path())
    if reuse:
        record = reusable_snapshot(chunks, index_dir, source)
        log(f"measuring snapshot {record['snapshot_id']} built earlier in {record['build_s']:.0f} s")
    else:
        record = build_synthetic(chunks, index_dir, source, log)
    if build_only:
        return {"command": f"nzc bench scale --chunks {chunks} --index-dir {index_dir} --build-only", **record,
                "load_average": [round(value, 2) for value in os.getloadavg()]}
    store = SnapshotStore(index_dir)
    snapshot_id = record["snapshot_id"]
    snapshot_folder = store.path(snapshot_id)
    sizes = _folder_bytes(snapshot_folder)
    disk = sum(sizes.values())

    loaded = Snapshot.load(snapshot_folder, mmap=True)
    filters = choose_filters(loaded)
    texts = _query_texts(source, queries_file)
    query_vectors = {"dense": encoders.get(source.manifest["encoder"]["name"]).encode_queries(texts)}
    multilingual_name = (source.manifest.get("multilingual_encoder") or {}).get("name")
    if multilingual_name and source.multilingual is not None:
        query_vectors["multilingual"] = encoders.get(multilingual_name).encode_queries(texts)
    plan = SyntheticPlan.make(source, chunks, record["synthetic"]["chunks_per_resource"], record["synthetic"]["seed"])
    recall = {}
    for name in query_vectors:  # one encoder's exact vectors at a time (2 GB at a million 512-d passages)
        recall.update(_dense_recall(loaded, synthetic_vectors(source, plan, (name,)), query_vectors))
    log(f"recall@10 against exact search: {recall}")
    lexical = _lexical_latency(loaded, filters)
    log(f"BM25 alone: {lexical}")
    del loaded

    with served(source_index, index_dir / "serve-sample.log") as (sample_url, sample_pid, sample_start_s):
        sample_first_s = sample_start_s + _first_search_s(sample_url)
        sample_rss = _rss_bytes(sample_pid)
    with served(index_dir, index_dir / "serve.log") as (base_url, pid, start_s):
        first_s = start_s + _first_search_s(base_url)
        log(f"server healthy after {start_s:.1f} s, first search answered after {first_s:.1f} s")
        latency = {"unfiltered": _http_latency(base_url, {}, rounds)}
        for name, spec in filters.items():
            latency[name] = _http_latency(base_url, spec["params"], rounds)
        rss = _rss_bytes(pid)
    # After the latency figures, which are of the one-segment snapshot; that one is made current again afterwards.
    change = change_to_searchable(store, restore=True,
                                  holder=holder_factory(index_dir) if holder_factory is not None else None)
    log(f"one changed file searchable after {change['seconds']} s ({change['bytes_written']} bytes written)")
    sample_chunks = len(source.chunks)
    manifest = json.loads((snapshot_folder / "manifest.json").read_text())
    return {
        "command": f"nzc bench scale --chunks {chunks} --index-dir {index_dir}" + (" --reuse" if reuse else ""),
        "chunks": chunks,
        "snapshot_id": snapshot_id,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "dense_index": manifest["dense_index"],
        "multilingual_index": manifest.get("multilingual_index"),
        "startup_to_healthy_s": round(start_s, 1),
        "sample_startup_to_healthy_s": round(sample_start_s, 1),
        "startup_to_first_search_s": round(first_s, 1),
        "sample_startup_to_first_search_s": round(sample_first_s, 1),
        "startup_note": "healthy: /health answers 200 (the snapshot is open and serving); the warm-up (models run "
                        "once, lexicons, filter and facet indexes) continues in the background, and a search sent "
                        "the moment the server is healthy is answered at startup_to_first_search_s",
        "server_rss_bytes": rss,
        "sample_server_rss_bytes": sample_rss,
        "rss_bytes_per_passage_beyond_sample": round((rss - sample_rss) / max(chunks - sample_chunks, 1), 1),
        "search_ms": latency,
        "filters": filters,
        "lexical_only_ms": lexical,
        "recall_at_10": recall,
        "recall_queries": len(texts),
        "disk_bytes": disk,
        "disk_bytes_per_passage": round(disk / chunks, 1),
        "disk_bytes_by_part": sizes,
        "full_rebuild_s": record["build_s"],
        "full_rebuild_note": "generating the synthetic passages and writing the snapshot (BM25 postings, both IVF "
                             "indexes with nprobe calibration, texts); measured when the snapshot was built"
                             + (" (an earlier run: --reuse)" if reuse else ""),
        "change_to_searchable_s": change["seconds"],
        "change_to_searchable": change,
        "change_to_searchable_note": "an incremental version: one new segment for the changed file, deletion marks for "
                                     "its old passages, the other segments shared by hard links; measured from reading "
                                     "the current snapshot to the new version loaded and the change found by a search "
                                     "(extracting and embedding the one changed file come on top, about a second)",
    }
