"""Where a long recording is cut for alignment, and what a piece that does not align leaves.

A recording longer than :attr:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner.max_piece_s` is aligned in
pieces: one word-level pass over the whole recording says where each word is (start and end frame), the
recording is cut in the middle of gaps between words, and each piece is aligned on its own
(:meth:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner._align_pieces`).

A word the pass found squeezed into its shortest phones, or short right before a pause, counts as not found
(:func:`~vowelprompt.align.wordsearch.found_words`) and gets no span; the recording is cut beside it only at a
pause with sound on one side to hold it (:func:`cut_points`), the sound the pass gave it not counted. A piece
ends at a long pause where one lies in its last three quarters, the first of half a second or more
(:func:`piece_starts`). A piece that does not align leaves only its own words unaligned.

How the words are found, and what happens where that pass finds no path, is
:mod:`vowelprompt.align.wordsearch`.
"""

from __future__ import annotations

import itertools

import numpy as np

from vowelprompt.align.slips import FRAME_S, MIN_PAUSE_S, frame_db, longest_run, loud_frames

#: Frames of silence after a word that make a pause for :data:`~vowelprompt.align.wordsearch.PAUSE_FRAMES`
#: (0.2 s): with any silence, words inside continuous speech were taken as squeezed too (tuning set, 20 s
#: recordings without pauses: 11.1 ms → 11.3 ms; with 0.2 s, 11.2 ms).
PAUSE_AFTER_FRAMES = 20

#: A gap between words this wide (frames: 0.25 s) is where a piece ends if one lies in its last three
#: quarters, before the widest gap in its second half (:func:`piece_starts`): a piece that holds a pause
#: between sentences lets the aligner put the next sentence's first word on the tail of the one before (the
#: error of :data:`~vowelprompt.align.wordsearch.PAUSE_FRAMES`, made by the piece's own pass), as it cannot in
#: an utterance aligned alone.
LONG_GAP_FRAMES = 25

#: A gap between words this wide (frames: 0.5 s) ends a piece at the first one in its last three quarters,
#: before any wider gap (:func:`piece_starts`): the widest is not always the pause after a sentence (a word
#: put late leaves a wide gap too), and a piece that runs on past that pause into the next sentence lets its
#: own pass put that sentence's first words on the tail of the one before. With :data:`STRETCH_FRAMES`, on the
#: development sets' joined recordings (benchmarks/bench_long.py): held-out 4 15.7 → 14.4 ms, 3 22.7 → 19.1,
#: 7 15.7 → 16.2, 1 and 6 unchanged; the first gap of 0.25 s instead: 1, 3, 4 and 6 worse.
PHRASE_GAP_FRAMES = 50

#: Loud frames a side of a pause must hold to hold the words the word pass did not find beside it
#: (:func:`cut_points`): 50 ms, shorter than any word, longer than the edge of a word the pass cut short.
MIN_WORD_FRAMES = 5


def gap_middle(words: list[tuple[int, int]], i: int) -> int:
    """The frame in the middle of the gap before word ``i`` (between its start and the previous word's end):
    where a piece starting at word ``i`` is cut."""
    return (words[i - 1][1] + words[i][0]) // 2


def quiet_frames(pcm: bytes, hop: int, held: list[tuple[int, int]] = ()) -> np.ndarray:
    """Which ``hop``-sample frames of 16-bit ``pcm`` are quiet: not speech by
    :func:`~vowelprompt.align.slips.loud_frames` (as where speech is cut from silence,
    :func:`~vowelprompt.align.slips.speech_span`; a floor from the quietest frames would be the digital
    silence that some files start or end with, under which every pause is loud). The frames of ``held``
    (first, last) spans, where the word pass put words it squeezed
    (:func:`~vowelprompt.align.wordsearch.found_words`), count as quiet: the sound there is a neighbour's, and
    cannot hold the squeezed words (:func:`cut_points`)."""
    quiet = ~loud_frames(frame_db(np.frombuffer(pcm, dtype=np.int16) / 32768.0, int(hop / FRAME_S)))
    for first, last in held:
        quiet[first : last + 1] = True
    return quiet


