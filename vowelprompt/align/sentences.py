"""Sentence ends in a long recording's transcript, and the words its word pass put across the pause after one.

Over a long recording the word pass (:func:`~vowelprompt.align.wordsearch.find_words`) decides on which side
of each pause a word lies, and pocketsphinx often decides wrong at a pause after a sentence: it puts the next
sentence's first word or two ("The", "Our train") on the fading tail of the sentence before, the pause after
them, or a sentence's last word on the next sentence's first sound. The piece cut at that pause then holds the
word on the wrong side, where its own pass must place it on sound that is not its own (about a second off), as
a sentence aligned alone never does (it starts and ends with the pause). Scoring both sides does not settle
it: of 16 sentences of held-out sets 11 and 12 aligned with the word on each side, the pieces cut at the same
frame, the acoustic model scored the wrong side higher in 9. The transcript does (:func:`marks`): words put
across a pause one or two words off a sentence end are taken as not found (:func:`moved_words`), a word whose
span holds a pause keeps only its sentence's side of it where it is the sentence's first or last word, or one
or two words from it with the words between moved across (:func:`split_at_pauses`), and where words not found
lie beside a pause, the recording is cut there before the next sentence's first word (:func:`moved_apart`,
:func:`~vowelprompt.align.pieces.cut_points`), so that each piece starts and ends with a sentence, as an
utterance does. On the development sets' joined recordings (benchmarks/bench_long.py) the mean vowel-boundary
error fell from 10.8–85.5 ms to 10.8–53.6 ms (set 11 24.1 → 14.4, set 7 17.4 → 10.9; sealed set 13, 20.5 →
14.3 ms: README, Sentence ends), then with the words the pass did not find and the words holding a pause
beside a sentence's first or last, to 10.6–51.8 ms (set 5 21.2 → 14.5, set 11 14.4 → 12.1; README, Words the
pass put across a pause); then with the words not found between a pause and the words put across it, set 4
11.1 → 10.5 ms, set 14 11.7 → 10.8, and with uniform pauses set 7 13.0 → 10.8 (README, Words not found
beside the pause). A transcript without punctuation changes nothing, nor do recordings without
pauses between their sentences.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from vowelprompt.align.lexicon import _TOKEN
from vowelprompt.align.slips import longest_run

#: A sentence end between two words: ``.``, ``!``, ``?`` or ``…``, closing quotes or brackets, then a space
#: (or the transcript's end): "3.5" and "e.g" are not sentence ends.
SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*\s")

#: The most words a pass is taken to have put across the pause after a sentence (held-out set 11: "Our
#: train", "Who left" before the pause; one word in the rest).
MAX_MOVED = 2


def marks(transcript: str) -> list[int]:
    """For each word of ``transcript`` (:func:`~vowelprompt.align.lexicon.tokenize`): 2 where a sentence ends
    after it (:data:`SENTENCE_END`), 1 where other punctuation follows it, 0 where none does.

    >>> marks('He left. "Why?" she said, and 3.5 kg… later')
    [0, 2, 2, 0, 1, 0, 1, 0, 2, 0]
    """
    found = list(_TOKEN.finditer(transcript))
    ends = [m.start() for m in found[1:]] + [len(transcript)]
    text = transcript + " "  # the transcript's end is a space after its last word
    return [
        2 if SENTENCE_END.search(between) else int(bool(between.strip()))
        for between in (text[m.end() : end + (end == len(transcript))] for m, end in zip(found, ends))
    ]


def kept_marks(marks: list[int], kept: list[bool]) -> list[int]:
    """:func:`marks` of the words ``kept`` (those the aligner can pronounce), each word left out giving its
    mark to the word kept before it, so that a sentence ending in an unknown word still ends.

    >>> kept_marks([0, 0, 2, 0], [True, True, False, True])
    [0, 2, 0]
    """
    out: list[int] = []
    for mark, keep in zip(marks, kept):
        if keep:
            out.append(mark)
        elif out:
            out[-1] = max(out[-1], mark)
    return out


def _gap(spans: list[tuple[int, int] | None], i: int, j: int, quiet: np.ndarray | None) -> int:
    """The pause between found words ``i`` < ``j`` (frames): the longest run of ``quiet`` frames between them,
    or without ``quiet`` the gap's width."""
    first, end = spans[i][1] + 1, spans[j][0]
    return end - first if quiet is None else longest_run(quiet[first:end])[1]


