"""Inputs and outputs: JSONL manifests, resolving audio arguments to items, resumable JSONL writers.

A manifest is JSONL with one item per line: ``audio`` (required; relative paths are relative to the
manifest's folder), ``text``, ``speaker``, ``label``, ``id`` (default: the audio file's stem),
``alignment`` (an existing TextGrid), and ``dialogue`` + ``turn`` (conversation id and position, used to
give prompts the preceding turns as context). Rows are type-checked once, on reading: a row that is not
usable (not JSON, ``"audio": 42``, ``"turn": "three"`` …) becomes an item whose output row says
``input_error`` and why, so every input line maps to exactly one output row.

Every verb that writes rows writes them through :class:`RowWriter`: it refuses to write over one of the
run's inputs, refuses to replace a non-empty output unless told (``--overwrite``) and, with ``--resume``,
keeps the rows already done, drops the ones that failed for reasons outside the item
(:data:`~vowelprompt.errors.RETRY_STATUSES`) and a torn last line, so those items are done again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from vowelprompt.errors import RETRY_STATUSES, ConfigError
from vowelprompt.records import Annotation, Utterance

T = TypeVar("T", Utterance, Annotation)

#: Audio file endings picked up when a directory is given (what libsndfile reads).
AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au", ".w64", ".caf", ".raw", ".pcm"}
)


def cache_dir() -> Path:
    """Where vowelprompt keeps what it builds once (models): ``$XDG_CACHE_HOME/vowelprompt``, default
    ``~/.cache/vowelprompt``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vowelprompt"


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """``(line number, row, None)`` for each JSON object of a JSONL file, ``(line number, None, reason)`` for
    each line that is not one (a torn or corrupt row), so a caller can record it instead of stopping. A
    file that cannot be read raises :class:`ConfigError`."""
    try:
        fh = open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as exc:
                yield number, None, f"not valid JSON ({getattr(exc, 'msg', 'nested too deeply')})"
                continue
            if isinstance(row, dict):
                yield number, row, None
            else:
                yield number, None, f"expected a JSON object, got {type(row).__name__}"


#: Manifest fields that are names: numbers are accepted and turned into text (ids like 1024 are common).
_NAME_FIELDS = ("id", "speaker", "dialogue")


def manifest_item(row: dict[str, Any], base: Path, where: str) -> Utterance:
    """One manifest row as an :class:`Utterance`; a row with a field of the wrong type is returned with
    ``error`` set (its output row becomes ``input_error``), never raised, so the batch goes on."""
    problems = []
    fields: dict[str, Any] = {}
    for name in _NAME_FIELDS:
        value = row.get(name)
        if value is None or isinstance(value, str):
            fields[name] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            fields[name] = str(value)
        else:
            problems.append(f"'{name}' must be text, got {_kind(value)}")
    text, label = row.get("text"), row.get("label")
    if text is not None and not isinstance(text, str):
        problems.append(f"'text' must be text, got {_kind(text)}")
        text = None
    if label is not None and not isinstance(label, str):
        problems.append(f"'label' must be text, got {_kind(label)}")
        label = None
    turn = row.get("turn")
    if isinstance(turn, str) and turn.strip().lstrip("-").isdigit():
        turn = int(turn)
    if turn is not None and (isinstance(turn, bool) or not isinstance(turn, int)):
        problems.append(f"'turn' must be a whole number, got {_kind(turn)}")
        turn = None
    audio, alignment = row.get("audio"), row.get("alignment")
    if not isinstance(audio, str) or not audio.strip():
        problems.append(
            "missing the required field 'audio'"
            if audio is None
            else f"'audio' must be a file path, got {_kind(audio)}"
        )
        audio = ""
    if alignment is not None and (not isinstance(alignment, str) or not alignment.strip()):
        problems.append(f"'alignment' must be a file path, got {_kind(alignment)}")
        alignment = None
    audio_path = Path(audio) if audio else None
    if audio_path is not None and not audio_path.is_absolute():
        audio_path = base / audio_path
    if alignment and not Path(alignment).is_absolute():
        alignment = str(base / alignment)
    item_id = fields["id"] or (audio_path.stem if audio_path else where)
    return Utterance(
        id=item_id,
        audio=str(audio_path) if audio_path else "",
        text=text,
        speaker=fields["speaker"],
        label=label,
        alignment=alignment,
        dialogue=fields["dialogue"],
        turn=turn,
        error=f"{where}: {'; '.join(problems)}" if problems else None,
    )


