"""``vowelprompt evaluate``: score predictions (weighted F1, UA, accuracy, invalid rate) and draw the
confusion matrix; with a gold manifest that carries rater votes, ratings or blends, and predictions that carry
distributions, ratings, blends or the inputs their prompt saw, the scores beyond one label too
(:mod:`vowelprompt.soft_evaluation`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vowelprompt.cli.console import add_verb, plural
from vowelprompt.errors import VowelPromptError


def add_parser(verbs, parents: list) -> None:
    """Register ``evaluate`` and its options with the ``verbs`` subparsers (``parents`` are not its own:
    it reads predictions, not recordings)."""
    ev = add_verb(verbs, "evaluate", "score predictions: weighted F1, UA, accuracy, invalid rate", [])
    ev.add_argument("predictions", help="predictions JSONL from vowelprompt predict")
    ev.add_argument(
        "--gold",
        help="JSONL with id and label, e.g. the manifest from prepare; its label_votes, vad and blend, where "
        "present, are scored against the predictions' distribution, ratings and blend "
        "(default: the gold stored with each prediction)",
    )
    ev.add_argument("--labels", help="label set to score in (default: the predictions')")
    ev.add_argument("--map-from", help="map predicted labels from this set into --labels (cross-corpus)")
    ev.add_argument("-o", "--output", help="scores JSON (default: PREDICTIONS.scores.json)")
    ev.add_argument("--confusion", help="confusion-matrix PNG (default: PREDICTIONS.confusion.png)")
    ev.set_defaults(run=run)


def run(args) -> int:
    from vowelprompt.evaluation import evaluate
    from vowelprompt.io import read_rows
    from vowelprompt.metrics import plot_confusion
    from vowelprompt.outputs import check_outputs, write_text_atomic
    from vowelprompt.records import Prediction
    from vowelprompt.soft_evaluation import tables

    out = Path(args.output or args.predictions.removesuffix(".jsonl") + ".scores.json")
    figure = Path(args.confusion or args.predictions.removesuffix(".jsonl") + ".confusion.png")
    check_outputs([args.predictions, args.gold], {"-o": out, "--confusion": figure})
    predictions, malformed = [], []
    for number, row, _problem in read_rows(args.predictions):
        try:
            if row is None or not isinstance(row.get("id"), str) or not isinstance(row.get("status"), str):
                raise ValueError
            predictions.append(Prediction.from_dict(row))
        except (TypeError, ValueError):
            malformed.append(number)
    gold = gold_rows = None
    if args.gold:
        gold, gold_rows = {}, {}
        for _, row, _problem in read_rows(args.gold):
            if row is not None and row.get("id") is not None:
                gold_rows[str(row["id"])] = row
                if isinstance(row.get("label"), str):
                    gold[str(row["id"])] = row["label"]
    result = evaluate(predictions, gold, args.labels, args.map_from, gold_rows)
    if result.mapping:
        print(f"label mapping: {result.mapping}")
    if result.scores is not None:
        print(result.scores.table())
    if result.extra:
        print("\n" + tables(result.extra))
    for note in result.notes:
        print(f"note: {note}")
    for label, n in result.excluded.items():
        were = (
            "is outside the scored label set and was"
            if n == 1
            else "are outside the scored label set and were"
        )
        print(f"note: {plural(n, 'item')} with gold label {label!r} {were} not scored")
    if result.missing_gold:
        where = f"no row in {args.gold}" if args.gold else "no gold label"
        have = "has" if result.missing_gold == 1 else "have"
        were = "was" if result.missing_gold == 1 else "were"
        print(f"note: {plural(result.missing_gold, 'prediction')} {have} {where} and {were} not scored")
    if malformed:
        lines = ", ".join(map(str, malformed[:10])) + (" …" if len(malformed) > 10 else "")
        what = (
            "is not a prediction row and was" if len(malformed) == 1 else "are not prediction rows and were"
        )
        print(
            f"note: {plural(len(malformed), 'row')} of {args.predictions} {what} not scored "
            f"({'line' if len(malformed) == 1 else 'lines'} {lines})",
            file=sys.stderr,
        )
    report = {**(result.scores.to_dict() if result.scores else {}), **result.extra}
    report.update(excluded=result.excluded, mapping=result.mapping, notes=list(result.notes))
    report.update(missing_gold=result.missing_gold, malformed_rows=len(malformed))
    write_text_atomic(out, json.dumps(report, indent=1))
    if result.scores is None:  # ratings only: no confusion matrix to draw
        print(f"wrote {out}")
        return 0
    try:
        plot_confusion(result.scores, figure)
        print(f"wrote {out} and {figure}")
    except VowelPromptError as exc:  # matplotlib missing: the numbers are still written
        print(f"wrote {out} (no figure: {exc})")
    return 0
