"""Where a long recording is cut for alignment, and what a piece that does not align leaves.

A recording longer than :attr:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner.max_piece_s` is aligned in
pieces: one word-level pass over the whole recording says where each word is (start and end frame), the
recording is cut in the middle of gaps between words, and each piece is aligned on its own
(:meth:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner._align_pieces`).

A word the pass found squeezed into its shortest phones, or short right before a pause, counts as not found
(:func:`found_words`) and gets no span; the recording is cut beside it only at a pause with sound on one side
to hold it (:func:`cut_points`), the sound the pass gave it not counted. A piece ends at a long pause where
one lies in its last three quarters, the first of half a second or more (:func:`piece_starts`). A piece that
does not align leaves only its own words unaligned.

That word pass needs a path through every word of the transcript. Over minutes of speech, optional silence
gives it a way out that a short utterance does not have: it can take a stretch of speech the acoustic model
matches poorly as silence and put its words on a later stretch that says the same (a repeated phrase), until
the true path falls outside the beam and the false one runs out of audio. So the pass runs at the widest beam
(:data:`WORD_PASS_BEAM`), and when it finds no path, again without optional silence, its words' spans then
trimmed to their loud frames (:func:`loud_spans`), as the pauses went into the words beside them; since
that pass places words beside pauses poorly, the pass with silence then runs again over stretches of up to a
minute cut in its pauses, which it may find a path through where it lost the path over the whole. A stretch
that does not match (a sentence lost under noise) then has its words forced somewhere, and the piece that
holds them does not align: they are left unaligned. Where neither pass finds a path, the words are found
window by window, left to right (:mod:`vowelprompt.align.windows`), and the whole recording fails only where
that pass finds too few of them; :func:`find_words` can instead halve the recording at a pause and try each
half again, the cut placed with a grammar in which each word may be skipped (:func:`skip_pass`), down to
``max_piece_s``, where a stretch that still finds no path becomes a piece of its own; experimental and off
(:attr:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner.search_parts`): on two sealed benchmark sets it
returned pieces holding the wrong words, which their strict pass forced into place (README).
"""

from __future__ import annotations

import contextlib
import functools
import itertools

import numpy as np

from vowelprompt.align.pcm import with_noise_floor
from vowelprompt.align.slips import FRAME_S, MIN_PAUSE_S, frame_db, longest_run, loud_frames

#: The beam of the word pass over a long recording: the widest a double holds with room to spare. On the
#: development sets' joined recordings (benchmarks/bench_long.py: held-out 1 and 6, 6.9 and 5.7 minutes) the
#: utterances' widest beam, 1e-200, lost the true path and 1e-300 kept it, in the same time; no pruning at
#: all (0) took 22 times as long.
WORD_PASS_BEAM = 1e-300

#: The probability of skipping a word in :func:`skip_pass`. Chosen on the tuning set's 9.4-minute recording
#: (the pass forced on it; the strict pass does not fail there): 1e-10 placed 1573 of its 1616 words, 17 of
#: them more than 100 ms from the true start; 1e-20 placed 1599, 13. It is scaled by the language weight (6.5)
#: and must stay well inside the word pass's beam (then 1e-200): from 1e-25 every skip falls outside the beam
#: and the pass fails as the strict one did.
SKIP_PROB = 1e-20

#: Frames per phone at or under which a word found by a word pass (strict or skippable) is taken as squeezed,
#: not found (:func:`found_words`): pocketsphinx's phones are three states of at least one frame each, and a
#: word at that minimum is most often a word pushed into the edge of a pause (the first word of a sentence put
#: at the end of the one before), where a cut would give it to the wrong piece. On the tuning set's 9.4-minute
#: recording, its spans forced from the skippable pass: 12.2 ms mean vowel-boundary error with squeezed words
#: kept, 11.1 ms with them taken as not found (the strict pass's spans: 10.9 ms kept, 10.8 ms not found).
MIN_FRAMES = 3

#: Frames per phone under which a word the pass puts right before a pause counts as squeezed too: a word
#: before a pause is lengthened (phrase-final lengthening), and a short one there is most often the next
#: sentence's first word put on the tail of the one before. On the joined recordings of held-out sets 6 and 4
#: (development sets), "The" in 9 frames before a 0.8 s pause, whose sound lay at the pause's end.
PAUSE_FRAMES = 5

#: Frames of silence after a word that make a pause for :data:`PAUSE_FRAMES` (0.2 s): with any silence, words
#: inside continuous speech were taken as squeezed too (tuning set, 20 s recordings without pauses: 11.1 ms →
#: 11.3 ms; with 0.2 s, 11.2 ms).
PAUSE_AFTER_FRAMES = 20

