"""`nzc eval beir|queries|compare|tags`: relevance evaluation from the command line.

Only click is imported at module level (nzc_knowledge/cli.py registers these commands and `nzc --help`
must stay fast); the engine, metrics and plotting load inside each command.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from nzc_knowledge.cli_options import load_settings, user_errors

MODE_CHOICE = click.Choice(["lexical", "dense", "hybrid"])
DEFAULT_RUNS_DIR = Path("eval/runs")
DEFAULT_REPORTS_DIR = Path("eval/reports")


RANKING_OPTIONS = (
    ("rrf_k", click.IntRange(min=1), "Reciprocal-rank-fusion constant k"),
    ("lexical_weight", click.FloatRange(min=0), "Weight of the BM25 ranking in the fusion"),
    ("dense_weight", click.FloatRange(min=0), "Weight of the English dense ranking (MiniLM) in the fusion"),
    ("multilingual_weight", click.FloatRange(min=0), "Weight of the multilingual dense ranking for English queries"),
    ("depth", click.IntRange(min=1), "Passages taken from each retriever before fusion"),
    ("expansion_weight", click.FloatRange(min=0), "Weight of the thesaurus-expanded query's signals, relative to each retriever's"),
    ("rollup_share", click.FloatRange(min=0), "Share of a resource's next-best passages' scores added to its best one's"),
    ("rollup_passages", click.IntRange(min=1), "Passages per resource counted by the roll-up (the best one included)"),
    ("dense_feedback_weight", click.FloatRange(min=0),
     "Weight of the dense pseudo-relevance-feedback rankings, relative to each encoder's (0: off)"),
    ("cross_language_margin", click.FloatRange(min=-1, max=2),
     "How far below the best same-language passage's multilingual cosine a passage only the multilingual encoder "
     "judges may be and still get the cross-language boost"),
)


def _ranking_options(multiple: bool):
    """--rrf-k, --lexical-weight, --dense-weight, --multilingual-weight, --depth; repeatable for a grid when `multiple`."""
    hint = " (repeat to evaluate a grid of hybrid settings)" if multiple else ""

    def decorate(command):
        for name, kind, help_text in reversed(RANKING_OPTIONS):
            command = click.option(f"--{name.replace('_', '-')}", name, type=kind, multiple=multiple,
                                   default=() if multiple else None,
                                   help=f"{help_text} [default: RankingSettings]{hint}")(command)
        return command

    return decorate


def _ranking_grid(values: dict[str, Any]) -> list:
    """Every combination of the given option values; options not given keep RankingSettings' defaults."""
    from dataclasses import replace

    from nzc_knowledge.search.service import RankingSettings

    axes = {}
    for name, _, _ in RANKING_OPTIONS:
        given = values.get(name)
        given = list(given) if isinstance(given, (list, tuple)) else ([] if given is None else [given])
        if given:
            axes[name] = given
    return [replace(RankingSettings(), **dict(zip(axes, combo, strict=True))) for combo in itertools.product(*axes.values())]


def _ranking_label(ranking) -> str:
    return (f"rrf_k={ranking.rrf_k} lexical={ranking.lexical_weight:g} dense={ranking.dense_weight:g} "
            f"multilingual={getattr(ranking, 'multilingual_weight', 0):g} depth={ranking.depth} "
            f"expansion={ranking.expansion_weight:g} cross_language_margin={ranking.cross_language_margin} "
            f"rollup={ranking.rollup_share:g}/{ranking.rollup_passages} feedback={ranking.dense_feedback_weight:g}")


def _ranking_suffix(ranking) -> str:
    from nzc_knowledge.search.service import RankingSettings

    if ranking == RankingSettings():
        return ""
    return (f"-k{ranking.rrf_k}-lw{ranking.lexical_weight:g}-dw{ranking.dense_weight:g}"
            f"-mw{getattr(ranking, 'multilingual_weight', 0):g}-d{ranking.depth}"
            f"-ew{ranking.expansion_weight:g}-xm{ranking.cross_language_margin}"
            f"-ru{ranking.rollup_share:g}x{ranking.rollup_passages}-fb{ranking.dense_feedback_weight:g}")


def _command_line() -> str:
    """The command as typed, for the report header (quoted so it can be pasted back)."""
    import shlex

    return "nzc " + shlex.join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("nzc") else "nzc eval ..."


