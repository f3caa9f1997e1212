"""``vowelprompt merge``: join the outputs of ``annotate --shard K/N`` or ``predict --shard K/N`` into one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vowelprompt.cli.console import add_verb, plural
from vowelprompt.errors import ConfigError

EPILOG = """\
examples:
  vowelprompt merge -o ann.jsonl ann.*.jsonl --manifest corpus.jsonl    (annotate's shards; none missing)
  vowelprompt merge -o preds.jsonl preds.*.jsonl --manifest ann.jsonl   (predict's, + preds.jsonl.run.json)

The shards must be one run's: rows of the same kind, model, template, sampling (predict; their .run.json too)
or style, normalisation and versions (annotate), and no id in two shards. An id repeated within a shard keeps
its last row only if the earlier one failed for a reason outside the item (worker_error, backend_error).
"""


def add_parser(verbs, parents: list) -> None:
    """Register ``merge`` (``parents`` are not its own: it reads rows, not recordings)."""
    merge = add_verb(verbs, "merge", "join the outputs of a run split with --shard K/N", [], EPILOG)
    merge.add_argument("shards", nargs="+", metavar="SHARD.jsonl", help="the shards' outputs (-o of each)")
    merge.add_argument(
        "-o", "--output", required=True, help="the merged JSONL (+ OUTPUT.run.json for predict)"
    )
    merge.add_argument(
        "--manifest",
        action="append",
        default=[],
        metavar="INPUT",
        help="the inputs the shards were given (manifest, folder, annotations JSONL; repeatable): every "
        "row must be one of them, missing ones are reported, and rows follow their order "
        "(default: shard order, no completeness check)",
    )
    merge.add_argument(
        "--allow-missing",
        action="store_true",
        help="write the merge even if inputs of --manifest are in no shard (they are listed; exit status 1)",
    )
    merge.add_argument("--overwrite", action="store_true", help="replace an --output that already has rows")
    merge.add_argument("--quiet", "-q", action="store_true", help="no summary on stderr")
    merge.set_defaults(run=run)


def input_ids(inputs: list[str]) -> list[str]:
    """The ids of the items ``annotate``/``predict`` made of ``inputs``, in order (the same resolution)."""
    from vowelprompt.io import is_annotations, read_annotations, resolve_inputs

    if len(inputs) == 1 and is_annotations(inputs[0]):
        return [row.id for row in read_annotations(inputs[0])]
    return [item.id for item in resolve_inputs(inputs)]


def run(args) -> int:
    from vowelprompt.outputs import check_outputs, write_jsonl_atomic, write_text_atomic
    from vowelprompt.shards import merge

    manifest_out = args.output + ".run.json"
    run_jsons = [f"{s}.run.json" for s in args.shards]
    check_outputs(
        [*args.shards, *run_jsons, *args.manifest], {"-o": args.output, "-o (its .run.json)": manifest_out}
    )
    out = Path(args.output)
    if out.is_file() and out.stat().st_size and not args.overwrite:
        raise ConfigError(f"-o {out} already holds rows: pass --overwrite to replace it")
    order = input_ids(args.manifest) if args.manifest else None
    merged = merge(args.shards, order)
    if merged.missing and not args.allow_missing:
        raise ConfigError(
            f"{plural(len(merged.missing), 'input')} of --manifest in no shard, e.g. "
            f"{', '.join(map(repr, merged.missing[:5]))}: is a shard still running or lost? "
            "(--allow-missing writes the merge anyway)"
        )
    write_jsonl_atomic(out, merged.rows)
    if merged.manifest is not None:
        write_text_atomic(manifest_out, json.dumps(merged.manifest, indent=1))
    if not args.quiet:
        counts: dict[str, int] = {}
        for row in merged.rows:
            counts[row.get("status", "?")] = counts.get(row.get("status", "?"), 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no rows"
        retried = f"; {plural(merged.retried, 'retried row')} replaced" if merged.retried else ""
        print(
            f"merged {plural(len(merged.rows), 'row')} of {merged.kind} from "
            f"{plural(len(args.shards), 'shard')} into {out} ({summary}){retried}",
            file=sys.stderr,
        )
        if merged.missing:
            listed = ", ".join(merged.missing[:20]) + (" …" if len(merged.missing) > 20 else "")
            print(f"missing: {plural(len(merged.missing), 'input')} in no shard: {listed}", file=sys.stderr)
    return 1 if merged.missing else 0
