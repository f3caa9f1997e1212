"""``vowelprompt predict``: ask an LLM for the emotion of each utterance, printed or written as JSONL rows."""

from __future__ import annotations

import json
import os
import sys

from vowelprompt.cli.console import add_verb, plural, progress
from vowelprompt.cli.inputs import add_shard_option, annotations, check_run_outputs, read_inputs
from vowelprompt.cli.prompting import add_prompt_options, prompt_config
from vowelprompt.errors import ConfigError

EPILOG = """\
examples:
  vowelprompt predict examples/happy_day.wav --backend fake   (prints the label and the explanation)
  vowelprompt predict annotated.jsonl --model smollm2-135m --backend transformers -o preds.jsonl
  vowelprompt predict test.jsonl --stats stats.json --backend vllm --model Qwen/Qwen2.5-7B-Instruct -o p.jsonl
  vowelprompt predict ann.jsonl --backend openai --base-url http://127.0.0.1:8000/v1 --model m -o p.jsonl
  vowelprompt predict ann.jsonl --distribution logprobs -o p.jsonl   (a probability over the labels per row)
  vowelprompt predict ann.jsonl --distribution samples:20 --temperature 1 --backend vllm -o p.jsonl
  vowelprompt predict ann.jsonl --shard 2/4 --backend openai --base-url http://node2:8000/v1 -o p.2.jsonl
  vowelprompt evaluate preds.jsonl
"""


def add_parser(verbs, parents: list) -> None:
    """Register ``predict`` and its options with the ``verbs`` subparsers."""
    from vowelprompt.backends import BACKENDS

    pred = add_verb(verbs, "predict", "ask an LLM for the emotion of each utterance", parents, EPILOG)
    model = pred.add_argument_group("model")
    model.add_argument("--model", default="smollm2-135m", help="alias, local folder or hub id")
    model.add_argument("--backend", default="transformers", help=", ".join(BACKENDS))
    model.add_argument(
        "--base-url", help="OpenAI-compatible server URL (openai backend; default $OPENAI_BASE_URL)"
    )
    model.add_argument(
        "--backend-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra backend option, e.g. dtype=float32 or concurrency=4",
    )
    model.add_argument("--temperature", type=float, default=0.0, help="sampling temperature; 0 is greedy")
    model.add_argument(
        "--top-p",
        type=float,
        default=1.0,
        metavar="P",
        help="sample from the most likely tokens of this mass",
    )
    model.add_argument(
        "--max-new-tokens", type=int, default=512, metavar="N", help="longest answer, in tokens"
    )
    model.add_argument("--seed", type=int, default=0, help="sampling seed")
    prompt = add_prompt_options(pred)
    prompt.add_argument(
        "--output-format", choices=["tags", "json"], default="tags", help="the answer format asked for"
    )
    prompt.add_argument(
        "--no-constrained", action="store_true", help="do not ask the backend to constrain decoding"
    )
    prompt.add_argument(
        "--distribution",
        metavar="logprobs|samples:N",
        help="also give a probability over the labels: from the answer's log-probabilities (transformers, "
        "vllm, openai) or from N answers sampled at --temperature (any backend)",
    )
    prompt.add_argument("--stats", help="statistics for annotating audio inputs on the fly")
    out = pred.add_argument_group("output")
    out.add_argument(
        "-o",
        "--output",
        help="predictions JSONL (+ OUTPUT.run.json); default: print each label and explanation",
    )
    out.add_argument("--resume", action="store_true", help="skip ids already predicted (errors are retried)")
    out.add_argument("--overwrite", action="store_true", help="replace an --output that already has rows")
    add_shard_option(out)
    out.add_argument("--batch-size", type=int, default=16, metavar="N", help="conversations per backend call")
    out.add_argument("--save-annotations", help="write the annotated rows here when annotating audio")
    out.add_argument(
        "--record-prompt", action="store_true", help="record the messages sent to the model in each row"
    )
    pred.set_defaults(run=run)


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