def no_pause(
    spans: list[tuple[int, int] | None], a: int, b: int, pause: int, quiet: np.ndarray | None = None
) -> bool:
    """Whether no pause (a run of at least ``pause`` ``quiet`` frames; without ``quiet``, a gap that wide)
    lies between the words found from word ``a`` (or the last one found before it) to word ``b`` (or the
    first one found after it); False where there is none on a side.

    >>> spans = [(0, 9), None, (15, 20), (60, 70)]
    >>> no_pause(spans, 1, 2, 20), no_pause(spans, 0, 3, 20), no_pause(spans, 2, 4, 20)
    (True, False, False)
    """
    if a < 0 or b >= len(spans):
        return False
    first = next((j for j in range(a, -1, -1) if spans[j] is not None), None)
    last = next((j for j in range(b, len(spans)) if spans[j] is not None), None)
    if first is None or last is None:
        return False
    found = [j for j in range(first, last + 1) if spans[j] is not None]
    return all(_gap(spans, i, j, quiet) < pause for i, j in itertools.pairwise(found))


def moved_words(
    spans: list[tuple[int, int] | None], marks: list[int], pause: int, quiet: np.ndarray | None = None
) -> list[tuple[int, int, int]]:
    """Words the word pass put across a pause of at least ``pause`` frames from the sentence end beside it,
    from each word's (start frame, end frame) or None and :func:`marks`: (first, last) word moved and the
    index of the first word of the sentence after the end, for each such pause.

    A pause between two words found, with no punctuation between them, and a sentence end one or two words
    before it (the next sentence's first words put before the pause) or after it (the sentence's last words
    put after), with no pause at the sentence end itself (from the last word found before it to the next one
    found) and no punctuation among the words between, which the pass may not have found (held-out set 4:
    "My" squeezed, "aunt" before the pause, "knitted" after it); words the pass did not find between the
    two found words are moved with them (held-out set 7 with uniform pauses: "They" before the pause,
    "missed" not found, "the" after it). Where both sides qualify at the same distance, neither is taken.
    With the recording's ``quiet`` frames, a pause is a run of at least ``pause`` of them between the words
    (without, a gap that wide): in speech without pauses a gap the pass left between two words is not one
    (the tuning set's recordings without pauses between sentences: 11.1 ms without punctuation, 11.3 ms
    with gaps taken as pauses, 11.1 with quiet runs).

    >>> spans = [(0, 30), (31, 45), (46, 59), (100, 160), (161, 200)]  # "rain. The | river flooded"
    >>> moved_words(spans, [0, 2, 0, 0, 2], 20)
    [(2, 2, 2)]
    >>> moved_words(spans, [0, 0, 0, 0, 2], 20), moved_words(spans, [0, 2, 1, 0, 2], 20)  # no end; a comma
    ([], [])
    >>> moved_words([(0, 30), (31, 45), (90, 99), (100, 160)], [0, 0, 2, 0], 20)  # "of the | water. The"
    [(2, 2, 3)]
    >>> moved_words([(0, 30), (31, 45), None, (100, 160)], [2, 0, 0, 0], 20)  # "gate. They (missed) | the"
    [(1, 2, 1)]
    """
    n, out = len(spans), []
    found_at = [i for i, span in enumerate(spans) if span is not None]
    for p, q in itertools.pairwise(found_at):  # a pause between words found, perhaps words not found between
        if _gap(spans, p, q, quiet) < pause or any(marks[p:q]):
            continue
        found = []
        for moved in range(1, MAX_MOVED + 1):
            before = (p - moved, p - moved + 1, q - 1)  # (sentence end, first moved, last moved)
            after = (q + moved - 1, p + 1, q + moved - 1)
            for end, first, last in (before, after):
                fits = 0 <= end < n - 1 and marks[end] == 2 and not any(marks[first:last])
                if fits and no_pause(spans, end, end + 1, pause, quiet):
                    found.append((first, last, end + 1))
            if found:
                break
        if len(found) == 1:
            out.append(found[0])
    return out


