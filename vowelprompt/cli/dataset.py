"""``vowelprompt build-dataset``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vowelprompt.errors import ConfigError


def cmd_build_dataset(args) -> int:
    from collections import Counter

    from vowelprompt.backends import get_backend
    from vowelprompt.io import JsonlWriter, read_jsonl
    from vowelprompt.labels import get_label_set
    from vowelprompt.predict import PredictConfig
    from vowelprompt.records import Annotation
    from vowelprompt.training_data import DatasetConfig, build_rows, select, split, teacher_traces

    prompt = PredictConfig(template=args.template, labels=args.labels, vowel_style=args.vowel_style,
                           context_window=args.context_window)  # fmt: skip
    config = DatasetConfig(args.fraction, args.seed, args.balanced, args.eval_fraction, prompt,
                           cite=args.cite, interleave=args.interleave)  # fmt: skip
    rows = [Annotation.from_dict(r) for r in read_jsonl(args.annotations)]
    traces, info = None, {}
    if args.teacher_backend:
        if args.kind != "sft":
            raise ConfigError("--teacher-backend makes SFT traces; GRPO rows need none")
        options = {"model": args.teacher_model or "smollm2-135m"}
        if args.teacher_base_url:
            options["base_url"] = args.teacher_base_url
        teacher = get_backend(args.teacher_backend, **options)
        chosen = select(rows, get_label_set(args.labels), config)
        traces, report = teacher_traces(chosen, teacher, get_label_set(args.labels), prompt)
        info["teacher"] = {"backend": teacher.name, "model": teacher.model, **report.__dict__}
        print(f"teacher traces: {report.kept} kept, {report.dropped_disagree} dropped (answer disagreed with "
              f"the gold label), {report.dropped_invalid} dropped (no answer), {report.failed} failed",
              file=sys.stderr)  # fmt: skip
    items = build_rows(rows, args.kind, config, traces)
    train, held = split(items, args.eval_fraction, args.seed)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("eval", held)):
        if part:
            with JsonlWriter(out / f"{name}.jsonl") as writer:
                for item in part:
                    writer.write(item)
    info.update(kind=args.kind, config=vars(args), train=len(train), eval=len(held),
                classes=dict(Counter(i["label"] for i in train)), skipped=len(rows) - len(items))  # fmt: skip
    (out / "info.json").write_text(json.dumps(info, indent=1, default=str), encoding="utf-8")
    print(f"wrote {len(train)} train and {len(held)} eval rows to {out} (classes: {info['classes']})",
          file=sys.stderr)  # fmt: skip
    return 0
