"""LLM backends: one small protocol, one module each; heavy imports only inside the modules.

A backend turns chat conversations into completions::

    backend = get_backend("transformers", model="smollm2-135m")
    texts = backend.generate([[{"role": "user", "content": "…"}]], Sampling(max_new_tokens=64))

``structure`` asks a backend that can constrain decoding (vLLM) to follow a regular expression or a JSON
schema, so the label is always one of the set; the transformers backend gets there another way (it scores
each label after the model's reasoning, see :mod:`vowelprompt.backends.transformers`); backends that can do
neither ignore it (the parser still copes).

A backend may also offer ``generate_scored`` (see the protocol): the same completions, each with the
log-probability of every label of the set in the answer's place. ``predict --distribution logprobs`` needs
it; ``--distribution samples:N`` works with any backend.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from vowelprompt.errors import ConfigError
from vowelprompt.registry import build, check_options, load_factory

Conversation = list[dict[str, str]]


@dataclass(frozen=True)
class Sampling:
    """Decoding settings, recorded with every prediction. Greedy by default (temperature 0)."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    seed: int = 0

    def __post_init__(self):
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.max_new_tokens < 1:
            raise ConfigError("need temperature ≥ 0, 0 < top_p ≤ 1 and max_new_tokens ≥ 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Structure:
    """A decoding constraint: a regular expression the whole completion must match, or a JSON schema.

    ``choices`` (the labels the answer must be one of) and ``output_format`` (``tags`` or ``json``) say the
    same in plain terms, for backends that answer by scoring the labels rather than by following the regex
    (transformers) and for reading the answer's log-probabilities; :func:`structure_choices` recovers the
    choices of a structure built without them."""

    regex: str | None = None
    json_schema: dict[str, Any] | None = None
    choices: tuple[str, ...] = ()
    output_format: str = "tags"


_REGEX_CHOICES = re.compile(r"<answer>\(((?:[^()\\]|\\.)*)\)</answer>")


def structure_choices(structure: Structure | None) -> tuple[str, ...]:
    r"""The labels ``structure`` allows as the answer: its ``choices``, else the alternatives of the regex's
    ``<answer>(a|b)</answer>`` group or the JSON schema's ``label`` enum; ``()`` when it names none.

    >>> structure_choices(Structure(regex=r"<think>[^<]{1,9}</think>\s*<answer>(sad|very\ sad)</answer>"))
    ('sad', 'very sad')
    """
    if structure is None:
        return ()
    if structure.choices:
        return tuple(structure.choices)
    if structure.json_schema is not None:
        label = structure.json_schema.get("properties", {}).get("label", {})
        return tuple(str(x) for x in label.get("enum", ()))
    found = _REGEX_CHOICES.search(structure.regex or "")
    if not found:
        return ()
    return tuple(re.sub(r"\\(.)", r"\1", c) for c in found.group(1).split("|") if c)


def structure_format(structure: Structure) -> str:
    """``json`` for a JSON schema, else the structure's ``output_format``."""
    return "json" if structure.json_schema is not None else structure.output_format


@dataclass(frozen=True)
class Answer:
    """One completion from :meth:`Backend.generate_scored`.

    ``text`` is what ``generate`` would return. ``logprobs`` maps every label of the structure to the
    log-probability of answering it (the sum of its answer tokens' log-probabilities given the prompt and
    the reasoning before the answer), or is None when the backend could not read them, with ``note`` saying
    why. ``generated`` is the model's own text where ``text`` was rebuilt around a scored label (the
    transformers backend), so what the model wrote is never lost.
    """

    text: str
    logprobs: dict[str, float] | None = None
    generated: str | None = None
    note: str = ""


class Backend(Protocol):
    """Generate one completion per conversation, in order. Raise BackendError for failures of the model
    or server that make the whole batch impossible (a bad model path, an unreachable server)."""

    name: str
    model: str

    def generate(
        self, conversations: list[Conversation], sampling: Sampling, structure: Structure | None = None
    ) -> list[str]: ...

    # Optional: ``constrains(structure) -> bool`` says whether generate really decodes within ``structure``
    # (recorded in the run manifest); a backend without it is taken not to constrain.
    #
    # Optional: ``generate_scored(conversations, sampling, structure, logprobs=False) -> list[Answer]``: what
    # ``generate`` returns, each completion as an :class:`Answer`; with ``logprobs`` (and a structure that
    # names its choices) each also carries the log-probability of every label in the answer's place. A
    # backend without it cannot give ``predict --distribution logprobs`` (``samples:N`` still works).


#: name → "module:factory"; factories take ``model=`` and keyword options.
BACKENDS: dict[str, str] = {
    "transformers": "vowelprompt.backends.transformers:TransformersBackend",
    "vllm": "vowelprompt.backends.vllm:VLLMBackend",
    "openai": "vowelprompt.backends.openai:OpenAIBackend",
    "fake": "vowelprompt.backends.fake:FakeBackend",
}


def get_backend(name: str, **options) -> Backend:
    """Build the backend called ``name`` (a key of :data:`BACKENDS` or ``module:factory``); an option it
    does not take is a one-line error naming the valid ones."""
    return build(BACKENDS, name, "backend", **options)


def check_backend(name: str, **options) -> None:
    """Fail now, in one line, for an unknown backend or an option it does not take — before a run spends
    time annotating audio. Imports the backend's module but builds nothing (no model is loaded)."""
    check_options(load_factory(BACKENDS, name, "backend"), name, "backend", options)
