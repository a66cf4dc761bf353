"""`nzc peers`, `nzc eval peers`, `nzc bench peers` (registered by nzc_knowledge/cli.py).

A composition root: it builds the peer service (and for the benchmark an HTTP client) and hands them to
the evaluation (nzc_knowledge/eval/peers.py) and the benchmark (nzc_knowledge/bench/peers.py).
Only click is imported at module level; the engine loads inside each command so `nzc --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from nzc_knowledge.cli_options import index_dir_option, user_errors


def _load_service(index_dir: Path, text_weight: float | None = None):
    from nzc_knowledge.index.snapshot import Snapshot
    from nzc_knowledge.index.store import SnapshotStore
    from nzc_knowledge.recommend.peers import PeerService

    snapshot = Snapshot.load(SnapshotStore(index_dir).current_path())
    return snapshot, PeerService.from_snapshot(snapshot, text_weight=text_weight)


def _cities_client(service):
    """A TestClient over an app with only the cities router, serving `service` (errors mapped like the real app)."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from nzc_knowledge.api.app import register_error_handlers
    from nzc_knowledge.api.deps import get_peer_service
    from nzc_knowledge.api.routes import cities

    app = FastAPI()
    register_error_handlers(app)
    app.include_router(cities.router)
    app.dependency_overrides[get_peer_service] = lambda: service
    return TestClient(app)


@click.command()
@click.argument("city")
@click.option("--limit", "-n", type=click.IntRange(1, 100), default=5, show_default=True, help="How many peers")
@click.option("--country", "countries", multiple=True, metavar="CC", help="Peers only in these ISO-2 countries")
@click.option("--exclude-country", "excluded", multiple=True, metavar="CC", help="No peers in these countries")
@click.option("--domain", "domains", multiple=True, help="Peers must treat one of these emission domains")
@click.option("--barrier", "barriers", multiple=True, help="Peers must face one of these barriers")
@click.option("--lever", "levers", multiple=True, help="Peers must use one of these levers")
@click.option("--nearby", is_flag=True, help="Prefer peers close by")
@click.option("--any-size", is_flag=True, help="Do not prefer peers of similar size")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer")
@index_dir_option
@user_errors
def peers(city: str, limit: int, countries, excluded, domains, barriers, levers, nearby: bool, any_size: bool,
          as_json: bool, index_dir: Path) -> None:
    """Cities facing challenges similar to CITY's, with the reasons (CITY: any spelling; 'Name, CC' if ambiguous)."""
    _snapshot, service = _load_service(index_dir)
    answer = service.peers(
        city, limit=limit, country=countries, exclude_country=excluded, domain=domains, barrier=barriers, lever=levers,
        prefer_similar_size=not any_size, prefer_nearby=nearby,
    )
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"Peers of {answer.city} ({answer.country}):")
    if answer.note:
        click.echo(f"  {answer.note}")
    for rank, peer in enumerate(answer.peers, start=1):
        click.echo(f"\n{rank}. {peer.city} ({peer.country})  score {peer.score:.3f}")
        click.echo(click.wrap_text(peer.explanation, width=100, initial_indent="   ", subsequent_indent="   "))
        if peer.evidence:
            click.echo(f"   evidence: {', '.join(peer.evidence)}")


@click.command("peers")
@click.option("--cases", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=Path("eval/peer_cases.jsonl"), show_default=True, help="Expert cases (JSONL)")
@click.option("--split", type=click.Choice(["tune", "held_out", "all"]), default="all", show_default=True,
              help="Which cases to evaluate")
