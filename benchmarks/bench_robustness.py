"""Robustness of the front end to recording conditions, and whether its quality threshold is honest.

    python benchmarks/bench_robustness.py [--set heldout|heldout2|tuning] [--files N] [--conditions …] [--dump F]

The held-out utterances (HELDOUT_SENTENCES × HELDOUT_VOICES at 200 wpm; ``--set tuning``: the tuning
sentences and voices at 175 wpm, the only set the thresholds were chosen on; ``--set heldout2``: the second
held-out set's sentences and voices at 210 wpm) are degraded and annotated by
the full pipeline (pocketsphinx, Praat pitch, the quality threshold of :mod:`vowelprompt.quality`):

- ``white``, ``babble`` (four other utterances of the set, summed) and ``music`` (two-note harmonic chords
  in the voice's F0 range, a new chord every 250 ms) at 20/10/5 dB SNR over the speech;
- ``reverb``: a synthetic exponentially decaying impulse response, RT60 0.5 s;
- ``telephone``: 300–3400 Hz band-pass, written at 8 kHz (annotate resamples it back to 16 kHz);
- ``clipping``: 12 dB of gain, hard-clipped at full scale;
- ``laugh`` / ``cough``: a 0.5 s voiced "ha-ha-ha" or a 0.3 s noise burst inserted between the two middle
  words (true times after it shifted by its length).

Per condition, one markdown table: files aligned/failed, mean vowel-boundary error and midpoint hit rate
(against espeak-ng's truth), F0 error per vowel in semitones against the *clean* signal's F0 of the same
vowel (mean |Δ| and share of gross errors > 1 st); a second table splits vowels by the quality threshold:
share kept whole, share keeping pitch, and midpoint hits and F0 errors among kept vs dropped vowels. If the
threshold is honest, kept vowels are more accurate than dropped ones and fewer are kept as noise rises.
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
import soundfile as sf
from scipy import signal

from vowelprompt.align.score import TrueVowel, score_alignment
from vowelprompt.audio import ANALYSIS_SR, resample
from vowelprompt.corpora.synth import (
    DEFAULT_SENTENCES,
    HELDOUT2_SENTENCES,
    HELDOUT2_VOICES,
    HELDOUT_SENTENCES,
    HELDOUT_VOICES,
    TUNING_VOICES,
    synthesize,
)
from vowelprompt.missing import missing_reasons
from vowelprompt.pipeline import AnnotateConfig, Annotator
from vowelprompt.quality import TRANSCRIPT_WARNING, QualityConfig
from vowelprompt.records import Utterance

SETS = {
    "heldout": (HELDOUT_SENTENCES, HELDOUT_VOICES, 200),
    "tuning": (DEFAULT_SENTENCES, TUNING_VOICES, 175),
    "heldout2": (HELDOUT2_SENTENCES, HELDOUT2_VOICES, 210),
}
SNRS = (20, 10, 5)
CONDITIONS = (
    "clean",
    *(f"{kind}{snr}" for kind in ("white", "babble", "music") for snr in SNRS),
    "reverb",
    "telephone",
    "clipping",
    "laugh",
    "cough",
)
GROSS_ST = 1.0  # an F0 error above 1 semitone is audible as a different pitch level


class Utt:
    """One clean utterance at 16 kHz with its true vowels and the span of its speech."""

    def __init__(self, sentence: str, voice: str, rate: int, index: int):
        synth = synthesize(sentence, voice=voice, rate_wpm=rate)
        self.id = f"{voice.replace('+', '-')}_r{rate}_s{index:03d}"
        self.text = synth.transcript
        self.samples = resample(synth.samples, synth.sr, ANALYSIS_SR)
        self.vowels = [TrueVowel(p.start_s, p.end_s, p.word_index, not p.estimated) for p in synth.vowels]
        self.words = [(w.start_s, w.end_s) for w in synth.words]
        lo, hi = (int(t * ANALYSIS_SR) for t in (synth.phones[0].start_s, synth.phones[-1].end_s))
        self.speech_power = float(np.mean(np.square(self.samples[lo:hi], dtype=np.float64)))


def _at_snr(x: np.ndarray, noise: np.ndarray, speech_power: float, snr_db: float) -> np.ndarray:
    noise = noise[: len(x)]
    noise = noise * np.sqrt(speech_power / 10 ** (snr_db / 10) / np.mean(np.square(noise, dtype=np.float64)))
    return x + noise


def _loop(x: np.ndarray, n: int, offset: int) -> np.ndarray:
    return np.resize(np.roll(x, -offset), n)


def _music(n: int, rng: np.random.Generator) -> np.ndarray:
    """Two-note chords of 3-harmonic tones (MIDI 45–72, 110–523 Hz), a new chord every 250 ms, faded."""
    out = np.zeros(n)
    note = int(0.25 * ANALYSIS_SR)
    t = np.arange(note) / ANALYSIS_SR
    env = np.minimum(1, np.minimum(t, t[::-1]) / 0.02)
    for start in range(0, n, note):
        chunk = np.zeros(note)
        for midi in rng.integers(45, 73, size=2):
            f = 440 * 2 ** ((midi - 69) / 12)
            chunk += sum(np.sin(2 * np.pi * f * k * t + rng.uniform(0, 6.3)) / k for k in (1, 2, 3))
        out[start : start + note] = (chunk * env)[: n - start]
    return out


def _reverb(x: np.ndarray, rng: np.random.Generator, rt60: float = 0.5) -> np.ndarray:
    t = np.arange(int(rt60 * ANALYSIS_SR)) / ANALYSIS_SR
    ir = rng.standard_normal(t.size) * np.exp(-6.908 * t / rt60) * 0.1  # −60 dB at rt60
    ir[0] = 1.0
    y = signal.fftconvolve(x, ir)[: len(x)]
    return y * (np.max(np.abs(x)) / np.max(np.abs(y)))


def _telephone(x: np.ndarray) -> np.ndarray:
    sos = signal.butter(4, [300, 3400], btype="bandpass", fs=ANALYSIS_SR, output="sos")
    return resample(signal.sosfiltfilt(sos, x).astype(np.float32), ANALYSIS_SR, 8000)


def _laugh(rng: np.random.Generator) -> np.ndarray:
    """ "Ha-ha-ha": three 120 ms voiced bursts (F0 falling 260→200 Hz, 12 harmonics, breathy) 70 ms apart."""
    parts = []
    for k in range(3):
        t = np.arange(int(0.12 * ANALYSIS_SR)) / ANALYSIS_SR
        f0 = 260 - 60 * k / 2 - 100 * t
        phase = 2 * np.pi * np.cumsum(f0) / ANALYSIS_SR
        burst = sum(np.sin(h * phase) / h for h in range(1, 13)) + 0.3 * rng.standard_normal(t.size)
        parts += [burst * np.hanning(t.size), np.zeros(int(0.07 * ANALYSIS_SR))]
    return np.concatenate(parts)


def _cough(rng: np.random.Generator) -> np.ndarray:
    """A 0.3 s cough: band-passed noise (300–3000 Hz), 10 ms attack, exponential decay."""
    t = np.arange(int(0.3 * ANALYSIS_SR)) / ANALYSIS_SR
    sos = signal.butter(2, [300, 3000], btype="bandpass", fs=ANALYSIS_SR, output="sos")
    return signal.sosfilt(sos, rng.standard_normal(t.size)) * np.minimum(1, t / 0.01) * np.exp(-t / 0.08)


def degrade(utt: Utt, condition: str, pool: list[Utt], rng: np.random.Generator):
    """(samples, sample rate, (insertion time, inserted seconds) or None) of ``utt`` under ``condition``."""
    x = utt.samples.astype(np.float64)
    kind = condition.rstrip("0123456789")
    snr = float(condition[len(kind) :]) if kind != condition else None
    if kind == "white":
        return _at_snr(x, rng.standard_normal(len(x)), utt.speech_power, snr), ANALYSIS_SR, None
    if kind == "babble":
        others = [u for u in pool if u.text != utt.text]
        others = [others[i] for i in rng.choice(len(others), size=min(4, len(others)), replace=False)]
        babble = sum(
            _loop(u.samples, len(x), int(rng.integers(len(u.samples)))) / np.sqrt(u.speech_power)
            for u in others
        )
        return _at_snr(x, babble, utt.speech_power, snr), ANALYSIS_SR, None
    if kind == "music":
        return _at_snr(x, _music(len(x), rng), utt.speech_power, snr), ANALYSIS_SR, None
    if kind == "reverb":
        return _reverb(x, rng), ANALYSIS_SR, None
    if kind == "telephone":
        return _telephone(x), 8000, None
    if kind == "clipping":
        return np.clip(x / np.max(np.abs(x)) * 4, -1, 1), ANALYSIS_SR, None
    if kind in ("laugh", "cough"):
        burst = _laugh(rng) if kind == "laugh" else _cough(rng)
        burst *= np.sqrt(utt.speech_power / np.mean(np.square(burst)))
        k = len(utt.words) // 2
        at = (utt.words[k - 1][1] + utt.words[k][0]) / 2
        i = int(round(at * ANALYSIS_SR))
        return np.concatenate([x[:i], burst, x[i:]]), ANALYSIS_SR, (i / ANALYSIS_SR, len(burst) / ANALYSIS_SR)
    return x, ANALYSIS_SR, None


def _shifted(truth: list[TrueVowel], insertion) -> list[TrueVowel]:
    if insertion is None:
        return truth
    at, seconds = insertion
    return [
        TrueVowel(t.start_s + seconds, t.end_s + seconds, t.word_index, t.exact) if t.start_s >= at else t
        for t in truth
    ]


def alignment_failed(row) -> bool:
    """A row whose alignment failed: not ok, or ok without vowels and with the warning that says why (annotate
    keeps such rows, :mod:`vowelprompt.missing`; counting only rows that are not ok hid every failure)."""
    return not row.ok or "vowels" in missing_reasons(row)


def _keyed(row) -> dict[tuple[int, int], object]:
    """Vowels by (word index, position in the word), the key that pairs a vowel with its clean twin."""
    seen: dict[int, int] = defaultdict(int)
    out = {}
    for v in row.vowels:
        out[(v.span.word_index, seen[v.span.word_index])] = v
        seen[v.span.word_index] += 1
    return out


def vowel_records(row, clean, truth: list[TrueVowel]) -> list[dict]:
    """Per aligned vowel: midpoint inside the true vowel, F0 error against the clean twin, quality."""
    by_word: dict[int, list[TrueVowel]] = defaultdict(list)
    for t in truth:
        by_word[t.word_index].append(t)
    twins = _keyed(clean) if clean is not None and clean.ok else {}
    out = []
    for key, v in _keyed(row).items():
        mid = (v.span.start_s + v.span.end_s) / 2
        twin = twins.get(key)
        err = None
        if twin is not None and twin.features.f0_mean_st is not None and v.features.f0_mean_st is not None:
            err = abs(v.features.f0_mean_st - twin.features.f0_mean_st)
        q = v.quality
        out.append(
            {
                "inside": any(t.start_s <= mid <= t.end_s for t in by_word.get(v.span.word_index, ())),
                "f0_err_st": err,
                "clean_voiced": twin is not None and twin.features.f0_mean_st is not None,
                "f0_sd_st": v.features.f0_sd_st,
                "voiced_fraction": q.voiced_fraction if q else None,
                "snr_db": q.snr_db if q else None,
                "align_score": q.align_score if q else None,
                "kept": not (q and q.dropped),
                "pitch_kept": not (q and "pitch" in q.dropped),
            }
        )
    return out


def _mean(values) -> float:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else float("nan")


def _pct(flags) -> str:
    flags = list(flags)
    return f"{100 * np.mean(flags):.1f}" if flags else "–"


def _f(x: float, digits: int = 2) -> str:
    return "–" if x != x else f"{x:.{digits}f}"


def summarise(cells: dict[str, dict]) -> dict[str, dict]:
    out = {}
    for cond, c in cells.items():
        vs = c["vowels"]
        errs = [v["f0_err_st"] for v in vs if v["f0_err_st"] is not None]

        def split(key, flag, vs=vs):
            sel = [v for v in vs if v[key] == flag]
            e = [v["f0_err_st"] for v in sel if v["f0_err_st"] is not None]
            return {
                "n": len(sel),
                "inside": float(np.mean([v["inside"] for v in sel])) if sel else float("nan"),
                "f0_err_st": _mean(e),
                "gross": float(np.mean([x > GROSS_ST for x in e])) if e else float("nan"),
            }

        out[cond] = {
            "files": c["files"],
            "failed": c["failed"],
            "warned": c["warned"],
            "boundary_ms": 1000 * _mean(c["errors"]) if c["errors"] else float("nan"),
            "inside": float(np.mean([v["inside"] for v in vs])) if vs else float("nan"),
            "vowels": len(vs),
            "f0_err_st": _mean(errs),
            "gross": float(np.mean([x > GROSS_ST for x in errs])) if errs else float("nan"),
            "pitch_lost": float(np.mean([v["clean_voiced"] and v["f0_err_st"] is None for v in vs]))
            if vs
            else float("nan"),
            "kept": float(np.mean([v["kept"] for v in vs])) if vs else float("nan"),
            "pitch_kept": float(np.mean([v["pitch_kept"] for v in vs])) if vs else float("nan"),
            "whole": {"kept": split("kept", True), "dropped": split("kept", False)},
            "pitch": {"kept": split("pitch_kept", True), "dropped": split("pitch_kept", False)},
        }
    return out


def print_tables(summary: dict[str, dict]) -> None:
    print(
        "| condition | files aligned / failed | boundary error (ms) | midpoints inside (%) | vowels "
        "| F0 error vs clean (st) | F0 errors > 1 st (%) | pitch lost (%) | transcript warnings |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for cond, s in summary.items():
        print(
            f"| {cond} | {s['files'] - s['failed']} / {s['failed']} | {_f(s['boundary_ms'], 1)} "
            f"| {_f(100 * s['inside'], 1)} | {s['vowels']} | {_f(s['f0_err_st'])} | {_f(100 * s['gross'], 1)} "
            f"| {_f(100 * s['pitch_lost'], 1)} | {s['warned']} |"
        )
    print()
    print(
        "| condition | vowels kept whole (%) | pitch kept (%) | midpoints inside: kept / dropped (%) "
        "| F0 error: pitch kept / dropped (st) | F0 errors > 1 st: pitch kept / dropped (%) |"
    )
    print("|---|---|---|---|---|---|")
    for cond, s in summary.items():
        w, p = s["whole"], s["pitch"]
        print(
            f"| {cond} | {_f(100 * s['kept'], 1)} | {_f(100 * s['pitch_kept'], 1)} "
            f"| {_f(100 * w['kept']['inside'], 1)} / {_f(100 * w['dropped']['inside'], 1)} "
            f"(n={w['dropped']['n']}) "
            f"| {_f(p['kept']['f0_err_st'])} / {_f(p['dropped']['f0_err_st'])} "
            f"| {_f(100 * p['kept']['gross'], 1)} / {_f(100 * p['dropped']['gross'], 1)} |"
        )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="heldout")
    parser.add_argument("--files", type=int, default=40, help="utterances (sentences × voices, in order)")
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument("--dump", help="write every vowel's record (JSON) here, for threshold calibration")
    args = parser.parse_args(argv)
    sentences, voices, rate = SETS[args.set]
    specs = [(s, v, i) for v in voices for i, s in enumerate(sentences)][: args.files]
    started = time.perf_counter()
    pool = [Utt(s, v, rate, i) for s, v, i in specs]
    annotator = Annotator(AnnotateConfig(quality=QualityConfig()))
    cells: dict[str, dict] = {
        c: {"files": 0, "failed": 0, "warned": 0, "errors": [], "vowels": []} for c in args.conditions
    }
    conditions = ["clean", *(c for c in args.conditions if c != "clean")]
    with tempfile.TemporaryDirectory() as tmp:
        for n, utt in enumerate(pool):
            clean = None
            for cond in conditions:
                rng = np.random.default_rng(1000 * n + CONDITIONS.index(cond))
                samples, sr, insertion = degrade(utt, cond, pool, rng)
                path = Path(tmp) / f"{utt.id}.{cond}.wav"
                sf.write(path, np.asarray(samples, dtype=np.float32), sr, subtype="FLOAT")
                row = annotator.annotate(Utterance(id=f"{utt.id}.{cond}", audio=str(path), text=utt.text))
                if cond == "clean":
                    clean = row
                if cond not in cells:
                    continue
                cell = cells[cond]
                cell["files"] += 1
                cell["warned"] += any(w.startswith(TRANSCRIPT_WARNING) for w in row.warnings)
                if alignment_failed(row):
                    cell["failed"] += 1
                    continue
                truth = _shifted(utt.vowels, insertion)
                cell["errors"] += score_alignment(list(row.words), truth).errors_s
                cell["vowels"] += vowel_records(row, clean, truth)
    summary = summarise(cells)
    print(
        f"{len(pool)} {args.set} utterances ({len(voices)} voices, {rate} wpm) × {len(args.conditions)} "
        f"conditions, thresholds {QualityConfig().thresholds()}, {time.perf_counter() - started:.0f} s "
        "(a shared 2-core machine)\n"
    )
    print_tables(summary)
    if args.dump:
        Path(args.dump).write_text(json.dumps({c: cells[c]["vowels"] for c in cells}), encoding="utf-8")
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
