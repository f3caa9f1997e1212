"""Wrong transcripts: how many the aligner refuses, how many the phone-spread warning catches, how many pass.

    python benchmarks/bench_transcripts.py [--set SET ...] [--files N]   # default: tuning heldout heldout4

Each file of a benchmark set (vowelprompt/corpora/synth.py) is aligned by the default aligner twice: with its
own transcript and with the next sentence's of the same set (same voice and rate, a sentence of about the
same length: the way a shifted manifest or a mixed-up sidecar goes wrong). A wrong transcript is *refused*
when the aligner raises (annotate keeps the row without words, with a warning), *warned* when it aligns with
a phone spread above ``QualityConfig.max_phone_spread`` (vowelprompt.quality.phone_spread: the row warns that
the transcript may not match), and otherwise passes *unnoticed*. A right transcript should be neither. The
threshold was chosen on the tuning set; the other sets are only reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_alignment import _manifests

from vowelprompt.align.pocketsphinx import PocketsphinxAligner
from vowelprompt.audio import load_audio
from vowelprompt.corpora.synth import SETS
from vowelprompt.errors import AlignmentError
from vowelprompt.quality import QualityConfig, phone_spread


def judge(aligner, samples, sr: int, text: str, limit: float) -> tuple[str, float | None]:
    """("refused" | "warned" | "passed", the alignment's phone spread)."""
    try:
        words = aligner.align(samples, sr, text)
    except AlignmentError:
        return "refused", None
    spread = phone_spread(words)
    return ("warned" if spread is not None and spread > limit else "passed"), spread


def run_set(name: str, manifest: Path, limit: float, files: int | None = None) -> dict:
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()][:files]
    sentences = list(SETS[name][0])
    aligner = PocketsphinxAligner()
    counts = {kind: {"refused": 0, "warned": 0, "passed": 0} for kind in ("right", "wrong")}
    spreads: dict[str, list[float]] = {"right": [], "wrong": []}
    for row in rows:
        audio = load_audio(manifest.parent / row["audio"])
        wrong = sentences[(sentences.index(row["text"]) + 1) % len(sentences)]
        for kind, text in (("right", row["text"]), ("wrong", wrong)):
            verdict, spread = judge(aligner, audio.samples, audio.sr, text, limit)
            counts[kind][verdict] += 1
            if spread is not None:
                spreads[kind].append(spread)
    r, w = counts["right"], counts["wrong"]
    print(
        f"| {name} | {len(rows)} | {w['refused']} | {w['warned']} | **{w['passed']}** | {r['warned']} "
        f"| {r['refused']} | {min(spreads['right'], default=float('nan')):.2f}–"
        f"{max(spreads['right'], default=float('nan')):.2f} | {min(spreads['wrong'], default=float('nan')):.2f}–"
        f"{max(spreads['wrong'], default=float('nan')):.2f} |",
        flush=True,
    )
    return {"counts": counts, "files": len(rows)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="+", choices=tuple(SETS), default=["tuning", "heldout", "heldout4"])
    parser.add_argument(
        "--files", type=int, help="only the first N files of each set (its rows are shuffled)"
    )
    args = parser.parse_args(argv)
    limit = QualityConfig().max_phone_spread
    print(f"phone-spread warning above {limit:g}; wrong transcript = the next sentence of the same set\n")
    print(
        "| set | files | wrong: refused | wrong: warned | wrong: unnoticed | right: warned | right: refused "
        "| right: spread | wrong (aligned): spread |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        manifests = _manifests(Path(tmp), tuple(args.set))
        return {name: run_set(name, manifest, limit, args.files) for name, manifest in manifests.items()}


if __name__ == "__main__":
    main()
