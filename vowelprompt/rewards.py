"""Reward functions with TRL's contract, built on the same parser as ``evaluate`` (no trl import here).

TRL calls ``reward(prompts=…, completions=…, **dataset_columns) -> list[float]``; completions are strings
or, for conversational datasets, lists of messages whose last one is the assistant's. Each factory
returns such a function, named so that TRL's logs show ``accuracy``, ``format`` and ``grounding``.

- :func:`accuracy_reward` — 1 if the parsed label equals the gold ``label`` column (after synonyms), else 0.
- :func:`format_reward` — 1 if the completion is exactly ``<think>…</think><answer>…</answer>``.
- :func:`rating_reward` — 1 minus the mean absolute error of the parsed ratings
  (:mod:`vowelprompt.parse_modes`) against the gold ``vad`` column, each error scaled by the scale's range; a
  dimension not rated counts as the largest error, an invalid answer (or a row without gold ratings) scores 0.
- :func:`blend_reward` — against a gold ``blend`` column (label → salience): 1 for the same labels with the
  same saliences, 0.5 for the same labels with other saliences, 0 otherwise.
- :func:`grounding_reward` — 1 if the reasoning ties a word of the utterance to a prosodic cue that this
  prompt's vowel descriptions really give that word (``"great" … high pitch``), 0 if it cites none, and 0
  if it ties any word to a cue the prompt does not give it (an invented cue cancels a true one). The cues
  are read from the prompt, and found in the reasoning, with the verbaliser's own vocabulary
  (:func:`vowelprompt.verbalize.read_cues`, :data:`vowelprompt.verbalize.CUE_PATTERN`).

>>> acc = accuracy_reward("iemocap4")
>>> acc(completions=["<think>x</think><answer>joy</answer>", "no"], label=["happy", "happy"])
[1.0, 0.0]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from vowelprompt.labels import LabelSet, get_label_set
from vowelprompt.parse import parse, well_formed
from vowelprompt.parse_modes import parse_blend, parse_ratings
from vowelprompt.prompts.tasks import DEFAULT_SCALE, DIMENSIONS, check_scale
from vowelprompt.verbalize import CUE_PATTERN, read_cues

RewardFn = Callable[..., list[float]]


def _text(completion: Any) -> str:
    """The assistant's text from a plain or conversational completion."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return ""


def _prompt_text(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        return "\n".join(str(m.get("content", "")) for m in prompt if isinstance(m, dict))
    return ""


def accuracy_reward(labels: str | LabelSet = "iemocap4") -> RewardFn:
    """1.0 where the parsed answer equals the gold label, else 0.0 (invalid output → 0)."""
    label_set = labels if isinstance(labels, LabelSet) else get_label_set(labels)

    def accuracy(completions: list, label: list[str], **_: Any) -> list[float]:
        out = []
        for completion, gold in zip(completions, label):
            predicted = parse(_text(completion), label_set).label
            out.append(float(predicted is not None and predicted == (label_set.normalize(gold) or gold)))
        return out

    return accuracy


def format_reward() -> RewardFn:
    """1.0 where the completion is one well-formed think block followed by one answer block."""

    def format(completions: list, **_: Any) -> list[float]:
        return [float(well_formed(_text(c))) for c in completions]

    return format


def cited_pairs(reasoning: str, words: set[str]) -> set[tuple[str, str]]:
    """(word, cue) pairs the reasoning states, pairing words and cues that share a sentence or clause."""
    pairs = set()
    for clause in re.split(r"[.;\n]|, (?:and|but|while) ", reasoning.lower()):
        mentioned = {w for w in words if re.search(rf"(?<![\w']){re.escape(w)}(?![\w'])", clause)}
        if not mentioned:
            continue
        for m in CUE_PATTERN.finditer(clause):
            cue = m.group(0)
            for word in mentioned:
                pairs.add((word, cue))
    return pairs


def grounding_reward(labels: str | LabelSet = "iemocap4") -> RewardFn:
    """1.0 where the reasoning cites ≥ 1 true (word, cue) pair of its prompt and no false one, else 0.0."""
    label_set = labels if isinstance(labels, LabelSet) else get_label_set(labels)

    def grounding(prompts: list, completions: list, **_: Any) -> list[float]:
        out = []
        for prompt, completion in zip(prompts, completions):
            cues = read_cues(_prompt_text(prompt))
            reasoning = parse(_text(completion), label_set).reasoning or _text(completion)
            pairs = cited_pairs(reasoning, set(cues))
            true = {(w, c) for w, c in pairs if c in cues[w]}
            out.append(float(bool(true) and true == pairs))
        return out

    return grounding


def rating_reward(
    dimensions: tuple[str, ...] = DIMENSIONS,
    scale: tuple[float, float] | str = DEFAULT_SCALE,
    output_format: str = "tags",
) -> RewardFn:
    """1 − mean over ``dimensions`` of |rating − gold| / (high − low), from the gold ``vad`` column (a dict
    per row, on ``scale``). A dimension the answer leaves out counts as error 1; one the gold lacks is not
    scored; an invalid answer, or a row with no gold rating, scores 0. In [0, 1], like the accuracy reward,
    so the two can be summed or weighted in GRPO."""
    low, high = check_scale(scale)

    def rating(completions: list, vad: list, **_: Any) -> list[float]:
        out = []
        for completion, gold in zip(completions, vad):
            ratings = parse_ratings(_text(completion), dimensions, (low, high), output_format).ratings
            gold = gold if isinstance(gold, dict) else {}
            scored = [d for d in dimensions if isinstance(gold.get(d), (int, float))]
            if ratings is None or not scored:
                out.append(0.0)
                continue
            errors = [
                min(abs(ratings[d] - gold[d]) / (high - low), 1.0) if d in ratings else 1.0 for d in scored
            ]
            out.append(1.0 - sum(errors) / len(errors))
        return out

    return rating


def blend_reward(labels: str | LabelSet = "iemocap4", output_format: str = "tags") -> RewardFn:
    """1 where the parsed blend has the gold ``blend`` column's labels and saliences, 0.5 where it has its
    labels with other saliences (BLEMORE's presence without salience), else 0. A gold column may hold a
    plain label, read as that label at 100."""
    label_set = labels if isinstance(labels, LabelSet) else get_label_set(labels)

    def blend(completions: list, blend: list, **_: Any) -> list[float]:
        out = []
        for completion, gold in zip(completions, blend):
            predicted = parse_blend(_text(completion), label_set, output_format).blend
            if isinstance(gold, str):
                gold = {gold: 100}
            if not isinstance(gold, dict) or predicted is None:
                out.append(0.0)
                continue
            gold = {label_set.normalize(k) or k: v for k, v in gold.items()}
            same = set(predicted) == set(gold)
            out.append(1.0 if same and all(predicted[k] == gold[k] for k in gold) else 0.5 if same else 0.0)
        return out

    return blend


REWARDS: dict[str, Callable[..., RewardFn]] = {
    "accuracy": accuracy_reward,
    "format": format_reward,
    "grounding": grounding_reward,
    "blend": blend_reward,
    "rating": rating_reward,
}
