"""Turn binned descriptors into deterministic English text (docs/method.md §1.6–1.7). Always English.

Styles (:data:`STYLES`):

- ``paper`` — one sentence per vowel, tied to its word, as in the VowelPrompt paper.
- ``speechcue`` — one sentence for the whole utterance, as in SpeechCueLLM.
- ``compact`` — the paper style's information as digit codes, one line per word, after a one-line legend;
  about 45 % of the paper style's tokens for a typical utterance (``benchmarks/bench_speed.py``).

A descriptor without a bin (e.g. no pitch in an unvoiced vowel) is left out of the text, never invented.

This module owns the cue vocabulary (the level, slope and duration words and the nouns) and its inverse:
:func:`read_vowels` and :func:`read_cues` read paper-style sentences back into bins and word–cue pairs, and
:data:`CUE_PATTERN` finds cue phrases in free text (the grounding reward and the trace builder use them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import groupby

from vowelprompt.bins import LEVELS, SLOPE_LEVELS
from vowelprompt.errors import ConfigError
from vowelprompt.records import Annotation, Vowel

#: Pitch, intensity and their variation are worded by their level (:data:`~vowelprompt.bins.LEVELS`);
#: durations, speaking rates and utterance-level variation by these words.
DURATION_WORDS = dict(zip(LEVELS, ("very short", "short", "medium", "long", "very long")))
RATE_WORDS = dict(zip(LEVELS, ("very low", "low", "moderate", "high", "very high")))
VARIATION_WORDS = dict(zip(LEVELS, ("very low", "low", "moderate", "high", "very high")))

#: Descriptor → the noun a description names it by.
NOUNS = {
    "pitch": "pitch",
    "energy": "intensity",
    "duration": "duration",
    "pitch_var": "pitch variation",
    "energy_var": "intensity variation",
}

#: Pitch-slope classes (:data:`~vowelprompt.bins.SLOPE_LEVELS`), falling to rising, with their signed step
#: (the compact style's code).
SLOPE_STEPS = {name: step - 3 for step, name in enumerate(SLOPE_LEVELS)}


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
        _with_variation(b.get("pitch"), b.get("pitch_var"), NOUNS["pitch"]),
        _with_variation(b.get("energy"), b.get("energy_var"), NOUNS["energy"]),
    ):
        if part:
            parts.append(part)
    if "duration" in b:
        parts.append(f"{DURATION_WORDS[b['duration']]} {NOUNS['duration']}")
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
_SLOPE_CODE = {slope: f"{step:+d}" if step else "0" for slope, step in SLOPE_STEPS.items()}
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
#: The styles that describe each vowel (a prompt's ``style``); ``speechcue`` describes the utterance.
VOWEL_STYLES = ("paper", "compact")


def describe(annotation: Annotation, style: str = "paper") -> str:
    """The description of ``annotation`` in ``style`` (a key of :data:`STYLES`)."""
    if style not in STYLES:
        raise ConfigError(f"unknown style {style!r}; choose one of: {', '.join(STYLES)}")
    return STYLES[style](annotation)


# --- Leans: how the vowels of an utterance lean, in words (a trace's summary) -----------------------------


def _lean(values: list[str], up: str, down: str) -> str:
    """``up``, ``down``, ``even`` (as many of each) or ``neither``: which kind of bin is more frequent."""
    n_up, n_down = sum(up in b for b in values), sum(down in b for b in values)
    if n_up == n_down:
        return "neither" if n_up == 0 else "even"
    return "up" if n_up > n_down else "down"


LEAN_WORDS = {
    "pitch_slope": {
        "up": "the pitch mostly rises",
        "down": "the pitch mostly falls",
        "even": "the pitch rises as often as it falls",
        "neither": "the pitch is mostly flat",
    },
    "pitch": {
        "up": "it leans high",
        "down": "it leans low",
        "even": "it is as often high as low",
        "neither": "it is mostly medium",
    },
    "energy": {
        "up": "intensity leans high",
        "down": "intensity leans low",
        "even": "intensity is as often high as low",
        "neither": "intensity is mostly medium",
    },
    "duration": {
        "up": "vowels lean long",
        "down": "vowels lean short",
        "even": "vowels are as often long as short",
        "neither": "durations are mostly medium",
    },
}
"""How a trace words each lean (:func:`vowel_leans`) of each descriptor."""


def vowel_leans(row: Annotation) -> dict[str, str]:
    """For pitch slope, pitch, intensity and duration: ``up`` when more vowels are rising than falling
    (high than low, long than short), ``down`` when fewer, ``even`` when as many, ``neither`` when none."""
    leans = {}
    for key in LEAN_WORDS:
        up, down = ("rising", "falling") if key == "pitch_slope" else ("high", "low")  # "high" in "very high"
        leans[key] = _lean([v.bins.get(key, "") for v in row.vowels], up, down)
    return leans


def vowel_summary(row: Annotation) -> str:
    """Which way the vowels lean over the utterance: the pattern no single vowel shows, in words.

    :func:`vowel_leans` in :data:`LEAN_WORDS`. Qualitative on purpose: a small model learns to judge a
    majority far more easily than to count.

    >>> from vowelprompt.records import VowelSpan, VowelFeatures
    >>> f = VowelFeatures(100.0, 0.0, 1.0, 0.1, -20.0, 2.0, 0.1, 10)
    >>> v = lambda bins: Vowel(VowelSpan("AE", "æ", 1, 0.1, 0.2, "cat", 0), f, {}, bins)
    >>> rising = v({"pitch": "high", "pitch_slope": "steeply rising"})
    >>> falling = v({"pitch": "very high", "pitch_slope": "slightly falling", "duration": "very low"})
    >>> vowel_summary(Annotation("a", "a.wav", "ok", vowels=(rising, falling)))
    'Across the vowels, the pitch rises as often as it falls and it leans high; intensity is mostly medium; \
vowels lean short.'
    """
    words = {key: LEAN_WORDS[key][lean] for key, lean in vowel_leans(row).items()}
    return (
        f"Across the vowels, {words['pitch_slope']} and {words['pitch']}; "
        f"{words['energy']}; {words['duration']}."
    )


# --- The inverse: paper-style sentences read back --------------------------------------------------------

_SENTENCE = re.compile(r'The vowel /(?P<ipa>[^/]+)/ in "(?P<word>[^"]+)" has (?P<body>[^\n]*)')


def _words(options) -> str:
    """A regex alternation of ``options``, longest first (``very high`` before ``high``)."""
    return "|".join(re.escape(o) for o in sorted(options, key=len, reverse=True))


_LEVEL = _words(LEVELS)


def _level_part(key: str) -> str:
    """``high pitch``, ``high pitch with low variation`` or ``low pitch variation`` (no level measured)."""
    noun = NOUNS[key]
    return (
        rf"(?P<{key}>{_LEVEL}) {noun}(?: with (?P<{key}_var>{_LEVEL}) variation)?"
        rf"|(?P<{key}_var_alone>{_LEVEL}) {noun} variation"
    )


#: One pattern per part of a vowel sentence, named by the bins it states.
_PARTS = [
    re.compile(rf"a (?P<pitch_slope>{_words(SLOPE_STEPS)}) pitch slope"),
    re.compile(rf"(?P<duration>{_words(DURATION_WORDS.values())}) {NOUNS['duration']}"),
    re.compile(_level_part("pitch")),
    re.compile(_level_part("energy")),
]
_DURATION_LEVEL = {word: level for level, word in DURATION_WORDS.items()}


def read_bins(body: str) -> dict[str, str]:
    """The bins a paper-style sentence's body states (the inverse of :func:`vowel_sentence`); parts it does
    not recognise are skipped.

    >>> read_bins("a steeply rising pitch slope, very high pitch with low variation, and long duration.")
    {'pitch_slope': 'steeply rising', 'pitch': 'very high', 'pitch_var': 'low', 'duration': 'high'}
    """
    body = body.strip().removesuffix(".")
    head, sep, last = body.rpartition(", and ")
    parts = [*head.split(", "), last] if sep else body.split(" and ")
    bins: dict[str, str] = {}
    for part in parts:
        for pattern in _PARTS:
            m = pattern.fullmatch(part)
            if m:
                for key, value in m.groupdict().items():
                    if value is not None:
                        key = key.removesuffix("_alone")
                        bins[key] = _DURATION_LEVEL[value] if key == "duration" else value
                break
    return bins


def read_vowels(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """(ipa, word, bins) for every paper-style vowel sentence in ``text`` (a whole prompt will do)."""
    return [(m["ipa"], m["word"], read_bins(m["body"])) for m in _SENTENCE.finditer(text)]


def cues(bins: dict[str, str]) -> set[str]:
    """The cue phrases a reasoning may cite for a vowel with ``bins``: pitch and intensity levels
    (``very high pitch``), duration (``long duration``) and the slope's direction (``rising``)."""
    found = {f"{bins[key]} {NOUNS[key]}" for key in ("pitch", "energy") if key in bins}
    if "duration" in bins:
        found.add(f"{DURATION_WORDS[bins['duration']]} {NOUNS['duration']}")
    if "pitch_slope" in bins:
        found.add(bins["pitch_slope"].split()[-1])
    return found


