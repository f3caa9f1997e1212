"""Stage 1 of VowelPrompt training (METHOD.md §3): supervised fine-tuning on reasoning traces, with LoRA.

Input is a folder written by ``vowelprompt build-dataset --kind sft``: ``train.jsonl`` (and ``eval.jsonl`` if
an eval split was held out), rows ``{"id", "prompt": [system, user], "completion": [assistant], "label"}``.
That is TRL's *conversational prompt-completion* format, for which ``SFTTrainer`` computes the loss on the
completion tokens only (``completion_only_loss`` defaults to ``None`` = "completion only for
prompt-completion data"; ``assistant_only_loss`` is not needed and needs a chat template with generation
markers, which SmolLM2's lacks).

The output folder holds a LoRA adapter (``adapter_config.json`` + ``adapter_model.safetensors``, whose
``base_model_name_or_path`` is the resolved base checkpoint) and the tokenizer. It loads directly with
``vowelprompt predict --model OUTPUT_DIR`` (transformers attaches the adapter when peft is installed) and is
the ``model_name_or_path`` of the GRPO stage (``recipes/grpo.py``), which merges it first.

    python recipes/sft.py --config recipes/smollm2-135m/sft/config_cpu.yaml --dataset_dir data/sft
    accelerate launch --config_file recipes/accelerate_configs/ddp.yaml recipes/sft.py \\
        --config recipes/qwen2.5-7b-instruct/sft/config_lora.yaml

Any field of the YAML can be overridden on the command line (``--max_steps 2``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from trl import ModelConfig, SFTConfig, SFTTrainer, TrlParser, get_peft_config

from vowelprompt.models import resolve_model


@dataclass
class DataArguments:
    """Where the data is. The model is ``model_name_or_path`` (an alias such as ``smollm2-135m``, a folder or
    a Hub id), resolved with :func:`vowelprompt.models.resolve_model`."""

    dataset_dir: str = field(default="", metadata={"help": "Folder with train.jsonl (+ eval.jsonl)."})


def load_splits(dataset_dir: str, columns: tuple[str, ...]):
    """``(train, eval or None)`` from ``DIR/train.jsonl`` and ``DIR/eval.jsonl``, keeping only ``columns``."""
    from datasets import load_dataset

    if not dataset_dir or not os.path.isfile(os.path.join(dataset_dir, "train.jsonl")):
        raise SystemExit(f"--dataset_dir must name a folder with train.jsonl, got {dataset_dir!r}")
    files = {"train": os.path.join(dataset_dir, "train.jsonl")}
    if os.path.isfile(os.path.join(dataset_dir, "eval.jsonl")):
        files["eval"] = os.path.join(dataset_dir, "eval.jsonl")
    data = load_dataset("json", data_files=files)
    data = data.select_columns(list(columns))
    return data["train"], data.get("eval")


def resume_arg(value):
    """``resume_from_checkpoint`` as Trainer wants it: a path, or True for output_dir's last one."""
    return True if str(value).lower() == "true" else value


def main(data_args: DataArguments, training_args: SFTConfig, model_args: ModelConfig) -> None:
    train, evaluation = load_splits(data_args.dataset_dir, ("prompt", "completion"))
    training_args.model_init_kwargs = {
        "dtype": model_args.dtype,
        "attn_implementation": model_args.attn_implementation,
        "trust_remote_code": training_args.trust_remote_code,
        **(training_args.model_init_kwargs or {}),
    }
    model = resolve_model(model_args.model_name_or_path)
    trainer = SFTTrainer(
        # An absolute path, so that the adapter's base_model_name_or_path works from any folder.
        model=os.path.abspath(model) if os.path.isdir(model) else model,
        args=training_args,
        train_dataset=train,
        eval_dataset=evaluation if training_args.eval_strategy != "no" else None,
        peft_config=get_peft_config(model_args),
    )
    trainer.train(resume_from_checkpoint=resume_arg(training_args.resume_from_checkpoint))
    trainer.save_model(training_args.output_dir)
    trainer.save_state()  # trainer_state.json: the log history (losses, rewards) next to the model
    trainer.accelerator.print(f"saved to {training_args.output_dir}")


if __name__ == "__main__":
    parser = TrlParser((DataArguments, SFTConfig, ModelConfig))
    main(*parser.parse_args_and_config())