def _print_table(results: dict[str, dict[str, float]], measures, first: str = "mode") -> None:
    width = max([len(first), *map(len, results)]) + 2
    click.echo(f"{first:<{width}}" + "".join(f"{name:>10}" for name in measures))
    for row, values in results.items():
        click.echo(f"{row:<{width}}" + "".join(f"{values[name]:>10.4f}" for name in measures))


@click.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--split", default="test", show_default=True, help="Qrels split: qrels/<split>.tsv")
@click.option("--mode", "modes", type=MODE_CHOICE, multiple=True,
              help="Retrieval mode(s) to evaluate [default: lexical, dense and hybrid]")
@_ranking_options(multiple=True)
@click.option("--multilingual-encoder", default=None,
              help="Second (multilingual) dense index, as production builds it [default: the production default]; "
                   "'none' leaves it out")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="Results per query")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("eval/cache"),
              show_default=True, help="Where corpus indexes are built and reused (by fingerprint)")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_RUNS_DIR, show_default=True)
@click.option("--language", default="en", show_default=True, help="Language of the corpus (picks the analyser)")
@click.option("--report", is_flag=True, help="Write a Markdown report and a PNG plot under --report-dir")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_REPORTS_DIR, show_default=True)
@click.option("--report-name", default=None, help="Report file stem [default: <dataset>-<split>]")
@click.option("--json", "as_json", is_flag=True, help="Print {mode: {metric: value}} as JSON")
@click.option("--quiet", is_flag=True, help="No progress bars")
@user_errors
def beir(path: Path, split: str, modes: tuple[str, ...], multilingual_encoder: str | None, limit: int, cache_dir: Path,
         runs_dir: Path, language: str, report: bool, report_dir: Path, report_name: str | None, as_json: bool,
         quiet: bool, **ranking_values) -> None:
    """Evaluate search on the BEIR folder PATH (e.g. ../shared/data/beir/scifact).

    The corpus is indexed with the production pipeline into --cache-dir once and reused while the corpus
    file and pipeline settings are unchanged. Several values of a ranking option evaluate every
    combination for hybrid and print them best first by nDCG@10 (tune on --split train, never on test).
    """
    from nzc_knowledge.encoders import DEFAULT_MULTILINGUAL_ENCODER, load_encoder
    from nzc_knowledge.eval.formats import read_beir, write_run
    from nzc_knowledge.eval.harness import (
        CachingEncoder,
        RankingOnly,
        beir_index,
        make_service,
        run_queries,
        stage_progress,
    )
    from nzc_knowledge.eval.metrics import METRIC_NAMES, evaluate
    from nzc_knowledge.search.backend import backend_factory

    started = time.perf_counter()
    progress = not quiet and not as_json
    dataset = read_beir(path, split)
    grid = _ranking_grid(ranking_values)
    encoder = load_encoder(options=load_settings().encoder_options)
    multilingual_name = multilingual_encoder or DEFAULT_MULTILINGUAL_ENCODER
    multilingual = None if multilingual_name.lower() == "none" else load_encoder(multilingual_name)
    if len(grid) > 1:  # the grid asks the same queries many times: encode each once
        encoder = CachingEncoder(encoder)
        multilingual = CachingEncoder(multilingual) if multilingual is not None else None
    notify, close = stage_progress(progress)
    try:
        indexed = beir_index(dataset, cache_dir, encoder, language=language, progress=notify,
                             multilingual_encoder=multilingual)
    finally:
        close()
    if progress:
        verb = "reused" if indexed.reused else "built"
        click.echo(f"{verb} index {indexed.index_dir} ({len(dataset.corpus)} documents, "
                   f"{len(indexed.snapshot.chunks)} passages) in {indexed.seconds:.1f} s"
                   + ("" if indexed.reused else f" ({len(dataset.corpus) / indexed.seconds:.1f} docs/s; raw encoder speed "
                                                 "beside it: `nzc bench ingest --beir PATH`)"), err=True)
    modes = modes or ("lexical", "dense", "hybrid")
    name = dataset.path.name
    results: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    if len(grid) > 1:
        rows = []
        ranker = RankingOnly(dataset.queries)
        for mode in (m for m in modes if m != "hybrid"):
            service = make_service(indexed.snapshot, encoder, grid[0], multilingual)
            results[mode] = evaluate(dataset.qrels, ranker.run(service, mode, limit, progress)).aggregate  # type: ignore[arg-type]
        for ranking in _progress_over(grid, progress):
            service = make_service(indexed.snapshot, encoder, ranking, multilingual)
            rows.append((ranking, evaluate(dataset.qrels, ranker.run(service, "hybrid", limit)).aggregate))
        rows.sort(key=lambda row: -row[1]["nDCG@10"])
        if as_json:
            payload: dict[str, Any] = dict(results)
            payload["hybrid_grid"] = [{"ranking": _asdict(ranking), **values} for ranking, values in rows]
            click.echo(json.dumps(payload, indent=2))
            return
        click.echo(f"{name} split={split}: {len(dataset.queries)} queries; hybrid grid, best first")
        _print_table({_ranking_label(r): v for r, v in rows} | {f"({m} only)": v for m, v in results.items()},
                     METRIC_NAMES, first="settings")
        click.echo(f"best by nDCG@10: {_ranking_label(rows[0][0])} ({time.perf_counter() - started:.0f} s)")
        return
    ranking = grid[0]
    settings = load_settings()
    open_backend = backend_factory(settings.model_copy(update={"index_dir": indexed.index_dir}))  # NZC_BACKEND
    service = make_service(indexed.snapshot, encoder, ranking, multilingual,
                           backend=open_backend(indexed.snapshot) if open_backend is not None else None)
    per_query = {}
    for mode in modes:
        run, seconds[mode] = run_queries(service, dataset.queries, mode, limit, progress)  # type: ignore[arg-type]
        write_run(runs_dir / f"{name}-{split}-{mode}{_ranking_suffix(ranking)}.trec", run, tag=f"nzc-{mode}")
        evaluation = evaluate(dataset.qrels, run)
        results[mode], per_query[mode] = evaluation.aggregate, evaluation
    total = time.perf_counter() - started
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        click.echo(f"{name} split={split}: {len(dataset.queries)} queries, {len(dataset.corpus)} documents; "
                   f"{_ranking_label(ranking)}; multilingual index: {_multilingual_name(indexed.snapshot)}")
        _print_table(results, METRIC_NAMES)
        click.echo("query time: " + ", ".join(f"{mode} {seconds[mode]:.1f} s" for mode in modes)
                   + f"; total {total:.0f} s; runs in {runs_dir}")
    if report:
        from nzc_knowledge.eval.report import plot_modes, run_report

        stem = report_name or f"{name}-{split}"
        plot = plot_modes(results, METRIC_NAMES, report_dir / f"{stem}.png", f"{name} ({split}, {len(dataset.queries)} queries)")
        facts = _facts(indexed.snapshot, ranking) | {
            "dataset": f"{name} ({dataset.path}), split {split}: {len(dataset.queries)} judged queries, "
                       f"{len(dataset.corpus)} documents",
            "index": f"{'reused' if indexed.reused else 'built'} in {indexed.index_dir} (fingerprint {indexed.fingerprint[:12]}); "
                     f"{indexed.seconds:.1f} s" + ("" if indexed.reused else
                                                   f" ({len(dataset.corpus) / indexed.seconds:.1f} docs/s)"),
            "query time": ", ".join(f"{mode} {seconds[mode]:.1f} s ({len(dataset.queries)} queries)" for mode in modes),
            "total time": f"{total:.0f} s",
        }
        worst = _worst(per_query.get("hybrid"), dataset.queries)
        written = run_report(report_dir / f"{stem}.md", f"Retrieval evaluation: {name} ({split})", _command_line(),
                             facts, results, METRIC_NAMES, plot, worst=worst)
        if not as_json:
            click.echo(f"report: {written} and {plot}")


