"""Throughput of annotate, of its stages, and of openSMILE's eGeMAPS LLDs on the same audio; token cost of
the description styles; time and peak memory on a long recording.

    python benchmarks/bench_speed.py [--files 40] [--long-minutes 9.9]
    python benchmarks/bench_speed.py --annotate-only     # hours of audio per core-hour, for cluster planning
    python benchmarks/bench_speed.py --pitch-check       # the pitch passes' accuracy against the previous ones
    python benchmarks/bench_speed.py --one-pass          # annotate with the one-pass aligner experiment
    python benchmarks/bench_speed.py --pitch-check --variant pitch_candidates=4   # a change against the current

"× real time" = seconds of audio processed per CPU-second of the pinned process (see ``timed``; --jobs 2
is wall time); on one core it is also hours of audio per core-hour. Single-core figures pin the
process to one CPU (sched_setaffinity) so that library thread pools cannot borrow the second core.
"Before" columns run the previous design in the same process on the same audio (decoders that load the
language model and the whole dictionary; the range-finding pitch pass at 10 ms with 15 candidates), so that
the ratio survives a shared, noisy machine. The feature stage (before and now) and openSMILE are timed in
ROUNDS interleaved rounds and each stage's fastest round is quoted, with the ratio of every round.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import soundfile as sf

from vowelprompt.align.pocketsphinx import BEAMS, PocketsphinxAligner
from vowelprompt.align.vowels import vowel_spans
from vowelprompt.audio import load_audio
from vowelprompt.corpora.synth import DEFAULT_SENTENCES, write_corpus
from vowelprompt.features import FeatureConfig, compute_tracks, measure_utterance, measure_vowel
from vowelprompt.io import read_manifest
from vowelprompt.pipeline import AnnotateConfig, Annotator, iter_annotate
from vowelprompt.verbalize import describe


def timed(fn):
    """(result, seconds). Seconds are the process's CPU time: stages run pinned to one core in this process
    (pocketsphinx, Praat and openSMILE all compute in-process), so on a shared machine CPU time is what the
    stage costs and wall time would add other sessions' work; on an idle machine the two agree."""
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def wall_timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def tokenizer():
    """A real BPE tokenizer available offline: Whisper's (GPT-2 family), from the asr extra."""
    from tokenizers import Tokenizer

    from vowelprompt.asr import bundled_model_dir

    return Tokenizer.from_file(str(bundled_model_dir() / "tokenizer.json"))


class FullDecoderAligner(PocketsphinxAligner):
    """The aligner as it was before issue 16: each decoder loads the language model and the 134k-word
    dictionary (0.3 s), again after every failed beam. Same alignments, for the before/after row."""

    def _decoder(self, beam: float, fillers: bool = True):
        if (beam, fillers) not in self._decoders:
            from pocketsphinx import Decoder

            beams = {} if beam == BEAMS[0] else {"beam": beam, "pbeam": beam, "wbeam": beam}
            self._decoders[(beam, fillers)] = Decoder(
                samprate=16000, bestpath=False, loglevel="FATAL", fsgusefiller=fillers, **beams
            )
        return self._decoders[(beam, fillers)]


#: The pitch passes before issue 16: range-finding pass at 10 ms with Praat's 15 candidates, and 15 in the
#: measuring pass.
BEFORE_FEATURES = FeatureConfig(range_time_step_s=0.01, range_candidates=15, pitch_candidates=15)

#: Interleaved rounds of the feature stage (before, now) and openSMILE; each stage's fastest round is quoted.
ROUNDS = 3


