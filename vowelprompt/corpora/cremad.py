"""CREMA-D (91 actors, 7,442 clips): ``AudioWAV/AAAA_SSS_EEE_LL.wav`` and the corpus's CSV files.

``AAAA`` actor 1001–1091, ``SSS`` one of twelve fixed sentences (:data:`SENTENCES`), ``EEE`` emotion
(ANG DIS FEA HAP NEU SAD), ``LL`` level (LO MD HI XX). ``VideoDemographics.csv`` gives each actor's sex and
age; ``processedResults/tabulatedVotes.csv``, where present, the raters' votes per clip (``label_votes``:
counts per label of the set, by the corpus's letter A D F H N S where the set has none). A clip listed
in the votes but absent from ``AudioWAV/`` is an error row, as is a wav that is a **Git LFS pointer**
(the corpus is distributed through Git LFS: a zip download holds text stubs starting ``version
https://git-lfs``).

Protocol (docs/corpora.md): EmoBox's single random 75/25 speaker-dependent split, stratified by label
and seeded (:func:`~vowelprompt.corpora.base.seeded_split`, seed ``"crema-d"``) → ``split`` train/test.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from vowelprompt.corpora.base import Prepared, media_problem, read_text, resolve_label, row, seeded_split
from vowelprompt.labels import get_label_set

NAME = "crema-d"
DEFAULT_LABELS = "cremad6"

EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
#: Vote columns of tabulatedVotes.csv → concept words.
VOTE_COLUMNS = {"A": "anger", "D": "disgust", "F": "fear", "H": "happy", "N": "neutral", "S": "sad"}
TEST_SHARE = 0.25

_NAME = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})")


def prepare(root: Path, labels: str | None = None, keep_unlabeled: bool = False) -> Prepared:
    """One row per clip of the CREMA-D folder ``root`` (module docstring)."""
    root = Path(root)
    label_set, own = get_label_set(labels or DEFAULT_LABELS), get_label_set(DEFAULT_LABELS)
    wav_dir = root / "AudioWAV" if (root / "AudioWAV").is_dir() else root
    actors = {r["ActorID"].strip(): r for r in _csv(root / "VideoDemographics.csv") if r.get("ActorID")}
    votes = {
        Path(r["fileName"].strip()).stem: r
        for r in _csv(root / "processedResults" / "tabulatedVotes.csv")
        if (r.get("fileName") or "").strip()
    }
    out = Prepared([])
    found: list[tuple[str, dict]] = []
    for stem in sorted({p.stem for p in wav_dir.glob("*.wav")} | set(votes)):
        m = _NAME.fullmatch(stem)
        if not m:
            out.skip("file name not AAAA_SSS_EEE_LL", stem)
            continue
        actor, sentence, code, level = m.groups()
        ok, label = resolve_label(out, stem, EMOTIONS.get(code), code, label_set, keep_unlabeled, own)
        if not ok:
            continue
        info = actors.get(actor, {})
        path = wav_dir / f"{stem}.wav"
        found.append(
            (
                stem,
                dict(
                    audio=path.absolute(),
                    text=SENTENCES.get(sentence, ""),
                    lang="en",
                    speaker=actor,
                    gender={"male": "male", "female": "female"}.get(info.get("Sex", "").strip().lower()),
                    age=_int(info.get("Age")),
                    label=label,
                    raw_label=code,
                    label_set=label_set.name,
                    level=LEVELS.get(level),
                    label_votes=_votes(votes.get(stem), label_set),
                    error=media_problem(path),
                ),
            )
        )
    split = seeded_split([(nid, f["label"]) for nid, f in found], TEST_SHARE, seed=NAME)
    for native_id, fields in found:
        out.rows.append(row(NAME, native_id, split=split[native_id], **fields))
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file() or media_problem(path):  # absent, or itself a Git LFS stub
        return []
    return list(csv.DictReader(io.StringIO(read_text(path))))


def _votes(record: dict[str, str] | None, label_set) -> dict[str, int] | None:
    """Votes by label of the set (by the corpus's letter where the set has no such label)."""
    if not record:
        return None
    votes: dict[str, int] = {}
    for code, word in VOTE_COLUMNS.items():
        n = _int(record.get(code))
        if n:
            key = label_set.normalize(word) or code
            votes[key] = votes.get(key, 0) + n
    return votes


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None
