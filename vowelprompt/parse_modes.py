"""Model text → a blend or ratings (the ``blend`` and ``dimensions`` tasks of
:mod:`vowelprompt.prompts.tasks`), on :mod:`vowelprompt.parse`'s bounded, linear helpers: the same cap on
what is read, the same reasoning/answer split, the same JSON scan. Never raises.

:func:`parse_blend` reads ``<answer>happy 70, sad 30</answer>`` or ``{"blend": [{"label": "happy",
"salience": 70}, …]}`` (``ok``: the form asked for, a BLEMORE form — 100, 50/50, 70/30 — more salient first)
and, ``repaired``, every other way of saying it: ``70% happy / 30% sad``, ``happy (70%) and sad (30%)``,
``happy:0.7 sad:0.3`` (fractions), ``50/50 happy and sad`` (a ratio, in the order the labels are named),
``mostly happy, some sad`` (70/30), ``happy and sad`` with no salience (50/50, said in the note), one label
(100), synonyms, ``happy 70, sad`` (the other takes the rest), saliences that do not sum to 100 (rescaled,
said in the note), a JSON ``{"happy": 70, "sad": 30}`` or a plain ``label``. ``invalid``: no label of the
set, three labels or more, a salience over 100, numbers that cannot be paired with the labels.

:func:`parse_ratings` reads ``<answer>valence=2.5, arousal=4, dominance=3</answer>`` or ``{"ratings":
{"valence": 2.5, …}}`` (``ok``: every dimension by name, in the order asked, ``=`` or ``:``) and,
``repaired``, ``V=2.5``, ``arousal is 4``, ``activation 4/5``, a flat JSON object, numbers as strings, three
unnamed numbers (in the order asked). Decisions:

- *a missing dimension* leaves the answer partial: the others are kept, ``repaired``, and the note names
  what is missing (a metric scores what was rated; :func:`vowelprompt.rewards.rating_reward` counts a
  missing rating as the largest error). No dimension at all is ``invalid``.
- *a value off the scale* by at most a quarter of its range (0 or 6 on 1–5) is clipped to the scale,
  ``repaired``, said in the note: the model meant an extreme. Farther off (7 on 1–5, 80 on 1–5) it answered on
  another scale, which cannot be told apart from a wrong rating: ``invalid``.
- one dimension given twice with different values is ``invalid``.
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from vowelprompt.labels import LabelSet
from vowelprompt.parse import (
    JSON_BUDGET,
    _answer_blocks,
    _cap,
    _distinct,
    _json_candidates,
    parse,
    split_think,
    well_formed,
)
from vowelprompt.prompts.tasks import BLEND_FORMS, DEFAULT_SCALE, DIMENSIONS, number


class ParsedMode(NamedTuple):
    """A parsed answer of any task: ``label`` (for a blend, its most salient label), ``blend`` (label →
    salience in percent, most salient first, summing to 100) or ``ratings`` (dimension → value)."""

    label: str | None
    status: str
    reasoning: str
    evidence: tuple[str, ...]
    note: str = ""
    blend: dict[str, int] | None = None
    ratings: dict[str, float] | None = None


#: Other names for the dimensions (lower case); a single letter counts only before ``:`` or ``=``.
DIMENSION_WORDS = {
    "valence": ("valence", "pleasantness", "v"),
    "arousal": ("arousal", "activation", "a"),
    "dominance": ("dominance", "power", "d"),
}
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\w)")
# One whitespace run before the slash (a "%" splits it in two): two \s* side by side would backtrack n².
_RATIO = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:\s*%)?\s*[/:]\s*(\d+(?:\.\d+)?)(?!\w)")
_OPEN_ANSWER = re.compile(r"<answer>([^<]{1,400})", re.I)  # "<answer>happy 70, sad 30" never closed
# "the most salient emotion is happy" is how SmolLM2-135M says it (zero-shot, tuning utterances).
_MORE = re.compile(
    r"\b(?:most|mostly|main|mainly|primary|primarily|dominant|predominantly|largely|chiefly|more|strongly)\b"
)
_LESS = re.compile(r"\b(?:some|slightly|somewhat|partly|less|little|bit|hint|touch|tinge|traces?)\b")
_CANON_BLEND = re.compile(r"\s*([a-z][\w -]*?) (\d+)(?:, ([a-z][\w -]*?) (\d+))?\s*\.?\s*")
_CANON_MAX = 200  # canonical-form checks read at most this many characters of an answer


def parse_blend(text: str, labels: LabelSet, output_format: str = "tags") -> ParsedMode:
    """A blend of at most two labels with their salience; see the module docstring. Never raises."""
    return _guarded(text, output_format, "blend", lambda answer: _blend_text(answer, labels), labels=labels)


def parse_ratings(
    text: str,
    dimensions: tuple[str, ...] = DIMENSIONS,
    scale: tuple[float, float] = DEFAULT_SCALE,
    output_format: str = "tags",
) -> ParsedMode:
    """Ratings of ``dimensions`` on ``scale``; see the module docstring. Never raises."""
    return _guarded(
        text,
        output_format,
        "ratings",
        lambda answer: _ratings_text(answer, dimensions, scale),
        dimensions=dimensions,
        scale=scale,
    )


def parse_task(text: str, config) -> ParsedMode:
    """Parse ``text`` as the answer to ``config``'s task (a :class:`~vowelprompt.prompts.PromptConfig`)."""
    if config.task == "blend":
        return parse_blend(text, config.labels, config.output_format)
    if config.task == "dimensions":
        return parse_ratings(text, DIMENSIONS, config.scale, config.output_format)
    return ParsedMode(*parse(text, config.labels, config.output_format))