#: A gap between words this wide (frames: 0.25 s) is where a piece ends if one lies in its last three
#: quarters, before the widest gap in its second half (:func:`piece_starts`): a piece that holds a pause
#: between sentences lets the aligner put the next sentence's first word on the tail of the one before (the
#: error of :data:`PAUSE_FRAMES`, made by the piece's own pass), as it cannot in an utterance aligned alone.
LONG_GAP_FRAMES = 25

#: A gap between words this wide (frames: 0.5 s) ends a piece at the first one in its last three quarters,
#: before any wider gap (:func:`piece_starts`): the widest is not always the pause after a sentence (a word
#: put late leaves a wide gap too), and a piece that runs on past that pause into the next sentence lets its
#: own pass put that sentence's first words on the tail of the one before. With :data:`STRETCH_FRAMES`, on the
#: development sets' joined recordings (benchmarks/bench_long.py): held-out 4 15.7 → 14.4 ms, 3 22.7 → 19.1,
#: 7 15.7 → 16.2, 1 and 6 unchanged; the first gap of 0.25 s instead: 1, 3, 4 and 6 worse.
PHRASE_GAP_FRAMES = 50

#: The longest stretch (frames: 60 s) over which the word pass with optional silence runs again where it found
#: no path over the whole recording and the pass without it found the words (:func:`find_words`). Stretches
#: are cut as pieces are (:func:`piece_starts`), so most end at the first pause of 0.5 s or more after 15 s:
#: on the development sets' joined recordings 15–22 s, where the pass found its path in 9–20 of 20.
STRETCH_FRAMES = 6000

#: Loud frames a side of a pause must hold to hold the words the word pass did not find beside it
#: (:func:`cut_points`): 50 ms, shorter than any word, longer than the edge of a word the pass cut short.
MIN_WORD_FRAMES = 5

#: The most times :func:`find_words` cuts a stretch: halving, a 10-minute recording reaches 10 s in 6, but
#: where the words are found only near one end, each cut may take off only a few.
MAX_DEPTH = 40


def gap_middle(words: list[tuple[int, int]], i: int) -> int:
    """The frame in the middle of the gap before word ``i`` (between its start and the previous word's end):
    where a piece starting at word ``i`` is cut."""
    return (words[i - 1][1] + words[i][0]) // 2


def quiet_frames(pcm: bytes, hop: int, held: list[tuple[int, int]] = ()) -> np.ndarray:
    """Which ``hop``-sample frames of 16-bit ``pcm`` are quiet: not speech by
    :func:`~vowelprompt.align.slips.loud_frames` (as where speech is cut from silence,
    :func:`~vowelprompt.align.slips.speech_span`; a floor from the quietest frames would be the digital
    silence that some files start or end with, under which every pause is loud). The frames of ``held``
    (first, last) spans, where the word pass put words it squeezed (:func:`found_words`), count as quiet: the
    sound there is a neighbour's, and cannot hold the squeezed words (:func:`cut_points`)."""
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

    Between two words found, in the middle of the gap between them (:func:`gap_middle`). Where words between
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
            out.append((right, gap_middle(words, right), last - first + 1))
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


def skip_pass(decoder, heard: bytes, keys: list[str]) -> list[tuple[int, int] | None] | None:
    """The word-level pass over ``heard`` (PCM with the noise floor) with a grammar of ``keys`` in which each
    word, and any number of words at the start or the end, may be skipped at :data:`SKIP_PROB`: each word's
    (start frame, end frame), None for a word skipped or squeezed (:func:`found_words`), or None if no word
    was found. The decoder must know every word's pronunciations."""
    n = len(keys)
    arcs = [(i, i + 1, 1.0, key) for i, key in enumerate(keys)] + [(i, i + 1, SKIP_PROB) for i in range(n)]
    # and any number of words at either end at the cost of one: else, where many words are missing, every
    # path through all the skips falls outside the beam and the pass finds nothing
    arcs += [(0, i, SKIP_PROB) for i in range(2, n + 1)] + [(i, n, SKIP_PROB) for i in range(1, n - 1)]
    grammar_pass(decoder, heard, "skippable", n, arcs)
    spans = found_words(decoder, keys)[0]
    return spans if any(s is not None for s in spans) else None


