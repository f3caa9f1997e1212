"""The configuration of an experiment (``vowelprompt experiment CONFIG.yaml``): one YAML (or JSON) file,
checked in full before any work, every field documented here and in docs/experiments.md."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vowelprompt.errors import ConfigError
from vowelprompt.experiment.controls import CONTROLS
from vowelprompt.experiment.protocols import Protocol, get_protocol


@dataclass(frozen=True)
class TrainConfig:
    """SFT then (optionally) GRPO with the repository's recipes, per fold, on the fold's training rows."""

    templates: tuple[str, ...] = ()
    """Templates to train (default: every template of the experiment)."""
    recipes: str | None = None
    """The recipes folder (``sft.py``, ``grpo.py``); default: ``recipes/`` beside the package."""
    sft: dict[str, Any] = field(default_factory=dict)
    """``config`` (a recipe YAML, relative to the recipes folder or not) and ``args`` (recipe flags)."""
    grpo: dict[str, Any] = field(default_factory=dict)
    """Same for GRPO, which starts from the SFT adapter; empty: no GRPO."""
    dataset: dict[str, Any] = field(default_factory=dict)
    """``build-dataset`` options: ``fraction``, ``balanced``, ``cite``, ``interleave``."""


@dataclass(frozen=True)
class ExperimentConfig:
    protocol: str
    """A name of :data:`~vowelprompt.experiment.protocols.PROTOCOLS`."""
    manifest: tuple[str, ...]
    """The corpus manifest(s) ``vowelprompt prepare`` wrote (folds, splits, labels); two for cross-domain."""
    output: str
    """The run folder: every step's outputs, the tables and the run manifest."""
    annotations: str | None = None
    """``vowelprompt annotate``'s rows of the manifest(s); default: annotated here into OUTPUT."""
    folds: tuple[Any, ...] = ()
    """The folds to run (default: the protocol's)."""
    labels: str | None = None
    """Label set scored in (default: the protocol's)."""
    templates: tuple[str, ...] = ("transcript", "speechcue", "vowelprompt")
    backend: str = "transformers"
    model: str = "smollm2-135m"
    backend_options: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)
    """``temperature``, ``top_p``, ``max_new_tokens``, ``seed`` (vowelprompt predict's defaults)."""
    batch_size: int = 16
    controls: tuple[str, ...] = ()
    """Counterfactual controls to run beside the real prompts (``true``: all of them)."""
    control_stages: tuple[str, ...] = ("zero-shot", "sft", "grpo")
    """The stages whose predictions the controls are run on."""
    train: TrainConfig | None = None
    baselines: tuple[str, ...] = ()
    """Baselines that need no LLM (``prosody``, ``text``, ``fusion-mean``, ``fusion-stacked``; ``true``: all),
    trained per fold on its training and validation rows: rows of stage ``baseline``, template = the kind."""
    seed: int = 0
    """Seed of the held-out validation speakers, the controls, the training data and the recipes."""
    dev_fraction: float = 0.1
    """Share of the training part held out for validation where the corpus has no dev split."""
    jobs: int = 1
    """Annotation worker processes (when OUTPUT annotates the manifest)."""
    style: str = "paper"
    """Description style of the annotated rows."""

    @property
    def spec(self) -> Protocol:
        return get_protocol(self.protocol)

    @property
    def scored_labels(self) -> str:
        return self.labels or self.spec.labels

    @property
    def prompt_labels(self) -> str:
        """The label set the model is prompted and trained in (the training corpus's for cross-domain)."""
        return self.spec.train_labels or self.scored_labels


def _tuple(value, name: str) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    raise ConfigError(f"{name} must be a list, got {value!r}")


def _known(data: dict, cls, where: str) -> None:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(names))}")


def parse_config(data: dict[str, Any], where: str = "config") -> ExperimentConfig:
    """An :class:`ExperimentConfig` from a loaded YAML mapping; every problem is one line naming the key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys, got {type(data).__name__}")
    _known(data, ExperimentConfig, where)
    for key in ("protocol", "manifest", "output"):
        if not data.get(key):
            raise ConfigError(f"{where}: {key} is required")
    data = dict(data)
    controls = data.get("controls")
    data["controls"] = tuple(CONTROLS) if controls is True else _tuple(controls or None, "controls")
    unknown = [c for c in data["controls"] if c not in CONTROLS]
    if unknown:
        raise ConfigError(f"{where}: unknown controls {unknown}; choose from {', '.join(CONTROLS)}")
    from vowelprompt.baselines import KINDS

    baselines = data.get("baselines")
    data["baselines"] = KINDS if baselines is True else _tuple(baselines or None, "baselines")
    unknown = [b for b in data["baselines"] if b not in KINDS]
    if unknown:
        raise ConfigError(f"{where}: unknown baselines {unknown}; choose from {', '.join(KINDS)}")
    for key in ("manifest", "folds", "templates", "control_stages"):
        if key in data:
            data[key] = _tuple(data[key], key)
    train = data.get("train")
    if train:
        _known(train, TrainConfig, f"{where}: train")
        train = dict(train, templates=_tuple(train.get("templates"), "train.templates"))
        if not train.get("sft", {}).get("config"):
            raise ConfigError(f"{where}: train.sft.config (a recipe YAML) is required to train")
        data["train"] = TrainConfig(**train)
    else:
        data["train"] = None
    get_protocol(data["protocol"])  # an unknown protocol fails here
    config = ExperimentConfig(**data)
    if config.train and set(config.train.templates) - set(config.templates):
        raise ConfigError(f"{where}: train.templates must be among templates {list(config.templates)}")
    from vowelprompt.backends import Sampling

    unknown = sorted(set(config.sampling) - {"temperature", "top_p", "max_new_tokens", "seed"})
    if unknown:
        raise ConfigError(f"{where}: unknown sampling keys {', '.join(unknown)}")
    Sampling(**config.sampling)  # its own checks, one line each
    if not 0 <= config.dev_fraction < 1:
        raise ConfigError(f"{where}: dev_fraction must be in [0, 1)")
    return config


def load_config(path: str | Path) -> ExperimentConfig:
    """Read a YAML (or JSON) experiment file."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    return parse_config(data, str(path))
