"""Utterance-level prosody without words (vowelprompt/missing.py) against the same cues measured over aligned words.

    python benchmarks/bench_missing.py [--set tuning|heldout|both] [--limit N]

A row with no transcript (none given, or ASR heard no speech) or whose alignment failed keeps its
utterance-level pitch and energy, measured without words: F0 over every voiced frame, energy over the frames
next to a voiced F0 frame (``measure_wordless``). An annotated row measures the same cues over its aligned
words (``measure_utterance``). How far apart are they on the same speech? Per set, one markdown row per choice of
the frames energy is measured over (the shipped one: every frame within 30 dB of the loudest). The shipped
measure leaves the energy SD out (None); the columns for it show what each choice would give, and why. Columns: mean absolute difference of each raw cue (semitones, dB) and how often
the fallback's level words (fixed reference values, as a single row without fit-stats gets them) agree for
pitch, pitch variation, volume and volume variation. Choices are made on the tuning set
(DEFAULT_SENTENCES × TUNING_VOICES × TUNING_RATES); the held-out set is only reported.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from vowelprompt.align.pocketsphinx import PocketsphinxAligner
from vowelprompt.align.vowels import vowel_spans
from vowelprompt.audio import load_audio
from vowelprompt.corpora.synth import SETS, write_corpus
from vowelprompt.errors import VowelPromptError
from vowelprompt.features import FeatureConfig, compute_tracks, measure_utterance
from vowelprompt.io import read_manifest
from vowelprompt.missing import LOUD_DB, measure_wordless
from vowelprompt.normalize import normalize
from vowelprompt.records import Annotation, UtteranceProsody

CUES = ("f0_mean_st", "f0_sd_st", "rms_mean_db", "rms_sd_db")
LEVELS = ("pitch", "pitch_var", "volume", "volume_var")


def energy_from(tracks, frames: np.ndarray) -> tuple[float | None, float | None]:
    rms = tracks.rms_db[frames]
    mean = float(10 * np.log10(np.mean(10 ** (rms / 10)))) if rms.size else None
    return mean, float(np.std(rms)) if rms.size >= 2 else None


def variants(tracks, config: FeatureConfig) -> dict[str, UtteranceProsody]:
    """The shipped wordless measure, and other choices of the frames energy is measured over. The shipped
    measure leaves the energy SD out; the SD each choice of frames would give is filled in to show why."""
    shipped = measure_wordless(tracks, config)
    voiced_frames = np.interp(tracks.rms_times_s, tracks.f0_times_s, np.isfinite(tracks.f0_hz).astype(float))
    choices = {
        f"within {LOUD_DB:g} dB of the loudest (shipped)": tracks.rms_db >= tracks.rms_db.max() - LOUD_DB,
        "within 40 dB": tracks.rms_db >= tracks.rms_db.max() - 40,
        "within 50 dB": tracks.rms_db >= tracks.rms_db.max() - 50,
        "next to a voiced F0 frame": voiced_frames >= 0.5,
        "every frame": np.ones(tracks.rms_db.shape, dtype=bool),
    }
    out = {}
    for name, frames in choices.items():
        mean, sd = energy_from(tracks, frames)
        out[name] = replace(shipped, rms_mean_db=mean, rms_sd_db=sd)
    return out


def bins(utt: UtteranceProsody) -> dict[str, str]:
    return normalize(Annotation(id="x", audio="x", status="ok", utterance=utt)).utterance.bins


def run_set(name: str, limit: int | None) -> None:
    sentences, voices, rates = SETS[name]
    if limit:  # a quick look: synthesise only what is measured
        sentences, voices, rates = sentences[: max(1, limit // len(voices))], voices[:limit], rates[:1]
    config = FeatureConfig()
    aligner = PocketsphinxAligner()
    diffs: dict[str, dict[str, list[float]]] = {}
    agree: dict[str, dict[str, list[bool]]] = {}
    failed = files = 0
    seconds = {"aligned": 0.0, "wordless": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        manifest = write_corpus(Path(tmp), sentences, voices, rates)
        items = read_manifest(manifest)[:limit]
        for item in items:
            audio = load_audio(item.audio)
            try:
                start = time.perf_counter()
                words = aligner.align(audio.samples, audio.sr, item.text)
                tracks = compute_tracks(audio.samples, audio.sr, config)
                ref = measure_utterance(words, len(vowel_spans(words)), tracks, config)
                seconds["aligned"] += time.perf_counter() - start
            except VowelPromptError:
                failed += 1
                continue
            start = time.perf_counter()
            measure_wordless(compute_tracks(audio.samples, audio.sr, config), config)
            seconds["wordless"] += time.perf_counter() - start
            files += 1
            ref_bins = bins(ref)
            for variant, utt in variants(tracks, config).items():
                for cue in CUES:
                    a, b = getattr(utt, cue), getattr(ref, cue)
                    if a is not None and b is not None:
                        diffs.setdefault(variant, {}).setdefault(cue, []).append(abs(a - b))
                got = bins(utt)
                for level in LEVELS:
                    if level in ref_bins:
                        agree.setdefault(variant, {}).setdefault(level, []).append(
                            got.get(level) == ref_bins[level]
                        )
    print(f"\n### {name} set: {files} files ({failed} failed to align, left out)\n")
    print(
        "| energy frames | Δ mean F0 (st) | Δ F0 SD (st) | Δ mean energy (dB) | Δ energy SD (dB) "
        "| same pitch level | same pitch-variation level | same volume level | same volume-variation level |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for variant in diffs:
        d = [f"{np.mean(diffs[variant][c]):.2f}" for c in CUES]
        a = [f"{100 * np.mean(agree[variant][lv]):.0f} %" for lv in LEVELS]
        print(f"| {variant} | " + " | ".join(d + a) + " |")
    ratio = seconds["wordless"] / seconds["aligned"] if seconds["aligned"] else float("nan")
    print(
        f"\nTime: alignment + tracks + utterance cues {seconds['aligned'] / max(files, 1) * 1000:.0f} ms per "
        f"file; tracks + wordless cues {seconds['wordless'] / max(files, 1) * 1000:.0f} ms ({ratio:.2f}×; "
        "same run, shared machine)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("tuning", "heldout", "both"), default="both")
    parser.add_argument("--limit", type=int, help="at most N files per set (a quick look)")
    args = parser.parse_args(argv)
    for name in ("tuning", "heldout") if args.set == "both" else (args.set,):
        run_set(name, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
