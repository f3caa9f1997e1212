"""Evaluation of prediction rows: gold labels from the rows or a gold file, in the predictions' label set or
another one (cross-corpus, through an explicit label mapping), scored with :mod:`vowelprompt.metrics`; and,
where the rows and the gold manifest carry them, the scores beyond one label (distributions against rater
votes, calibration, ratings, blends, the inputs each prompt saw) of :mod:`vowelprompt.soft_evaluation`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from vowelprompt.errors import ConfigError
from vowelprompt.labels import LABEL_SETS, get_label_set, label_map
from vowelprompt.metrics import Scores, score
from vowelprompt.records import Prediction
from vowelprompt.soft_evaluation import Item, Reader, beyond_one_label


@dataclass(frozen=True)
class Evaluation:
    scores: Scores | None  # None only when no prediction asked for a label (a ratings-only run)
    excluded: dict[str, int]  # gold label → count of items whose gold is outside the scored set
    mapping: str  # the label mapping applied to predictions, for the log ("" if none)
    missing_gold: int
    #: Scores beyond one label, by section (``distribution``, ``calibration``, ``annotator_accuracy``,
    #: ``by_ambiguity``, ``dimensions``, ``blend``, ``by_inputs``): only the sections the data allow.
    extra: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what the extra sections left out, and why


def evaluate(
    predictions: list[Prediction],
    gold: dict[str, str] | None = None,
    labels: str | None = None,
    map_from: str | None = None,
    gold_rows: dict[str, dict[str, Any]] | None = None,
) -> Evaluation:
    """Score predictions. ``gold`` (id → label), when given, is the only source of gold labels (a prediction
    whose id it lacks is not scored, and counted in ``missing_gold``; a ``gold`` that matches no id at all
    is refused); otherwise the gold stored in the rows is used. ``labels`` names the scored set (default:
    the predictions' set, including a custom set recorded in the rows); ``map_from`` maps predicted labels
    from that set into ``labels`` first (cross-corpus evaluation; the mapping is returned for the log).
    ``gold_rows`` (id → the gold manifest's whole row) brings rater votes, dimensional ratings and blends
    for the scores beyond one label (:func:`vowelprompt.soft_evaluation.beyond_one_label`).
    Predictions that asked for ratings only (``task`` ``dimensions``) are left out of the label scores.
    Nothing to score is an error, never an empty table."""
    if not predictions:
        raise ConfigError("no predictions to evaluate")
    target = get_label_set(labels or _recorded_label_set(predictions[0]))
    mapping = label_map(map_from, target) if map_from else None
    if gold is None and gold_rows is not None:
        gold = {i: r["label"] for i, r in gold_rows.items() if isinstance(r.get("label"), str)}
    known = gold_rows if gold_rows is not None else gold
    if known is not None and not any(p.id in known for p in predictions):
        example = next(iter(known), "")
        raise ConfigError(
            f"none of the {len(known)} ids in the gold file match the {len(predictions)} predictions' ids "
            f"(e.g. {example!r} vs {predictions[0].id!r}); nothing would be scored"
        )
    read = Reader(target)  # each distinct label spelling normalised once
    y_true, y_pred, items = [], [], []
    excluded: dict[str, int] = defaultdict(int)
    missing = 0
    for p in predictions:
        raw_gold = (gold or {}).get(p.id) if known is not None else p.gold
        g = read.gold(raw_gold) if isinstance(raw_gold, str) and raw_gold else None
        label = p.label if p.status in ("ok", "repaired") and isinstance(p.label, str) else None
        if label is not None and mapping is not None:
            label = mapping.mapping.get(label)  # no counterpart → counts as invalid (wrong)
        elif label is not None:
            label = read.gold(label)
        items.append(Item(p, g, label))
        if p.task == "dimensions":
            continue
        if not isinstance(raw_gold, str) or not raw_gold:
            missing += 1
        elif g is None:
            excluded[raw_gold] += 1
        else:
            y_true.append(g)
            y_pred.append(label)
    extra, notes = beyond_one_label(items, gold_rows or {}, target, mapping)
    if not y_true and not extra:
        why = f"{missing} have no gold label (give --gold GOLD.jsonl)" if missing else ""
        if excluded:
            outside = ", ".join(sorted(excluded))
            why = "; ".join(x for x in (why, f"gold labels {outside} are outside {target.name}") if x)
        if not why:
            why = "all asked for ratings, and the gold has no ratings (vad) for them"
        raise ConfigError(f"nothing to score: of {len(predictions)} predictions, {why}")
    described = mapping.describe() if mapping else ""
    scores = score(y_true, y_pred, target.labels) if y_true else None
    return Evaluation(scores, dict(excluded), described, missing, extra, tuple(notes))


def _recorded_label_set(prediction: Prediction) -> str:
    """The label set the predictions were made with: a preset's name, or the custom set recorded in the
    rows (``a,b,c``)."""
    if prediction.label_set == "custom" or (prediction.label_set not in LABEL_SETS and prediction.labels):
        if not prediction.labels:
            raise ConfigError(
                "these predictions were made with a custom label set that their rows do not record; "
                "give it with --labels a,b,c"
            )
        return ",".join(prediction.labels)
    if not prediction.label_set:
        raise ConfigError("the predictions do not record their label set; give it with --labels")
    return prediction.label_set
