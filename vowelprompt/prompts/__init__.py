"""Prompts: templates (:mod:`.templates`), the neutraliser for data entering a prompt (:mod:`.data`), and
prompt assembly (:mod:`.assembly`): a :class:`PromptConfig`, resolved once per run, and
:func:`conversations`, the chat messages sent to a model for each annotated utterance.

Shipped templates live in ``vowelprompt/prompts/ser/`` as YAML data.
"""

from __future__ import annotations

from vowelprompt.prompts.assembly import (
    MAX_REASONING_CHARS,
    NO_CONTEXT,
    OUTPUT_FORMATS,
    OUTPUT_INSTRUCTIONS,
    PromptConfig,
    context_lines,
    conversation,
    conversations,
    dialogues,
    output_structure,
    prompt_inputs,
    prompt_variables,
    speaker_names,
)
from vowelprompt.prompts.data import data_text, neutralize
from vowelprompt.prompts.templates import Template, builtin_templates, load_template

__all__ = [
    "MAX_REASONING_CHARS",
    "NO_CONTEXT",
    "OUTPUT_FORMATS",
    "OUTPUT_INSTRUCTIONS",
    "PromptConfig",
    "Template",
    "builtin_templates",
    "context_lines",
    "conversation",
    "conversations",
    "data_text",
    "dialogues",
    "load_template",
    "neutralize",
    "output_structure",
    "prompt_inputs",
    "prompt_variables",
    "speaker_names",
]
