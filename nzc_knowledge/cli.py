"""The `nzc` command. Heavy imports live inside each command so `nzc --help` stays fast."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from nzc_knowledge.bench import cli as bench_cli
from nzc_knowledge.cli_options import index_dir_option, load_settings, user_errors
from nzc_knowledge.errors import NZCError
from nzc_knowledge.eval import cli as eval_cli
from nzc_knowledge.recommend import cli as recommend_cli


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nzc-knowledge")
def main() -> None:
    """nzc-knowledge: search and peer-city suggestions for a climate-action knowledge repository."""


class _StageBars:
    """One tqdm progress bar per pipeline stage, on stderr."""

    LABELS = {"extract": "extract+chunk", "embed": "embed", "embed multilingual": "embed (multilingual)", "tag": "tag",
              "index": "write snapshot"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[str, object] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            for other in self.bars.values():
                other.close()  # type: ignore[attr-defined]
            bar = self.bars[stage] = tqdm(total=total, desc=self.LABELS.get(stage, stage), unit="", file=sys.stderr)
        bar.n = done  # type: ignore[attr-defined]
        bar.refresh()  # type: ignore[attr-defined]

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()  # type: ignore[attr-defined]


@main.command()
@click.argument("source_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@index_dir_option
@click.option("--keep", type=click.IntRange(min=1), default=None, help="Snapshots to keep [default: $NZC_KEEP_SNAPSHOTS or 5]")
@click.option("--full", is_flag=True, help="Rebuild everything instead of reusing unchanged files")
@click.option("--multilingual-encoder", default=None,
              help="Encoder of the cross-lingual index, or 'none' [default: $NZC_MULTILINGUAL_ENCODER or "
                   "universal-sentence-encoder-multilingual-3]")
@click.option("--extract-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds one file's extraction may take [default: $NZC_EXTRACT_TIMEOUT_S or 60]")
@click.option("--extract-max-mb", type=click.IntRange(min=64), default=None,
              help="Memory one file's extraction may use, MB [default: $NZC_EXTRACT_MAX_MB or 1024]")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Embed passages with a Ray Data pipeline of encoder actors: a local Ray started here, or the Ray "
                   "cluster at ADDRESS (ray://host:10001 or host:6379)")
@click.option("--ray-actors", type=click.IntRange(min=1), default=2, show_default=True,
              help="With --ray: encoder actors per encoder")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON")
@click.option("--quiet", is_flag=True, help="No progress bars")
@user_errors
def ingest(source_dir: Path | None, index_dir: Path, keep: int | None, full: bool, multilingual_encoder: str | None,
           extract_timeout: float | None, extract_max_mb: int | None, ray_address: str | None, ray_actors: int,
           as_json: bool, quiet: bool) -> None:
    """Ingest SOURCE_DIR [default: $NZC_SOURCE_DIR or ingest/] into a new current snapshot.

    Incremental: only new or changed files are extracted and embedded; a change of model or chunker settings
    forces a full rebuild (the report says so).
    """
    from nzc_knowledge.encoders import load_encoder
    from nzc_knowledge.ingest.build import build_snapshot
    from nzc_knowledge.ingest.extract.isolation import ExtractionLimits
    from nzc_knowledge.ingest.pipeline import IngestSettings
    from nzc_knowledge.recommend.profiles import snapshot_extensions

    overrides = {"multilingual_encoder": multilingual_encoder, "extract_timeout_s": extract_timeout,
                 "extract_max_mb": extract_max_mb}
    settings = load_settings(**{name: value for name, value in overrides.items() if value is not None})
    source_dir = source_dir or settings.source_dir
    bars = _StageBars(enabled=not quiet and not as_json)
    encoder = load_encoder(options=settings.encoder_options)
    multilingual = settings.multilingual_encoder_name
    if ray_address:
        from nzc_knowledge.ingest.ray_embed import RayEncoder

        encoder = RayEncoder(encoder, settings.encoder_options, actors=ray_actors, address=ray_address)
        if multilingual:
            multilingual = RayEncoder(load_encoder(multilingual), actors=ray_actors, address=ray_address)
    try:
        report = build_snapshot(source_dir, index_dir, encoder=encoder, progress=bars, keep_snapshots=keep or settings.keep_snapshots,
                                extensions=snapshot_extensions(source_dir), full=full,
                                multilingual=multilingual,
                                settings=IngestSettings(limits=ExtractionLimits.from_settings(settings),
                                                        model_cache=settings.model_cache),
                                merge_at=settings.segment_merge_at)
    finally:
        bars.close()
    published = _publish_to_backend(settings, index_dir) if report.outcome != "unchanged" else None
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    if published:
        click.echo(published)
    rate = report.chunk_count / report.seconds if report.seconds else 0.0
    if report.outcome == "unchanged":
        click.echo(f"nothing changed since snapshot {report.snapshot_id} in {index_dir}; no snapshot published")
    else:
        click.echo(f"snapshot {report.snapshot_id} is now current in {index_dir}")
    for note in report.notes:
        click.echo(note)
    click.echo(f"ingested {len(report.ingested)} new or changed files, {len(report.unchanged)} unchanged, "
               f"{len(report.removed)} removed; {report.chunk_count} chunks ({report.embedded_chunks} embedded) "
               f"in {report.seconds:.1f} s ({rate:.1f} chunks/s; encoding {report.encode_seconds:.1f} s)")
    for first, second, similarity in report.near_duplicates:
        click.echo(f"near-duplicate: {first} ~ {second} (similarity {similarity:.3f})")
    click.echo(f"skipped {len(report.skipped)} files")
    for item in report.skipped:
        click.echo(f"  - {item.file}: {item.reason}")
    for line in report.manifest_errors:
        click.echo(f"  manifest: {line}")


@main.command()
@click.argument("query")
@index_dir_option
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "dense"]), default="hybrid", show_default=True)
@click.option("--domain", multiple=True)
@click.option("--barrier", multiple=True)
@click.option("--lever", multiple=True)
@click.option("--type", "types", multiple=True)
@click.option("--country", multiple=True)
@click.option("--city", multiple=True)
@click.option("--language", multiple=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON")
@user_errors
def search(query: str, index_dir: Path, limit: int, mode: str, domain, barrier, lever, types, country, city, language,
           as_json: bool) -> None:
    """Search the current snapshot for QUERY (empty string to browse with filters)."""
    import re

    from nzc_knowledge.encoders import Encoders
    from nzc_knowledge.index import Snapshot, SnapshotStore
    from nzc_knowledge.search.backend import backend_factory
    from nzc_knowledge.search.filters import SearchFilters
    from nzc_knowledge.search.service import open_search_service

    filters = SearchFilters.parse(list(domain), list(barrier), list(lever), list(types), list(country), list(city),
                                  list(language))
    snapshot = Snapshot.load(SnapshotStore(index_dir).current_path())
    settings = load_settings()
    open_backend = backend_factory(settings.model_copy(update={"index_dir": index_dir}))  # NZC_BACKEND
    service = open_search_service(snapshot, Encoders.with_options(settings.encoder_options),
                                  backend=open_backend(snapshot) if open_backend is not None else None)
    page = service.search(query, filters, limit=limit, mode=mode)  # type: ignore[arg-type]
    if as_json:
        rows = [
            {"id": hit.resource.id, "title": hit.resource.title, "type": hit.resource.type, "city": hit.resource.city,
             "country": hit.resource.country, "score": hit.score, "snippet": snippet}
            for hit, snippet in zip(page.hits, page.snippets, strict=True)
        ]
        click.echo(json.dumps({"query": query, "corrected_query": page.corrected_query, "total": page.total,
                               "results": rows}, indent=2, ensure_ascii=False))
        return
    if page.corrected_query:
        click.echo(f"(searched for: {page.corrected_query})")
    click.echo(f"{page.total} matching resources")
    for rank, (hit, snippet) in enumerate(zip(page.hits, page.snippets, strict=True), start=1):
        resource = hit.resource
        where = ", ".join(part for part in (resource.city, resource.country) if part)
        click.echo(f"{rank:>2}. {resource.title}  [{resource.type or '-'}; {where or '-'}]  score {hit.score:.4f}")
        plain = re.sub(r"</?mark>", "*", snippet)
        import html

        click.echo(f"    {html.unescape(plain)}")
        click.echo(f"    id: {resource.id}")


@main.command()
@index_dir_option
@click.option("--json", "as_json", is_flag=True)
@user_errors
def info(index_dir: Path, as_json: bool) -> None:
    """Describe the current snapshot."""
    from nzc_knowledge.index.snapshot import MANIFEST
    from nzc_knowledge.index.store import SnapshotStore

    store = SnapshotStore(index_dir)
    manifest = json.loads((store.current_path() / MANIFEST).read_text(encoding="utf-8"))
    if as_json:
        click.echo(json.dumps(manifest, indent=2, ensure_ascii=False))
        return
    size = sum(path.stat().st_size for path in store.current_path().rglob("*") if path.is_file())
    encoder = manifest["encoder"]
    click.echo(f"snapshot      {manifest['snapshot_id']} (current of {len(store.list())} in {index_dir})")
    click.echo(f"built         {manifest['created_at']} by nzc-knowledge {manifest['package_version']}")
    click.echo(f"content       {manifest['counts']['resources']} resources, {manifest['counts']['chunks']} chunks, "
               f"{manifest['counts']['skipped_files']} skipped files")
    click.echo(f"encoder       {encoder['name']} ({encoder['dimension']}-d, max_seq_length {encoder['max_seq_length']})")
    multilingual = manifest.get("multilingual_encoder")
    if multilingual:
        click.echo(f"multilingual  {multilingual['name']} ({multilingual['dimension']}-d), a second dense index")
    click.echo(f"chunker       {manifest['chunker']}")
    click.echo(f"dense index   faiss {manifest['dense_index']['type']} ({manifest['dense_index']['metric']})")
    click.echo(f"lexical index BM25 {manifest['lexical_index']['method']} (collection-wide statistics)")
    segments = manifest.get("segments") or []
    click.echo(f"segments      {len(segments)}, {sum(entry.get('deleted', 0) for entry in segments)} passages marked deleted")
    click.echo(f"size on disk  {size / 1e6:.1f} MB")
    for item in manifest.get("skipped", []):
        click.echo(f"skipped       {item['file']}: {item['reason']}")


@main.command()
@index_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--source-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder that POST /admin/reindex ingests [default: $NZC_SOURCE_DIR or ingest/]")
def serve(index_dir: Path, host: str, port: int, source_dir: Path | None) -> None:
    """Serve the HTTP API (OpenAPI at /docs) over the current snapshot."""
    import uvicorn

    from nzc_knowledge.api.app import create_app

    overrides = {"index_dir": index_dir}
    if source_dir:
        overrides["source_dir"] = source_dir
    settings = load_settings(**overrides)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@main.group()
def snapshots() -> None:
    """List snapshots and roll back to an older one."""


@snapshots.command("list")
@index_dir_option
def snapshots_list(index_dir: Path) -> None:
    """Snapshots, newest first; * marks the current one, ! a damaged one (it cannot be rolled back to)."""
    from nzc_knowledge.index.store import SnapshotStore

    for row in SnapshotStore(index_dir).list():
        mark = "*" if row["current"] else "!" if row["problem"] else " "
        if row["problem"]:
            click.echo(f"{mark} {row['snapshot_id']}  damaged: {row['problem']}")
            continue
        segments = f", {row['segments']} segments, {row['deleted']} deleted" if row.get("segments") else ""
        click.echo(f"{mark} {row['snapshot_id']}  {row['created_at']}  {row['resources']} resources, {row['chunks']} chunks"
                   f"{segments}")


@snapshots.command("rollback")
@click.argument("snapshot_id", required=False)
@index_dir_option
@user_errors
def snapshots_rollback(snapshot_id: str | None, index_dir: Path) -> None:
    """Make SNAPSHOT_ID (default: the previous snapshot) current; refused while a build runs or if it is damaged.

    A server on the same index switches at its next request.
    """
    from nzc_knowledge.index.store import SnapshotStore

    chosen = SnapshotStore(index_dir).rollback(snapshot_id)
    click.echo(f"snapshot {chosen} is now current in {index_dir}")
    if published := _publish_to_backend(load_settings(), index_dir):
        click.echo(published)


def _publish_to_backend(settings, index_dir: Path) -> str | None:
    """With NZC_BACKEND=milvus: the current snapshot's collection written if missing and the alias moved to it."""
    from nzc_knowledge.index import Snapshot, SnapshotStore
    from nzc_knowledge.search.backend import backend_factory

    try:
        open_backend = backend_factory(settings.model_copy(update={"index_dir": index_dir}))
        if open_backend is None:
            return None
        backend = open_backend(Snapshot.load(SnapshotStore(index_dir).current_path()))
    except NZCError as error:  # e.g. MilvusUnavailable: Milvus Lite's file held by a running server: it publishes on load
        return f"Milvus not updated ({error}); a server on this index publishes the snapshot to Milvus when it loads it"
    return f"Milvus collection {backend.collection} is now serving (alias moved)"


@main.group()
def eval() -> None:  # noqa: A001 - the command is called `nzc eval`
    """Relevance evaluation: BEIR folders, the product's own queries, run comparison."""


@main.group()
def bench() -> None:
    """Benchmarks: ingest throughput, search latency, reindex cost, peer suggestions."""


# Each part's commands import only click at module level, so registering them here keeps `nzc --help` fast.
main.add_command(recommend_cli.peers, name="peers")
eval.add_command(recommend_cli.peers_eval, name="peers")
eval.add_command(eval_cli.beir, name="beir")
eval.add_command(eval_cli.queries, name="queries")
eval.add_command(eval_cli.compare, name="compare")
eval.add_command(eval_cli.tags, name="tags")
bench.add_command(recommend_cli.peers_bench, name="peers")
bench.add_command(bench_cli.ingest_bench, name="ingest")
bench.add_command(bench_cli.search_bench, name="search")
bench.add_command(bench_cli.reindex_bench, name="reindex")
bench.add_command(bench_cli.scale_bench, name="scale")

if __name__ == "__main__":
    main()
