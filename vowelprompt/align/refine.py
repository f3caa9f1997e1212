"""Vowel-boundary refinement after forced alignment: correct the aligner's known bias per neighbouring phone,
then move edges to acoustic landmarks near them.

Why: an HMM aligner with 10 ms frames trained on natural speech hands a vowel's transitions to its
neighbours. Against espeak-ng's truth (:mod:`vowelprompt.corpora.segment`: the vowel owns its transitions)
pocketsphinx starts a vowel after /w/ ~40 ms late, after /r/ ~30 ms, after /l/ ~15 ms, and ends it before
/l/, /r/ or /ŋ/ 20–30 ms early; at a pause it ends the vowel ~20 ms before the sound stops. These offsets are
systematic (the same sign for every voice and rate), so they are corrected by a table of shifts per
neighbouring phone, scaled with the speaking rate (slow speech has longer transitions, and the offsets grow
with it). The table was fitted on the alignment benchmark's *tuning* set only
(``python benchmarks/bench_alignment.py --set tuning --fit``); the held-out set reports how well it carries
over to voices, rates and sentences it never saw.

Then, in order of how sharp the landmark is:

* an edge that borders silence (a pause, the start or end of the recording) moves to the frame where
  short-time energy crosses a level ``silence_drop_db`` below the vowel's loudest frame;
* an edge shared with an obstruent or nasal (:data:`LANDMARK_CLASSES`: closure, burst, frication, nasal
  murmur) moves, after the table shift, to the fastest change of the log band spectrum within
  ``landmark_window_s``;
* a vowel onset after a voiceless stop that is 30 ms or more from where voicing starts moves there (a guard
  against the aligner's occasional large misses, not a tuning gain: :data:`VOICING_ONSET_CLASSES`);
* an edge between two vowels (the aligner splits one voiced stretch with little evidence) moves to the fastest
  spectral change within ``vowel_vowel_window_s``.
* a liquid beside a vowel and not between two (a coda /r/, a syllabic /l/, an onset /l/) keeps at most
  :data:`CODA_KEEP_S` / :data:`ONSET_KEEP_S` of its length, the rest going to the vowel (moving the edge up to
  ``liquid_max_shift_s``): the table's constant shift cannot follow a liquid the aligner stretched.

What each step bought (mean vowel-boundary error, tuning | held-out; raw pocketsphinx 17.7 | 19.4 ms): shift
table 13.3 | 15.7, + pause edges 13.2 | 15.2, + vowel–vowel 12.7 | 15.1, + obstruent/nasal landmarks 11.6 |
13.9 ms; the windows and classes were chosen on the tuning set. The liquids' limits, added later (against the
corrected truth, the default aligner with its retries; ``python benchmarks/bench_alignment.py --set S``):
tuning 11.0 → 10.4 ms, held-out sets 1–15 12.1 → 11.6 ms on average, the two sets sealed for them 10.9 → 10.7
and 9.8 → 9.1 ms, midpoint hits within 0.1 point (README, *This release: liquids the aligner stretched*).
Gross misalignments (a word placed hundreds of ms away, the bulk of what is left on the held-out set) are not
repaired: no edge moves more than ``max_shift_s`` (beside a liquid, ``liquid_max_shift_s``).

Invariants: phones stay in order and do not overlap, within and between words (the neighbour phone's edge
moves with the vowel's; a word's span follows its first and last phone); no phone shrinks below
``min_phone_s``; a vowel edge moves at most ``max_shift_s`` (beside a liquid, ``liquid_max_shift_s``); the
result depends only on the samples and the input words (deterministic). Labels may be ARPAbet (with or without
stress digits) or IPA; which phones are vowels comes from :mod:`vowelprompt.align.vowels`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from vowelprompt.align.landmarks import energy_db, peak, snap, spectral_change, voicing, voicing_edge
from vowelprompt.align.vowels import NON_SPEECH, is_vowel, split_label, vowel_info
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
    "K": -0.015,
    "L": 0.016,
    "M": 0.006,
    "N": -0.001,
    "P": -0.004,
    "R": 0.032,
    "S": -0.004,
    "SH": -0.007,
    "T": -0.006,
    "W": 0.044,
    "Y": 0.017,
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
    "L": 0.021,
    "M": 0.003,
    "N": 0.011,
    "NG": 0.02,
    "P": 0.005,
    "R": 0.033,
    "S": 0.008,
    "T": 0.008,
    "W": -0.002,
    "Z": 0.006,
    "ZH": 0.009,
}

#: The most a liquid after a vowel (and not before another vowel: "car", "table", not "color") keeps, at the
#: reference rate, after the table shift: the rest of it goes to the vowel. Without a duration model
#: pocketsphinx lets a coda /r/ or a syllabic /l/ (a schwa before a coda /l/: "table", "little", "apples")
#: take the vowel's liquid-coloured end, and the longer it makes the liquid, the earlier the vowel ends (the
#: table's constant shift cannot follow that). Both keep only the shortest phone: a coda /r/'s colour is the
#: vowel's (r-coloured, or no /r/ at all in non-rhotic voices), and a syllabic /l/ is its syllable's nucleus.
#: Fitted on the tuning set (/r/ 0.01–0.06 s tried, syllabic /l/ 0.01 and 0.03 s; any other coda /l/
#: ("old", "school") 0.03–0.2 s: no gain once the syllabic one had its own limit; nasals: no gain).
CODA_KEEP_S: dict[str, float] = {"R": 0.01, "syllabic L": 0.01}

#: The same for a liquid before a vowel and not after one ("late", "blue", not "color"): the most it keeps
#: from its start. Fitted on the tuning set (/l/ 0.04–0.08 s; /w/ cost 0.1 ms there, /r/ and /j/ changed
#: nothing: left out).
ONSET_KEEP_S: dict[str, float] = {"L": 0.06}

#: Neighbours whose boundary with a vowel is a sharp spectral landmark (closure, burst, frication onset,
#: nasal murmur): after the table shift such an edge moves to the fastest spectral change within
#: ``landmark_window_s``. Liquids and glides are left out: their transition is gradual, and on the tuning
#: set snapping them did not help (11.7 vs 11.5 ms).
LANDMARK_CLASSES = frozenset(
    [
        "B",
        "D",
        "G",
        "P",
        "T",
        "K",
        "F",
        "V",
        "S",
        "Z",
        "SH",
        "ZH",
        "TH",
        "DH",
        "HH",
        "CH",
        "JH",
        "M",
        "N",
        "NG",
    ]
)

#: Voiceless stops, after which a vowel starts where voicing starts. pocketsphinx sometimes puts such an
#: onset 50 ms inside the vowel (seen on PSOLA-stretched speech, tests/test_manipulations.py); the voicing
#: onset replaces the edge only when it is ``voicing_jump_s`` (30 ms) or more away, which left the tuning
#: set's figures unchanged (applied always, or after fricatives too, it cost 0.2–0.8 ms there).
VOICING_ONSET_CLASSES = frozenset(["P", "T", "K"])

#: Mean phone duration (seconds) of the tuning set's alignments: shifts scale with an utterance's own mean
#: phone duration relative to this, bounded to ×0.6–1.6.
REF_PHONE_S = 0.0754


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


def _is_schwa(label: str) -> bool:
    info = vowel_info(label)
    return info is not None and info[1] == "ə"


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
    vowel_vowel_window_s: float = 0.04,
    landmark_window_s: float = 0.01,
    landmark_classes: frozenset[str] | None = None,
    voicing_classes: frozenset[str] = VOICING_ONSET_CLASSES,
    voicing_threshold: float = 0.5,
    voicing_jump_s: float = 0.03,
    coda_keep_s: dict[str, float] | None = None,
    onset_keep_s: dict[str, float] | None = None,
    liquid_max_shift_s: float = 0.2,
) -> list[Word]:
    """Return ``words`` with vowel onsets and offsets moved as the module docstring says.

    Words without phones (unaligned) and phones that are not vowels are kept as they are, except for the edge
    a consonant shares with a moved vowel.
    """
    landmark_classes = LANDMARK_CLASSES if landmark_classes is None else landmark_classes
    coda_keep = CODA_KEEP_S if coda_keep_s is None else coda_keep_s
    onset_keep = ONSET_KEEP_S if onset_keep_s is None else onset_keep_s
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
    # one energy track for the pause snap and the voicing guard
    db = energy_db(samples, sr, hop_s) if (snap_silence or voicing_classes) and len(samples) else np.zeros(0)
    energy = db if snap_silence else np.zeros(0)
    eps = 1e-6
    change = (
        spectral_change(samples, sr, hop_s)
        if (vowel_vowel_window_s > 0 or landmark_window_s > 0) and len(samples)
        else np.zeros(0)
    )

    def touching_prev(k: int) -> bool:
        return k > 0 and abs(ends[k - 1] - starts[k]) < eps

    def touching_next(k: int) -> bool:
        return k + 1 < len(slots) and abs(starts[k + 1] - ends[k]) < eps

    voiced = np.zeros(0, dtype=bool)
    if voicing_classes and len(samples):
        voiced = np.zeros(len(db), dtype=bool)
        reach = int(np.ceil(max_shift_s / hop_s)) + 1
        needed = sorted(
            {
                i
                for k in range(1, len(slots))
                if is_vowel(slots[k].phone.label)
                and touching_prev(k)
                and neighbour_class(slots[k - 1].phone.label) in voicing_classes
                for i in range(int(starts[k] / hop_s) - reach, int(starts[k] / hop_s) + reach + 1)
                if 0 <= i < len(db)
            }
        )
        index = np.array(needed, dtype=int)
        if len(index):
            vac = voicing(samples, sr, hop_s, index)
            voiced[index] = (vac > voicing_threshold) & (db[index] > np.max(db) - 35)

    for k, slot in enumerate(slots):
        if not is_vowel(slot.phone.label) or ends[k] <= starts[k]:
            continue
        # Onset.
        if touching_prev(k):
            cls = neighbour_class(slots[k - 1].phone.label)
            lo = max(starts[k - 1] + min_phone_s, starts[k] - max_shift_s)
            hi = min(ends[k] - min_phone_s, starts[k] + max_shift_s)
            if cls == "V":
                new = peak(change, hop_s, starts[k], vowel_vowel_window_s, lo, hi)
            else:
                new = starts[k] - onset_table.get(cls, 0.0) * scale
                if cls in landmark_classes:
                    new = peak(change, hop_s, new, landmark_window_s, lo, hi, default=new)
                if cls in voicing_classes and len(voiced):
                    edge = voicing_edge(voiced, hop_s, new, lo, hi, onset=True)
                    new = edge if abs(edge - new) >= voicing_jump_s else new
                if cls in onset_keep and not (touching_prev(k - 1) and is_vowel(slots[k - 2].phone.label)):
                    lo = max(starts[k - 1] + min_phone_s, starts[k] - liquid_max_shift_s)
                    new = min(new, starts[k - 1] + onset_keep[cls] * scale)
            if new is not None and lo <= hi:
                starts[k] = ends[k - 1] = round(min(max(new, lo), hi), 4)
        elif len(energy):
            lo = max(starts[k] - max_shift_s, ends[k - 1] if k > 0 else 0.0)
            hi = min(starts[k] + max_shift_s, ends[k] - min_phone_s)
            new = snap(energy, hop_s, lo, hi, starts[k], ends[k], silence_drop_db, rising=True)
            if new is not None:
                starts[k] = round(new, 4)
        # Offset (an edge shared with a following vowel is that vowel's onset, handled above).
        if touching_next(k) and not is_vowel(slots[k + 1].phone.label):
            cls = neighbour_class(slots[k + 1].phone.label)
            lo = max(starts[k] + min_phone_s, ends[k] - max_shift_s)
            hi = min(ends[k + 1] - min_phone_s, ends[k] + max_shift_s)
            new = ends[k] + offset_table.get(cls, 0.0) * scale
            if cls in landmark_classes:
                new = peak(change, hop_s, new, landmark_window_s, lo, hi, default=new)
            key = "syllabic L" if cls == "L" and _is_schwa(slot.phone.label) else cls
            if key in coda_keep and not (touching_next(k + 1) and is_vowel(slots[k + 2].phone.label)):
                hi = min(ends[k + 1] - min_phone_s, ends[k] + liquid_max_shift_s)
                new = max(new, ends[k + 1] - coda_keep[key] * scale)
            if lo <= hi:
                ends[k] = starts[k + 1] = round(min(max(new, lo), hi), 4)
        elif len(energy):
            nxt = starts[k + 1] if k + 1 < len(slots) else len(samples) / sr
            lo = max(ends[k] - max_shift_s, starts[k] + min_phone_s)
            hi = min(ends[k] + max_shift_s, nxt)
            new = snap(energy, hop_s, lo, hi, starts[k], ends[k], silence_drop_db, rising=False)
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