@click.command()
@click.argument("queries_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("qrels_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Index folder [default: $NZC_INDEX_DIR or indexes/]")
@click.option("--mode", "modes", type=MODE_CHOICE, multiple=True,
              help="Retrieval mode(s) to evaluate [default: lexical, dense and hybrid]")
@_ranking_options(multiple=False)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_RUNS_DIR, show_default=True)
@click.option("--report", is_flag=True, help="Write a Markdown report and a PNG plot under --report-dir")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_REPORTS_DIR, show_default=True)
@click.option("--report-name", default="sample-corpus", show_default=True, help="Report file stem")
@click.option("--group-by", type=click.Choice(["kind", "language"]), default="kind", show_default=True,
              help="Break nDCG@10 down by the queries' kind or the language they are written in")
@click.option("--half", type=click.Choice(["all", "tuning", "held-out"]), default="all", show_default=True,
              help="Evaluate only one half of the queries (split by a hash of the id, nzc_knowledge/eval/halves.py); "
                   "tune on 'tuning', report 'held-out'")
@click.option("--json", "as_json", is_flag=True,
              help="Print {mode: {metric: value, by_kind: {...}, held_out: {...}, foreign_noise: {...}}} as JSON")
@click.option("--quiet", is_flag=True, help="No progress bars")
@user_errors
def queries(queries_file: Path, qrels_file: Path, index_dir: Path | None, modes: tuple[str, ...], limit: int,
            runs_dir: Path, report: bool, report_dir: Path, report_name: str, group_by: str, half: str, as_json: bool,
            quiet: bool, **ranking_values) -> None:
    """Evaluate search on the current snapshot with QUERIES_FILE (jsonl with kind/filters) and QRELS_FILE."""
    from nzc_knowledge.encoders import Encoders
    from nzc_knowledge.eval.formats import read_qrels, read_queries, write_run
    from nzc_knowledge.eval.halves import held_out_ids, select_half
    from nzc_knowledge.eval.harness import run_queries
    from nzc_knowledge.eval.metrics import METRIC_NAMES, evaluate, group_means
    from nzc_knowledge.eval.noise import foreign_noise
    from nzc_knowledge.index import Snapshot, SnapshotStore
    from nzc_knowledge.search.backend import backend_factory
    from nzc_knowledge.search.service import open_search_service

    started = time.perf_counter()
    progress = not quiet and not as_json
    query_set, qrels = read_queries(queries_file), read_qrels(qrels_file)
    unknown = sorted(set(qrels) - set(query_set))
    if unknown:
        raise click.ClickException(f"{qrels_file} judges queries that {queries_file} does not have: {', '.join(unknown[:5])}")
    query_set, qrels = select_half(query_set, half), select_half(qrels, half)
    snapshot = Snapshot.load(SnapshotStore(index_dir or load_settings().index_dir).current_path())
    relevant = {doc for judged in qrels.values() for doc, score in judged.items() if score > 0}
    warnings = []
    if unjudged := sorted(set(query_set) - set(qrels)):
        warnings.append(f"{len(unjudged)} queries have no judgments and are not scored: {', '.join(unjudged[:5])}")
    if missing := sorted(relevant - {resource.id for resource in snapshot.resources}):
        warnings.append(f"{len(missing)} judged-relevant ids are not in the snapshot: {', '.join(missing[:5])}")
    ranking = _ranking_grid(ranking_values)[0]
    settings = load_settings()
    open_backend = backend_factory(settings.model_copy(update={"index_dir": index_dir or settings.index_dir}))  # NZC_BACKEND
    service = open_search_service(snapshot, Encoders.with_options(settings.encoder_options), ranking,  # the encoders the snapshot names, as the API does
                                  backend=open_backend(snapshot) if open_backend is not None else None)
    modes = modes or ("lexical", "dense", "hybrid")
    group_of = {qid: getattr(query, group_by) or "unspecified" for qid, query in query_set.items()}
    results: dict[str, dict[str, Any]] = {}
    per_kind: dict[str, dict[str, dict[str, float]]] = {}  # kind -> mode -> metric -> value
    evaluations = {}
    held_out = held_out_ids(query_set)
    query_language = {qid: query.language for qid, query in query_set.items()}
    resource_language = {resource.id: resource.language for resource in snapshot.resources}
    noise = {}
    for mode in modes:
        run, _ = run_queries(service, query_set, mode, limit, progress)  # type: ignore[arg-type]
        suffix = "" if half == "all" else f"-{half}"
        write_run(runs_dir / f"{report_name}-{mode}{_ranking_suffix(ranking)}{suffix}.trec", run, tag=f"nzc-{mode}")
        evaluations[mode] = evaluate(qrels, run)
        groups = group_means(evaluations[mode], group_of)
        noise[mode] = foreign_noise(run, qrels, query_language, resource_language)
        held_out_evaluation = evaluations[mode].subset(held_out)
        results[mode] = dict(evaluations[mode].aggregate) | {
            "by_kind": groups,
            "held_out": dict(held_out_evaluation.aggregate) | {"by_kind": group_means(held_out_evaluation, group_of)},
            "foreign_noise": noise[mode].as_dict(),
        }
        for kind, values in groups.items():
            per_kind.setdefault(kind, {})[mode] = values
    total = time.perf_counter() - started
    counts = {kind: int(next(iter(by_mode.values()))["queries"]) for kind, by_mode in per_kind.items()}
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        click.echo(f"{len(query_set)} queries on snapshot {snapshot.id} ({len(snapshot.resources)} resources); "
                   f"{_ranking_label(ranking)}; multilingual index: {_multilingual_name(snapshot)}")
        _print_table(results, METRIC_NAMES)
        click.echo(f"\nnDCG@10 per query {group_by}")
        _print_table({f"{kind} ({counts[kind]})": {mode: by_mode[mode]["nDCG@10"] for mode in modes}
                      for kind, by_mode in per_kind.items()}, modes, first=group_by)
        if half == "all":
            click.echo(f"\nnDCG@10 per query {group_by}, held-out half")
            _print_table(_held_out_table(results, modes), modes, first=group_by)
        click.echo("\nforeign-language noise (English queries; a non-relevant resource in another language above a "
                   "relevant English one in the first 10)")
        for mode in modes:
            item = noise[mode]
            click.echo(f"  {mode}: {len(item.affected)}/{item.queries} queries ({item.share:.1%}), "
                       f"{item.inversions} inversions" + (f" [{', '.join(item.affected)}]" if item.affected else ""))
        click.echo(f"total {total:.0f} s; runs in {runs_dir}")
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if report:
        from nzc_knowledge.eval.report import plot_modes, run_report

        table = {mode: {name: results[mode][name] for name in METRIC_NAMES} for mode in modes}
        plot = plot_modes(table, METRIC_NAMES, report_dir / f"{report_name}.png",
                          f"{report_name} ({len(qrels)} judged queries)", per_kind=per_kind, group_label=group_by)
        facts = _facts(snapshot, ranking) | {
            "queries": f"{queries_file} ({len(query_set)} queries; {group_by}: "
                       + ", ".join(f"{kind} {count}" for kind, count in counts.items()) + ")",
            "judgments": f"{qrels_file} ({sum(len(j) for j in qrels.values())} graded judgments, 0-2)",
            "half": f"{half} (halves by a hash of the query id, nzc_knowledge/eval/halves.py; {len(held_out)} held-out)",
            "foreign-language noise": "; ".join(
                f"{mode} {len(noise[mode].affected)}/{noise[mode].queries} English queries "
                f"({noise[mode].share:.1%}), {noise[mode].inversions} inversions" for mode in modes),
            "total time": f"{total:.0f} s",
        }
        written = run_report(report_dir / f"{report_name}.md", f"Retrieval evaluation: {report_name}", _command_line(),
                             facts, table, METRIC_NAMES, plot, per_kind=per_kind, group_label=group_by,
                             worst=_worst(evaluations.get("hybrid"), query_set, count=12), notes=warnings,
                             held_out=_held_out_table(results, modes) if half == "all" else None)
        if not as_json:
            click.echo(f"report: {written} and {plot}")


