"""MSP-Podcast (natural podcast speech, 8 primary emotions and valence/arousal/dominance on 1–7).

Layout: ``Audios/`` (older releases: ``Audio/``) with ``MSP-PODCAST_0001_0008.wav``; ``Transcripts/
<name>.txt`` (the text, where present; else ``text`` is empty and ``annotate --asr`` applies);
``Labels/labels_consensus.csv`` (older: ``labels_concensus.csv``) with ``FileName, EmoClass, EmoAct,
EmoVal, EmoDom, SpkrID, Gender, Split_Set``; ``Labels/labels_detailed.csv``, where present, one row per
rater: its ``EmoClass`` (or ``EmoClass_Major``) votes are counted into ``label_votes``.

``EmoClass``: A S H U F D C N as ``msp8``; O (other) and X (no agreement) are outside it (skipped and
counted, or kept unlabelled). ``vad`` holds the consensus dimensions on the corpus's 1–7 scale.

Protocol (docs/corpora.md): the official partition. ``Split_Set`` ``Train`` → ``train``; ``Development``
or ``Validation`` → ``dev``; ``Test``, ``Test1``, ``Test2``, ``Test3`` → ``test`` with ``test_set``
keeping which (``test1`` …). Releases without ``Split_Set`` list it in ``Partitions.txt`` (``Train;
MSP-PODCAST_0023_0048.wav``). Audio files with no label row are reported (skipped, counted).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from vowelprompt.corpora.base import Prepared, media_problem, read_text, resolve_label, row
from vowelprompt.errors import InputError
from vowelprompt.labels import get_label_set

NAME = "msp-podcast"
DEFAULT_LABELS = "msp8"

EMOTIONS = {
    "A": "angry",
    "S": "sad",
    "H": "happy",
    "U": "surprise",
    "F": "fear",
    "D": "disgust",
    "C": "contempt",
    "N": "neutral",
    "O": "other",
    "X": "no agreement",
}
SPLITS = {"train": "train", "development": "dev", "validation": "dev", "test": "test"}
GENDERS = {"male": "male", "female": "female"}


def prepare(root: Path, labels: str | None = None, keep_unlabeled: bool = False) -> Prepared:
    """One row per labelled file of the MSP-Podcast folder ``root`` (module docstring)."""
    root = Path(root)
    label_set, own = get_label_set(labels or DEFAULT_LABELS), get_label_set(DEFAULT_LABELS)
    audio_dir = next((root / d for d in ("Audios", "Audio") if (root / d).is_dir()), root / "Audios")
    consensus = next(
        (
            root / "Labels" / n
            for n in ("labels_consensus.csv", "labels_concensus.csv")
            if (root / "Labels" / n).is_file()
        ),
        None,
    )
    if consensus is None:
        raise InputError(f"{root}: no Labels/labels_consensus.csv; is this an MSP-Podcast folder?")
    partitions = _partitions(root / "Partitions.txt")
    votes = _detailed_votes(root / "Labels" / "labels_detailed.csv", label_set)
    out = Prepared([])
    listed: set[str] = set()
    for record in csv.DictReader(io.StringIO(read_text(consensus))):
        name = (record.get("FileName") or "").strip()
        if not name:
            continue
        stem = Path(name).stem
        if stem in listed:
            out.skip("listed twice in the labels", stem)
            continue
        listed.add(stem)
        code = (record.get("EmoClass") or "").strip()
        ok, label = resolve_label(out, stem, EMOTIONS.get(code), code, label_set, keep_unlabeled, own)
        if not ok:
            continue
        part = (record.get("Split_Set") or partitions.get(stem) or "").strip()
        split = SPLITS.get(part.lower().rstrip("0123456789"))
        transcript = root / "Transcripts" / f"{stem}.txt"
        speaker = (record.get("SpkrID") or "").strip()
        path = audio_dir / f"{stem}.wav"
        out.rows.append(
            row(
                NAME,
                stem,
                path.absolute(),
                text=" ".join(read_text(transcript).split()) if transcript.is_file() else "",
                lang="en",
                speaker=None if speaker.lower() in ("", "unknown") else speaker,
                gender=GENDERS.get((record.get("Gender") or "").strip().lower()),
                label=label,
                raw_label=code,
                label_set=label_set.name,
                split=split,
                test_set=part.lower() if split == "test" else None,
                label_votes=votes.get(stem),
                vad=_vad(record),
                error=media_problem(path),
            )
        )
    for path in sorted(audio_dir.glob("*.wav")):
        if path.stem not in listed:
            out.skip("audio file with no label row", path.stem)
    return out


def _vad(record: dict[str, str]) -> dict[str, float] | None:
    vad = {}
    for key, column in (("valence", "EmoVal"), ("arousal", "EmoAct"), ("dominance", "EmoDom")):
        try:
            vad[key] = float(record.get(column) or "")
        except ValueError:
            continue
    return vad or None


def _partitions(path: Path) -> dict[str, str]:
    """``Partitions.txt`` of older releases: ``Train; MSP-PODCAST_0023_0048.wav`` → {stem: "Train"}."""
    if not path.is_file():
        return {}
    parts = {}
    for line in read_text(path).splitlines():
        part, sep, name = line.partition(";")
        if sep and name.strip():
            parts[Path(name.strip()).stem] = part.strip()
    return parts


def _detailed_votes(path: Path, label_set) -> dict[str, dict[str, int]]:
    """Per-rater primary labels counted per file, by label of the set (the corpus's letter otherwise)."""
    if not path.is_file():
        return {}
    votes: dict[str, dict[str, int]] = {}
    for record in csv.DictReader(io.StringIO(read_text(path))):
        name = (record.get("FileName") or "").strip()
        raw = (record.get("EmoClass") or record.get("EmoClass_Major") or "").strip()
        if not name or not raw:
            continue
        word = EMOTIONS.get(raw, raw)
        key = label_set.normalize(word) or raw
        counts = votes.setdefault(Path(name).stem, {})
        counts[key] = counts.get(key, 0) + 1
    return votes
