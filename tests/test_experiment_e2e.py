"""``vowelprompt experiment`` end to end, as a user runs it: the ``iemocap4-loso`` protocol on 2 folds of a
synthetic IEMOCAP-shaped corpus (espeak-ng speech, one voice per session, the four emotions carried by
vowel pitch movements only: ``vowelprompt.experiment.synthetic``), SmolLM2-135M through transformers on CPU,
zero-shot with the counterfactual controls; then the same run folder with one SFT and one GRPO step per
fold with the recipes and predictions again. All of it is ``bench`` (``make bench-smoke``, which CI runs
after ``make test``): zero-shot ~1.5 min, training ~3 min (the recipes' start-up and the merge of the SFT
adapter cost about a minute per fold), past what ``make test`` can hold; the unit tests of
tests/test_experiment.py run the same runner on the fake backend in ``make test``.
The tiny model is not expected to be accurate; what is checked is that every step ran on the right rows, the
tables are written, and a rerun reuses every step and redoes exactly what was deleted or is out of date.

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

CONTROLS = ("shuffled", "pitch_inverted", "no_prosody")
SMOKE = {"max_steps": 1, "per_device_train_batch_size": 2, "warmup_steps": 0, "logging_steps": 1}
TRAIN = {
    "templates": ["vowelprompt"],
    "dataset": {"cite": 0},
    "sft": {"config": "smollm2-135m/sft/config_cpu.yaml", "args": SMOKE},
    "grpo": {
        "config": "smollm2-135m/grpo/config_cpu.yaml",
        "args": {**SMOKE, "num_generations": 2, "max_completion_length": 16},
    },
}


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


def ran(out) -> list[str]:
    """The steps the last run of ``out`` did (not reused)."""
    steps = json.loads((out / "experiment.run.json").read_text())["steps"]
    return [s["step"] for s in steps if s["status"] == "ran"]


def write_config(path, manifest, out, train=None):
    config = {
        "protocol": "iemocap4-loso",
        "manifest": str(manifest),
        "output": str(out),
        "folds": [1, 2],
        "templates": ["transcript", "vowelprompt"],
        "backend": "transformers",
        "model": "smollm2-135m",
        "sampling": {"max_new_tokens": 16},
        "style": "compact",
        "controls": True,
        "control_stages": ["zero-shot"],
        "train": train,
    }
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def zero_shot(synth, tmp_path_factory):
    """(run folder, the process, its seconds, config path, manifest rows): zero-shot with the controls."""
    from vowelprompt.experiment.synthetic import write_corpus

    base = tmp_path_factory.mktemp("experiment")
    manifest = write_corpus(base / "corpus", sessions=2, sentences=1, speakers=1)
    path = write_config(base / "zero-shot.yaml", manifest, base / "run")
    start = time.perf_counter()
    proc = cli(str(path))
    rows = [json.loads(line) for line in manifest.open()]
    return base / "run", proc, time.perf_counter() - start, path, rows


def check_cells(out, rows, expected: set) -> dict:
    """Every cell of ``expected`` in both folds, scored on the fold's 4 test rows by the right model and
    template, with statistics from the other fold only; returns the JSON report."""
    result = json.loads((out / "results.json").read_text())
    for fold in ("1", "2"):
        cells = {(c["stage"], c["template"], c["condition"]): c for c in result["cells"] if c["fold"] == fold}
        assert set(cells) == expected
        test_ids = {r["id"] for r in rows if str(r["fold"]) == fold}
        split = json.loads((out / f"fold-{fold}" / "split.json").read_text())
        assert set(split["test"]) == test_ids and not test_ids & set(split["train"] + split["dev"])
        stats = json.loads((out / f"fold-{fold}" / "stats.json").read_text())
        assert set(stats["speakers"]) == {r["speaker"] for r in rows if str(r["fold"]) != fold}
        for (stage, template, condition), cell in cells.items():
            assert cell["scores"]["n"] == len(test_ids) == 4
            predictions = [json.loads(line) for line in open(cell["predictions"])]
            assert {p["id"] for p in predictions} == test_ids
            model = (
                "smollm2-135m"
                if stage == "zero-shot"
                else str(out / f"fold-{fold}" / stage / template / "model")
            )
            assert {p["model"] for p in predictions} == {model}
            shown = "transcript" if condition == "no_prosody" else template
            assert {p["template"]["name"] for p in predictions} == {shown}
        assert f"## fold {fold} (%)" in (out / f"fold-{fold}" / "results.md").read_text()
    return result


ZERO_SHOT = {("zero-shot", "transcript", "real")} | {
    ("zero-shot", "vowelprompt", c) for c in ("real", *CONTROLS)
}


@pytest.mark.bench
def test_every_fold_predicts_with_and_without_the_prosody_and_the_table_is_written(zero_shot):
    out, proc, seconds, _, rows = zero_shot
    print(f"zero-shot run: {seconds:.0f} s")
    result = check_cells(out, rows, ZERO_SHOT)
    text = (out / "results.md").read_text()
    assert text.startswith("# iemocap4-loso: mean ± sd over folds (%)")
    assert "| zero-shot | vowelprompt | real | 2 | 8 |" in text and " ± " in text
    assert "EmoBox Whisper-large-v3 (frozen): UA 73.54 WA 72.86 mF1 73.11" in text
    assert "## fold 1 (%)" in text and "## fold 2 (%)" in text and "recall happy" in text
    summary = {(r["stage"], r["template"], r["condition"]): r for r in result["summary"]}
    assert all(summary[("zero-shot", "vowelprompt", c)]["drop_weighted_f1"] is not None for c in CONTROLS)
    assert "| zero-shot | vowelprompt | real |" in proc.stdout  # the table is printed too
    assert "fold 1" in proc.stderr and "predict zero-shot vowelprompt shuffled" in proc.stderr  # progress


@pytest.mark.bench
def test_a_rerun_reuses_every_step_and_resumes_the_one_cut_short(zero_shot):
    out, _, seconds, path, _ = zero_shot
    start = time.perf_counter()
    cli(str(path), "-q")
    assert ran(out) == [] and time.perf_counter() - start < seconds / 2
    before = json.loads((out / "results.json").read_text())["cells"]
    shuffled = out / "fold-2" / "zero-shot" / "vowelprompt" / "shuffled.jsonl"
    lines = shuffled.read_text().splitlines(keepends=True)
    shuffled.write_text("".join(lines[:2]))  # cut short after 2 of its 4 rows: no .done, no scores
    shuffled.with_suffix(".done").unlink()
    shuffled.with_suffix(".scores.json").unlink()
    cli(str(path), "-q")
    assert ran(out) == ["predict zero-shot vowelprompt shuffled", "evaluate zero-shot vowelprompt shuffled"]
    again = shuffled.read_text().splitlines(keepends=True)
    assert again[:2] == lines[:2] and [json.loads(x)["id"] for x in again] == [
        json.loads(x)["id"] for x in lines
    ]
    after = json.loads((out / "results.json").read_text())["cells"]
    redone = ("2", "zero-shot", "vowelprompt", "shuffled")
    assert [c for c in after if (c["fold"], c["stage"], c["template"], c["condition"]) != redone] == [
        c for c in before if (c["fold"], c["stage"], c["template"], c["condition"]) != redone
    ]


@pytest.mark.bench
def test_training_adds_sft_and_grpo_per_fold_and_reuses_the_zero_shot_steps(zero_shot, tmp_path):
    import shutil

    source, _, _, _, rows = zero_shot
    out = tmp_path / "run"
    shutil.copytree(source, out)
    path = write_config(tmp_path / "trained.yaml", source.parent / "corpus" / "manifest.jsonl", out, TRAIN)
    start = time.perf_counter()
    cli(str(path))
    print(f"training run: {time.perf_counter() - start:.0f} s")
    per_fold = [
        "build-dataset sft vowelprompt", "recipes/sft.py vowelprompt", "predict sft vowelprompt real",
        "evaluate sft vowelprompt real", "build-dataset grpo vowelprompt", "recipes/grpo.py vowelprompt",
        "predict grpo vowelprompt real", "evaluate grpo vowelprompt real",
    ]  # fmt: skip
    assert sorted(ran(out)) == sorted(per_fold * 2)  # zero-shot: all reused
    check_cells(out, rows, ZERO_SHOT | {("sft", "vowelprompt", "real"), ("grpo", "vowelprompt", "real")})
    for fold in ("1", "2"):
        split = json.loads((out / f"fold-{fold}" / "split.json").read_text())
        data = out / f"fold-{fold}" / "sft" / "vowelprompt" / "data"
        trained = {json.loads(line)["id"] for line in (data / "train.jsonl").open()}
        held = {json.loads(line)["id"] for line in (data / "eval.jsonl").open()}
        assert trained == set(split["train"]) and held == set(split["dev"]) and held  # validation: never test
    text = (out / "results.md").read_text()
    assert "| grpo | vowelprompt | real | 2 | 8 |" in text

    (out / "fold-2" / "grpo" / "vowelprompt" / "model" / "adapter_config.json").unlink()  # a model lost:
    cli(str(path), "-q")  # retrained, and what the old one predicted is predicted again
    assert ran(out) == [
        "recipes/grpo.py vowelprompt",
        "predict grpo vowelprompt real",
        "evaluate grpo vowelprompt real",
    ]
