"""``vowelprompt annotate`` and ``fit-stats``, and the annotate-or-load path that ``predict`` shares."""

from __future__ import annotations

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
