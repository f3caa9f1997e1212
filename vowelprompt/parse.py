"""Model text → label. One parser for both output formats; it never raises, and it is linear in the text.

``parse(text, labels)`` returns a :class:`Parsed` with ``status``:

- ``ok`` — well-formed output (``<think>…</think><answer>label</answer>`` once each, or a JSON object with
  a ``label``) naming a label of the set exactly (any case, surrounding whitespace/punctuation ignored);
- ``repaired`` — a label was recovered: a synonym (``joy`` for ``happy``), a missing closing tag, an answer
  tag without a think block, an answer that names one label among other words (``I would say angry``), a
  JSON object inside prose or code fences, or — last resort — the one label named in the text outside the
  reasoning and outside any answer block (named once or several times, by any of its synonyms);
- ``invalid`` — no label could be found, or the text is ambiguous (counts as wrong in evaluation).

Ambiguity: an answer block that names several different labels (``<answer>angry or sad</answer>``), or — in
the last resort, with no usable answer tag or JSON label — free text that names several different labels
(``a mix of emotions, including happiness, anger, sadness, and neutral``) is ``invalid``: picking the last
one named would score a hedge as if it were an answer. Synonyms of one label (``joy``, ``happiness``) count
as one label. ``Parsed.note`` then names them: ``ambiguous: names happy, angry, sad, neutral outside an
answer``.

Answers are only taken *outside* the ``<think>`` block, so a model that quotes the transcript (which may
itself contain ``<answer>angry</answer>``) while reasoning does not change what is parsed. The accuracy
and format rewards for training (:mod:`vowelprompt.rewards`) use this same function, so the score a model
is trained on and the one it is evaluated with cannot drift apart.

Bounded work: the parser reads at most :data:`MAX_PARSE_CHARS` characters. A real completion is far
shorter (512 tokens are 2–4 k characters), so only degenerate output — a model looping until the token
limit, or a caller passing a whole file — is longer. Of such text it reads the first and the last
``MAX_PARSE_CHARS // 2`` characters (cut at a word boundary, so no word is read in part): the head holds
the opening ``<think>`` (or ``{``) and the tail the answer, which a model writes last. It says so in
``Parsed.note`` (``output is 1048576 characters; read the first 32768 and the last 32768``), and such text
is at best ``repaired``, never ``ok`` (nor :func:`well_formed`). Every step is one pass, or a constant
number of passes, over what is read: tags are found by single regex scans (no lazy ``.*?`` retried from
every opening tag), JSON objects by one string-aware pass over the braces, and the JSON decoder is given
at most :data:`JSON_BUDGET` times the text's length (plus 4 Ki characters) in all.

>>> from vowelprompt.labels import LABEL_SETS
>>> iemocap = LABEL_SETS["iemocap4"]
>>> parse("<think>loud, rising</think><answer>angry</answer>", iemocap).status
'ok'
>>> parse("<think>…</think><answer>Joy</answer>", iemocap)[:2]
('happy', 'repaired')
>>> parse("no idea", iemocap)[:2]
(None, 'invalid')
>>> p = parse("It sounds like a mix of joy, happiness and anger.", iemocap)
>>> p.label, p.status, p.note
(None, 'invalid', 'ambiguous: names happy, angry outside an answer')
>>> p = parse("<think>" + "la " * 40000 + "</think><answer>sad</answer>", iemocap)
>>> p.label, p.status, p.note
('sad', 'repaired', 'output is 120035 characters; read the first 32767 and the last 32768')
"""

from __future__ import annotations

import bisect
import json
import re
from typing import NamedTuple

from vowelprompt.labels import LabelSet

#: The most characters :func:`parse` reads of one output: 64 Ki, 16–32 times a 512-token completion. Longer
#: text is read as its first and last halves of this (see the module docstring) and flagged in ``note``.
MAX_PARSE_CHARS = 65_536
#: The most characters handed to ``json.loads`` in one call of :func:`parse`, over all candidate objects,
#: as a multiple of the text's length (plus 4 Ki): nested objects are candidates too, so without a budget
#: their total length could grow as the square of the text's. A real output's candidates add up to one or
#: two times its length; past the budget the parser falls back to the ``"label": "…"`` pattern.
JSON_BUDGET = 4

