"""``vowelprompt annotate``: describe the prosody of every vowel, printed or written as JSONL rows."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from vowelprompt.cli.console import add_verb, plural, progress
from vowelprompt.cli.inputs import (
    add_shard_option,
    add_style_option,
    annotate_config,
    input_paths,
    resolve_items,
)
from vowelprompt.errors import ConfigError, VowelPromptError
from vowelprompt.quality import QualityConfig

EPILOG = """\
examples:
  vowelprompt annotate examples/happy_day.wav                 (transcript from examples/happy_day.txt)
  vowelprompt annotate a.wav --text "it's a beautiful day" --style compact
  vowelprompt annotate corpus/ -o out.jsonl --jobs 2 --resume --textgrid tg/
  vowelprompt fit-stats train.jsonl -o stats.json
  vowelprompt annotate test.jsonl --stats stats.json -o test.out.jsonl
  vowelprompt annotate corpus.jsonl --shard 3/8 -o ann.3.jsonl --resume   (then: vowelprompt merge)
"""


def add_parser(verbs, parents: list) -> None:
    """Register ``annotate`` and its options with the ``verbs`` subparsers."""
    ann = add_verb(verbs, "annotate", "describe the prosody of every vowel", parents, EPILOG)
    out = ann.add_argument_group("output")
    add_style_option(out)
    out.add_argument("--stats", help="statistics from fit-stats; default: this utterance's own")
    out.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    out.add_argument("-o", "--output", help="write JSONL rows here (one per input, ok or with its error)")
    out.add_argument(
        "--resume",
        action="store_true",
        help="continue --output: skip inputs done, redo ones that failed "
        "for reasons outside the item (a dead worker)",
    )
    out.add_argument("--overwrite", action="store_true", help="replace an --output that already has rows")
    add_shard_option(out)
    out.add_argument(
        "--textgrid", metavar="DIR", help="write one TextGrid per input (words, phones, vowel tiers)"
    )
    out.add_argument(
        "--plot", metavar="PNG", help="draw waveform, F0 and vowels (a folder for several inputs)"
    )
    quality = ann.add_argument_group(
        "quality (descriptors of unreliable vowels are left out of the text; the row says why)"
    )
    defaults = QualityConfig()
    quality.add_argument(
        "--min-snr",
        type=float,
        default=defaults.min_snr_db,
        metavar="DB",
        help="drop every descriptor of a vowel whose core is less than DB over the noise floor "
        "(default: %(default)s)",
    )
    quality.add_argument(
        "--min-voicing",
        type=float,
        default=defaults.min_voiced_fraction,
        metavar="FRACTION",
        help="drop the pitch descriptors of a vowel with less of its core voiced (default: %(default)s)",
    )
    quality.add_argument(
        "--min-align-score",
        type=float,
        default=defaults.min_align_score,
        metavar="SCORE",
        help="drop every descriptor of a vowel the aligner scores below this per frame "
        "(pocketsphinx only) (default: %(default)s)",
    )
    quality.add_argument(
        "--max-pitch-sd",
        type=float,
        default=defaults.max_pitch_sd_st,
        metavar="ST",
        help="drop the pitch descriptors of a vowel whose F0 varies more than this within its core, in "
        "semitones: the track jumped (default: %(default)s)",
    )
    quality.add_argument(
        "--max-phone-spread",
        type=float,
        default=defaults.max_phone_spread,
        metavar="SPREAD",
        help="warn that the transcript may not match when a pocketsphinx alignment's phone lengths spread "
        "more than this (share of 30 ms phones + their coefficient of variation; drops nothing) "
        "(default: %(default)s)",
    )
    quality.add_argument(
        "--keep-unreliable",
        action="store_true",
        help="describe every measured descriptor (quality fields are still recorded)",
    )
    ann.set_defaults(run=run)


def quality_config(args) -> QualityConfig:
    """The :class:`QualityConfig` of annotate's quality options."""
    return QualityConfig(
        enabled=not args.keep_unreliable,
        min_snr_db=args.min_snr,
        min_voiced_fraction=args.min_voicing,
        min_align_score=args.min_align_score,
        max_pitch_sd_st=args.max_pitch_sd,
        max_phone_spread=args.max_phone_spread,
    )


def _print_row(row, as_json: bool) -> None:
    if as_json:
        print(json.dumps(row.to_dict(), ensure_ascii=False), flush=True)
        return
    if not row.ok:
        return  # errors go to stderr only
    print(
        f"# {row.id}  ({row.audio}, {row.duration_s:.2f} s, {plural(len(row.vowels), 'vowel')}, "
        f"aligner {row.aligner}, normalization {row.normalization})"
    )
    print(f"Transcript: {row.text or '(none)'}")
    print(row.description)
    for warning in row.warnings:
        print(f"note: {warning}")
    print(flush=True)


def run(args) -> int:
    from vowelprompt.normalize import Stats
    from vowelprompt.outputs import RowWriter, check_outputs
    from vowelprompt.pipeline import iter_annotate

    config = replace(annotate_config(args), quality=quality_config(args))
    items = resolve_items(args)
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
    failures = partial = 0
    protected = {Path(p).resolve() for p in inputs}
    try:
        with progress(len(items), args.quiet, "annotate") as bar:
            for row in iter_annotate(items, config, stats, jobs=args.jobs):
                bar.update()
                if writer:
                    writer.write(row.to_dict())
                partial += row.ok and not row.vowels  # kept without words (vowelprompt.missing)
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
        redo = f"; {plural(writer.redo, 'row')} of the earlier run redone" if writer and writer.redo else ""
        print(f"resumed: {plural(skipped, 'input')} already in {args.output}{redo}", file=sys.stderr)
    if args.output and not args.quiet:
        partial = f", {partial} without a transcript or vowel cues" if partial else ""
        print(
            f"wrote {plural(len(items), 'row')} to {args.output} ({failures} failed{partial})",
            file=sys.stderr,
        )
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
