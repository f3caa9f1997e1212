"""``vowelprompt evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

from vowelprompt.errors import VowelPromptError


def cmd_evaluate(args) -> int:
    from vowelprompt.io import read_jsonl
    from vowelprompt.metrics import plot_confusion
    from vowelprompt.predict import evaluate
    from vowelprompt.records import Prediction

    predictions = [Prediction.from_dict(r) for r in read_jsonl(args.predictions)]
    gold = {str(r["id"]): r["label"] for r in read_jsonl(args.gold) if r.get("label")} if args.gold else None
    result = evaluate(predictions, gold, args.labels, args.map_from)
    if result.mapping:
        print(f"label mapping: {result.mapping}")
    print(result.scores.table())
    for label, n in result.excluded.items():
        print(
            f"note: {n} items with gold label {label!r} are outside the scored label set and were not scored"
        )
    if result.missing_gold:
        print(f"note: {result.missing_gold} predictions have no gold label and were not scored")
    out = Path(args.output or args.predictions.removesuffix(".jsonl") + ".scores.json")
    report = {**result.scores.to_dict(), "excluded": result.excluded, "mapping": result.mapping}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**report, "missing_gold": result.missing_gold}, indent=1), encoding="utf-8")
    figure = Path(args.confusion or args.predictions.removesuffix(".jsonl") + ".confusion.png")
    try:
        plot_confusion(result.scores, figure)
        print(f"wrote {out} and {figure}")
    except VowelPromptError as exc:  # matplotlib missing: the numbers are still written
        print(f"wrote {out} (no figure: {exc})")
    return 0
