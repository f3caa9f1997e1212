"""``vowelprompt <verb>``: the only place where exceptions become messages and exit codes.

Exit codes: 0 every item ok; 1 some items failed (each still has its row, with the error); 2 a usage or
configuration error (nothing processed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vowelprompt import __version__
from vowelprompt.errors import ConfigError, VowelPromptError

ANNOTATE_EPILOG = """\
examples:
  vowelprompt annotate examples/happy_day.wav                 (transcript from examples/happy_day.txt)
  vowelprompt annotate a.wav --text "it's a beautiful day" --style compact
  vowelprompt annotate corpus/ -o out.jsonl --jobs 2 --resume --textgrid tg/
  vowelprompt fit-stats train.jsonl -o stats.json
  vowelprompt annotate test.jsonl --stats stats.json -o test.out.jsonl
"""


PREDICT_EPILOG = """\
examples:
  vowelprompt predict annotated.jsonl --model smollm2-135m --backend transformers -o preds.jsonl
  vowelprompt predict test.jsonl --stats stats.json --backend vllm --model Qwen/Qwen2.5-7B-Instruct -o p.jsonl
  vowelprompt predict ann.jsonl --backend openai --base-url http://127.0.0.1:8000/v1 --model m -o p.jsonl
  vowelprompt evaluate preds.jsonl
