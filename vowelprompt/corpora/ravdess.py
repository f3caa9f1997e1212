"""RAVDESS speech (24 actors, 1,440 clips): ``Audio_Speech_Actors_01-24/Actor_XX/MM-VV-EE-II-SS-RR-AA.wav``.

Seven two-digit fields: ``MM`` modality (03 audio-only), ``VV`` vocal channel (01 speech, 02 song: songs
are skipped and counted), ``EE`` emotion (:data:`EMOTIONS`), ``II`` intensity (01 normal, 02 strong),
``SS`` one of two fixed sentences, ``RR`` repetition, ``AA`` actor (odd male, even female). The actor and
everything else come from the file name, not the ``Actor_XX`` folder.

Labels: ``ravdess8`` keeps *calm* apart from *neutral*. Protocol (docs/corpora.md): EmoBox's six
speaker-independent folds (:data:`FOLDS`, the test actors).
"""

from __future__ import annotations

import re
from pathlib import Path

from vowelprompt.corpora.base import Prepared, media_problem, resolve_label, row
from vowelprompt.labels import get_label_set

NAME = "ravdess"
DEFAULT_LABELS = "ravdess8"

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
SENTENCES = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
INTENSITY = {"01": "normal", "02": "strong"}
#: EmoBox's folds: fold k holds the test actors of FOLDS[k - 1].
FOLDS = (
    ("01", "11", "20", "21"),
    ("04", "10", "12", "14"),
    ("08", "09", "19", "23"),
    ("03", "05", "07", "24"),
    ("02", "15", "16", "18"),
    ("06", "13", "17", "22"),
)

_NAME = re.compile(r"(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)")


def prepare(root: Path, labels: str | None = None, keep_unlabeled: bool = False) -> Prepared:
    """One row per speech ``*.wav`` anywhere under ``root`` (module docstring)."""
    root = Path(root)
    label_set, own = get_label_set(labels or DEFAULT_LABELS), get_label_set(DEFAULT_LABELS)
    fold_of = {actor: k for k, actors in enumerate(FOLDS, start=1) for actor in actors}
    out = Prepared([])
    seen: set[str] = set()
    for path in sorted(root.rglob("*.wav")):
        m = _NAME.fullmatch(path.stem)
        if not m:
            out.skip("file name not MM-VV-EE-II-SS-RR-AA", str(path.relative_to(root)))
            continue
        _, channel, code, intensity, sentence, repetition, actor = m.groups()
        if channel != "01":
            out.skip("song (vocal channel 02), not speech", path.stem)
            continue
        if path.stem in seen:
            out.skip("file name found twice", str(path.relative_to(root)))
            continue
        seen.add(path.stem)
        ok, label = resolve_label(out, path.stem, EMOTIONS.get(code), code, label_set, keep_unlabeled, own)
        if not ok:
            continue
        out.rows.append(
            row(
                NAME,
                path.stem,
                path.absolute(),
                text=SENTENCES.get(sentence, ""),
                lang="en",
                speaker=actor,
                gender="male" if int(actor) % 2 else "female",
                label=label,
                raw_label=code,
                label_set=label_set.name,
                fold=fold_of.get(actor),
                intensity=INTENSITY.get(intensity),
                repetition=int(repetition),
                error=media_problem(path),
            )
        )
    return out
