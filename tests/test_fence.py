"""Heavy imports are fenced (docs/architecture.md rule 3): importing any vowelprompt module pulls in no torch,
transformers, trl, peft, accelerate or vllm; those load only inside the functions that need them, and
trl/peft/accelerate only under recipes/."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import vowelprompt

HEAVY = (
    "torch",
    "transformers",
    "trl",
    "peft",
    "accelerate",
    "vllm",
    "datasets",
    "faster_whisper",
    "matplotlib",
)


def test_importing_every_module_loads_nothing_heavy():
    modules = sorted(m.name for m in pkgutil.walk_packages(vowelprompt.__path__, "vowelprompt."))
    assert "vowelprompt.backends.vllm" in modules and "vowelprompt.rewards" in modules
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_training_libraries_only_in_recipes():
    package = Path(vowelprompt.__file__).parent
    offenders = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        for line in p.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("import trl", "from trl", "import peft", "from peft"))
    ]
    assert offenders == []
