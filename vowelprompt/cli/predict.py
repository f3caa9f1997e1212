"""``vowelprompt predict``."""

from __future__ import annotations

import json
import os
import sys

from vowelprompt.cli.annotate import _annotations, _check_save, read_inputs
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


def _secrets(options: dict) -> list[str]:
    """Credentials this run knows (API keys, passwords in URLs): scrubbed from every row and message."""
    from urllib.parse import urlsplit

    from vowelprompt.redact import is_secret_key

    found = [str(v) for k, v in options.items() if is_secret_key(k) and v]
    for value in (options.get("base_url"), os.environ.get("OPENAI_BASE_URL")):
        if isinstance(value, str) and "@" in value:
            parts = urlsplit(value)
            found += [x for x in (parts.password, parts.username) if x]
    if os.environ.get("OPENAI_API_KEY"):
        found.append(os.environ["OPENAI_API_KEY"])
    return found


def cmd_predict(args, argv: list[str]) -> int:
    from vowelprompt.backends import Sampling, check_backend, get_backend
    from vowelprompt.io import RowWriter, write_text_atomic
    from vowelprompt.predict import PredictConfig, iter_predict, run_manifest
    from vowelprompt.redact import redact_text

    config = PredictConfig(
        template=args.template, labels=args.labels, output_format=args.output_format,
        context_window=args.context_window, vowel_style=args.vowel_style, constrained=not args.no_constrained,
        batch_size=args.batch_size, record_prompt=args.record_prompt,
    )  # fmt: skip
    sampling = Sampling(args.temperature, args.top_p, args.max_new_tokens, args.seed)
    if args.resume and args.overwrite:
        raise ConfigError("--resume continues --output and --overwrite replaces it: choose one")
    inputs = read_inputs(args)
    _check_save(args, inputs, {"-o (its .run.json)": args.output + ".run.json"})
    options = _backend_options(args)
    check_backend(args.backend, **options)
    secrets = _secrets(options)

    def redact(text: str) -> str:
        return redact_text(text, secrets)

    from vowelprompt.normalize import Stats

    stats = Stats.load(args.stats) if args.stats else None
    # Refuse (or prune, with --resume) the output before any audio is annotated.
    rows_or_items = inputs[0] if inputs[0] is not None else inputs[1]
    ids = [x.id for x in rows_or_items]
    writer = RowWriter(args.output, resume=args.resume, overwrite=args.overwrite, ids=ids)
    skip = writer.done
    try:
        # Annotation errors are reported once, as the input_error rows of the predictions.
        rows = _annotations(args, inputs, stats, args.save_annotations, report_errors=False)
        backend = get_backend(args.backend, **options)
        manifest = run_manifest(config, backend, sampling, argv, options)
        write_text_atomic(args.output + ".run.json", redact(json.dumps(manifest, indent=1)))
        from tqdm import tqdm

        counts: dict[str, int] = {}
        todo = len(rows) - len(skip & set(ids))
        # One step per utterance predicted (a manifest holds many), as soon as its batch is answered.
        with tqdm(
            total=todo,
            desc="predict",
            unit="utterance",
            disable=args.quiet or todo < 2,
            file=sys.stderr,
            leave=False,
        ) as bar:
            for prediction in iter_predict(rows, backend, sampling, config, skip=skip, redact=redact):
                writer.write(prediction.to_dict())
                counts[prediction.status] = counts.get(prediction.status, 0) + 1
                bar.update()
                if prediction.error:
                    bar.write(f"{prediction.id}: {prediction.status}: {prediction.error}", file=sys.stderr)
    finally:
        writer.close()
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    if not args.quiet:
        print(f"wrote {sum(counts.values())} predictions to {args.output} ({summary or 'nothing to do'})",
              file=sys.stderr)  # fmt: skip
    failed = sum(n for status, n in counts.items() if status not in ("ok", "repaired", "invalid"))
    return 1 if failed else 0
