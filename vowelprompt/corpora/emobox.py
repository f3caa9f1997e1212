"""Import one dataset of EmoBox's metadata (emo-box/EmoBox ``data/<dataset>/``): its rows, labels and folds.

EmoBox ships, per dataset, ``<dataset>.jsonl`` (or ``.json``: ``{key: {...}}``) with every utterance,
``fold_<k>/<dataset>_{train,test[,valid]}_fold_<k>.jsonl`` (some datasets also spell it ``_fold<k>``) and
``label_map.json`` (its ``emo`` codes → unified names: ``"c": "Angry"``). A row holds ``key``
(``cafe-08-P-2-1``), ``dataset``, ``wav`` (relative to the EmoBox root: ``downloads/cafe/…``), ``length``,
``emo`` (older files: ``audio``, ``label``) and ``channel``. ``root`` is the ``data/<dataset>`` folder.

Rows: ``id`` is the EmoBox key (``<dataset>-<native id>``), ``dataset`` EmoBox's name, ``source: emobox``;
``label`` resolves ``emo`` through ``label_map.json`` into ``labels`` (default: the dataset's preset where
VowelPrompt has one, :data:`PRESETS`; else a custom set of the unified names); ``raw_label`` keeps ``emo``.
Folds: with several folds, ``fold`` is the one whose test file lists the row; with one fold, ``split`` says
train/dev/test (``dev`` from an official ``valid`` file). ``wav`` is looked up under ``audio_root`` (default:
the EmoBox root, two folders above ``root``), else as given. EmoBox has no transcript, speaker or
language (its ``en`` for every corpus is wrong): ``text`` is empty and ``lang`` is :data:`LANGS`' or ``und``;
use the corpus's own adapter where there is one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from vowelprompt.corpora.base import Prepared, media_problem, read_text, resolve_label, row
from vowelprompt.errors import InputError
from vowelprompt.labels import get_label_set

#: EmoBox dataset name → VowelPrompt's label-set preset.
PRESETS = {
    "emodb": "emodb7",
    "cafe": "cafe7",
    "ravdess": "ravdess8",
    "cremad": "cremad6",
    "asvpesd": "asvp12",
    "msppodcast": "msp8",
    "iemocap": "iemocap4",
    "meld": "meld7",
}
LANGS = {
    "emodb": "de",
    "cafe": "fr",
    "ravdess": "en",
    "cremad": "en",
    "msppodcast": "en",
    "iemocap": "en",
    "meld": "en",
}
_FOLD_FILE = re.compile(r"(?P<dataset>.+)_(?P<part>train|test|valid)_fold_?(?P<k>\d+)\.jsonl?")
_PARTS = {"train": "train", "valid": "dev", "test": "test"}


def prepare(
    root: Path, labels: str | None = None, keep_unlabeled: bool = False, audio_root: Path | None = None
) -> Prepared:
    """One row per utterance of the EmoBox dataset folder ``root`` (module docstring)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder; give EmoBox's data/<dataset> folder")
    dataset = root.name
    audio_root = Path(audio_root) if audio_root else root.parent.parent
    label_map = _json(root / "label_map.json") if (root / "label_map.json").is_file() else {}
    records, place, twice = _records(root, dataset)
    if not records:
        raise InputError(f"{root}: no {dataset}.jsonl, {dataset}.json or fold_<k>/ files of EmoBox")
    names = ",".join(sorted({_word(v) for v in label_map.values()}))
    if not (labels or PRESETS.get(dataset) or names):
        raise InputError(f"{root}: no label_map.json and no preset for {dataset!r}: name a label set")
    label_set = get_label_set(labels or PRESETS.get(dataset) or names)
    own = (
        get_label_set(PRESETS[dataset])
        if dataset in PRESETS
        else get_label_set(names)
        if names
        else label_set
    )
    n_folds = len({k for k, _ in _fold_parts(root)})
    out = Prepared([])
    for key in twice:
        out.skip("in the test files of two folds (fold = the first; row kept)", key)
    for key, record in records.items():
        native_id = key.removeprefix(f"{dataset}-")
        code = str(record.get("emo", record.get("label", "")))
        ok, label = resolve_label(
            out, native_id, _word(label_map.get(code, code)), code, label_set, keep_unlabeled, own
        )
        if not ok:
            continue
        fold, part = place.get(key, (None, None))
        wav = str(record.get("wav") or record.get("audio") or "")
        path = Path(wav) if Path(wav).is_absolute() else audio_root / wav
        out.rows.append(
            row(
                dataset,
                native_id,
                path.absolute(),
                text="",
                lang=LANGS.get(dataset, "und"),
                label=label,
                raw_label=code,
                label_set=label_set.name,
                fold=fold if n_folds > 1 else None,
                split=part if n_folds == 1 else None,
                source="emobox",
                error=media_problem(path) if wav else "EmoBox row has no wav path",
            )
        )
    return out


def _records(root: Path, dataset: str) -> tuple[dict[str, dict], dict[str, tuple[int, str]], list[str]]:
    """Every row by key (the whole-set file, then the fold files), where the folds put it (key → (k,
    part): the test files first, so a row's fold is the one that tests it) and the keys that two folds'
    test files both list (the first keeps them)."""
    records: dict[str, dict] = {}
    for name in (f"{dataset}.jsonl", f"{dataset}.json"):
        if (root / name).is_file():
            records.update(_rows(root / name))
            break
    place: dict[str, tuple[int, str]] = {}
    twice: list[str] = []
    for (k, part), path in sorted(
        _fold_parts(root).items(), key=lambda item: (item[0][1] != "test", item[0])
    ):
        for key, record in _rows(path).items():
            records.setdefault(key, record)
            if part == "test" and place.get(key, (0, ""))[1] == "test":
                twice.append(key)
            place.setdefault(key, (k, _PARTS[part]))
    return records, place, twice


def _fold_parts(root: Path) -> dict[tuple[int, str], Path]:
    """``fold_<k>`` files by (k, part); of several spellings ``_fold_<k>.jsonl`` wins, ``.json`` next."""
    best: dict[tuple[int, str], tuple[tuple[bool, bool], Path]] = {}
    for path in sorted(root.glob("fold_*/*.json*")):
        m = _FOLD_FILE.fullmatch(path.name)
        if not m:
            continue
        rank = ("_fold_" not in path.name, path.suffix != ".jsonl")
        slot = (int(m["k"]), m["part"])
        if slot not in best or rank < best[slot][0]:
            best[slot] = (rank, path)
    return {slot: path for slot, (_, path) in best.items()}


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    """A ``.jsonl`` (one object with ``key`` a line) or ``.json`` (``{key: object}``) file by key."""
    if path.suffix == ".json":
        data = _json(path)
        return {str(k): v for k, v in data.items() if isinstance(v, dict)}
    rows = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{number}: not JSON ({e.msg})") from None
            rows[str(record.get("key"))] = record
    return rows


def _json(path: Path) -> dict:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    return data if isinstance(data, dict) else {}


def _word(name: str) -> str:
    """EmoBox's unified names (``Angry``, ``No-agreement``, ``pain, groan``) as label words."""
    return str(name).strip().lower().replace("-", " ")
