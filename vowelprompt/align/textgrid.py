"""Read Montreal Forced Aligner TextGrids into words and phones, and write annotated TextGrids back.

MFA writes one TextGrid per audio file with an interval tier ``words`` and an interval tier ``phones``;
when a file holds several speakers the tiers are named ``SPEAKER - words`` and ``SPEAKER - phones``.
Pauses are blank intervals (MFA ≥ 2 cleans up ``sil``/``sp``; MFA 1 and ``--no_textgrid_cleanup`` keep
them, with ``<eps>`` for silent words). A word MFA could not pronounce (out of its dictionary) is one
``spn`` phone under a word labelled ``<unk>`` (MFA 1/2) or with its own text (MFA 3).

Reading lets anyone who already aligned a corpus (with MFA, by hand in Praat, or with another tool that
writes the same tiers) skip alignment; writing gives a TextGrid that opens in Praat with the vowel
descriptors as extra tiers, so a person can see and hear what the model is told.

Everything goes through praatio, which reads long and short text TextGrids in UTF-8 or UTF-16.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from pathlib import Path

from praatio import textgrid as tgio
from praatio.utilities.errors import PraatioException

from vowelprompt.align.vowels import NON_SPEECH
from vowelprompt.errors import AlignmentError
from vowelprompt.records import DESCRIPTORS, Annotation, Phone, Word

#: Word labels that mark a pause rather than a word: dropped on reading.
PAUSE_WORDS = frozenset({"", "sil", "sp", "<eps>", "<sil>", "SIL", "SP"})
#: Phone labels that carry no phone: never kept in ``Word.phones``. ``spn`` is MFA's "spoken noise",
#: the single phone it gives a word missing from its dictionary.
NON_SPEECH_PHONES = NON_SPEECH | {"<eps>"}

#: Decimal places written: MFA writes 6 (1 µs), far finer than its 10 ms frame step.
_TIME_DECIMALS = 6
_SPEAKER_TIER = re.compile(r"(.+?)\s*-\s*(words|phones)")


def read_alignment(path: str | Path, speaker: str | None = None) -> list[Word]:
    """Words with their phones from an MFA-style TextGrid, or from a corpus's own phone segmentation: a
    Sphinx ``.phseg`` (IEMOCAP; :func:`vowelprompt.align.phseg.read_phseg`) or an EmoDB label file (in a
    folder named ``lablaut`` or ending ``.lablaut``; :func:`vowelprompt.align.lablaut.read_lablaut`).

    Tiers: ``words`` and ``phones``, or ``SPEAKER - words`` and ``SPEAKER - phones``; ``speaker`` picks
    one speaker, else the plain tiers or the first speaker's are used. Pause words (blank, ``sil``,
    ``sp``, ``<eps>``) are dropped, and so are non-speech phones (blank, ``sil``, ``sp``, ``spn``).
    Each phone goes to the word whose interval holds its midpoint; phone labels are kept as written
    (``AH0`` keeps its stress digit). Words get ``pron_source="alignment"``, except a word left with no
    phone, such as an out-of-dictionary word MFA aligned as ``spn``: it keeps its text and times but
    has no phones and ``pron_source="unaligned"``, so it yields no vowels.

    Raises :class:`~vowelprompt.errors.AlignmentError` (one line, naming the file) for a missing or
    unreadable file, missing tiers or an unknown speaker.

    >>> words = read_alignment("tests/fixtures/textgrids/mfa3_english_us_arpa.TextGrid")
    >>> [(w.text, [p.label for p in w.phones]) for w in words[:2]]
    [('hello', ['HH', 'AH0', 'L', 'OW1']), ('this', ['DH', 'IH1', 'S'])]
    >>> words[3].text, words[3].phones, words[3].pron_source
    ('vowelprompt', (), 'unaligned')
    """
    kind = alignment_format(Path(path))
    if kind == "phseg":
        from vowelprompt.align.phseg import read_phseg

        return read_phseg(path)
    if kind == "lablaut":
        from vowelprompt.align.lablaut import read_lablaut

        return read_lablaut(path)
    tg = _open(Path(path))
    words_tier, phones_tier = _tier_pair(tg, Path(path), speaker)
    # praatio has stripped the labels and refused intervals that do not move forward in time
    spans = [(start, end, label) for start, end, label in words_tier.entries if label not in PAUSE_WORDS]
    phones = [entry for entry in phones_tier.entries if entry[2] not in NON_SPEECH_PHONES]
    return words_with_phones(spans, phones)


def words_with_phones(
    words: list[tuple[float, float, str]], phones: Iterable[tuple[float, float, str]]
) -> list[Word]:
    """Words (``(start_s, end_s, text)``, in time order) with the phones whose midpoints fall inside them.

    A phone under no word (a pause in the words tier) belongs to no word and is dropped. Words get
    ``pron_source="alignment"``, or ``"unaligned"`` when no phone fell inside them (no vowels then)."""
    starts = [start for start, _, _ in words]
    held: list[list[Phone]] = [[] for _ in words]
    for start, end, label in phones:
        mid = (start + end) / 2
        i = bisect.bisect_right(starts, mid) - 1
        if i >= 0 and mid < words[i][1]:
            held[i].append(Phone(label, start, end))
    return [
        Word(
            text=text,
            start_s=start,
            end_s=end,
            phones=tuple(word_phones),
            pron_source="alignment" if word_phones else "unaligned",
        )
        for (start, end, text), word_phones in zip(words, held, strict=True)
    ]


def alignment_format(path: Path) -> str:
    """``phseg``, ``lablaut`` or ``textgrid``: which reader a file of alignments needs."""
    if path.suffix.lower() == ".phseg":
        return "phseg"
    if path.suffix.lower() == ".lablaut" or path.parent.name.lower() == "lablaut":
        return "lablaut"
    return "textgrid"


def write_alignment(path: str | Path, annotation: Annotation) -> None:
    """Write ``annotation`` as a long text TextGrid that Praat opens.

    Tiers, in order: ``words`` and ``phones`` (named and gap-filled as MFA does, so
    :func:`read_alignment` and MFA tools read it back), ``vowel`` (each vowel span labelled with its IPA
    symbol), then one ``vowel-<descriptor>`` tier per :data:`~vowelprompt.records.DESCRIPTORS` entry
    whose vowel spans carry the vowel's bin (``high``) or a blank where that descriptor is missing.
    Times are rounded to 1 µs, clipped to ``[0, annotation.duration_s]`` (or to the last time written
    when the duration is unknown), and an interval that overlaps its predecessor starts where that one
    ends. Words without times are left out. Raises ``ValueError`` when there is nothing to place
    (no duration and no timed word).

    >>> import tempfile, os
    >>> words = read_alignment("tests/fixtures/textgrids/mfa3_short_format.TextGrid")
    >>> out = os.path.join(tempfile.mkdtemp(), "hi.TextGrid")
    >>> write_alignment(out, Annotation(id="hi", audio="hi.wav", status="ok", duration_s=0.95,
    ...                                 words=tuple(words)))
    >>> read_alignment(out) == words
    True
    """
    timed = [w for w in annotation.words if w.start_s is not None and w.end_s is not None]
    words = [(w.start_s, w.end_s, w.text) for w in timed]
    phones = [(p.start_s, p.end_s, p.label) for w in timed for p in w.phones]
    vowels = [(v.span.start_s, v.span.end_s, v) for v in annotation.vowels]
    duration = annotation.duration_s
    if duration is None:
        ends = [end for _, end, _ in words + phones] + [end for _, end, _ in vowels]
        if not ends:
            raise ValueError(f"annotation {annotation.id!r} has no duration and no timed word to write")
        duration = max(ends)
    duration = round(duration, _TIME_DECIMALS)

    tiers = {
        "words": words,
        "phones": phones,
        "vowel": [(start, end, v.span.ipa) for start, end, v in vowels],
    }
    for descriptor in DESCRIPTORS:
        tiers[f"vowel-{descriptor}"] = [(start, end, v.bins.get(descriptor, "")) for start, end, v in vowels]

    tg = tgio.Textgrid(minTimestamp=0, maxTimestamp=duration)
    for name, entries in tiers.items():
        tg.addTier(tgio.IntervalTier(name, _clean(entries, duration), 0, duration), reportingMode="error")
    tg.save(
        str(path),
        format="long_textgrid",
        includeBlankSpaces=True,
        minimumIntervalLength=None,
        reportingMode="error",
    )


def _clean(entries: list[tuple[float, float, str]], duration: float) -> list[tuple[float, float, str]]:
    """Round, clip to ``[0, duration]``, sort and de-overlap intervals; drop blank or empty ones."""
    out: list[tuple[float, float, str]] = []
    for start, end, label in sorted(entries, key=lambda e: (e[0], e[1])):
        start = min(max(round(start, _TIME_DECIMALS), 0.0), duration)
        end = min(max(round(end, _TIME_DECIMALS), 0.0), duration)
        if out and start < out[-1][1]:
            start = out[-1][1]  # rounding (or an aligner) made it overlap its predecessor
        if end > start and label.strip():
            out.append((start, end, label.strip()))
    return out


def _open(path: Path) -> tgio.Textgrid:
    if not path.is_file():
        raise AlignmentError(f"alignment file not found: {path}")
    try:
        return tgio.openTextgrid(str(path), includeEmptyIntervals=False, reportingMode="silence")
    except (PraatioException, ValueError, IndexError) as exc:  # UnicodeDecodeError is a ValueError
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise AlignmentError(f"cannot read TextGrid {path}: {reason}") from exc


def _tier_pair(tg: tgio.Textgrid, path: Path, speaker: str | None) -> tuple:
    """The (words, phones) interval tiers of ``speaker``, else the plain ones, else the first speaker's."""
    pairs: dict[str | None, dict[str, str]] = {}
    for name in tg.tierNames:
        match = _SPEAKER_TIER.fullmatch(name)
        if name in ("words", "phones"):
            pairs.setdefault(None, {})[name] = name  # MFA names them plainly when a file has one speaker
        elif match:
            pairs.setdefault(match[1], {})[match[2]] = name
    speakers = [key for key in pairs if key is not None]
    found = ", ".join(map(repr, tg.tierNames)) or "none"
    if speaker in pairs:
        key = speaker
    elif None in pairs:
        key = None
    elif speaker is not None and speakers:
        raise AlignmentError(
            f"{path}: no tiers for speaker {speaker!r}; speakers found: {', '.join(map(repr, speakers))}"
        )
    elif speakers:
        key = speakers[0]
    else:
        raise AlignmentError(f"{path}: no MFA 'words' and 'phones' tiers; tiers found: {found}")
    tiers = []
    for kind in ("words", "phones"):
        if kind not in pairs[key]:
            raise AlignmentError(f"{path}: no {kind!r} tier to go with the others; tiers found: {found}")
        tier = tg.getTier(pairs[key][kind])
        if not isinstance(tier, tgio.IntervalTier):
            raise AlignmentError(f"{path}: tier {tier.name!r} is a point tier, expected an interval tier")
        tiers.append(tier)
    return tiers[0], tiers[1]
