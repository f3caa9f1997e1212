"""``vowelprompt prepare CORPUS ROOT -o MANIFEST.jsonl``: a speech-emotion corpus, as distributed, into the
manifest ``annotate`` reads (docs/corpora.md).

The adapter comes from the registry :data:`vowelprompt.corpora.base.CORPORA`. Every item the adapter finds
is accounted for: a row (with ``error`` set where its media cannot be used, so that ``annotate`` reports it
as ``input_error``) or a line of the summary that names what was left out and why.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vowelprompt.cli.console import add_verb, plural


def add_parser(verbs, parents: list) -> None:
    """Register ``prepare`` and its options with the ``verbs`` subparsers (``parents`` are not used: the
    verb reads a corpus folder, not recordings)."""
    from vowelprompt.corpora.base import CORPORA

    prep = add_verb(verbs, "prepare", "write the manifest of an emotion corpus as distributed", [])
    prep.add_argument("corpus", metavar="CORPUS", help=f"the corpus: {', '.join(CORPORA)}")
    prep.add_argument("root", metavar="ROOT", help="the corpus folder as unpacked (IEMOCAP_full_release …)")
    prep.add_argument("-o", "--output", required=True, metavar="MANIFEST.jsonl", help="manifest to write")
    prep.add_argument(
        "--labels",
        metavar="PRESET",
        help="label set of the 'label' field (default: the corpus's own, e.g. iemocap4, meld7)",
    )
    prep.add_argument(
        "--keep-unlabeled",
        action="store_true",
        help="keep items whose code is outside the label set (or that have no label row), with label null",
    )
    prep.add_argument("--overwrite", action="store_true", help="replace a manifest that already has rows")
    prep.set_defaults(run=run)


def run(args) -> int:
    from vowelprompt.corpora.base import CORPORA
    from vowelprompt.errors import ConfigError
    from vowelprompt.outputs import check_outputs, write_jsonl_atomic
    from vowelprompt.registry import check_options, load_factory

    prepare = load_factory(CORPORA, args.corpus, "corpus")
    root, output = Path(args.root), Path(args.output)
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder (give the {args.corpus} corpus folder as unpacked)")
    check_outputs([], {"-o": output})
    if output.exists():
        if output.resolve().is_relative_to(root.resolve()) and output.suffix.lower() != ".jsonl":
            raise ConfigError(f"-o {output} is a file of the corpus; write the manifest elsewhere")
        if output.stat().st_size > 0 and not args.overwrite:
            raise ConfigError(f"-o {output} already has rows; pass --overwrite to replace it")
    # only the options given, so that an adapter without a label policy still runs with its defaults
    options = {"labels": args.labels, "keep_unlabeled": args.keep_unlabeled or None}
    options = {k: v for k, v in options.items() if v is not None}
    check_options(prepare, args.corpus, "corpus", options)
    prepared = prepare(root, **options)
    seen: set[str] = set()
    for made in prepared.rows:  # an adapter bug must not give two items one id
        if made["id"] in seen:
            raise ConfigError(f"{args.corpus}: the adapter made the id {made['id']} twice")
        seen.add(made["id"])
    write_jsonl_atomic(output, prepared.rows)
    for line in prepared.summary():
        print(line, file=sys.stderr)
    failed = sum(bool(r.get("error")) for r in prepared.rows)
    print(f"{plural(len(prepared.rows), 'row')} -> {output}", file=sys.stderr)
    return 1 if failed else 0
