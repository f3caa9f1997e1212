"""``vowelprompt experiment`` end to end, as a user runs it: the ``iemocap4-loso`` protocol on 2 folds of a
synthetic IEMOCAP-shaped corpus (espeak-ng speech, one voice per session, the four emotions carried by
vowel pitch movements only: ``vowelprompt.experiment.synthetic``), SmolLM2-135M through transformers on CPU,
zero-shot with the counterfactual controls, then one SFT and one GRPO step per fold with the recipes and
predictions again. The tiny model is not expected to be accurate; what is checked is that every step ran on
the right rows, the tables are written, and a rerun reuses every step and redoes exactly what was deleted.

Sizes are cut only for time (none changes which code runs): 4 test utterances per fold; the compact style
(prompts ~45 % of the paper style's tokens: on CPU the prompt's prefill is most of a prediction's cost);
16 new tokens; the controls on zero-shot predictions only (the unit tests cover them on any rows); the
recipes' smoke settings of tests/test_recipes.py, with one step each.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from conftest import HANG_GUARD_S, LLM_INSTALL, LLM_MODULES, REPO, require

require(LLM_MODULES, LLM_INSTALL, module_level=True)
require(("trl", "peft", "datasets"), "pip install -c constraints.txt -e '.[train]'", module_level=True)

pytestmark = pytest.mark.slow

CONTROLS = ("shuffled", "pitch_inverted", "no_prosody")
SMOKE = {"max_steps": 1, "per_device_train_batch_size": 2, "warmup_steps": 0, "logging_steps": 1}


def cli(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "vowelprompt.cli", "experiment", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def steps(out) -> list[dict]:
    return json.loads((out / "experiment.run.json").read_text())["steps"]


@pytest.fixture(scope="module")
def run(synth, tmp_path_factory):
    """(run folder, first run's process, its seconds, config path)."""
    from vowelprompt.experiment.synthetic import write_corpus

    base = tmp_path_factory.mktemp("experiment")
    manifest = write_corpus(base / "corpus", sessions=2, sentences=1, speakers=1)
    config = {
        "protocol": "iemocap4-loso",
        "manifest": str(manifest),
        "output": str(base / "run"),
        "folds": [1, 2],
        "templates": ["transcript", "vowelprompt"],
        "backend": "transformers",
        "model": "smollm2-135m",
        "sampling": {"max_new_tokens": 16},
        "style": "compact",
        "controls": True,
        "control_stages": ["zero-shot"],
        "train": {
            "templates": ["vowelprompt"],
            "dataset": {"cite": 0},
            "sft": {"config": "smollm2-135m/sft/config_cpu.yaml", "args": SMOKE},
            "grpo": {
                "config": "smollm2-135m/grpo/config_cpu.yaml",
                "args": {**SMOKE, "num_generations": 2, "max_completion_length": 16},
            },
        },
    }
    path = base / "experiment.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    start = time.perf_counter()
    proc = cli(str(path))
    return base / "run", proc, time.perf_counter() - start, path


def test_every_fold_predicts_zero_shot_and_after_training_and_writes_the_tables(run):
    out, proc, seconds, _ = run
    print(f"first run: {seconds:.0f} s")
    manifest = [json.loads(line) for line in (out.parent / "corpus" / "manifest.jsonl").open()]
    result = json.loads((out / "results.json").read_text())
    expected = {
        ("zero-shot", "transcript", "real"),
        ("sft", "vowelprompt", "real"),
        ("grpo", "vowelprompt", "real"),
    }
    expected |= {("zero-shot", "vowelprompt", c) for c in ("real", *CONTROLS)}
    for fold in ("1", "2"):
        cells = {(c["stage"], c["template"], c["condition"]): c for c in result["cells"] if c["fold"] == fold}
        assert set(cells) == expected
        test_ids = {r["id"] for r in manifest if str(r["fold"]) == fold}
        split = json.loads((out / f"fold-{fold}" / "split.json").read_text())
        assert set(split["test"]) == test_ids and not test_ids & set(split["train"] + split["dev"])
        stats = json.loads((out / f"fold-{fold}" / "stats.json").read_text())
        assert set(stats["speakers"]) == {r["speaker"] for r in manifest if str(r["fold"]) != fold}
        for (stage, template, condition), cell in cells.items():
            assert cell["scores"]["n"] == len(test_ids) == 4
            rows = [json.loads(line) for line in open(cell["predictions"])]
            assert {r["id"] for r in rows} == test_ids
            model = (
                "smollm2-135m"
                if stage == "zero-shot"
                else str(out / f"fold-{fold}" / stage / template / "model")
            )
            assert {r["model"] for r in rows} == {model}
            used = "transcript" if condition == "no_prosody" else template
            assert {r["template"]["name"] for r in rows} == {used}
        # SFT validated on the held-out part of training, never on test rows
        held = [
            json.loads(line)["id"]
            for line in (out / f"fold-{fold}" / "sft" / "vowelprompt" / "data" / "eval.jsonl").open()
        ]
        assert held and set(held) == set(split["dev"])
        assert (out / f"fold-{fold}" / "grpo" / "vowelprompt" / "model" / "adapter_config.json").is_file()
        assert f"## fold {fold} (%)" in (out / f"fold-{fold}" / "results.md").read_text()
    text = (out / "results.md").read_text()
    assert text.startswith("# iemocap4-loso: mean ± sd over folds (%)")
    assert "| zero-shot | vowelprompt | real | 2 | 8 |" in text and " ± " in text
    assert "EmoBox Whisper-large-v3 (frozen): UA 73.54 WA 72.86 mF1 73.11" in text
    assert "## fold 1 (%)" in text and "## fold 2 (%)" in text and "recall happy" in text
    summary = {(r["stage"], r["template"], r["condition"]): r for r in result["summary"]}
    assert all(summary[("zero-shot", "vowelprompt", c)]["drop_weighted_f1"] is not None for c in CONTROLS)
    assert "| zero-shot | vowelprompt | real |" in proc.stdout  # the table is printed too


def test_a_rerun_reuses_every_step_and_redoes_exactly_what_was_deleted(run):
    out, _, seconds, path = run
    start = time.perf_counter()
    cli(str(path), "-q")
    assert {s["status"] for s in steps(out)} == {"reused"}
    assert time.perf_counter() - start < seconds / 3
    before = json.loads((out / "results.json").read_text())["cells"]

    fold2 = out / "fold-2"
    (fold2 / "zero-shot" / "vowelprompt" / "shuffled.done").unlink()  # a step cut short: resumed
    (fold2 / "zero-shot" / "vowelprompt" / "shuffled.scores.json").unlink()
    cli(str(path), "-q")
    ran = [s["step"] for s in steps(out) if s["status"] == "ran"]
    assert ran == ["predict zero-shot vowelprompt shuffled", "evaluate zero-shot vowelprompt shuffled"]
    assert json.loads((out / "results.json").read_text())["cells"] == before  # greedy: the same answers

    (fold2 / "grpo" / "vowelprompt" / "model" / "adapter_config.json").unlink()  # a model lost: retrained,
    cli(str(path), "-q")  # and what was predicted with the old one is predicted again
    ran = [s["step"] for s in steps(out) if s["status"] == "ran"]
    assert ran == [
        "recipes/grpo.py vowelprompt",
        "predict grpo vowelprompt real",
        "evaluate grpo vowelprompt real",
    ]
