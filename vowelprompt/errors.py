"""Typed exceptions. Library code raises them; only :mod:`vowelprompt.cli` turns them into messages.

Each carries a short ``kind`` used as the per-item status in batch output, so a failed row says *why*
(``audio_error``, ``alignment_error`` …) without parsing the message.
"""

from __future__ import annotations

import re


class VowelPromptError(Exception):
    """Base class: a problem with the user's input or configuration, reported in one line."""

    kind = "error"


class ConfigError(VowelPromptError):
    """A bad option or config value. Fails fast, before any item is processed."""

    kind = "config_error"


class InputError(VowelPromptError):
    """An input row that cannot be used as given: malformed JSON, a field of the wrong type, a corrupt
    annotation row. Recorded on that item's row; the batch goes on."""

    kind = "input_error"


class AudioError(VowelPromptError):
    """Audio that cannot be read or used: empty, corrupt, silent, too long."""

    kind = "audio_error"


class TranscriptError(VowelPromptError):
    """No transcript available, or one with no words left after normalisation."""

    kind = "transcript_error"


class NoSpeechError(TranscriptError):
    """ASR heard no speech (noise, music, a hum): the transcript is missing, not wrong. ``annotate`` keeps
    such a row with its utterance-level prosody unless words are required (:mod:`vowelprompt.missing`)."""


class AlignmentError(VowelPromptError):
    """The aligner could not align the audio to its transcript (after its retries)."""

    kind = "alignment_error"


class FeatureError(VowelPromptError):
    """No vowel could be measured."""

    kind = "feature_error"


class StatsError(VowelPromptError):
    """A statistics file that is missing, malformed or fitted on too little data."""

    kind = "stats_error"


class TemplateError(VowelPromptError):
    """A prompt template that cannot be loaded or rendered (e.g. a missing variable, named)."""

    kind = "template_error"


class BackendError(VowelPromptError):
    """The model or server could not be used: bad model path, unreachable server, out of retries."""

    kind = "backend_error"


class WorkerError(VowelPromptError):
    """A worker process died (killed, out of memory) before returning the item's row: not its fault."""

    kind = "worker_error"


#: Row statuses caused by something outside the item itself (a dead worker, a backend that could not be
#: reached, an unexpected failure that may not recur): ``--resume`` redoes these rows. Every other error
#: status (``audio_error``, ``transcript_error``, ``input_error`` …) is the item's own fault and final.
RETRY_STATUSES = frozenset({"worker_error", "backend_error", "internal_error"})


class MissingExtraError(VowelPromptError):
    """An optional dependency is not installed; the message names the extra to install."""

    kind = "missing_extra"

    def __init__(self, module: str, extra: str, command: str | None = None):
        command = command or f"pip install 'vowelprompt[{extra}]'"
        super().__init__(f"{module} is not installed; install it with: {command}")
        self.module = module
        self.extra = extra


_PYDANTIC_COUNT = re.compile(r"\d+ validation errors? for ")


def one_line(exc: BaseException, last: bool = False) -> str:
    """One line of ``exc``'s message for a one-line error: its first non-empty line (``last``: its last, where
    a library puts the cause at the end), skipping pydantic's "N validation errors for X" count; the
    exception's type name when the message is empty.

    >>> one_line(ValueError("2 validation errors for EngineArgs\\nmax_model_len\\n  too big"))
    'max_model_len'
    >>> one_line(OSError())
    'OSError'
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and _PYDANTIC_COUNT.match(lines[0]):
        lines = lines[1:]
    if not lines:
        return type(exc).__name__
    return lines[-1] if last else lines[0]
