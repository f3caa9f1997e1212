"""Prompt assembly: a :class:`PromptConfig` (template, labels, output format, context window, style, task)
and :func:`conversations`, the chat messages a model is shown for each annotated utterance.

The template and the label set are resolved once, when the config is made; every layer of a run (predict,
its run manifest, training data, teacher traces) uses the same loaded objects.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from vowelprompt.backends import Conversation, Structure
from vowelprompt.errors import ConfigError, InputError, TemplateError
from vowelprompt.labels import LABEL_SETS, LabelSet, get_label_set
from vowelprompt.missing import INPUTS, has_transcript, has_utterance_cues, missing_reasons, row_inputs
from vowelprompt.prompts.data import data_text, neutralize
from vowelprompt.prompts.tasks import (
    DEFAULT_SCALE,
    MAX_REASONING_CHARS,
    TASKS,
    check_scale,
    instructions,
    labels_text,
    task_structure,
    task_template,
)
from vowelprompt.prompts.templates import Template, load_template
from vowelprompt.records import Annotation
from vowelprompt.verbalize import VOWEL_STYLES, describe

OUTPUT_FORMATS = ("tags", "json")

OUTPUT_INSTRUCTIONS = {
    "tags": "Think step by step, then answer in exactly this format: <think>your reasoning</think>"
    "<answer>one label from the list</answer>",
    "json": 'Answer with only a JSON object: {"reasoning": "your reasoning", "evidence": ["the words, vowels '
    'and cues you relied on"], "label": "one label from the list"}',
}

NO_CONTEXT = "(no earlier turns)"


@dataclass(frozen=True)
class PromptConfig:
    """How prompts are built. ``template`` and ``labels`` are given by name and resolved here, once: the
    config holds the loaded :class:`Template` and :class:`LabelSet` (an unknown template or an unknown or
    empty label set fails here, before any model is loaded)."""

    template: Template | str = "vowelprompt"
    """A shipped template name (see ``vowelprompt predict --help``) or a YAML file; held as a Template."""
    labels: LabelSet | str = "iemocap4"
    """Label-set preset or a comma-separated list; held as a LabelSet."""
    output_format: str = "tags"
    """``tags`` (<think>…</think><answer>…</answer>) or ``json`` (label, reasoning, evidence)."""
    context_window: int = 12
    """How many preceding dialogue turns ``*_context`` templates show."""
    style: str = "paper"
    """Style of the per-vowel lines: ``paper`` or ``compact``."""
    task: str = "label"
    """What is asked (:mod:`vowelprompt.prompts.tasks`): ``label``, ``blend`` (up to two labels with their
    salience) or ``dimensions`` (valence, arousal and dominance ratings on ``scale``)."""
    scale: tuple[float, float] = DEFAULT_SCALE
    """The rating scale of the dimensions task, (low, high): 1–5 as IEMOCAP, 1–7 as MSP-Podcast."""

    def __post_init__(self):
        object.__setattr__(self, "scale", check_scale(self.scale))
        if self.output_format not in OUTPUT_FORMATS:
            raise ConfigError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
        if self.style not in VOWEL_STYLES:
            raise ConfigError(f"a prompt's style must be {' or '.join(VOWEL_STYLES)}")
        if self.context_window < 0:
            raise ConfigError("need context_window ≥ 0")
        if not isinstance(self.template, Template):
            object.__setattr__(self, "template", load_template(task_template(self.template, self.task)))
        elif self.task not in TASKS:
            task_template("", self.task)  # the error naming the tasks
        if not isinstance(self.labels, LabelSet):
            object.__setattr__(self, "labels", get_label_set(self.labels))

    def to_dict(self) -> dict[str, Any]:
        """The fields, with the template and label set by the names that load them again (run manifests).

        >>> PromptConfig(labels="calm, tense").to_dict()["labels"]
        'calm,tense'
        """
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        labels = self.labels
        out["template"] = self.template.ref
        out["scale"] = list(self.scale)  # as JSON writes it
        out["labels"] = labels.name if LABEL_SETS.get(labels.name) == labels else ",".join(labels.labels)
        return out

    def structure(self) -> Structure:
        """The decoding constraint for this config's labels and output format (:func:`output_structure`)."""
        return output_structure(self.labels, self.output_format, self.task, self.scale)