# A reader takes an answer's text and returns (value, canonical, note); value None means invalid.
def _guarded(text, output_format, key, reader, labels=None, dimensions=(), scale=DEFAULT_SCALE) -> ParsedMode:
    try:
        if not isinstance(text, str):
            return ParsedMode(None, "invalid", "", (), "output is not a string")
        text, cap_note = _cap(text)
        parsed = None
        if output_format == "json":
            parsed = _from_json(text, key, reader, labels, dimensions, scale, bool(cap_note))
        if parsed is None:
            parsed = _from_tags(text, key, reader, strict=output_format != "json", capped=bool(cap_note))
        if cap_note:
            note = cap_note + ("; " + parsed.note if parsed.note else "")
            parsed = parsed._replace(status="repaired" if parsed.status == "ok" else parsed.status, note=note)
        return parsed
    except Exception as exc:  # untrusted model output must not crash a run
        return ParsedMode(None, "invalid", "", (), f"parser error: {type(exc).__name__}")


def _result(key: str, value, status: str, reasoning: str, evidence=(), note: str = "") -> ParsedMode:
    if value is None:
        return ParsedMode(None, "invalid", reasoning, tuple(evidence), note)
    if key == "blend":
        return ParsedMode(next(iter(value)), status, reasoning, tuple(evidence), note, blend=value)
    return ParsedMode(None, status, reasoning, tuple(evidence), note, ratings=value)


def _from_tags(text: str, key: str, reader, strict: bool, capped: bool) -> ParsedMode:
    reasoning, outside = split_think(text)
    blocks = _answer_blocks(outside)
    answers = [outside[blocks[-1][1] : blocks[-1][2]]] if blocks else []
    opened = None if blocks else _OPEN_ANSWER.search(outside)
    if opened:
        answers.append(opened.group(1))
    rest, last = [], 0  # last resort: the text outside the reasoning and the answer blocks
    for start, _, _, end in blocks:
        rest.append(outside[last:start])
        last = end
    answers.append(" ".join([*rest, outside[last:]]))
    note = ""
    for n, answer in enumerate(answers):
        value, canonical, note = reader(answer)
        if value is not None:
            ok = strict and canonical and n == 0 and len(blocks) == 1 and not capped and well_formed(text)
            return _result(key, value, "ok" if ok else "repaired", reasoning, (), note)
        if note != "names nothing":  # an answer that says something unreadable is not passed over
            break
    return _result(key, None, "invalid", reasoning, (), "" if note == "names nothing" else note)


