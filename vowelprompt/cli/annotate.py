"""``vowelprompt annotate`` and ``fit-stats``, and the annotate-or-load path that ``predict`` shares."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from vowelprompt.errors import ConfigError, VowelPromptError


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
        audio=AudioConfig(
            max_duration_s=args.max_duration, raw_sample_rate=args.sample_rate, raw_format=args.raw_format
        ),
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


def input_paths(args, items) -> list[str]:
    """Every file the run reads (arguments, the audio and TextGrids manifests name, statistics): no output
    may be one of them."""
    paths = [*args.inputs, *(i.audio for i in items), *(i.alignment for i in items)]
    return [p for p in (*paths, getattr(args, "stats", None), getattr(args, "alignment", None)) if p]


def cmd_annotate(args) -> int:
    from vowelprompt.io import RowWriter, check_outputs
    from vowelprompt.normalize import Stats
    from vowelprompt.pipeline import iter_annotate

    config = _config(args)
    items = _items(args)
    if args.resume and not args.output:
        raise ConfigError("--resume needs --output (the file to resume)")
    if args.resume and args.overwrite:
        raise ConfigError("--resume continues --output and --overwrite replaces it: choose one")
    if args.plot and len(items) > 1 and Path(args.plot).suffix.lower() == ".png":
        raise ConfigError("--plot takes a folder when there are several inputs")
    inputs = input_paths(args, items)
    plot_file = args.plot if args.plot and Path(args.plot).suffix.lower() == ".png" else None
    check_outputs(inputs, {"-o": args.output, "--plot": plot_file})
    stats = Stats.load(args.stats) if args.stats else None
    writer = None
    if args.output:
        writer = RowWriter(
            args.output, resume=args.resume, overwrite=args.overwrite, ids=[i.id for i in items]
        )
    skipped = sum(i.id in writer.done for i in items) if writer else 0
    items = [i for i in items if not writer or i.id not in writer.done]
    failures = 0
    protected = {Path(p).resolve() for p in inputs}
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
                        _write_extras(row, args, several=len(items) > 1, protected=protected)
                    except (VowelPromptError, OSError, ValueError) as exc:
                        failures += 1
                        bar.write(f"{row.id}: output_error: {exc}", file=sys.stderr)
                if not args.output or args.json:
                    _print_row(row, args.json)
    finally:
        if writer:
            writer.close()
    if skipped and not args.quiet:
        redo = f"; {writer.redo} rows of the earlier run redone" if writer and writer.redo else ""
        print(f"resumed: {skipped} inputs already in {args.output}{redo}", file=sys.stderr)
    if args.output and not args.quiet:
        print(f"wrote {len(items)} rows to {args.output} ({failures} failed)", file=sys.stderr)
    return 1 if failures else 0


def _write_extras(row, args, several: bool, protected: set[Path]) -> None:
    targets = []
    if args.textgrid:
        targets.append(("textgrid", Path(args.textgrid) / f"{_safe(row.id)}.TextGrid"))
    if args.plot:
        target = Path(args.plot)
        if several or target.suffix.lower() != ".png":
            target = target / f"{_safe(row.id)}.png"
        targets.append(("plot", target))
    for kind, target in targets:
        if target.resolve() in protected:
            raise ConfigError(f"{target} is one of the inputs; not overwriting it")
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "textgrid":
            from vowelprompt.align.textgrid import write_alignment

            write_alignment(target, row)
        else:
            from vowelprompt.plot import plot_annotation

            plot_annotation(row, target)


def _safe(name: str) -> str:
    return name.replace("/", "__").replace("#", "_")


def cmd_fit_stats(args) -> int:
    from vowelprompt.io import write_jsonl_atomic
    from vowelprompt.normalize import fit_stats
    from vowelprompt.pipeline import renormalize

    inputs = read_inputs(args)
    _check_save(args, inputs)
    rows = _annotations(args, inputs, None, None, report_errors=True)
    stats = fit_stats(rows)
    stats.save(args.output)
    if args.save_annotations:
        config = _config(args)
        write_jsonl_atomic(args.save_annotations, (renormalize(row, stats, config).to_dict() for row in rows))
    failed = sum(not r.ok for r in rows)
    print(
        f"fitted statistics on {stats.n_utterances} utterances ({len(stats.vowel.speakers)} speakers, "
        f"{len(stats.vowel_types)} vowel types; {failed} inputs failed) -> {args.output}",
        file=sys.stderr,
    )
    return 0


def read_inputs(args) -> tuple[list | None, list | None]:
    """The run's inputs, read once: ``(rows, None)`` for a single JSONL of annotate's rows, else
    ``(None, items)`` for audio, folders and manifests to annotate."""
    from vowelprompt.io import is_annotations, read_annotations

    if len(args.inputs) == 1 and is_annotations(args.inputs[0]):
        return read_annotations(args.inputs[0]), None
    return None, _items(args)


def _check_save(args, inputs: tuple[list | None, list | None], extra: dict | None = None) -> None:
    """fit-stats and predict: no output (``-o``, ``--save-annotations``, ``extra``) may be an input, and
    --save-annotations replaces a file of rows only with --overwrite (or --resume, which rewrites it with
    this run's rows)."""
    from vowelprompt.io import check_outputs

    outputs = {"-o": args.output, "--save-annotations": args.save_annotations, **(extra or {})}
    check_outputs(input_paths(args, inputs[1] or []), outputs)
    save = args.save_annotations
    if (
        save
        and Path(save).is_file()
        and Path(save).stat().st_size
        and not (getattr(args, "overwrite", False) or getattr(args, "resume", False))
    ):
        raise ConfigError(f"--save-annotations {save} already holds rows: pass --overwrite to replace it")


def _annotations(args, inputs, stats, save: str | None, report_errors: bool) -> list:
    """Rows in input order from :func:`read_inputs`: annotate's JSONL as is (levelled with ``stats`` if
    given), or audio/manifests annotated now (saved to ``save``)."""
    from vowelprompt.io import atomic_write
    from vowelprompt.pipeline import iter_annotate

    rows, items = inputs
    if rows is not None:
        if stats is None:
            return rows
        config = _config(args)
        return [_renormalized(r, stats, config) for r in rows]
    rows = []
    with _progress(len(items), args.quiet, "annotate") as bar, contextlib.ExitStack() as stack:
        fh = stack.enter_context(atomic_write(save)) if save else None
        for row in iter_annotate(items, _config(args), stats, jobs=args.jobs):
            bar.update()
            rows.append(row)
            if fh:
                fh.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
            if report_errors and not row.ok:
                bar.write(f"{row.id}: {row.status}: {row.error}", file=sys.stderr)
    order = {item.id: i for i, item in enumerate(items)}
    return sorted(rows, key=lambda r: order[r.id])


def _renormalized(row, stats, config):
    """``row`` levelled with ``stats``; a row too malformed to level becomes an ``input_error`` row."""
    from dataclasses import replace

    from vowelprompt.pipeline import renormalize

    try:
        return renormalize(row, stats, config)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        return replace(
            row, status="input_error", error=f"malformed annotation row ({type(exc).__name__}: {exc})"
        )
