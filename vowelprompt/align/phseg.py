"""Read the Sphinx forced alignments that IEMOCAP ships (``sentences/ForcedAlignment/<dialog>/<utt>.phseg``
and the ``.wdseg`` beside it) into words with their phones, so that ``annotate`` can use them as the
alignment and the aligners can be scored against real speech (docs/corpora.md, "IEMOCAP and MELD").

Both files are Sphinx-3 segmentations at 100 frames per second: a header line (``SFrm EFrm SegAScr Phone``
or ``… Word``), one segment a line — start frame, end frame (inclusive), acoustic score, label — and a
closing ``Total score:`` line. A phone label may carry its triphone context and word position, either
glued on (``AH(HH,L)b``) or as further columns (``AH HH L i``): only the base phone (``AH``) is kept. Word
labels carry a pronunciation variant (``WHAT(2)``), which is dropped; words are lower-cased. Silences
(``SIL``, ``<sil>``, ``<s>``, ``</s>``) and fillers (``+BREATH+``, ``++LAUGH++``) are not words or phones
and are left out. Each phone goes to the word whose span holds its midpoint.

>>> _phone_label("AH(HH,L)b"), _word_label("WHAT(2)"), _word_label("<sil>"), _phone_label("+BREATH+")
('AH', 'what', None, None)
"""

from __future__ import annotations

import re
from pathlib import Path

from vowelprompt.align.textgrid import words_with_phones
from vowelprompt.errors import AlignmentError
from vowelprompt.records import Word

#: Sphinx frames per second.
FRAME_RATE = 100
#: Phone labels that are silence, not speech (fillers, ``+NOISE+``, are recognised by their ``+``).
SILENCE_PHONES = frozenset({"SIL", "SILB", "SILE", "SP", "<SIL>"})
_LINE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(-?\d+)\s+(\S+)")


def _phone_label(raw: str) -> str | None:
    label = raw.split("(", 1)[0].strip()
    if not label or label.startswith("+") or label.upper() in SILENCE_PHONES:
        return None
    return label.upper()


def _word_label(raw: str) -> str | None:
    word = re.sub(r"\(\d+\)$", "", raw.strip())
    if not word or word.startswith(("<", "+", "[")) or word.upper() in SILENCE_PHONES:
        return None
    return word.lower()


def read_segments(path: str | Path) -> list[tuple[float, float, str]]:
    """``(start_s, end_s, raw label)`` for every segment of a ``.phseg`` or ``.wdseg`` file, in file order.

    Raises :class:`AlignmentError` (one line, naming the file) for a missing or unreadable file or one
    without a single segment line.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise AlignmentError(f"{path}: cannot read the Sphinx segmentation ({exc.strerror})") from None
    segments = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            first, last, _score, label = match.groups()
            segments.append((int(first) / FRAME_RATE, (int(last) + 1) / FRAME_RATE, label))
    if not segments:
        raise AlignmentError(f"{path}: no segment lines (expected 'SFrm EFrm SegAScr label' rows)")
    return segments


def read_phseg(path: str | Path) -> list[Word]:
    """Words with their phones from a ``.phseg`` file and the ``.wdseg`` file beside it.

    Raises :class:`AlignmentError` when either file is missing or has no segments: without the words the
    phones cannot be named by word, so the item fails with that reason rather than being guessed.
    """
    path = Path(path)
    segments = read_segments(path)
    wdseg = path.with_suffix(".wdseg")
    if not wdseg.is_file():
        raise AlignmentError(f"{path}: no word segmentation {wdseg.name} beside it")
    words = [(s, e, w) for s, e, raw in read_segments(wdseg) if (w := _word_label(raw))]
    phones = [(s, e, label) for s, e, raw in segments if (label := _phone_label(raw)) is not None]
    return words_with_phones(words, phones)