def _from_json(text, key, reader, labels, dimensions, scale, capped) -> ParsedMode | None:
    stripped, budget = text.strip(), JSON_BUDGET * len(text) + 4096
    keys = (key, "label") if key == "blend" else (key, *dimensions)
    seen: set[str] = set()
    for wanted in keys:
        for n, candidate in enumerate(_json_candidates(text, wanted)):
            budget -= len(candidate)
            if budget < 0:
                return None
            if candidate in seen:
                continue
            seen.add(candidate)
            try:
                data = json.loads(candidate)
            except (json.JSONDecodeError, RecursionError):
                continue
            if not isinstance(data, dict):
                continue
            value, canonical, note = reader(_json_answer(data, key, labels, dimensions))
            if value is None and note == "names nothing":
                continue
            reasoning = data.get("reasoning") if isinstance(data.get("reasoning"), str) else ""
            raw = data.get("evidence")
            evidence = tuple(str(e) for e in raw) if isinstance(raw, list) else ()
            canonical = canonical and wanted == key and _json_canonical(data, key, labels, dimensions, scale)
            ok = canonical and n == 0 and candidate == stripped and not capped
            return _result(key, value, "ok" if ok else "repaired", reasoning, evidence, note)
    return None


def _json_answer(data: dict, key: str, labels, dimensions) -> str:
    """The JSON object's answer as text in the tags form, for the same reader."""
    value = data.get(key)
    if key == "blend":
        if value is None and isinstance(data.get("label"), str):
            return data["label"]
        if isinstance(value, dict):
            value = [{"label": k, "salience": v} for k, v in value.items()]
        if isinstance(value, list):
            parts = []
            for item in value:
                if isinstance(item, dict) and isinstance(item.get("label"), str):
                    salience = item.get("salience")
                    parts.append(f"{item['label']} {salience if _is_number(salience) else ''}".strip())
            return ", ".join(parts)
        return value if isinstance(value, str) else ""
    source = value if isinstance(value, dict) else data
    parts = [f"{k}={source[k]}" for k in source if isinstance(k, str) and _is_number(source[k], True)]
    return ", ".join(parts) if parts else (value if isinstance(value, str) else "")


def _is_number(value, text_too: bool = False) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return text_too and isinstance(value, str) and _NUMBER.fullmatch(value.strip()) is not None


def _json_canonical(data: dict, key: str, labels, dimensions, scale) -> bool:
    value = data.get(key)
    if key == "blend":
        return isinstance(value, list) and all(
            isinstance(i, dict) and i.get("label") in labels.labels and type(i.get("salience")) is int
            for i in value
        )
    return isinstance(value, dict) and all(
        _is_number(value.get(d)) and scale[0] <= value[d] <= scale[1] for d in dimensions
    )


