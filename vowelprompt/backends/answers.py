"""The answer part of a completion, for backends that score the labels instead of decoding them freely.

The multiple-choice method of lm-evaluation-harness: after the model's own reasoning, every label of the set
is scored as the continuation of the prompt and that reasoning (the sum of its tokens' log-probabilities),
and the answer is the best one. :func:`answer_frame` cuts a free completion where the model starts
answering and rebuilds it as the shared parser's well-formed shape, ``<think>reasoning</think><answer>`` +
``label</answer>`` (or the JSON object up to ``"label": "`` + ``label"}``), so that the parser reads the
scored answer as ``ok``. :func:`softmax` turns label log-probabilities into a distribution.

Nothing here imports a model: the backends hand it text and get text back.
"""

from __future__ import annotations

import json
import math
import re

#: Longest reasoning an answer keeps: ~300 tokens, leaving room for the answer within the default 512 new
#: tokens. Constrained decoding bounds the reasoning by the same figure (``prompts.output_structure``).
MAX_REASONING_CHARS = 1200

# Where a tags answer starts: the first answer tag or the end of the reasoning, whichever comes first.
_ANSWER_START = re.compile(r"<answer>|</think>", re.I)
# Tags the rebuilt reasoning must not hold (the parser would read them as structure).
_TAGS = re.compile(r"</?\s*(?:think|answer)\s*>", re.I)
_LABEL_KEY = re.compile(r'"label"\s*:')
_REASONING_KEY = re.compile(r'"reasoning"\s*:\s*(?=")')
_EVIDENCE_KEY = re.compile(r'"evidence"\s*:\s*(?=\[)')


def cap_reasoning(text: str, limit: int = MAX_REASONING_CHARS) -> str:
    """``text`` without think/answer tags, at most ``limit`` characters, cut after a word.

    >>> cap_reasoning("<think>rising pitch, loud</think>")
    'rising pitch, loud'
    >>> cap_reasoning("one two three", limit=9)
    'one two'
    """
    text = _TAGS.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut[:limit]).rstrip()


def answer_frame(text: str, output_format: str, choices: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """(head, label → tail): the completion rebuilt up to the label, and what follows for each label.

    ``head + tails[label]`` is a well-formed answer naming ``label``; ``head`` keeps the model's reasoning
    (the text before its first ``<answer>`` or ``</think>``, or — in JSON — its ``reasoning`` and
    ``evidence`` values before the ``"label"`` key; all of a text that never starts answering), capped to
    :data:`MAX_REASONING_CHARS`.

    >>> head, tails = answer_frame("<think>slow and low</think> so <answer>sad", "tags", ("sad", "angry"))
    >>> head + tails["angry"]
    '<think>slow and low</think><answer>angry</answer>'
    >>> head, tails = answer_frame('{"reasoning": "flat", "label": "sa', "json", ("sad",))
    >>> head + tails["sad"]
    '{"reasoning": "flat", "evidence": [], "label": "sad"}'
    """
    if output_format == "json":
        return _json_frame(text, choices)
    found = _ANSWER_START.search(text)
    reasoning = cap_reasoning(text[: found.start()] if found else text)
    return f"<think>{reasoning}</think><answer>", {c: f"{c}</answer>" for c in choices}


def _json_frame(text: str, choices: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    found = _LABEL_KEY.search(text)
    before = text[: found.start()] if found else text
    decoder = json.JSONDecoder()
    reasoning = evidence = None
    key = _REASONING_KEY.search(before)
    if key:
        try:
            value = decoder.raw_decode(before, key.end())[0]
            reasoning = value if isinstance(value, str) else None
        except ValueError:  # cut off inside the string: keep what was written
            reasoning = before[key.end() + 1 :]
    key = _EVIDENCE_KEY.search(before)
    if key:
        try:
            value = decoder.raw_decode(before, key.end())[0]
            evidence = [str(e)[:200] for e in value[:6]] if isinstance(value, list) else None
        except ValueError:
            evidence = None
    if reasoning is None:  # no reasoning field: what the model wrote is the reasoning
        reasoning = before.strip().lstrip("{").strip()
    head = json.dumps({"reasoning": cap_reasoning(reasoning), "evidence": evidence or []}, ensure_ascii=False)
    return head[:-1] + ', "label": "', {c: json.dumps(c, ensure_ascii=False)[1:] + "}" for c in choices}


def softmax(logprobs: dict[str, float]) -> dict[str, float]:
    """Label log-probabilities → probabilities summing to 1 (renormalised over the labels given).

    >>> {k: round(p, 6) for k, p in softmax({"sad": math.log(0.2), "angry": math.log(0.6)}).items()}
    {'sad': 0.25, 'angry': 0.75}
    """
    top = max(logprobs.values())
    weights = {k: math.exp(v - top) for k, v in logprobs.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


_TAGS_ANSWER = re.compile(r"<answer>", re.I)
_JSON_ANSWER = re.compile(r'"label"\s*:\s*"')


def first_token_logprobs(
    text: str, tokens: list[dict], output_format: str, choices: tuple[str, ...]
) -> tuple[dict[str, float] | None, str]:
    """(label → log-probability, note) from an OpenAI-style ``logprobs.content`` list of the completion.

    Read at the answer's first token (after the last ``<answer>``, or after ``"label": "`` in JSON; the
    token must start there, not hold the tag's end too, and the tokens before it must spell the text): each
    label is given the log-probability of its first token among that position's ``top_logprobs`` (the
    longest listed token its name starts with). Where the answer cannot be found, its first token also
    holds text before it, a label's first token is not listed, or two labels share one, the result is None
    and the note says which. A label's first token stands for the label: exact when, as for the usual emotion
    names, the labels' first tokens differ and a label is written one way.

    >>> top = [{"token": "sad", "logprob": -0.1}, {"token": "ang", "logprob": -2.5}]
    >>> toks = [{"token": "<answer>", "logprob": 0.0}, {"token": "sad", "logprob": -0.1, "top_logprobs": top}]
    >>> first_token_logprobs("<answer>sad", toks, "tags", ("sad", "angry"))
    ({'sad': -0.1, 'angry': -2.5}, '')
    """
    pattern = _JSON_ANSWER if output_format == "json" else _TAGS_ANSWER
    starts = [m.end() for m in pattern.finditer(text)]
    if not starts:
        return None, "logprobs: no answer in the completion to read them at"
    start, spelled, entry = starts[-1], "", None
    for token in tokens:
        if len(spelled) >= start:
            entry = token if spelled == text[:start] else None
            break
        spelled += str(token.get("token", ""))
    if entry is None:
        return None, "logprobs: the server's tokens do not reach the answer's first token on its own"
    listed = {t["token"]: t["logprob"] for t in entry.get("top_logprobs") or ()}
    listed.setdefault(entry["token"], entry["logprob"])
    first: dict[str, str] = {}
    for label in choices:
        # A leading space is how many tokenisers write a word's first token ("<answer> sad").
        names = [token for token in listed if token.strip() and label.startswith(token.lstrip())]
        if not names:
            return None, f"logprobs: the first token of {label!r} is not among the {len(listed)} listed"
        first[label] = max(names, key=len)
    shared = [label for label in choices if list(first.values()).count(first[label]) > 1]
    if shared:
        return None, f"logprobs: {', '.join(shared)} share their first token {first[shared[0]]!r}"
    return {label: float(listed[first[label]]) for label in choices}, ""
