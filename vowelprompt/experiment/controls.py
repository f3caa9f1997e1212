"""Counterfactual controls: the same prompts with the prosody made uninformative, so that a model that reads
the prosody must score lower under them (reviewers asked this of VowelPrompt).

Each control is a deterministic function of the test rows (and a seed) applied to the annotation rows, the
prompts' only input; the prompt is then built exactly as for the real run:

- ``shuffled``: every utterance gets the vowel levels of another utterance of the same test fold (a seeded
  derangement), spread over its own vowels and words; the utterance-level prosody moves with them;
- ``pitch_inverted``: pitch directions and levels mirrored (rising ↔ falling, high ↔ low, very high ↔ very
  low; flat and medium stay), in the vowel and the utterance descriptions;
- ``no_prosody``: no vowel or utterance prosody left in the row, prompted with the transcript-only template
  of the same family (``vowelprompt_context`` → ``transcript_context``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from vowelprompt.bins import LEVELS, SLOPE_LEVELS
from vowelprompt.records import Annotation, UtteranceProsody, Vowel
from vowelprompt.verbalize import describe

#: Level and slope words mirrored: every pitch cue maps to its opposite (the middle ones to themselves).
MIRROR_LEVEL = dict(zip(LEVELS, reversed(LEVELS)))
MIRROR_SLOPE = dict(zip(SLOPE_LEVELS, reversed(SLOPE_LEVELS)))
#: Prosody variables of a template: a template using none of them gains nothing from a control.
PROSODY_VARIABLES = ("vowel_descriptions", "utterance_description")


def _redescribed(row: Annotation) -> Annotation:
    return replace(row, description=describe(row, row.style or "paper"))


def derangement(n: int, seed: int) -> list[int]:
    """A seeded permutation of ``range(n)`` with no fixed point (for ``n ≥ 2``): ``out[i]`` is the donor
    of utterance ``i``.

    >>> sorted(derangement(5, 0)) == list(range(5)) and all(i != d for i, d in enumerate(derangement(5, 0)))
    True
    """
    order = list(range(n))
    random.Random(seed).shuffle(order)
    # A random cycle through the shuffled order: each takes the next one's prosody (no one keeps its own).
    donor = [0] * n
    for k, i in enumerate(order):
        donor[i] = order[(k + 1) % n]
    return donor


def shuffled(rows: list[Annotation], seed: int = 0) -> list[Annotation]:
    """``rows`` (one fold's test rows) with each utterance's vowel levels taken from another utterance."""
    ok = [i for i, r in enumerate(rows) if r.ok and r.vowels]
    out = list(rows)
    for i, d in zip(ok, derangement(len(ok), seed)):
        row, donor = rows[i], rows[ok[d]]
        n, m = len(row.vowels), len(donor.vowels)
        # Vowel k of the utterance takes the donor's vowel at the same relative position.
        vowels = tuple(
            replace(v, z=dict(donor.vowels[k * m // n].z), bins=dict(donor.vowels[k * m // n].bins))
            for k, v in enumerate(row.vowels)
        )
        out[i] = _redescribed(replace(row, vowels=vowels, utterance=donor.utterance))
    return out


def _invert_vowel(vowel: Vowel) -> Vowel:
    bins = dict(vowel.bins)
    if "pitch" in bins:
        bins["pitch"] = MIRROR_LEVEL[bins["pitch"]]
    if "pitch_slope" in bins:
        bins["pitch_slope"] = MIRROR_SLOPE[bins["pitch_slope"]]
    z = {k: (-v if k in ("pitch", "pitch_slope") else v) for k, v in vowel.z.items()}
    return replace(vowel, bins=bins, z=z)


def _invert_utterance(utt: UtteranceProsody | None) -> UtteranceProsody | None:
    if utt is None:
        return None
    bins = dict(utt.bins)
    if "pitch" in bins:
        bins["pitch"] = MIRROR_LEVEL[bins["pitch"]]
    z = {k: (-v if k == "pitch" else v) for k, v in utt.z.items()}
    return replace(utt, bins=bins, z=z)


def pitch_inverted(rows: list[Annotation], seed: int = 0) -> list[Annotation]:
    """``rows`` with every pitch level and slope mirrored (``seed`` unused: the control is fixed)."""
    return [
        _redescribed(
            replace(
                r, vowels=tuple(_invert_vowel(v) for v in r.vowels), utterance=_invert_utterance(r.utterance)
            )
        )
        if r.ok
        else r
        for r in rows
    ]


def no_prosody(rows: list[Annotation], seed: int = 0) -> list[Annotation]:
    """``rows`` with no vowel, no utterance prosody and no description left."""
    return [replace(r, vowels=(), utterance=None, description="") if r.ok else r for r in rows]


CONTROLS: dict[str, Callable[[list[Annotation], int], list[Annotation]]] = {
    "shuffled": shuffled,
    "pitch_inverted": pitch_inverted,
    "no_prosody": no_prosody,
}


def control_template(control: str, template: str) -> str:
    """The template a control is prompted with: the same one, but ``no_prosody`` uses the transcript-only
    template of the family (``vowelprompt_context`` → ``transcript_context``)."""
    if control != "no_prosody":
        return template
    return "transcript_context" if template.endswith("_context") else "transcript"


def shows_prosody(template) -> bool:
    """Whether a loaded template shows any prosody (only those are worth a control)."""
    return any(v in template.variables for v in PROSODY_VARIABLES)