_THINK_OPEN = re.compile(r"<think>", re.I)
_THINK_CLOSE = re.compile(r"</think>", re.I)
_ANSWER_TAG = re.compile(r"<(/?)answer>", re.I)
# Linear: it is tried at each "<answer>", and the whitespace runs it backtracks over are disjoint.
_ANSWER_OPEN = re.compile(r"<answer>\s*([^<\n]{1,40})", re.I)
_JSON_TAG = re.compile(r"json", re.I)
_JSON_SPECIAL = re.compile(r'[{}"\\]')
_LABEL_FIELD = re.compile(r'"label"\s*:\s*"([^"]{1,40})"')
# Anchored (re.match), so tried once; every repetition in it is followed by a literal it cannot contain.
_STRICT = re.compile(
    r"^\s*<think>(?:(?!</?think>|</?answer>).)*</think>\s*<answer>[^<]*</answer>\s*$", re.S | re.I
)
_WORD_CHAR = re.compile(r"[\w-]")
_BOUNDARY_SEARCH = 64  # how far a cut point moves to fall between words


class Parsed(NamedTuple):
    label: str | None
    status: str
    reasoning: str
    evidence: tuple[str, ...]
    #: Why the status is what it is, where that is not obvious: the text was capped, or it is ambiguous.
    note: str = ""


def well_formed(text: str) -> bool:
    """Exactly one think block followed by exactly one answer block, nothing else around them.

    Text longer than :data:`MAX_PARSE_CHARS` is never well formed (:func:`parse` does not read all of it).

    >>> well_formed("<think>a</think>\\n<answer>sad</answer>"), well_formed("<answer>sad</answer>")
    (True, False)
    """
    return isinstance(text, str) and len(text) <= MAX_PARSE_CHARS and _STRICT.match(text) is not None


def parse(text: str, labels: LabelSet, output_format: str = "tags") -> Parsed:
    """Parse a completion; see the module docstring for the statuses. Never raises."""
    try:
        if not isinstance(text, str):
            return Parsed(None, "invalid", "", (), "output is not a string")
        text, cap_note = _cap(text)
        capped = bool(cap_note)
        parsed = None
        if output_format == "json":
            parsed = _parse_json(text, labels, capped)
        if parsed is None:
            parsed = _parse_tags(text, labels, strict=output_format != "json", capped=capped)
        if capped:
            note = cap_note + ("; " + parsed.note if parsed.note else "")
            status = "repaired" if parsed.status == "ok" else parsed.status
            parsed = parsed._replace(status=status, note=note)
        return parsed
    except Exception as exc:  # a parser for untrusted model output must not be the thing that crashes a run
        return Parsed(None, "invalid", "", (), f"parser error: {type(exc).__name__}")


def _cap(text: str) -> tuple[str, str]:
    """``text`` if it is ≤ MAX_PARSE_CHARS, else its head and tail (cut between words), and a note."""
    if len(text) <= MAX_PARSE_CHARS:
        return text, ""
    half = MAX_PARSE_CHARS // 2
    head, tail = text[:half], text[-half:]
    # Cut where a word ends, so that "un|happy" is not read as "happy" (nor "<ans|wer>" as anything).
    for i in range(len(head) - 1, max(len(head) - _BOUNDARY_SEARCH, 0) - 1, -1):
        if not _WORD_CHAR.match(head[i]):
            head = head[: i + 1]
            break
    for i in range(min(_BOUNDARY_SEARCH, len(tail))):
        if not _WORD_CHAR.match(tail[i]):
            tail = tail[i:]
            break
    note = f"output is {len(text)} characters; read the first {len(head)} and the last {len(tail)}"
    return head + "\n…\n" + tail, note