"""


def _parser() -> argparse.ArgumentParser:
    from vowelprompt.verbalize import STYLES

    parser = argparse.ArgumentParser(prog="vowelprompt", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"vowelprompt {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    common = argparse.ArgumentParser(add_help=False)
    src = common.add_argument_group("inputs")
    src.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files, folders, or JSONL manifests")
    src.add_argument("--text", help="transcript of the (single) recording; default: AUDIO.txt or AUDIO.lab")
    src.add_argument("--speaker", help="speaker id for files given directly (manifests carry their own)")
    src.add_argument("--asr", action="store_true", help="transcribe recordings that have no transcript")
    src.add_argument("--asr-model", help="faster-whisper model name or folder (needs vowelprompt[asr])")
    al = common.add_argument_group("alignment")
    al.add_argument(
        "--aligner", default="pocketsphinx", help="pocketsphinx (default), mfa, or module:factory"
    )
    al.add_argument("--alignment", metavar="FILE.TextGrid", help="use an existing MFA-style alignment")
    al.add_argument("--dictionary", help="MFA dictionary name or path (with --aligner mfa)")
    al.add_argument("--acoustic-model", help="MFA acoustic model name or path (with --aligner mfa)")
    al.add_argument("--max-duration", type=float, default=600.0, help="refuse longer files, seconds (600)")
    run = common.add_argument_group("running")
    run.add_argument("--jobs", "-j", type=int, default=1, help="parallel worker processes (1)")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    ann = verbs.add_parser(
        "annotate", parents=[common], help="describe the prosody of every vowel",
        epilog=ANNOTATE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    out = ann.add_argument_group("output")
    out.add_argument("--style", choices=sorted(STYLES), default="paper", help="description style (paper)")
    out.add_argument("--stats", help="statistics from fit-stats; default: this utterance's own")
    out.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    out.add_argument("-o", "--output", help="write JSONL rows here (one per input, ok or with its error)")
    out.add_argument("--resume", action="store_true", help="skip inputs whose ids are already in --output")
    out.add_argument(
        "--textgrid", metavar="DIR", help="write one TextGrid per input (words, phones, vowel tiers)"
    )
    out.add_argument(
        "--plot", metavar="PNG", help="draw waveform, F0 and vowels (a folder for several inputs)"
    )

    fit = verbs.add_parser(
        "fit-stats", parents=[common], help="fit speaker/vowel statistics and bin edges on a training corpus"
    )
    fit.add_argument("-o", "--output", required=True, help="statistics JSON to write")
    fit.add_argument(
        "--save-annotations",
        help="also write the annotated rows here (JSONL), levelled with the fitted statistics",
    )
    fit.add_argument("--style", choices=sorted(STYLES), default="paper", help="description style (paper)")

    from vowelprompt.backends import BACKENDS
    from vowelprompt.labels import LABEL_SETS
    from vowelprompt.prompts import builtin_templates

    pred = verbs.add_parser(
        "predict", parents=[common], help="ask an LLM for the emotion of each utterance",
        epilog=PREDICT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    model = pred.add_argument_group("model")
    model.add_argument("--model", default="smollm2-135m", help="alias, local folder or hub id (smollm2-135m)")
    model.add_argument("--backend", default="transformers", help=f"{', '.join(BACKENDS)} (transformers)")
    model.add_argument(
        "--base-url", help="OpenAI-compatible server URL (openai backend; default $OPENAI_BASE_URL)"
    )
    model.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE",
                       help="extra backend option, e.g. dtype=float32 or concurrency=4")  # fmt: skip
    model.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    model.add_argument("--top-p", type=float, default=1.0)
    model.add_argument("--max-new-tokens", type=int, default=512)
    model.add_argument("--seed", type=int, default=0)
    prompt = pred.add_argument_group("prompt")
    prompt.add_argument(
        "--template", default="vowelprompt", help=f"{', '.join(builtin_templates())}, or a .yaml file"
    )
    prompt.add_argument("--labels", default="iemocap4", help=f"{', '.join(LABEL_SETS)}, or a,b,c (iemocap4)")
    prompt.add_argument("--output-format", choices=["tags", "json"], default="tags")
    prompt.add_argument(
        "--context-window", type=int, default=12, help="preceding turns for *_context templates"
    )
    prompt.add_argument("--vowel-style", choices=["paper", "compact"], default="paper")
    prompt.add_argument(
        "--no-constrained", action="store_true", help="do not ask the backend to constrain decoding"
    )
    prompt.add_argument("--stats", help="statistics for annotating audio inputs on the fly")
    out = pred.add_argument_group("output")
    out.add_argument("-o", "--output", required=True, help="predictions JSONL (+ OUTPUT.run.json)")
    out.add_argument("--resume", action="store_true", help="skip ids already predicted (errors are retried)")
    out.add_argument("--batch-size", type=int, default=16)
    out.add_argument("--save-annotations", help="write the annotated rows here when annotating audio")

    ds = verbs.add_parser("build-dataset", help="SFT or GRPO training data (TRL formats) from annotated rows")
    ds.add_argument("annotations", help="annotate's JSONL output, with gold labels")
    ds.add_argument("--kind", choices=["sft", "grpo"], required=True)
    ds.add_argument("-o", "--output", required=True, help="folder for train.jsonl (+ eval.jsonl, info.json)")
    ds.add_argument("--template", default="vowelprompt")
    ds.add_argument("--labels", default="iemocap4")
    ds.add_argument("--vowel-style", choices=["paper", "compact"], default="paper")
    ds.add_argument("--context-window", type=int, default=12)
    ds.add_argument(
        "--fraction", type=float, default=1.0, help="share of labelled rows to use (paper SFT: 0.2)"
    )
    ds.add_argument("--balanced", action="store_true", help="same number of rows per class")
    ds.add_argument("--eval-fraction", type=float, default=0.0, help="hold out this share as eval.jsonl")
    ds.add_argument("--seed", type=int, default=0)
    ds.add_argument(
        "--cite", type=int, default=1,
        help="vowel cues a deterministic VowelPrompt trace cites before its summary (0: summary only)",
    )  # fmt: skip
    ds.add_argument(
        "--teacher-backend", help="SFT traces from a teacher model (default: deterministic traces)"
    )
    ds.add_argument("--teacher-model", help="teacher model (with --teacher-backend)")
    ds.add_argument("--teacher-base-url", help="teacher server URL (openai backend)")

    ev = verbs.add_parser("evaluate", help="score predictions: weighted F1, UA, accuracy, invalid rate")
    ev.add_argument("predictions", help="predictions JSONL from vowelprompt predict")
    ev.add_argument("--gold", help="JSONL with id and label (default: the gold stored with each prediction)")
    ev.add_argument("--labels", help="label set to score in (default: the predictions')")
    ev.add_argument("--map-from", help="map predicted labels from this set into --labels (cross-corpus)")
    ev.add_argument("-o", "--output", help="scores JSON (default: PREDICTIONS.scores.json)")
    ev.add_argument("--confusion", help="confusion-matrix PNG (default: PREDICTIONS.confusion.png)")
    return parser


def _config(args):
    from vowelprompt.audio import AudioConfig
    from vowelprompt.pipeline import AnnotateConfig

    options = {}
    if args.aligner == "mfa":
        options = {
            k: v for k, v in (("dictionary", args.dictionary), ("acoustic_model", args.acoustic_model)) if v
        }
    elif args.dictionary or args.acoustic_model:
        raise ConfigError("--dictionary and --acoustic-model go with --aligner mfa")
    return AnnotateConfig(
        aligner=args.aligner,
        aligner_options=options,
        style=getattr(args, "style", "paper"),
        asr=args.asr,
        asr_model=args.asr_model,
        audio=AudioConfig(max_duration_s=args.max_duration),
    )


def _items(args):
    from vowelprompt.io import resolve_inputs
    from vowelprompt.records import Utterance

    items = resolve_inputs(args.inputs, text=args.text, speaker=args.speaker)
    if args.alignment:
        if len(items) != 1:
            raise ConfigError("--alignment gives the TextGrid of one recording")
        items = [Utterance(**{**items[0].to_dict(), "alignment": args.alignment})]
    return items


def _progress(total: int, quiet: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="file", disable=quiet or total < 2, file=sys.stderr, leave=False)


def _print_row(row, as_json: bool) -> None:
    if as_json:
        print(json.dumps(row.to_dict(), ensure_ascii=False), flush=True)
        return
    if not row.ok:
        return  # errors go to stderr only
    print(f"# {row.id}  ({row.audio}, {row.duration_s:.2f} s, {len(row.vowels)} vowels, "
          f"aligner {row.aligner}, normalization {row.normalization})")  # fmt: skip
    print(f"Transcript: {row.text}")
    print(row.description)
    for warning in row.warnings:
        print(f"note: {warning}")
    print(flush=True)


def cmd_annotate(args) -> int:
    from vowelprompt.io import JsonlWriter, done_ids
    from vowelprompt.normalize import Stats
    from vowelprompt.pipeline import iter_annotate

    config = _config(args)
    items = _items(args)
    stats = Stats.load(args.stats) if args.stats else None
    if args.resume and not args.output:
        raise ConfigError("--resume needs --output (the file to resume)")
    if args.plot and len(items) > 1 and Path(args.plot).suffix.lower() == ".png":
        raise ConfigError("--plot takes a folder when there are several inputs")
    skipped = 0
    if args.resume:
        done = done_ids(args.output)
        skipped = sum(i.id in done for i in items)
        items = [i for i in items if i.id not in done]
    writer = JsonlWriter(args.output, append=args.resume) if args.output else None
    failures = 0
    try:
        with _progress(len(items), args.quiet, "annotate") as bar:
            for row in iter_annotate(items, config, stats, jobs=args.jobs):
                bar.update()
                if writer:
                    writer.write(row.to_dict())
                if not row.ok:
                    failures += 1
                    bar.write(f"{row.id}: {row.status}: {row.error}", file=sys.stderr)
                else:
                    try:
                        _write_extras(row, args, several=len(items) > 1)
                    except (VowelPromptError, OSError, ValueError) as exc:
                        failures += 1
                        bar.write(f"{row.id}: output_error: {exc}", file=sys.stderr)
                if not args.output or args.json:
                    _print_row(row, args.json)
    finally:
        if writer:
            writer.close()
    if skipped and not args.quiet:
        print(f"resumed: {skipped} inputs already in {args.output}", file=sys.stderr)
    if args.output and not args.quiet:
        print(f"wrote {len(items)} rows to {args.output} ({failures} failed)", file=sys.stderr)
    return 1 if failures else 0


def _write_extras(row, args, several: bool) -> None:
    if args.textgrid:
        from vowelprompt.textgrids import write_alignment

        folder = Path(args.textgrid)
        folder.mkdir(parents=True, exist_ok=True)
        write_alignment(folder / f"{_safe(row.id)}.TextGrid", row)
    if args.plot:
        from vowelprompt.plot import plot_annotation

        target = Path(args.plot)
        if several or target.suffix.lower() != ".png":
            target.mkdir(parents=True, exist_ok=True)
            target = target / f"{_safe(row.id)}.png"
        plot_annotation(row, target)


def _safe(name: str) -> str:
    return name.replace("/", "__").replace("#", "_")


def cmd_fit_stats(args) -> int:
    from vowelprompt.io import JsonlWriter
    from vowelprompt.normalize import fit_stats
    from vowelprompt.pipeline import renormalize

    rows = _annotations(args, None, None, report_errors=True)
    stats = fit_stats(rows)
    stats.save(args.output)
    if args.save_annotations:
        config = _config(args)
        with JsonlWriter(args.save_annotations) as writer:
            for row in rows:
                writer.write(renormalize(row, stats, config).to_dict())
    failed = sum(not r.ok for r in rows)
    print(
        f"fitted statistics on {stats.n_utterances} utterances ({len(stats.speakers)} speakers, "
        f"{len(stats.vowel_types)} vowel types; {failed} inputs failed) -> {args.output}",
        file=sys.stderr,
    )
    return 0


def _is_annotations(path: str) -> bool:
    """True for an existing JSONL file of annotate's output rows (not a manifest of audio)."""
    from vowelprompt.io import read_jsonl

    if not (path.endswith(".jsonl") and Path(path).is_file()):
        return False
    for row in read_jsonl(path):
        return "vowels" in row and "status" in row
    return False


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


