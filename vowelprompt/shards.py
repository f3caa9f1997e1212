"""Spread a run over machines: ``--shard K/N`` picks a deterministic part of the inputs, :func:`merge` joins
the parts' outputs into one.

Shards are numbered 1 to N, as ``#SBATCH --array=1-N`` numbers a SLURM array's tasks
(``--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT``). An item's shard is a hash of its key, so it does
not depend on the order of the inputs, on the machine or on the other items: a re-listed or resumed run puts
every item in the same shard, and the N shards hold every item exactly once. The key is the item's dialogue
when it has one (the earlier turns of a dialogue are the prompt's context in ``predict``, so a dialogue is
never split), else its id.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vowelprompt.errors import RETRY_STATUSES, ConfigError
from vowelprompt.io import read_rows

T = TypeVar("T")

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``, 1-based (``Shard(1, 4)`` … ``Shard(4, 4)``)."""

    index: int
    count: int

    def __post_init__(self):
        if not (isinstance(self.count, int) and self.count >= 1):
            raise ConfigError(f"--shard K/N needs N ≥ 1; got N = {self.count!r}")
        if not (isinstance(self.index, int) and 1 <= self.index <= self.count):
            zero = (
                " (shards are numbered from 1; for a 0-based array pass $((ID + 1)))"
                if self.index == 0
                else ""
            )
            raise ConfigError(f"--shard K/N needs 1 ≤ K ≤ N; got {self.index}/{self.count}{zero}")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/8"`` → ``Shard(2, 8)``; anything else is a one-line :class:`ConfigError`."""
        match = _SHARD.fullmatch(str(text))
        if not match:
            raise ConfigError(
                f"--shard takes K/N, shard K of N counted from 1 (e.g. --shard 2/8, or "
                f"--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT); got {text!r}"
            )
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, item: Any) -> bool:
        return shard_of(shard_key(item), self.count) == self.index

    def select(self, items: Iterable[T]) -> list[T]:
        """The items of this shard, in their input order."""
        return [item for item in items if self.holds(item)]


def shard_key(item: Any) -> str:
    """What decides an item's shard: its dialogue if it has one (kept whole), else its id."""
    dialogue = getattr(item, "dialogue", None)
    return f"dialogue:{dialogue}" if dialogue is not None else f"id:{item.id}"


def shard_of(key: str, count: int) -> int:
    """The shard (1 … ``count``) of ``key``: SHA-256, the same on every machine and Python (unlike ``hash``).

    >>> shard_of("id:Ses01F_impro01_F000", 4)
    2
    """
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


# ---------------------------------------------------------------------------------------------------- merge

#: What must agree between the shards of one run, per kind of row (fields of every row of that kind).
_ROW_SETTINGS = {
    "predictions": ("model", "backend", "sampling", "template", "label_set", "labels"),
    "annotations": ("style", "normalization", "versions"),
}

#: Run-manifest (``OUTPUT.run.json``) entries that must agree between predict shards. ``backend_options``
#: is compared without how the server is reached (each shard may talk to its own vLLM server).
_MANIFEST_SETTINGS = ("config", "template", "labels", "model", "backend", "sampling", "backend_options")
_TRANSPORT_OPTIONS = frozenset(
    {
        "base_url",
        "api_key",
        "concurrency",
        "timeout_s",
        "max_retries",
        "backoff_s",
        "max_backoff_s",
        "deadline_s",
    }
)


@dataclass
class Merged:
    """The merged rows in output order, the kind of rows, and what the merge found."""

    rows: list[dict[str, Any]]
    kind: str
    retried: int = 0  # rows replaced by a later row of the same id in the same shard (a retried item)
    missing: list[str] = field(default_factory=list)  # ids of the inputs that no shard holds
    manifest: dict[str, Any] | None = None  # the predict run manifest of the merged output


def row_kind(row: dict[str, Any]) -> str | None:
    if "vowels" in row and "status" in row:
        return "annotations"
    if "label_set" in row and "status" in row:
        return "predictions"
    return None


