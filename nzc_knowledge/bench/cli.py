"""`nzc bench ingest` and `nzc bench search`: figures recorded as ratios to the raw model/index cost."""

from __future__ import annotations

import json
from pathlib import Path

import click

from nzc_knowledge.bench.queries import LATENCY_QUERIES
from nzc_knowledge.cli_options import load_settings, user_errors

FILTERS = ({"country": ["DE", "IT", "FR"]}, {"domain": ["energy"], "type": ["financing_note"]}, {"barrier": ["procurement"]})


def _percentiles(samples: list[float]) -> dict[str, float]:
    import numpy as np

    values = np.asarray(samples) * 1000
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p99_ms": round(float(np.percentile(values, 99)), 2),
            "mean_ms": round(float(values.mean()), 2), "n": len(samples)}


def _write(out: Path | None, result: dict) -> None:
    text = json.dumps(result, indent=2, ensure_ascii=False)
    click.echo(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)


@click.command("ingest")
@click.argument("source_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=Path("ingest"))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the JSON here")
@click.option("--beir", "beir_path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Also index this BEIR corpus (e.g. ../shared/data/beir/scifact) as `nzc eval beir` does and report "
                   "its docs/s beside the raw encoders' docs/s on the same passages")
@click.option("--beir-docs", type=click.IntRange(min=1), default=None,
              help="Index only the first N documents of the --beir corpus [default: all]")
@user_errors
def ingest_bench(source_dir: Path, out: Path | None, beir_path: Path | None, beir_docs: int | None) -> None:
    """Ingest SOURCE_DIR into a temporary index; compare with raw encoding of the same chunks by the same encoders
    (MiniLM and, when ingest builds one, the multilingual index's)."""
    import tempfile
    import time

    from nzc_knowledge.encoders import load_encoder
    from nzc_knowledge.index import Snapshot, SnapshotStore
    from nzc_knowledge.ingest.build import build_snapshot
    from nzc_knowledge.ingest.pipeline import IngestSettings, embedding_text
    from nzc_knowledge.recommend.profiles import snapshot_extensions

    started = time.perf_counter()
    settings = load_settings()
    encoder = load_encoder(options=settings.encoder_options)
    name = settings.multilingual_encoder_name
    multilingual = load_encoder(name) if name else None
    load_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        report = build_snapshot(source_dir, Path(folder), encoder=encoder, extensions=snapshot_extensions(source_dir),
                                multilingual=multilingual, settings=IngestSettings(model_cache=settings.model_cache))
        store = SnapshotStore(Path(folder))
        size = sum(path.stat().st_size for path in store.current_path().rglob("*") if path.is_file())
        snapshot = Snapshot.load(store.current_path())
        by_id = {resource.id: resource for resource in snapshot.resources}
        texts = [embedding_text(by_id[chunk.resource_id], chunk) for chunk in snapshot.chunks]
    raw_main_seconds, raw_seconds = _raw_encode_seconds(texts, encoder, multilingual)
    result = {
        "command": f"nzc bench ingest {source_dir}",
        "files_ingested": len(report.ingested),
        "files_skipped": [{"file": item.file, "reason": item.reason} for item in report.skipped],
        "chunks": report.chunk_count,
        "model_load_s": round(load_seconds, 2),
        "ingest_s": round(report.seconds, 2),
        "ingest_chunks_per_s": round(report.chunk_count / report.seconds, 2),
        "pipeline_encode_s": round(report.encode_seconds, 2),
        "encoders": f"{encoder.info.name} ({encoder.info.backend})"
                    + (f" + {multilingual.info.name}" if multilingual is not None else ""),
        "raw_encode_s": round(raw_seconds, 2),
        "raw_main_encoder_s": round(raw_main_seconds, 2),
        "raw_encode_chunks_per_s": round(len(texts) / raw_seconds, 2),
        "overhead_ratio": round(report.seconds / raw_seconds, 2),
        "speed_vs_raw": round(raw_seconds / report.seconds, 2),
        "snapshot_bytes": size,
    }
    if beir_path is not None:
        result["beir"] = _beir_indexing(beir_path, beir_docs, encoder, multilingual)
    _write(out, result)


