"""Berlin EmoDB (German, 10 actors, 535 utterances): ``wav/SSTTTEV.wav`` and the manual phone labels.

Names ``03a01Fa``: speaker ``03``, text ``a01``, emotion letter ``F`` (German initial: Freude), version
``a``. The text comes from the corpus's ten fixed sentences (:data:`TEXTS`), gender and age from its speaker
table. Where ``lablaut/<name>xx.lablaut`` (or ``<name>.lablaut``) exists, its path goes in ``alignment``:
``annotate`` can take the hand-labelled phones as the alignment (:mod:`vowelprompt.align.lablaut`), and an
aligner can be scored against them.

Protocols (docs/corpora.md): ``fold`` — 5 random speaker-*dependent* folds as in EmoBox, stratified by
label and seeded (:func:`~vowelprompt.corpora.base.seeded_folds` with seed ``"emodb"``: the same files give
the same folds on any machine); ``speaker_fold`` — leave-one-speaker-out, 1–10 in the order of
:data:`SPEAKERS` (speaker ``03`` is fold 1, ``16`` fold 10).
"""

from __future__ import annotations

import re
from pathlib import Path

from vowelprompt.corpora.base import Prepared, media_problem, resolve_label, row, seeded_folds
from vowelprompt.labels import get_label_set

NAME = "emodb"
DEFAULT_LABELS = "emodb7"

#: Speaker → (gender, age).
SPEAKERS: dict[str, tuple[str, int]] = {
    "03": ("male", 31),
    "08": ("female", 34),
    "09": ("female", 21),
    "10": ("male", 32),
    "11": ("male", 26),
    "12": ("male", 30),
    "13": ("female", 32),
    "14": ("female", 35),
    "15": ("male", 25),
    "16": ("female", 31),
}

#: Emotion letter (German initial) → the concept word.
EMOTIONS = {
    "W": "anger",  # Wut
    "L": "boredom",  # Langeweile
    "E": "disgust",  # Ekel
    "A": "fear",  # Angst
    "F": "happiness",  # Freude
    "T": "sadness",  # Trauer
    "N": "neutral",
}

#: Text code → sentence.
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}

N_FOLDS = 5
_NAME = re.compile(r"(\d\d)([ab]\d\d)([A-Z])([a-z])")


def prepare(root: Path, labels: str | None = None, keep_unlabeled: bool = False) -> Prepared:
    """One row per ``wav/*.wav`` of the EmoDB folder ``root`` (module docstring)."""
    root = Path(root)
    label_set, own = get_label_set(labels or DEFAULT_LABELS), get_label_set(DEFAULT_LABELS)
    wav_dir = root / "wav" if (root / "wav").is_dir() else root
    out = Prepared([])
    found: list[tuple[str, dict]] = []
    # a name with phone labels but no wav is reported (an error row), not lost
    stems = {p.stem for p in wav_dir.glob("*.wav")} | {
        p.name.removesuffix(".lablaut").removesuffix("xx") for p in (root / "lablaut").glob("*.lablaut")
    }
    for stem in sorted(stems):
        path = wav_dir / f"{stem}.wav"
        m = _NAME.fullmatch(stem)
        if not m:
            out.skip("file name not SSTTTEV (speaker, text, emotion, version)", stem)
            continue
        speaker, text_code, code, _ = m.groups()
        ok, label = resolve_label(out, stem, EMOTIONS.get(code), code, label_set, keep_unlabeled, own)
        if not ok:
            continue
        gender, age = SPEAKERS.get(speaker, (None, None))
        found.append(
            (
                stem,
                dict(
                    audio=path.absolute(),
                    text=TEXTS.get(text_code, ""),
                    lang="de",
                    speaker=speaker,
                    gender=gender,
                    age=age,
                    label=label,
                    raw_label=code,
                    label_set=label_set.name,
                    speaker_fold=list(SPEAKERS).index(speaker) + 1 if speaker in SPEAKERS else None,
                    alignment=_lablaut(root, stem),
                    error=media_problem(path),
                ),
            )
        )
    folds = seeded_folds([(nid, f["label"]) for nid, f in found], N_FOLDS, seed=NAME)
    for native_id, fields in found:
        out.rows.append(row(NAME, native_id, fold=folds[native_id], **fields))
    return out


def _lablaut(root: Path, stem: str) -> Path | None:
    for name in (f"{stem}xx.lablaut", f"{stem}.lablaut"):
        path = root / "lablaut" / name
        if path.is_file():
            return path.absolute()
    return None
