"""``vowelprompt evaluate``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vowelprompt.errors import VowelPromptError


def cmd_evaluate(args) -> int:
    from vowelprompt.evaluation import evaluate
    from vowelprompt.io import check_outputs, read_rows, write_text_atomic
    from vowelprompt.metrics import plot_confusion
    from vowelprompt.records import Prediction

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
    gold = None
    if args.gold:
        gold = {}
        for _, row, _problem in read_rows(args.gold):
            if row is not None and isinstance(row.get("label"), str) and row.get("id") is not None:
                gold[str(row["id"])] = row["label"]
    result = evaluate(predictions, gold, args.labels, args.map_from)
    if result.mapping:
        print(f"label mapping: {result.mapping}")
    print(result.scores.table())
    for label, n in result.excluded.items():
        print(
            f"note: {n} items with gold label {label!r} are outside the scored label set and were not scored"
        )
    if result.missing_gold:
        where = f"no row in {args.gold}" if args.gold else "no gold label"
        print(f"note: {result.missing_gold} predictions have {where} and were not scored")
    if malformed:
        lines = ", ".join(map(str, malformed[:10])) + (" …" if len(malformed) > 10 else "")
        print(
            f"note: {len(malformed)} rows of {args.predictions} are not prediction rows and were not scored "
            f"(lines {lines})",
            file=sys.stderr,
        )
    report = {**result.scores.to_dict(), "excluded": result.excluded, "mapping": result.mapping}
    report.update(missing_gold=result.missing_gold, malformed_rows=len(malformed))
    write_text_atomic(out, json.dumps(report, indent=1))
    try:
        plot_confusion(result.scores, figure)
        print(f"wrote {out} and {figure}")
    except VowelPromptError as exc:  # matplotlib missing: the numbers are still written
        print(f"wrote {out} (no figure: {exc})")
    return 0
