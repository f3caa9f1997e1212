"""Finding a forced alignment that slid a word off its sound, from frame energy alone.

pocketsphinx's grammar lets silence in before, between and after the words. On voices unlike its training
speakers it sometimes puts that silence over a short word ("the", "to", "of") and squeezes the word into its
neighbour: the file aligns without an error, but speech as loud as the words is left outside every word. The
aligner measures that (:func:`speech_outside_s`, the same criterion as the quality check's
``speech_outside_words``: within 6 dB of the words' median frame level and 10 dB above the noise floor) and,
past :data:`MAX_SPEECH_OUTSIDE_S`, aligns again without optional silence over the speech alone
(:func:`speech_span`: leading and trailing silence cut by energy), where no word can be pushed into a pause.
More than :data:`MAX_SLIP_SHARE` of the words' own length outside them is not a slipped word but a
transcript that lacks words: that alignment is kept as it is (the quality check then drops the descriptors
beside the unaligned speech, and the coverage check refuses a transcript that covers too little).
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.01

#: Seconds of word-level-loud speech outside every aligned word above which the aligner retries without
#: optional silence. Chosen on the alignment benchmark's tuning set (benchmarks/bench_alignment.py); the
#: same 80 ms as the quality check's ``max_speech_outside_s``.
MAX_SPEECH_OUTSIDE_S = 0.08
#: Above this share of the time inside the words, speech outside them is missing words, not a slip: the
#: tuning set's slips left at most 13 % outside, so this is about twice that.
MAX_SLIP_SHARE = 0.25
#: The retry is kept only if its longest phone is less than this much longer than the first alignment's: a
#: word slid back into place keeps its phones' lengths (growth ≤ 0.14 s on the tuning sets), while a laugh,
#: cough or burst of noise between two words, forced into a word without silence to take it, makes one
#: phone swallow it (≥ 0.15 s for every laugh of benchmarks/bench_robustness.py --set tuning).
MAX_PHONE_GROWTH_S = 0.15
#: Frames within this many dB of the loudest frame are speech when cutting leading and trailing silence.
SPEECH_DB = 30.0
#: Kept either side of the speech when cutting (fricatives and stop releases start quietly).
MARGIN_S = 0.05


def frame_db(samples: np.ndarray, sr: int) -> np.ndarray:
    """Power (dBFS) of consecutive 10 ms frames."""
    hop = int(sr * FRAME_S)
    n = len(samples) // hop
    frames = np.asarray(samples[: n * hop], dtype=np.float64).reshape(n, hop)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def speech_outside_s(db: np.ndarray, spans, speech_outside_db: float = 6.0) -> float:
    """Seconds of frames outside every (start_s, end_s) span that are as loud as the spans' speech: within
    ``speech_outside_db`` of the median frame level inside them and 10 dB above the noise floor (the mean
    power of the quietest tenth of the outside frames), so that noise in pauses does not count.

    >>> db = np.array([-90.0] * 20 + [-20.0] * 50 + [-90.0] * 30)
    >>> speech_outside_s(db, [(0.2, 0.7)]), speech_outside_s(db, [(0.4, 0.7)])
    (0.0, 0.2)
    """
    times = (np.arange(len(db)) + 0.5) * FRAME_S
    inside = np.zeros(len(db), dtype=bool)
    for start, end in spans:
        inside |= (times >= start) & (times < end)
    if not inside.any() or inside.all():
        return 0.0
    outside = np.sort(db[~inside])
    quietest = outside[: max(1, int(round(0.1 * outside.size)))]
    floor = 10 * np.log10(np.mean(10 ** (quietest / 10)))
    loud = (db > np.median(db[inside]) - speech_outside_db) & (db > floor + 10) & ~inside
    return round(float(loud.sum()) * FRAME_S, 3)


def speech_span(db: np.ndarray, sr: int) -> tuple[int, int]:
    """(first, last) sample of the speech: frames within :data:`SPEECH_DB` of the loudest, with
    :data:`MARGIN_S` either side.

    >>> speech_span(np.array([-90.0] * 20 + [-20.0] * 50 + [-90.0] * 30), 100)
    (15, 75)
    """
    hop = int(sr * FRAME_S)
    loud = np.flatnonzero(db > db.max() - SPEECH_DB)
    margin = int(round(MARGIN_S / FRAME_S))
    first = max(0, int(loud[0]) - margin)
    last = min(len(db), int(loud[-1]) + 1 + margin)
    return first * hop, last * hop


def inside_s(db: np.ndarray, spans) -> float:
    """Seconds of frames inside the (start_s, end_s) spans."""
    times = (np.arange(len(db)) + 0.5) * FRAME_S
    inside = np.zeros(len(db), dtype=bool)
    for start, end in spans:
        inside |= (times >= start) & (times < end)
    return round(float(inside.sum()) * FRAME_S, 3)


def slipped(db: np.ndarray, spans, max_outside_s: float = MAX_SPEECH_OUTSIDE_S) -> bool:
    """True if an alignment's word spans look slid off their sound: more than ``max_outside_s`` of speech
    outside every word, but no more than :data:`MAX_SLIP_SHARE` of the time inside them.

    >>> db = np.array([-90.0] * 20 + [-20.0] * 50 + [-90.0] * 30)
    >>> slipped(db, [(0.2, 0.7)]), slipped(db, [(0.3, 0.7)]), slipped(db, [(0.6, 0.7)])
    (False, True, False)
    """
    outside = speech_outside_s(db, spans)
    return max_outside_s < outside <= MAX_SLIP_SHARE * inside_s(db, spans)


def longest_phone_s(segments) -> float:
    """The longest phone of (start_s, end_s, phones) word segments (0 without phones)."""
    return max((p.end_s - p.start_s for _, _, phones in segments for p in phones), default=0.0)
