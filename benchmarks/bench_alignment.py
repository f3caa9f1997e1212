"""Alignment accuracy of the default aligner against espeak-ng's true phone times, per voice and rate.

    python benchmarks/bench_alignment.py [--corpus DIR] [--voices …] [--rates …]

Prints a markdown table: mean absolute vowel-boundary error (ms), share of aligned vowel midpoints inside
the true vowel, vowels compared, files that failed at pocketsphinx's default beam, and files that still
failed after the wider-beam retries. "exact" columns use only boundaries espeak itself gives (not the
~20 % the truth estimates acoustically, see vowelprompt/corpora/synth.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from make_synth_corpus import RATES, VOICES

from vowelprompt.align.pocketsphinx import BEAMS, PocketsphinxAligner
from vowelprompt.align.score import TrueVowel, score_alignment
from vowelprompt.audio import load_audio
from vowelprompt.corpora.synth import DEFAULT_SENTENCES, write_corpus
from vowelprompt.errors import AlignmentError


def truth_vowels(path: Path) -> list[TrueVowel]:
    phones = json.loads(path.read_text(encoding="utf-8"))["phones"]
    return [
        TrueVowel(p["start_s"], p["end_s"], p["word_index"], exact=not p["estimated"])
        for p in phones
        if p["is_vowel"]
    ]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", help="existing corpus folder (from make_synth_corpus.py); default: a new one"
    )
    parser.add_argument("--voices", nargs="+", default=list(VOICES))
    parser.add_argument("--rates", nargs="+", type=int, default=list(RATES))
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    if args.corpus:
        manifest = Path(args.corpus) / "manifest.jsonl"
    else:
        manifest = write_corpus(tmp.name, DEFAULT_SENTENCES, args.voices, args.rates)
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    default_only = PocketsphinxAligner(beams=BEAMS[:1])
    retrying = PocketsphinxAligner()
    cells: dict[tuple[str, int], dict] = defaultdict(
        lambda: {"errors": [], "exact": [], "inside": [], "n": 0, "files": 0, "fail_default": 0, "fail": 0}
    )
    started = time.perf_counter()
    for row in rows:
        audio = load_audio(manifest.parent / row["audio"])
        cell = cells[(row["voice"], row["rate_wpm"])]
        cell["files"] += 1
        try:
            default_only.align(audio.samples, audio.sr, row["text"])
        except AlignmentError:
            cell["fail_default"] += 1
        try:
            words = retrying.align(audio.samples, audio.sr, row["text"])
        except AlignmentError:
            cell["fail"] += 1
            continue
        score = score_alignment(words, truth_vowels(manifest.parent / row["truth"]))
        cell["errors"] += score.errors_s
        cell["exact"] += score.exact_errors_s
        cell["inside"] += [score.midpoint_inside] * score.matched
        cell["n"] += score.matched
    elapsed = time.perf_counter() - started

    print("| voice | wpm | boundary error (ms) | exact-truth error (ms) | midpoints inside | vowels | "
          "failed at default beam | failed after retries |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    total = defaultdict(list)
    for (voice, rate), c in sorted(cells.items()):
        print(
            f"| {voice} | {rate} | {1000 * np.mean(c['errors']):.1f} | {1000 * np.mean(c['exact']):.1f} | "
            f"{np.mean(c['inside']):.1%} | {c['n']} | {c['fail_default']}/{c['files']} | {c['fail']}/{c['files']} |"
        )
        for key in ("errors", "exact", "inside"):
            total[key] += c[key]
        for key in ("n", "files", "fail_default", "fail"):
            total[key].append(c[key])
    summary = {
        "boundary_error_ms": 1000 * float(np.mean(total["errors"])),
        "exact_boundary_error_ms": 1000 * float(np.mean(total["exact"])),
        "median_boundary_error_ms": 1000 * float(np.median(total["errors"])),
        "midpoints_inside": float(np.mean(total["inside"])),
        "vowels": int(sum(total["n"])),
        "files": int(sum(total["files"])),
        "failed_default_beam": int(sum(total["fail_default"])),
        "failed_after_retries": int(sum(total["fail"])),
    }
    print(
        f"| **all** | | **{summary['boundary_error_ms']:.1f}** (median {summary['median_boundary_error_ms']:.1f}) | "
        f"**{summary['exact_boundary_error_ms']:.1f}** | **{summary['midpoints_inside']:.1%}** | {summary['vowels']} | "
        f"{summary['failed_default_beam']}/{summary['files']} | {summary['failed_after_retries']}/{summary['files']} |"
    )
    print(
        f"\n{summary['files']} files aligned twice (default beam only, then with retries) in {elapsed:.0f} s"
    )
    tmp.cleanup()
    return summary


if __name__ == "__main__":
    main()
