"""Reference points for the scores beyond one label, and what they cost ``evaluate``.

    python benchmarks/bench_soft_metrics.py [--rows 20000]

1. *How to read the distribution scores*: the vote patterns of IEMOCAP-shaped items (3 or 4 raters over the
   4 classes of ``iemocap4``, each pattern once, listed in :data:`PATTERNS`) scored with simple predictors:
   the raters' own distribution (the ceiling), a one-hot answer on the majority label (what a model that
   names one label gets), the majority with 0.7 and the rest spread evenly (a smoothed one-hot), and the
   uniform distribution. A model's Bhattacharyya coefficient or R² means something only beside these.
2. *Cost*: ``evaluate`` on ``--rows`` predictions with a distribution against a manifest with votes (every
   section computed) against the plain label evaluation of the same rows in the same run: the ratio, since
   the machine these figures come from may be shared.

Exact arithmetic on listed inputs, no randomness in table 1; runs in a few seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np

from vowelprompt import soft_metrics as sm
from vowelprompt.evaluation import evaluate
from vowelprompt.records import Prediction

LABELS = ("neutral", "happy", "angry", "sad")
#: Votes over LABELS: 3 raters (unanimous, 2–1, three-way split), 4 raters (unanimous, 3–1, 2–2, 2–1–1).
PATTERNS = ((3, 0, 0, 0), (2, 1, 0, 0), (1, 1, 1, 0), (4, 0, 0, 0), (3, 1, 0, 0), (2, 2, 0, 0), (2, 1, 1, 0))


def _one_hot(votes) -> list[float]:
    out = [0.0] * len(votes)
    out[int(np.argmax(votes))] = 1.0  # first on a tie
    return out


def _smoothed(votes, top: float = 0.7) -> list[float]:
    rest = (1 - top) / (len(votes) - 1)
    return [top if i == int(np.argmax(votes)) else rest for i in range(len(votes))]


PREDICTORS = {
    "raters' distribution (ceiling)": lambda v: list(sm.normalize_votes(v)),
    "one-hot majority label": _one_hot,
    "majority 0.7, rest spread": _smoothed,
    "uniform": lambda v: [1 / len(v)] * len(v),
}


def reference_table() -> str:
    gold = [sm.normalize_votes(v) for v in PATTERNS]
    hard = [int(np.argmax(v)) for v in PATTERNS]
    lines = [
        "| predictor | BC ↑ | JSD ↓ | KL ↓ | R² ↑ | ECE ↓ | Brier ↓ | NLL ↓ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, make in PREDICTORS.items():
        pred = [make(v) for v in PATTERNS]
        c = sm.calibration(pred, hard)
        r2 = sm.r_squared(gold, pred)
        cells = [
            sm.bhattacharyya(gold, pred),
            sm.jensen_shannon(gold, pred),
            sm.kl_divergence(gold, pred),
            r2,
            c["ece"],
            c["brier"],
            c["nll"],
        ]
        lines.append(f"| {name} | " + " | ".join("—" if x is None else f"{x:.3f}" for x in cells) + " |")
    return "\n".join(lines)


def level_table() -> str:
    lines = ["| agreement level | patterns | BC one-hot | BC smoothed |", "|---|---|---:|---:|"]
    for level, _floor in sm.AMBIGUITY_LEVELS:
        members = [v for v in PATTERNS if sm.ambiguity_level(v) == level]
        gold = [sm.normalize_votes(v) for v in members]
        one_hot = sm.bhattacharyya(gold, [_one_hot(v) for v in members])
        smooth = sm.bhattacharyya(gold, [_smoothed(v) for v in members])
        shown = ", ".join("–".join(str(x) for x in v if x) for v in members)
        lines.append(f"| {level} | {shown} | {one_hot:.3f} | {smooth:.3f} |")
    return "\n".join(lines)


def _best(run, repeats: int = 3) -> float:
    """The fastest of ``repeats`` runs (the least disturbed by other work on a shared machine)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def speed_table(rows: int) -> str:
    rng = random.Random(0)
    preds, plain, gold_rows = [], [], {}
    for i in range(rows):
        votes = PATTERNS[i % len(PATTERNS)]
        probs = np.random.default_rng(i).dirichlet([1.0] * len(LABELS))
        label = LABELS[int(np.argmax(probs))]
        gold = LABELS[int(np.argmax(votes))]
        common = dict(id=str(i), status="ok", label=label, label_set="iemocap4")
        plain.append(Prediction(**common, gold=gold))
        preds.append(
            Prediction(**common, distribution=dict(zip(LABELS, map(float, probs))), inputs=("vowels",))
        )
        gold_rows[str(i)] = {
            "id": str(i),
            "label": gold,
            "label_votes": {x: n for x, n in zip(LABELS, votes) if n},
            "vad": {"valence": rng.uniform(1, 5)},
        }
    evaluate(preds[:50], gold_rows=gold_rows)  # imports (scikit-learn) outside the timing
    t_plain = _best(lambda: evaluate(plain))
    t_soft = _best(lambda: evaluate(preds, gold_rows=gold_rows))
    result = evaluate(preds, gold_rows=gold_rows)
    sections = ", ".join(result.extra)
    return "\n".join(
        [
            "| evaluate | rows | seconds (best of 3) | ratio |",
            "|---|---:|---:|---:|",
            f"| label scores only | {rows} | {t_plain:.2f} | 1.00 |",
            f"| with distribution, votes ({sections}) | {rows} | {t_soft:.2f} | {t_soft / t_plain:.2f} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows for the cost table (default 20000)")
    args = parser.parse_args(argv)
    print(f"Distribution scores of reference predictors on {len(PATTERNS)} IEMOCAP-shaped vote patterns\n")
    print(reference_table())
    print("\nBhattacharyya coefficient by agreement level\n")
    print(level_table())
    print("\nCost of the extra sections (same run; the machine may be shared)\n")
    print(speed_table(args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