def _blend_text(answer: str, labels: LabelSet) -> tuple[dict[str, int] | None, bool, str]:
    """(blend, in the canonical form, note) of an answer's text; blend None where it cannot be read."""
    lowered = answer.lower()
    mentions = labels.find_all(lowered)
    names = _distinct(mentions)
    if not names:
        return None, False, "names nothing"
    if len(names) > 2:
        return None, False, f"names {len(names)} labels ({', '.join(names)}); a blend has at most two"
    sequence = [m for i, m in enumerate(mentions) if i == 0 or mentions[i - 1][1] != m[1]]
    numbers = [(m.start(), m.end(), float(m.group())) for m in _NUMBER.finditer(lowered)]
    ratio = _RATIO.search(lowered)
    note = ""
    if len(names) == 1:
        if any(v not in (100, 1) for _, _, v in numbers) or ratio:
            note = f"one label ({names[0]}) with a salience below 100; a single emotion is 100"
        pairs = [(names[0], 100.0)]
    elif ratio:
        pairs = [(names[0], float(ratio.group(1))), (names[1], float(ratio.group(2)))]
    elif len(numbers) == len(sequence):
        pairs = [(label, value) for (_, label), (_, _, value) in zip(sequence, numbers)]
    elif len(numbers) == 1 and len(sequence) == 2:
        start, end, value = numbers[0]
        (first_at, first), (second_at, second) = sequence
        first_end = first_at + len(re.match(r"[\w-]*", lowered[first_at : first_at + 40]).group())
        after_first = start >= first_end and (start - first_end) <= (second_at - end)
        to_first = start < first_at or after_first
        value = value * 100 if value <= 1 else value
        if value > 100:
            return None, False, f"salience {number(value)} is over 100"
        pairs = (
            [(first, value), (second, 100 - value)] if to_first else [(first, 100 - value), (second, value)]
        )
        note = "one salience given; the other label takes the rest"
    elif not numbers:
        return _qualified(lowered, mentions, names)
    else:
        return None, False, f"cannot pair {len(numbers)} numbers with the labels {', '.join(names)}"
    blend, rescale_note = _normalise(pairs)
    if blend is None:
        return None, False, rescale_note
    note = "; ".join(n for n in (note, rescale_note) if n)
    if tuple(blend.values()) not in BLEND_FORMS and not note:
        note = f"saliences {'/'.join(map(str, blend.values()))} are not a BLEMORE form (100, 50/50, 70/30)"
    return blend, not note and _canonical_blend(answer, labels, blend), note


def _qualified(lowered: str, mentions, names) -> tuple[dict[str, int], bool, str]:
    """Two labels and no number: ``mostly X, some Y`` is 70/30; no qualifier at all is 50/50."""

    def label_after(match) -> str | None:
        return next((label for at, label in mentions if at >= match.end()), None)

    more, less = _MORE.search(lowered), _LESS.search(lowered)
    major = label_after(more) if more else None
    minor = label_after(less) if less else None
    if major is None and minor is not None:
        major = names[1] if minor == names[0] else names[0]
    if major is None:
        return {names[0]: 50, names[1]: 50}, False, "no salience given; read as 50/50"
    other = names[1] if major == names[0] else names[0]
    return {major: 70, other: 30}, False, "salience given in words; read as 70/30"


def _normalise(pairs: list[tuple[str, float]]) -> tuple[dict[str, int] | None, str]:
    """Saliences per label as percentages summing to 100 (largest remainder), most salient first."""
    totals: dict[str, float] = {}
    for label, value in pairs:
        totals[label] = totals.get(label, 0.0) + value
    if all(v <= 1 for v in totals.values()):  # fractions: 0.7 and 0.3
        totals = {k: v * 100 for k, v in totals.items()}
    if any(v > 100 for v in totals.values()):
        return None, "a salience is over 100"
    totals = {k: v for k, v in totals.items() if v > 0}
    if not totals:
        return None, "every salience is 0"
    total, note = sum(totals.values()), ""
    if abs(total - 100) > 0.5:
        note = f"saliences summed to {number(round(total, 2))}; rescaled to 100"
    shares = {k: v * 100 / total for k, v in totals.items()}
    rounded = {k: int(v) for k, v in shares.items()}
    for k in sorted(shares, key=lambda k: rounded[k] - shares[k])[: 100 - sum(rounded.values())]:
        rounded[k] += 1
    order = sorted(rounded, key=lambda k: -rounded[k])  # stable: ties keep the order named
    return {k: rounded[k] for k in order}, note