@click.command()
@click.argument("run_a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--qrels", "qrels_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Judgments (BEIR TSV with header, or TREC qrels)")
@click.option("--measure", default="nDCG@10", show_default=True, help="Metric the paired tests are run on")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Per-query delta plot [default: eval/reports/compare-<A>-vs-<B>.png]")
@click.option("--json", "as_json", is_flag=True)
@user_errors
def compare(run_a: Path, run_b: Path, qrels_file: Path, measure: str, plot: Path | None, as_json: bool) -> None:
    """Compare TREC runs RUN_A and RUN_B: means, deltas, paired t-test and Wilcoxon on per-query values."""
    from dataclasses import asdict

    from nzc_knowledge.eval.compare import compare_runs
    from nzc_knowledge.eval.formats import read_qrels, read_run
    from nzc_knowledge.eval.report import comparison_text, plot_deltas

    comparison = compare_runs(read_qrels(qrels_file), read_run(run_a), read_run(run_b), measure)
    plot = plot or DEFAULT_REPORTS_DIR / f"compare-{run_a.stem}-vs-{run_b.stem}.png"
    plot_deltas(comparison.deltas, plot, f"{measure}: {run_b.stem} minus {run_a.stem}")
    if as_json:
        payload = {"a": str(run_a), "b": str(run_b),
                   "means": {name: {"a": a, "b": b, "delta": d} for name, (a, b, d) in comparison.means().items()},
                   "test": asdict(comparison.test), "plot": str(plot)}
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    click.echo(comparison_text(comparison, str(run_a), str(run_b)))
    click.echo(f"per-query delta plot: {plot}")


