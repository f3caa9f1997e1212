"""Finding a forced alignment that slid a word off its sound, from frame energy alone.

pocketsphinx's grammar lets silence in before, between and after the words. On voices unlike its training
speakers it sometimes puts that silence over a short word ("the", "to", "of") and squeezes the word into its
neighbour: the file aligns without an error, but speech as loud as the words is left outside every word. The
aligner measures that (:func:`speech_outside_s`, the same criterion as the quality check's
``speech_outside_words``: within 6 dB of the words' median frame level and 10 dB above the noise floor) and,
past :data:`MAX_SPEECH_OUTSIDE_S` (or :data:`MAX_EDGE_OUTSIDE_S` before the first word or after the last),
aligns again without optional silence over the speech alone (:func:`speech_span`: leading and trailing
silence cut by energy), where no silence can take a word's place. Real pauses between words are kept: the
speech is cut in them (:func:`pause_cuts`) and each piece aligned alone, so that no word is stretched over a
pause; a pause the cuts could not keep out (a word slid under the silence before it, "at [nine] and", or one
shorter than the cuts' 100 ms) is taken out of the words beside it afterwards (:func:`pauses_out`).
More than :data:`MAX_SLIP_SHARE` of the words' own length outside them is not a slipped word but a
transcript that lacks words: that alignment is kept as it is (the quality check then drops the descriptors
beside the unaligned speech, and the coverage check refuses a transcript that covers too little).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

FRAME_S = 0.01

#: Seconds of word-level-loud speech outside every aligned word above which the aligner retries without
#: optional silence: three frames, pocketsphinx's shortest phone, as at the edges (MAX_EDGE_OUTSIDE_S). It was
#: 60 ms (chosen on the tuning set when 60 and 80 ms tied, 30–120 ms tried; 40 and 50 ms were worse then),
#: and slips that left 30–60 ms outside went unretried (5 of the silent failures of development sets 1–18).
#: Chosen again on the tuning set with the retry's shorter pauses left out (MIN_RETRY_PAUSE_S): 20, 30, 40,
#: 50 and 60 ms gave 9.98, 9.98, 10.00, 10.02 and 10.08 ms (benchmarks/bench_alignment.py --set tuning). The
#: quality check keeps its own 60 ms (:class:`vowelprompt.quality.QualityConfig`).
MAX_SPEECH_OUTSIDE_S = 0.03
#: Seconds of such speech before the first word or after the last above which the aligner retries too:
#: three frames, pocketsphinx's shortest phone. A short first word ("A cold wind…") covered by leading
#: silence leaves only its own length outside (40 ms on the second held-out set, where it was found), and
#: at the edges no neighbouring pause can be mistaken for it. On the tuning set it retried 7 of 160 files
#: and changed no figure of bench_alignment.py; on the second held-out set it put back both such words.
MAX_EDGE_OUTSIDE_S = 0.03
#: Above this share of the time inside the words, speech outside them is missing words, not a slip. It was
#: 0.25 (twice the most the tuning set's slips left outside, 13 %) until slow speech on voices the model
#: matches poorly was found to leave more: at 125–128 wpm, long vowels taken as silence left 0.7–1.1 s outside
#: 3 s of words (held-out set 10's en-029+boris, 102 ms mean error). At 0.5, on the development sets
#: (benchmarks/bench_alignment.py): set 10 28.4 → 23.1 ms, 93.1 → 95.1 % inside, 11 → 5 silent failures;
#: set 11 12.5 → 12.3 ms, 2 → 1; the tuning set and set 5 unchanged; wrong transcripts
#: (benchmarks/bench_transcripts.py, tuning) one more unnoticed of 160 (22 → 23). A transcript that lacks
#: words is still caught where its retry must stretch a phone over them (MAX_PHONE_GROWTH_S).
MAX_SLIP_SHARE = 0.5
#: The retry is kept only if its longest phone is less than this much longer than the first alignment's: a
#: word slid back into place keeps its phones' lengths (growth ≤ 0.14 s on the tuning sets), while a laugh,
#: cough or burst of noise between two words, forced into a word without silence to take it, makes one
#: phone swallow it (≥ 0.15 s for every laugh of benchmarks/bench_robustness.py --set tuning).
MAX_PHONE_GROWTH_S = 0.15
#: Frames within this many dB of the loudest frame are speech when cutting leading and trailing silence.
SPEECH_DB = 30.0
#: Kept either side of the speech when cutting (fricatives and stop releases start quietly).
MARGIN_S = 0.05
#: A quiet stretch between two aligned words at least this long is a real pause: the retry keeps it out of
#: the words by aligning the speech on either side of it separately (without optional silence the decoder
#: would stretch a neighbouring phone over it).
MIN_PAUSE_S = 0.1
#: A quiet stretch at least this long that a retry put into two neighbouring words is a pause it left out of
#: them (:func:`pauses_out`), once the retry is kept. At 100 ms (MIN_PAUSE_S) a retry put the 50–100 ms
#: pauses of fast speech into the vowel after them, where the first pass had left them out. Chosen on the
#: tuning set (benchmarks/bench_alignment.py --set tuning, with the 30 ms trigger: 100, 70, 50, 30 ms gave
#: 10.13, 10.07, 9.98, 9.97 ms); 30 ms, the best there, cut 30–40 ms closures of /d/ and /k/ the retry had
#: put inside a vowel on development set 10 (a vowel of 30 ms left, then a wrong warped alignment kept).
MIN_RETRY_PAUSE_S = 0.05
#: Stops and affricates (ARPAbet): their closure is as quiet as a pause. From 30 ms on, quiet runs left out
#: of a retry's words were mostly closures (held-out set 10's "you turn", "music down"), and cutting them
#: shortened the stop's neighbours.
CLOSURES = frozenset({"P", "B", "T", "D", "K", "G", "CH", "JH"})
#: A gap between words with more loud frames than this (as :func:`speech_outside_s` counts them) holds a
#: slipped word as well as the pause, and is not cut (:func:`pause_cuts`).
MAX_LOUD_IN_PAUSE = 2
#: Frames less than this many dB above the noise floor are quiet (as in :func:`speech_outside_s`).
QUIET_DB = 10.0


def frame_db(samples: np.ndarray, sr: int) -> np.ndarray:
    """Power (dBFS) of consecutive 10 ms frames."""
    hop = int(sr * FRAME_S)
    n = len(samples) // hop
    frames = np.asarray(samples[: n * hop], dtype=np.float64).reshape(n, hop)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def noise_floor_db(rms_db: np.ndarray, quantile: float = 0.1) -> float | None:
    """dB of the mean power of the quietest ``quantile`` of frames (``None`` without frames).

    >>> round(noise_floor_db(np.array([-60.0] * 10 + [-20.0] * 90)), 1)
    -60.0
    """
    if rms_db.size == 0:
        return None
    k = max(1, int(round(quantile * rms_db.size)))
    quietest = np.partition(rms_db, k - 1)[:k]
    return float(10 * np.log10(np.mean(10 ** (quietest / 10))))


def _inside(db: np.ndarray, spans) -> np.ndarray:
    times = (np.arange(len(db)) + 0.5) * FRAME_S
    inside = np.zeros(len(db), dtype=bool)
    for start, end in spans:
        inside |= (times >= start) & (times < end)
    return inside


def _word_loud(
    db: np.ndarray, inside: np.ndarray, floor: float, speech_outside_db: float = 6.0
) -> np.ndarray:
    """Frames as loud as the words' speech: within ``speech_outside_db`` of the median frame level inside
    the words and :data:`QUIET_DB` above the noise ``floor`` (:func:`noise_floor_db` of the frames outside
    them)."""
    return (db > np.median(db[inside]) - speech_outside_db) & (db > floor + QUIET_DB)


def speech_outside_s(db: np.ndarray, spans, speech_outside_db: float = 6.0) -> float:
    """Seconds of frames outside every (start_s, end_s) span that are as loud as the spans' speech: within
    ``speech_outside_db`` of the median frame level inside them and 10 dB above the noise floor (the mean
    power of the quietest tenth of the outside frames), so that noise in pauses does not count.

    >>> db = np.array([-90.0] * 20 + [-20.0] * 50 + [-90.0] * 30)
    >>> speech_outside_s(db, [(0.2, 0.7)]), speech_outside_s(db, [(0.4, 0.7)])
    (0.0, 0.2)
    """
    return _seconds(_loud_outside(db, spans, speech_outside_db))


def _loud_outside(db: np.ndarray, spans, speech_outside_db: float = 6.0) -> np.ndarray:
    """The frames outside every span that are as loud as the spans' speech (see :func:`speech_outside_s`);
    none when no frame, or every frame, is inside a span."""
    inside = _inside(db, spans)
    if not inside.any() or inside.all():
        return np.zeros(len(db), dtype=bool)
    return _word_loud(db, inside, noise_floor_db(db[~inside]), speech_outside_db) & ~inside


def _at_edges(db: np.ndarray, spans) -> np.ndarray:
    """The frames before the first span and after the last (none without spans)."""
    if not spans:
        return np.zeros(len(db), dtype=bool)
    times = (np.arange(len(db)) + 0.5) * FRAME_S
    return (times < spans[0][0]) | (times >= spans[-1][1])


def _seconds(frames: np.ndarray) -> float:
    return round(float(frames.sum()) * FRAME_S, 3)


def edge_speech_outside_s(db: np.ndarray, spans, speech_outside_db: float = 6.0) -> float:
    """Like :func:`speech_outside_s`, counting only the frames before the first span and after the last.

    >>> db = np.array([-90.0] * 20 + [-20.0] * 50 + [-90.0] * 30)
    >>> late, on_time = [(0.24, 0.4), (0.5, 0.7)], [(0.2, 0.4), (0.5, 0.7)]
    >>> edge_speech_outside_s(db, late), edge_speech_outside_s(db, on_time)
    (0.04, 0.0)
    """
    return _seconds(_loud_outside(db, spans, speech_outside_db) & _at_edges(db, spans))


def loud_frames(db: np.ndarray, loudest: float | None = None) -> np.ndarray:
    """Which frames are speech: within :data:`SPEECH_DB` of the loudest (of ``db``, or ``loudest`` dB when
    given): the one threshold that :func:`speech_span`, :func:`speech_coverage` and the cuts of a long
    recording (:func:`~vowelprompt.align.pieces.quiet_frames`) share.

    >>> loud_frames(np.array([-90.0, -20.0, -50.0, -49.0])).tolist(), loud_frames(np.array([])).tolist()
    ([False, True, False, True], [])
    """
    top = loudest if loudest is not None else db.max() if len(db) else 0.0
    return db > top - SPEECH_DB


def speech_span(db: np.ndarray, sr: int, loudest: float | None = None) -> tuple[int, int]:
    """(first, last) sample of the speech: frames within :data:`SPEECH_DB` of the loudest (of ``db``, or
    ``loudest`` dB when given), with :data:`MARGIN_S` either side; the whole of ``db`` if none is.

    >>> speech_span(np.array([-90.0] * 20 + [-20.0] * 50 + [-90.0] * 30), 100)
    (15, 75)
    """
    hop = int(sr * FRAME_S)
    loud = np.flatnonzero(loud_frames(db, loudest))
    if loud.size == 0:
        return 0, len(db) * hop
    margin = int(round(MARGIN_S / FRAME_S))
    first = max(0, int(loud[0]) - margin)
    last = min(len(db), int(loud[-1]) + 1 + margin)
    return first * hop, last * hop


def pause_cuts(db: np.ndarray, spans, min_pause_s: float = MIN_PAUSE_S) -> list[tuple[int, int]]:
    """Where to cut the speech so that a retry keeps real pauses out of the words: (index of the first word
    after the cut, frame of the cut) for every gap between two aligned words that holds at least
    ``min_pause_s`` of consecutive quiet frames (under :data:`QUIET_DB` above the noise floor), cut in the
    middle of its longest quiet run.

    A gap that also holds speech as loud as the words' (more than :data:`MAX_LOUD_IN_PAUSE` frames) holds a
    slipped word beside the pause, and is not cut: which side that word belongs to is not known (choosing
    by the pieces' acoustic scores was tried: on the tuning set it chose wrong 4 times, each a silent
    failure).

    >>> db = np.array([-90.0] * 10 + [-20.0] * 30 + [-90.0] * 20 + [-20.0] * 30 + [-90.0] * 10)
    >>> pause_cuts(db, [(0.1, 0.4), (0.6, 0.9)]), pause_cuts(db, [(0.1, 0.48), (0.52, 0.9)])
    ([(1, 50)], [])
    >>> pause_cuts(db, [(0.0, 0.1), (0.1, 0.4), (0.7, 0.9)])  # 0.6–0.7 is speech outside the words
    []
    """
    inside = _inside(db, spans)
    if not inside.any() or inside.all():
        return []
    floor = noise_floor_db(db[~inside])
    quiet = db < floor + QUIET_DB
    loud = _word_loud(db, inside, floor)
    need = int(round(min_pause_s / FRAME_S))
    cuts = []
    for i in range(1, len(spans)):
        a, b = int(round(spans[i - 1][1] / FRAME_S)), min(int(round(spans[i][0] / FRAME_S)), len(db))
        if loud[a:b].sum() > MAX_LOUD_IN_PAUSE:
            continue
        start, length = longest_run(quiet[a:b], last=True)
        if length >= need:
            cuts.append((i, a + start + length // 2))
    return cuts


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True in ``flags``, in order.

    >>> runs(np.array([True, False, True, True])), runs(np.array([], dtype=bool))
    ([(0, 1), (2, 2)], [])
    """
    edges = np.diff(np.concatenate([[0], np.asarray(flags, dtype=np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b - a)) for a, b in zip(starts, ends)]


def longest_run(flags: np.ndarray, last: bool = False) -> tuple[int, int]:
    """(start, length) of the longest run of True in ``flags``, the first of equals (``last``: the last), or
    (0, 0) if there is none.

    >>> flags = np.array([True, True, False, True, True])
    >>> longest_run(flags), longest_run(flags, last=True), longest_run(np.zeros(3, dtype=bool))
    ((0, 2), (3, 2), (0, 0))
    """
    return max(runs(flags), key=lambda r: (r[1], r[0] if last else -r[0]), default=(0, 0))


def inside_s(db: np.ndarray, spans) -> float:
    """Seconds of frames inside the (start_s, end_s) spans."""
    return round(float(_inside(db, spans).sum()) * FRAME_S, 3)


def slipped(db: np.ndarray, spans, max_outside_s: float = MAX_SPEECH_OUTSIDE_S) -> bool:
    """True if an alignment's word spans look slid off their sound: more than ``max_outside_s`` of speech
    outside every word, but no more than :data:`MAX_SLIP_SHARE` of the time inside them.

    >>> db = np.array([-90.0] * 20 + [-20.0] * 50 + [-90.0] * 30)
    >>> slipped(db, [(0.2, 0.7)]), slipped(db, [(0.3, 0.7)]), slipped(db, [(0.6, 0.7)])
    (False, True, False)
    """
    loud = _loud_outside(db, spans)  # measured once for the whole stretch and for its edges
    outside = _seconds(loud)
    if outside > MAX_SLIP_SHARE * inside_s(db, spans):
        return False
    return outside > max_outside_s or _seconds(loud & _at_edges(db, spans)) > MAX_EDGE_OUTSIDE_S


def pause_frames(db: np.ndarray) -> np.ndarray:
    """Which frames are a pause: under :data:`QUIET_DB` above the noise floor of all the frames
    (:func:`noise_floor_db`) and not speech by :func:`loud_frames` (:data:`SPEECH_DB` below the loudest).
    Under babble or music at 5–10 dB SNR the floor is the noise, and speech within 10 dB of it would count
    as a pause by the first test alone.

    >>> pause_frames(np.array([-90.0, -20.0, -85.0, -45.0])).tolist()
    [True, False, True, False]
    """
    if len(db) == 0:
        return np.zeros(0, dtype=bool)
    return (db < noise_floor_db(db) + QUIET_DB) & ~loud_frames(db)


def longest_phone_s(segments) -> float:
    """The longest phone of (start_s, end_s, phones) word segments (0 without phones)."""
    return max((p.end_s - p.start_s for _, _, phones in segments for p in phones), default=0.0)


def pauses_out(segments, db: np.ndarray, min_pause_s: float = MIN_RETRY_PAUSE_S):
    """(start_s, end_s, phones) word segments with a pause that two neighbouring words took in between them
    (a run of at least ``min_pause_s`` of :func:`pause_frames` in the last phone of the one and the first
    phone of the other) left out of both: the first word now ends where the pause starts, the second starts
    where it ends, and each phone keeps a frame. Without optional silence, a retry puts a pause it was not
    cut at into the words beside it. Quiet frames inside a stop or affricate (:data:`CLOSURES`) are its
    closure, not a pause, and stay in it.

    >>> from vowelprompt.records import Phone
    >>> db = np.array([-20.0] * 12 + [-90.0] * 20 + [-20.0] * 8)
    >>> words = [(0.0, 0.1, [Phone("N", 0.0, 0.1, -1.0)]), (0.1, 0.4, [Phone("AH0", 0.1, 0.4, -1.0)])]
    >>> [(a, b, [(p.start_s, p.end_s) for p in ph]) for a, b, ph in pauses_out(words, db)]
    [(0.0, 0.12, [(0.0, 0.12)]), (0.32, 0.4, [(0.32, 0.4)])]
    >>> stop = [words[0], (0.1, 0.4, [Phone("T", 0.1, 0.33, -1.0), Phone("AH0", 0.33, 0.4, -1.0)])]
    >>> pauses_out(stop, db) == stop
    True
    """
    quiet, loud = pause_frames(db), loud_frames(db)
    need, out = int(round(min_pause_s / FRAME_S)), [list(segment) for segment in segments]
    for left, right in itertools.pairwise(out):
        if not (left[2] and right[2]):
            continue
        last, first = left[2][-1], right[2][0]
        a, b = int(round(last.start_s / FRAME_S)) + 1, int(round(first.end_s / FRAME_S)) - 1
        flags = quiet[a:b].copy()
        for phone in (last, first):
            if phone.label.rstrip("012") in CLOSURES:
                i, j = (max(0, int(round(t / FRAME_S)) - a) for t in (phone.start_s, phone.end_s))
                flags[i:j] = False
        start, length = longest_run(flags, last=True)
        before, after = loud[a - 1 : a + start], loud[a + start + length : b + 1]
        if length < need or not (before.any() and after.any()):
            continue  # too short, or not between speech (the silence before the first word, say)
        cut_a, cut_b = round((a + start) * FRAME_S, 3), round((a + start + length) * FRAME_S, 3)
        left[1], left[2] = cut_a, [*left[2][:-1], replace(last, end_s=cut_a)]
        right[0], right[2] = cut_b, [replace(first, start_s=cut_b), *right[2][1:]]
    return [tuple(segment) for segment in out]


def edges_within_margin(found, start_s: float, end_s: float):
    """A retried piece's words with the first word's start moved later towards ``start_s``, and the last
    word's end earlier towards ``end_s`` (the first alignment's edges, which had optional silence to end
    on), each by at most :data:`MARGIN_S` and leaving its phone a frame.

    The retry's pieces keep MARGIN_S around their speech, and without optional silence the decoder puts it
    into the edge words: on the tuning set's retried files their starts were 50 ms early and their ends 39 ms
    late (medians; word spans 6 % too long), and 2 ms early and 10 ms early with the edges moved back. The
    first alignment's edge is trusted only within the margin: further away, its word is the one that
    slipped.

    >>> from vowelprompt.records import Phone
    >>> word = (1.0, 1.5, [Phone("K", 1.0, 1.1, -10.0), Phone("AE1", 1.1, 1.5, -10.0)])
    >>> [(s, e, [(p.start_s, p.end_s) for p in ph]) for s, e, ph in edges_within_margin([word], 1.03, 1.3)]
    [(1.03, 1.45, [(1.03, 1.1), (1.1, 1.45)])]
    """
    found = list(found)
    start, end, phones = found[0]
    new = round(min(max(start_s, start), start + MARGIN_S, phones[0].end_s - FRAME_S), 3)
    if new > start:
        found[0] = (new, end, [replace(phones[0], start_s=new), *phones[1:]])
    start, end, phones = found[-1]
    new = round(max(min(end_s, end), end - MARGIN_S, phones[-1].start_s + FRAME_S), 3)
    if new < end:
        found[-1] = (start, new, [*phones[:-1], replace(phones[-1], end_s=new)])
    return found


def shifted(segment, offset: float):
    """One word's (start_s, end_s, phones) moved by ``offset`` seconds."""
    start_s, end_s, phones = segment
    moved = [
        replace(p, start_s=round(p.start_s + offset, 3), end_s=round(p.end_s + offset, 3)) for p in phones
    ]
    return round(start_s + offset, 3), round(end_s + offset, 3), moved


def speech_coverage(db: np.ndarray, segments) -> float:
    """Share of the loud frames (within :data:`SPEECH_DB` of the loudest: speech, not pauses or the noise
    floor) that the (start_s, end_s, …) word segments cover; 1 without frames.

    >>> db = np.array([-90.0] * 20 + [-20.0] * 50 + [-90.0] * 30)
    >>> speech_coverage(db, [(0.2, 0.45, [])]), speech_coverage(db[:0], [])
    (0.5, 1.0)
    """
    if len(db) == 0:
        return 1.0
    loud = loud_frames(db)
    covered = np.zeros(len(db), dtype=bool)
    for start_s, end_s, *_ in segments:
        if start_s is not None:  # a word without times (skipped in a long recording's word pass)
            covered[int(start_s / FRAME_S) : int(end_s / FRAME_S)] = True
    return float(covered[loud].mean()) if loud.any() else 1.0
