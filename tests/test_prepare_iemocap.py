"""The IEMOCAP adapter and IEMOCAP's Sphinx phone segmentations, on a small tree laid out as the release
is (docs/corpora.md, "IEMOCAP and MELD"), with espeak-ng speech and the release's traps: a ``…F_…_M000``
utterance (the speaker is male though the dialog prefix says F), an ``XX`` transcript line, an evaluation
row without audio, audio without an evaluation row, a Git LFS pointer, a ``Categorical/`` subfolder whose
file must not be read, the actors' self-ratings beside the evaluators' votes."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import write_wav

from vowelprompt.corpora.base import LFS_POINTER

#: Utterance → (session, dialog, start, end, code, V/A/D, evaluator lines, self-rating line, text, audio).
#: ``audio``: "speech" (a synthesised sentence), "lfs" (a Git LFS pointer), None (no file).
UTTERANCES = {
    "Ses01F_impro01_F000": (
        "6.2901",
        "8.2357",
        "neu",
        "2.5000, 2.5000, 2.5000",
        ["Neutral;", "Neutral;"],
        "Anger;",
        "Excuse me.",
        "speech",
    ),
    "Ses01F_impro01_M000": (
        "8.5100",
        "10.1000",
        "exc",
        "3.5000, 4.0000, 3.0000",
        ["Excited; Happiness;", "Excited;"],
        "Neutral;",
        "Do you have your forms? [LAUGHTER]",
        "speech",
    ),
    "Ses01F_impro01_F001": (
        "11.0000",
        "12.0000",
        "xxx",
        "2.0000, 3.0000, 3.0000",
        ["Frustration; Anger;", "Sadness;", "Other:annoyed;"],
        None,
        "Yeah.",
        "speech",
    ),
    "Ses01F_impro01_M001": (
        "12.5000",
        "13.5000",
        "fru",
        "2.0000, 3.5000, 3.5000",
        ["Frustration;", "Frustration;"],
        None,
        "I am here.",
        "lfs",
    ),
    "Ses01F_impro01_F002": (
        "14.0000",
        "15.0000",
        "ang",
        "1.5000, 4.5000, 4.0000",
        ["Anger;", "Anger;"],
        None,
        "No!",
        None,
    ),
    "Ses05M_script01_1_F000": (
        "1.0000",
        "3.0000",
        "sad",
        "2.0000, 2.0000, 2.5000",
        ["Sadness;", "Sadness;"],
        None,
        "My brother keeps his bicycle in the garage.",
        "speech",
    ),
    "Ses05M_script01_1_M000": (
        "3.5000",
        "5.0000",
        "hap",
        "4.0000, 3.0000, 3.0000",
        ["Happiness;", "Happiness; Excited;"],
        None,
        "Please take a seat.",
        "speech",
    ),
}
#: Audio with no evaluation row (a transcript line exists), and the transcript line of no utterance.
UNLABELED = ("Ses01F_impro01_M002", "16.0000", "17.0000", "Thank you.")
XX_LINE = "Ses01F_impro01_MXX0 [015.5000-015.9000]: Mm-hmm."

#: espeak vowel mnemonics → ARPAbet (what IEMOCAP's Sphinx models use); others fall back to AH.
ARPABET = {"E": "EH", "u:": "UW", "i:": "IY", "I": "IH", "@": "AH", "a": "AE", "aI": "AY", "eI": "EY"}


def _frame(t: float) -> int:
    return int(round(t * 100))


def _line(first: int, last: int, label: str) -> str:
    return f"\t{first:5d} {last:5d} {-1000 * (last - first + 1):10d} {label}"


def write_sphinx(stem: Path, utt) -> None:
    """``stem.phseg`` and ``stem.wdseg`` from an espeak utterance's truth, as Sphinx-3 writes them:
    leading silence, phones with their context glued on (``EH(SIL,K)b``), word variants (``EXCUSE(2)``),
    a breath filler and trailing silence, closed by a ``Total score`` line."""
    end = _frame(len(utt.samples) / utt.sr) - 1
    first, last = _frame(utt.phones[0].start_s), _frame(utt.phones[-1].end_s)
    phones = [_line(0, first - 1, "SIL")]
    labels = [ARPABET.get(p.symbol, "AH") if p.is_vowel else "T" for p in utt.phones]
    for i, p in enumerate(utt.phones):
        left = labels[i - 1] if i else "SIL"
        right = labels[i + 1] if i + 1 < len(labels) else "SIL"
        phones.append(_line(_frame(p.start_s), _frame(p.end_s) - 1, f"{labels[i]}({left},{right})i"))
    phones += [_line(last, last + 9, "+BREATH+"), _line(last + 10, end, "SIL")]
    words = [_line(0, first - 1, "<s>")]
    for i, w in enumerate(utt.words):
        words.append(
            _line(_frame(w.start_s), _frame(w.end_s) - 1, w.text.upper() + ("(2)" if i == 0 else ""))
        )
    words += [_line(last, last + 9, "++BREATH++"), _line(last + 10, end, "</s>")]
    for suffix, header, body in (("phseg", "Phone", phones), ("wdseg", "Word", words)):
        text = f"\t SFrm  EFrm    SegAScr {header}\n" + "\n".join(body) + "\n Total score:   -123456\n"
        stem.with_suffix(f".{suffix}").write_text(text)


def resampled(utt, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(len(utt.samples) * sr / utt.sr)) / sr
    return np.interp(t, np.arange(len(utt.samples)) / utt.sr, utt.samples).astype(np.float32)


def build_iemocap(root: Path, synth) -> dict:
    """An ``IEMOCAP_full_release`` tree under ``root``; returns the synthesised utterances by id."""
    release = root / "IEMOCAP_full_release"
    spoken = {}
    evaluations: dict[Path, list[str]] = {}
    transcripts: dict[Path, list[str]] = {}
    for utt, (start, end, code, vad, raters, self_rating, text, audio) in UTTERANCES.items():
        session = release / f"Session{utt[4]}"
        dialog = utt.rsplit("_", 1)[0]
        lines = [f"[{start} - {end}]\t{utt}\t{code}\t[{vad}]"]
        lines += [f"C-E{i + 1}:\t{r}\t()" for i, r in enumerate(raters)]
        if self_rating:  # the actor's own rating: not a vote
            lines.append(f"C-{utt[-4]}1:\t{self_rating}\t()")
        lines += ["A-E1:\tval 3; act 2; dom  2;\t()", ""]
        evaluations.setdefault(session / "dialog" / "EmoEvaluation" / f"{dialog}.txt", []).extend(lines)
        line = f"{utt} [{float(start):07.4f}-{float(end):07.4f}]: {text}"
        transcripts.setdefault(session / "dialog" / "transcriptions" / f"{dialog}.txt", []).append(line)
        wav = session / "sentences" / "wav" / dialog / f"{utt}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        if audio == "speech":
            spoken[utt] = synth.synthesize(text.replace(" [LAUGHTER]", ""), voice="en-us+m3", rate_wpm=170)
            write_wav(wav, resampled(spoken[utt]), 16000)
        elif audio == "lfs":
            wav.write_bytes(LFS_POINTER + b"-lfs.github.com/spec/v1\noid sha256:00\nsize 12345\n")
    s1 = release / "Session1"
    dialog_file = s1 / "dialog" / "transcriptions" / "Ses01F_impro01.txt"
    utt, start, end, text = UNLABELED
    transcripts[dialog_file] += [f"{utt} [{float(start):07.4f}-{float(end):07.4f}]: {text}", XX_LINE]
    spoken[utt] = synth.synthesize(text, voice="en-gb+f2", rate_wpm=170)
    write_wav(s1 / "sentences" / "wav" / "Ses01F_impro01" / f"{utt}.wav", resampled(spoken[utt]), 16000)
    for path, lines in evaluations.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + "\n".join(lines))
    for path, lines in transcripts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(reversed(lines)) + "\n")  # out of time order: turns come from the times
    categorical = s1 / "dialog" / "EmoEvaluation" / "Categorical"
    categorical.mkdir()
    (categorical / "Ses01F_impro01_e1_cat.txt").write_text(
        "[6.2901 - 8.2357]\tSes01F_impro01_F000\tang\t[1.0000, 1.0000, 1.0000]\n"
    )
    aligned = s1 / "sentences" / "ForcedAlignment" / "Ses01F_impro01"
    aligned.mkdir(parents=True)
    write_sphinx(aligned / "Ses01F_impro01_F000", spoken["Ses01F_impro01_F000"])
    # a .phseg without its .wdseg is not kept as an alignment
    write_sphinx(aligned / "Ses01F_impro01_M000", spoken["Ses01F_impro01_M000"])
    (aligned / "Ses01F_impro01_M000.wdseg").unlink()
    return spoken


@pytest.fixture(scope="module")
def iemocap(tmp_path_factory, synth):
    root = tmp_path_factory.mktemp("iemocap")
    spoken = build_iemocap(root, synth)
    return root, spoken


def by_id(prepared) -> dict[str, dict]:
    return {r["id"]: r for r in prepared.rows}


def test_rows_carry_every_field(iemocap):
    from vowelprompt.corpora.iemocap import prepare

    root, _ = iemocap
    release = root / "IEMOCAP_full_release"
    rows = by_id(prepare(root))
    assert set(rows) == {
        "iemocap-Ses01F_impro01_F000",
        "iemocap-Ses01F_impro01_M000",
        "iemocap-Ses01F_impro01_F002",
        "iemocap-Ses05M_script01_1_F000",
        "iemocap-Ses05M_script01_1_M000",
    }
    f000 = rows["iemocap-Ses01F_impro01_F000"]
    wav = release / "Session1" / "sentences" / "wav" / "Ses01F_impro01" / "Ses01F_impro01_F000.wav"
    phseg = (
        release
        / "Session1"
        / "sentences"
        / "ForcedAlignment"
        / "Ses01F_impro01"
        / "Ses01F_impro01_F000.phseg"
    )
    assert f000 == {
        "id": "iemocap-Ses01F_impro01_F000",
        "audio": str(wav),
        "text": "Excuse me.",
        "lang": "en",
        "speaker": "Ses01F",
        "gender": "female",
        "label": "neutral",
        "raw_label": "neu",
        "label_set": "iemocap4",
        "dataset": "iemocap",
        "split": "train",
        "fold": 1,
        "dialogue": "Ses01F_impro01",
        "turn": 0,
        "label_votes": {"neu": 2},  # the actor's self-rating (C-F1: Anger) is not a vote
        "vad": {"valence": 2.5, "arousal": 2.5, "dominance": 2.5},
        "alignment": str(phseg),
        "start_s": 6.2901,
        "end_s": 8.2357,
    }
    m000 = rows["iemocap-Ses01F_impro01_M000"]
    assert (m000["speaker"], m000["gender"]) == ("Ses01M", "male")  # the letter of the utterance
    assert (m000["label"], m000["raw_label"]) == ("happy", "exc")
    assert m000["label_votes"] == {"exc": 2, "hap": 1}
    assert m000["text"] == "Do you have your forms?"
    assert m000["text_raw"] == "Do you have your forms? [LAUGHTER]"
    assert m000["turn"] == 1 and "alignment" not in m000  # its .phseg has no .wdseg beside it
    f002 = rows["iemocap-Ses01F_impro01_F002"]
    assert f002["error"].startswith("media file missing: ") and f002["label"] == "angry"
    assert f002["turn"] == 4  # after F000 M000 F001 M001 (skipped rows keep their turns)
    s5 = rows["iemocap-Ses05M_script01_1_F000"]
    assert (s5["speaker"], s5["gender"], s5["split"], s5["fold"]) == ("Ses05F", "female", "test", 5)
    assert (s5["dialogue"], s5["turn"], s5["label"]) == ("Ses05M_script01_1", 0, "sad")
    assert rows["iemocap-Ses05M_script01_1_M000"]["label_votes"] == {"hap": 2, "exc": 1}


def test_skipped_items_are_named_in_the_summary(iemocap):
    from vowelprompt.corpora.iemocap import prepare

    prepared = prepare(iemocap[0])
    assert prepared.skipped == {
        "code 'xxx' is outside iemocap4": ["Ses01F_impro01_F001"],
        "code 'fru' is outside iemocap4": ["Ses01F_impro01_M001"],
        "audio without an EmoEvaluation row": ["Ses01F_impro01_M002"],
        "transcript line of no utterance (an XX line: no audio, no label)": ["Ses01F_impro01_MXX0"],
    }
    summary = prepared.summary()
    assert summary[0] == "5 rows, 4 usable"
    assert "  test: 2 (happy 1, sad 1)" in summary and "  train: 2 (happy 1, neutral 1)" in summary
    assert "  1 rows with an error: media file missing" in summary
    assert "  skipped 1: audio without an EmoEvaluation row (Ses01F_impro01_M002)" in summary


def test_label_presets_and_keep_unlabeled(iemocap):
    from vowelprompt.corpora.iemocap import prepare

    five = by_id(prepare(iemocap[0], labels="iemocap5"))
    assert five["iemocap-Ses01F_impro01_M000"]["label"] == "excited"
    assert "iemocap-Ses01F_impro01_M001" not in five
    six = by_id(prepare(iemocap[0], labels="iemocap6"))
    m001 = six["iemocap-Ses01F_impro01_M001"]
    assert (m001["label"], m001["label_set"]) == ("frustrated", "iemocap6")
    assert m001["error"].startswith("media file is a Git LFS pointer")
    kept = prepare(iemocap[0], keep_unlabeled=True)
    rows = by_id(kept)
    assert rows["iemocap-Ses01F_impro01_F001"]["label"] is None
    assert rows["iemocap-Ses01F_impro01_F001"]["raw_label"] == "xxx"
    assert rows["iemocap-Ses01F_impro01_F001"]["label_votes"] == {"fru": 1, "ang": 1, "sad": 1, "oth": 1}
    m002 = rows["iemocap-Ses01F_impro01_M002"]  # audio without an evaluation row: no label, no error
    assert m002["label"] is None and "raw_label" not in m002 and "error" not in m002 and m002["turn"] == 5
    assert list(kept.skipped) == ["transcript line of no utterance (an XX line: no audio, no label)"]


def test_a_folder_that_is_not_iemocap_says_what_was_expected(tmp_path):
    from vowelprompt.corpora.iemocap import prepare
    from vowelprompt.errors import ConfigError

    (tmp_path / "Session1").mkdir()
    with pytest.raises(ConfigError, match=r"is not IEMOCAP: expected Session1 … Session5 folders"):
        prepare(tmp_path)


def test_phseg_gives_the_words_and_phones_sphinx_wrote(iemocap):
    from vowelprompt.align.phseg import read_phseg
    from vowelprompt.align.textgrid import read_alignment

    root, spoken = iemocap
    truth = spoken["Ses01F_impro01_F000"]
    path = next(root.rglob("Ses01F_impro01_F000.phseg"))
    words = read_alignment(path)
    assert words == read_phseg(path)
    assert [w.text for w in words] == ["excuse", "me"]  # variant "(2)", <s>, </s>, ++BREATH++ dropped
    phones = [p for w in words for p in w.phones]
    assert [p.label for p in phones] == [
        ARPABET.get(p.symbol, "AH") if p.is_vowel else "T" for p in truth.phones
    ]
    for got, want in zip(phones, truth.phones):
        assert got.start_s == pytest.approx(want.start_s, abs=0.006)
        assert got.end_s == pytest.approx(want.end_s, abs=0.006)
    assert {w.pron_source for w in words} == {"alignment"}


def test_phseg_problems_are_one_line_alignment_errors(tmp_path):
    from vowelprompt.align.phseg import read_phseg
    from vowelprompt.errors import AlignmentError

    lonely = tmp_path / "a.phseg"
    lonely.write_text("\t SFrm  EFrm    SegAScr Phone\n\t    0    10     -100 SIL\n")
    with pytest.raises(AlignmentError, match=r"a.phseg: no word segmentation a.wdseg beside it"):
        read_phseg(lonely)
    lonely.with_suffix(".wdseg").write_text("not a segmentation\n")
    with pytest.raises(AlignmentError, match=r"a.wdseg: no segment lines"):
        read_phseg(lonely)
    with pytest.raises(AlignmentError, match=r"cannot read"):
        read_phseg(tmp_path / "missing.phseg")


def test_lablaut_files_go_to_the_lablaut_reader(tmp_path, monkeypatch):
    from vowelprompt.align.textgrid import read_alignment
    from vowelprompt.records import Word

    calls = []
    fake = types.ModuleType("vowelprompt.align.lablaut")
    fake.read_lablaut = lambda path: calls.append(Path(path)) or [Word("x", 0.0, 1.0)]
    monkeypatch.setitem(sys.modules, "vowelprompt.align.lablaut", fake)
    (tmp_path / "lablaut").mkdir()
    for path in (tmp_path / "lablaut" / "03a01Fa.lab", tmp_path / "03a01Fa.lablaut"):
        path.write_text("#\n")
        assert read_alignment(path) == [Word("x", 0.0, 1.0)]
    assert calls == [tmp_path / "lablaut" / "03a01Fa.lab", tmp_path / "03a01Fa.lablaut"]


def test_phseg_with_the_context_in_columns(tmp_path):
    """Sphinx-3 also writes the context as columns (``AH HH L i``); the first one is the phone."""
    from vowelprompt.align.phseg import read_phseg

    header = "\t SFrm  EFrm    SegAScr {}\n"
    (tmp_path / "u.phseg").write_text(
        header.format("Phone")
        + "\t    0     9     -500 SIL\n\t   10    14     -300 HH SIL AH b\n"
        + "\t   15    29     -800 AH HH SIL e\n\t   30    39     -200 SIL\n Total score:   -1800\n"
    )
    (tmp_path / "u.wdseg").write_text(
        header.format("Word") + "\t    0     9     -500 <s>\n\t   10    29    -1100 HUH(3)\n"
        "\t   30    39     -200 </s>\n Total score:   -1800\n"
    )
    [word] = read_phseg(tmp_path / "u.phseg")
    assert (word.text, word.start_s, word.end_s) == ("huh", 0.1, 0.3)
    assert [(p.label, p.start_s, p.end_s) for p in word.phones] == [("HH", 0.1, 0.15), ("AH", 0.15, 0.3)]
