"""eval/reports/tags.md and its reliability plot: passage-level quality, calibration, the outside check, and the
resource-level comparison with curated tags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nzc_knowledge.eval.tags import SDG_DOMAINS, FamilyQuality, PassageEvaluation, Reliability

TARGETS = {"domains": 0.85, "barriers": 0.75, "levers": 0.75}


def family_table(quality: Mapping[str, FamilyQuality], unit: str) -> list[str]:
    lines = [f"| family | {unit} | micro P | micro R | micro F1 | macro F1 | exact set | target |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for family, item in quality.items():
        lines.append(f"| {family} | {item.resources} | {item.micro.precision:.3f} | {item.micro.recall:.3f} | "
                     f"**{item.micro.f1:.3f}** | {item.macro.f1:.3f} | {item.exact_match:.3f} | {TARGETS.get(family, 0):.2f} |")
    return lines + [""]


def label_table(item: FamilyQuality) -> list[str]:
    lines = ["| label | labelled | predicted | precision | recall | F1 |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, scores in item.labels.items():
        lines.append(f"| {label} | {scores.support} | {scores.predicted} | {scores.precision:.3f} | {scores.recall:.3f} | "
                     f"{scores.f1:.3f} |")
    return lines + [""]


def plot_reliability(calibration: Reliability, path: Path) -> Path:
    """Reliability curve (predicted vs observed frequency per probability bin), matplotlib Agg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axis.plot(calibration.bins_predicted, calibration.bins_observed, marker="o", label="tagger (held-out passages)")
    for x, y, n in zip(calibration.bins_predicted, calibration.bins_observed, calibration.bins_count, strict=True):
        axis.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    axis.set_xlabel("predicted probability (bin mean)")
    axis.set_ylabel("observed share of labelled decisions")
    axis.set_title(f"Reliability, Brier {calibration.brier:.3f}")
    axis.legend(loc="upper left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_tags_report(path: Path, command: str, facts: Mapping[str, Any], passages: PassageEvaluation,
                      resources: Mapping[str, Mapping[str, FamilyQuality]] | None) -> Path:
    """Markdown report; the reliability plot is written beside it as <stem>-reliability.png."""
    plot = plot_reliability(passages.reliability, path.with_name(f"{path.stem}-reliability.png"))
    outside = passages.outside
    lines = ["# Tagging quality", "", f"Generated {datetime.now(UTC).isoformat(timespec='seconds')} by:", "", "```",
             command, "```", ""]
    lines += [f"- **{key}**: {value}" for key, value in facts.items()]
    lines += ["", "## Outside check: SDG Classification Benchmark (top domain)", "",
              f"{outside['snippets']} expert-labelled snippets judged relevant to an SDG with a clean domain "
              f"({', '.join(f'SDG {s} -> {d}' for s, d in SDG_DOMAINS.items())}); the tagger never saw them. "
              "Baseline: MiniLM cosine to a one-line description of each domain (taxonomy label and description), "
              "highest wins.", "",
              "| method | top-domain accuracy |", "| --- | ---: |"]
    for name in ("baseline (one-line descriptions)", "label knowledge only (similarity)", "ours",
                 "ours, abstaining below the threshold (abstention counts as wrong)"):
        lines.append(f"| {name} | {outside[name]:.3f} |")
    lines += ["", f"Abstained (no domain above the threshold): {outside['abstained']:.3f}.", "",
              "| SDG -> domain | snippets | ours | baseline |", "| --- | ---: | ---: | ---: |"]
    for name, row in outside["per_sdg"].items():
        lines.append(f"| {name} | {row['snippets']} | {row['ours']:.3f} | {row['baseline']:.3f} |")
    lines += ["", f"Cross-cutting text: of {outside['sdg13_snippets']} SDG 13 (climate action) snippets, "
              f"{outside['sdg13_no_domain']:.3f} got no domain; domains given to the others: {outside['sdg13_domains']}.", ""]
    lines += ["## Hand-labelled passages (eval/tags/passages.jsonl)", "",
              f"Passages per split: {passages.passages}; languages: {passages.languages}. Calibrators are fitted on "
              "`tune`; figures below are on `held_out` (other resources) unless named.", "",
              "### Per family (held_out)", ""]
    lines += family_table(passages.quality["held_out"], "passages")
    lines += ["### Per family (tune, fitted on)", ""]
    lines += family_table(passages.quality["tune"], "passages")
    for family, item in passages.quality["held_out"].items():
        lines += [f"### {family}: per label (held_out)", ""] + label_table(item)
    lines += ["### Micro-F1 per language (held_out)", "", "| language | domains | barriers | levers |", "| --- | ---: | ---: | ---: |"]
    for language, row in passages.quality_by_language.items():
        lines.append(f"| {language} | {row['domains']:.3f} | {row['barriers']:.3f} | {row['levers']:.3f} |")
    lines += ["", "### Top domain on held-out single-domain passages", "", "| method | accuracy |", "| --- | ---: |"]
    lines += [f"| {name} | {value:.3f} |" if name != "passages" else f"| passages | {int(value)} |"
              for name, value in passages.passage_top_domain.items()]
    lines += ["", "### No domain for text that is not about one", ""]
    lines += [f"- {name}: {value:g}" for name, value in passages.no_domain.items()]
    calibration = passages.reliability
    lines += ["", "### Calibration (held_out, every label decision of every family)", "",
              f"Brier score {calibration.brier:.4f} (always predicting the tune half's label frequency: "
              f"{calibration.brier_base_rate:.4f}); per family: "
              + ", ".join(f"{f} {v:.4f}" for f, v in calibration.per_family_brier.items()) + ".", "",
              f"![reliability curve]({plot.name})", "",
              "| bin mean predicted | observed | decisions |", "| ---: | ---: | ---: |"]
    lines += [f"| {p:.3f} | {o:.3f} | {n} |" for p, o, n in
              zip(calibration.bins_predicted, calibration.bins_observed, calibration.bins_count, strict=True)]
    if resources:
        lines += ["", "## Resources against curated tags (sample corpus snapshot)", ""]
        for subset, quality in resources.items():
            lines += [f"### {subset}", ""] + family_table(quality, "resources")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