def grammar_pass(decoder, heard: bytes, name: str, n: int, arcs: list[tuple]) -> None:
    """The word-level pass over ``heard`` (PCM with the noise floor) with the grammar ``arcs`` (from state,
    to state, probability, word or none) from state 0 to ``n``, under ``name``; the decoder then holds its
    path, if it found one (``hyp()``, ``seg()``). May raise RuntimeError, as pocketsphinx does."""
    decoder.reinit_feat()
    decoder.add_fsg(name, decoder.create_fsg(name, 0, n, arcs))
    decoder.activate_search(name)
    decoder.start_utt()
    decoder.process_raw(heard, full_utt=True)
    decoder.end_utt()


def found_words(decoder, keys: list[str]) -> tuple[list[tuple[int, int] | None], int, list[tuple[int, int]]]:
    """Each word of ``keys`` as the decoder's last pass found it, (start frame, end frame), or None if it was
    not found or squeezed (:data:`MIN_FRAMES`, :data:`PAUSE_FRAMES`); how many words it found, squeezed or
    not; and the spans of the squeezed words (frames the pass gave to a word that is most likely elsewhere).

    The decoder reports its words, not its grammar states, so the words found are matched to the transcript
    in order, each to the next word of the same spelling: where a word is repeated with only skipped words
    between, the one found may be given to the first of them."""
    n, known = len(keys), set(keys)
    spans: list[tuple[int, int] | None] = [None] * n
    held: list[tuple[int, int]] = []
    i = count = 0
    segs = list(decoder.seg() or ()) if decoder.hyp() is not None else []
    names = [seg.word.split("(")[0] for seg in segs]  # a pronunciation variant, "word(2)", is the word
    for k, (seg, word) in enumerate(zip(segs, names)):
        if word not in known:  # silence, a filler
            continue
        while i < n and keys[i] != word:
            i += 1
        if i == n:
            break
        after = segs[k + 1] if k + 1 < len(segs) and names[k + 1] not in known else None  # a pause after it?
        pause = after is not None and after.end_frame - after.start_frame >= PAUSE_AFTER_FRAMES
        least = PAUSE_FRAMES if pause else MIN_FRAMES
        squeezed = seg.end_frame - seg.start_frame < least * len(decoder.lookup_word(seg.word).split())
        spans[i] = None if squeezed else (seg.start_frame, seg.end_frame)
        held += [(seg.start_frame, seg.end_frame)] if squeezed else []
        i, count = i + 1, count + 1
    return spans, count, held


def loud_spans(spans: list[tuple[int, int] | None], quiet: np.ndarray) -> list[tuple[int, int] | None]:
    """Each span cut to its first and last loud frame (not in ``quiet``), None if it has none: the spans of a
    pass without optional silence, whose pauses went into the words beside them.

    >>> loud_spans([(0, 9), (10, 14), None], np.array([True] * 3 + [False] * 5 + [True] * 7))
    [(3, 7), None, None]
    """
    out: list[tuple[int, int] | None] = []
    for span in spans:
        loud = [] if span is None else np.flatnonzero(~quiet[span[0] : span[1] + 1])
        out.append((span[0] + int(loud[0]), span[0] + int(loud[-1])) if len(loud) else None)
    return out