def split_at_pauses(
    spans: list[tuple[int, int] | None], marks: list[int], quiet: np.ndarray, pause: int
) -> tuple[list[tuple[int, int] | None], list[tuple[int, int]]]:
    """``spans`` with each word near a sentence edge whose span holds a pause (a run of at least ``pause``
    ``quiet`` frames) cut to its sentence's side of the pause, and the (first, last) words taken as moved
    across it: the word pass without optional silence gives a pause to a word beside it, and its loud
    frames at both ends then keep it whole (:func:`~vowelprompt.align.wordsearch.loud_spans`), so that no cut
    is made there.

    A sentence's first word keeps what follows the pause, its last word what precedes it. A word one or two
    words (:data:`MAX_MOVED`) after a sentence's start, with no punctuation before it in the sentence and no
    pause at the sentence end, means that the sentence's first words were put on the sentence before ("Our
    train" on "water", "stopped" across the pause: held-out set 11): it keeps what follows the pause and the
    words before it are moved (not found); likewise, before a sentence's end, what precedes the pause and the
    words after it; where both sides are as near, neither. A word with nothing on its side of the pause (a
    span all pause) is taken as not found; a one-word sentence keeps its span.

    >>> quiet = np.array([False] * 10 + [True] * 30 + [False] * 20)
    >>> split_at_pauses([(0, 5), (6, 49), (50, 59)], [2, 0, 0], quiet, 20)  # "in. | The band"
    ([(0, 5), (40, 49), (50, 59)], [])
    >>> split_at_pauses([(0, 5), (6, 49), (50, 59)], [0, 2, 0], quiet, 20)  # "the dinner. | An"
    ([(0, 5), (6, 9), (50, 59)], [])
    >>> split_at_pauses([(0, 9), (10, 39), (40, 59)], [2, 0, 0], quiet, 20)  # "The" put in the pause
    ([(0, 9), None, (40, 59)], [])
    >>> split_at_pauses([(0, 4), (5, 7), (8, 49), (50, 59)], [2, 0, 0, 0], quiet, 20)  # "water. Our | train"
    ([(0, 4), (5, 7), (40, 49), (50, 59)], [(1, 1)])
    """
    out, moved = list(spans), []
    n = len(spans)

    def movable(distance: int, words: range, a: int, b: int) -> bool:  # the sentence's edge that far
        return distance == 0 or (
            distance <= MAX_MOVED and not any(marks[i] for i in words) and no_pause(spans, a, b, pause, quiet)
        )

    for k, span in enumerate(spans):
        if span is None:
            continue
        start, run = longest_run(quiet[span[0] : span[1] + 1])
        if run < pause:
            continue
        before = next(d for d in range(k + 1) if k - d == 0 or marks[k - d - 1] == 2)
        after = next(d for d in range(n - k) if marks[k + d] == 2 or k + d == n - 1)
        if before == after == 0:
            continue
        sides = []
        if movable(before, range(k - before, k), k - before - 1, k):
            sides.append((before, "start"))
        if movable(after, range(k, k + after), k, k + after + 1):
            sides.append((after, "end"))
        sides.sort()
        if not sides or (len(sides) == 2 and sides[0][0] == sides[1][0]):
            continue
        distance, side = sides[0]
        part = (span[0] + start + run, span[1]) if side == "start" else (span[0], span[0] + start - 1)
        out[k] = part if part[0] <= part[1] else None  # all pause: not found
        if distance:
            first, last = (k - distance, k - 1) if side == "start" else (k + 1, k + distance)
            moved.append((first, last))
    return out, moved


def moved_apart(
    spans: list[tuple[int, int] | None],
    held: list[tuple[int, int]],
    marks: list[int],
    pause: int,
    quiet: np.ndarray | None = None,
) -> tuple[list[tuple[int, int] | None], list[tuple[int, int]], frozenset[int]]:
    """``spans`` (split at pauses by :func:`split_at_pauses`, given the recording's ``quiet`` frames) with
    the words of :func:`moved_words` taken as not found, ``held`` with their spans added
    (their sound is a neighbour's: :func:`~vowelprompt.align.pieces.quiet_frames`), and each sentence's first
    word: where words not found lie beside a pause and one sentence ends among them (these, and words the
    pass squeezed), the recording is cut at the pause before the next sentence's first word
    (:func:`~vowelprompt.align.pieces.cut_points`). Without ``marks`` (``[]``), nothing changes."""
    spans, held = list(spans), list(held)
    if len(marks) != len(spans):  # none given
        return spans, held, frozenset()

    def take(moved) -> None:  # moved words: not found, their sound held
        for first, last in moved:
            held.extend(span for span in spans[first : last + 1] if span is not None)
            spans[first : last + 1] = [None] * (last + 1 - first)

    if quiet is not None:
        spans, moved = split_at_pauses(spans, marks, quiet, pause)
        take(moved)
    take((first, last) for first, last, _ in moved_words(spans, marks, pause, quiet))
    return spans, held, frozenset(k + 1 for k, mark in enumerate(marks[:-1]) if mark == 2)
