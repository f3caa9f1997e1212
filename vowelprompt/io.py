"""Inputs: JSONL manifests, resolving audio arguments to items, reading rows and annotations back.

A manifest is JSONL with one item per line: ``audio`` (required; relative paths are relative to the
manifest's folder), ``text``, ``speaker``, ``label``, ``id`` (default: the audio file's stem),
``alignment`` (an existing TextGrid, or a corpus's ``.phseg``/``lablaut`` file), ``dialogue`` + ``turn``
(conversation id and position, used to give prompts the preceding turns as context) and ``error`` (the
item is unusable, and why: its row becomes ``input_error`` with that reason). Rows are type-checked once,
on reading: a row that is not usable (not JSON, ``"audio": 42``, ``"turn": "three"`` …) becomes an item
whose output row says ``input_error`` and why, so every input line maps to exactly one output row.

Writing outputs (refusing to destroy an input, atomic files, resumable row files): :mod:`vowelprompt.outputs`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from vowelprompt.errors import ConfigError
from vowelprompt.records import Annotation, Utterance

T = TypeVar("T", Utterance, Annotation)

#: Audio file endings picked up when a directory is given: what libsndfile reads, and the containers read
#: through PyAV (``vowelprompt.media.CONTAINER_SUFFIXES``: MELD's clips are MP4).
AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au", ".w64", ".caf", ".raw", ".pcm"}
    | {".mp4", ".m4a", ".aac", ".mov", ".mkv", ".webm"}
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
    """One manifest row as an :class:`Utterance`; a row with a field of the wrong type, or with an ``error``
    of its own (a prepared corpus marks media it could not use), is returned with ``error`` set (its output
    row becomes ``input_error``), never raised, so the batch goes on."""
    problems = []
    error = row.get("error")  # set by ``vowelprompt prepare``: missing or unusable media, no label row
    if isinstance(error, str) and error.strip():
        problems.append(" ".join(error.split()))
    elif error is not None and error is not False and error != "":
        problems.append(f"'error' must be text, got {_kind(error)}")
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
    # ``vowelprompt prepare`` writes ``lang``; ``language`` is accepted too
    language = row.get("language", row.get("lang"))
    if language is not None and (not isinstance(language, str) or not language.strip()):
        problems.append(f"'language' must be a language code such as fr, got {_kind(language)}")
        language = None
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
        text_source="manifest" if text else None,
        language=language.strip() if language else None,
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
        items = [Utterance(**{**items[0].to_dict(), "text": text, "text_source": "command line"})]
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
