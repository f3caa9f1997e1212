"""Zero-shot SmolLM2-135M on the prosody corpus: its free text vs the scored answer, and the label distribution.

    python benchmarks/bench_distribution.py [--rows 12] [--max-new-tokens 512]
    python benchmarks/bench_distribution.py --predictions preds.jsonl   (summarise an existing run)

Writes a small prosody corpus (:mod:`vowelprompt.corpora.prosody`: the first sentences × every emotion, by
the first test voice), annotates it and runs ``vowelprompt predict --backend transformers --model smollm2-135m
--distribution logprobs``. Each prediction keeps the model's own text (``generated``) beside the scored
answer (``raw``), so one run gives both rows of the table: the free text read by the shared parser (what
``predict`` answered before the transformers backend scored the labels) and the scored answer. Prints a
markdown table of statuses, accuracy and the mean probability the distribution gives the answer. About
1 minute a row on 2 busy cores (512 tokens of reasoning each).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from vowelprompt.labels import get_label_set
from vowelprompt.parse import parse


def run(rows: int, max_new_tokens: int, out: Path) -> Path:
    from vowelprompt.corpora.prosody import EMOTIONS, SENTENCES, TEST_VOICES, TRAIN_VOICES, write_corpus

    sentences = SENTENCES[: max(1, -(-rows // len(EMOTIONS)))]
    # One voice of each split is written (the jitter drawn for an utterance depends on those before it);
    # the rows asked for are the test voice's, a voice no model of the project is trained on.
    manifest = write_corpus(out / "corpus", sentences, TRAIN_VOICES[:1], TEST_VOICES[:1])
    cli = [sys.executable, "-m", "vowelprompt.cli"]
    annotated, predictions = out / "annotated.jsonl", out / "predictions.jsonl"
    subprocess.run([*cli, "annotate", str(manifest), "-o", str(annotated), "-q"], check=True)
    lines = annotated.read_text().splitlines()
    kept = [line for line in lines if json.loads(line)["speaker"] == TEST_VOICES[0]][:rows]
    annotated.write_text("\n".join(kept) + "\n")
    predict = [*cli, "predict", str(annotated), "--backend", "transformers", "--model", "smollm2-135m"]
    options = ["--distribution", "logprobs", "--max-new-tokens", str(max_new_tokens), "-o", str(predictions)]
    subprocess.run([*predict, *options, "--batch-size", str(rows), "-q"], check=True)
    return predictions


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("generated") is not None]
    labels = get_label_set(",".join(rows[0]["labels"]))
    free = [parse(r["generated"], labels) for r in rows]
    n = len(rows)

    def line(name: str, statuses: Counter, right: int, extra: str) -> str:
        counts = " | ".join(f"{statuses.get(s, 0)}" for s in ("ok", "repaired", "invalid"))
        return f"| {name} | {counts} | {right}/{n} | {extra} |"

    answered = sum(1 for r in rows if "<answer>" in r["generated"].lower())
    mean_p = sum(r["distribution"][r["label"]] for r in rows if r.get("distribution")) / n
    return "\n".join(
        [
            f"SmolLM2-135M-Instruct zero-shot, `vowelprompt` template, {n} prosody-corpus rows "
            f"({answered} of whose free texts wrote an `<answer>` tag)",
            "",
            "| answer | ok | repaired | invalid | right | mean p(answer) |",
            "|---|---|---|---|---|---|",
            line(
                "model's free text, parsed",
                Counter(p.status for p in free),
                sum(p.label == r["gold"] for p, r in zip(free, rows)),
                "–",
            ),
            line(
                "scored label (`--distribution logprobs`)",
                Counter(r["status"] for r in rows),
                sum(r["label"] == r["gold"] for r in rows),
                f"{mean_p:.2f}",
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=12)
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--predictions", type=Path, help="summarise these predictions instead of running")
    args = parser.parse_args()
    if args.predictions:
        print(table(args.predictions))
        return
    with tempfile.TemporaryDirectory() as tmp:
        print(table(run(args.rows, args.max_new_tokens, Path(tmp))))


if __name__ == "__main__":
    main()