def cut_points(
    words: list[tuple[int, int] | None],
    quiet: np.ndarray | None = None,
    pauses_only: bool = False,
    bounds: tuple[int, int] | None = None,
    starts: frozenset[int] = frozenset(),
) -> list[tuple[int, int, int]]:
    """Where a recording may be cut, from each word's (start frame, end frame) or None for a word not found:
    (index of the first word after the cut, frame of the cut, width of its gap in frames), in order.

    Between two words found, in the middle of the gap between them (:func:`gap_middle`); with ``quiet``, the
    gap's width is its longest quiet run, cut in the middle where that is a pause (a gap the pass left over
    loud frames, the sound of words it put early, is no pause to end a piece at). Where words between
    two found ones were not found, only at a pause, the middle of the gap's longest run of ``quiet`` frames
    (at least :data:`~vowelprompt.align.slips.MIN_PAUSE_S`), and only if the gap's loud frames, where the
    words not found must be, lie on one side of it (at least :data:`MIN_WORD_FRAMES` there, fewer on the
    other): the words go to that side. Without ``quiet``, never beside a word not found. ``pauses_only``: at
    such pauses only, also between two words found. With the stretch's (first, end) frame as ``bounds``, also
    before its first word found and after its last, where words before or after them were not found. Where
    ``starts`` holds one word not found or the word after them (a sentence's first word,
    :func:`~vowelprompt.align.sentences.moved_apart`), a pause of :data:`PAUSE_AFTER_FRAMES` is cut before it.

    >>> cut_points([(0, 90), (110, 190), (200, 290)])
    [(1, 100, 20), (2, 195, 10)]
    >>> quiet = np.array([False] * 100 + [True] * 40 + [False] * 60)  # a pause, then a word not found
    >>> cut_points([(0, 99), None, (160, 199)], quiet), cut_points([(0, 99), None, (160, 199)])
    ([(1, 120, 40)], [])
    >>> cut_points([(0, 99), (160, 199)], quiet, True), cut_points([(0, 95), (96, 199)], quiet, True)
    ([(1, 120, 40)], [])
    >>> cut_points([(0, 99), None], quiet, bounds=(0, 200))  # the word not found is after the pause
    [(1, 120, 40)]
    """
    out, n = [], len(words)
    found = [i for i, w in enumerate(words) if w is not None]
    need = int(round(MIN_PAUSE_S / FRAME_S))
    if bounds is not None and found:  # the stretch's edges, as words found just outside it
        words = [*words, (bounds[1], bounds[1])]
        found = [-1, *found, len(words) - 1]
    for left, right in itertools.pairwise(found):
        first = bounds[0] if left == -1 else words[left][1] + 1
        last = words[right][0]
        missing = right - left - 1  # words between the two not found
        if not missing and not pauses_only and left >= 0 and right < n:
            width, middle = last - first + 1, gap_middle(words, right)
            if quiet is not None:  # a gap the pass left over loud frames is no pause
                run_start, width = longest_run(quiet[first:last])
                middle = first + run_start + width // 2 if width >= need else middle
            out.append((right, middle, width))
            continue
        if quiet is None or last - first < need:
            continue
        gap = quiet[first:last]
        run_start, run = longest_run(gap)  # the longest quiet run, the first of equals
        before, after = int((~gap[:run_start]).sum()), int((~gap[run_start + run :]).sum())
        one_side = (before >= MIN_WORD_FRAMES) != (after >= MIN_WORD_FRAMES)
        i = right if not missing or before >= MIN_WORD_FRAMES else left + 1
        if len(at := [k for k in starts if left < k <= right]) == 1 and run >= PAUSE_AFTER_FRAMES:
            i, one_side = at[0], True
        if run >= need and (one_side or not missing) and 0 < i < n:
            out.append((i, first + run_start + run // 2, run))
    return out


def piece_starts(cuts: list[tuple[int, int, int]], n_frames: int, limit: int) -> list[tuple[int, int]]:
    """(index of the first word, first frame) of each piece, from the places the recording may be cut
    (:func:`cut_points`): each piece at most ``limit`` frames long and at least half that (bar the last), cut
    at the widest gap in that range, unless a gap of :data:`LONG_GAP_FRAMES` or more ends it earlier (at least
    a quarter of the limit long; the first of :data:`PHRASE_GAP_FRAMES` or more, else the widest of them).
    Where no cut lies in the range (a word, or a pause, longer than half the limit), the one nearest to the
    range is taken instead, so that one long stretch never leaves the rest of the recording as a single piece.

    >>> piece_starts(cut_points([(0, 90), (110, 190), (200, 290), (350, 390)]), 400, 250)  # one in 125–250
    [(0, 0), (2, 195)]
    >>> piece_starts(cut_points([(0, 50), (900, 950), (960, 990)]), 1000, 200)  # an 8.5 s pause is cut
    [(0, 0), (1, 475), (2, 955)]
    >>> piece_starts(cut_points([(0, 70), (100, 190), (200, 290), (350, 390)]), 400, 250)  # a 0.3 s pause
    [(0, 0), (1, 85), (3, 320)]
    >>> piece_starts(cut_points([(0, 100), (155, 300), (371, 400), (450, 490)]), 500, 400)  # 0.55 s, 0.71 s
    [(0, 0), (1, 127)]
    """
    pieces, start = [(0, 0)], 0
    while n_frames - start > limit:
        later = [(mid, width, i) for i, mid, width in cuts if i > pieces[-1][0] and mid > start]
        if not later:
            return pieces  # no word boundary left: the rest is the last piece
        low, high = start + limit // 2, start + limit
        long_gaps = [g for g in later if start + limit // 4 <= g[0] <= high and g[1] >= LONG_GAP_FRAMES]
        phrase_gaps = [g for g in long_gaps if g[1] >= PHRASE_GAP_FRAMES]
        inside = [(w, i, mid) for mid, w, i in long_gaps or [g for g in later if low <= g[0] <= high]]
        if phrase_gaps:
            mid, _, i = min(phrase_gaps)  # the first
        elif inside:
            _, i, mid = max(inside)
        else:
            mid, _, i = min(later, key=lambda g: low - g[0] if g[0] < low else g[0] - high)
        pieces.append((i, mid))
        start = mid
    return pieces


def unaligned_segments(spans: list[tuple[int, int] | None], frame_s: float) -> list[tuple]:
    """The segments of a piece that did not align: each word's span from the word pass (no times for a word
    it skipped), no phones.

    >>> unaligned_segments([(10, 19), None], 0.01)
    [(0.1, 0.2, None), (None, None, None)]
    """
    return [
        (None, None, None) if s is None else (round(s[0] * frame_s, 3), round((s[1] + 1) * frame_s, 3), None)
        for s in spans
    ]
