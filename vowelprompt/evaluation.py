"""Evaluation of prediction rows: gold labels from the rows or a gold file, in the predictions' label set or
another one (cross-corpus, through an explicit label mapping), scored with :mod:`vowelprompt.metrics`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from vowelprompt.errors import ConfigError
from vowelprompt.labels import LABEL_SETS, get_label_set, label_map
from vowelprompt.metrics import Scores, score
from vowelprompt.records import Prediction


@dataclass(frozen=True)
class Evaluation:
    scores: Scores
    excluded: dict[str, int]  # gold label → count of items whose gold is outside the scored set
    mapping: str  # the label mapping applied to predictions, for the log ("" if none)
    missing_gold: int


def evaluate(
    predictions: list[Prediction], gold: dict[str, str] | None = None, labels: str | None = None,
    map_from: str | None = None,
) -> Evaluation:  # fmt: skip
    """Score predictions. ``gold`` (id → label), when given, is the only source of gold labels (a prediction
    whose id it lacks is not scored, and counted in ``missing_gold``; a ``gold`` that matches no id at all
    is refused); otherwise the gold stored in the rows is used. ``labels`` names the scored set (default:
    the predictions' set, including a custom set recorded in the rows); ``map_from`` maps predicted labels
    from that set into ``labels`` first (cross-corpus evaluation; the mapping is returned for the log).
    Nothing to score is an error, never an empty table."""
    if not predictions:
        raise ConfigError("no predictions to evaluate")
    target = get_label_set(labels or _recorded_label_set(predictions[0]))
    mapping = label_map(map_from, target) if map_from else None
    if gold is not None and not any(p.id in gold for p in predictions):
        example = next(iter(gold), "")
        raise ConfigError(
            f"none of the {len(gold)} ids in the gold file match the {len(predictions)} predictions' ids "
            f"(e.g. {example!r} vs {predictions[0].id!r}); nothing would be scored"
        )
    y_true, y_pred = [], []
    excluded: dict[str, int] = defaultdict(int)
    missing = 0
    for p in predictions:
        raw_gold = gold.get(p.id) if gold is not None else p.gold
        if not isinstance(raw_gold, str) or not raw_gold:
            missing += 1
            continue
        g = target.normalize(raw_gold)
        if g is None:
            excluded[raw_gold] += 1
            continue
        label = p.label if p.status in ("ok", "repaired") and isinstance(p.label, str) else None
        if label is not None and mapping is not None:
            label = mapping.mapping.get(label)  # no counterpart → counts as invalid (wrong)
        elif label is not None:
            label = target.normalize(label)
        y_true.append(g)
        y_pred.append(label)
    if not y_true:
        why = f"{missing} have no gold label (give --gold GOLD.jsonl)" if missing else ""
        if excluded:
            outside = ", ".join(sorted(excluded))
            why = "; ".join(x for x in (why, f"gold labels {outside} are outside {target.name}") if x)
        raise ConfigError(f"nothing to score: of {len(predictions)} predictions, {why}")
    described = mapping.describe() if mapping else ""
    return Evaluation(score(y_true, y_pred, target.labels), dict(excluded), described, missing)


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
