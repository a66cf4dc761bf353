"""Markdown reports and PNG plots (matplotlib, Agg backend) for eval runs, comparisons and tag quality.

Every report names the command that produced it, so each committed number can be re-measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nzc_knowledge.eval.compare import Comparison

Table = Mapping[str, Mapping[str, float]]  # row -> metric -> value


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def markdown_table(rows: Table, measures: Sequence[str], first: str = "mode", digits: int = 4) -> str:
    lines = [f"| {first} | " + " | ".join(measures) + " |", "| --- | " + " | ".join("---:" for _ in measures) + " |"]
    for name, values in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{values[m]:.{digits}f}" for m in measures) + " |")
    return "\n".join(lines)


def plot_modes(results: Table, measures: Sequence[str], path: Path, title: str,
               per_kind: Mapping[str, Table] | None = None, group_label: str = "kind") -> Path:
    """Grouped bars: one group per metric, one bar per mode; with `per_kind`, a second panel of nDCG@10 per group."""
    plt = _pyplot()
    modes = list(results)
    panels = 2 if per_kind else 1
    figure, axes = plt.subplots(1, panels, figsize=(7 * panels, 4.2), squeeze=False)
    width = 0.8 / max(1, len(modes))
    ax = axes[0][0]
    for i, mode in enumerate(modes):
        positions = [j + i * width for j in range(len(measures))]
        bars = ax.bar(positions, [results[mode][m] for m in measures], width, label=mode)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks([j + width * (len(modes) - 1) / 2 for j in range(len(measures))], list(measures))
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    if per_kind:
        ax = axes[0][1]
        kinds = list(per_kind)
        for i, mode in enumerate(modes):
            positions = [j + i * width for j in range(len(kinds))]
            ax.bar(positions, [per_kind[kind][mode]["nDCG@10"] for kind in kinds], width, label=mode)
        ax.set_xticks([j + width * (len(modes) - 1) / 2 for j in range(len(kinds))], kinds, rotation=20)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"nDCG@10 per query {group_label}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_deltas(deltas: Mapping[str, float], path: Path, title: str) -> Path:
    """Per-query deltas (B - A), sorted, as bars: green where B wins, red where it loses."""
    plt = _pyplot()
    ordered = sorted(deltas.items(), key=lambda item: item[1])
    figure, ax = plt.subplots(figsize=(9, 3.8))
    values = [value for _, value in ordered]
    ax.bar(range(len(values)), values, width=1.0, color=["#2a9d2a" if v > 0 else "#c0392b" if v < 0 else "#999999" for v in values])
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel(f"queries, sorted by delta ({len(values)})")
    ax.set_ylabel("delta")
    ax.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _header(title: str, command: str, facts: Mapping[str, Any]) -> list[str]:
    lines = [f"# {title}", "", f"Generated {datetime.now(UTC).isoformat(timespec='seconds')} by:", "", "```",
             command, "```", ""]
    lines += [f"- **{key}**: {value}" for key, value in facts.items()]
    return lines + [""]


def run_report(
    path: Path, title: str, command: str, facts: Mapping[str, Any], results: Table, measures: Sequence[str],
    plot: Path, per_kind: Mapping[str, Table] | None = None, worst: Sequence[tuple[str, str, float]] = (),
    notes: Sequence[str] = (), group_label: str = "kind", held_out: Mapping[str, Mapping[str, float]] | None = None,
) -> Path:
    """A Markdown report of metrics per mode (and per query kind or language, all and held-out), with the plot."""
    lines = _header(title, command, facts)
    lines += ["## Metrics per mode", "", markdown_table(results, measures), "", f"![metrics per mode]({plot.name})", ""]
    if per_kind:
        lines += [f"## nDCG@10 per query {group_label}", ""]
        modes = list(results)
        lines += [f"| {group_label} | queries | " + " | ".join(modes) + " |", "| --- | ---: | " + " | ".join("---:" for _ in modes) + " |"]
        for kind, by_mode in per_kind.items():
            count = int(next(iter(by_mode.values())).get("queries", 0))
            lines.append(f"| {kind} | {count} | " + " | ".join(f"{by_mode[m]['nDCG@10']:.4f}" for m in modes) + " |")
        lines.append("")
    if held_out:
        modes = list(results)
        lines += [f"## nDCG@10 per query {group_label}, held-out half", "",
                  "Queries whose id hashes to the held-out half (nzc_knowledge/eval/halves.py); ranking choices are "
                  "made on the other half.", "",
                  f"| {group_label} | " + " | ".join(modes) + " |", "| --- | " + " | ".join("---:" for _ in modes) + " |"]
        lines += [f"| {group} | " + " | ".join(f"{by_mode[m]:.4f}" for m in modes) + " |" for group, by_mode in held_out.items()]
        lines.append("")
    if worst:
        lines += ["## Weakest queries (hybrid nDCG@10)", "", "| query | text | nDCG@10 |", "| --- | --- | ---: |"]
        lines += [f"| {qid} | {text.replace('|', '/')} | {value:.3f} |" for qid, text, value in worst]
        lines.append("")
    if notes:
        lines += ["## Notes", "", *[f"- {note}" for note in notes], ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def comparison_text(comparison: Comparison, name_a: str, name_b: str) -> str:
    """Plain-text summary printed by `nzc eval compare` (also used in Markdown)."""
    test = comparison.test
    lines = [f"A = {name_a}", f"B = {name_b}", "", f"{'metric':<10} {'A':>8} {'B':>8} {'B-A':>8}"]
    for name, (a, b, delta) in comparison.means().items():
        lines.append(f"{name:<10} {a:>8.4f} {b:>8.4f} {delta:>+8.4f}")
    lines += [
        "",
        f"paired tests on per-query {test.measure} ({test.queries} queries; B better on {test.improved}, "
        f"worse on {test.worsened}, tied on {test.queries - test.improved - test.worsened}):",
        f"  paired t-test:        t = {test.t_statistic:.3f}, p = {test.t_pvalue:.4g}",
        f"  Wilcoxon signed-rank: W = {test.wilcoxon_statistic:.1f}, p = {test.wilcoxon_pvalue:.4g}",
    ]
    return "\n".join(lines)

