"""Vowel-boundary refinement after forced alignment: correct the aligner's known bias per neighbouring phone,
then snap edges that border silence to where the sound stops or starts.

Why: an HMM aligner with 10 ms frames trained on natural speech hands a vowel's transitions to its
neighbours. Against espeak-ng's truth (:mod:`vowelprompt.corpora.segment`: the vowel owns its transitions)
pocketsphinx starts a vowel after /w/ ~40 ms late, after /r/ ~30 ms, after /l/ ~15 ms, and ends it before
/l/, /r/ or /ŋ/ 20–30 ms early; at a pause it ends the vowel ~20 ms before the sound stops. These offsets are
systematic (the same sign for every voice and rate), so they are corrected by a table of shifts per
neighbouring phone, scaled with the speaking rate (slow speech has longer transitions, and the offsets grow
with it). The table was fitted on the alignment benchmark's *tuning* set only
(``python benchmarks/bench_alignment.py --set tuning --fit``); the held-out set reports how well it carries
over to voices, rates and sentences it never saw.

Edges that border silence (a pause, the start or end of the recording) have an acoustic landmark that
needs no table: the frame where short-time energy crosses a level well below the vowel's own. Those edges
move to it, within a bounded search window, and only into the silence or the vowel, never across a phone.

Invariants: phones stay in order and do not overlap, within and between words (the neighbour phone's edge
moves with the vowel's; a word's span follows its first and last phone); no phone shrinks below
``min_phone_s``; a vowel edge moves at most ``max_shift_s``; the result depends only on the samples and the
input words (deterministic). Labels may be ARPAbet (with or without stress digits) or IPA; which phones are
vowels comes from :mod:`vowelprompt.align.vowels`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from vowelprompt.align.vowels import NON_SPEECH, is_vowel, split_label
from vowelprompt.records import Phone, Word

#: IPA consonants → the ARPAbet class the shift tables are keyed by (so IPA aligners share the tables).
# fmt: off
_IPA_CLASS: dict[str, str] = {
    "w": "W", "ɹ": "R", "r": "R", "ʁ": "R", "ɾ": "R", "l": "L", "ɫ": "L", "j": "Y", "m": "M", "n": "N",
    "ŋ": "NG", "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "tʃ": "CH", "dʒ": "JH",
    "ç": "SH", "x": "HH", "χ": "HH", "pf": "F", "ts": "S",
}
# fmt: on

#: Seconds to move a vowel's onset *earlier* (positive) by the class of the phone before it, at the reference
#: rate (:data:`REF_PHONE_S`); fitted on the tuning set (median signed error of the unrefined onsets).
ONSET_SHIFT_S: dict[str, float] = {
    "B": -0.014,
    "D": -0.006,
    "DH": 0.005,
    "F": -0.012,
    "G": 0.005,
    "HH": 0.0,
    "JH": 0.002,
    "K": -0.016,
    "L": 0.016,
    "M": 0.006,
    "N": -0.001,
    "P": -0.004,
    "R": 0.031,
    "S": -0.004,
    "SH": -0.007,
    "T": -0.006,
    "W": 0.045,
    "Y": 0.018,
    "Z": -0.007,
}

#: Seconds to move a vowel's offset *later* (positive) by the class of the phone after it, as above.
OFFSET_SHIFT_S: dict[str, float] = {
    "B": 0.004,
    "D": 0.005,
    "DH": 0.006,
    "F": 0.004,
    "G": 0.002,
    "K": 0.006,
    "L": 0.022,
    "M": 0.003,
    "N": 0.011,
    "NG": 0.02,
    "P": 0.005,
    "R": 0.032,
    "S": 0.009,
    "T": 0.009,
    "W": -0.002,
    "Z": 0.006,
    "ZH": 0.009,
}

#: Mean phone duration (seconds) of the tuning set's alignments: shifts scale with an utterance's own mean
#: phone duration relative to this, bounded to ×0.6–1.6.
REF_PHONE_S = 0.0723


@dataclass(frozen=True)
class _Slot:
    word: int
    index: int
    phone: Phone


def neighbour_class(label: str) -> str:
    """The shift-table key of a phone label: ARPAbet base (``AH``→``V`` for any vowel), IPA mapped onto
    ARPAbet, ``#`` for silence.

    >>> neighbour_class("W"), neighbour_class("ɹ"), neighbour_class("AY1"), neighbour_class("sil")
    ('W', 'R', 'V', '#')
    """
    if label in NON_SPEECH:
        return "#"
    if is_vowel(label):
        return "V"
    base, _ = split_label(label)
    if base.isascii() and base.isupper():
        return base
    plain = "".join(c for c in unicodedata.normalize("NFD", base) if not unicodedata.combining(c))
    plain = plain.replace("ː", "").replace("͡", "")
    return _IPA_CLASS.get(plain, _IPA_CLASS.get(plain[:1], "?"))


def _energy_db(samples: np.ndarray, sr: int, hop_s: float) -> np.ndarray:
    hop = max(1, int(round(sr * hop_s)))
    n = len(samples) // hop
    frames = samples[: n * hop].astype(np.float64).reshape(n, hop)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)


def refine_vowels(
    samples: np.ndarray,
    sr: int,
    words: Sequence[Word],
    *,
    onset_shift_s: dict[str, float] | None = None,
    offset_shift_s: dict[str, float] | None = None,
    snap_silence: bool = True,
    max_shift_s: float = 0.06,
    min_phone_s: float = 0.01,
    silence_drop_db: float = 25.0,
) -> list[Word]:
    """Return ``words`` with vowel onsets and offsets moved as the module docstring says.

    Words without phones (unaligned) and phones that are not vowels are kept as they are, except for the edge
    a consonant shares with a moved vowel.
    """
    onset_table = ONSET_SHIFT_S if onset_shift_s is None else onset_shift_s
    offset_table = OFFSET_SHIFT_S if offset_shift_s is None else offset_shift_s
    slots = [_Slot(w, i, p) for w, word in enumerate(words) for i, p in enumerate(word.phones)]
    if not slots:
        return list(words)
    starts = [s.phone.start_s for s in slots]
    ends = [s.phone.end_s for s in slots]
    speech = [e - s for s, e in zip(starts, ends) if e > s]
    scale = float(np.clip(np.mean(speech) / REF_PHONE_S, 0.6, 1.6)) if speech else 1.0
    hop_s = 0.005
    energy = _energy_db(samples, sr, hop_s) if snap_silence and len(samples) else np.zeros(0)
    eps = 1e-6

    def touching_prev(k: int) -> bool:
        return k > 0 and abs(ends[k - 1] - starts[k]) < eps

    def touching_next(k: int) -> bool:
        return k + 1 < len(slots) and abs(starts[k + 1] - ends[k]) < eps

    for k, slot in enumerate(slots):
        if not is_vowel(slot.phone.label) or ends[k] <= starts[k]:
            continue
        # Onset.
        if touching_prev(k):
            cls = neighbour_class(slots[k - 1].phone.label)
            shift = float(np.clip(onset_table.get(cls, 0.0) * scale, -max_shift_s, max_shift_s))
            lo = starts[k - 1] + min_phone_s
            hi = ends[k] - min_phone_s
            new = min(max(starts[k] - shift, lo), hi)
            if lo <= hi:
                starts[k] = ends[k - 1] = round(new, 4)
        elif len(energy):
            lo = max(starts[k] - max_shift_s, ends[k - 1] if k > 0 else 0.0)
            hi = min(starts[k] + max_shift_s, ends[k] - min_phone_s)
            new = _snap(energy, hop_s, lo, hi, starts[k], ends[k], silence_drop_db, rising=True)
            if new is not None:
                starts[k] = round(new, 4)
        # Offset.
        if touching_next(k):
            cls = neighbour_class(slots[k + 1].phone.label)
            shift = float(np.clip(offset_table.get(cls, 0.0) * scale, -max_shift_s, max_shift_s))
            lo = starts[k] + min_phone_s
            hi = ends[k + 1] - min_phone_s
            new = min(max(ends[k] + shift, lo), hi)
            if lo <= hi:
                ends[k] = starts[k + 1] = round(new, 4)
        elif len(energy):
            nxt = starts[k + 1] if k + 1 < len(slots) else len(samples) / sr
            lo = max(ends[k] - max_shift_s, starts[k] + min_phone_s)
            hi = min(ends[k] + max_shift_s, nxt)
            new = _snap(energy, hop_s, lo, hi, starts[k], ends[k], silence_drop_db, rising=False)
            if new is not None:
                ends[k] = round(new, 4)

    out: list[Word] = []
    for w, word in enumerate(words):
        ks = [k for k, s in enumerate(slots) if s.word == w]
        if not ks:
            out.append(word)
            continue
        phones = tuple(replace(slots[k].phone, start_s=starts[k], end_s=ends[k]) for k in ks)
        start = min(word.start_s, phones[0].start_s) if word.start_s is not None else phones[0].start_s
        end = max(word.end_s, phones[-1].end_s) if word.end_s is not None else phones[-1].end_s
        # A word's span follows its edge phones where they moved inward or outward.
        if word.start_s is not None and abs(word.start_s - slots[ks[0]].phone.start_s) < eps:
            start = phones[0].start_s
        if word.end_s is not None and abs(word.end_s - slots[ks[-1]].phone.end_s) < eps:
            end = phones[-1].end_s
        out.append(replace(word, start_s=start, end_s=end, phones=phones))
    return out


def _snap(
    energy: np.ndarray,
    hop_s: float,
    lo: float,
    hi: float,
    vowel_start: float,
    vowel_end: float,
    drop_db: float,
    rising: bool,
) -> float | None:
    """The time in [lo, hi] where energy crosses ``drop_db`` below the vowel's loudest frame: the last loud
    frame's end for an offset (``rising=False``), the first loud frame's start for an onset; None if the
    window holds no crossing (the vowel runs into another sound, not silence)."""
    a, b = int(vowel_start / hop_s), int(vowel_end / hop_s)
    if b <= a or a >= len(energy):
        return None
    level = float(np.max(energy[a : min(b, len(energy))])) - drop_db
    i0, i1 = max(0, int(np.floor(lo / hop_s))), min(len(energy), int(np.ceil(hi / hop_s)))
    if i1 - i0 < 2:
        return None
    loud = energy[i0:i1] > level
    if loud.all() or not loud.any():
        return None
    if rising:
        if loud[0]:
            return None  # already loud at the window's start: no silence to snap to
        first = int(np.argmax(loud))
        return max(lo, min(hi, (i0 + first) * hop_s))
    if loud[-1]:
        return None
    last = len(loud) - 1 - int(np.argmax(loud[::-1]))
    return max(lo, min(hi, (i0 + last + 1) * hop_s))
