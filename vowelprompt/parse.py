"""Model text → label. One parser for both output formats; it never raises.

``parse(text, labels)`` returns a :class:`Parsed` with ``status``:

- ``ok`` — well-formed output (``<think>…</think><answer>label</answer>`` once each, or a JSON object with
  a ``label``) naming a label of the set exactly (any case, surrounding whitespace/punctuation ignored);
- ``repaired`` — a label was recovered: a synonym (``joy`` for ``happy``), a missing closing tag, an answer
  tag without a think block, a JSON object inside prose or code fences, or — last resort — the last label
  named in the text outside the reasoning;
- ``invalid`` — no label could be found (counts as wrong in evaluation).

Answers are only taken *outside* the ``<think>`` block, so a model that quotes the transcript (which may
itself contain ``<answer>angry</answer>``) while reasoning does not change what is parsed. The accuracy
and format rewards for training (:mod:`vowelprompt.rewards`) use this same function, so the score a model
is trained on and the one it is evaluated with cannot drift apart.

>>> from vowelprompt.labels import LABEL_SETS
>>> iemocap = LABEL_SETS["iemocap4"]
>>> parse("<think>loud, rising</think><answer>angry</answer>", iemocap).status
'ok'
>>> parse("<think>…</think><answer>Joy</answer>", iemocap)[:2]
('happy', 'repaired')
>>> parse("no idea", iemocap)[:2]
(None, 'invalid')
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from vowelprompt.labels import LabelSet

_THINK = re.compile(r"<think>(.*?)</think>", re.S | re.I)
_THINK_OPEN = re.compile(r"<think>(.*)", re.S | re.I)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_ANSWER_OPEN = re.compile(r"<answer>\s*([^<\n]{1,40})", re.I)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_STRICT = re.compile(
    r"^\s*<think>(?:(?!</?think>|</?answer>).)*</think>\s*<answer>[^<]*</answer>\s*$", re.S | re.I
)


class Parsed(NamedTuple):
    label: str | None
    status: str
    reasoning: str
    evidence: tuple[str, ...]


def well_formed(text: str) -> bool:
    """Exactly one think block followed by exactly one answer block, nothing else around them.

    >>> well_formed("<think>a</think>\\n<answer>sad</answer>"), well_formed("<answer>sad</answer>")
    (True, False)
    """
    return isinstance(text, str) and _STRICT.match(text) is not None


def parse(text: str, labels: LabelSet, output_format: str = "tags") -> Parsed:
    """Parse a completion; see the module docstring for the statuses. Never raises."""
    try:
        if not isinstance(text, str):
            return Parsed(None, "invalid", "", ())
        if output_format == "json":
            return _parse_json(text, labels) or _parse_tags(text, labels, strict=False)
        return _parse_tags(text, labels, strict=True)
    except Exception:  # a parser for untrusted model output must not be the thing that crashes a run
        return Parsed(None, "invalid", "", ())


def _parse_tags(text: str, labels: LabelSet, strict: bool) -> Parsed:
    think = _THINK.search(text)
    reasoning = think.group(1).strip() if think else ""
    if think:
        outside = text[: think.start()] + " " + text[think.end() :]
    else:
        opened = _THINK_OPEN.search(text)  # an unclosed think block: everything after it is reasoning…
        outside = text[: opened.start()] if opened else text
        if opened and not _ANSWER.search(outside):
            # …unless the answer sits inside it, as in "<think>… <answer>sad</answer>" with no </think>.
            reasoning = opened.group(1).strip()
            outside = text
    answers = _ANSWER.findall(outside)
    if answers:
        answer = answers[-1] if len(answers) > 1 else answers[0]
        label = labels.normalize(answer)
        if label is not None:
            exact = answer.strip().strip(".!").lower() == label.lower()
            ok = strict and exact and len(answers) == 1 and well_formed(text)
            return Parsed(label, "ok" if ok else "repaired", reasoning, ())
        found = labels.find_all(answer)  # "<answer>I think angry</answer>"
        if found:
            return Parsed(found[-1][1], "repaired", reasoning, ())
    opened_answer = _ANSWER_OPEN.search(outside)
    if opened_answer:
        label = labels.normalize(opened_answer.group(1)) or next(
            (lab for _, lab in labels.find_all(opened_answer.group(1))), None
        )
        if label is not None:
            return Parsed(label, "repaired", reasoning, ())
    found = labels.find_all(_ANSWER.sub(" ", outside))
    if found:
        return Parsed(found[-1][1], "repaired", reasoning, ())
    return Parsed(None, "invalid", reasoning, ())


def _json_candidates(text: str) -> list[str]:
    fenced = _FENCE.findall(text)
    candidates = [f.strip() for f in fenced]
    start = text.find("{")
    while start != -1:
        depth, in_string, escape = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                if escape:
                    escape = False
                elif ch == "\\":
                    escape = True
                elif ch == '"':
                    in_string = False
                continue
            if ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    candidates.append(text[start : i + 1])
                    break
        start = text.find("{", start + 1)
    return candidates


def _parse_json(text: str, labels: LabelSet) -> Parsed | None:
    stripped = text.strip()
    for n, candidate in enumerate(_json_candidates(text)):
        try:
            data = json.loads(candidate)
        except (json.JSONDecodeError, RecursionError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("label"), str):
            continue
        label = labels.normalize(data["label"])
        if label is None:
            continue
        reasoning = data.get("reasoning") if isinstance(data.get("reasoning"), str) else ""
        raw_evidence = data.get("evidence")
        evidence = tuple(str(e) for e in raw_evidence) if isinstance(raw_evidence, list) else ()
        exact = data["label"].strip().lower() == label.lower()
        ok = exact and n == 0 and candidate == stripped
        return Parsed(label, "ok" if ok else "repaired", reasoning, evidence)
    match = re.search(r'"label"\s*:\s*"([^"]{1,40})"', text)
    if match and labels.normalize(match.group(1)):
        return Parsed(labels.normalize(match.group(1)), "repaired", "", ())
    return None
