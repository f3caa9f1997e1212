"""``vowelprompt build-dataset``: SFT or GRPO training data (TRL formats) from annotated rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vowelprompt.cli.console import add_verb, plural
from vowelprompt.cli.prompting import add_prompt_options, prompt_config
from vowelprompt.errors import ConfigError


def add_parser(verbs, parents: list) -> None:
    """Register ``build-dataset`` and its options with the ``verbs`` subparsers (``parents`` are not its
    own: it reads annotate's rows, not recordings)."""
    ds = add_verb(verbs, "build-dataset", "SFT or GRPO training data (TRL formats) from annotated rows", [])
    ds.add_argument("annotations", help="annotate's JSONL output, with gold labels")
    ds.add_argument("--kind", choices=["sft", "grpo"], required=True, help="training method the rows are for")
    ds.add_argument("-o", "--output", required=True, help="folder for train.jsonl (+ eval.jsonl, info.json)")
    add_prompt_options(ds)
    rows = ds.add_argument_group("rows")
    rows.add_argument(
        "--fraction", type=float, default=1.0, help="share of labelled rows to use; the paper's SFT used 0.2"
    )
    rows.add_argument("--balanced", action="store_true", help="same number of rows per class")
    rows.add_argument(
        "--interleave",
        action="store_true",
        help="order rows round-robin by class (for GRPO with shuffle_dataset false: every step "
        "sees the classes in equal shares)",
    )
    rows.add_argument("--eval-fraction", type=float, default=0.0, help="hold out this share as eval.jsonl")
    rows.add_argument("--seed", type=int, default=0, help="seed of the selection, order and eval split")
    rows.add_argument(
        "--gold",
        metavar="MANIFEST",
        help="prepare's manifest: its vad and blend columns join the rows by id (rating and blend rewards)",
    )
    rows.add_argument(
        "--cite",
        type=int,
        default=1,
        metavar="N",
        help="vowel cues a deterministic VowelPrompt trace cites before its summary; 0: the summary only",
    )
    teacher = ds.add_argument_group("teacher")
    teacher.add_argument(
        "--teacher-backend", help="SFT traces from a teacher model (default: deterministic traces)"
    )
    teacher.add_argument(
        "--teacher-model", help="teacher model (with --teacher-backend; default: smollm2-135m)"
    )
    teacher.add_argument("--teacher-base-url", help="teacher server URL (openai backend)")
    ds.set_defaults(run=run)


def run(args) -> int:
    from collections import Counter

    from vowelprompt.backends import get_backend
    from vowelprompt.io import read_annotations
    from vowelprompt.outputs import check_outputs, write_jsonl_atomic, write_text_atomic
    from vowelprompt.prompts import PromptConfig
    from vowelprompt.training_data import DatasetConfig, build_rows, select, split, teacher_traces, usable

    prompt = prompt_config(args, PromptConfig)
    config = DatasetConfig(
        args.fraction,
        args.seed,
        args.balanced,
        args.eval_fraction,
        prompt,
        cite=args.cite,
        interleave=args.interleave,
    )
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
        if prompt.task != "label":
            raise ConfigError("--teacher-backend explains gold labels; --task blend or dimensions needs none")
        options = {"model": args.teacher_model or "smollm2-135m"}
        if args.teacher_base_url:
            options["base_url"] = args.teacher_base_url
        teacher = get_backend(args.teacher_backend, **options)
        chosen = select(rows, labels, config)
        traces, report = teacher_traces(chosen, teacher, prompt)
        info["teacher"] = {"backend": teacher.name, "model": teacher.model, **report.__dict__}
        print(
            f"teacher traces: {report.kept} kept, {report.dropped_disagree} dropped (answer disagreed with "
            f"the gold label), {report.dropped_invalid} dropped (no answer), {report.failed} failed",
            file=sys.stderr,
        )
    gold = None
    if args.gold:
        from vowelprompt.io import read_rows

        gold = {str(row["id"]): row for _, row, _ in read_rows(args.gold) if row and "id" in row}
    items = build_rows(rows, args.kind, config, traces, gold)
    if not items:
        raise ConfigError("no training rows were built (every teacher trace was dropped or failed)")
    train, held = split(items, args.eval_fraction, args.seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("eval", held)):
        if part:
            write_jsonl_atomic(out / f"{name}.jsonl", part)
    options = {k: v for k, v in vars(args).items() if k not in ("run", "argv")}
    info.update(
        kind=args.kind,
        config=options,
        train=len(train),
        eval=len(held),
        classes=dict(Counter(i["label"] for i in train)),
        skipped=len(rows) - len(items),
    )
    write_text_atomic(out / "info.json", json.dumps(info, indent=1, default=str))
    print(
        f"wrote {plural(len(train), 'train row')} and {plural(len(held), 'eval row')} to {out} "
        f"(classes: {info['classes']})",
        file=sys.stderr,
    )
    return 0


def _why_unusable(rows, labels) -> str:
    """One line: why none of ``rows`` can be a training example in ``labels``."""
    from collections import Counter

    failed = sum(not r.ok for r in rows)
    unlabelled = sum(r.ok and not isinstance(r.label, str) for r in rows)
    outside = Counter(
        r.label for r in rows if r.ok and isinstance(r.label, str) and not labels.normalize(r.label)
    )
    parts = [plural(len(rows), "row")]
    if failed:
        parts.append(f"{failed} failed annotation")
    if unlabelled:
        have = "has" if unlabelled == 1 else "have"
        parts.append(f"{unlabelled} {have} no label (annotate a manifest with a 'label' field)")
    if outside:
        names = ", ".join(f"{k} ({v})" for k, v in outside.most_common(5))
        parts.append(f"labels outside {labels.name}: {names} (choose --labels)")
    return "; ".join(parts)