def _raw_encode_seconds(texts: list[str], encoder, multilingual) -> tuple[float, float]:
    """(main encoder's, both encoders') seconds to encode `texts` straight, the baseline ingest is held to."""
    import time

    started = time.perf_counter()
    encoder.encode_passages(texts, batch_size=32)
    main_seconds = time.perf_counter() - started
    if multilingual is not None:
        multilingual.encode_passages(texts, batch_size=32)
    return main_seconds, time.perf_counter() - started


def _beir_indexing(path: Path, limit: int | None, encoder, multilingual) -> dict:
    """Index a BEIR corpus into a temporary cache as `nzc eval beir` does (its `beir_index`, never reused here), then
    raw-encode the same passages: docs/s of both, and their ratio."""
    import dataclasses
    import tempfile

    from nzc_knowledge.eval.formats import read_beir
    from nzc_knowledge.eval.harness import beir_index
    from nzc_knowledge.ingest.pipeline import embedding_text

    dataset = read_beir(path)
    if limit is not None:
        dataset = dataclasses.replace(dataset, corpus=dataset.corpus[:limit])
    with tempfile.TemporaryDirectory() as folder:
        indexed = beir_index(dataset, Path(folder), encoder, multilingual_encoder=multilingual)
        by_id = {resource.id: resource for resource in indexed.snapshot.resources}
        texts = [embedding_text(by_id[chunk.resource_id], chunk) for chunk in indexed.snapshot.chunks]
    _, raw_seconds = _raw_encode_seconds(texts, encoder, multilingual)
    documents = len(dataset.corpus)
    return {
        "command": f"nzc eval beir {path}" + (f" (first {limit} documents)" if limit is not None else ""),
        "documents": documents,
        "passages": len(texts),
        "index_s": round(indexed.seconds, 2),
        "index_docs_per_s": round(documents / indexed.seconds, 2),
        "raw_encode_s": round(raw_seconds, 2),
        "raw_encode_docs_per_s": round(documents / raw_seconds, 2),
        "speed_vs_raw": round(raw_seconds / indexed.seconds, 2),
    }


def _measure_http(base_url: str, queries: list[str], filters: list[dict], rounds: int) -> list[float]:
    import time

    import httpx

    samples = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for _ in range(rounds):
            for query in queries:
                for params in filters:
                    started = time.perf_counter()
                    response = client.get("/search", params={"q": query, "limit": 10, **params})
                    samples.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise click.ClickException(f"/search answered {response.status_code}: {response.text[:200]}")
    return samples


def _measure_raw(service, queries: list[str], rounds: int) -> list[float]:
    """The irreducible cost of a query: encoding it with each encoder and one FAISS search per dense index."""
    import time

    pairs = [(service.encoder, service.snapshot.dense)]
    if service.multilingual_encoder is not None:
        pairs.append((service.multilingual_encoder, service.snapshot.multilingual))
    samples = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            for encoder, index in pairs:
                index.search(encoder.encode_queries([query])[0], service.ranking.depth)
            samples.append(time.perf_counter() - started)
    return samples


@click.command("search")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Index to measure [default: $NZC_INDEX_DIR or indexes/]")
@click.option("--synthetic", type=click.IntRange(min=1000), default=None,
              help="Also measure a synthetic index of this many chunks built from the current snapshot")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--backend", "backends", type=click.Choice(["embedded", "milvus"]), multiple=True,
              help="Retrieval backend(s) of the measured server [default: $NZC_BACKEND]; two are measured side by "
                   "side, their rounds interleaved, so both see the same load")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the JSON here")
