"""Alignment accuracy of the default aligner against espeak-ng's true phone times, on the tuning and held-out sets.

    python benchmarks/bench_alignment.py [--set SET] [--corpus DIR] [--voices …] [--rates …]
        # SET: tuning, heldout, heldout2 … heldout21, both (the first two), all (the first three: default)
    python benchmarks/bench_alignment.py --set tuning --fit     # refit vowelprompt.align.refine's shift tables
    python benchmarks/bench_alignment.py --decoder-option ds=2  # a pocketsphinx setting: speed against accuracy
    python benchmarks/bench_alignment.py --one-pass            # one decoding pass yielding phones (experiment)

The tuning set (DEFAULT_SENTENCES × TUNING_VOICES × TUNING_RATES, 160 files) is the one every choice of the
aligner was made on; the held-out set (HELDOUT_SENTENCES × HELDOUT_VOICES × HELDOUT_RATES, 120 files) shares
no sentence, voice or rate with it and is only reported (vowelprompt/corpora/benchmark_sets.py); the second held-out set
(HELDOUT2_*, 120 files: four English varieties, rates and sentences used nowhere else) was written down
before any of its audio was aligned, and is only reported too; having been examined for its silent failures
it became their development set, and the third (HELDOUT3_*, sealed before that work) tested the change that
work kept (the noise floor, vowelprompt/align/pcm.py), measured once with it and once without; the fourth
(HELDOUT4_*) was sealed before the third set's silent failures were examined, for the change that work keeps,
the fifth (HELDOUT5_*) after the fourth's one measurement, before any further change (none was made),
and the sixth (HELDOUT6_*) after the fifth's, before any change made for the fifth set's failures; the
seventh and eighth (HELDOUT7_*, HELDOUT8_*) were sealed for changes to long recordings (bench_long.py).
``all`` (the default) runs the first three, ``both`` the first two, and the others run only when named. Per set: a markdown
table per voice and rate of the refined aligner (the default), then summary lines: the refined aligner without
the retry for slipped words (vowelprompt/align/slips.py: what the retry buys), the raw pocketsphinx alignment,
and the refined one (vowelprompt/align/refine.py; refinement is a pure function of the samples and the raw
alignment, so both come from one decoding). Each set is synthesised in a fresh process (synth.write_corpus_fresh).

Columns: mean absolute vowel-boundary error (ms) and its median, the same over boundaries espeak itself gives
("exact", not the ~20 % the truth estimates acoustically, see vowelprompt/corpora/synth.py), share of aligned
vowel midpoints inside the true vowel, vowels compared, files that failed at pocketsphinx's default beam,
files that still failed after the wider-beam retries (reported AlignmentErrors), and **silent failures**:
files that aligned without an error but put some word entirely outside its true span (a wrong result nobody
was told about; must be 0), and of those, how many keep descriptors of such a word after the quality check of
vowelprompt/quality.py ("unflagged": the wrong vowel would reach the text unannounced).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections import defaultdict
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from vowelprompt.align import refine
from vowelprompt.align.pocketsphinx import BEAMS, PocketsphinxAligner
from vowelprompt.align.score import TrueVowel, score_alignment
from vowelprompt.align.vowels import is_vowel, vowel_spans
from vowelprompt.audio import load_audio
from vowelprompt.corpora.synth import SETS, write_corpus_fresh
from vowelprompt.errors import AlignmentError
from vowelprompt.features import FeatureConfig, compute_tracks, measure_vowel
from vowelprompt.quality import QualityConfig, assess
from vowelprompt.records import Vowel


def truth_vowels(path: Path) -> list[TrueVowel]:
    phones = json.loads(path.read_text(encoding="utf-8"))["phones"]
    return [
        TrueVowel(p["start_s"], p["end_s"], p["word_index"], exact=not p["estimated"])
        for p in phones
        if p["is_vowel"]
    ]


def silent_failure(words, truth_path: Path) -> bool:
    """True if an aligned word does not overlap its true span at all: a wrong alignment returned as right."""
    true_words = json.loads(truth_path.read_text(encoding="utf-8"))["words"]
    if len(true_words) != len(words):
        return True
    return any(
        w.start_s is not None and min(w.end_s, t["end_s"]) - max(w.start_s, t["start_s"]) <= 0
        for w, t in zip(words, true_words)
    )


def unflagged(samples, sr: int, words, truth_path: Path) -> bool:
    """True if a word aligned entirely off its sound keeps descriptors after the quality check
    (vowelprompt.quality drops all of a vowel's descriptors for low SNR, a bad acoustic score, or speech
    left outside every word next to it): the failure would reach the text unannounced."""
    true_words = json.loads(truth_path.read_text(encoding="utf-8"))["words"]
    bad = {
        i
        for i, (w, t) in enumerate(zip(words, true_words))
        if w.start_s is not None and min(w.end_s, t["end_s"]) - max(w.start_s, t["start_s"]) <= 0
    }
    if not bad:
        return False
    config = FeatureConfig()
    tracks = compute_tracks(samples, sr, config)
    vowels = tuple(Vowel(s, measure_vowel(s, tracks, config)) for s in vowel_spans(list(words)))
    judged, _ = assess(vowels, list(words), tracks, config.core_trim, QualityConfig())
    whole = {"low_snr", "bad_alignment", "speech_outside_words"}
    return any(v.span.word_index in bad and not (whole & set(v.quality.reasons)) for v in judged)


def _new_cell() -> dict:
    return {
        "errors": [],
        "exact": [],
        "inside": [],
        "n": 0,
        "files": 0,
        "fail_default": 0,
        "fail": 0,
        "silent": 0,
        "unflagged": 0,
    }


def _summary(cells) -> dict:
    total: dict = defaultdict(list)
    for c in cells:
        for key in ("errors", "exact", "inside"):
            total[key] += c[key]
        for key in ("n", "files", "fail_default", "fail", "silent", "unflagged"):
            total[key].append(c[key])
    return {
        "boundary_error_ms": 1000 * float(np.mean(total["errors"])),
        "exact_boundary_error_ms": 1000 * float(np.mean(total["exact"])),
        "median_boundary_error_ms": 1000 * float(np.median(total["errors"])),
        "midpoints_inside": float(np.mean(total["inside"])),
        "vowels": int(sum(total["n"])),
        "files": int(sum(total["files"])),
        "failed_default_beam": int(sum(total["fail_default"])),
        "failed_after_retries": int(sum(total["fail"])),
        "silent_failures": int(sum(total["silent"])),
        "silent_unflagged": int(sum(total["unflagged"])),
    }


def _row(label: str, s: dict, bold: bool = False) -> str:
    b = "**" if bold else ""
    return (
        f"| {label} | {b}{s['boundary_error_ms']:.1f}{b} | {s['median_boundary_error_ms']:.1f} | "
        f"{s['exact_boundary_error_ms']:.1f} | {b}{s['midpoints_inside']:.1%}{b} | {s['vowels']} | "
        f"{s['failed_default_beam']}/{s['files']} | {s['failed_after_retries']}/{s['files']} | "
        f"{b}{s['silent_failures']}{b} ({s['silent_unflagged']} unflagged) |"
    )


def fit_shifts(pairs: dict[str, dict[str, list[tuple[float, float]]]], ref_phone_s: float) -> dict:
    """Median signed error per neighbour class, rate-normalised as refine_vowels applies it (≥ 20 cases;
    vowel–vowel boundaries are left alone: their truth is a split of one voiced stretch)."""
    out = {}
    for side, sign in (("onset", 1), ("offset", -1)):
        table = {}
        for cls, v in sorted(pairs[side].items()):
            if cls in ("V", "?", "#") or len(v) < 20:
                continue
            table[cls] = round(
                sign * float(np.median([e / np.clip(m / ref_phone_s, 0.6, 1.6) for e, m in v])), 3
            )
        out[side] = table
    return out


def _collect_pairs(words, truth: list[TrueVowel], pairs, phone_means: list[float]) -> None:
    """Signed vowel-edge errors of a raw alignment by the class of the touching neighbour phone."""
    seq = [(wi, p) for wi, word in enumerate(words) for p in word.phones]
    durations = [p.end_s - p.start_s for _, p in seq if p.end_s > p.start_s]
    if not durations:
        return
    mean = float(np.mean(durations))
    phone_means.append(mean)
    for k, (wi, p) in enumerate(seq):
        candidates = [t for t in truth if t.word_index == wi]
        if not is_vowel(p.label) or not candidates:
            continue
        t = max(candidates, key=lambda t: min(p.end_s, t.end_s) - max(p.start_s, t.start_s))
        if k > 0 and abs(seq[k - 1][1].end_s - p.start_s) < 1e-6:
            pairs["onset"][refine.neighbour_class(seq[k - 1][1].label)].append((p.start_s - t.start_s, mean))
        if k + 1 < len(seq) and abs(seq[k + 1][1].start_s - p.end_s) < 1e-6:
            pairs["offset"][refine.neighbour_class(seq[k + 1][1].label)].append((p.end_s - t.end_s, mean))


def run_set(
    name: str,
    manifest: Path,
    fit: bool = False,
    decoder_options: dict | None = None,
    aligner_class: type = PocketsphinxAligner,
    refine_tables: dict | None = None,
) -> dict:
    """Score one corpus; ``aligner_class`` is the aligner measured (``--one-pass``: OnePassAligner),
    ``refine_tables`` the refinement's ``onset_shift_s``/``offset_shift_s`` instead of its own."""
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    options = dict(decoder_options or {})
    refine_tables = refine_tables or {}
    default_only = aligner_class(beams=BEAMS[:1], refine=False, decoder_options=options)
    retrying = aligner_class(refine=False, decoder_options=options)
    no_retry = aligner_class(refine=False, max_speech_outside_s=None, decoder_options=options)
    audio_s = cpu_s = 0.0
    cells = {v: defaultdict(_new_cell) for v in ("raw", "refined", "no_retry")}
    pairs = {"onset": defaultdict(list), "offset": defaultdict(list)}
    phone_means: list[float] = []
    started = time.perf_counter()
    for row in rows:
        audio = load_audio(manifest.parent / row["audio"])
        key = (row["voice"], row["rate_wpm"])
        try:
            default_only.align(audio.samples, audio.sr, row["text"])
            failed_default = 0
        except AlignmentError:
            failed_default = 1
        aligned = {}
        for name_, aligner in (("retrying", retrying), ("no_retry", no_retry)):
            cpu = time.process_time()
            try:
                aligned[name_] = aligner.align(audio.samples, audio.sr, row["text"])
            except AlignmentError:
                aligned[name_] = None
            if name_ == "retrying":
                cpu_s += time.process_time() - cpu
        audio_s += len(audio.samples) / audio.sr
        raw = aligned["retrying"]
        if raw is not None:  # the default aligner's own cost includes its refinement
            cpu = time.process_time()
            refined_words = refine.refine_vowels(audio.samples, audio.sr, raw, **refine_tables)
            cpu_s += time.process_time() - cpu
        truth_path = manifest.parent / row["truth"]
        truth = truth_vowels(truth_path)
        for variant in ("raw", "refined", "no_retry"):
            cell = cells[variant][key]
            cell["files"] += 1
            cell["fail_default"] += failed_default
            words = aligned["no_retry" if variant == "no_retry" else "retrying"]
            if words is None:
                cell["fail"] += 1
                continue
            if variant == "refined":
                words = refined_words
            elif variant == "no_retry":
                words = refine.refine_vowels(audio.samples, audio.sr, words, **refine_tables)
            cell["silent"] += silent_failure(words, truth_path)
            cell["unflagged"] += unflagged(audio.samples, audio.sr, words, truth_path)
            score = score_alignment(words, truth)
            cell["errors"] += score.errors_s
            cell["exact"] += score.exact_errors_s
            cell["inside"] += [score.midpoint_inside] * score.matched
            cell["n"] += score.matched
        if raw is not None and fit:
            _collect_pairs(raw, truth, pairs, phone_means)
    elapsed = time.perf_counter() - started

    print(f"\n### {name} set: {len(rows)} files\n")
    print(
        "| voice, wpm | boundary error (ms) | median (ms) | exact-truth error (ms) | midpoints inside | vowels | "
        "failed at default beam | failed after retries | silent failures |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for (voice, rate), c in sorted(cells["refined"].items()):
        print(_row(f"{voice}, {rate}", _summary([c])))
    raw = _summary(cells["raw"].values())
    refined = _summary(cells["refined"].values())
    before = _summary(cells["no_retry"].values())
    print(_row(f"**{name}, refined, no slip retry**", before, bold=True))
    print(_row(f"**{name}, raw pocketsphinx**", raw, bold=True))
    print(_row(f"**{name}, refined (default)**", refined, bold=True))
    print(
        f"\n{len(rows)} files aligned three times (default beam only; all beams without and with the "
        f"retry for slipped words) in {elapsed:.0f} s; the default aligner alone (all beams, slip retry, "
        f"refinement): {audio_s / cpu_s:.1f}× real time in CPU time"
        + (f", decoder options {options}" if options else "")
        + (f"; aligner {aligner_class.__name__}" if aligner_class is not PocketsphinxAligner else "")
        + (", refinement tables fitted on the tuning set with it" if refine_tables else "")
    )
    adapted = getattr(retrying, "adaptations", {})
    if adapted:
        print(
            f"speaker adaptation (vowelprompt.align.vtln): warps searched on {adapted['searched']} files, "
            f"one kept on {adapted['kept']} ({adapted['rescued']} of them had found no path unwarped)"
        )
    result = {"raw": raw, "refined": refined, "no_retry": before, **refined, "x_real_time": audio_s / cpu_s}
    result["adaptation"] = dict(adapted)
    if fit:
        ref = float(np.mean(phone_means))
        tables = fit_shifts(pairs, ref)
        print(
            f"\nREF_PHONE_S = {ref:.4f}\nONSET_SHIFT_S = {tables['onset']}\nOFFSET_SHIFT_S = {tables['offset']}"
        )
        result["fit"] = {"ref_phone_s": ref, **tables}
    return result


def _refined(aligner, tables: dict, samples, sr: int, text: str):
    return refine.refine_vowels(samples, sr, aligner.align(samples, sr, text), **tables)


def _align_all(align, audios) -> None:
    """``align(samples, sr, text)`` over ``audios`` ([(Audio, text)]); a file that fails still costs its time."""
    for audio, text in audios:
        with contextlib.suppress(AlignmentError):
            align(audio.samples, audio.sr, text)


def _manifests(folder: Path, names, voices=None, rates=None) -> dict[str, Path]:
    """The named sets, each synthesised by a fresh espeak-ng (so `--set heldout` alone gives the same audio as
    after tuning), with ``--voices``/``--rates`` overrides."""
    return {
        name: write_corpus_fresh(
            folder / name, SETS[name][0], voices or SETS[name][1], rates or SETS[name][2]
        )
        for name in names
    }


def _set_names(which: str) -> tuple[str, ...]:
    """The sets ``--set`` names."""
    return {"both": ("tuning", "heldout"), "all": ("tuning", "heldout", "heldout2")}.get(which, (which,))


def one_pass_run(folder: Path, args, options: dict) -> dict:
    """The one-pass aligner: its own refinement tables fitted on the tuning set (refine's are the two-pass
    aligner's, whose edges sit elsewhere), then the sets scored with them, then both aligners timed on each
    set in interleaved rounds (the machine's speed drifts between runs, so only a same-run ratio holds)."""
    from one_pass_aligner import OnePassAligner, interleaved_speeds, speed_line

    manifests = _manifests(folder, _set_names(args.which), args.voices, args.rates)
    tuning = manifests.get("tuning") or write_corpus_fresh(folder / "tuning", *SETS["tuning"])
    print("\n## fitting the refinement's shift tables for the one-pass aligner on the tuning set")
    fitted = run_set("tuning (fitting)", tuning, True, options, OnePassAligner)["fit"]
    tables = {"onset_shift_s": fitted["onset"], "offset_shift_s": fitted["offset"]}
    print("\n## the one-pass aligner with those tables")
    results = {
        name: run_set(f"{name}, one pass", manifest, False, options, OnePassAligner, tables)
        for name, manifest in manifests.items()
    }
    print("\n## speed, both aligners with their refinement, interleaved rounds (× real time in CPU time)\n")
    for name, manifest in manifests.items():
        rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
        audios = [(load_audio(manifest.parent / row["audio"]), row["text"]) for row in rows]
        two = PocketsphinxAligner(decoder_options=options)
        one = OnePassAligner(decoder_options=options, refine=False)  # refined with its own tables
        runs = {
            "two passes (default)": partial(_align_all, two.align, audios),
            "one pass": partial(_align_all, partial(_refined, one, tables), audios),
        }
        audio_s = sum(len(audio.samples) / audio.sr for audio, _ in audios)
        speeds = interleaved_speeds(runs, audio_s, 2)
        print(f"{name}: {speed_line(speeds)}")
        results[name]["speed"] = speeds
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=(*SETS, "both", "all"), default="all", dest="which")
    parser.add_argument(
        "--corpus", help="existing corpus folder (from make_synth_corpus.py) instead of --set"
    )
    parser.add_argument("--voices", nargs="+", help="override the set's voices")
    parser.add_argument("--rates", nargs="+", type=int, help="override the set's rates")
    parser.add_argument(
        "--decoder-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra pocketsphinx decoder setting for every aligner, e.g. ds=2 (speed against accuracy)",
    )
    parser.add_argument(
        "--one-pass",
        action="store_true",
        help="measure the experimental one-pass aligner (benchmarks/one_pass_aligner.py) instead, with "
        "refinement tables fitted on the tuning set for it",
    )
    parser.add_argument(
        "--fit", action="store_true", help="print refine shift tables fitted on this run (tuning set only)"
    )
    args = parser.parse_args(argv)
    options = {}
    for option in args.decoder_option:
        key, sep, value = option.partition("=")
        if not sep or not key:
            parser.error(f"--decoder-option needs KEY=VALUE, got {option!r}")
        try:  # a JSON value (2, 1e-30, true), else the text, as `predict --backend-option` reads them
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    try:  # pocketsphinx checks names and types when a decoder is built: say so in one line, up front
        PocketsphinxAligner(decoder_options=options)._decoder(BEAMS[0])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        parser.error(f"--decoder-option {options}: pocketsphinx refused it ({error})")
    if args.fit and args.which != "tuning":
        parser.error("--fit fits on the tuning set only: add --set tuning")
    if args.one_pass and (args.corpus or args.fit):
        parser.error("--one-pass fits its own tables on the tuning set: leave out --corpus and --fit")
    tmp = tempfile.TemporaryDirectory()
    results: dict = {}
    if args.one_pass:
        results = one_pass_run(Path(tmp.name), args, options)
    elif args.corpus:
        results["corpus"] = run_set(
            Path(args.corpus).name, Path(args.corpus) / "manifest.jsonl", args.fit, options
        )
    else:
        manifests = _manifests(Path(tmp.name), _set_names(args.which), args.voices, args.rates)
        for name, manifest in manifests.items():
            results[name] = run_set(name, manifest, args.fit, options)
    tmp.cleanup()
    return results


if __name__ == "__main__":
    main()