def speaker_names(rows: list[Annotation]) -> dict[str | None, str]:
    """``Speaker_0``, ``Speaker_1`` … in order of first appearance (docs/method.md §2)."""
    names: dict[str | None, str] = {}
    for row in rows:
        names.setdefault(row.speaker, f"Speaker_{len(names)}")
    return names


def context_lines(target: Annotation, dialogue: list[Annotation], window: int) -> str:
    """The ``window`` turns before ``target`` in its dialogue, as ``Speaker_N: "…"`` lines."""
    names = speaker_names(dialogue)
    before = [r for r in dialogue if r.turn is not None and target.turn is not None and r.turn < target.turn]
    lines = [f'{names[r.speaker]}: "{data_text(r.text or "")}"' for r in before[-window:]] if window else []
    return "\n".join(lines) or NO_CONTEXT


def no_transcript(row: Annotation) -> str:
    """What the transcript slot says when there is no transcript: plainly that there is none, and why."""
    if row.transcript_source.get("from") == "asr":
        return "(no transcript: speech recognition heard no words in this recording)"
    return "(no transcript is available for this recording)"


def vowel_text(row: Annotation, style: str) -> str:
    """The vowel descriptions; without vowel cues, the utterance-level description in their place, headed
    by why there are no vowels (no transcript to align, or an alignment that failed)."""
    if row.vowels:
        return describe(row, style)
    if not has_utterance_cues(row):
        return "(no vowels could be measured)"
    why = "there is no transcript to align" if not has_transcript(row) else "the words could not be aligned"
    return f"(no vowel-level cues: {why}; utterance-level prosody instead)\n{describe(row, 'speechcue')}"


def prompt_inputs(
    row: Annotation, config: PromptConfig, groups: dict[str | None, list[Annotation]] | None = None
) -> tuple[str, ...]:
    """Which inputs the prompt for ``row`` carries (``Prediction.inputs``): what the template's variables
    show of what the row has (:func:`vowelprompt.missing.row_inputs`). Without vowels, a template's
    ``{vowel_descriptions}`` shows the utterance-level cues. Raises :class:`InputError` when the prompt would
    carry nothing of the utterance itself (context alone does not make a prediction of it)."""
    used = set(config.template.variables)
    have = set(row_inputs(row))
    shown = set()
    if "transcript" in used and "transcript" in have:
        shown.add("transcript")
    if "vowel_descriptions" in used:  # vowel sentences if there are vowels, else the utterance's cues
        shown |= {"vowels"} & have if row.vowels else {"utterance"} & have
    if "utterance_description" in used:
        shown |= {"utterance"} & have
    if not shown:
        reasons = "".join(f"; no {k}: {why}" for k, why in missing_reasons(row).items())
        raise InputError(
            f"nothing to predict from: template {config.template.name!r} shows none of what this row has "
            f"(inputs: {', '.join(sorted(have)) or 'none'}{reasons})"
        )
    dialogue = (groups or {}).get(row.dialogue, [row]) if row.dialogue is not None else [row]
    if "context" in used and context_lines(row, dialogue, config.context_window) != NO_CONTEXT:
        shown.add("context")
    return tuple(name for name in INPUTS if name in shown)


