"""ASVP-ESD (speech and non-speech emotional sounds from the wild): ``Audio/actor_XX/*.wav``.

Names are 8–12 dash-separated two- or three-digit fields (a few contain a space, dropped from the id):
field [1] 01 speech / 02 non-speech, [2] emotion (:data:`EMOTIONS`), [3] intensity, [5] actor (even is
male, the reverse of RAVDESS), [8] the language where present (:data:`LANGUAGES`; ``und`` otherwise).
Fields count from 0. There are no transcripts: ``text`` is empty, so ``annotate --asr`` transcribes speech
clips. Non-speech clips (cries, laughter, breath: 63 % of the corpus) are kept with ``speech: false``: they
have no vowels, which is a result, not a failure. Emotion 13 (breath) and 17 (unknown) are outside
``asvp12``: skipped and counted (kept unlabelled with ``keep_unlabeled``).

Protocol (docs/corpora.md): EmoBox's single random 75/25 speaker-dependent split, stratified by label and
seeded (:func:`~vowelprompt.corpora.base.seeded_split`, seed ``"asvp-esd"``) → ``split`` train/test.
"""

from __future__ import annotations

import re
from pathlib import Path

from vowelprompt.corpora.base import Prepared, media_problem, resolve_label, row, seeded_split
from vowelprompt.labels import get_label_set

NAME = "asvp-esd"
DEFAULT_LABELS = "asvp12"

EMOTIONS = {
    "01": "boredom",
    "02": "neutral",
    "03": "happiness",
    "04": "sadness",
    "05": "anger",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
    "09": "excitement",
    "10": "pleasure",
    "11": "pain",
    "12": "disappointment",
    "13": "breath",
    "17": "unknown",
}
LANGUAGES = {"01": "zh", "02": "en", "04": "fr"}
INTENSITY = {"01": "normal", "02": "high"}
TEST_SHARE = 0.25

_FIELD = re.compile(r"\d{1,3}")


def prepare(root: Path, labels: str | None = None, keep_unlabeled: bool = False) -> Prepared:
    """One row per ``*.wav`` under ``root`` whose name has 8–12 numeric fields (module docstring)."""
    root = Path(root)
    label_set, own = get_label_set(labels or DEFAULT_LABELS), get_label_set(DEFAULT_LABELS)
    out = Prepared([])
    found: list[tuple[str, dict]] = []
    seen: dict[str, Path] = {}
    for path in sorted(root.rglob("*.wav")):
        fields = [f.strip() for f in path.stem.split("-")]
        if not 8 <= len(fields) <= 12 or not all(_FIELD.fullmatch(f) for f in fields):
            out.skip("file name not 8-12 dash-separated numbers", str(path.relative_to(root)))
            continue
        native_id = "-".join(fields)  # "03-01-02-01-01-01 -02" → "03-01-02-01-01-01-02"
        if native_id in seen:
            out.skip(f"same id as {seen[native_id].relative_to(root)}", str(path.relative_to(root)))
            continue
        seen[native_id] = path
        code = fields[2]
        ok, label = resolve_label(out, native_id, EMOTIONS.get(code), code, label_set, keep_unlabeled, own)
        if not ok:
            continue
        actor = fields[5]
        found.append(
            (
                native_id,
                dict(
                    audio=path.absolute(),
                    text="",
                    lang=LANGUAGES.get(fields[8], "und") if len(fields) > 8 else "und",
                    speaker=actor,
                    gender="male" if int(actor) % 2 == 0 else "female",
                    label=label,
                    raw_label=code,
                    label_set=label_set.name,
                    speech=fields[1] != "02",
                    intensity=INTENSITY.get(fields[3]),
                    error=media_problem(path),
                ),
            )
        )
    split = seeded_split([(nid, f["label"]) for nid, f in found], TEST_SHARE, seed=NAME)
    for native_id, fields in found:
        out.rows.append(row(NAME, native_id, split=split[native_id], **fields))
    return out
