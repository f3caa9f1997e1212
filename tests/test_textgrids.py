"""TextGrid import/export on MFA-format files (see fixtures/textgrids/README.md for what they model)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import parselmouth
import pytest
from praatio import textgrid as tgio

from vowelprompt.align.textgrid import read_alignment, write_alignment
from vowelprompt.align.vowels import vowel_info
from vowelprompt.errors import AlignmentError
from vowelprompt.records import DESCRIPTORS, Annotation, Phone, Vowel, VowelFeatures, VowelSpan, Word

FIXTURES = Path(__file__).parent / "fixtures" / "textgrids"
READABLE = [
    "mfa3_english_us_arpa.TextGrid",
    "mfa3_english_mfa.TextGrid",
    "utf16_english_mfa.TextGrid",
    "mfa3_short_format.TextGrid",
    "praat_short_text_arpa.TextGrid",
    "mfa3_two_speakers.TextGrid",
    "legacy_sil_sp_unk.TextGrid",
]


def summary(words: list[Word]) -> list[tuple]:
    return [(w.text, w.start_s, w.end_s, [p.label for p in w.phones], w.pron_source) for w in words]


def save(path: Path, tiers: dict[str, list[tuple[float, float, str]]], duration: float) -> Path:
    """Write a TextGrid with praatio (for layouts no fixture has)."""
    tg = tgio.Textgrid(minTimestamp=0, maxTimestamp=duration)
    for name, entries in tiers.items():
        tg.addTier(tgio.IntervalTier(name, entries, 0, duration))
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)
    return path


def annotation_from(
    words: list[Word], duration_s: float | None, bins: dict[str, str] | None = None
) -> Annotation:
    """An annotation whose vowels are the vowel phones of ``words``, each with ``bins``."""
    vowels = []
    for index, word in enumerate(words):
        for phone in word.phones:
            info = vowel_info(phone.label)
            if info:
                span = VowelSpan(*info, phone.start_s, phone.end_s, word.text, index)
                features = VowelFeatures(None, None, None, None, None, None, phone.end_s - phone.start_s, 0)
                vowels.append(Vowel(span, features, bins=dict(bins or {})))
    return Annotation(
        id="u1", audio="u1.wav", status="ok", duration_s=duration_s, words=tuple(words), vowels=tuple(vowels)
    )


def assert_tiers_tile(tg, duration: float) -> None:
    """Every tier runs from 0 to ``duration`` without gap or overlap (blanks filled as MFA fills them)."""
    for name in tg.tierNames:
        entries = tg.getTier(name).entries
        assert entries[0].start == 0 and entries[-1].end == duration
        assert all(a.end == b.start for a, b in pairwise(entries))


# --- reading ---------------------------------------------------------------------------------------


def test_reads_mfa3_arpabet_with_stress_digits_and_an_unknown_word():
    words = read_alignment(FIXTURES / "mfa3_english_us_arpa.TextGrid")
    assert summary(words) == [
        ("hello", 0.31, 0.72, ["HH", "AH0", "L", "OW1"], "alignment"),
        ("this", 0.85, 1.04, ["DH", "IH1", "S"], "alignment"),
        ("is", 1.04, 1.17, ["IH1", "Z"], "alignment"),
        # MFA 3 keeps the out-of-dictionary word's text over a single `spn` phone
        ("vowelprompt", 1.17, 1.89, [], "unaligned"),
        ("speaking", 1.89, 2.41, ["S", "P", "IY1", "K", "IH0", "NG"], "alignment"),
    ]
    assert words[0].phones[3] == Phone("OW1", 0.55, 0.72)


def test_reads_english_mfa_ipa_labels_unchanged():
    words = read_alignment(FIXTURES / "mfa3_english_mfa.TextGrid")
    assert [w.text for w in words] == ["hello", "world", "again"]
    assert [p.label for p in words[1].phones] == ["w", "ɝ", "ɫ", "d"]
    assert [p.label for w in words for p in w.phones if vowel_info(p.label)] == ["ə", "ow", "ɝ", "ə", "ɛ"]


def test_praat_saved_utf16_and_short_text_files_read_like_their_mfa_originals():
    assert read_alignment(FIXTURES / "utf16_english_mfa.TextGrid") == read_alignment(
        FIXTURES / "mfa3_english_mfa.TextGrid"
    )
    assert read_alignment(FIXTURES / "praat_short_text_arpa.TextGrid") == read_alignment(
        FIXTURES / "mfa3_english_us_arpa.TextGrid"
    )
    assert summary(read_alignment(FIXTURES / "mfa3_short_format.TextGrid")) == [
        ("hi", 0.12, 0.4, ["HH", "AY1"], "alignment"),
        ("there", 0.4, 0.78, ["DH", "EH1", "R"], "alignment"),
    ]


def test_legacy_sil_sp_and_unk_are_non_speech():
    words = read_alignment(FIXTURES / "legacy_sil_sp_unk.TextGrid")
    assert summary(words) == [
        ("the", 0.09, 0.37, ["DH", "AH0"], "alignment"),
        ("<unk>", 0.37, 0.81, [], "unaligned"),
        ("should", 0.9, 1.35, ["SH", "UH1", "D"], "alignment"),
    ]


def test_speaker_tiers_pick_the_first_speaker_or_the_one_asked_for():
    path = FIXTURES / "mfa3_two_speakers.TextGrid"
    assert [w.text for w in read_alignment(path)] == ["yes"]
    assert [w.text for w in read_alignment(path, speaker="spk1")] == ["yes"]
    assert summary(read_alignment(path, speaker="spk2")) == [
        ("no", 0.9, 1.12, ["N", "OW1"], "alignment"),
        ("way", 1.12, 1.5, ["W", "EY1"], "alignment"),
    ]
    with pytest.raises(AlignmentError, match=r"no tiers for speaker 'spk3'; speakers found: 'spk1', 'spk2'"):
        read_alignment(path, speaker="spk3")


def test_a_speaker_name_with_single_speaker_tiers_reads_the_plain_tiers():
    # MFA names the tiers plainly when the file has one speaker, whatever that speaker is called
    words = read_alignment(FIXTURES / "mfa3_short_format.TextGrid", speaker="alice")
    assert [w.text for w in words] == ["hi", "there"]


def test_phones_go_to_the_word_holding_their_midpoint(tmp_path):
    path = save(
        tmp_path / "mid.TextGrid",
        {
            "words": [(0.1, 0.5, "cat"), (0.5, 0.6, "<eps>"), (0.6, 1.0, "sat")],
            "phones": [
                (0.05, 0.2, "K"),  # starts before the word, midpoint 0.125 inside "cat"
                (0.2, 0.45, "AE1"),
                (0.45, 0.65, "T"),  # straddles the pause, midpoint 0.55 under "<eps>": no word
                (0.65, 0.7, "sil"),
                (0.7, 0.79, "S"),
                (0.79, 0.95, "AE1"),
                (0.95, 1.1, "T"),  # midpoint 1.025 past the last word
            ],
        },
        duration=1.2,
    )
    assert summary(read_alignment(path)) == [
        ("cat", 0.1, 0.5, ["K", "AE1"], "alignment"),
        ("sat", 0.6, 1.0, ["S", "AE1"], "alignment"),
    ]


def test_a_word_without_phone_tier_content_is_unaligned_but_keeps_its_times(tmp_path):
    path = save(
        tmp_path / "gap.TextGrid",
        {"words": [(0.2, 0.4, "uh"), (0.4, 0.9, "okay")], "phones": [(0.4, 0.6, "OW2"), (0.6, 0.9, "K")]},
        duration=1.0,
    )
    assert summary(read_alignment(path)) == [
        ("uh", 0.2, 0.4, [], "unaligned"),
        ("okay", 0.4, 0.9, ["OW2", "K"], "alignment"),
    ]


# --- errors ----------------------------------------------------------------------------------------


def point_tier_file(tmp_path: Path) -> Path:
    tg = tgio.Textgrid(minTimestamp=0, maxTimestamp=1.0)
    tg.addTier(tgio.IntervalTier("words", [(0.1, 0.5, "hi")], 0, 1.0))
    tg.addTier(tgio.PointTier("phones", [(0.3, "HH")], 0, 1.0))
    path = tmp_path / "points.TextGrid"
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)
    return path


def backwards_interval_file(tmp_path: Path) -> Path:
    path = tmp_path / "backwards.TextGrid"
    short = (FIXTURES / "mfa3_short_format.TextGrid").read_text(encoding="utf-8")
    path.write_text(short.replace('0.12\n0.4\n"hi"', '0.4\n0.12\n"hi"'), encoding="utf-8")
    return path


def binary_file(tmp_path: Path) -> Path:
    path = tmp_path / "audio.TextGrid"
    path.write_bytes(b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\xbb\xd8\xff")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.TextGrid", r"alignment file not found: .*missing\.TextGrid"),
        (
            lambda tmp: FIXTURES / "malformed_truncated.TextGrid",
            r"cannot read TextGrid .*malformed_truncated",
        ),
        (binary_file, r"cannot read TextGrid .*audio\.TextGrid"),
        (backwards_interval_file, r"cannot read TextGrid .*backwards\.TextGrid: The start time"),
        (
            lambda tmp: FIXTURES / "transcript_only.TextGrid",
            r"transcript_only\.TextGrid: no MFA 'words' and 'phones' tiers; tiers found: 'speaker_two'",
        ),
        (point_tier_file, r"points\.TextGrid: tier 'phones' is a point tier"),
    ],
    ids=["missing", "truncated", "binary", "backwards", "no-tiers", "point-tier"],
)
def test_errors_are_one_line_and_name_the_file(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(AlignmentError, match=message) as info:
        read_alignment(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_a_words_tier_alone_is_reported_with_the_tiers_found(tmp_path):
    path = save(tmp_path / "w.TextGrid", {"words": [(0.1, 0.5, "hi")], "notes": []}, duration=1.0)
    with pytest.raises(AlignmentError, match=r"no 'phones' tier .*tiers found: 'words', 'notes'"):
        read_alignment(path)


# --- writing ---------------------------------------------------------------------------------------


def test_write_makes_mfa_tiers_and_vowel_tiers_that_praat_opens(tmp_path):
    words = read_alignment(FIXTURES / "mfa3_english_us_arpa.TextGrid")
    annotation = annotation_from(words, 2.6135, bins={"pitch": "high", "duration": "long"})
    path = tmp_path / "out.TextGrid"
    write_alignment(path, annotation)

    tg = tgio.openTextgrid(str(path), includeEmptyIntervals=True)
    expected_tiers = ["words", "phones", "vowel"] + [f"vowel-{d}" for d in DESCRIPTORS]
    assert list(tg.tierNames) == expected_tiers
    assert tg.maxTimestamp == 2.6135
    assert_tiers_tile(tg, 2.6135)
    vowel = [e for e in tg.getTier("vowel").entries if e.label]
    assert [e.label for e in vowel] == ["ə", "oʊ", "ɪ", "ɪ", "i", "ɪ"]
    assert (vowel[1].start, vowel[1].end) == (0.55, 0.72)
    assert [e.label for e in tg.getTier("vowel-pitch").entries if e.label] == ["high"] * 6
    assert [e.label for e in tg.getTier("vowel-duration").entries if e.label] == ["long"] * 6
    # a descriptor with no bin leaves the vowel's interval blank
    assert all(not e.label for e in tg.getTier("vowel-energy").entries)

    praat = parselmouth.read(str(path))  # Praat's own reader: proves Praat opens the file
    assert isinstance(praat, parselmouth.TextGrid)
    assert parselmouth.praat.call(praat, "Get number of tiers") == len(expected_tiers)
    assert parselmouth.praat.call(praat, "Get tier name", 3) == "vowel"
    assert parselmouth.praat.call(praat, "Get label of interval", 3, 4) == "oʊ"
    assert parselmouth.praat.call(praat, "Get end time") == pytest.approx(2.6135)


@pytest.mark.parametrize("name", READABLE)
def test_round_trip_keeps_words_and_phones(tmp_path, name):
    words = read_alignment(FIXTURES / name)
    path = tmp_path / "rt.TextGrid"
    write_alignment(path, annotation_from(words, None))
    back = read_alignment(path)
    assert [(w.text, w.pron_source, [p.label for p in w.phones]) for w in back] == [
        (w.text, w.pron_source, [p.label for p in w.phones]) for w in words
    ]
    for a, b in zip(words, back, strict=True):
        assert a.start_s == pytest.approx(b.start_s, abs=1e-6)
        assert a.end_s == pytest.approx(b.end_s, abs=1e-6)
        for p, q in zip(a.phones, b.phones, strict=True):
            assert (p.start_s, p.end_s) == pytest.approx((q.start_s, q.end_s), abs=1e-6)


def test_write_clips_to_the_duration_and_resolves_rounding_overlaps(tmp_path):
    words = [
        # starts before 0: clipped to 0
        Word("so", -0.02, 0.1 + 0.2, (Phone("S", -0.02, 0.1), Phone("OW1", 0.1, 0.1 + 0.2))),
        # 0.1 + 0.2 = 0.30000000000000004 overlaps this start of 0.3 by 4e-17
        Word("far", 0.3, 0.7000004, (Phone("F", 0.3, 0.4), Phone("AA1", 0.4, 0.7000004))),
        # runs past the end of the audio: clipped to the duration
        Word("away", 0.7, 1.3, (Phone("AH0", 0.7, 0.9), Phone("W", 0.9, 1.0), Phone("EY1", 1.0, 1.3))),
        Word("gone", None, None, pron_source="unaligned"),  # no times: not written
        Word("late", 1.25, 1.4, (Phone("L", 1.25, 1.4),)),  # wholly past the end: dropped
    ]
    path = tmp_path / "clip.TextGrid"
    write_alignment(path, annotation_from(words, 1.2))

    tg = tgio.openTextgrid(str(path), includeEmptyIntervals=True)
    assert_tiers_tile(tg, 1.2)
    assert summary(read_alignment(path)) == [
        ("so", 0.0, 0.3, ["S", "OW1"], "alignment"),
        ("far", 0.3, 0.7, ["F", "AA1"], "alignment"),
        ("away", 0.7, 1.2, ["AH0", "W", "EY1"], "alignment"),
    ]
    assert isinstance(parselmouth.read(str(path)), parselmouth.TextGrid)


def test_write_without_duration_ends_at_the_last_interval_and_refuses_an_empty_annotation(tmp_path):
    words = [Word("hi", 0.2, 0.5, (Phone("HH", 0.2, 0.3), Phone("AY1", 0.3, 0.5)))]
    path = tmp_path / "a.TextGrid"
    write_alignment(path, annotation_from(words, None))
    assert tgio.openTextgrid(str(path), includeEmptyIntervals=True).maxTimestamp == 0.5
    with pytest.raises(ValueError, match="no duration and no timed word"):
        write_alignment(path, Annotation(id="x", audio="x.wav", status="alignment_error"))


def test_write_a_failed_annotation_with_a_duration_gives_empty_tiers(tmp_path):
    path = tmp_path / "failed.TextGrid"
    write_alignment(path, Annotation(id="x", audio="x.wav", status="alignment_error", duration_s=1.5))
    assert read_alignment(path) == []
    assert parselmouth.praat.call(parselmouth.read(str(path)), "Get number of tiers") == 3 + len(DESCRIPTORS)