def _print_prediction(prediction) -> None:
    """What ``predict`` without ``-o`` prints for one utterance (errors go to stderr only)."""
    if prediction.error:
        return
    gold = f", gold {prediction.gold}" if prediction.gold else ""
    source = f"backend {prediction.backend}, model {prediction.model}"
    print(f"# {prediction.id}  ({prediction.status}{gold}, {source})")
    for message in prediction.prompt or ():  # --record-prompt: what the model saw
        print(f"[{message['role']}]\n{message['content']}\n[/{message['role']}]")
    shown = prediction.blend or prediction.ratings  # --task blend or dimensions
    if shown:
        values = ", ".join(f"{k} {v:g}" for k, v in shown.items())
        print(f"{'Blend' if prediction.blend else 'Ratings'}: {values}")
    elif prediction.label is None:
        print("Label: none (the answer names no label of the set)")
        print(f"Answer: {prediction.raw.strip()}")
    else:
        print(f"Label: {prediction.label}")
    if prediction.distribution:  # most likely first
        ranked = sorted(prediction.distribution.items(), key=lambda kv: -kv[1])
        shares = ", ".join(f"{label} {p:.2f}" for label, p in ranked)
        print(f"Distribution ({prediction.distribution_from}): {shares}")
    if prediction.reasoning:
        print(f"Explanation: {prediction.reasoning}")
    for evidence in prediction.evidence:
        print(f"Evidence: {evidence}")
    if prediction.note:
        print(f"note: {prediction.note}")
    print(flush=True)


def run(args) -> int:
    from vowelprompt.backends import BACKENDS, Sampling, check_backend, get_backend
    from vowelprompt.distribution import check_distribution
    from vowelprompt.outputs import RowWriter, write_text_atomic
    from vowelprompt.predict import PredictConfig, iter_predict, run_manifest
    from vowelprompt.redact import redact_text
    from vowelprompt.registry import load_factory

    config = prompt_config(
        args,
        PredictConfig,
        output_format=args.output_format,
        constrained=not args.no_constrained,
        batch_size=args.batch_size,
        record_prompt=args.record_prompt,
        distribution=args.distribution,
    )
    sampling = Sampling(args.temperature, args.top_p, args.max_new_tokens, args.seed)
    if args.resume and not args.output:
        raise ConfigError("--resume needs --output (the file to resume)")
    if args.resume and args.overwrite:
        raise ConfigError("--resume continues --output and --overwrite replaces it: choose one")
    inputs = read_inputs(args)
    manifest_path = args.output + ".run.json" if args.output else None
    check_run_outputs(args, inputs, {"-o (its .run.json)": manifest_path})
    options = _backend_options(args)
    check_backend(args.backend, **options)
    # Before any audio is annotated: a backend without log-probabilities, or samples at temperature 0.
    check_distribution(
        config.distribution, load_factory(BACKENDS, args.backend, "backend"), sampling, config.constrained
    )
    secrets = _secrets(options)

    def redact(text: str) -> str:
        return redact_text(text, secrets)

    from vowelprompt.normalize import Stats

    stats = Stats.load(args.stats) if args.stats else None
    # Refuse (or prune, with --resume) the output before any audio is annotated.
    rows_or_items = inputs[0] if inputs[0] is not None else inputs[1]
    ids = [x.id for x in rows_or_items]
    writer = None
    if args.output:
        writer = RowWriter(args.output, resume=args.resume, overwrite=args.overwrite, ids=ids)
    skip = writer.done if writer else set()
    try:
        # Annotation errors are reported once, as the input_error rows of the predictions.
        rows = annotations(args, inputs, stats, args.save_annotations, report_errors=False)
        backend = get_backend(args.backend, **options)
        if manifest_path:
            manifest = run_manifest(config, backend, sampling, args.argv, options)
            write_text_atomic(manifest_path, redact(json.dumps(manifest, indent=1)))
        counts: dict[str, int] = {}
        # One step per utterance predicted (a manifest holds many), as soon as its batch is answered.
        with progress(len(rows) - len(skip & set(ids)), args.quiet, "predict", unit="utterance") as bar:
            for prediction in iter_predict(rows, backend, sampling, config, skip=skip, redact=redact):
                if writer:
                    writer.write(prediction.to_dict())
                else:
                    _print_prediction(prediction)
                counts[prediction.status] = counts.get(prediction.status, 0) + 1
                bar.update()
                if prediction.error:
                    bar.write(f"{prediction.id}: {prediction.status}: {prediction.error}", file=sys.stderr)
    finally:
        if writer:
            writer.close()
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    if args.output and not args.quiet:
        wrote = plural(sum(counts.values()), "prediction")
        print(f"wrote {wrote} to {args.output} ({summary or 'nothing to do'})", file=sys.stderr)
    failed = sum(n for status, n in counts.items() if status not in ("ok", "repaired", "invalid"))
    return 1 if failed else 0