def _distinct(found: list[tuple[int, str]]) -> list[str]:
    """The labels of find_all's hits, each once, in the order they are first named."""
    return list(dict.fromkeys(label for _, label in found))


def _ambiguous(names: list[str], where: str) -> str:
    return f"ambiguous: names {', '.join(names)} {where}"


def _answer_blocks(text: str) -> list[tuple[int, int, int, int]]:
    """(start, content start, content end, end) of each ``<answer>…</answer>``: an opening tag pairs with the
    first closing tag after it (what a lazy ``<answer>(.*?)</answer>`` finds), in one scan over the tags."""
    blocks, opened = [], None
    for m in _ANSWER_TAG.finditer(text):
        if m.group(1):
            if opened is not None:
                blocks.append((opened[0], opened[1], m.start(), m.end()))
                opened = None
        elif opened is None:
            opened = (m.start(), m.end())
    return blocks


def split_think(text: str) -> tuple[str, str]:
    """(reasoning, the text outside it): the first ``<think>`` block is the reasoning; an unclosed one runs
    to the end, unless the answer sits inside it (``<think>… <answer>sad</answer>`` with no ``</think>``).
    Shared with :mod:`vowelprompt.parse_modes`, so every task reads answers outside the reasoning alike."""
    opened = _THINK_OPEN.search(text)
    closed = _THINK_CLOSE.search(text, opened.end()) if opened else None
    if closed:  # the first think block: the first "<think>" and the first "</think>" after it
        outside = text[: opened.start()] + " " + text[closed.end() :]
        return text[opened.end() : closed.start()].strip(), outside
    if opened:
        outside = text[: opened.start()]
        if not _answer_blocks(outside):
            return text[opened.end() :].strip(), text
        return "", outside
    return "", text


def _parse_tags(text: str, labels: LabelSet, strict: bool, capped: bool = False) -> Parsed:
    reasoning, outside = split_think(text)
    blocks = _answer_blocks(outside)
    if blocks:
        answer = outside[blocks[-1][1] : blocks[-1][2]]
        label = labels.normalize(answer)
        if label is not None:
            exact = answer.strip().strip(".!").lower() == label.lower()
            ok = strict and exact and len(blocks) == 1 and not capped and well_formed(text)
            return Parsed(label, "ok" if ok else "repaired", reasoning, ())
        names = _distinct(labels.find_all(answer))  # "<answer>I think angry</answer>"
        if len(names) == 1:
            return Parsed(names[0], "repaired", reasoning, ())
        if names:  # "<answer>angry or sad</answer>"
            return Parsed(None, "invalid", reasoning, (), _ambiguous(names, "inside one answer"))
    opened_answer = _ANSWER_OPEN.search(outside)  # "<answer>sad" with no closing tag
    if opened_answer:
        label = labels.normalize(opened_answer.group(1))
        names = [label] if label else _distinct(labels.find_all(opened_answer.group(1)))
        if len(names) == 1:
            return Parsed(names[0], "repaired", reasoning, ())
        if names:
            return Parsed(None, "invalid", reasoning, (), _ambiguous(names, "inside one answer"))
    # Last resort: labels named in free text, outside the reasoning and outside the answer blocks.
    pieces, last = [], 0
    for start, _, _, end in blocks:
        pieces.append(outside[last:start])
        last = end
    pieces.append(outside[last:])
    names = _distinct(labels.find_all(" ".join(pieces)))
    if len(names) == 1:
        return Parsed(names[0], "repaired", reasoning, ())
    if names:
        return Parsed(None, "invalid", reasoning, (), _ambiguous(names, "outside an answer"))
    return Parsed(None, "invalid", reasoning, ())