def _kind(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"


def read_manifest(path: str | Path) -> list[Utterance]:
    """Items of a JSONL manifest, with paths resolved against the manifest's folder. Unusable lines (not
    JSON, wrong field types) become items with ``error`` set, named ``<manifest>:<line>``."""
    base = Path(path).parent
    items = []
    for number, row, problem in read_rows(path):
        where = f"{Path(path).name}:{number}"
        if row is None:
            items.append(Utterance(id=where, audio="", error=problem))
        else:
            items.append(manifest_item(row, base, where))
    return items


def resolve_inputs(
    args: Iterable[str], text: str | None = None, speaker: str | None = None
) -> list[Utterance]:
    """Turn CLI arguments (audio files, directories, ``.jsonl`` manifests) into items with unique ids."""
    items: list[Utterance] = []
    for arg in args:
        path = Path(arg)
        if path.suffix == ".jsonl":
            if not path.is_file():
                raise ConfigError(f"{path}: no such manifest")
            items.extend(read_manifest(path))
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
            if not files:
                raise ConfigError(
                    f"{path}: no audio files ({', '.join(sorted(AUDIO_SUFFIXES))}) in this folder"
                )
            items.extend(
                Utterance(id=str(p.relative_to(path).with_suffix("")), audio=str(p), speaker=speaker)
                for p in files
            )
        else:
            # A missing file still becomes an item: its row records the error, the batch goes on.
            items.append(Utterance(id=path.stem, audio=str(path), speaker=speaker))
    if text is not None:
        if len(items) != 1:
            raise ConfigError(f"--text gives the transcript of one recording, but {len(items)} were given")
        items = [Utterance(**{**items[0].to_dict(), "text": text})]
    return unique_ids(items)


def unique_ids(items: list[T]) -> list[T]:
    """Items (any record with an ``id``) with unique ids: a repeated id gets ``#1``, ``#2`` … skipping any
    suffix already taken by another input, so every input maps to exactly one output row
    (``same, same, same#1`` → ``same, same#2, same#1``).

    >>> [u.id for u in unique_ids([Utterance("same", "a"), Utterance("same", "b"), Utterance("same#1", "c")])]
    ['same', 'same#2', 'same#1']
    """
    taken = {item.id for item in items}
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.id in seen:
            n = 1
            while f"{item.id}#{n}" in taken:
                n += 1
            taken.add(f"{item.id}#{n}")
            item = dataclasses.replace(item, id=f"{item.id}#{n}")
        seen.add(item.id)
        unique.append(item)
    return unique


def is_annotations(path: str | Path) -> bool:
    """True for an existing JSONL file of annotate's output rows (not a manifest of audio)."""
    if not (str(path).endswith(".jsonl") and Path(path).is_file()):
        return False
    for _, row, _problem in read_rows(path):
        if row is not None:
            return "vowels" in row and "status" in row
    return False


def read_annotations(path: str | Path) -> list[Annotation]:
    """annotate's JSONL rows; a line that is not a valid row becomes an ``input_error`` row naming the line
    (so a prediction run records it and goes on), and repeated ids are made unique."""
    rows = []
    for number, data, problem in read_rows(path):
        where = f"{Path(path).name}:{number}"
        if data is not None:
            problem = _annotation_problem(data)
            if problem is None:
                try:
                    rows.append(Annotation.from_dict(data))
                    continue
                except (TypeError, KeyError, ValueError, AttributeError) as exc:
                    problem = f"malformed annotation row ({type(exc).__name__}: {exc})"
        ident = data.get("id") if data is not None else None
        rows.append(
            Annotation(
                id=str(ident) if isinstance(ident, (str, int)) and not isinstance(ident, bool) else where,
                audio=str(data.get("audio") or "") if data is not None else "",
                status="input_error",
                error=f"{where}: {problem}",
                label=data.get("label") if data is not None and isinstance(data.get("label"), str) else None,
            )
        )
    return unique_ids(rows)


def _annotation_problem(data: dict[str, Any]) -> str | None:
    """What is wrong with the scalar fields of an annotation row, or None."""
    problems = []
    if not isinstance(data.get("id"), str) or not data["id"]:
        problems.append(f"'id' must be text, got {_kind(data.get('id'))}")
    if not isinstance(data.get("status"), str):
        problems.append(f"'status' must be text, got {_kind(data.get('status'))}")
    for name in ("text", "speaker", "label", "dialogue", "error", "description"):
        if data.get(name) is not None and not isinstance(data[name], str):
            problems.append(f"'{name}' must be text, got {_kind(data[name])}")
    turn = data.get("turn")
    if turn is not None and (isinstance(turn, bool) or not isinstance(turn, int)):
        problems.append(f"'turn' must be a whole number, got {_kind(turn)}")
    for name in ("words", "vowels"):
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            problems.append(f"'{name}' must be a list of objects")
    return "; ".join(problems) or None


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
