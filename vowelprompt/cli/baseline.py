"""``vowelprompt baseline``: train the baselines that need no LLM (prosody-only, text-only, their late fusion)
on annotated training rows, predict the test rows, and score them as ``evaluate`` scores an LLM run."""

from __future__ import annotations

import json
from pathlib import Path

from vowelprompt.baselines import KINDS
from vowelprompt.cli.console import add_verb, plural
from vowelprompt.errors import ConfigError

EPILOG = """\
TRAIN and TEST are annotate's rows (`vowelprompt annotate … -o rows.jsonl`, or `fit-stats
--save-annotations`), split as you choose (by speaker for a speaker-independent score). Writes
OUTDIR/KIND.jsonl (prediction rows: label, gold, the class probabilities as `distribution`) and
OUTDIR/KIND.scores.json for each baseline, and prints their scores; `vowelprompt evaluate OUTDIR/KIND.jsonl`
scores the rows again like any LLM run. Every TEST row gets a row per baseline: a failed annotation or a row
without what a model needs (a transcript, a measured vowel) is an input_error row.

  prosody         logistic regression on the vowels' z-scored descriptors (mean, sd, min, max, first,
                  last; vowel count) and the utterance's
  text            logistic regression on the transcript's all-MiniLM-L6-v2 sentence embedding
  fusion-mean     the mean of the two models' probabilities
  fusion-stacked  logistic regression on their out-of-fold probabilities (cross-validated on TRAIN, by
                  speaker where the rows name speakers)

Needs the baseline extra: pip install 'vowelprompt[baseline]'.

  vowelprompt baseline train.jsonl test.jsonl -o baselines/ --labels iemocap4
"""


def add_parser(verbs, parents: list) -> None:
    """Register ``baseline`` (it reads annotated rows, not recordings: no input options)."""
    p = add_verb(
        verbs, "baseline", "train and score the baselines that need no LLM: prosody, text, fusion", [], EPILOG
    )
    p.add_argument("train", metavar="TRAIN.jsonl", help="annotated rows to train on")
    p.add_argument("test", metavar="TEST.jsonl", help="annotated rows to predict and score")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the prediction rows")
    p.add_argument(
        "--kind",
        action="append",
        choices=(*KINDS, "all"),
        help="a baseline to run (repeatable; default: all)",
    )
    p.add_argument(
        "--labels",
        help="label set, a preset or a,b,c (default: the preset with exactly TRAIN's labels, else those)",
    )
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds of the stacked fusion")
    p.add_argument("--seed", type=int, default=0, help="seed of the cross-validation folds and the models")
    p.set_defaults(run=run)


def run(args) -> int:
    from vowelprompt.baselines import BaselineConfig, run_baselines
    from vowelprompt.evaluation import evaluate
    from vowelprompt.io import is_annotations, read_annotations
    from vowelprompt.outputs import check_outputs, write_jsonl_atomic, write_text_atomic

    kinds = tuple(KINDS if not args.kind or "all" in args.kind else dict.fromkeys(args.kind))
    out = Path(args.output)
    for path in (args.train, args.test):
        if not Path(path).is_file():
            raise ConfigError(f"{path} not found")
        if not is_annotations(path):
            raise ConfigError(f"{path} is not annotate's output (rows with 'vowels' and 'status')")
    check_outputs([args.train, args.test], {f"-o ({k})": out / f"{k}.jsonl" for k in kinds})
    config = BaselineConfig(kinds=kinds, labels=args.labels, folds=args.folds, seed=args.seed)
    train, test = read_annotations(args.train), read_annotations(args.test)
    if not test:
        raise ConfigError(f"{args.test} has no rows")
    predictions = run_baselines(train, test, config)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "| baseline | scored | accuracy | weighted F1 | UA | not predicted |",
        "|---|---|---|---|---|---|",
    ]
    failed = 0
    for kind, rows in predictions.items():
        path = out / f"{kind}.jsonl"
        write_jsonl_atomic(path, [p.to_dict() for p in rows])
        errors = sum(p.status != "ok" for p in rows)
        failed = max(failed, errors)
        scored = [p for p in rows if p.gold]
        if not scored:
            lines.append(f"| {kind} | 0 | – | – | – | {errors} |")
            continue
        result = evaluate(scored)
        s = result.scores
        write_text_atomic(path.with_suffix(".scores.json"), json.dumps(s.to_dict(), indent=1))
        lines.append(
            f"| {kind} | {s.n} | {100 * s.accuracy:.1f} % | {100 * s.weighted_f1:.1f} | "
            f"{100 * s.unweighted_accuracy:.1f} % | {errors} |"
        )
    print("\n".join(lines))
    if failed:
        print(f"note: {plural(failed, 'test row')} could not be predicted (input_error rows, counted wrong)")
    print(f"wrote {', '.join(str(out / f'{k}.jsonl') for k in kinds)}")
    return 1 if failed else 0
