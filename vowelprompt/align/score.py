"""Score an alignment against ground-truth vowel times (from :mod:`vowelprompt.corpora.synth` or hand labels).

Vowels are matched within the same word (by word index), each aligned vowel to the true vowel it overlaps
most (else the nearest one), because the aligner's dictionary and the synthesiser need not agree on how
many vowels a word has (a syllabic /l/, a reduced vowel dropped). Unmatched vowels are counted, not hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vowelprompt.align.vowels import vowel_spans
from vowelprompt.records import Word


@dataclass(frozen=True)
class TrueVowel:
    """A reference vowel; ``exact`` is False where the reference boundary is itself an estimate."""

    start_s: float
    end_s: float
    word_index: int
    exact: bool = True


@dataclass(frozen=True)
class AlignmentScore:
    """Mean absolute vowel-boundary error (onset and offset pooled), share of aligned vowel midpoints that
    fall inside a true vowel of the same word, and how many vowels could be compared."""

    boundary_error_s: float
    midpoint_inside: float
    matched: int
    unmatched: int
    errors_s: tuple[float, ...]
    exact_errors_s: tuple[float, ...] = ()

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.endswith("errors_s")}


def score_alignment(words: Sequence[Word], truth: Sequence[TrueVowel]) -> AlignmentScore:
    """Compare the vowels of aligned ``words`` with true vowels.

    >>> from vowelprompt.records import Phone
    >>> w = [Word("a", 0.0, 0.2, (Phone("AH0", 0.05, 0.15),))]
    >>> s = score_alignment(w, [TrueVowel(0.06, 0.16, 0)])
    >>> round(s.boundary_error_s, 3), s.midpoint_inside, s.matched
    (0.01, 1.0, 1)
    """
    by_word: dict[int, list[TrueVowel]] = {}
    for t in truth:
        by_word.setdefault(t.word_index, []).append(t)
    errors: list[float] = []
    exact: list[float] = []
    inside: list[bool] = []
    unmatched = 0
    for span in vowel_spans(list(words)):
        candidates = by_word.get(span.word_index, [])
        if not candidates:
            unmatched += 1
            continue
        overlaps = [min(span.end_s, t.end_s) - max(span.start_s, t.start_s) for t in candidates]
        mid = (span.start_s + span.end_s) / 2
        if max(overlaps) > 0:
            best = candidates[int(np.argmax(overlaps))]
        else:
            best = min(candidates, key=lambda t: abs((t.start_s + t.end_s) / 2 - mid))
        pair = [abs(span.start_s - best.start_s), abs(span.end_s - best.end_s)]
        errors += pair
        if best.exact:
            exact += pair
        inside.append(any(t.start_s <= mid <= t.end_s for t in candidates))
    return AlignmentScore(
        boundary_error_s=float(np.mean(errors)) if errors else float("nan"),
        midpoint_inside=float(np.mean(inside)) if inside else float("nan"),
        matched=len(inside),
        unmatched=unmatched,
        errors_s=tuple(errors),
        exact_errors_s=tuple(exact),
    )
