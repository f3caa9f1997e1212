"""What ``annotate``, ``fit-stats`` and ``predict`` share: the input options, and reading the inputs
(annotate's JSONL as is, or audio, folders and manifests annotated now) with every output checked against
them."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from vowelprompt.cli.console import progress
from vowelprompt.errors import ConfigError


def input_options() -> argparse.ArgumentParser:
    """The options every verb that reads recordings takes (a parent parser for ``add_parser``)."""
    common = argparse.ArgumentParser(add_help=False)
    src = common.add_argument_group("inputs")
    src.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files, folders, or JSONL manifests")
    src.add_argument("--text", help="transcript of the (single) recording; default: AUDIO.txt or AUDIO.lab")
    src.add_argument("--speaker", help="speaker id for files given directly (manifests carry their own)")
    src.add_argument("--asr", action="store_true", help="transcribe recordings that have no transcript")
    src.add_argument("--asr-model", help="faster-whisper model name or folder (needs vowelprompt[asr])")
    src.add_argument(
        "--require-words",
        action="store_true",
        help="fail a recording with no transcript, or whose transcript does not align; by default it "
        "keeps its utterance-level prosody (and its transcript), the reason in its warnings",
    )
    al = common.add_argument_group("alignment")
    al.add_argument(
        "--language",
        default="en",
        metavar="LANG",
        help="language of the speech (en, fr, de, or any espeak-ng language); a manifest row's "
        "lang/language field overrides it. Non-English speech is aligned offline by mapping its phones "
        "onto the English model (pocketsphinx-mapped), or by MFA with --aligner mfa",
    )
    al.add_argument("--aligner", default="pocketsphinx", help="pocketsphinx, mfa, or module:factory")
    al.add_argument("--alignment", metavar="FILE.TextGrid", help="use an existing MFA-style alignment")
    al.add_argument("--dictionary", help="MFA dictionary name or path (with --aligner mfa)")
    al.add_argument("--acoustic-model", help="MFA acoustic model name or path (with --aligner mfa)")
    al.add_argument(
        "--max-duration", type=float, default=600.0, metavar="SECONDS", help="refuse longer files"
    )
    raw = common.add_argument_group("headerless audio (.raw, .pcm)")
    raw.add_argument("--sample-rate", type=int, metavar="HZ", help="sample rate of headerless PCM input")
    raw.add_argument(
        "--raw-format", default="PCM_16", metavar="SUBTYPE", help="sample format of headerless input"
    )
    run = common.add_argument_group("running")
    run.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="parallel worker processes")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return common


def add_style_option(parser) -> None:
    """``--style``, the description style of annotated rows (``annotate`` and ``fit-stats``)."""
    from vowelprompt.verbalize import STYLES

    parser.add_argument("--style", choices=sorted(STYLES), default="paper", help="description style")


def add_shard_option(parser) -> None:
    """``--shard K/N`` (``annotate`` and ``predict``): this run's part of the inputs
    (:mod:`vowelprompt.shards`)."""
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="process only shard K of N (1 ≤ K ≤ N; by a hash of the dialogue, else the id): e.g. "
        "--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=1-N; join with vowelprompt merge",
    )


def sharded(args, items: list) -> list:
    """``items`` of this run's ``--shard`` (all of them without one), saying how many on stderr."""
    shard = getattr(args, "shard", None)
    if not shard:
        return items
    from vowelprompt.shards import Shard

    part = Shard.parse(shard).select(items)
    if not getattr(args, "quiet", False):
        print(f"shard {shard}: {len(part)} of {len(items)} inputs", file=sys.stderr)
    return part


def annotate_config(args):
    """The :class:`AnnotateConfig` the input options describe."""
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
        language=getattr(args, "language", "en"),
        aligner=args.aligner,
        aligner_options=options,
        style=getattr(args, "style", "paper"),
        asr=args.asr,
        asr_model=args.asr_model,
        require_words=getattr(args, "require_words", False),
        audio=AudioConfig(
            max_duration_s=args.max_duration, raw_sample_rate=args.sample_rate, raw_format=args.raw_format
        ),
    )


def resolve_items(args) -> list:
    """The utterances the inputs name (audio files, folders, manifests), with ``--alignment`` attached."""
    from vowelprompt.io import resolve_inputs
    from vowelprompt.media import is_container, require_av
    from vowelprompt.records import Utterance

    items = resolve_inputs(args.inputs, text=args.text, speaker=args.speaker)
    if args.alignment:
        if len(items) != 1:
            raise ConfigError("--alignment gives the TextGrid of one recording")
        items = [Utterance(**{**items[0].to_dict(), "alignment": args.alignment})]
    items = sharded(args, items)
    if any(is_container(item.audio) for item in items):
        require_av()  # fail before any work, naming the extra, rather than once per row
    return items


def input_paths(args, items) -> list[str]:
    """Every file the run reads (arguments, the audio and TextGrids manifests name, statistics): no output
    may be one of them."""
    paths = [*args.inputs, *(i.audio for i in items), *(i.alignment for i in items)]
    return [p for p in (*paths, getattr(args, "stats", None), getattr(args, "alignment", None)) if p]


def read_inputs(args) -> tuple[list | None, list | None]:
    """The run's inputs, read once: ``(rows, None)`` for a single JSONL of annotate's rows, else
    ``(None, items)`` for audio, folders and manifests to annotate."""
    from vowelprompt.io import is_annotations, read_annotations

    if len(args.inputs) == 1 and is_annotations(args.inputs[0]):
        return sharded(args, read_annotations(args.inputs[0])), None
    return None, resolve_items(args)


def check_run_outputs(args, inputs: tuple[list | None, list | None], extra: dict | None = None) -> None:
    """fit-stats and predict: no output (``-o``, ``--save-annotations``, ``extra``) may be an input, and
    --save-annotations replaces a file of rows only with --overwrite (or --resume, which rewrites it with
    this run's rows)."""
    from vowelprompt.outputs import check_outputs

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


def annotations(args, inputs, stats, save: str | None, report_errors: bool) -> list:
    """Rows in input order from :func:`read_inputs`: annotate's JSONL as is (levelled with ``stats`` if
    given), or audio/manifests annotated now (saved to ``save``)."""
    from vowelprompt.outputs import atomic_write
    from vowelprompt.pipeline import iter_annotate

    rows, items = inputs
    if rows is not None:
        if stats is None:
            return rows
        config = annotate_config(args)
        return [_renormalized(r, stats, config) for r in rows]
    rows = []
    with progress(len(items), args.quiet, "annotate") as bar, contextlib.ExitStack() as stack:
        fh = stack.enter_context(atomic_write(save)) if save else None
        for row in iter_annotate(items, annotate_config(args), stats, jobs=args.jobs):
            bar.update()
            rows.append(row)
            if fh:
                fh.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
            if report_errors and not row.ok:
                bar.write(f"{row.id}: {row.status}: {row.error}", file=sys.stderr)
    return rows  # iter_annotate yields in input order, with --jobs and with MFA's batches alike


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
