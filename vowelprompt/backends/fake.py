"""A scripted backend: deterministic answers without a model, for tests and examples of everything *around*
the model (prompting, parsing, metrics, resuming, the CLI).

By default it answers each conversation with a well-formed response naming the first label it can find:
the first option of the requested :class:`Structure` (regex alternatives ``<answer>(a|b)</answer>`` or a
JSON schema's ``enum``), else the first of the list after "one of:" in the last user message (how the
shipped templates list labels), else ``neutral``. With a JSON schema the answer is a JSON object with every
property filled in. Scripted responses replace the default: a list (cycled), a file with one response per
line (cycled; blank lines are skipped; in a ``.jsonl`` file each line is a JSON string or an object with a
``"response"`` field, so responses may hold newlines), or a function of the conversation.

Every conversation received is appended to :attr:`FakeBackend.calls`, so a test can check the prompts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import cycle
from pathlib import Path
from typing import Any

from vowelprompt.backends import Conversation, Sampling, Structure
from vowelprompt.errors import ConfigError

Responses = list[str] | Callable[[Conversation], str] | str | Path

_REGEX_CHOICES = re.compile(r"<answer>\(([^()]*)\)")
_PROMPT_CHOICES = re.compile(r"one of:?\s*([^\n]+)", re.IGNORECASE)


class FakeBackend:
    """Answer from a script. ``model`` is only recorded.

    >>> backend = FakeBackend()
    >>> chat = [{"role": "user", "content": "Choose exactly one of:\\n  sad, angry, neutral."}]
    >>> backend.generate([chat], Sampling())
    ['<think>fake</think><answer>sad</answer>']
    >>> FakeBackend(responses=["a", "b"]).generate([chat] * 3, Sampling())
    ['a', 'b', 'a']
    >>> len(backend.calls)
    1
    """

    name = "fake"

    def __init__(self, model: str = "fake", responses: Responses | None = None):
        self.model = model
        self.calls: list[Conversation] = []
        self._respond: Callable[[Conversation, Structure | None], str]
        if responses is None:
            self._respond = default_response
        elif callable(responses):
            self._respond = lambda conversation, structure: responses(conversation)
        else:
            script = _read_script(Path(responses)) if isinstance(responses, (str, Path)) else list(responses)
            if not script:
                raise ConfigError("a fake backend needs at least one scripted response")
            turns = cycle(script)
            self._respond = lambda conversation, structure: next(turns)
        self._scripted = responses is not None

    def constrains(self, structure: Structure | None) -> bool:
        """The default responder answers within ``structure``; a script answers what it was given."""
        return structure is not None and not self._scripted

    def generate(
        self, conversations: list[Conversation], sampling: Sampling, structure: Structure | None = None
    ) -> list[str]:
        """One scripted response per conversation, in order; ``sampling`` is ignored."""
        self.calls.extend(conversations)
        return [self._respond(conversation, structure) for conversation in conversations]


def default_response(conversation: Conversation, structure: Structure | None = None) -> str:
    """A well-formed answer with the first label found (see the module doc).

    >>> default_response([], Structure(regex=r"<think>[^<]*</think>\\s*<answer>(sad|angry)</answer>"))
    '<think>fake</think><answer>sad</answer>'
    """
    schema = structure.json_schema if structure is not None else None
    label = _first_label(conversation, structure)
    regex = structure.regex if structure is not None else None
    if regex and "valence=" in regex:  # ratings (prompts.tasks): each at the scale's low end
        low = re.search(r"=\(\?:\[?(-?\d)", regex)
        ratings = ", ".join(f"{d}={low.group(1) if low else 3}" for d in re.findall(r"(\w+)=", regex))
        return f"<think>fake</think><answer>{ratings}</answer>"
    if regex and " 100|" in regex:  # a blend (prompts.tasks): the first label alone
        return f"<think>fake</think><answer>{label} 100</answer>"
    if schema is None:
        return f"<think>fake</think><answer>{label}</answer>"
    return json.dumps({key: _fill(spec, label) for key, spec in schema.get("properties", {}).items()})


def _first_label(conversation: Conversation, structure: Structure | None) -> str:
    if structure is not None and structure.json_schema is not None:
        for spec in structure.json_schema.get("properties", {}).values():
            if spec.get("enum"):
                return str(spec["enum"][0])
    if structure is not None and structure.regex is not None:
        found = _REGEX_CHOICES.search(structure.regex.replace("(?:", "("))
        if found:
            return found.group(1).split("|")[0].replace("\\", "")
    users = [m["content"] for m in conversation if m["role"] == "user"]
    found = _PROMPT_CHOICES.search(users[-1]) if users else None
    if found:
        return found.group(1).split(",")[0].strip(" .")
    return "neutral"


def _fill(spec: dict[str, Any], label: str) -> Any:
    """A value of a JSON schema property: the label for an enum, a placeholder of the right type else."""
    if spec.get("enum"):
        if label in spec["enum"]:
            return label
        numbers = [v for v in spec["enum"] if isinstance(v, int)]  # a blend's saliences: 100
        return max(numbers) if numbers else spec["enum"][0]
    if "properties" in spec:  # a blend item or the ratings (prompts.tasks)
        return {key: _fill(inner, label) for key, inner in spec["properties"].items()}
    if spec.get("type") == "array" and spec.get("minItems"):
        return [_fill(spec["items"], label)]
    if spec.get("type") == "number" and "minimum" in spec:
        return spec["minimum"]
    placeholders = {"string": "fake", "array": [], "object": {}, "integer": 0, "number": 0, "boolean": False}
    return placeholders.get(spec.get("type"))


def _read_script(path: Path) -> list[str]:
    """Responses from a file: one a line; a ``.jsonl`` line is a JSON string or ``{"response": …}``."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise ConfigError(f"cannot read fake responses from {path}: {exc.strerror}") from None
    if path.suffix != ".jsonl":
        return lines
    try:
        rows = [json.loads(line) for line in lines]
        return [row["response"] if isinstance(row, dict) else str(row) for row in rows]
    except (ValueError, KeyError) as exc:
        raise ConfigError(
            f"{path}: each line must be a JSON string or have a 'response' field ({exc})"
        ) from None
