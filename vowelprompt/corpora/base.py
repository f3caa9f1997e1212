"""What every corpus adapter shares: the manifest row it makes, checks of media files, and the registry.

An adapter is a module ``vowelprompt/corpora/<name>.py`` with a function ``prepare(root, **options) ->
Prepared``: it reads the corpus as distributed (docs/corpora.md) and returns one :func:`row` per utterance it
found, plus what it skipped and why. ``vowelprompt prepare CORPUS ROOT -o MANIFEST.jsonl`` writes the rows.

Row fields (a JSONL manifest that ``annotate`` reads; fields it does not know are kept for later verbs):

* ``id`` — ``<corpus>-<native id>``, unique in the corpus; ``dataset`` — the corpus name;
* ``audio`` — an absolute path ``annotate`` reads; ``alignment`` — the corpus's own phone segmentation;
* ``text`` (``""`` when the corpus has no transcript: ``annotate --asr`` then applies), ``lang`` (BCP-47:
  ``en``, ``de``, ``fr``), ``speaker``, ``gender`` (``"female"``/``"male"``/None);
* ``label`` — in the corpus's label-set preset (``label_set`` names it), or None; ``raw_label`` — the
  corpus's own code (``exc``, ``W``, ``03``);
* ``split`` (``train``/``dev``/``test``) and/or ``fold`` (an int: the fold in which this row is *test*),
  ``dialogue`` and ``turn`` where the corpus has dialogues;
* ``label_votes`` (``{label or raw code: count}``) and ``vad`` (``{"valence", "arousal", "dominance"}`` on the
  corpus's scale) where the corpus has them;
* ``error`` — set when the item cannot be used (missing, empty or corrupt media, a Git LFS pointer, no label
  row): ``annotate`` then gives it an ``input_error`` row with this reason, so nothing is silently dropped.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vowelprompt.labels import LabelSet, label_map

#: Corpus name → ``"module:prepare"`` (docs/architecture.md rule 5).
CORPORA: dict[str, str] = {
    "iemocap": "vowelprompt.corpora.iemocap:prepare",
    "meld": "vowelprompt.corpora.meld:prepare",
    "emodb": "vowelprompt.corpora.emodb:prepare",
    "cafe": "vowelprompt.corpora.cafe:prepare",
    "ravdess": "vowelprompt.corpora.ravdess:prepare",
    "crema-d": "vowelprompt.corpora.cremad:prepare",
    "asvp-esd": "vowelprompt.corpora.asvp:prepare",
    "msp-podcast": "vowelprompt.corpora.msp_podcast:prepare",
    "emobox": "vowelprompt.corpora.emobox:prepare",
}

#: The first bytes of a Git LFS pointer file (a media file that was never downloaded).
LFS_POINTER = b"version https://git-lfs"


def row(
    dataset: str,
    native_id: str,
    audio: str | Path,
    *,
    text: str | None = "",
    lang: str,
    speaker: str | None = None,
    gender: str | None = None,
    label: str | None = None,
    raw_label: str | None = None,
    label_set: str | None = None,
    split: str | None = None,
    fold: int | None = None,
    dialogue: str | None = None,
    turn: int | None = None,
    label_votes: dict[str, int] | None = None,
    vad: dict[str, float] | None = None,
    alignment: str | Path | None = None,
    error: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One manifest row; fields that are None are left out (but ``label``, ``text``): rows stay short."""
    data: dict[str, Any] = {
        "id": f"{dataset}-{native_id}",
        "audio": str(audio),
        "text": text,
        "lang": lang,
        "speaker": speaker,
        "gender": gender,
        "label": label,
        "raw_label": raw_label,
        "label_set": label_set,
        "dataset": dataset,
        "split": split,
        "fold": fold,
        "dialogue": dialogue,
        "turn": turn,
        "label_votes": label_votes,
        "vad": vad,
        "alignment": str(alignment) if alignment is not None else None,
        "error": error,
        **extra,
    }
    return {k: v for k, v in data.items() if v is not None or k in ("label", "text")}