def find_words(
    new_decoder,
    pcm: bytes,
    keys: list[str],
    word_pass,
    shortest: int,
    hop: int,
    parts: bool = True,
    windows: bool = True,
):
    """Each word's (start frame, end frame) in a long recording (``pcm``, 16-bit, ``hop`` samples a frame),
    None for a word not found or squeezed (:func:`found_words`), with the squeezed words' spans (for
    :func:`quiet_frames`), or None if no word was found; ``word_pass(decoder, pcm, text)`` is the strict
    pass (:func:`~vowelprompt.align.pocketsphinx.word_pass`), and ``new_decoder()`` a fresh decoder that knows
    the words (``new_decoder(False)``: without optional silence): each pass gets one, since a search that
    failed leaves state behind that fails the next.

    The strict pass runs over the whole recording, and if it finds no path, again without optional silence
    (:func:`loud_spans`); where that one finds the words of a recording over twice :data:`STRETCH_FRAMES`,
    the strict pass runs again over stretches of at most that, cut in its pauses, and keeps the spans of each
    stretch it finds all the words of. If neither finds a path, None, unless ``parts`` (experimental,
    off in the aligner: on two sealed held-out sets it gave 2–5 s mean errors, parts forced onto the wrong
    words by their strict pass): then :func:`skip_pass` finds the words it
    can, the recording is cut at the widest pause (:func:`cut_points`) in its middle half (else at the one
    nearest its middle), and each part is tried again the same way, so that the stretches that match get the
    strict pass's spans, and only the stretch that does not, once no longer than ``shortest`` frames (or
    without a pause to cut at, or :data:`MAX_DEPTH` cuts deep), is left without spans. Where no word was
    found either way, and ``windows``, the words are found window by window
    (:func:`~vowelprompt.align.windows.words_by_windows`), None where that finds too few."""
    quiet = functools.cache(lambda: quiet_frames(pcm, hop))  # only if a pass with optional silence fails
    held: list[tuple[int, int]] = []  # frames of squeezed words, from the strict passes kept
    forced = False  # whether the whole recording's words came from the pass without optional silence

    def shifted(spans: list, a: int) -> list:  # a stretch's spans in the whole recording's frames
        return [None if s is None else (s[0] + a, s[1] + a) for s in spans]

    def one_pass(a: int, b: int, i: int, j: int, silence: bool):
        """The strict pass (with optional ``silence`` or without) of ``keys[i:j]`` over frames ``a:b``: its
        spans and squeezed spans, in the whole recording's frames, and whether it found every word; None
        where it finds no path (pocketsphinx may also raise there)."""
        try:
            decoder = new_decoder(silence)
            if not word_pass(decoder, pcm[2 * a * hop : 2 * b * hop], " ".join(keys[i:j])):
                return None
        except RuntimeError:
            return None
        found, count, squeezed = found_words(decoder, keys[i:j])
        found = found if silence else loud_spans(found, quiet()[a:b])
        return shifted(found, a), shifted(squeezed, a), count == j - i

    def find(a: int, b: int, i: int, j: int, depth: int = 0) -> list:
        """The words ``keys[i:j]`` over frames ``a:b``, in the whole recording's frames."""
        nonlocal forced
        spans, strict = [None] * (j - i), False
        for silence in (True, False):  # the next pass is tried where one finds no path
            if (got := one_pass(a, b, i, j, silence)) is not None:
                spans, squeezed, strict = got
                if strict:
                    held.extend(squeezed)
                    forced = forced or (depth == 0 and not silence)
                break
        if not strict and parts:
            with contextlib.suppress(RuntimeError):
                heard = with_noise_floor(pcm[2 * a * hop : 2 * b * hop])
                spans = shifted(skip_pass(new_decoder(), heard, keys[i:j]) or [None] * (j - i), a)
        if strict or not parts:
            return spans if strict else [None] * (j - i)
        # Only at pauses: in speech without one, the skippable pass's word boundaries are too often wrong, and
        # a cut there gives each part the wrong words (which its strict pass may then force into place).
        cuts, quarter = cut_points(spans, quiet(), pauses_only=True, bounds=(a, b)), (b - a) // 4
        if b - a <= shortest or not cuts or depth == MAX_DEPTH:
            return [None] * (j - i)  # nor are its words' spans kept: no piece is cut from them
        # the widest gap in the middle half (of equals, the middlemost), else the one nearest the middle
        middle = [(width, k, mid) for k, mid, width in cuts if a + quarter <= mid <= b - quarter]
        if middle:
            _, k, mid = max(middle, key=lambda c: (c[0], -abs(c[2] - (a + b) // 2)))
        else:
            k, mid, _ = min(cuts, key=lambda c: abs(c[1] - (a + b) // 2))
        return find(a, mid, i, i + k, depth + 1) + find(mid, b, i + k, j, depth + 1)

    n_frames = len(pcm) // 2 // hop
    spans = find(0, n_frames, 0, len(keys))
    if windows and not any(s is not None for s in spans):
        from vowelprompt.align.windows import words_by_windows  # which builds on this module

        if (by_windows := words_by_windows(new_decoder, pcm, keys, hop)) is not None:
            spans, held[:] = by_windows
    if forced and n_frames > 2 * STRETCH_FRAMES:
        # The pass without silence puts words beside pauses poorly; the pass with it, which lost its path over
        # the whole recording, runs again over stretches of STRETCH_FRAMES or less cut in the pauses between
        # the words found, and each stretch it finds all the words of keeps its spans.
        bounds = piece_starts(cut_points(spans, quiet(), pauses_only=True), n_frames, STRETCH_FRAMES)
        for (i, a), (j, b) in itertools.pairwise([*bounds, (len(keys), n_frames)]):
            got = one_pass(a, b, i, j, silence=True)
            if got is not None and got[2]:
                spans[i:j] = got[0]
                held.extend(got[1])
    return (spans, held) if any(s is not None for s in spans) else None
