"""CaFE, the Canadian French emotional speech corpus (12 actors, 936 clips): ``CaFE_48k/<Émotion>/<Faible|
Fort>/AA-E-I-S.wav`` (neutral has no intensity folder).

Everything comes from the **file name**, never the folders: accented folder names often unpack as
mojibake (``ColŠre``, ``D‚go–t``). ``AA`` actor 01–12 (odd male, even female), ``E`` emotion letter,
``I`` intensity (1 faible, 2 fort), ``S`` one of six fixed sentences (:data:`SENTENCES`). A file name found
twice (the same archive unpacked with and without mojibake, or both the 48 and 192 kHz releases) keeps
its first path (sorted, ``CaFE_48k`` before ``CaFE_192k``) and the other is reported as skipped.

Protocol (docs/corpora.md): EmoBox's three speaker-independent folds (:data:`FOLDS`, the test actors).
"""

from __future__ import annotations

import re
from pathlib import Path

from vowelprompt.corpora.base import Prepared, media_problem, resolve_label, row
from vowelprompt.labels import get_label_set

NAME = "cafe"
DEFAULT_LABELS = "cafe7"

EMOTIONS = {
    "C": "anger",  # colère
    "D": "disgust",  # dégoût
    "J": "happiness",  # joie
    "N": "neutral",
    "P": "fear",  # peur
    "S": "surprise",
    "T": "sadness",  # tristesse
}
INTENSITY = {"1": "weak", "2": "strong"}  # faible, fort
SENTENCES = {
    "1": "Un cheval fou dans mon jardin",
    "2": "Deux ânes aigris au pelage brun",
    "3": "Trois cygnes aveugles au bord du lac",
    "4": "Quatre vieilles truies éléphantesques",
    "5": "Cinq pumas fiers et passionnés",
    "6": "Six ours aimants domestiqués",
}
#: EmoBox's folds: fold k holds the test actors of FOLDS[k - 1].
FOLDS = (("01", "07", "08", "10"), ("02", "04", "09", "12"), ("03", "05", "06", "11"))

_NAME = re.compile(r"(\d\d)-([A-Z])-([12])-([1-6])")


def prepare(root: Path, labels: str | None = None, keep_unlabeled: bool = False) -> Prepared:
    """One row per ``*.wav`` anywhere under ``root`` whose name is ``AA-E-I-S`` (module docstring)."""
    root = Path(root)
    label_set, own = get_label_set(labels or DEFAULT_LABELS), get_label_set(DEFAULT_LABELS)
    fold_of = {actor: k for k, actors in enumerate(FOLDS, start=1) for actor in actors}
    out = Prepared([])
    seen: dict[str, Path] = {}
    # the 48 kHz release first: where both releases are unpacked, the 192 kHz copies are the duplicates
    for path in sorted(root.rglob("*.wav"), key=lambda p: ("CaFE_192k" in p.parts, p)):
        m = _NAME.fullmatch(path.stem)
        if not m:
            out.skip(
                "file name not AA-E-I-S (actor, emotion, intensity, sentence)", str(path.relative_to(root))
            )
            continue
        if path.stem in seen:
            out.skip(
                f"file name found twice (kept {seen[path.stem].relative_to(root)})",
                str(path.relative_to(root)),
            )
            continue
        seen[path.stem] = path
        actor, code, intensity, sentence = m.groups()
        ok, label = resolve_label(out, path.stem, EMOTIONS.get(code), code, label_set, keep_unlabeled, own)
        if not ok:
            continue
        out.rows.append(
            row(
                NAME,
                path.stem,
                path.absolute(),
                text=SENTENCES[sentence],
                lang="fr",
                speaker=actor,
                gender="male" if int(actor) % 2 else "female",
                label=label,
                raw_label=code,
                label_set=label_set.name,
                fold=fold_of.get(actor),
                intensity=INTENSITY[intensity],
                error=media_problem(path),
            )
        )
    return out
