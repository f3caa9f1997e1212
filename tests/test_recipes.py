"""Training recipes (recipes/sft.py, recipes/grpo.py) run end to end on CPU with the bundled SmolLM2-135M.

SFT (2 steps) → GRPO from the SFT adapter (2 steps) → the GRPO adapter loads in the transformers backend and
generates. Every knob is shrunk from the CPU configs only to keep this file near a minute on 2 CPUs; none of
the shrinking changes which code runs:

- ``max_steps 2``: one step proves the loop runs, the second that the optimizer state and LR schedule carry
  over (and, for GRPO, that a second generation round works after an update).
- ``per_device_train_batch_size 2``, ``num_generations 2``: GRPO needs ≥ 2 completions per group for a
  reward std; 2 is the least. SFT at 2 rows is half the cost of 4.
- ``max_completion_length 32``: CPU generation is the slow part of GRPO; 32 tokens is enough for the
  reward functions to run on real text (they score it 0 or 1, either way they are logged).
- ``warmup_steps 0``: with 2 steps a warmup would make the first learning rate 0.
- ``save_strategy no`` (as in the configs): checkpoints cost disk writes and are not under test.

The GPU configs are only parsed (no GPU here), with ``--bf16 false`` because transformers rejects bf16 on a
machine without a GPU at parse time.
"""

from __future__ import annotations

import glob
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

require(("trl", "peft", "datasets"), "pip install -c constraints.txt -e '.[train]'", module_level=True)

from test_training_data import row  # noqa: E402

from vowelprompt.backends import Sampling  # noqa: E402
from vowelprompt.training_data import build_rows  # noqa: E402

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def write_dataset(folder: Path, kind: str) -> Path:
    rows = [row(f"h{i}", "happy") for i in range(4)] + [row(f"s{i}", "sad") for i in range(4)]
    folder.mkdir(parents=True)
    with open(folder / "train.jsonl", "w") as f:
        for item in build_rows(rows, kind):
            f.write(json.dumps(item) + "\n")
    return folder


