"""Read EmoDB's manual phone labels (``lablaut/<utterance>xx.lablaut``) into words and phones.

EmoDB (docs/corpora.md) ships a narrow phonetic transcription of every utterance, labelled by hand. The
files are ESPS/waves+ ``xlabel`` files: a header of ``key value`` lines (``signal``, ``type``, ``color``,
``separator``, ``nfields`` …) up to a line that is a lone ``#``, then one line per label::

        0.085000  121 Q
        0.183000  121 a:
        0.240000  121 n [+lar]

a time in seconds, a colour number and the label: a German SAMPA phone, possibly followed by markers of
voice quality or articulation (``+lar``/``-xyz`` words, bracketed or parenthesised notes), which are
dropped here (only the phone is kept); with ``nfields`` above 1 the fields are split by the header's
``separator`` (``;``) and the first is the phone. (The lines above illustrate the layout public readers of
EmoDB parse; they are not copied from the corpus.)

**What the time means is not documented with the corpus.** In the xlabel convention each time is the *end*
of its label's segment (the first segment starts at 0), and one public reader of EmoDB takes the last time
as the utterance's duration; another reads each time as the segment's *start*. :func:`read_lablaut` follows
the xlabel convention, unless the first time is 0 (a segment cannot end at 0): then the times are starts
and the last label, whose end is unknown, gets ``end_s`` if given, else is dropped.

Phones are converted from SAMPA to IPA (``E`` → ``ɛ``, ``6`` → ``ɐ``, ``aI`` → ``aɪ``), the symbols of
MFA's ``german_mfa`` model, so :mod:`vowelprompt.align.vowels` knows its vowels and an aligner's output can
be scored against them. The files hold no words: each stretch of phones between two pauses becomes one
:class:`~vowelprompt.records.Word` whose text is its IPA string (``pron_source="alignment"``).
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

from vowelprompt.align.vowels import NON_SPEECH
from vowelprompt.errors import AlignmentError
from vowelprompt.records import Phone, Word

#: German SAMPA → IPA (vowels, diphthongs and the consonants whose symbols differ).
SAMPA_IPA: dict[str, str] = {
    "a": "a",
    "a:": "aː",
    "e": "e",
    "e:": "eː",
    "E": "ɛ",
    "E:": "ɛː",
    "i": "i",
    "i:": "iː",
    "I": "ɪ",
    "o": "o",
    "o:": "oː",
    "O": "ɔ",
    "u": "u",
    "u:": "uː",
    "U": "ʊ",
    "y": "y",
    "y:": "yː",
    "Y": "ʏ",
    "2": "ø",
    "2:": "øː",
    "9": "œ",
    "@": "ə",
    "6": "ɐ",
    "aI": "aɪ",
    "aU": "aʊ",
    "OY": "ɔʏ",
    "OI": "ɔʏ",
    "a~": "ɑ̃",
    "E~": "ɛ̃",
    "O~": "ɔ̃",
    "9~": "œ̃",
    "S": "ʃ",
    "Z": "ʒ",
    "C": "ç",
    "N": "ŋ",
    "R": "ʁ",
    "Q": "ʔ",
    "?": "ʔ",
    "tS": "tʃ",
    "dZ": "dʒ",
}

#: Labels that mark a pause or a non-speech event rather than a phone.
PAUSES = NON_SPEECH | {"#", "_", "p:", "<p:>", "<p>", ".", "..", "...", "-", "|", "pause", "<usb>", "<nib>"}

_MARKER = re.compile(r"(?<!\S)[+-][a-z]\w*")  # +lar, -voc: voice-quality and articulation markers
_NOTE = re.compile(r"[\[\](),{}]")


def read_lablaut(path: str | Path, end_s: float | None = None) -> list[Word]:
    """Words (pause-delimited stretches) with their phones (IPA) from an EmoDB ``.lablaut`` file.

    ``end_s`` (the audio's duration) closes the last segment when the times turn out to be starts (module
    docstring). Raises :class:`~vowelprompt.errors.AlignmentError`, one line naming the file, for a missing
    or unreadable file, no ``#`` line, a line without a time, or times that go backwards.
    """
    marks = _marks(Path(path))
    if not marks:
        return []
    if marks[0][0] <= 5e-4:  # a time of 0 cannot end a segment: the times are starts
        bounds = [(t, nxt) for (t, _), (nxt, _) in pairwise(marks)]
        if end_s is not None and end_s > marks[-1][0]:
            bounds.append((marks[-1][0], end_s))
    else:
        bounds = [(prev, t) for prev, t in zip([0.0] + [t for t, _ in marks[:-1]], [t for t, _ in marks])]
    words: list[Word] = []
    chunk: list[Phone] = []
    for (start, end), (_, label) in zip(bounds, marks):
        if label is None or end <= start:
            _close(words, chunk)
            chunk = []
            continue
        chunk.append(Phone(label, round(start, 6), round(end, 6)))
    _close(words, chunk)
    return words


def sampa_to_ipa(label: str) -> str | None:
    """The IPA phone of a lablaut label, or None for a pause: markers and notes dropped, a stress mark
    (``'``, ``"``, ``%``) and a SAMPA diacritic (``_h``) stripped, the rest converted by :data:`SAMPA_IPA`
    (a symbol it does not list is kept as written).

    >>> sampa_to_ipa("a: [+lar]"), sampa_to_ipa("'E"), sampa_to_ipa("<p:>"), sampa_to_ipa("t_h")
    ('aː', 'ɛ', None, 't')
    >>> sampa_to_ipa("2:;+lar"), sampa_to_ipa("Q"), sampa_to_ipa("")
    ('øː', 'ʔ', None)
    """
    text = _NOTE.sub(" ", _MARKER.sub(" ", label.split(";")[0])).split()  # ";": the header's separator
    if not text or text[0] in PAUSES or text[0].startswith("<"):
        return None
    phone = text[0].lstrip("'\"%")
    if phone not in SAMPA_IPA and "_" in phone.strip("_"):
        phone = phone.split("_")[0]
    if not phone or phone in PAUSES:
        return None
    return SAMPA_IPA.get(phone, phone)


def _marks(path: Path) -> list[tuple[float, str | None]]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AlignmentError(f"cannot read phone labels {path}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # the corpus's other text files are Latin-1
    lines = text.splitlines()
    try:
        body = lines[[line.strip() for line in lines].index("#") + 1 :]
    except ValueError:
        raise AlignmentError(f"{path}: no '#' line ends the header; not an xlabel (lablaut) file") from None
    marks: list[tuple[float, str | None]] = []
    for number, line in enumerate(body, start=len(lines) - len(body) + 1):
        fields = line.split(None, 2)
        if not fields:
            continue
        try:
            time = float(fields[0])
        except ValueError:
            raise AlignmentError(
                f"{path}:{number}: expected 'TIME COLOUR LABEL', got {line.strip()!r}"
            ) from None
        if marks and time < marks[-1][0]:
            raise AlignmentError(f"{path}:{number}: time {time} goes back before {marks[-1][0]}")
        label = (
            fields[2]
            if len(fields) > 2
            else (fields[1] if len(fields) == 2 and not fields[1].isdigit() else "")
        )
        marks.append((time, sampa_to_ipa(label)))
    return marks


def _close(words: list[Word], chunk: list[Phone]) -> None:
    if chunk:
        text = "".join(p.label for p in chunk)
        words.append(Word(text, chunk[0].start_s, chunk[-1].end_s, tuple(chunk), "alignment"))