class _Track:
    """Brace scans that are in the same string state: ``starts[key - offset]`` are the positions of the
    ``{`` whose scan closes when the depth counter ``level`` next falls from ``key``."""

    __slots__ = ("level", "offset", "size", "starts")

    def __init__(self, start: int):
        self.level, self.offset, self.starts, self.size = 1, 0, {1: [start]}, 1

    def push(self, start: int) -> None:
        self.level += 1
        self.starts.setdefault(self.level - self.offset, []).append(start)
        self.size += 1

    def pop(self) -> list[int]:
        closing = self.starts.pop(self.level - self.offset, [])
        self.level -= 1
        self.size -= len(closing)
        return closing


def _merge(a: _Track | None, b: _Track | None) -> _Track | None:
    """One track for two whose scans reach the same string state (the smaller moves into the larger)."""
    if a is None or b is None:
        return a or b
    if a.size < b.size:
        a, b = b, a
    shift = a.level - b.level + b.offset - a.offset
    for key, starts in b.starts.items():
        a.starts.setdefault(key + shift, []).extend(starts)
    a.size += b.size
    return a


def _brace_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the balanced object that each ``{`` opens, in order of start.

    The same spans as scanning forward from every ``{`` on its own, JSON-string-aware (quotes and
    backslash escapes), until its depth returns to zero — which is quadratic — in one pass: scans that are
    in the same string state (outside a string, inside one, just after a backslash inside one) move in
    step, so at most three groups are tracked, each a stack of starts keyed by the depth at which they close.
    """
    outside: _Track | None = None  # scans outside a string
    inside: _Track | None = None  # scans inside a string
    escaped: _Track | None = None  # scans inside a string, just after a backslash
    spans: list[tuple[int, int]] = []
    previous = -2
    for m in _JSON_SPECIAL.finditer(text):
        i, ch = m.start(), m.group()
        consumed = None
        if escaped is not None:
            if i == previous + 1:  # the escaped character is this one
                consumed, escaped = escaped, None
            else:  # an ordinary character was escaped; the string goes on
                inside, escaped = _merge(inside, escaped), None
        previous = i
        if ch == '"':
            outside, inside = inside, outside
        elif ch == "\\":
            escaped, inside = inside, None
        elif ch == "{":
            if outside is None:
                outside = _Track(i)
            else:
                outside.push(i)
        elif outside is not None:  # "}"
            for start in outside.pop():
                spans.append((start, i + 1))
            if outside.size == 0:
                outside = None
        if consumed is not None:
            inside = _merge(inside, consumed)
    spans.sort()
    return spans


def _fenced(text: str) -> list[str]:
    """The contents of ```` ```json … ``` ```` fences, each paired with the next fence mark, in one scan."""
    out = []
    start = text.find("```")
    while start != -1:
        body = start + 3
        if _JSON_TAG.match(text, body):
            body += 4
        end = text.find("```", body)
        if end == -1:
            break
        out.append(text[body:end].strip())
        start = text.find("```", end + 3)
    return out


def _json_candidates(text: str, key: str = "label") -> list[str]:
    """Fenced blocks, then every balanced ``{…}`` that could hold a ``key`` key, in order of start."""
    candidates = _fenced(text)
    # a key is spelled plainly or with escapes
    keys = [m.start() for m in re.finditer(rf'"{re.escape(key)}"|\\', text)]
    for start, end in _brace_spans(text) if keys else ():
        k = bisect.bisect_left(keys, start)
        if k < len(keys) and keys[k] < end:
            candidates.append(text[start:end])
    return candidates


def _parse_json(text: str, labels: LabelSet, capped: bool = False) -> Parsed | None:
    stripped = text.strip()
    budget = JSON_BUDGET * len(text) + 4096
    for n, candidate in enumerate(_json_candidates(text)):
        budget -= len(candidate)
        if budget < 0:
            break
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
        ok = exact and n == 0 and candidate == stripped and not capped
        return Parsed(label, "ok" if ok else "repaired", reasoning, evidence)
    match = _LABEL_FIELD.search(text)
    if match and labels.normalize(match.group(1)):
        return Parsed(labels.normalize(match.group(1)), "repaired", "", ())
    return None