def run(script: str, *args: str) -> str:
    """Run a recipe; its stderr (logs, warnings)."""
    proc = subprocess.run([sys.executable, str(RECIPES / script), *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stderr


def log_history(folder: Path) -> list[dict]:
    return json.loads((folder / "trainer_state.json").read_text())["log_history"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(sft_dir, grpo_dir, GRPO's stderr) after both recipes ran on a tiny dataset."""
    base = tmp_path_factory.mktemp("recipes")
    sft_dir, grpo_dir = base / "sft", base / "grpo"
    shrink = [
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "2",
        "--warmup_steps",
        "0",
        "--logging_steps",
        "1",
    ]
    sft_data, grpo_data = write_dataset(base / "data-sft", "sft"), write_dataset(base / "data-grpo", "grpo")
    run(
        "sft.py",
        "--config",
        str(RECIPES / "smollm2-135m/sft/config_cpu.yaml"),
        "--dataset_dir",
        str(sft_data),
        "--output_dir",
        str(sft_dir),
        *shrink,
    )
    grpo_log = run(
        "grpo.py",
        "--config",
        str(RECIPES / "smollm2-135m/grpo/config_cpu.yaml"),
        "--dataset_dir",
        str(grpo_data),
        "--model_name_or_path",
        str(sft_dir),
        "--output_dir",
        str(grpo_dir),
        "--num_generations",
        "2",
        "--max_completion_length",
        "32",
        *shrink,
    )
    return sft_dir, grpo_dir, grpo_log


@pytest.mark.slow
def test_sft_saves_an_adapter_trained_on_completions(trained):
    sft_dir, _, _ = trained
    assert (sft_dir / "adapter_model.safetensors").is_file() and (sft_dir / "tokenizer.json").is_file()
    losses = [h["loss"] for h in log_history(sft_dir) if "loss" in h]
    assert len(losses) == 2 and all(loss > 0 for loss in losses)


@pytest.mark.slow
def test_grpo_starts_from_merged_sft_and_logs_reward_components(trained):
    _, grpo_dir, _ = trained
    assert (grpo_dir / "adapter_model.safetensors").is_file()
    # The SFT adapter was merged once; the GRPO adapter sits on the merge, so KL is to the SFT policy.
    config = json.loads((grpo_dir / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(grpo_dir / "sft-merged")
    assert (grpo_dir / "sft-merged" / "model.safetensors").is_file()
    steps = [h for h in log_history(grpo_dir) if "reward" in h]
    assert len(steps) == 2
    for name in ("accuracy", "format", "grounding"):
        assert all(0 <= h[f"rewards/{name}/mean"] <= 1 for h in steps)
    assert all("frac_reward_zero_std" in h and "kl" in h for h in steps)
    assert glob.glob(str(grpo_dir / "completions" / "*.parquet"))  # log_completions


@pytest.mark.slow
def test_grpo_warns_exactly_when_most_groups_carry_no_signal(trained):
    _, grpo_dir, log = trained
    warned = {int(s) for s in re.findall(r"step (\d+): \d+% of groups have zero reward variance", log)}
    flat = {h["step"] for h in log_history(grpo_dir) if h.get("frac_reward_zero_std", 0) > 0.75}
    assert warned == flat


def test_zero_variance_warning_fires_above_its_threshold_only(caplog):
    from types import SimpleNamespace

    sys.path.insert(0, str(RECIPES))
    from grpo import ZeroVarianceWarning

    callback, state = ZeroVarianceWarning(0.75), SimpleNamespace(global_step=7)
    with caplog.at_level("WARNING", logger="vowelprompt.recipes.grpo"):
        for frac in (0.5, 0.75, 0.9):
            callback.on_log(None, state, None, logs={"frac_reward_zero_std": frac, "reward": 0.0})
        callback.on_log(None, state, None, logs={"loss": 1.0})  # an SFT-style log line: no reward stats
    [record] = caplog.records
    assert record.getMessage().startswith("step 7: 90% of groups have zero reward variance")


@pytest.mark.slow
def test_grpo_adapter_loads_in_the_transformers_backend(trained):
    from vowelprompt.backends.transformers import TransformersBackend

    _, grpo_dir, _ = trained
    backend = TransformersBackend(str(grpo_dir))
    assert backend._lm._hf_peft_config_loaded  # the adapter is attached, not silently ignored
    prompt = json.loads((grpo_dir.parent / "data-grpo" / "train.jsonl").read_text().splitlines()[0])["prompt"]
    [text] = backend.generate([prompt], Sampling(temperature=0, max_new_tokens=16))
    assert text.strip()


@pytest.mark.slow
def test_label_weight_scales_the_loss_on_label_tokens_only(tmp_path):
    """At weight 1 the weighted loss is TRL's own SFT loss on the same batch (same shift, mask and
    normalisation); at weight w it adds (w - 1) × the label tokens' loss, and those tokens spell the label."""
    import torch
    from trl import SFTConfig, SFTTrainer

    sys.path.insert(0, str(RECIPES))
    from sft import LabelWeightedSFTTrainer, label_token_sequences, load_splits

    from vowelprompt.models import resolve_model

    train, _ = load_splits(str(write_dataset(tmp_path / "data", "sft")), ("prompt", "completion"))
    args = SFTConfig(str(tmp_path / "out"), per_device_train_batch_size=4, bf16=False, report_to="none")
    trainer = LabelWeightedSFTTrainer(model=resolve_model("smollm2-135m"), args=args, train_dataset=train)
    trainer.label_sequences = label_token_sequences(trainer.processing_class, "iemocap4")
    model = trainer.model.eval()
    batch = trainer._prepare_inputs(next(iter(trainer.get_train_dataloader())))
    metrics = trainer._metrics["eval"]
    with torch.no_grad():
        trl_loss = SFTTrainer.compute_loss(trainer, model, dict(batch))
        trl_metrics = {k: metrics[k][-1] for k in ("entropy", "mean_token_accuracy")}
        plain = trainer.weighted_loss(model, dict(batch), 1.0)
        ours = {k: metrics[k][-1] for k in trl_metrics}
        tripled = trainer.weighted_loss(model, dict(batch), 3.0)
    assert plain.item() == pytest.approx(trl_loss.item(), rel=1e-4)
    assert len(metrics["entropy"]) == 3  # logged at every call, as TRL does
    assert ours == pytest.approx(trl_metrics, rel=1e-3) and 0 < ours["mean_token_accuracy"] < 1
    label_loss = trainer._metrics["eval"]["label_loss"][-1]
    assert tripled.item() > plain.item() and label_loss > 0

    from sft import label_mask

    mask = label_mask(batch["labels"], trainer.label_sequences)
    for ids, on in zip(batch["labels"], mask, strict=True):
        completion = trainer.processing_class.decode(ids[ids != -100])
        gold = completion.rsplit("<answer>", 1)[1].split("</answer>")[0]
        spelled = trainer.processing_class.decode(ids[on]).replace(" ", "")
        assert spelled == gold * 2  # the label in "this fits <label>." and in <answer>, nothing else
    target = batch["labels"][:, 1:]
    n_tokens, n_label = (target != -100).sum().item(), mask[:, 1:].sum().item()
    assert tripled.item() - plain.item() == pytest.approx(2 * label_loss * n_label / n_tokens, rel=1e-3)


@pytest.mark.slow
def test_label_weighted_sft_logs_what_trl_logs_and_resumes_from_its_last_checkpoint(tmp_path):
    """Through the recipe at label weight 5, with an eval split and a checkpoint per step: the train and eval
    logs carry label_loss beside TRL's own entropy, token accuracy and token count; a second run with
    --resume_from_checkpoint continues from step 2 (one SFT run serves both checks: each costs ~40 s)."""
    data = write_dataset(tmp_path / "data", "sft")
    shutil.copy(data / "train.jsonl", data / "eval.jsonl")
    out = tmp_path / "sft"
    common = [
        "--config",
        str(RECIPES / "smollm2-135m/sft/config_cpu.yaml"),
        "--dataset_dir",
        str(data),
        "--output_dir",
        str(out),
        "--per_device_train_batch_size",
        "2",
        "--warmup_steps",
        "0",
        "--logging_steps",
        "1",
        "--label_weight",
        "5",
        "--eval_strategy",
        "steps",
        "--eval_steps",
        "2",
        "--save_strategy",
        "steps",
        "--save_steps",
        "1",
        "--log_level",
        "info",
    ]
    first = run("sft.py", *common, "--max_steps", "2")
    assert "Resuming training" not in first and (out / "checkpoint-2" / "adapter_model.safetensors").is_file()
    history = log_history(out)
    train = [h for h in history if "loss" in h]
    assert len(train) == 2
    for h in train:
        assert h["label_loss"] > 0 and h["entropy"] > 0 and 0 <= h["mean_token_accuracy"] <= 1
    assert 0 < train[0]["num_tokens"] < train[1]["num_tokens"]
    (evaluation,) = [h for h in history if "eval_loss" in h]
    assert evaluation["eval_label_loss"] > 0 and 0 <= evaluation["eval_mean_token_accuracy"] <= 1

    again = run("sft.py", *common, "--max_steps", "3", "--resume_from_checkpoint", "true")
    assert "Resuming training from checkpoint with epoch 0 and global step 2" in again
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 3 and [h["step"] for h in state["log_history"] if "loss" in h] == [1, 2, 3]


@pytest.mark.parametrize(
    "path",
    sorted(glob.glob(str(RECIPES / "*" / "*" / "config_*.yaml"))),
    ids=lambda p: "/".join(Path(p).parts[-3:]),
)
def test_every_config_parses(path):
    sys.path.insert(0, str(RECIPES))
    try:
        import grpo
        import sft
    finally:
        sys.path.remove(str(RECIPES))
    from trl import GRPOConfig, ModelConfig, SFTConfig, TrlParser

    kind = Path(path).parent.name
    types = (
        (sft.DataArguments, SFTConfig, ModelConfig)
        if kind == "sft"
        else (grpo.GRPOArguments, GRPOConfig, ModelConfig)
    )
    script_args, training_args, model_args = TrlParser(types).parse_args_and_config(
        args=["--config", path, "--bf16", "false"], fail_with_unknown_args=True
    )
    assert model_args.use_peft and training_args.output_dir
    if kind == "grpo":
        assert len(training_args.reward_weights) == len(script_args.reward_funcs)
        assert training_args.use_vllm == ("cpu" not in Path(path).name)