def media_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be used as media (missing, empty, a Git LFS pointer), or None. Cheap: it reads at
    most the first bytes, so that a corpus of 100,000 files is checked in seconds; a file that is there but
    does not decode is reported by ``annotate`` as its ``input_error``."""
    path = Path(path)
    if not path.is_file():
        return f"media file missing: {path}"
    size = path.stat().st_size
    if size == 0:
        return f"media file empty (0 bytes): {path}"
    with open(path, "rb") as fh:
        head = fh.read(len(LFS_POINTER))
    if head == LFS_POINTER:
        return f"media file is a Git LFS pointer, not audio (run `git lfs pull`): {path}"
    return None


def read_text(path: str | Path) -> str:
    """A text file of a corpus: UTF-8 (with or without BOM), else cp1252 (MELD's CSVs carry cp1252 bytes)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


@dataclass
class Prepared:
    """What an adapter found: ``rows`` (usable or with ``error`` set) and ``skipped``, the items it left out
    of the manifest on purpose (``{reason: [native ids]}``, e.g. labels outside the label set)."""

    rows: list[dict[str, Any]]
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, native_id: str) -> None:
        self.skipped.setdefault(reason, []).append(native_id)

    def summary(self) -> list[str]:
        """Lines for the terminal: rows per label and split, rows with an error, items skipped and why."""
        ok = [r for r in self.rows if not r.get("error")]
        by_split: dict[str, Counter] = {}
        for r in ok:
            part = str(r.get("split") or (f"fold {r['fold']}" if r.get("fold") is not None else "all"))
            by_split.setdefault(part, Counter())[r.get("label") or "(no label)"] += 1
        lines = [f"{len(self.rows)} rows, {len(ok)} usable"]
        for part, counts in sorted(by_split.items()):
            labels = ", ".join(f"{label} {n}" for label, n in sorted(counts.items()))
            lines.append(f"  {part}: {sum(counts.values())} ({labels})")
        errors = Counter(r["error"].split(":")[0] for r in self.rows if r.get("error"))
        for reason, n in sorted(errors.items()):
            lines.append(f"  {n} rows with an error: {reason}")
        for reason, ids in sorted(self.skipped.items()):
            shown = ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
            lines.append(f"  skipped {len(ids)}: {reason} ({shown})")
        return lines


def resolve_label(
    prepared: Prepared,
    native_id: str,
    word: str | None,
    code: str,
    label_set: LabelSet,
    keep_unlabeled: bool,
    own: LabelSet | None = None,
) -> tuple[bool, str | None]:
    """The label of ``label_set`` that a corpus's ``code`` (spelled out as ``word``, e.g. ``W`` → ``anger``)
    stands for: ``(True, label)``; ``(True, None)`` for a code outside the set when ``keep_unlabeled``; else
    ``(False, None)`` and the item is counted in ``prepared.skipped`` (never silently dropped).

    ``own`` is the corpus's own preset: a code is first read in it, then carried to another ``label_set``
    through :func:`vowelprompt.labels.label_map`, whose gaps are explicit (RAVDESS's *calm* has no
    counterpart in ``iemocap4``, although "calm" is a word for neutral there)."""
    if own is not None and own.name != label_set.name:
        own_label = _normalize(own, word)
        label = label_map(own, label_set).mapping.get(own_label) if own_label else None
    else:
        label = _normalize(label_set, word)
    if label is not None or keep_unlabeled:
        return True, label
    prepared.skip(f"label {code!r} outside {label_set.name}", native_id)
    return False, None


def _normalize(label_set: LabelSet, word: str | None) -> str | None:
    label = label_set.normalize(word) if word else None
    if label is None and word and "," in word:  # EmoBox's "pain, groan": any part that names a label
        label = next((x for x in map(label_set.normalize, word.split(",")) if x), None)
    return label


def _shuffled_by_label(items: list[tuple[str, str | None]], seed: str) -> Iterator[list[str]]:
    """The native ids of each label (labels in sorted order), sorted, then shuffled by
    ``random.Random(f"{seed}/{label}")``: the same lists whatever order the files were listed in."""
    by_label: dict[str, list[str]] = {}
    for native_id, label in items:
        by_label.setdefault(str(label), []).append(native_id)
    for label in sorted(by_label):
        ids = sorted(by_label[label])
        random.Random(f"{seed}/{label}").shuffle(ids)
        yield ids


def seeded_folds(items: list[tuple[str, str | None]], k: int, seed: str) -> dict[str, int]:
    """Deterministic random folds 1..k stratified by label: ``items`` are (native id, label); within each
    label the ids are sorted, shuffled by ``random.Random(seed)`` and dealt round-robin, so every fold gets
    the same share of every label (±1) whatever order the files were listed in."""
    folds: dict[str, int] = {}
    offset = 0
    for ids in _shuffled_by_label(items, seed):
        for i, native_id in enumerate(ids):
            folds[native_id] = (offset + i) % k + 1
        offset += len(ids)  # the next label starts where this one stopped: fold sizes stay balanced
    return folds


def seeded_split(items: list[tuple[str, str | None]], test_share: float, seed: str) -> dict[str, str]:
    """A deterministic random train/test split stratified by label (``test_share`` of each label in test,
    rounded), speaker-dependent: ``{native id: "train" | "test"}``."""
    split: dict[str, str] = {}
    for ids in _shuffled_by_label(items, seed):
        n_test = round(len(ids) * test_share)
        for i, native_id in enumerate(ids):
            split[native_id] = "test" if i < n_test else "train"
    return split