@user_errors
def search_bench(index_dir: Path | None, synthetic: int | None, rounds: int, backends: tuple[str, ...],
                 out: Path | None) -> None:
    """Latency p50/p99 of GET /search over HTTP (with and without filters) vs raw encode + FAISS."""
    import tempfile
    import time
    from contextlib import ExitStack

    from nzc_knowledge.api.app import create_app
    from nzc_knowledge.bench.server import live_server
    from nzc_knowledge.bench.synthetic import synthetic_snapshot
    from nzc_knowledge.encoders import Encoders
    from nzc_knowledge.index import Snapshot, SnapshotStore
    from nzc_knowledge.search.service import open_search_service
    from nzc_knowledge.settings import Settings

    settings = load_settings()
    index_dir = index_dir or settings.index_dir
    # One set for every app and the raw service below (each model loads once), with the configured backend
    encoders = Encoders.with_options(settings.encoder_options)
    snapshot = Snapshot.load(SnapshotStore(index_dir).current_path())
    queries = list(LATENCY_QUERIES)
    targets = [("sample", index_dir, snapshot)]
    temporary = tempfile.TemporaryDirectory()
    if synthetic:
        started = time.perf_counter()
        big = synthetic_snapshot(snapshot, synthetic)
        store = SnapshotStore(Path(temporary.name))
        with store.build(f"synthetic{synthetic:08d}") as (snapshot_id, folder):
            big.manifest["snapshot_id"] = snapshot_id
            big.manifest["dense_index"] = dict(big.manifest["dense_index"], type=big.dense.kind)
            big.save(folder)
        click.echo(f"built a synthetic index of {synthetic} chunks ({big.dense.kind}) in {time.perf_counter() - started:.0f} s",
                   err=True)
        targets.append((f"synthetic-{synthetic}", Path(temporary.name), Snapshot.load(store.current_path())))
    backends = tuple(dict.fromkeys(backends)) or (settings.backend,)
    result = {"command": f"nzc bench search --rounds {rounds}" + (f" --synthetic {synthetic}" if synthetic else "")
              + "".join(f" --backend {backend}" for backend in backends),
              "queries": len(queries), "filters": list(FILTERS)}
    for name, folder, loaded in targets:
        unfiltered: dict[str, list[float]] = {backend: [] for backend in backends}
        filtered: dict[str, list[float]] = {backend: [] for backend in backends}
        with ExitStack() as servers:
            urls = {backend: servers.enter_context(live_server(create_app(
                        Settings(index_dir=folder, backend=backend), encoders=encoders))) for backend in backends}
            for base_url in urls.values():
                _measure_http(base_url, queries[:3], [{}], 1)  # warm-up
            for _ in range(rounds):  # round by round, backend after backend: load changes hit both alike
                for backend, base_url in urls.items():
                    unfiltered[backend] += _measure_http(base_url, queries, [{}], 1)
                for backend, base_url in urls.items():
                    filtered[backend] += _measure_http(base_url, queries, list(FILTERS), 1)
        raw = _percentiles(_measure_raw(open_search_service(loaded, encoders), queries, rounds))
        per_backend = {}
        for backend in backends:
            http, http_filtered = _percentiles(unfiltered[backend]), _percentiles(filtered[backend])
            per_backend[backend] = {
                "http_unfiltered": http,
                "http_filtered": http_filtered,
                "p50_ratio_unfiltered": round(http["p50_ms"] / raw["p50_ms"], 2),
                "p50_ratio_filtered": round(http_filtered["p50_ms"] / raw["p50_ms"], 2),
                "p99_ratio_unfiltered": round(http["p99_ms"] / raw["p99_ms"], 2),
            }
        result[name] = {"chunks": len(loaded.chunks), "dense_index": loaded.dense.kind, "raw_encode_plus_faiss": raw}
        if len(backends) == 1:  # the figures as they always were
            result[name].update(per_backend[backends[0]])
        else:
            result[name]["backends"] = per_backend
    temporary.cleanup()
    _write(out, result)