def read_cues(text: str) -> dict[str, set[str]]:
    """Word (lower case) → the cue phrases the paper-style vowel sentences in ``text`` give it.

    >>> read_cues('The vowel /eɪ/ in "great" has a steeply rising pitch slope, high pitch with low '
    ...           'variation, and long duration.')["great"] >= {"high pitch", "long duration", "rising"}
    True
    """
    found: dict[str, set[str]] = {}
    for _, word, bins in read_vowels(text):
        found.setdefault(word.lower(), set()).update(cues(bins))
    return found


#: A cue phrase as :func:`cues` words it, inside free text (a model's reasoning).
CUE_PATTERN = re.compile(
    rf"\b(?:(?:{_LEVEL}) (?:{NOUNS['pitch']}|{NOUNS['energy']})"
    rf"|(?:{_words(DURATION_WORDS.values())}) {NOUNS['duration']}|rising|falling|flat)\b"
)


FALLBACK_NOTE = "no fitted statistics: "


def fallback_note(style: str) -> str:
    """What the levels of a row without fitted statistics are judged against, exactly (normalize.py).

    Vowel levels are z-scores among the utterance's own vowels. An utterance-level level (the speechcue
    style) cannot be judged against its own utterance, so it is judged against fixed reference values
    measured on synthetic espeak-ng speech, which says nothing about this speaker's range.
    """
    if style == "speechcue":
        return (
            f"{FALLBACK_NOTE}utterance levels are judged against fixed reference values from synthetic "
            "espeak-ng speech (vowelprompt.normalize.REFERENCE_UTTERANCE), not against this speaker; "
            "run fit-stats on your corpus"
        )
    return f"{FALLBACK_NOTE}levels are relative to this utterance's own vowels"