def merge(shards: Sequence[str | Path], order: Sequence[str] | None = None) -> Merged:
    """The rows of ``shards`` (outputs of one ``annotate`` or ``predict`` run split with ``--shard``) as one
    output, checked: every line a row of the same kind and run settings, no id in two shards, and (given
    ``order``, the ids of the run's inputs) every row one of the inputs, in their order; ids of ``order``
    that no shard holds are returned in :attr:`Merged.missing`. Anything else is a one-line
    :class:`ConfigError`.

    Within one shard a repeated id keeps its last row only if the earlier ones failed for a reason outside
    the item (:data:`~vowelprompt.errors.RETRY_STATUSES`: retried and done again); any other repeat is an
    error, as is an id in two shards (the shards overlap)."""
    if not shards:
        raise ConfigError("merge needs at least one shard output")
    seen: set[Path] = set()
    for path in shards:
        if not Path(path).is_file():
            raise ConfigError(f"{path}: no such shard output")
        if Path(path).resolve() in seen:
            raise ConfigError(f"{path} is given twice")
        seen.add(Path(path).resolve())
    owner: dict[str, str] = {}
    rows: dict[str, dict[str, Any]] = {}
    kind, reference, retried = None, {}, 0
    for path in shards:
        for number, row, problem in read_rows(path):
            where = f"{path}:{number}"
            if row is None or not isinstance(row.get("id"), str):
                problem = problem or "a row without a text 'id'"
                raise ConfigError(
                    f"{where}: {problem} (a row cut short when the shard stopped? rerun that shard with "
                    "--resume, then merge)"
                )
            this = row_kind(row)
            if this is None:
                raise ConfigError(f"{where}: not a row of annotate or predict output")
            if kind is None:
                kind = this
            elif this != kind:
                raise ConfigError(f"{where}: a row of {this}, but the shards before it hold {kind}")
            _check_settings(row, kind, where, reference)
            ident = row["id"]
            if ident in owner and owner[ident] != str(path):
                raise ConfigError(
                    f"id {ident!r} is in two shards, {owner[ident]} and {path}: the shards overlap "
                    "(were they run with the same N?)"
                )
            if ident in rows:
                if rows[ident].get("status") not in RETRY_STATUSES:
                    raise ConfigError(f"{where}: id {ident!r} appears twice in this shard")
                retried += 1
                del rows[ident]  # the retry's row takes the place (and the position) of the failed one
            owner[ident] = str(path)
            rows[ident] = row
    merged = Merged(list(rows.values()), kind or "rows", retried)
    if order is not None:
        positions = {ident: i for i, ident in enumerate(order)}
        strangers = [ident for ident in rows if ident not in positions]
        if strangers:
            raise ConfigError(
                f"{len(strangers)} row(s) of the shards are not among the inputs given with --manifest, e.g. "
                f"{strangers[0]!r} (from {owner[strangers[0]]}): a different input list?"
            )
        merged.rows.sort(key=lambda r: positions[r["id"]])
        merged.missing = [ident for ident in order if ident not in rows]
    if kind == "predictions":
        merged.manifest = _merge_manifests(shards)
    return merged


def _settings_of(row: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The run settings a row records, or None for a row that records none (a failed annotation)."""
    if kind == "annotations" and row.get("status") != "ok":
        return None
    return {name: row.get(name) for name in _ROW_SETTINGS[kind]}


def _check_settings(row: dict[str, Any], kind: str, where: str, reference: dict[str, Any]) -> None:
    settings = _settings_of(row, kind)
    if settings is None:
        return
    if not reference:
        reference.update(settings, _where=where)
        return
    for name, value in settings.items():
        if _canonical(value) != _canonical(reference[name]):
            raise ConfigError(
                f"{where}: {name} {_short(value)} differs from {_short(reference[name])} in "
                f"{reference['_where']}: these are not shards of one run"
            )


def _merge_manifests(shards: Sequence[str | Path]) -> dict[str, Any] | None:
    """The run manifest of the merged predictions: the first shard's, with every shard's command line,
    after checking that the shards' manifests agree on everything that shapes an answer. None if no shard
    has one; a shard without one among shards with one is an error."""
    found = {str(p): Path(f"{p}.run.json") for p in shards}
    present = {p: m for p, m in found.items() if m.is_file()}
    if not present:
        return None
    absent = [p for p in found if p not in present]
    if absent:
        raise ConfigError(f"{absent[0]}.run.json is missing, but other shards have their run manifest")
    manifests = {}
    for path, file in present.items():
        try:
            manifests[path] = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{file}: not a readable run manifest ({exc})") from None
        if not isinstance(manifests[path], dict):
            raise ConfigError(f"{file}: not a run manifest (a JSON object)")
    first_path, first = next(iter(manifests.items()))
    for path, manifest in manifests.items():
        for name in _MANIFEST_SETTINGS:
            mine, theirs = manifest.get(name), first.get(name)
            if name == "backend_options":
                mine, theirs = _without_transport(mine), _without_transport(theirs)
            if _canonical(mine) != _canonical(theirs):
                raise ConfigError(
                    f"{path}.run.json: {name} {_short(mine)} differs from {_short(theirs)} in "
                    f"{first_path}.run.json: these are not shards of one run"
                )
    return {**first, "shards": [{"output": p, "command": m.get("command")} for p, m in manifests.items()]}


def _without_transport(options: Any) -> Any:
    if not isinstance(options, dict):
        return options
    return {k: v for k, v in options.items() if k not in _TRANSPORT_OPTIONS}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _short(value: Any) -> str:
    text = _canonical(value)
    return text if len(text) <= 80 else text[:77] + "…"
