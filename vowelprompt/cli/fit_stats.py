"""``vowelprompt fit-stats``: speaker/vowel statistics and bin edges fitted on a training corpus."""

from __future__ import annotations

import sys

from vowelprompt.cli.console import add_verb, plural
from vowelprompt.cli.inputs import (
    add_style_option,
    annotate_config,
    annotations,
    check_run_outputs,
    read_inputs,
)


def add_parser(verbs, parents: list) -> None:
    """Register ``fit-stats`` and its options with the ``verbs`` subparsers."""
    fit = add_verb(
        verbs, "fit-stats", "fit speaker/vowel statistics and bin edges on a training corpus", parents
    )
    fit.add_argument("-o", "--output", required=True, help="statistics JSON to write")
    fit.add_argument(
        "--save-annotations",
        help="also write the annotated rows here (JSONL), levelled with the fitted statistics",
    )
    add_style_option(fit)
    fit.add_argument(
        "--overwrite", action="store_true", help="replace a --save-annotations file that already has rows"
    )
    fit.set_defaults(run=run)


def run(args) -> int:
    from vowelprompt.normalize import fit_stats
    from vowelprompt.outputs import write_jsonl_atomic
    from vowelprompt.pipeline import renormalize

    inputs = read_inputs(args)
    check_run_outputs(args, inputs)
    rows = annotations(args, inputs, None, None, report_errors=True)
    stats = fit_stats(rows)
    stats.save(args.output)
    if args.save_annotations:
        config = annotate_config(args)
        write_jsonl_atomic(args.save_annotations, (renormalize(row, stats, config).to_dict() for row in rows))
    failed = sum(not r.ok for r in rows)
    spoken = sorted({r.language or "en" for r in rows if r.ok})
    languages = f" in {', '.join(spoken)}" if len(spoken) > 1 or spoken != ["en"] else ""
    print(
        f"fitted statistics on {plural(stats.n_utterances, 'utterance')} "
        f"({plural(len(stats.vowel.speakers), 'speaker')}, {plural(len(stats.vowel_types), 'vowel type')}"
        f"{languages}; "
        f"{plural(failed, 'input')} failed) -> {args.output}",
        file=sys.stderr,
    )
    return 0