@click.command("reindex")
@click.argument("source_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=Path("ingest"))
@click.option("--workers", type=click.IntRange(1, 32), default=3, show_default=True,
              help="Threads searching without pause during the reindex")
@click.option("--clients", type=click.IntRange(1, 200), default=None,
              help="Instead: this many concurrent clients against `nzc serve` in a child process on a copy of "
                   "--index-dir, through a reindex and its swap")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="With --clients: the index to copy [default: $NZC_INDEX_DIR or indexes/]")
@click.option("--time-limit", type=click.FloatRange(10, 3600), default=600.0, show_default=True,
              help="With --clients: seconds after which every client stops, build finished or not")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON (no progress lines on stderr)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the JSON here")
@user_errors
def reindex_bench(source_dir: Path, workers: int, clients: int | None, index_dir: Path | None, time_limit: float,
                  as_json: bool, out: Path | None) -> None:
    """Full vs incremental build of a copy of SOURCE_DIR, and failed searches during a reindex + swap."""
    from nzc_knowledge.api.app import create_app
    from nzc_knowledge.bench.reindex import clients_under_reindex
    from nzc_knowledge.bench.reindex import reindex_bench as measure
    from nzc_knowledge.encoders import Encoders, load_encoder

    if clients is None:
        encoder = load_encoder(options=load_settings().encoder_options)  # the configured backend, as `nzc ingest`
        _write(out, measure(source_dir, encoder, lambda settings, encoder: create_app(settings, Encoders(preloaded=[encoder])),
                            workers))
        return
    index_dir = index_dir or load_settings().index_dir
    if not as_json:
        click.echo(f"{clients} clients against a copy of {index_dir}; up to {time_limit:.0f} s", err=True)
    _write(out, clients_under_reindex(source_dir, index_dir, clients, time_limit_s=time_limit))


@click.command("scale")
@click.option("--chunks", type=click.IntRange(min=1000), required=True, help="Passages in the synthetic snapshot")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Empty folder the synthetic index is written into (and left in)")
@click.option("--source-index", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Index of real passages to copy texts, metadata and vectors from [default: $NZC_INDEX_DIR or indexes/]")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--reuse", is_flag=True,
              help="Measure the synthetic snapshot an earlier run wrote into --index-dir (same --chunks) instead of building one")
@click.option("--build-only", is_flag=True, help="Only write the synthetic snapshot (measure it later with --reuse)")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON (no progress lines on stderr)")
@user_errors
def scale_bench(chunks: int, index_dir: Path, source_index: Path | None, rounds: int, reuse: bool, build_only: bool,
                as_json: bool) -> None:
    """Synthetic snapshot of N passages served by `nzc serve`: start-up, RSS, /search p50/p99, recall@10, disk."""
    from nzc_knowledge.api.engine import EngineHolder
    from nzc_knowledge.bench.scale import scale_bench as measure
    from nzc_knowledge.encoders import Encoders

    if reuse and build_only:
        raise click.UsageError("--reuse measures an existing snapshot and --build-only writes a new one: give one")
    if not reuse and index_dir.exists() and any(index_dir.iterdir()):
        raise click.ClickException(f"{index_dir} is not empty: give a new folder for the synthetic index "
                                   "(or --reuse to measure the one an earlier run wrote there)")
    settings = load_settings()
    source_index = source_index or settings.index_dir
    log = (lambda message: None) if as_json else (lambda message: click.echo(message, err=True))
    encoders = Encoders.with_options(settings.encoder_options)
    # change-to-searchable is taken up by the server's own engine holder (with the encoders loaded for recall)
    result = measure(chunks, index_dir, source_index, encoders, Path("eval/queries.jsonl"), rounds, log, reuse=reuse,
                     build_only=build_only, holder_factory=lambda folder: EngineHolder(folder, encoders))
    click.echo(json.dumps(result, indent=None if as_json else 2, ensure_ascii=False))
