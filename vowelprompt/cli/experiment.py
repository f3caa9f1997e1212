"""``vowelprompt experiment CONFIG.yaml``: run a named protocol end to end (docs/experiments.md)."""

from __future__ import annotations

import sys

from vowelprompt.cli.console import add_verb, progress

EPILOG = """\
examples:
  vowelprompt experiment examples/experiments/iemocap4-loso.yaml
  vowelprompt experiment examples/experiments/meld7-official.yaml --folds official
  vowelprompt experiment --list                      (the protocols, one line each)
rerun the same command after a crash: every finished step is reused, a cut-short one resumes.
"""


def add_parser(verbs, parents: list) -> None:
    """Register ``experiment`` (its ``parents`` are not its own: it reads a config file)."""
    ex = add_verb(verbs, "experiment", "run a named evaluation protocol end to end from a config", [], EPILOG)
    ex.add_argument("config", nargs="?", help="experiment YAML (or JSON); see docs/experiments.md")
    ex.add_argument("--list", action="store_true", help="list the protocols and exit")
    ex.add_argument("--folds", nargs="+", metavar="FOLD", help="run only these folds (default: the config's)")
    ex.add_argument("-o", "--output", help="run folder (default: the config's output)")
    ex.add_argument("--quiet", "-q", action="store_true", help="no progress lines or bars")
    ex.set_defaults(run=run)


def run(args) -> int:
    from dataclasses import replace

    from vowelprompt.errors import ConfigError
    from vowelprompt.experiment.config import load_config
    from vowelprompt.experiment.protocols import PROTOCOLS
    from vowelprompt.experiment.runner import Runner

    if args.list:
        for protocol in PROTOCOLS.values():
            print(f"{protocol.name:<16} {protocol.summary}")
        return 0
    if not args.config:
        raise ConfigError("give the experiment's CONFIG.yaml (or --list)")
    config = load_config(args.config)
    if args.folds:
        config = replace(config, folds=tuple(args.folds))
    if args.output:
        config = replace(config, output=args.output)

    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    def bar(total: int, desc: str):
        return progress(total, args.quiet, desc, unit="utterance")

    result = Runner(config, say, bar, args.argv).run()
    from vowelprompt.experiment.tables import markdown, summarize

    print(markdown(config.protocol, summarize(result["cells"]), [])[:-1].split("\n\nPer-class")[0])
    out = config.output
    print(f"\ntables: {out}/results.md, {out}/results.json; run manifest: {out}/experiment.run.json")
    return 0
