"""The training steps of an experiment: SFT and GRPO data from a fold's training rows (``build-dataset``'s
library functions), and the recipes (``recipes/sft.py``, ``recipes/grpo.py``) run as subprocesses, since they
live outside the package and are the only code that imports trl, peft and accelerate (docs/architecture.md
rule 3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from vowelprompt.errors import ConfigError, VowelPromptError
from vowelprompt.outputs import write_jsonl_atomic, write_text_atomic


def recipe_flags(args: dict[str, Any]) -> list[str]:
    """``{"max_steps": 2, "reward_funcs": ["accuracy", "format"]}`` → recipe command-line flags.

    >>> recipe_flags({"max_steps": 2, "reward_funcs": ["accuracy", "format"], "bf16": False})
    ['--max_steps', '2', '--reward_funcs', 'accuracy', 'format', '--bf16', 'false']
    """
    flags: list[str] = []
    for key, value in args.items():
        values = value if isinstance(value, list) else [value]
        flags += [f"--{key}", *(str(v).lower() if isinstance(v, bool) else str(v) for v in values)]
    return flags


def write_dataset(runner, kind: str, template: str, train: list, dev: list, folder: Path) -> None:
    """``train.jsonl`` of ``kind`` rows from the training rows, ``eval.jsonl`` from the validation rows (the
    dev split or the held-out part of training, never the test rows), and ``info.json`` (the done marker)."""
    from vowelprompt.prompts import PromptConfig
    from vowelprompt.training_data import DatasetConfig, build_rows

    config = runner.config
    prompt = PromptConfig(template=template, labels=runner.prompt_labels, style=config.style)
    options = {"seed": config.seed, **config.train.dataset}
    items = build_rows(train, kind, DatasetConfig(prompt=prompt, **options))
    if not items:
        raise ConfigError(f"{folder}: no {kind} training rows (none has a label of {prompt.labels.name})")
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(folder / "train.jsonl", items)
    held = build_rows(dev, kind, DatasetConfig(prompt=prompt, seed=config.seed)) if dev else []
    if held:
        write_jsonl_atomic(folder / "eval.jsonl", held)
    info = {"kind": kind, "template": template, "train": len(items), "eval": len(held), **options}
    write_text_atomic(folder / "info.json", json.dumps(info, indent=1))


def run_recipe(runner, script: str, spec: dict, data: Path, output: Path, extra: list[str]) -> None:
    """Run ``recipes/<script>`` on ``data`` into ``output``, its output logged to ``output.log``; a failure
    is one line naming the log."""
    recipes = runner.recipes
    config = Path(spec["config"])
    if not config.is_file():
        config = recipes / spec["config"]
    if not config.is_file():
        raise ConfigError(f"recipe config {spec['config']} not found (nor under {recipes})")
    command = [sys.executable, str(recipes / script), "--config", str(config), "--dataset_dir", str(data)]
    command += ["--output_dir", str(output), "--seed", str(runner.config.seed), *extra]
    command += recipe_flags(spec.get("args", {}))
    log = output.parent / f"{output.name}.log"
    output.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as fh:
        fh.write("$ " + " ".join(command) + "\n")
        fh.flush()
        code = subprocess.call(command, stdout=fh, stderr=subprocess.STDOUT)
    if code:
        last = (log.read_text(encoding="utf-8", errors="replace").strip().splitlines() or [""])[-1]
        raise VowelPromptError(f"{script} failed (exit {code}): {last[:300]} (log: {log})")