@click.command()
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Index folder whose snapshot is compared with curated tags [default: $NZC_INDEX_DIR or indexes/]")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Manifest whose empty tag lists count as judgments [default: $NZC_SOURCE_DIR/manifest.jsonl]")
@click.option("--passages", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=Path("eval/tags/passages.jsonl"), show_default=True, help="Hand-labelled passages")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("eval/cache/tags"),
              show_default=True, help="Where passage and benchmark vectors are cached")
@click.option("--report", is_flag=True, help="Write eval/reports/<report-name>.md and its reliability plot")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_REPORTS_DIR, show_default=True)
@click.option("--report-name", default="tags", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def tags(index_dir: Path | None, manifest: Path | None, passages: Path, cache_dir: Path, report: bool, report_dir: Path,
         report_name: str, as_json: bool) -> None:
    """Tag quality: per-label F1 on held-out labelled passages, calibration, the SDG outside check against the
    ten-line baseline, and the current snapshot's tags against curated ones."""
    from dataclasses import asdict

    from nzc_knowledge.encoders import load_encoder
    from nzc_knowledge.eval.tags import evaluate_passages, held_out_split, load_sdg_check, tag_quality
    from nzc_knowledge.index import Snapshot, SnapshotStore
    from nzc_knowledge.ingest.manifest import curated_empty_families
    from nzc_knowledge.ingest.label_knowledge import one_line_description
    from nzc_knowledge.ingest.tag import MULTILINGUAL_SPACE, Tagger
    from nzc_knowledge.ingest.train_tagger import cached_vectors, load_passages
    from nzc_knowledge.taxonomy import FAMILIES

    settings = load_settings()
    labelled = load_passages(passages)
    encoder = load_encoder(options=settings.encoder_options)
    tagger_probe = Tagger(encoder)
    multilingual_name = tagger_probe.weights.get("encoders", {}).get(MULTILINGUAL_SPACE)
    multilingual = load_encoder(multilingual_name) if multilingual_name else None
    tagger = Tagger(encoder, multilingual_encoder=multilingual)
    texts = [p.embedding_text for p in labelled]
    vectors = cached_vectors(encoder, texts, cache_dir)
    multilingual_vectors = cached_vectors(multilingual, texts, cache_dir) if multilingual else None
    descriptions = encoder.encode_passages([one_line_description(label) for label in FAMILIES["domains"]])
    outside = load_sdg_check()
    outside_vectors = cached_vectors(encoder, [s.text for s in outside], cache_dir)
    evaluation = evaluate_passages(tagger, labelled, vectors, multilingual_vectors, vectors @ descriptions.T,
                                   outside, outside_vectors, outside_vectors @ descriptions.T)

    resources = None
    store = SnapshotStore(index_dir or settings.index_dir)
    snapshot = Snapshot.load(store.current_path()) if store.current_id() else None
    if snapshot is not None:
        manifest = manifest or Path(settings.source_dir) / "manifest.jsonl"
        empty = curated_empty_families(manifest)
        held_out = held_out_split()
        subsets = {"held_out resources": held_out, "all resources": None}
        resources = {name: tag_quality(snapshot.resources, empty, include) for name, include in subsets.items()}
        if not resources["all resources"]:
            resources = None
    if as_json:
        payload = {"passages": asdict(evaluation),
                   "resources": {name: {f: asdict(q) for f, q in quality.items()} for name, quality in (resources or {}).items()}}
        click.echo(json.dumps(payload, indent=2, default=float))
    else:
        out = evaluation.outside
        click.echo(f"SDG outside check ({out['snippets']} snippets), top-domain accuracy: "
                   f"ours {out['ours']:.3f}, ten-line baseline {out['baseline (one-line descriptions)']:.3f}")
        click.echo(f"held-out passages ({evaluation.passages['held_out']}), Brier {evaluation.reliability.brier:.4f}")
        _print_table({family: {"P": q.micro.precision, "R": q.micro.recall, "F1": q.micro.f1, "macro-F1": q.macro.f1}
                      for family, q in evaluation.quality["held_out"].items()}, ("P", "R", "F1", "macro-F1"),
                     first="family (micro)")
        for name, quality in (resources or {}).items():
            click.echo(f"\nsnapshot {snapshot.id}: {name} against curated tags")
            _print_table({f"{family} ({q.resources})": {"P": q.micro.precision, "R": q.micro.recall, "F1": q.micro.f1,
                                                        "macro-F1": q.macro.f1} for family, q in quality.items()},
                         ("P", "R", "F1", "macro-F1"), first="family (micro)")
    if report:
        from nzc_knowledge.eval.tag_report import write_tags_report

        facts = {"passages": f"{passages} (labelled by reading the sample corpus; split by sha256(resource id))",
                 "tagger": json.dumps(asdict(tagger.settings)) + f", top_k {tagger.top_k}, passage thresholds "
                           f"{tagger.weights.get('thresholds')} (per label {tagger.weights.get('label_thresholds')}), "
                           f"resource thresholds {tagger.weights.get('resource_thresholds', {}).get('families')} "
                           "(other families: the passage ones)",
                 "encoders": f"{encoder.info.name}; multilingual {multilingual.info.name if multilingual else 'none'}",
                 "snapshot": f"{snapshot.id} ({len(snapshot.resources)} resources)" if snapshot else "none found"}
        written = write_tags_report(report_dir / f"{report_name}.md", _command_line(), facts, evaluation, resources)
        if not as_json:
            click.echo(f"report: {written}")


def _held_out_table(results: dict[str, dict[str, Any]], modes) -> dict[str, dict[str, float]]:
    """nDCG@10 per group and mode over the held-out half, plus the half's overall figure."""
    table: dict[str, dict[str, float]] = {}
    for mode in modes:
        held_out = results[mode]["held_out"]
        for kind, values in held_out["by_kind"].items():
            table.setdefault(f"{kind} ({int(values['queries'])})", {})[mode] = values["nDCG@10"]
        table.setdefault("all held-out", {})[mode] = held_out["nDCG@10"]
    return table


def _progress_over(items: list, enabled: bool):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="hybrid settings", file=sys.stderr)


