"""A probability over the label set per utterance, for ``predict --distribution logprobs|samples:N``.

Two ways, recorded in ``Prediction.distribution_from``:

- ``logprobs`` — the softmax of every label's log-probability in the answer's place, from backends that
  offer :meth:`~vowelprompt.backends.Backend.generate_scored` (transformers: the scored labels; vLLM: the same
  scoring through prompt log-probabilities; OpenAI-compatible servers: the ``top_logprobs`` of the answer's
  first token). Where a backend cannot read them for one answer, the distribution is None and the row's
  ``note`` says why. The answer itself is unchanged (greedy: the argmax).
- ``samples:N`` — N answers sampled at the run's temperature (seeds ``seed``, ``seed + 1``, …; the first is
  the run's own answer, so asking for a distribution never changes the label), each read by the shared
  parser; the distribution is the labels' frequencies. Invalid answers are left out of it and counted in the
  note (``samples: 2 of 20 invalid``); if all are invalid it is None. Any backend can do it, at N times the
  cost; temperature 0 would give N copies of one answer, so it is refused.

Both are checked before any work (:func:`check_distribution`): a backend without log-probabilities, or
samples at temperature 0, is a one-line :class:`~vowelprompt.errors.ConfigError`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from vowelprompt.backends import Answer, Backend, Conversation, Sampling, Structure
from vowelprompt.backends.answers import softmax
from vowelprompt.errors import ConfigError
from vowelprompt.labels import LabelSet
from vowelprompt.parse import parse

_SAMPLES = re.compile(r"samples:(\d+)")


def parse_spec(spec: str | None) -> tuple[str, int] | None:
    """``"logprobs"`` → ``("logprobs", 0)``, ``"samples:N"`` → ``("samples", N)``, None → None.

    >>> parse_spec("samples:20")
    ('samples', 20)
    """
    if spec is None:
        return None
    if spec == "logprobs":
        return ("logprobs", 0)
    found = _SAMPLES.fullmatch(spec)
    if not found or int(found.group(1)) < 2:
        raise ConfigError(f"--distribution must be logprobs or samples:N with N ≥ 2, got {spec!r}")
    return ("samples", int(found.group(1)))


def check_distribution(
    spec: str | None, backend: object, sampling: Sampling, constrained: bool = True
) -> None:
    """Refuse, in one line, a distribution this run cannot give; ``backend`` is a backend or its class."""
    kind = parse_spec(spec)
    if kind is None:
        return
    name = getattr(backend, "name", type(backend).__name__)
    if kind[0] == "samples" and sampling.temperature == 0:
        raise ConfigError(
            f"--distribution {spec} samples at the run's temperature, and temperature 0 gives one answer "
            "N times: set --temperature (e.g. 1.0)"
        )
    if kind[0] == "logprobs" and not callable(getattr(backend, "generate_scored", None)):
        raise ConfigError(
            f"the {name} backend cannot give label log-probabilities: use --distribution samples:N instead"
        )
    if kind[0] == "logprobs" and not constrained:
        raise ConfigError(
            "--distribution logprobs scores the labels in the answer's place, which needs the answer "
            "format: drop --no-constrained (or use samples:N)"
        )


@dataclass(frozen=True)
class Scored:
    """One completion with what ``predict`` records beside it."""

    text: str
    generated: str | None = None
    distribution: dict[str, float] | None = None
    source: str | None = None
    note: str = ""


def answer_batch(
    backend: Backend,
    conversations: list[Conversation],
    sampling: Sampling,
    structure: Structure | None,
    spec: str | None,
    labels: LabelSet,
    output_format: str = "tags",
) -> list[Scored]:
    """The backend's completion of each conversation, with its distribution if ``spec`` asks for one.

    Backends with ``generate_scored`` are asked through it (so a scored answer keeps the model's own text);
    others through ``generate``. Raises what the backend raises (BackendError for the whole batch)."""
    kind = parse_spec(spec)
    method = getattr(backend, "generate_scored", None)
    if callable(method):
        answers = method(
            conversations, sampling, structure, logprobs=kind is not None and kind[0] == "logprobs"
        )
    else:
        answers = [Answer(text) for text in backend.generate(conversations, sampling, structure)]
    out = [Scored(a.text, a.generated) for a in answers]
    if kind is None:
        return out
    if kind[0] == "logprobs":
        return [_from_logprobs(s, a) for s, a in zip(out, answers)]
    samples = [[s.text] for s in out]
    for k in range(1, kind[1]):
        more = backend.generate(conversations, replace(sampling, seed=sampling.seed + k), structure)
        for row, text in zip(samples, more):
            row.append(text)
    return [_from_samples(s, texts, labels, output_format) for s, texts in zip(out, samples)]


def _from_logprobs(scored: Scored, answer: Answer) -> Scored:
    if not answer.logprobs:
        return replace(scored, note=answer.note or "no label log-probabilities in this answer")
    return replace(scored, distribution=softmax(answer.logprobs), source="logprobs", note=answer.note)


def _from_samples(scored: Scored, texts: list[str], labels: LabelSet, output_format: str) -> Scored:
    found = [parse(text, labels, output_format).label for text in texts]
    counts = Counter(label for label in found if label is not None)
    invalid = len(found) - sum(counts.values())
    note = f"samples: {invalid} of {len(found)} invalid" if invalid else ""
    if not counts:
        return replace(scored, note=note)
    total = sum(counts.values())
    distribution = {label: counts[label] / total for label in labels.labels}
    return replace(scored, distribution=distribution, source="samples", note=note)