def prompt_variables(
    row_in: Annotation,
    labels: LabelSet,
    output_format: str = "tags",
    dialogue: list[Annotation] | None = None,
    window: int = 12,
    style: str = "paper",
    task: str = "label",
    scale: tuple[float, float] = DEFAULT_SCALE,
) -> dict[str, str]:
    """Every variable a shipped template may use, for one annotated utterance (``task`` and ``scale`` set
    what ``labels`` and ``output_instructions`` ask for)."""
    if output_format not in OUTPUT_FORMATS:
        raise TemplateError(
            f"unknown output format {output_format!r}; choose one of: {', '.join(OUTPUT_FORMATS)}"
        )
    row = neutralize(row_in)
    dialogue = dialogue or [row_in]
    return {
        "transcript": row.text if has_transcript(row) else no_transcript(row),
        "speaker": speaker_names(dialogue).get(row_in.speaker, "Speaker_0"),
        "context": context_lines(row_in, dialogue, window),  # each turn's text through data_text
        "vowel_descriptions": vowel_text(row, style),
        "utterance_description": describe(row, "speechcue"),
        "labels": labels_text(labels, task),
        "output_instructions": (
            OUTPUT_INSTRUCTIONS[output_format]
            if task == "label"
            else instructions(task, output_format, labels, scale)
        ),
    }


def dialogues(rows: Iterable[Annotation]) -> dict[str | None, list[Annotation]]:
    """Rows grouped by dialogue id and sorted by turn (rows without a dialogue stand alone)."""
    groups: dict[str | None, list[Annotation]] = defaultdict(list)
    for row in rows:
        groups[row.dialogue].append(row)
    for key, group in groups.items():
        if key is not None:
            group.sort(key=lambda r: (r.turn is None, r.turn or 0))
    return groups


def conversation(
    row: Annotation, config: PromptConfig, groups: dict[str | None, list[Annotation]] | None = None
) -> Conversation:
    """The messages for one row; its context turns come from ``groups`` (:func:`dialogues` of every row of
    the run, so that rows already done or failed still give context)."""
    dialogue = (groups or {}).get(row.dialogue, [row]) if row.dialogue is not None else [row]
    variables = prompt_variables(
        row,
        config.labels,
        config.output_format,
        dialogue,
        config.context_window,
        config.style,
        config.task,
        config.scale,
    )
    return config.template.render(variables)


def conversations(
    rows: list[Annotation], config: PromptConfig, context: Iterable[Annotation] | None = None
) -> list[Conversation]:
    """The messages for each of ``rows``, context turns taken from ``context`` (default: ``rows``)."""
    groups = dialogues(rows if context is None else context)
    return [conversation(row, config, groups) for row in rows]


def output_structure(
    labels: LabelSet,
    output_format: str = "tags",
    task: str = "label",
    scale: tuple[float, float] = DEFAULT_SCALE,
) -> Structure:
    """The decoding constraint that makes a backend emit a well-formed answer with a label from the set
    (or, for the blend and dimensions tasks, a well-formed blend or ratings: :func:`task_structure`).

    >>> from vowelprompt.labels import LABEL_SETS
    >>> output_structure(LABEL_SETS["iemocap4"]).regex
    '<think>[^<]{1,1200}</think>\\\\s*<answer>(neutral|happy|angry|sad)</answer>'
    """
    if task != "label":
        return task_structure(labels, output_format, task, scale)
    # Bounded reasoning: unbounded fields let a small model write until max_new_tokens and never answer.
    choice = "|".join(re.escape(label) for label in labels.labels)
    if output_format == "json":
        schema = {
            "type": "object",
            "properties": {
                "reasoning": {"type": "string", "maxLength": MAX_REASONING_CHARS},
                "evidence": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 6},
                "label": {"type": "string", "enum": list(labels.labels)},
            },
            "required": ["reasoning", "evidence", "label"],
            "additionalProperties": False,
        }
        return Structure(json_schema=schema, choices=labels.labels, output_format="json")
    regex = rf"<think>[^<]{{1,{MAX_REASONING_CHARS}}}</think>\s*<answer>({choice})</answer>"
    return Structure(regex=regex, choices=labels.labels)
