"""Run every benchmark and print the figures the README quotes.

python benchmarks/run_all.py        (or: make bench)

The baselines benchmark runs at its small scale (``--quick``: 48 utterances, 8 zero-shot rows per prompt
style, in ``runs/bench_labels_quick``); its full run, about 30 min, is
``python benchmarks/bench_labels.py runs/bench_labels``. The training benchmark runs at its CI scale
(``--quick``: every prompt style, about 15 min on 2 CPUs, in ``runs/bench_quick``); its full run, about
90 min, is
``python benchmarks/bench_training.py runs/bench_training``.
"""

from __future__ import annotations

from pathlib import Path

import bench_alignment
import bench_labels
import bench_languages
import bench_long
import bench_missing
import bench_parser
import bench_reliability
import bench_robustness
import bench_soft_metrics
import bench_speed
import bench_training
import bench_transcripts
import bench_truth

if __name__ == "__main__":
    print("## Alignment accuracy (pocketsphinx vs espeak-ng truth)\n")
    bench_alignment.main([])
    print("\n## The synthetic truth's estimated vowel ends (espeak-ng's own boundaries re-estimated)\n")
    bench_truth.main([])
    print("\n## French and German alignment (pocketsphinx-mapped vs espeak-ng truth)\n")
    bench_languages.main([])
    print(
        "\n## Robustness: held-out utterances under noise, reverberation, telephone band, clipping, bursts\n"
    )
    bench_robustness.main([])
    print("\n## Wrong transcripts: refused, warned (phone spread) or unnoticed\n")
    bench_transcripts.main([])
    print("\n## Missing transcript or alignment: utterance cues without words against aligned ones\n")
    bench_missing.main([])
    print("\n## Speed, memory and description length\n")
    bench_speed.main([])
    print("\n## Long recordings: aligned in pieces against their utterances one by one\n")
    bench_long.main([])
    bench_long.main(["--continuous", "--group-s", "20"])
    print("\n## Parser time against input size\n")
    bench_parser.main([])
    print("\n## Scores beyond one label: reference points and cost\n")
    bench_soft_metrics.main([])
    print("\n## Reliability: bad inputs, kills with resume, a misbehaving server, planted secrets\n")
    bench_reliability.main([])
    print(
        "\n## Baselines beside the LLM prompt styles, with calibration (small scale; README: the full run)\n"
    )
    bench_labels.main(
        [str(Path(__file__).resolve().parent.parent / "runs" / "bench_labels_quick"), "--quick"]
    )
    print("\n## Training: SFT then GRPO per prompt style, CI scale (the README's figures are the full run)\n")
    bench_training.main(
        [str(Path(__file__).resolve().parent.parent / "runs" / "bench_quick"), "--quick", "--fresh"]
    )