def _annotations(args, stats, save: str | None, report_errors: bool) -> list:
    """Rows in input order: annotate's JSONL as is, or audio/manifests annotated now (saved to ``save``)."""
    from vowelprompt.io import JsonlWriter, read_jsonl
    from vowelprompt.pipeline import iter_annotate
    from vowelprompt.records import Annotation

    if len(args.inputs) == 1 and _is_annotations(args.inputs[0]):
        rows = [Annotation.from_dict(r) for r in read_jsonl(args.inputs[0])]
        if stats is None:
            return rows
        from vowelprompt.pipeline import renormalize

        config = _config(args)
        return [renormalize(r, stats, config) for r in rows]
    items = _items(args)
    rows = []
    writer = JsonlWriter(save) if save else None
    with _progress(len(items), args.quiet, "annotate") as bar:
        for row in iter_annotate(items, _config(args), stats, jobs=args.jobs):
            bar.update()
            rows.append(row)
            if writer:
                writer.write(row.to_dict())
            if report_errors and not row.ok:
                bar.write(f"{row.id}: {row.status}: {row.error}", file=sys.stderr)
    if writer:
        writer.close()
    order = {item.id: i for i, item in enumerate(items)}
    return sorted(rows, key=lambda r: order[r.id])


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


def cmd_evaluate(args) -> int:
    from vowelprompt.io import read_jsonl
    from vowelprompt.metrics import plot_confusion
    from vowelprompt.predict import evaluate
    from vowelprompt.records import Prediction

    predictions = [Prediction.from_dict(r) for r in read_jsonl(args.predictions)]
    gold = {str(r["id"]): r["label"] for r in read_jsonl(args.gold) if r.get("label")} if args.gold else None
    result = evaluate(predictions, gold, args.labels, args.map_from)
    if result.mapping:
        print(f"label mapping: {result.mapping}")
    print(result.scores.table())
    for label, n in result.excluded.items():
        print(
            f"note: {n} items with gold label {label!r} are outside the scored label set and were not scored"
        )
    if result.missing_gold:
        print(f"note: {result.missing_gold} predictions have no gold label and were not scored")
    out = Path(args.output or args.predictions.removesuffix(".jsonl") + ".scores.json")
    report = {**result.scores.to_dict(), "excluded": result.excluded, "mapping": result.mapping}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**report, "missing_gold": result.missing_gold}, indent=1), encoding="utf-8")
    figure = Path(args.confusion or args.predictions.removesuffix(".jsonl") + ".confusion.png")
    try:
        plot_confusion(result.scores, figure)
        print(f"wrote {out} and {figure}")
    except VowelPromptError as exc:  # matplotlib missing: the numbers are still written
        print(f"wrote {out} (no figure: {exc})")
    return 0


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
    config = DatasetConfig(args.fraction, args.seed, args.balanced, args.eval_fraction, prompt, args.cite)
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


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    try:
        if args.verb == "annotate":
            return cmd_annotate(args)
        if args.verb == "predict":
            return cmd_predict(args, argv)
        if args.verb == "evaluate":
            return cmd_evaluate(args)
        if args.verb == "build-dataset":
            return cmd_build_dataset(args)
        return cmd_fit_stats(args)
    except VowelPromptError as exc:
        print(f"vowelprompt: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vowelprompt: interrupted (rows written so far are kept; rerun with --resume)", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
