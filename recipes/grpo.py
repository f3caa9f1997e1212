"""Stage 2 of VowelPrompt training (docs/method.md §3): GRPO: verifiable rewards, KL to the SFT policy.

Input is a folder written by ``vowelprompt build-dataset --kind grpo``: rows ``{"id", "prompt", "label"}``;
the ``label`` column reaches the reward functions as a keyword argument. Rewards come from
:mod:`vowelprompt.rewards` by name (``reward_funcs: [accuracy, format]`` is the paper's R = R_acc + R_format;
``grounding`` is optional), weighted by GRPOConfig's ``reward_weights``. TRL logs each one as
``rewards/<name>/mean`` and ``/std``, plus ``reward``, ``frac_reward_zero_std`` and (``beta > 0``) ``kl``.

Starting point (``model_name_or_path``): a plain checkpoint (alias, folder, Hub id) or the adapter folder that
``recipes/sft.py`` wrote. An adapter is merged into its base once and saved in ``OUTPUT_DIR/sft-merged``
(reused on a rerun or resume), and GRPO then trains a *fresh* LoRA on top of that merged model. This is what
makes the KL term right: with PEFT, TRL's reference model is the policy with its adapter disabled, so the
reference is the SFT model, as docs/method.md asks, not the pre-SFT base. The saved GRPO adapter points at
``OUTPUT_DIR/sft-merged`` and loads with ``vowelprompt predict --model OUTPUT_DIR``.

Generation: on CPU through transformers (``use_vllm: false``; TRL's vLLM weight sync fails on CPU). On GPUs
set ``use_vllm: true`` with ``vllm_mode: colocate`` (vLLM shares the training GPUs;
``vllm_gpu_memory_utilization`` bounds it) or ``vllm_mode: server`` (first run
``trl vllm-serve --model OUTPUT_DIR/sft-merged`` on separate GPUs).

A callback warns when most groups have zero reward variance (``frac_reward_zero_std`` above
``zero_std_warning``): those groups have zero advantage and teach nothing, so the task is too easy or too
hard for the policy, or ``num_generations``/``temperature`` is too small. ``log_completions: true`` prints
``num_completions_to_print`` sampled completions with their rewards at each logging step (and writes them to
``OUTPUT_DIR/completions/*.parquet``).

    python recipes/grpo.py --config recipes/smollm2-135m/grpo/config_cpu.yaml \\
        --dataset_dir data/grpo --model_name_or_path runs/sft
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field

from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer, ModelConfig, TrlParser, get_peft_config

from vowelprompt.models import resolve_model
from vowelprompt.rewards import REWARDS

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sft import load_splits, resume_arg  # recipes/ is a folder of scripts, not a package

logger = logging.getLogger("vowelprompt.recipes.grpo")


@dataclass
class GRPOArguments:
    dataset_dir: str = field(default="", metadata={"help": "Folder with train.jsonl (+ eval.jsonl)."})
    labels: str = field(default="iemocap4", metadata={"help": "Label set of the dataset (for the rewards)."})
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy", "format"],
        metadata={"help": f"Rewards from vowelprompt.rewards: {', '.join(REWARDS)}."},
    )
    zero_std_warning: float = field(
        default=0.75, metadata={"help": "Warn when frac_reward_zero_std exceeds this share of groups."}
    )


class ZeroVarianceWarning(TrainerCallback):
    """Warn when most groups' rewards are all equal: their advantages are 0, so they teach nothing."""

    def __init__(self, threshold: float):
        self.threshold = threshold

    def on_log(self, args, state, control, logs=None, **kwargs):
        frac = (logs or {}).get("frac_reward_zero_std")
        if frac is not None and frac > self.threshold:
            logger.warning(
                "step %d: %.0f%% of groups have zero reward variance (no learning signal); consider a larger "
                "num_generations, a higher temperature, or data the SFT model gets right only sometimes",
                state.global_step,
                100 * frac,
            )


def plain_checkpoint(path: str, output_dir: str, dtype: str | None) -> str:
    """``path`` itself if it is a plain checkpoint; for a PEFT adapter folder, the merged model saved (once)
    in ``output_dir/sft-merged``."""
    if not os.path.isfile(os.path.join(path, "adapter_config.json")):
        return path
    merged = os.path.join(output_dir, "sft-merged")
    if os.path.isfile(os.path.join(merged, "config.json")):
        return merged
    import torch
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    torch_dtype = getattr(torch, dtype) if dtype and dtype != "auto" else "auto"
    model = AutoPeftModelForCausalLM.from_pretrained(path, dtype=torch_dtype).merge_and_unload()
    model.save_pretrained(merged)
    AutoTokenizer.from_pretrained(path).save_pretrained(merged)
    return merged


def main(script_args: GRPOArguments, training_args: GRPOConfig, model_args: ModelConfig) -> None:
    unknown = sorted(set(script_args.reward_funcs) - set(REWARDS))
    if unknown:
        raise SystemExit(f"unknown reward_funcs {unknown}; choose from {', '.join(REWARDS)}")
    rewards = [
        REWARDS[name]() if name in ("format", "rating") else REWARDS[name](script_args.labels)
        for name in script_args.reward_funcs
    ]
    train, evaluation = load_splits(script_args.dataset_dir, ("prompt", "label"))
    training_args.model_init_kwargs = {
        "dtype": model_args.dtype,
        "attn_implementation": model_args.attn_implementation,
        "trust_remote_code": training_args.trust_remote_code,
        **(training_args.model_init_kwargs or {}),
    }
    start = plain_checkpoint(
        resolve_model(model_args.model_name_or_path), training_args.output_dir, model_args.dtype
    )
    trainer = GRPOTrainer(
        model=os.path.abspath(start) if os.path.isdir(start) else start,
        reward_funcs=rewards,
        args=training_args,
        train_dataset=train,
        eval_dataset=evaluation if training_args.eval_strategy != "no" else None,
        peft_config=get_peft_config(model_args),
        callbacks=[ZeroVarianceWarning(script_args.zero_std_warning)],
    )
    trainer.train(resume_from_checkpoint=resume_arg(training_args.resume_from_checkpoint))
    trainer.save_model(training_args.output_dir)
    trainer.save_state()  # trainer_state.json: the log history (losses, rewards) next to the model
    trainer.accelerator.print(f"saved to {training_args.output_dir}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = TrlParser((GRPOArguments, GRPOConfig, ModelConfig))
    main(*parser.parse_args_and_config())
