"""Turn binned descriptors into deterministic English text (METHOD.md §1.6–1.7). Always English.

Styles (:data:`STYLES`):

- ``paper`` — one sentence per vowel, tied to its word, as in the VowelPrompt paper.
- ``speechcue`` — one sentence for the whole utterance, as in SpeechCueLLM.
- ``compact`` — the paper style's information as digit codes, one line per word, after a one-line legend;
  about 45 % of the paper style's tokens for a typical utterance (``benchmarks/bench_speed.py``).

A descriptor without a bin (e.g. no pitch in an unvoiced vowel) is left out of the text, never invented.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

from vowelprompt.errors import ConfigError
from vowelprompt.normalize import LEVELS
from vowelprompt.records import Annotation, Vowel

DURATION_WORDS = dict(zip(LEVELS, ("very short", "short", "medium", "long", "very long")))
RATE_WORDS = dict(zip(LEVELS, ("very low", "low", "moderate", "high", "very high")))
VARIATION_WORDS = dict(zip(LEVELS, ("very low", "low", "moderate", "high", "very high")))


def _join(parts: list[str]) -> str:
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def _with_variation(level: str | None, variation: str | None, noun: str) -> str | None:
    if level is None and variation is None:
        return None
    if level is None:
        return f"{variation} {noun} variation"
    return f"{level} {noun}" + (f" with {variation} variation" if variation else "")


def vowel_sentence(vowel: Vowel) -> str:
    """One paper-style sentence.

    >>> from vowelprompt.records import VowelSpan, VowelFeatures
    >>> span = VowelSpan("IH", "ɪ", 1, 0.1, 0.2, "it's", 0)
    >>> feats = VowelFeatures(100.0, 0.0, 1.0, 0.1, -20.0, 2.0, 0.1, 10)
    >>> bins = {"pitch_slope": "flat", "pitch": "high", "pitch_var": "very low", "energy": "low",
    ...         "energy_var": "high", "duration": "high"}
    >>> vowel_sentence(Vowel(span, feats, {}, bins))
    'The vowel /ɪ/ in "it\\'s" has a flat pitch slope, high pitch with very low variation, low intensity with high variation, and long duration.'
    """  # noqa: E501
    b = vowel.bins
    parts = []
    if "pitch_slope" in b:
        parts.append(f"a {b['pitch_slope']} pitch slope")
    for part in (
        _with_variation(b.get("pitch"), b.get("pitch_var"), "pitch"),
        _with_variation(b.get("energy"), b.get("energy_var"), "intensity"),
    ):
        if part:
            parts.append(part)
    if "duration" in b:
        parts.append(f"{DURATION_WORDS[b['duration']]} duration")
    if not parts:
        return f'The vowel /{vowel.span.ipa}/ in "{vowel.span.word}" could not be measured.'
    return f'The vowel /{vowel.span.ipa}/ in "{vowel.span.word}" has {_join(parts)}.'


def paper(annotation: Annotation) -> str:
    """One sentence per vowel, in time order."""
    return "\n".join(vowel_sentence(v) for v in annotation.vowels)


def speechcue(annotation: Annotation) -> str:
    """One sentence of utterance-level volume, pitch and speaking rate (SpeechCueLLM)."""
    utt = annotation.utterance
    b = utt.bins if utt else {}
    parts = []
    for level_key, var_key, noun in (("volume", "volume_var", "volume"), ("pitch", "pitch_var", "pitch")):
        if level_key in b:
            var = f" with {VARIATION_WORDS[b[var_key]]} variation" if var_key in b else ""
            parts.append(f"{b[level_key]} {noun}{var}")
    if "rate" in b:
        parts.append(f"{RATE_WORDS[b['rate']]} speaking rate")
    if not parts:
        return "Target speech characteristics: not measurable."
    return f"Target speech characteristics: {', '.join(parts)}."


_CODE = dict(zip(LEVELS, "12345"))
_SLOPE_CODE = {
    "flat": "0",
    "slightly rising": "+1", "moderately rising": "+2", "steeply rising": "+3",
    "slightly falling": "-1", "moderately falling": "-2", "steeply falling": "-3",
}  # fmt: skip
COMPACT_LEGEND = (
    "Vowel codes by word: /vowel/ pitch, pitch variation, slope, intensity, intensity variation, duration "
    "(1-5 = very low to very high; slope -3 to +3 = steeply falling to steeply rising, 0 flat; - none)."
)


def compact_code(vowel: Vowel) -> str:
    """``/ɪ/ 4 1 +2 2 4 4``: the same bins as :func:`vowel_sentence`, coded in the legend's order."""
    b = vowel.bins

    def code(key: str) -> str:
        return _CODE[b[key]] if key in b else "-"

    slope = _SLOPE_CODE[b["pitch_slope"]] if "pitch_slope" in b else "-"
    return (
        f"/{vowel.span.ipa}/ {code('pitch')} {code('pitch_var')} {slope} "
        f"{code('energy')} {code('energy_var')} {code('duration')}"
    )


def compact(annotation: Annotation) -> str:
    """A legend line, then one line per word: ``beautiful: /u/ 5 3 -2 3 5 3, /ə/ 4 2 -1 4 2 2``."""
    lines = [COMPACT_LEGEND]
    for _, group in groupby(annotation.vowels, key=lambda v: v.span.word_index):
        vowels = list(group)
        lines.append(f"{vowels[0].span.word}: " + ", ".join(compact_code(v) for v in vowels))
    return "\n".join(lines)


STYLES: dict[str, Callable[[Annotation], str]] = {"paper": paper, "speechcue": speechcue, "compact": compact}
#: The styles that describe each vowel (a prompt's ``vowel_style``); ``speechcue`` describes the utterance.
VOWEL_STYLES = ("paper", "compact")


def describe(annotation: Annotation, style: str = "paper") -> str:
    """The description of ``annotation`` in ``style`` (a key of :data:`STYLES`)."""
    if style not in STYLES:
        raise ConfigError(f"unknown style {style!r}; choose one of: {', '.join(STYLES)}")
    return STYLES[style](annotation)
