"""``vowelprompt <verb>``: the only place where exceptions become messages and exit codes.

Exit codes: 0 every item ok; 1 some items failed (each still has its row, with the error); 2 a usage or
configuration error (nothing processed).
"""

from __future__ import annotations

import argparse
import signal
import sys

from vowelprompt import __version__
from vowelprompt.errors import VowelPromptError

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
    raw = common.add_argument_group("headerless audio (.raw, .pcm)")
    raw.add_argument("--sample-rate", type=int, metavar="HZ", help="sample rate of headerless PCM input")
    raw.add_argument(
        "--raw-format", default="PCM_16", metavar="SUBTYPE", help="sample format of headerless input (PCM_16)"
    )
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
    out.add_argument(
        "--resume", action="store_true", help="continue --output: skip inputs done, redo ones that failed "
        "for reasons outside the item (a dead worker)"
    )  # fmt: skip
    out.add_argument("--overwrite", action="store_true", help="replace an --output that already has rows")
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
    fit.add_argument(
        "--overwrite", action="store_true", help="replace a --save-annotations file that already has rows"
    )

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
    out.add_argument("--overwrite", action="store_true", help="replace an --output that already has rows")
    out.add_argument("--batch-size", type=int, default=16)
    out.add_argument("--save-annotations", help="write the annotated rows here when annotating audio")
    out.add_argument(
        "--record-prompt", action="store_true", help="record the messages sent to the model in each row"
    )

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
    ds.add_argument(
        "--interleave",
        action="store_true",
        help="order rows round-robin by class (for GRPO with shuffle_dataset false: every step "
        "sees the classes in equal shares)",
    )
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


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that outputs are closed and workers stopped as on Ctrl-C."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
    try:
        # Each verb's module is imported only when that verb runs, so ``vowelprompt annotate`` starts fast.
        if args.verb == "annotate":
            from vowelprompt.cli.annotate import cmd_annotate

            return cmd_annotate(args)
        if args.verb == "predict":
            from vowelprompt.cli.predict import cmd_predict

            return cmd_predict(args, argv)
        if args.verb == "evaluate":
            from vowelprompt.cli.evaluate import cmd_evaluate

            return cmd_evaluate(args)
        if args.verb == "build-dataset":
            from vowelprompt.cli.dataset import cmd_build_dataset

            return cmd_build_dataset(args)
        from vowelprompt.cli.annotate import cmd_fit_stats

        return cmd_fit_stats(args)
    except VowelPromptError as exc:
        print(f"vowelprompt: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as exc:
        print("vowelprompt: interrupted (rows written so far are kept; rerun with --resume)", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # an output that cannot be written (disk full, permissions): one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"vowelprompt: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
