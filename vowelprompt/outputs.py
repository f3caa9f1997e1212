"""Outputs: checked before anything is opened, written whole or not at all, row files that resume.

Every verb that writes rows writes them through :class:`RowWriter`: it refuses to write over one of the
run's inputs, refuses to replace a non-empty output unless told (``--overwrite``) and, with ``--resume``,
keeps the rows already done, drops the ones that failed for reasons outside the item
(:data:`~vowelprompt.errors.RETRY_STATUSES`) and a torn last line, so those items are done again.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from vowelprompt.errors import RETRY_STATUSES, ConfigError
from vowelprompt.io import read_rows


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(inputs: Iterable[str | Path | None], outputs: dict[str, str | Path | None]) -> None:
    """Refuse, in one line, outputs that are one of the run's inputs, that coincide with each other, that
    are folders, or whose folder cannot be written; ``outputs`` maps a flag (``-o``) to a path.

    Checked before anything is opened, so no input is ever truncated."""
    ins = [Path(p) for p in inputs if p]
    resolved: dict[Path, str] = {}
    for flag, raw in outputs.items():
        if not raw:
            continue
        path = Path(raw)
        for source in ins:
            if path.resolve() == source.resolve() or _same_file(path, source):
                raise ConfigError(f"{flag} {path} is one of the inputs; writing it would destroy it")
        key = path.resolve()
        if key in resolved:
            raise ConfigError(f"{flag} and {resolved[key]} name the same file {path}")
        resolved[key] = flag
        if path.is_dir():
            raise ConfigError(f"{flag} {path} is a folder; give a file name")
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise ConfigError(f"{flag} {path}: {parent} is not a folder")
        if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise ConfigError(f"{flag} {path}: permission denied, cannot write there")


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path`` and rename it over ``path`` only when the block succeeds, so
    a crash or an error leaves the old file (or none) — never a half-written one.

    >>> import tempfile, pathlib; target = pathlib.Path(tempfile.mkdtemp()) / "x.json"
    >>> with atomic_write(target) as fh: _ = fh.write("{}")
    >>> target.read_text()
    '{}'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with open(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through :func:`atomic_write`."""
    with atomic_write(path) as fh:
        fh.write(text)


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` as JSONL to ``path`` through :func:`atomic_write`."""
    with atomic_write(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _final_rows(path: str | Path, retry: frozenset[str]) -> tuple[list[dict[str, Any]], int]:
    """The rows of an existing output that ``--resume`` keeps — one per id (the last), in file order — and
    how many lines the file held, read in one pass."""
    rows: dict[str, dict[str, Any]] = {}
    lines = 0
    for _, row, _problem in read_rows(path):
        lines += 1
        if row is None or not isinstance(row.get("id"), str):
            continue  # a line cut short by a crash, or corrupted: that item is redone
        rows.pop(row["id"], None)
        if row.get("status") not in retry:
            rows[row["id"]] = row
    return list(rows.values()), lines


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


class RowWriter:
    """The one way a verb writes its output rows (JSONL), resumable after a crash.

    - ``path`` must not be an input (see :func:`check_outputs`, which the CLI calls with every path).
    - A file that already holds rows is refused unless ``resume`` (continue it) or ``overwrite`` (replace
      it) is given; the message says which of the two the run probably wants, from whether the file holds
      rows of these ``ids``.
    - ``resume``: rows already final are kept and their ids are in :attr:`done`; rows that failed for
      reasons outside the item (``retry`` statuses: a dead worker, an unreachable backend), duplicates,
      and a torn or corrupt line are dropped, the file is rewritten through a temporary file and a rename,
      then appended to. Those items are done again: nothing lost, nothing duplicated.
    - Each row is one line, flushed and fsynced, so a crash loses at most the row being written.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        resume: bool = False,
        overwrite: bool = False,
        ids: Iterable[str] = (),
        retry: frozenset[str] = RETRY_STATUSES,
        flag: str = "-o",
    ):
        self.path = Path(path)
        self.done: set[str] = set()
        self.redo = 0  # rows of an earlier run dropped to be done again
        existing = self.path.is_file() and self.path.stat().st_size > 0
        if existing and not resume and not overwrite:
            raise ConfigError(_refusal(self.path, set(ids), flag))
        if existing and resume:
            kept, lines = _final_rows(self.path, retry)
            self.done = {row["id"] for row in kept}
            self.redo = lines - len(kept)
            if self.redo or not _ends_with_newline(self.path):
                write_jsonl_atomic(self.path, kept)
            self._fh: IO[str] = open(self.path, "a", encoding="utf-8")
        else:
            with atomic_write(self.path):  # an empty file replaces any old one in one step
                pass
            self._fh = open(self.path, "a", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _refusal(path: Path, ids: set[str], flag: str) -> str:
    existing = [row.get("id") for _, row, _ in read_rows(path) if row is not None]
    ours = sum(i in ids for i in existing)
    what = f"{flag} {path} already holds {len(existing)} rows"
    if ours:
        return (
            f"{what}, {ours} of them for these inputs: pass --resume to continue it "
            "(or --overwrite to replace it)"
        )
    return f"{what} of other inputs: pass --overwrite to replace it (or choose another {flag})"
