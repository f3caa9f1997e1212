"""LLM backends: one small protocol, one module each; heavy imports only inside the modules.

A backend turns chat conversations into completions::

    backend = get_backend("transformers", model="smollm2-135m")
    texts = backend.generate([[{"role": "user", "content": "…"}]], Sampling(max_new_tokens=64))

``structure`` asks a backend that can constrain decoding (vLLM) to follow a regular expression or a JSON
schema, so the label is always one of the set; backends that cannot, ignore it (the parser still copes).
"""

from __future__ import annotations

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
    """A decoding constraint: a regular expression the whole completion must match, or a JSON schema."""

    regex: str | None = None
    json_schema: dict[str, Any] | None = None


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
