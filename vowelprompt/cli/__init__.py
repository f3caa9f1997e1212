"""``vowelprompt <verb>``: the parser of every verb (each verb module adds its own options), dispatch, and the
only place where exceptions become messages and exit codes.

Exit codes: 0 every item ok; 1 some items failed (each still has its row, with the error); 2 a usage or
configuration error (nothing processed).
"""

from __future__ import annotations

import argparse
import signal
import sys

from vowelprompt import __version__
from vowelprompt.errors import VowelPromptError

DESCRIPTION = "Describe the prosody of every vowel of a recording in words, and ask an LLM for its emotion."


def build_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """The ``vowelprompt`` parser and its verbs (each verb's own parser is ``verbs.choices[name]``)."""
    from vowelprompt.cli import (
        annotate,
        baseline,
        dataset,
        evaluate,
        experiment,
        fit_stats,
        merge,
        predict,
        prepare,
    )
    from vowelprompt.cli.console import HelpFormatter
    from vowelprompt.cli.inputs import input_options

    parser = argparse.ArgumentParser(
        prog="vowelprompt", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"vowelprompt {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    common = [input_options()]
    for verb in (prepare, annotate, fit_stats, predict, dataset, evaluate, baseline, experiment, merge):
        verb.add_parser(verbs, common)
    return parser, verbs


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that outputs are closed and workers stopped as on Ctrl-C."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    parser, verbs = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # a mistyped option: the verb's usage, not the top-level one
        verbs.choices[args.verb].error(f"unrecognized arguments: {' '.join(unknown)}")
    args.argv = argv  # the command line, for the run manifest
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
    try:
        return args.run(args)
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
