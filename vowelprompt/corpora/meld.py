"""MELD (``MELD.Raw/``) as a manifest: one row per CSV row of the three official splits.

What is read (docs/corpora.md, "IEMOCAP and MELD"): ``train_sent_emo.csv``, ``dev_sent_emo.csv`` and
``test_sent_emo.csv`` (in the root or in ``train/``, ``dev/``, ``test/``), decoded as UTF-8 or else cp1252
(the release's CSVs carry cp1252 bytes: ``\\x85 \\x91–\\x97 \\xa0``), and the clips in ``train_splits/``,
``dev_splits_complete/`` and ``output_repeated_splits_test/`` (in the root or in the split's folder).

* Ids restart in every split (``dia0_utt0`` is in train, dev and test), so the row id carries the split:
  ``meld-dev-dia0_utt0``; ``dialogue`` is ``dev-dia0``, ``turn`` the ``Utterance_ID``.
* ``speaker`` is the name in the CSV (MELD has no gender); ``label`` is the ``Emotion`` in the chosen set
  (``meld7`` by default), ``raw_label`` the ``Emotion`` as written; ``Sentiment`` is kept as ``sentiment``,
  and ``Season``, ``Episode`` and the SRT ``StartTime``/``EndTime`` (in seconds of the episode) too.
* ``audio`` is the ``.mp4`` clip (AAC, stereo or 5.1). A CSV row whose clip is missing, empty or a Git LFS
  pointer is a row with ``error``; a clip without a CSV row, and a file in a clip folder that is not a
  ``dia<D>_utt<U>.mp4`` (``final_videos_test…``, ``._`` resource forks), is skipped and named.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from vowelprompt.corpora.base import Prepared, media_problem, read_text, row
from vowelprompt.errors import ConfigError
from vowelprompt.labels import get_label_set

DATASET = "meld"
DEFAULT_LABELS = "meld7"
#: Split → (CSV file, clip folder).
SPLITS: dict[str, tuple[str, str]] = {
    "train": ("train_sent_emo.csv", "train_splits"),
    "dev": ("dev_sent_emo.csv", "dev_splits_complete"),
    "test": ("test_sent_emo.csv", "output_repeated_splits_test"),
}
COLUMNS = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")
CLIP = re.compile(r"^dia(\d+)_utt(\d+)\.mp4$")
_SRT = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*$")


def srt_seconds(text: str | None) -> float | None:
    """``"00:20:57,256"`` → 1257.256; None for anything else.

    >>> srt_seconds("00:20:57,256"), srt_seconds("n/a")
    (1257.256, None)
    """
    match = _SRT.match(text or "")
    if not match:
        return None
    h, m, s, ms = match.groups()
    return round(int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000, 3)


def _first(*paths: Path) -> Path | None:
    return next((p for p in paths if p.exists()), None)


def find_files(root: str | Path) -> tuple[Path, dict[str, tuple[Path | None, Path | None]]]:
    """The release folder and, per split, its CSV and clip folder (None where absent)."""
    root = Path(root)
    if (root / "MELD.Raw").is_dir():
        root = root / "MELD.Raw"
    found = {
        split: (
            _first(root / name, root / split / name),
            _first(root / folder, root / split / folder),
        )
        for split, (name, folder) in SPLITS.items()
    }
    if not any(csv_path for csv_path, _ in found.values()):
        names = ", ".join(name for name, _ in SPLITS.values())
        raise ConfigError(
            f"{root} is not MELD: expected {names} in it or in its train/, dev/, test/ folders "
            "(the MELD.Raw folder)"
        )
    return root, found


def read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` for every data row of a MELD CSV; a ConfigError for a wrong header."""
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"{path}: not a MELD CSV, no column {', '.join(missing)}")
    try:
        return [(reader.line_num, r) for r in reader]
    except csv.Error as exc:
        raise ConfigError(f"{path}: line {reader.line_num}: {exc}") from None


def prepare(root: str | Path, labels: str | None = None, keep_unlabeled: bool = False) -> Prepared:
    """Every MELD utterance under ``root`` as a manifest row (module docstring)."""
    root, found = find_files(root)
    label_set = get_label_set(labels or DEFAULT_LABELS)
    out = Prepared(rows=[])
    for split, (csv_path, folder) in found.items():
        if csv_path is None:
            out.skip(f"no {SPLITS[split][0]}: split not prepared", split)
            continue
        clips = _clips(folder, split, out)
        seen: set[str] = set()
        for line, fields in read_csv(csv_path):
            dia, utt = (fields.get("Dialogue_ID") or "").strip(), (fields.get("Utterance_ID") or "").strip()
            if not (dia.isdigit() and utt.isdigit()):
                out.skip("CSV row without a numeric Dialogue_ID/Utterance_ID", f"{csv_path.name} line {line}")
                continue
            name = f"dia{int(dia)}_utt{int(utt)}"
            if name in seen:
                out.skip("a second CSV row for the same clip", f"{split}-{name}")
                continue
            seen.add(name)
            emotion = (fields.get("Emotion") or "").strip()
            label = label_set.normalize(emotion) if emotion else None
            if label is None and not keep_unlabeled:
                out.skip(f"emotion {emotion!r} is outside {label_set.name}", f"{split}-{name}")
                continue
            clips.pop(name, None)
            audio = (folder or csv_path.parent / SPLITS[split][1]) / f"{name}.mp4"
            out.rows.append(_row(split, name, int(dia), int(utt), fields, audio, label, label_set.name))
        for name in sorted(clips, key=_clip_order):
            out.skip("media without a CSV row", f"{split}-{name}")
    return out


def _clip_order(name: str) -> tuple[int, int]:
    dia, utt = CLIP.match(f"{name}.mp4").groups()
    return int(dia), int(utt)


def _clips(folder: Path | None, split: str, out: Prepared) -> dict[str, Path]:
    """The clips of a split's folder by name; other files there are skipped and named."""
    clips: dict[str, Path] = {}
    if folder is None or not folder.is_dir():
        return clips
    for path in sorted(folder.iterdir()):
        if CLIP.match(path.name):
            clips[path.stem] = path
        elif path.is_file():
            out.skip("file in a clip folder that is not dia<D>_utt<U>.mp4", f"{split}/{path.name}")
    return clips


def _row(split, name, dia, utt, fields, audio, label, label_set) -> dict:
    text = " ".join((fields.get("Utterance") or "").split())  # \xa0 and line breaks become spaces
    season, episode = (fields.get("Season") or "").strip(), (fields.get("Episode") or "").strip()
    return row(
        DATASET,
        f"{split}-{name}",
        audio,
        text=text,
        lang="en",
        speaker=(fields.get("Speaker") or "").strip() or None,
        label=label,
        raw_label=(fields.get("Emotion") or "").strip() or None,
        label_set=label_set,
        split=split,
        dialogue=f"{split}-dia{dia}",
        turn=utt,
        error=media_problem(audio),
        sentiment=(fields.get("Sentiment") or "").strip() or None,
        season=int(season) if season.isdigit() else None,
        episode=int(episode) if episode.isdigit() else None,
        start_s=srt_seconds(fields.get("StartTime")),
        end_s=srt_seconds(fields.get("EndTime")),
    )
