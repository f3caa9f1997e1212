"""The word pass over a long recording: where each word of the transcript is, before the recording is cut
into pieces (:mod:`vowelprompt.align.pieces`).

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
from vowelprompt.align.pieces import PAUSE_AFTER_FRAMES, cut_points, piece_starts, quiet_frames

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

#: The longest stretch (frames: 60 s) over which the word pass with optional silence runs again where it found
#: no path over the whole recording and the pass without it found the words (:func:`find_words`). Stretches
#: are cut as pieces are (:func:`~vowelprompt.align.pieces.piece_starts`), so most end at the first pause of
#: 0.5 s or more after 15 s: on the development sets' joined recordings 15–22 s, where the pass found its path
#: in 9–20 of 20.
STRETCH_FRAMES = 6000

#: The most times :func:`find_words` cuts a stretch: halving, a 10-minute recording reaches 10 s in 6, but
#: where the words are found only near one end, each cut may take off only a few.
MAX_DEPTH = 40


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
    :func:`~vowelprompt.align.pieces.quiet_frames`), or None if no word was found; ``word_pass(decoder, pcm,
    text)`` is the strict pass (:func:`~vowelprompt.align.pocketsphinx.word_pass`), and ``new_decoder()`` a
    fresh decoder that knows the words (``new_decoder(False)``: without optional silence): each pass gets one,
    since a search that failed leaves state behind that fails the next.

    The strict pass runs over the whole recording, and if it finds no path, again without optional silence
    (:func:`loud_spans`); where that one finds the words of a recording over twice :data:`STRETCH_FRAMES`, the
    strict pass runs again over stretches of at most that, cut in its pauses, and keeps the spans of each
    stretch it finds all the words of. If neither finds a path, None, unless ``parts`` (experimental, off in
    the aligner: on two sealed held-out sets it gave 2–5 s mean errors, parts forced onto the wrong words by
    their strict pass): then :func:`skip_pass` finds the words it can, the recording is cut at the widest
    pause (:func:`~vowelprompt.align.pieces.cut_points`) in its middle half (else at the one nearest its
    middle), and each part is tried again the same way, so that the stretches that match get the strict pass's
    spans, and only the stretch that does not, once no longer than ``shortest`` frames (or without a pause to
    cut at, or :data:`MAX_DEPTH` cuts deep), is left without spans. Where no word was found either way, and
    ``windows``, the words are found window by window (:func:`~vowelprompt.align.windows.words_by_windows`),
    None where that finds too few."""
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
