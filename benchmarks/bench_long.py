"""Long recordings: a benchmark set's utterances joined into recordings and aligned whole (in pieces), by
aligners that piece differently, against the same utterances aligned one by one — speed and accuracy.

    python benchmarks/bench_long.py [--set tuning] [--aligners 30:30 10:5] [--continuous] [--group-s S]
                                    [--no-punctuation] [--uniform-pauses]

The set (vowelprompt/corpora/synth.py; synthesised in a fresh process) is joined in manifest order into one
recording (``--group-s S``: into recordings of about S seconds each) with 0.3 s pauses of quiet noise
(-70 dBFS, as ``bench_speed.py``'s long file: pocketsphinx mis-scores digital silence; each utterance keeps
espeak-ng's 0.2 s of digital silence at both ends, so that a pause steps from silence to noise and back,
unless ``--uniform-pauses`` gives those pads the same noise, as in a real recording, and the utterances
one by one are then cut from that recording), or with
``--continuous`` end to end without pauses (each utterance cut to its speech, so that pieces must mostly be
cut between words with no pause between them); espeak-ng's true vowel times move with each utterance. An
aligner ``MAX:PIECE`` aligns a recording over MAX s in pieces of at most PIECE s (``max_piece_s``,
``piece_s``); the default compares the previous release (30:30) with the current default (10:5). Every
alignment runs in this process pinned to one core; "×" is seconds of audio per CPU second. Columns: mean
vowel-boundary error, vowel midpoints inside the true vowel, vowels compared, pieces (or utterances), and
pocketsphinx runs (each is the word-level and the state-level pass over a piece or a stretch of it: beams,
the slip retry and the squeeze retry add runs; the word pass over a whole long recording is not counted),
utterances or recordings that failed to align (an error: none of their vowels is compared), and the words of
pieces that did not align (kept without phones, the rest of the recording aligned). Where the word passes over
a recording (with optional silence, then without) find no path (e.g. ``--set heldout5``, many of whose
utterances no beam aligns), its words are found window by window (``vowelprompt/align/windows.py``), and the
recording fails only where that finds under 90 % of them (``--set heldout9``); with ``--search-parts`` they
are first searched by parts (``vowelprompt/align/wordsearch.py``, experimental). The "×" column includes both.
The transcripts keep their punctuation, from which the aligners know where sentences end
(``vowelprompt/align/sentences.py``); ``--no-punctuation`` adds a row per aligner without it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))

from bench_alignment import truth_vowels

from vowelprompt.align.pocketsphinx import ANALYSIS_SR, PocketsphinxAligner, tokenize
from vowelprompt.align.score import TrueVowel, score_alignment
from vowelprompt.audio import load_audio
from vowelprompt.corpora.synth import PAD_S, SETS, write_corpus_fresh
from vowelprompt.errors import AlignmentError
from vowelprompt.io import read_manifest
from vowelprompt.records import Word

PAUSE_S = 0.3
#: The pauses' noise (standard deviation: about -70 dBFS, a quiet room).
PAUSE_NOISE = 3e-4


def uniform(samples: np.ndarray, utterances, pad_s: float = PAD_S) -> tuple[np.ndarray, list]:
    """``samples`` (a :func:`joined` recording with pauses) with each utterance's first and last ``pad_s``
    (espeak-ng's digital silence) given the pauses' noise, so that every pause is one noise floor, and the
    utterances cut from it (aligned one by one, they have the same noise at their ends as the recording)."""
    rng, out = np.random.default_rng(1), samples.copy()
    pad = int(pad_s * ANALYSIS_SR)
    for offset, part, _ in utterances:
        for first in (offset, offset + len(part) - pad):
            out[first : first + pad] += (PAUSE_NOISE * rng.standard_normal(pad)).astype(np.float32)
    return out, [(offset, out[offset : offset + len(part)], text) for offset, part, text in utterances]


def joined(items, continuous: bool = False):
    """(samples at the aligner's rate, transcript, true vowels with word indices over the whole recording, and
    each utterance's (first sample in the recording, samples, text)). ``continuous``: each utterance cut to its
    speech (espeak-ng's first and last phone, ±20 ms) and no pause between them, so that pieces must mostly
    be cut between words without a pause."""
    rng = np.random.default_rng(0)
    parts, texts, truth, utterances, offset, offset_w = [], [], [], [], 0, 0
    for utt in items:
        audio = load_audio(utt.audio)
        assert audio.sr == ANALYSIS_SR
        truth_path = Path(utt.audio).with_suffix(".truth.json")
        first, last = 0, len(audio.samples)
        if continuous:
            words = json.loads(truth_path.read_text(encoding="utf-8"))["words"]
            first = max(0, int((words[0]["start_s"] - 0.02) * audio.sr))
            last = int((words[-1]["end_s"] + 0.02) * audio.sr)
        samples = audio.samples[first:last]
        shift_s = (offset - first) / audio.sr
        truth += [
            TrueVowel(t.start_s + shift_s, t.end_s + shift_s, t.word_index + offset_w, t.exact)
            for t in truth_vowels(truth_path)
        ]
        utterances.append((offset, samples, utt.text))
        pause = PAUSE_NOISE * rng.standard_normal(0 if continuous else int(PAUSE_S * audio.sr))
        pause = pause.astype(np.float32)
        parts += [samples, pause]
        texts.append(utt.text)
        offset += len(samples) + len(pause)
        offset_w += len(utt.text.split())
    return np.concatenate(parts), " ".join(texts), truth, utterances


class Counting(PocketsphinxAligner):
    """The default aligner, counting its pocketsphinx runs (``_run`` is both passes over one stretch)."""

    runs = 0
    pieces = 0
    failed = 0

    @staticmethod
    def _run(decoder, pcm, text):
        Counting.runs += 1
        return PocketsphinxAligner._run(decoder, pcm, text)

    def _cuts(self, words, pcm, *args):
        cuts = super()._cuts(words, pcm, *args)
        Counting.pieces = len(cuts)
        return cuts


def aligner_spec(text: str) -> tuple[float, float]:
    """``MAX:PIECE`` → (max_piece_s, piece_s)."""
    longest, _, piece = text.partition(":")
    return float(longest), float(piece or longest)


def groups(items, group_s: float | None):
    """The set's utterances in consecutive groups of at least ``group_s`` seconds (None: one group)."""
    if group_s is None:
        return [items]
    out, current, length = [], [], 0.0
    for utt in items:
        current.append(utt)
        length += sf.info(utt.audio).duration
        if length >= group_s:
            out, current, length = [*out, current], [], 0.0
    return out + ([current] if current else [])


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="tuning", choices=SETS, dest="which")
    parser.add_argument(
        "--aligners",
        nargs="+",
        type=aligner_spec,
        default=[(30.0, 30.0), (10.0, 5.0)],
        metavar="MAX:PIECE",
        help="aligners to compare: recordings over MAX s aligned in pieces of at most PIECE s "
        "(default 30:30, the previous release, and 10:5, the default)",
    )
    parser.add_argument("--files", type=int, default=None, help="the set's first N utterances (default all)")
    parser.add_argument(
        "--continuous",
        action="store_true",
        help="no pauses: each utterance cut to its speech, joined end to end",
    )
    parser.add_argument(
        "--group-s",
        type=float,
        default=None,
        help="join consecutive utterances into recordings of about this length instead of one recording",
    )
    parser.add_argument(
        "--search-parts",
        action="store_true",
        help="the aligners search a recording whose word pass finds no path by parts (experimental, off by default)",
    )
    parser.add_argument(
        "--uniform-pauses",
        action="store_true",
        help="give each utterance's 0.2 s of digital silence at its ends the pauses' noise (one noise floor "
        "through every pause, as in a real recording; without it a pause steps from silence to noise)",
    )
    parser.add_argument(
        "--no-punctuation",
        action="store_true",
        help="also align each recording with its transcript's punctuation removed: no sentence end is known "
        "(vowelprompt/align/sentences.py), as before it was read",
    )
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    items = read_manifest(write_corpus_fresh(Path(tmp.name), *SETS[args.which]))[: args.files]
    recordings = [joined(group, args.continuous) for group in groups(items, args.group_s)]
    if args.uniform_pauses and not args.continuous:
        made = [(uniform(samples, utts), text, truth) for samples, text, truth, utts in recordings]
        recordings = [(samples, text, truth, utts) for (samples, utts), text, truth in made]
    audio_s = sum(len(samples) for samples, *_ in recordings) / ANALYSIS_SR
    both_cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(both_cores)})

    def run(label: str, align) -> dict:
        """``align(samples, text, utterances)`` over every recording: speed, accuracy, runs, pieces."""
        runs = pieces = seconds = failed = unaligned = 0
        errors, inside, matched = 0.0, 0.0, 0
        for samples, text, truth, utterances in recordings:
            Counting.runs, Counting.pieces, Counting.failed = 0, 1, 0
            start = time.process_time()
            try:
                words = align(samples, text, utterances)
            except AlignmentError:
                words, Counting.failed = [], 1
            seconds += time.process_time() - start
            failed += Counting.failed
            unaligned += sum(w.pron_source == "unaligned" for w in words)
            score = score_alignment(words, truth)
            if score.matched:
                errors += score.boundary_error_s * score.matched
                inside += score.midpoint_inside * score.matched
                matched += score.matched
            runs, pieces = runs + Counting.runs, pieces + Counting.pieces
        return {
            "alignment": label,
            "x_rt": audio_s / seconds,
            "error_ms": 1000 * errors / matched if matched else float("nan"),
            "inside": inside / matched if matched else float("nan"),
            "vowels": matched,
            "runs": runs,
            "pieces": pieces,
            "failed": failed,
            "unaligned_words": unaligned,
        }

    def one_by_one(_samples, _text, utterances):
        aligner, words, failed = Counting(), [], 0
        for offset, part, part_text in utterances:
            try:
                words += [shift(w, offset / ANALYSIS_SR) for w in aligner.align(part, ANALYSIS_SR, part_text)]
            except AlignmentError:  # kept in place, so that later words keep their indices
                failed += 1
                words += [Word(token, None, None, (), "failed") for token in tokenize(part_text)]
        Counting.pieces, Counting.failed = len(utterances), failed
        return words

    with contextlib.suppress(AlignmentError):  # one that does not align loads them all the same
        Counting().align(*_warm(items))  # dictionary, G2P tables
    rows = [run("its utterances one by one", one_by_one)]
    for longest, piece in args.aligners:
        aligner = Counting(max_piece_s=longest, piece_s=piece, search_parts=args.search_parts)
        label = f"over {longest:g} s in pieces ≤ {min(longest, piece):g} s"
        rows.append(run(label, lambda samples, text, _, a=aligner: a.align(samples, ANALYSIS_SR, text)))
        if args.no_punctuation:
            rows.append(run(f"{label}, transcript without punctuation", functools.partial(bare, aligner)))
    os.sched_setaffinity(0, both_cores)
    tmp.cleanup()
    lengths = [len(samples) / ANALYSIS_SR for samples, *_ in recordings]
    print(
        f"{args.which} set: {len(items)} utterances joined into {len(recordings)} recording(s) of "
        f"{min(lengths):.1f}–{max(lengths):.1f} s, {audio_s / 60:.1f} min in all "
        f"({'end to end, no pauses' if args.continuous else f'{PAUSE_S} s pauses'}"
        f"{', uniform' if args.uniform_pauses and not args.continuous else ''}; one core, CPU time)\n"
    )
    print(
        "| alignment | × real time | boundary error | inside | vowels | pieces | pocketsphinx runs "
        "| failed (raised) | words of failed pieces |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['alignment']} | {r['x_rt']:.1f}× | {_ms(r['error_ms'])} | {_share(r['inside'])} | {r['vowels']} "
            f"| {r['pieces']} | {r['runs']} | {r['failed']} | {r['unaligned_words']} |"
        )
    return rows


def bare(aligner, samples, text, _utterances):
    """``aligner``'s words over ``samples`` with ``text`` without its punctuation."""
    return aligner.align(samples, ANALYSIS_SR, " ".join(tokenize(text)))


def _ms(value: float) -> str:
    return "—" if np.isnan(value) else f"{value:.1f} ms"


def _share(value: float) -> str:
    return "—" if np.isnan(value) else f"{value:.1%}"


def shift(word, offset_s: float):
    if word.start_s is None:
        return word
    phones = tuple(replace(p, start_s=p.start_s + offset_s, end_s=p.end_s + offset_s) for p in word.phones)
    return replace(word, start_s=word.start_s + offset_s, end_s=word.end_s + offset_s, phones=phones)


def _warm(items):
    audio = load_audio(items[0].audio)
    return audio.samples, audio.sr, items[0].text


if __name__ == "__main__":
    main()
