"""The results table of an experiment: one row per fold, stage, template and condition (the real prompts or
a counterfactual control), then the mean ± sd over folds, with the published numbers of the protocol beside
ours; Markdown for people, JSON for programs.

A *cell* is one scored prediction file: ``{"fold", "stage", "template", "condition", "scores"}`` with
``scores`` as :meth:`vowelprompt.metrics.Scores.to_dict` gives them (fractions; the tables print %).
"""

from __future__ import annotations

import statistics
from typing import Any

from vowelprompt.experiment.published import published_for

#: Metrics of the table, in order, with their column titles.
METRICS = {
    "weighted_f1": "WF1",
    "unweighted_accuracy": "UA",
    "accuracy": "WA",
    "macro_f1": "macro-F1",
    "invalid_rate": "invalid",
}
STAGE_ORDER = ("baseline", "zero-shot", "sft", "grpo")
REAL = "real"


def mean_sd(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for a single fold).

    >>> [round(x, 4) for x in mean_sd([0.5, 0.7])]
    [0.6, 0.1414]
    >>> mean_sd([0.5])
    (0.5, None)
    """
    mean = statistics.fmean(values)
    return (mean, statistics.stdev(values) if len(values) > 1 else None)


def _key(cell: dict[str, Any]) -> tuple:
    stage = STAGE_ORDER.index(cell["stage"]) if cell["stage"] in STAGE_ORDER else len(STAGE_ORDER)
    return (stage, cell["template"], cell["condition"] != REAL, cell["condition"])


def summarize(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd over folds of every metric and per-class recall, per stage, template and condition; a
    control's row also has ``drop_weighted_f1``, the mean over folds of (real − control) WF1."""
    groups: dict[tuple, list[dict]] = {}
    for cell in sorted(cells, key=_key):
        groups.setdefault((cell["stage"], cell["template"], cell["condition"]), []).append(cell)
    real = {(c["stage"], c["template"], c["fold"]): c for c in cells if c["condition"] == REAL}
    out = []
    for (stage, template, condition), group in groups.items():
        row: dict[str, Any] = dict(stage=stage, template=template, condition=condition)
        row["folds"] = [c["fold"] for c in group]
        row["n"] = sum(c["scores"]["n"] for c in group)
        for metric in METRICS:
            row[metric] = mean_sd([c["scores"][metric] for c in group])
        labels = group[0]["scores"]["labels"]
        row["recall"] = {
            label: mean_sd([c["scores"]["per_class"].get(label, {}).get("recall", 0.0) for c in group])
            for label in labels
        }
        if condition != REAL:
            drops = [
                real[(stage, template, c["fold"])]["scores"]["weighted_f1"] - c["scores"]["weighted_f1"]
                for c in group
                if (stage, template, c["fold"]) in real
            ]
            row["drop_weighted_f1"] = mean_sd(drops) if drops else None
        out.append(row)
    return out


def _pct(value: tuple[float, float | None] | float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, tuple):
        mean, sd = value
        return f"{100 * mean:.1f} ± {100 * sd:.1f}" if sd is not None else f"{100 * mean:.1f}"
    return f"{100 * value:.1f}"


def published_cell(protocol: str, template: str) -> str:
    """The published figures for ``template``'s family on ``protocol``, in one cell ("—" if none)."""
    short = {"weighted_f1": "WF1", "unweighted_accuracy": "UA", "accuracy": "WA", "macro_f1": "mF1"}
    parts = []
    for p in published_for(protocol, template):
        figures = " ".join(f"{short[k]} {v:.2f}" for k, v in p.scores.items())
        parts.append(f"{p.source} {p.setting}: {figures}")
    return "; ".join(parts) or "—"


def markdown(protocol: str, summary: list[dict[str, Any]], cells: list[dict[str, Any]], notes=()) -> str:
    """The Markdown report: the mean ± sd table (published numbers in the last column), per-class recall,
    then one table per fold."""
    labels = list(summary[0]["recall"]) if summary else []
    head = ["stage", "template", "condition", "folds", "n", *METRICS.values(), "Δ WF1 vs real", "published"]
    lines = [
        f"# {protocol}: mean ± sd over folds (%)",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for row in summary:
        cells_ = [row["stage"], row["template"], row["condition"], str(len(row["folds"])), str(row["n"])]
        cells_ += [_pct(row[m]) for m in METRICS]
        cells_.append(_pct(row.get("drop_weighted_f1")) if row["condition"] != REAL else "")
        cells_.append(published_cell(protocol, row["template"]) if row["condition"] == REAL else "")
        lines.append("| " + " | ".join(cells_) + " |")
    lines += ["", "Per-class recall (%, mean ± sd over folds):", ""]
    lines += [
        "| stage | template | condition | " + " | ".join(labels) + " |",
        "|" + "---|" * (3 + len(labels)),
    ]
    for row in summary:
        recalls = " | ".join(_pct(row["recall"][label]) for label in labels)
        lines.append(f"| {row['stage']} | {row['template']} | {row['condition']} | {recalls} |")
    for fold in sorted({c["fold"] for c in cells}, key=lambda f: (not f.isdigit(), f.zfill(8))):
        lines += ["", f"## fold {fold} (%)", ""]
        lines += fold_table([c for c in cells if c["fold"] == fold], labels)
    lines += ["", *notes] if notes else []
    return "\n".join(lines) + "\n"


def fold_table(cells: list[dict[str, Any]], labels: list[str]) -> list[str]:
    """One fold's rows: every metric and the per-class recall."""
    head = ["stage", "template", "condition", "n", *METRICS.values(), *(f"recall {x}" for x in labels)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in sorted(cells, key=_key):
        s = c["scores"]
        row = [c["stage"], c["template"], c["condition"], str(s["n"]), *(_pct(s[m]) for m in METRICS)]
        row += [_pct(s["per_class"].get(label, {}).get("recall", 0.0)) for label in labels]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def report(protocol: str, cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON report: every cell, the summary and the published figures."""
    from dataclasses import asdict

    return {
        "protocol": protocol,
        "cells": cells,
        "summary": summarize(cells),
        "published": [asdict(p) for p in published_for(protocol)],
    }