def long_file_run(items, folder: Path, minutes: float) -> dict:
    """Concatenate utterances, with 0.3 s pauses of quiet noise (-70 dBFS, a quiet room; pocketsphinx
    mis-scores digital silence), into one recording just under ``minutes`` long and annotate it in a fresh
    process: time and peak memory (aligned in pieces of at most 5 s)."""
    rng = np.random.default_rng(0)
    samples, texts, total = [], [], 0.0
    for utt in itertools.cycle(items):
        audio = load_audio(utt.audio)
        sr = audio.sr
        pause = (3e-4 * rng.standard_normal(int(0.3 * sr))).astype(np.float32)
        if total + (len(audio.samples) + len(pause)) / sr > minutes * 60:
            break
        samples += [audio.samples, pause]
        texts.append(utt.text)
        total += (len(audio.samples) + len(pause)) / sr
    path = folder / "long.wav"
    sf.write(path, np.concatenate(samples), sr)
    path.with_suffix(".txt").write_text(" ".join(texts))
    code = (
        "import os, re, time, json; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from vowelprompt.pipeline import annotate; t = time.perf_counter(); "
        f"row = annotate({str(path)!r}); "
        # VmHWM, not ru_maxrss: the latter can carry the parent's high-water mark across fork+exec.
        "hwm = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024; "
        "print(json.dumps({'status': row.status, 'error': row.error, 'vowels': len(row.vowels), "
        "'seconds': time.perf_counter() - t, 'cpu_seconds': time.process_time(), 'peak_rss_mb': hwm}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["audio_s"] = sf.info(str(path)).duration
    return result


def pitch_check(items, new: FeatureConfig | None = None, old: FeatureConfig = BEFORE_FEATURES) -> list[dict]:
    """Per-vowel and utterance F0 of the ``new`` pitch passes (default: the current ones) against ``old``'s
    (default: BEFORE_FEATURES), on the synthetic utterances, on the same made less clean (PSOLA: F0 ×0.8–1.25
    with ±3 st ramps, noise at 30 dB SNR), and on examples/happy_day.wav (the one real recording shipped);
    with the CPU time of ``new``'s tracks over ``old``'s (interleaved)."""
    new = new or FeatureConfig()
    from vowelprompt.corpora.psola import psola

    aligner, rng = PocketsphinxAligner(), np.random.default_rng(1)
    real = Path(__file__).resolve().parents[1] / "examples" / "happy_day.wav"
    sets: dict[str, list] = {"synthetic": [], "PSOLA-modified synthetic + noise (30 dB SNR)": [], "real": []}
    for utt in items:
        audio = load_audio(utt.audio)
        words = aligner.align(audio.samples, audio.sr, utt.text)
        sets["synthetic"].append((audio.samples, audio.sr, words))
        x = psola(
            audio.samples, audio.sr, float(rng.uniform(0.8, 1.25)), f0_ramp_st=tuple(rng.uniform(-3, 3, 2))
        )
        x = x + rng.standard_normal(len(x)) * np.sqrt(np.mean(x**2)) * 10 ** (-30 / 20)
        sets["PSOLA-modified synthetic + noise (30 dB SNR)"].append((x.astype(np.float32), audio.sr, words))
    audio = load_audio(real)
    text = real.with_suffix(".txt").read_text()
    sets["real"].append((audio.samples, audio.sr, aligner.align(audio.samples, audio.sr, text)))
    out = []
    for name, utts in sets.items():
        diffs, lost, voiced, utt_diffs, cost_new, cost_old = [], 0, 0, [], 0.0, 0.0
        for x, sr, words in utts:
            spans = vowel_spans(words)
            now, t_new = timed(lambda x=x, sr=sr: compute_tracks(x, sr, new))
            was, t_old = timed(lambda x=x, sr=sr: compute_tracks(x, sr, old))
            cost_new, cost_old = cost_new + t_new, cost_old + t_old
            for span in spans:
                a, b = (
                    measure_vowel(span, now, new).f0_mean_st,
                    measure_vowel(span, was, old).f0_mean_st,
                )
                voiced += b is not None
                lost += b is not None and a is None
                if a is not None and b is not None:
                    diffs.append(abs(a - b))
            u_now = measure_utterance(words, len(spans), now, new).f0_mean_st
            u_was = measure_utterance(words, len(spans), was, old).f0_mean_st
            utt_diffs.append(abs(u_now - u_was))
        d = np.array(diffs)
        out.append(
            {
                "speech": name,
                "utterances": len(utts),
                "voiced_vowels": voiced,
                "mean_abs_diff_st": float(d.mean()),
                "within_half_st": float(np.mean(d <= 0.5)),
                "lost_pitch": lost,
                "utterance_f0_mean_diff_st": float(np.mean(utt_diffs)),
                "utterance_f0_max_diff_st": float(np.max(utt_diffs)),
                "track_cost_ratio": cost_new / cost_old,
            }
        )
    print(
        "| speech | utterances | voiced vowels | mean abs Δ per vowel | within 0.5 st | lost pitch | utterance F0 Δ mean, max "
        "| cost of the tracks |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in out:
        print(
            f"| {r['speech']} | {r['utterances']} | {r['voiced_vowels']} | {r['mean_abs_diff_st']:.4f} st | "
            f"{r['within_half_st']:.1%} | {r['lost_pitch']} | {r['utterance_f0_mean_diff_st']:.4f}, "
            f"{r['utterance_f0_max_diff_st']:.4f} st | {r['track_cost_ratio']:.2f}× |"
        )
    return out


def one_pass_speed(items, audio_s: float) -> dict:
    """Annotate end to end with the default (two-pass) aligner and with the one-pass experiment
    (``bench_alignment.py --one-pass`` measures its accuracy), ROUNDS interleaved rounds each, × real time
    in CPU time. The one-pass annotator refines with the library's tables (its own fitted ones cost the same)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from one_pass_aligner import OnePassAligner, interleaved_speeds, speed_line, speed_ratios

    two, one = Annotator(AnnotateConfig()), Annotator(AnnotateConfig())
    one.aligner = OnePassAligner()
    annotators = {"two passes (default)": two, "one pass": one}
    for annotator in annotators.values():
        annotator.annotate(items[0])  # warm-up

    def annotate_all(annotator) -> None:
        rows = [annotator.annotate(u) for u in items]
        assert all(r.ok and r.vowels for r in rows), [r.error or r.warnings for r in rows if not r.vowels]

    runs = {label: partial(annotate_all, annotator) for label, annotator in annotators.items()}
    speeds = interleaved_speeds(runs, audio_s, ROUNDS)
    print(f"annotate end to end, 1 core, × real time in CPU time per round: {speed_line(speeds)}")
    return {"annotate_x_rt_1core": speeds, "one_pass_over_two": speed_ratios(speeds)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="utterances in the test set (default 40)")
    parser.add_argument(
        "--long-minutes",
        type=float,
        nargs="*",
        default=[9.9],
        help="lengths of the long-file tests (annotate allows 10 min)",
    )
    parser.add_argument(
        "--annotate-only", action="store_true", help="only annotate's hours of audio per core-hour (~1 min)"
    )
    parser.add_argument(
        "--one-pass",
        action="store_true",
        help="only annotate end to end with the two-pass aligner and the experimental one-pass one "
        "(benchmarks/one_pass_aligner.py), in interleaved rounds (~2 min)",
    )
    parser.add_argument(
        "--pitch-check",
        action="store_true",
        help="only the pitch passes' accuracy against the previous ones (synthetic, PSOLA + noise, real)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="with --pitch-check: compare the current FeatureConfig with FIELD changed, instead of the "
        "previous passes with the current ones (e.g. pitch_candidates=4)",
    )
    args = parser.parse_args(argv)
    if args.variant and not args.pitch_check:
        parser.error("--variant goes with --pitch-check")
    if args.one_pass and (args.pitch_check or args.annotate_only):
        parser.error("--one-pass runs alone: leave out --pitch-check and --annotate-only")
    variant = {}
    for item in args.variant:
        field, sep, value = item.partition("=")
        if not sep or field not in FeatureConfig.__dataclass_fields__:
            parser.error(f"--variant needs FIELD=VALUE with a FeatureConfig field, got {item!r}")
        kind = type(getattr(FeatureConfig(), field))
        try:
            variant[field] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
        except ValueError:
            parser.error(f"--variant {field} needs a {kind.__name__}, got {value!r}")
    tmp = tempfile.TemporaryDirectory()
    folder = Path(tmp.name)
    manifest = write_corpus(folder, DEFAULT_SENTENCES, ("en-us+m1", "en-gb+f2"), (150, 220))
    items = read_manifest(manifest)[: args.files]
    if args.pitch_check:
        if variant:
            print(f"current passes with {variant} (new) against the current passes (old)\n")
            result = {"pitch_check": pitch_check(items, FeatureConfig(**variant), FeatureConfig())}
        else:
            result = {"pitch_check": pitch_check(items)}
        tmp.cleanup()
        return result
    audio_s = sum(sf.info(u.audio).duration for u in items)
    both_cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(both_cores)})
    if args.one_pass:
        result = one_pass_speed(items, audio_s)
        os.sched_setaffinity(0, both_cores)
        tmp.cleanup()
        return result

    t_annotate_before = None
    if not args.annotate_only:
        before = Annotator(AnnotateConfig(features=BEFORE_FEATURES))
        before.aligner = FullDecoderAligner()
        before.annotate(items[0])  # warm-up: dictionary, decoders, G2P tables
        _, t_annotate_before = timed(lambda: [before.annotate(u) for u in items])
    annotator = Annotator(AnnotateConfig())
    annotator.annotate(items[0])
    cpu_start = time.process_time()
    rows, t_annotate = wall_timed(lambda: [annotator.annotate(u) for u in items])
    cpu_annotate = time.process_time() - cpu_start
    assert all(r.ok and r.vowels for r in rows), [r.error or r.warnings for r in rows if not r.vowels]
    per_core_hour = audio_s / t_annotate  # (audio_s / 3600) h of audio in (t_annotate / 3600) core-hours
    print(
        f"annotate (pocketsphinx, one process on one core): {per_core_hour:.0f} hours of audio per core-hour "
        f"of wall-clock time, {audio_s / cpu_annotate:.0f} per hour of CPU time (the two agree on an idle "
        f"machine; on a busy one the CPU-time figure is the machine's own) — {len(items)} utterances, "
        f"{audio_s:.1f} s of audio; a 100-hour corpus: {100 / per_core_hour:.1f} core-hours\n"
    )
    if args.annotate_only:
        os.sched_setaffinity(0, both_cores)
        tmp.cleanup()
        return {
            "files": len(items),
            "audio_s": round(audio_s, 1),
            "annotate_hours_per_core_hour": per_core_hour,
            "annotate_hours_per_cpu_hour": audio_s / cpu_annotate,
        }

    audios = [load_audio(u.audio) for u in items]

    def align_all(aligner):
        aligner.align(audios[0].samples, audios[0].sr, items[0].text)  # warm-up (dictionary, G2P tables)
        return timed(lambda: [aligner.align(a.samples, a.sr, u.text) for a, u in zip(audios, items)])[1]

    t_align_before = align_all(FullDecoderAligner())
    t_align = align_all(PocketsphinxAligner())

    def features(config: FeatureConfig):
        for audio, row in zip(audios, rows):
            tracks = compute_tracks(audio.samples, audio.sr, config)
            spans = vowel_spans(list(row.words))
            feats = [measure_vowel(s, tracks, config) for s in spans]
            measure_utterance(list(row.words), len(feats), tracks, config)

    import opensmile

    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.LowLevelDescriptors
    )
    smile.process_signal(audios[0].samples, audios[0].sr)  # warm-up
    # The three interleaved, ROUNDS times, and each one's fastest round: the machine's speed drifts between
    # runs and within one (openSMILE alone ranged 29-43x across runs when each stage was timed once), and
    # the fastest of interleaved rounds is the least disturbed figure for all three alike.
    rounds = [
        (
            timed(lambda: features(BEFORE_FEATURES))[1],
            timed(lambda: features(FeatureConfig()))[1],
            timed(lambda: [smile.process_signal(a.samples, a.sr) for a in audios])[1],
        )
        for _ in range(ROUNDS)
    ]
    t_features_before, t_features, t_smile = (min(times) for times in zip(*rounds))

    os.sched_setaffinity(0, both_cores)
    _, t_jobs2 = wall_timed(lambda: list(iter_annotate(items, AnnotateConfig(), jobs=2)))  # workers: wall

    tok = tokenizer()
    paper = [describe(r, "paper") for r in rows]
    compact = [describe(r, "compact") for r in rows]
    speechcue = [describe(r, "speechcue") for r in rows]
    ntok = {
        name: float(np.mean([len(tok.encode(t).ids) for t in texts]))
        for name, texts in (("paper", paper), ("compact", compact), ("speechcue", speechcue))
    }

    fig = {
        "files": len(items),
        "audio_s": round(audio_s, 1),
        "annotate_x_rt_1core": audio_s / cpu_annotate,
        "annotate_before_x_rt_1core": audio_s / t_annotate_before,
        "annotate_hours_per_core_hour": per_core_hour,
        "annotate_hours_per_cpu_hour": audio_s / cpu_annotate,
        "annotate_x_rt_jobs2": audio_s / t_jobs2,
        "align_x_rt_1core": audio_s / t_align,
        "align_before_x_rt_1core": audio_s / t_align_before,
        "features_x_rt_1core": audio_s / t_features,
        "features_before_x_rt_1core": audio_s / t_features_before,
        "opensmile_egemaps_lld_x_rt_1core": audio_s / t_smile,
        "features_vs_opensmile": t_smile / t_features,
        "features_before_vs_opensmile": t_smile / t_features_before,
        "features_vs_opensmile_rounds": [smile_s / now_s for _, now_s, smile_s in rounds],
        "tokens_per_utterance": ntok,
        "compact_over_paper_tokens": ntok["compact"] / ntok["paper"],
        "vowels_per_utterance": float(np.mean([len(r.vowels) for r in rows])),
    }
    fig["long_files"] = [long_file_run(items, folder, minutes) for minutes in args.long_minutes]
    print(
        f"{len(items)} utterances, {audio_s:.1f} s of audio (espeak-ng, 2 voices, 150/220 wpm); one process "
        "pinned to one core unless said; before = the previous design in the same run; × = seconds of audio "
        "per CPU second (--jobs 2: per wall-clock second)\n"
    )
    print("| stage | before | now | target |")
    print("|---|---|---|---|")
    print(
        f"| annotate end to end, 1 core | {fig['annotate_before_x_rt_1core']:.0f}× real time "
        f"| {fig['annotate_x_rt_1core']:.0f}× | ≥ 40× |"
    )
    print(
        f"| annotate end to end, --jobs 2 (incl. worker start-up) | | {fig['annotate_x_rt_jobs2']:.0f}× | |"
    )
    print(
        f"| alignment alone (pocketsphinx), 1 core | {fig['align_before_x_rt_1core']:.0f}× "
        f"| {fig['align_x_rt_1core']:.0f}× | |"
    )
    print(
        f"| vowel features alone (F0 two-pass + RMS + 6 LLDs), 1 core | {fig['features_before_x_rt_1core']:.0f}× "
        f"| {fig['features_x_rt_1core']:.0f}× | |"
    )
    print(
        f"| openSMILE eGeMAPSv02 LLDs, same audio, 1 core | | {fig['opensmile_egemaps_lld_x_rt_1core']:.0f}× | |"
    )
    print(
        f"| feature stage ÷ openSMILE (speed ratio, same run) | {fig['features_before_vs_opensmile']:.2f}× "
        f"| {fig['features_vs_opensmile']:.2f}× | ≥ 4× |"
    )
    print(
        f"| (feature stage ÷ openSMILE in each of the {ROUNDS} interleaved rounds) | | "
        + ", ".join(f"{r:.2f}×" for r in fig["features_vs_opensmile_rounds"])
        + " | |"
    )
    for long in fig["long_files"]:
        outcome = (
            f"{long['vowels']} vowels" if long["status"] == "ok" else f"{long['status']}: {long['error']}"
        )
        print(
            f"| long recording, {long['audio_s'] / 60:.1f} min (annotate, fresh process, 1 core) | | "
            f"{long['audio_s'] / long['cpu_seconds']:.0f}× ({long['cpu_seconds']:.0f} s CPU, "
            f"{long['seconds']:.0f} s wall), peak RSS "
            f"{long['peak_rss_mb']:.0f} MB, {outcome} | bounded memory |"
        )
    print(
        f"\ntokens per utterance (Whisper BPE): paper {ntok['paper']:.0f}, compact {ntok['compact']:.0f} "
        f"({fig['compact_over_paper_tokens']:.0%} of paper), speechcue {ntok['speechcue']:.0f}; "
        f"{fig['vowels_per_utterance']:.1f} vowels per utterance"
    )
    tmp.cleanup()
    return fig


if __name__ == "__main__":
    main()
