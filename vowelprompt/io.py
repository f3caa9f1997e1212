"""Inputs and outputs: JSONL manifests, resolving audio arguments to items, resumable JSONL writers.

A manifest is JSONL with one item per line: ``audio`` (required; relative paths are relative to the
manifest's folder), ``text``, ``speaker``, ``label``, ``id`` (default: the audio file's stem),
``alignment`` (an existing TextGrid), and ``dialogue`` + ``turn`` (conversation id and position, used to
give prompts the preceding turns as context).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from vowelprompt.errors import ConfigError
from vowelprompt.records import Utterance

#: Audio file endings picked up when a directory is given (what libsndfile reads).
AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au", ".w64", ".caf"}
)


def cache_dir() -> Path:
    """Where vowelprompt keeps what it builds once (models): ``$XDG_CACHE_HOME/vowelprompt``, default
    ``~/.cache/vowelprompt``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vowelprompt"


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSONL file; a missing file or a malformed line raises :class:`ConfigError` naming it."""
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{path}:{number}: expected a JSON object")
            yield row


def read_manifest(path: str | Path) -> list[Utterance]:
    """Items of a JSONL manifest, with paths resolved against the manifest's folder."""
    base = Path(path).parent
    items = []
    for number, row in enumerate(read_jsonl(path), 1):
        if "audio" not in row:
            raise ConfigError(f"{path}:{number}: missing the required field 'audio'")
        audio = Path(row["audio"])
        audio = audio if audio.is_absolute() else base / audio
        alignment = row.get("alignment")
        if alignment and not Path(alignment).is_absolute():
            alignment = str(base / alignment)
        items.append(
            Utterance(
                id=str(row.get("id") or audio.stem),
                audio=str(audio),
                text=row.get("text"),
                speaker=None if row.get("speaker") is None else str(row["speaker"]),
                label=row.get("label"),
                alignment=alignment,
                dialogue=None if row.get("dialogue") is None else str(row["dialogue"]),
                turn=row.get("turn"),
            )
        )
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
    seen: dict[str, int] = {}
    unique = []
    for item in items:
        if item.id in seen:
            seen[item.id] += 1
            item = Utterance(**{**item.to_dict(), "id": f"{item.id}#{seen[item.id]}"})
        else:
            seen[item.id] = 0
        unique.append(item)
    return unique


def done_ids(path: str | Path) -> set[str]:
    """Ids already written to an output JSONL (for ``--resume``); a torn last line is ignored."""
    ids = set()
    if not Path(path).is_file():
        return ids
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                ids.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut short by a crash: that item is redone
    return ids


class JsonlWriter:
    """Append rows to a JSONL file, one flushed and fsynced line per row, so a crash loses at most the
    row being written. A torn last line from an earlier crash is cut off before appending."""

    def __init__(self, path: str | Path, append: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if append and self.path.is_file():
            _truncate_torn_line(self.path)
        self._fh: IO[str] = open(self.path, "a" if append else "w", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _truncate_torn_line(path: Path) -> None:
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])
