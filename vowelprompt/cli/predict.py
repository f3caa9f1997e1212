"""``vowelprompt predict``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vowelprompt.cli.annotate import _annotations, _progress
from vowelprompt.errors import ConfigError


def _backend_options(args) -> dict:
    options = {"model": args.model}
    for item in args.backend_option:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--backend-option takes KEY=VALUE, got {item!r}")
        try:
            options[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            options[key.replace("-", "_")] = value
    if args.base_url:
        options["base_url"] = args.base_url
    return options


def cmd_predict(args, argv: list[str]) -> int:
    from vowelprompt.backends import Sampling, get_backend
    from vowelprompt.io import JsonlWriter
    from vowelprompt.predict import PredictConfig, iter_predict, run_manifest

    config = PredictConfig(
        template=args.template, labels=args.labels, output_format=args.output_format,
        context_window=args.context_window, vowel_style=args.vowel_style, constrained=not args.no_constrained,
        batch_size=args.batch_size,
    )  # fmt: skip
    sampling = Sampling(args.temperature, args.top_p, args.max_new_tokens, args.seed)
    from vowelprompt.prompts import load_template

    load_template(config.template)  # fail fast on a bad template, before loading any model
    from vowelprompt.normalize import Stats

    stats = Stats.load(args.stats) if args.stats else None
    # Annotation errors are reported once, as the input_error rows of the predictions.
    rows = _annotations(args, stats, args.save_annotations, report_errors=False)
    skip = set()
    if args.resume:
        from vowelprompt.io import read_jsonl

        if Path(args.output).is_file():
            skip = {
                r["id"] for r in read_jsonl(args.output) if r.get("status") in ("ok", "repaired", "invalid")
            }
            _drop_rows(Path(args.output), keep=skip)  # errored rows are redone, not duplicated
    backend = get_backend(args.backend, **_backend_options(args))
    manifest = run_manifest(config, backend, sampling, argv)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output + ".run.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    counts: dict[str, int] = {}
    with (
        JsonlWriter(args.output, append=args.resume) as writer,
        _progress(len(rows) - len(skip & {r.id for r in rows}), args.quiet, "predict") as bar,
    ):
        for prediction in iter_predict(rows, backend, sampling, config, skip=skip):
            writer.write(prediction.to_dict())
            counts[prediction.status] = counts.get(prediction.status, 0) + 1
            bar.update()
            if prediction.error:
                bar.write(f"{prediction.id}: {prediction.status}: {prediction.error}", file=sys.stderr)
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    if not args.quiet:
        print(f"wrote {sum(counts.values())} predictions to {args.output} ({summary or 'nothing to do'})",
              file=sys.stderr)  # fmt: skip
    return 1 if counts.get("backend_error") or counts.get("input_error") else 0


def _drop_rows(path: Path, keep: set[str]) -> None:
    lines = [
        line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if _row_id(line) in keep
    ]
    path.write_text("".join(lines), encoding="utf-8")


def _row_id(line: str) -> str | None:
    try:
        return json.loads(line)["id"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None
