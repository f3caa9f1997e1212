"""Finding a forced alignment that squeezed words into the decoder's shortest phones, from phone lengths.

pocketsphinx's HMMs have no duration model: every phone lasts at least three frames (30 ms) and may last any
longer. On voices unlike its training speakers the best path sometimes stretches one phone far past its
neighbours (a /d/ of 110–290 ms that has swallowed the following "a" or "over") and packs the next words into
a run of phones at that 30 ms minimum, off their sound. No speech is left outside the words, so the slip
check (:mod:`vowelprompt.align.slips`) does not see it; the phone lengths do. :func:`squeezed_words` finds
the pattern; the aligner then aligns again with the front end's frequency axis warped
(:func:`warped_options`: vocal-tract-length normalisation, the usual speaker adaptation of such models), in
the order of :data:`WARPS`, and keeps the first alignment without the pattern (or the first one if none is).

Measured on the benchmark sets (``benchmarks/bench_alignment.py``): the pattern marks 5 of the tuning set's
160 files and none of their silent failures; on the third held-out set (where it was found) 4 of its 6
silent failures are squeezed words, and the retry puts all 4 back. On the fourth held-out set, sealed until
this was done: silent failures 2 → 0, 10.9 → 10.5 ms mean vowel-boundary error (README, *Alignment*). On
the fifth, sealed after that, whose voices have echo or odd spectra: 12 → 10 silent failures; 8 of the 10
show no squeeze (and 2 keep one that no warp removed): most are the acoustic model's, not the path's.
"""

from __future__ import annotations

import itertools

import numpy as np

#: pocketsphinx's shortest phone (three 10 ms frames): a phone this short has no room left to shrink.
SHORTEST_PHONE_S = 0.03
#: A phone is stretched when it lasts this many times the alignment's mean phone, and at least
#: :data:`MIN_STRETCH_S`.
STRETCH_RATIO = 1.5
MIN_STRETCH_S = 0.1
#: Phones at :data:`SHORTEST_PHONE_S` in a row, next to a stretched phone, that make a squeeze. A single one
#: is common in fast, correctly aligned speech (beside a stretched phone: 69 words in 53 of the tuning set's
#: 160 files); a run of two marks 5 of them.
MIN_SQUEEZED_RUN = 2
#: Warps of the front end's frequency axis tried in turn (nearest to none first, up before down); chosen
#: before any was measured, from the grid of ``benchmarks/warp_aligner.py``.
WARPS = (1.1, 0.9, 1.2, 0.8)


def squeezed_words(segments) -> set[int]:
    """Indices of the words of (start_s, end_s, phones) segments that hold a run of at least
    :data:`MIN_SQUEEZED_RUN` phones at :data:`SHORTEST_PHONE_S` beside a stretched phone.

    >>> from vowelprompt.records import Phone
    >>> def word(*lengths, start=0.0):
    ...     phones, t = [], start
    ...     for d in lengths:
    ...         phones.append(Phone("X", t, t + d, -10.0))
    ...         t += d
    ...     return (start, t, phones)
    >>> found, a, tail = word(0.06, 0.08, 0.29), word(0.03, 0.03, start=0.43), word(0.05, 0.07, start=0.49)
    >>> squeezed_words([found, a, tail]), squeezed_words([found, word(0.03, 0.06, start=0.43), tail])
    ({1}, set())
    """
    seq = [(i, p.end_s - p.start_s) for i, (_, _, phones) in enumerate(segments) for p in phones]
    if not seq:
        return set()
    lengths = np.array([d for _, d in seq])
    stretched = max(STRETCH_RATIO * float(lengths.mean()), MIN_STRETCH_S)
    shortest = lengths <= SHORTEST_PHONE_S + 1e-6
    found: set[int] = set()
    for k in np.flatnonzero(lengths >= stretched):
        for step in (-1, 1):
            run, j = [], k + step
            while 0 <= j < len(seq) and shortest[j]:
                run.append(j)
                j += step
            if len(run) >= MIN_SQUEEZED_RUN:
                found.update(seq[i][0] for i in run)
    return found


_WARPS_SET = itertools.count()


def warped_options(options: dict, warp: float) -> dict:
    """pocketsphinx decoder settings with the filterbank's frequency axis scaled by ``warp``
    (``inverse_linear``: a voice's formants move towards the model's), for the decoders of one aligner.

    pocketsphinx keeps the warp in C globals, read when a decoder is made: a decoder without a warp sets
    them to "no warp" but leaves the last parameter string, and a later decoder whose string equals that
    one skips setting the warp, so it is made unwarped (measured: the second aligner with warp 1.1 in a
    process, after an unwarped one, aligned exactly as the unwarped one). Each call therefore writes the
    same number with one more or one fewer digit than the call before.

    >>> warped_options({}, 1.1)["warp_params"] != warped_options({}, 1.1)["warp_params"]
    True
    """
    digits = 3 + next(_WARPS_SET) % 2
    return {**options, "warp_type": "inverse_linear", "warp_params": f"{warp:.{digits}f}"}


def length_spread(lengths, shortest_s: float = SHORTEST_PHONE_S) -> float | None:
    """The share of phone ``lengths`` (s) no longer than ``shortest_s`` plus their coefficient of variation;
    None under ten phones. A forced path through words that were not said packs phones into the shortest
    length and stretches others (:func:`vowelprompt.quality.phone_spread`, which says how it is used).

    >>> length_spread([0.1] * 10), round(length_spread([0.03] * 9 + [0.73]), 2)
    (0.0, 3.0)
    """
    values = np.asarray(lengths, dtype=np.float64)
    if values.size < 10 or values.mean() <= 0:
        return None
    return float(np.mean(values <= shortest_s + 1e-6) + values.std() / values.mean())
