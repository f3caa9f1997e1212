"""Stage 1 of VowelPrompt training (docs/method.md §3): supervised fine-tuning on reasoning traces, with LoRA.

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

``label_weight`` (default 1 = TRL's plain completion loss) multiplies the loss on the completion tokens that
spell a label of the ``labels`` set ("angry" in "this fits angry" and in ``<answer>angry</answer>``). A
reasoning trace is tens of tokens and the decision one or two, so with plain SFT a small model learns to
write the trace long before it learns which label the trace's cues point to; the weight moves the gradient
to that decision. With a weight above 1 the loss is computed from the full logits (one batch × length ×
vocabulary tensor) instead of TRL's fused LM head, and ``label_loss`` (mean loss on label tokens) is logged.
The eval loss is the same weighted loss (with ``eval_label_loss``); compare runs of different weights on
``label_loss``, ``entropy`` and ``mean_token_accuracy``, which are logged as TRL logs them.

    python recipes/sft.py --config recipes/smollm2-135m/sft/config_cpu.yaml --dataset_dir data/sft
    accelerate launch --config_file recipes/accelerate_configs/ddp.yaml recipes/sft.py \\
        --config recipes/qwen2.5-7b-instruct/sft/config_lora.yaml

Any field of the YAML can be overridden on the command line (``--max_steps 2``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from trl import ModelConfig, SFTConfig, SFTTrainer, TrlParser, get_peft_config

from vowelprompt.labels import get_label_set
from vowelprompt.models import resolve_model


@dataclass
class DataArguments:
    """Where the data is. The model is ``model_name_or_path`` (an alias such as ``smollm2-135m``, a folder or
    a Hub id), resolved with :func:`vowelprompt.models.resolve_model`."""

    dataset_dir: str = field(default="", metadata={"help": "Folder with train.jsonl (+ eval.jsonl)."})
    labels: str = field(default="iemocap4", metadata={"help": "Label set of the dataset (for label_weight)."})
    label_weight: float = field(
        default=1.0,
        metadata={"help": "Loss multiplier on tokens spelling a label (1: plain SFT)."},
    )


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


def label_token_sequences(tokenizer, labels: str) -> list[list[int]]:
    """The token ids a label of the set can appear as in a completion: after a space or not, capitalised."""
    names = get_label_set(labels).labels
    spellings = {form for name in names for form in (name, " " + name, name.title(), " " + name.title())}
    unique = {tuple(tokenizer.encode(form, add_special_tokens=False)) for form in spellings}
    return [list(seq) for seq in sorted(unique, key=len)]


def label_mask(labels, sequences: list[list[int]]):
    """Boolean mask over ``labels`` (batch × length, -100 outside the completion) of the completion tokens
    that spell one of ``sequences``. Loops over the completion positions: cheap next to a training step."""
    import torch

    mask = torch.zeros_like(labels, dtype=torch.bool)
    for row, ids in enumerate(labels.tolist()):
        for start in (i for i, token in enumerate(ids) if token != -100):
            for seq in sequences:
                if ids[start : start + len(seq)] == seq:
                    mask[row, start : start + len(seq)] = True
    return mask


class LabelWeightedSFTTrainer(SFTTrainer):
    """SFTTrainer whose completion loss counts label tokens ``label_weight`` times (module docstring).
    Normalised like TRL's loss (by the number of completion tokens): ``label_weight=1`` is the same loss."""

    def __init__(self, *args, label_weight: float = 1.0, label_sequences=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.label_weight = label_weight
        self.label_sequences = list(label_sequences)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.label_weight == 1.0 or return_outputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        return self.weighted_loss(model, inputs, self.label_weight, num_items_in_batch)

    def weighted_loss(self, model, inputs, weight: float, num_items_in_batch=None):
        """Summed token losses, label tokens × ``weight``, over the number of completion tokens."""
        import torch

        labels = inputs["labels"]
        outputs = model(**{k: v for k, v in inputs.items() if k != "labels"}, use_cache=False)
        target = labels[:, 1:]  # position t predicts token t + 1
        valid = target != -100
        # One log-softmax over the completion positions serves the loss and the logged metrics.
        log_probs = torch.log_softmax(outputs.logits[:, :-1][valid].float(), dim=-1)
        target = target[valid]
        token_loss = -log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        on_label = label_mask(labels, self.label_sequences)[:, 1:][valid]
        weights = torch.where(on_label, weight, 1.0)
        num_tokens = valid.sum() if num_items_in_batch is None else num_items_in_batch
        loss = (token_loss * weights).sum() / torch.as_tensor(num_tokens).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            loss = loss * self.accelerator.num_processes
        mode = "train" if model.training else "eval"
        if on_label.any():
            self._metrics[mode]["label_loss"].append(token_loss[on_label].mean().item())
        self.log_token_metrics(mode, log_probs.detach(), target, inputs)
        return loss

    def log_token_metrics(self, mode: str, log_probs, target, inputs) -> None:
        """What TRL's ``compute_loss`` logs beside the loss, from the log-probabilities at the completion
        positions (tokens × vocabulary) and their ``target`` ids: the mean token entropy and top-1 accuracy,
        and the running count of tokens trained on."""
        import torch

        entropy = -(log_probs.exp() * log_probs).sum(-1)
        correct = log_probs.argmax(-1) == target
        gather = self.accelerator.gather_for_metrics
        num_valid = gather(torch.as_tensor(len(target), device=target.device)).sum()
        entropy_sum, num_correct = gather(entropy.sum()).sum(), gather(correct.sum()).sum()
        self._metrics[mode]["entropy"].append((entropy_sum / num_valid).item() if num_valid > 0 else 0.0)
        self._metrics[mode]["mean_token_accuracy"].append(
            (num_correct / num_valid).item() if num_valid > 0 else 0.0
        )
        if mode == "train" and "attention_mask" in inputs:
            self._total_train_tokens += gather(inputs["attention_mask"].sum()).sum().item()
        elif mode == "train" and "position_ids" in inputs:  # padding-free batches carry no attention mask
            length = torch.tensor(inputs["position_ids"].size(1), device=inputs["position_ids"].device)
            self._total_train_tokens += gather(length).sum().item()
        self._metrics[mode]["num_tokens"] = [self._total_train_tokens]


def main(data_args: DataArguments, training_args: SFTConfig, model_args: ModelConfig) -> None:
    train, evaluation = load_splits(data_args.dataset_dir, ("prompt", "completion"))
    training_args.model_init_kwargs = {
        "dtype": model_args.dtype,
        "attn_implementation": model_args.attn_implementation,
        "trust_remote_code": training_args.trust_remote_code,
        **(training_args.model_init_kwargs or {}),
    }
    model = resolve_model(model_args.model_name_or_path)
    weighting = {}
    if data_args.label_weight != 1.0:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model)
        weighting = dict(
            label_weight=data_args.label_weight,
            label_sequences=label_token_sequences(tokenizer, data_args.labels),
        )
    trainer = LabelWeightedSFTTrainer(
        # An absolute path, so that the adapter's base_model_name_or_path works from any folder.
        model=os.path.abspath(model) if os.path.isdir(model) else model,
        args=training_args,
        train_dataset=train,
        eval_dataset=evaluation if training_args.eval_strategy != "no" else None,
        peft_config=get_peft_config(model_args),
        **weighting,
    )
    trainer.train(resume_from_checkpoint=resume_arg(training_args.resume_from_checkpoint))
    trainer.save_model(training_args.output_dir)
    trainer.save_state()  # trainer_state.json: the log history (losses, rewards) next to the model
    trainer.accelerator.print(f"saved to {training_args.output_dir}")


if __name__ == "__main__":
    parser = TrlParser((DataArguments, SFTConfig, ModelConfig))
    main(*parser.parse_args_and_config())
