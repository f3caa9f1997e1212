"""``vowelprompt build-dataset``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vowelprompt.errors import ConfigError


def cmd_build_dataset(args) -> int:
    from collections import Counter

    from vowelprompt.backends import get_backend
    from vowelprompt.io import check_outputs, read_annotations, write_jsonl_atomic, write_text_atomic
    from vowelprompt.prompts import PromptConfig
    from vowelprompt.training_data import DatasetConfig, build_rows, select, split, teacher_traces, usable

    prompt = PromptConfig(template=args.template, labels=args.labels, vowel_style=args.vowel_style,
                          context_window=args.context_window)  # fmt: skip
    config = DatasetConfig(args.fraction, args.seed, args.balanced, args.eval_fraction, prompt,
                           cite=args.cite, interleave=args.interleave)  # fmt: skip
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"-o {out} is a file; build-dataset writes a folder")
    check_outputs(
        [args.annotations],
        {f"-o ({name})": out / name for name in ("train.jsonl", "eval.jsonl", "info.json")},
    )
    rows = read_annotations(args.annotations)
    labels = prompt.labels
    if not usable(rows, labels):
        raise ConfigError(f"{args.annotations}: nothing to train on — {_why_unusable(rows, labels)}")
    traces, info = None, {}
    if args.teacher_backend:
        if args.kind != "sft":
            raise ConfigError("--teacher-backend makes SFT traces; GRPO rows need none")
        options = {"model": args.teacher_model or "smollm2-135m"}
        if args.teacher_base_url:
            options["base_url"] = args.teacher_base_url
        teacher = get_backend(args.teacher_backend, **options)
        chosen = select(rows, labels, config)
        traces, report = teacher_traces(chosen, teacher, prompt)
        info["teacher"] = {"backend": teacher.name, "model": teacher.model, **report.__dict__}
        print(f"teacher traces: {report.kept} kept, {report.dropped_disagree} dropped (answer disagreed with "
              f"the gold label), {report.dropped_invalid} dropped (no answer), {report.failed} failed",
              file=sys.stderr)  # fmt: skip
    items = build_rows(rows, args.kind, config, traces)
    if not items:
        raise ConfigError("no training rows were built (every teacher trace was dropped or failed)")
    train, held = split(items, args.eval_fraction, args.seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("eval", held)):
        if part:
            write_jsonl_atomic(out / f"{name}.jsonl", part)
    info.update(kind=args.kind, config=vars(args), train=len(train), eval=len(held),
                classes=dict(Counter(i["label"] for i in train)), skipped=len(rows) - len(items))  # fmt: skip
    write_text_atomic(out / "info.json", json.dumps(info, indent=1, default=str))
    print(f"wrote {len(train)} train and {len(held)} eval rows to {out} (classes: {info['classes']})",
          file=sys.stderr)  # fmt: skip
    return 0


def _why_unusable(rows, labels) -> str:
    """One line: why none of ``rows`` can be a training example in ``labels``."""
    from collections import Counter

    failed = sum(not r.ok for r in rows)
    unlabelled = sum(r.ok and not isinstance(r.label, str) for r in rows)
    outside = Counter(
        r.label for r in rows if r.ok and isinstance(r.label, str) and not labels.normalize(r.label)
    )
    parts = [f"{len(rows)} rows"]
    if failed:
        parts.append(f"{failed} failed annotation")
    if unlabelled:
        parts.append(f"{unlabelled} have no label (annotate a manifest with a 'label' field)")
    if outside:
        names = ", ".join(f"{k} ({v})" for k, v in outside.most_common(5))
        parts.append(f"labels outside {labels.name}: {names} (choose --labels)")
    return "; ".join(parts)
