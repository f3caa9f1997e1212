"""What a prompt asks for (``task``): one label, a blend of up to two labels, or dimensional ratings; the
text that asks it and the decoding constraint for its answer.

- ``label`` — one emotion of the set (the shipped templates as they always were).
- ``blend`` — one emotion (salience 100) or two different ones with their relative salience, the more salient
  first: 50/50 or 70/30, the forms BLEMORE annotates (30/70 is 70/30 with the labels swapped). The label
  templates serve as they are: their ``{labels}`` variable offers the blend and ``{output_instructions}``
  gives its answer format, ``<answer>happy 70, sad 30</answer>`` or ``{"blend": [{"label": "happy",
  "salience": 70}, {"label": "sad", "salience": 30}]}``.
- ``dimensions`` — numeric ratings of valence, arousal and dominance on the corpus's ``scale`` (1–5 as in
  IEMOCAP by default; MSP-Podcast rates 1–7): ``<answer>valence=2.5, arousal=4, dominance=3</answer>`` or
  ``{"ratings": {"valence": 2.5, "arousal": 4, "dominance": 3}}``. A label template asks "which emotion",
  so this task has its own shipped templates (``vowelprompt_dimensions``, ``speechcue_dimensions``,
  ``transcript_dimensions``), chosen by :func:`task_template`; the scale and what each dimension means are
  in ``{output_instructions}``, so a user's own template gets them too.

The parser for blends and ratings is :mod:`vowelprompt.parse_modes`.
"""

from __future__ import annotations

import re
from typing import Any

from vowelprompt.backends import Structure
from vowelprompt.backends.answers import MAX_REASONING_CHARS
from vowelprompt.errors import ConfigError
from vowelprompt.labels import LabelSet
from vowelprompt.prompts.templates import builtin_templates

TASKS = ("label", "blend", "dimensions")
DIMENSIONS = ("valence", "arousal", "dominance")
#: What each dimension means: (what it rates, its low end, its high end), as IEMOCAP's and MSP-Podcast's
#: rating instructions put them (self-assessment manikins).
DIMENSION_MEANINGS = {
    "valence": ("how negative or positive the speaker feels", "very negative", "very positive"),
    "arousal": ("how calm or activated (energetic, excited) the speaker is", "very calm", "very activated"),
    "dominance": ("how weak or strong (in control) the speaker sounds", "very weak", "very strong"),
}
#: The saliences a blend answer may give, most salient first (BLEMORE's 50/50, 70/30 and 30/70).
BLEND_FORMS = ((100,), (50, 50), (70, 30))
DEFAULT_SCALE = (1.0, 5.0)