@click.option("--tags-only", is_flag=True, help="Score on tags only (text weight 0), the brief's base formula")
@click.option("--tune", is_flag=True, help="Grid-search the peer weights on the tune cases, then report the best on all")
@click.option("--report", is_flag=True, help="Write eval/reports/peers.md (with --tune: peers-tuning.md)")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("eval/reports"),
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON")
@index_dir_option
@user_errors
def peers_eval(cases: Path, split: str, tags_only: bool, tune: bool, report: bool, report_dir: Path,
               as_json: bool, index_dir: Path) -> None:
    """P@3, hit@3 and nDCG@5 of peer suggestions on expert cases, per split (ir_measures); --tune picks weights."""
    from nzc_knowledge.eval.peers import (
        ROUND_1_VECTORS, ROUND_1_WEIGHTS, evaluate_peers, load_cases, peers_report, tune_peer_scoring, with_weights,
    )
    from nzc_knowledge.recommend.peers import PeerService

    snapshot, service = _load_service(index_dir, text_weight=0.0 if tags_only else None)
    path = cases
    chosen = load_cases(path, None if split == "all" else split)
    tuning = None
    baselines = {}
    if tune:
        # The dense index first: on a tie the passage vectors used before round 2 stay.
        services = {"dense": PeerService.from_snapshot(snapshot, text_weight=service.weights.text, passage_vectors="dense")}
        if snapshot.multilingual is not None and not tags_only:
            services["multilingual"] = service if service.passage_vectors == "multilingual" else PeerService.from_snapshot(
                snapshot, passage_vectors="multilingual")
        tuning = tune_peer_scoring(services, load_cases(path, "tune"))
        baselines["Defaults of this build, before tuning"] = evaluate_peers(service, chosen)
        service = with_weights(services[tuning[0]["vectors"]], tuning[0]["weights"])
    if report and not tags_only:
        before = with_weights(PeerService.from_snapshot(snapshot, passage_vectors=ROUND_1_VECTORS), ROUND_1_WEIGHTS)
        baselines["Engine before round 2 (dense passage vectors, hand-set weights)"] = evaluate_peers(before, chosen)
    result = evaluate_peers(service, chosen)
    result["snapshot_id"] = snapshot.manifest.get("snapshot_id")
    if tuning is not None:
        result["tuning"] = tuning[:10]
    result["baselines"] = {name: {"weights": part["weights"], "passage_vectors": part["passage_vectors"],
                                  "splits": part["splits"]} for name, part in baselines.items()}
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for row in result["per_case"]:
            click.echo(f"{row['id']:<36} {row['split']:<8} P@3 {row['P@3']:.2f}  hit@3 {row['hit@3']:.0f}  "
                       f"nDCG@5 {row['nDCG@5']:.3f}  top: {', '.join(row['top5'][:3])}")
        if tuning is not None:
            click.echo(f"\ntuned on {len(load_cases(path, 'tune'))} tune cases over {len(tuning)} weight combinations; "
                       f"chosen: {json.dumps(tuning[0]['weights'])}, vectors {tuning[0]['vectors']} "
                       f"(tune {json.dumps(tuning[0]['measures'])})")
        click.echo(f"\nsnapshot {result['snapshot_id']}, weights {json.dumps(result['weights'])}, "
                   f"passage vectors {result['passage_vectors']}")
        for name, part in result["splits"].items():
            measures = "  ".join(f"{measure} {value:.4f}" for measure, value in part["measures"].items())
            click.echo(f"  {name:<18} {part['cases']:>3} cases  {measures}  (P@3 ceiling {part['P@3 ceiling']:.3f})")
    if report:
        import shlex
        import sys

        facts = {"snapshot": f"{result['snapshot_id']} ({len(snapshot.resources)} resources, "
                             f"{len(service.scorer.content)} content cities)",
                 "cases": f"{path.name}: {len(chosen)} cases ({split})",
                 "measures": "ir_measures: P(rel=1)@3, Success(rel=1)@3 as hit@3, nDCG@5 with graded gains; "
                             "P@3 ceiling = mean of min(3, expected peers)/3"}
        written = peers_report(report_dir / ("peers-tuning.md" if tune else "peers.md"),
                               "nzc " + shlex.join(sys.argv[1:]),
                               facts, result, baselines, tuning)
        if not as_json:
            click.echo(f"report: {written}")


@click.command("peers")
@click.option("--queries", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Peers queries, cities drawn from the whole registry")
@click.option("--repeats", type=click.IntRange(1, 10_000), default=30, show_default=True, help="Twinning requests")
@click.option("--synthetic-cities", type=click.IntRange(0, 10_000), default=300, show_default=True,
              help="Registry cities given copies of sample resources for the 50 x 100 twinning run")
@click.option("--through", type=click.Choice(["app", "router", "service"]), default="app", show_default=True,
              help="app: the project's create_app via TestClient; router: only the cities router; service: no HTTP")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON")
@index_dir_option
@user_errors
def peers_bench(queries: int, repeats: int, synthetic_cities: int, through: str, as_json: bool, index_dir: Path) -> None:
    """p50/p99 latency of GET /cities/{city}/peers over the full registry and of POST /twinning (50 x 100)."""
    from nzc_knowledge.bench.peers import bench_peers, bench_twinning, environment, synthetic_corpus
    from nzc_knowledge.recommend.peers import PeerService, resource_vectors

    snapshot, service = _load_service(index_dir)
    report: dict = {"snapshot_id": snapshot.manifest.get("snapshot_id"), "environment": environment()}
    if through == "app":
        from fastapi.testclient import TestClient

        from nzc_knowledge.api.app import create_app
        from nzc_knowledge.settings import Settings

        with TestClient(create_app(Settings(index_dir=index_dir))) as client:
            report["peers"] = bench_peers(service, queries, through="app", client=client)
    else:
        client = _cities_client(service) if through == "router" else None
        report["peers"] = bench_peers(service, queries, through=through, client=client)
    resources, vectors = synthetic_corpus(snapshot.resources, resource_vectors(snapshot), service.scorer.records,
                                          synthetic_cities)
    big = PeerService.from_resources(resources, vectors=vectors)
    if through == "service":
        report["twinning"] = bench_twinning(big, repeats=repeats, through="service")
    else:
        report["twinning"] = bench_twinning(big, repeats=repeats, through="router", client=_cities_client(big))
    report["twinning"]["corpus"] = f"sample corpus + copies on {synthetic_cities} registry cities ({len(resources)} resources)"
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for name in ("peers", "twinning"):
        part = report[name]
        click.echo(f"{part['endpoint']:<36} through {part['through']:<7} n={part['n']:<5} "
                   f"p50 {part['p50_ms']:.2f} ms  p99 {part['p99_ms']:.2f} ms  mean {part['mean_ms']:.2f} ms")
    click.echo(f"peers over {report['peers']['cities_known']} known cities ({report['peers']['content_cities']} with content); "
               f"twinning: {report['twinning']['corpus']}")