def _asdict(ranking) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(ranking)


def _multilingual_name(snapshot) -> str:
    if getattr(snapshot, "multilingual", None) is None:
        return "none"
    return str((snapshot.manifest.get("multilingual_encoder") or {}).get("name", "unnamed"))


def _facts(snapshot, ranking) -> dict[str, Any]:
    encoder = snapshot.manifest.get("encoder", {})
    return {
        "snapshot": f"{snapshot.id} ({len(snapshot.resources)} resources, {len(snapshot.chunks)} passages)",
        "encoder": f"{encoder.get('name')} ({encoder.get('dimension')}-d, max_seq_length {encoder.get('max_seq_length')})",
        "multilingual encoder": _multilingual_name(snapshot),
        "chunker": json.dumps(snapshot.manifest.get("chunker", {})),
        "lexical": json.dumps(snapshot.manifest.get("lexical_index", {}), ensure_ascii=False),
        "ranking": json.dumps(_asdict(ranking)),
        "metrics": "ir-measures (pytrec_eval); a judged query with no results scores 0",
    }


def _worst(evaluation, query_set, count: int = 10) -> list[tuple[str, str, float]]:
    if evaluation is None:
        return []
    values = evaluation.values("nDCG@10")
    ordered = sorted(values.items(), key=lambda item: (item[1], item[0]))[:count]
    return [(qid, query_set[qid].text if qid in query_set else "", value) for qid, value in ordered]