def number(value: float) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5: scale ends as a prompt writes them."""
    return f"{value:g}"


def check_scale(scale: Any) -> tuple[float, float]:
    """``scale`` as (low, high) floats; a clear error for anything else (``"1-7"`` is read too)."""
    if isinstance(scale, str):
        m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*(?:-|–|to|,|\.\.)\s*(-?\d+(?:\.\d+)?)\s*", scale)
        scale = (m.group(1), m.group(2)) if m else ()
    try:
        low, high = (float(x) for x in scale)
    except (TypeError, ValueError):
        raise ConfigError(f"a rating scale is two numbers, low and high (e.g. 1-5), got {scale!r}") from None
    if not low < high:
        raise ConfigError(f"a rating scale needs low < high, got {number(low)}–{number(high)}")
    return low, high


def task_template(name: str, task: str) -> str:
    """The template to load for ``task``: a shipped label template ``X`` asks for ratings as
    ``X_dimensions``; a shipped ``*_dimensions`` template serves the dimensions task only. A user's
    file is taken as it is."""
    if task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    shipped = builtin_templates()
    if name not in shipped:
        return name
    rates = name.endswith("_dimensions")
    if task == "dimensions" and not rates:
        if f"{name}_dimensions" in shipped:
            return f"{name}_dimensions"
        choices = ", ".join(t for t in shipped if t.endswith("_dimensions"))
        raise ConfigError(
            f"template {name!r} asks for a label and has no dimensions variant; choose one of: {choices}, "
            "or give a .yaml file"
        )
    if rates and task != "dimensions":
        raise ConfigError(f"template {name!r} asks for ratings; use it with task dimensions")
    return name


def labels_text(labels: LabelSet, task: str) -> str:
    """The ``{labels}`` variable: the set, and for a blend the offer of two."""
    listed = ", ".join(labels.labels)
    if task == "blend":
        return f"{listed} — or, if the speaker expresses a blend, two of them with their relative salience"
    return listed


def instructions(task: str, output_format: str, labels: LabelSet, scale: tuple[float, float]) -> str:
    """The ``{output_instructions}`` variable for a blend or ratings (the label task's are in assembly)."""
    if task == "blend":
        forms = "salience 100 for one emotion, or two different labels with 50 and 50 or 70 and 30"
        if output_format == "json":
            return (
                'Answer with only a JSON object: {"reasoning": "your reasoning", "evidence": ["the words, '
                'vowels and cues you relied on"], "blend": [{"label": "a label from the list", "salience": '
                f'70}}, {{"label": "another label from the list", "salience": 30}}]}}, with {forms}, the '
                "more salient first."
            )
        return (
            "Think step by step, then answer in exactly this format: <think>your reasoning</think>"
            "<answer>label salience, label salience</answer>, with labels from the list and "
            f"{forms}, the more salient first: e.g. <answer>sad 100</answer> or "
            "<answer>happy 70, sad 30</answer>."
        )
    low, high = number(scale[0]), number(scale[1])
    meanings = "; ".join(
        f"{d} — {what} ({low} = {lo_end}, {high} = {hi_end})"
        for d, (what, lo_end, hi_end) in DIMENSION_MEANINGS.items()
    )
    ask = f"Rate the speaker on a scale from {low} to {high} (decimals allowed): {meanings}."
    if output_format == "json":
        return (
            f'{ask} Answer with only a JSON object: {{"reasoning": "your reasoning", "evidence": ["the '
            'words, vowels and cues you relied on"], "ratings": {"valence": number, "arousal": number, '
            f'"dominance": number}}}}, each number from {low} to {high}.'
        )
    return (
        f"{ask} Think step by step, then answer in exactly this format: <think>your reasoning</think>"
        "<answer>valence=number, arousal=number, dominance=number</answer>, each number from "
        f"{low} to {high}."
    )


def _number_regex(scale: tuple[float, float]) -> str:
    """A regex for a rating on ``scale`` with one decimal: exact on a scale of whole numbers from 0 up to 200
    steps wide (1–5, 1–7, 0–100); on any other scale any number, which the parser checks."""
    low, high = scale
    if low.is_integer() and high.is_integer() and 0 <= low < high <= low + 200:
        first, last = int(low), int(high)
        inner = f"[{first}-{last - 1}]" if last <= 10 else "|".join(map(str, range(first, last)))
        return rf"(?:(?:{inner})(?:\.[0-9])?|{last}(?:\.0)?)"
    return r"-?[0-9]{1,3}(?:\.[0-9]{1,2})?"


def task_structure(labels: LabelSet, output_format: str, task: str, scale: tuple[float, float]) -> Structure:
    """The decoding constraint for a blend or ratings answer (a label's is in assembly)."""
    think = rf"<think>[^<]{{1,{MAX_REASONING_CHARS}}}</think>\s*"
    common = {
        "reasoning": {"type": "string", "maxLength": MAX_REASONING_CHARS},
        "evidence": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 6},
    }
    if task == "blend":
        if output_format != "json":
            return Structure(regex=rf"{think}<answer>(?:{_blend_regex(labels)})</answer>")
        # One of the forms: [100], [50, 50] or [70, 30] (the two labels' difference is the parser's to check).
        blend = {"anyOf": [_blend_items(labels, form) for form in BLEND_FORMS]}
        return Structure(json_schema=_schema({**common, "blend": blend}))
    if output_format != "json":
        value = _number_regex(scale)
        answer = ", ".join(f"{d}={value}" for d in DIMENSIONS)
        return Structure(regex=rf"{think}<answer>{answer}</answer>")
    rating = {"type": "number", "minimum": scale[0], "maximum": scale[1]}
    ratings = {
        "type": "object",
        "properties": {d: rating for d in DIMENSIONS},
        "required": list(DIMENSIONS),
        "additionalProperties": False,
    }
    return Structure(json_schema=_schema({**common, "ratings": ratings}))


def _blend_regex(labels: LabelSet) -> str:
    """Each label alone at 100, or followed by a *different* label at 50 or 30."""
    names = [re.escape(label) for label in labels.labels]
    forms = []
    for i, first in enumerate(names):
        others = "|".join(names[:i] + names[i + 1 :])
        pairs = f"|(?:50, (?:{others}) 50|70, (?:{others}) 30)" if others else ""
        forms.append(f"{first} (?:100{pairs})")
    return "|".join(forms)


def _blend_items(labels: LabelSet, form: tuple[int, ...]) -> dict[str, Any]:
    """A JSON schema for a blend list of ``form``'s saliences, in order."""
    items = [
        {
            "type": "object",
            "properties": {
                "label": {"type": "string", "enum": list(labels.labels)},
                "salience": {"type": "integer", "enum": [salience]},
            },
            "required": ["label", "salience"],
            "additionalProperties": False,
        }
        for salience in form
    ]
    size = len(form)
    return {"type": "array", "prefixItems": items, "items": False, "minItems": size, "maxItems": size}


def _schema(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