def _canonical_blend(answer: str, labels: LabelSet, blend: dict[str, int]) -> bool:
    """``label N`` or ``label N, label M`` with the set's own labels, as parsed, most salient first."""
    if len(answer) > _CANON_MAX:
        return False
    m = _CANON_BLEND.fullmatch(answer.lower())
    if not m:
        return False
    said = [(m.group(1), int(m.group(2)))] + ([(m.group(3), int(m.group(4)))] if m.group(3) else [])
    return said == [(k.lower(), v) for k, v in blend.items()] and all(k in labels.labels for k in blend)


def _dimension_words(dimensions: tuple[str, ...]) -> dict[str, str]:
    return {w: d for d in dimensions for w in (*DIMENSION_WORDS.get(d, ()), d)}


def _dimension_pattern(dimensions: tuple[str, ...]) -> re.Pattern:
    words = _dimension_words(dimensions)
    long = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True) if len(w) > 1)
    short = "|".join(re.escape(w) for w in words if len(w) == 1)
    single = rf"|(?<!\w)(?:{short})(?=\s*[:=])" if short else ""
    return re.compile(rf"(?<![\w-])(?:{long})(?![\w-]){single}")


def _ratings_text(answer: str, dimensions, scale) -> tuple[dict[str, float] | None, bool, str]:
    lowered = answer.lower()
    words = _dimension_words(dimensions)
    names = [(m.start(), m.end(), words[m.group()]) for m in _dimension_pattern(dimensions).finditer(lowered)]
    numbers = [(m.start(), float(m.group())) for m in _NUMBER.finditer(lowered)]
    found: dict[str, list[float]] = {}
    notes = []
    if names:
        k = 0  # each name takes the first number after it, before the next name, within 24 characters
        for i, (_, end, dim) in enumerate(names):
            limit = names[i + 1][0] if i + 1 < len(names) else len(lowered)
            while k < len(numbers) and numbers[k][0] < end:
                k += 1
            if k < len(numbers) and numbers[k][0] < limit and numbers[k][0] - end <= 24:
                sign = -1 if lowered[max(numbers[k][0] - 1, 0)] == "-" else 1
                found.setdefault(dim, []).append(sign * numbers[k][1])
    elif len(numbers) == len(dimensions):
        found = {d: [v] for d, (_, v) in zip(dimensions, numbers)}
        notes.append(f"unnamed ratings read in the order asked ({', '.join(dimensions)})")
    if not found:
        return None, False, "names nothing" if not names and not numbers else "no rating could be read"
    ratings: dict[str, float] = {}
    low, high = scale
    slack = (high - low) / 4
    for dim in dimensions:
        values = set(found.get(dim, ()))
        if len(values) > 1:
            return None, False, f"{dim} given twice ({', '.join(map(number, sorted(values)))})"
        if not values:
            continue
        (value,) = values
        if not low - slack <= value <= high + slack:
            return None, False, f"{dim} {number(value)} is off the {number(low)}–{number(high)} scale"
        if not low <= value <= high:
            clipped = min(max(value, low), high)
            notes.append(f"{dim} {number(value)} clipped to {number(clipped)}")
            value = clipped
        ratings[dim] = value
    missing = [d for d in dimensions if d not in ratings]
    if missing:
        notes.append(f"missing {', '.join(missing)}")
    canonical = not notes and _canonical_ratings(answer, dimensions)
    return ratings, canonical, "; ".join(notes)


def _canonical_ratings(answer: str, dimensions) -> bool:
    """``valence=2.5, arousal=4, dominance=3``: every dimension by its name, in the order asked."""
    if len(answer) > _CANON_MAX:
        return False
    value = r"-?\d+(?:\.\d+)?"
    form = r"\s*,\s*".join(rf"{re.escape(d)}\s*[=:]\s*{value}" for d in dimensions)
    return re.fullmatch(rf"\s*{form}\s*\.?\s*", answer.lower()) is not None
