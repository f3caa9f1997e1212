"""EmoDB adapter and the lablaut reader, on a small tree in EmoDB's layout with German espeak-ng speech.

The phone labels are written from espeak's own phone times in the xlabel format of EmoDB's ``lablaut/``
(header up to ``#``, then end time, colour, SAMPA label), so the reader can be checked against the truth.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest
from conftest import write_wav

from vowelprompt.align.lablaut import read_lablaut, sampa_to_ipa
from vowelprompt.align.vowels import vowel_spans
from vowelprompt.corpora import emodb
from vowelprompt.errors import AlignmentError, VowelPromptError
from vowelprompt.io import read_manifest
from vowelprompt.pipeline import Annotator

#: espeak's German mnemonics that differ from SAMPA.
ESPEAK_SAMPA = {"A:": "a:", "3": "6"}
HEADER = "signal {name}\ntype 0\ncolor 121\ncomment created using xlabel\nseparator ;\nnfields 1\n#\n"


def write_lablaut(path, utt, starts: bool = False) -> None:
    """xlabel lines from a SynthUtterance's phones: a pause label fills every gap of over 1 ms."""
    segments, t = [], 0.0
    for p in utt.phones:
        if p.start_s - t > 1e-3:
            segments.append((t, p.start_s, "<p:>"))
        segments.append((p.start_s, p.end_s, ESPEAK_SAMPA.get(p.symbol, p.symbol)))
        t = p.end_s
    segments.append((t, utt.duration_s, "<p:>"))
    lines = [f"{(s if starts else e):12.6f}  121 {label}" for s, e, label in segments]
    path.write_text(HEADER.format(name=path.stem) + "\n".join(lines) + "\n", encoding="latin-1")


@pytest.fixture(scope="module")
def tree(tmp_path_factory, synth):
    root = tmp_path_factory.mktemp("emodb")
    (root / "wav").mkdir()
    (root / "lablaut").mkdir()
    utts = {code: synth.synthesize(emodb.TEXTS[code], voice="de") for code in ("a01", "b01")}
    for code, utt in utts.items():
        write_wav(root / "wav" / f"03{code}Fa.wav", utt.samples, utt.sr)
    # every speaker says a01 in every emotion: 70 files, the same audio (the content does not matter here)
    for speaker in emodb.SPEAKERS:
        for letter in emodb.EMOTIONS:
            name = root / "wav" / f"{speaker}a01{letter}b.wav"
            shutil.copy(root / "wav" / "03a01Fa.wav", name)
    write_lablaut(root / "lablaut" / "03a01Faxx.lablaut", utts["a01"])
    write_lablaut(root / "lablaut" / "03b01Fa.lablaut", utts["b01"])  # the one name without "xx"
    write_lablaut(root / "lablaut" / "16a02Tcxx.lablaut", utts["a01"])  # labels, but no wav
    (root / "wav" / "erkennung.wav").write_bytes(b"RIFF")  # not an utterance name
    return root, utts


def test_rows_have_every_field(tree):
    root, _ = tree
    prepared = emodb.prepare(root)
    rows = {r["id"]: r for r in prepared.rows}
    assert len(rows) == len(prepared.rows) == 2 + 70 + 1
    r = rows["emodb-03a01Fa"]
    assert r["audio"] == str(root / "wav" / "03a01Fa.wav") and r["dataset"] == "emodb"
    assert r["text"] == "Der Lappen liegt auf dem Eisschrank." and r["lang"] == "de"
    assert (r["speaker"], r["gender"], r["age"]) == ("03", "male", 31)
    assert (r["label"], r["raw_label"], r["label_set"]) == ("happiness", "F", "emodb7")
    assert r["alignment"] == str(root / "lablaut" / "03a01Faxx.lablaut") and "error" not in r
    assert r["speaker_fold"] == 1 and r["fold"] in range(1, 6)
    b = rows["emodb-03b01Fa"]
    assert b["text"].startswith("Was sind denn das für Tüten") and b["alignment"].endswith("03b01Fa.lablaut")
    w = rows["emodb-16a01Wb"]
    assert (w["gender"], w["age"], w["label"], w["speaker_fold"]) == ("female", 31, "anger", 10)
    assert "alignment" not in w
    labels = Counter(r["label"] for r in prepared.rows if r["speaker"] != "03" or r["raw_label"] != "F")
    assert set(labels) == {"anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"}
    missing = rows["emodb-16a02Tc"]
    assert missing["error"].startswith("media file missing") and missing["label"] == "sadness"
    assert prepared.skipped == {"file name not SSTTTEV (speaker, text, emotion, version)": ["erkennung"]}
    summary = "\n".join(prepared.summary())
    assert "73 rows, 72 usable" in summary and "1 rows with an error: media file missing" in summary


def test_folds_are_seeded_stratified_and_speaker_dependent(tree):
    root, _ = tree
    rows = emodb.prepare(root).rows
    again = emodb.prepare(root).rows
    assert [(r["id"], r["fold"]) for r in rows] == [(r["id"], r["fold"]) for r in again]
    sizes = Counter(r["fold"] for r in rows)
    assert set(sizes) == {1, 2, 3, 4, 5} and max(sizes.values()) - min(sizes.values()) <= 1
    for label in {r["label"] for r in rows}:  # each label spread over the folds as evenly as it can be
        per_fold = Counter(r["fold"] for r in rows if r["label"] == label)
        assert max(per_fold.values()) - min(per_fold.get(k, 0) for k in range(1, 6)) <= 1
    by_speaker = {r["speaker"]: {r2["fold"] for r2 in rows if r2["speaker"] == r["speaker"]} for r in rows}
    assert any(len(folds) > 1 for folds in by_speaker.values())  # speaker-dependent: a speaker spans folds
    assert sorted({r["speaker_fold"] for r in rows}) == list(range(1, 11))
    assert all(len({r["speaker"] for r in rows if r["speaker_fold"] == k}) == 1 for k in range(1, 11))


def test_other_label_set_skips_or_keeps(tree):
    root, _ = tree
    prepared = emodb.prepare(root, labels="iemocap4")
    assert {r["label"] for r in prepared.rows} == {"neutral", "happy", "angry", "sad"}
    skipped = {reason: len(ids) for reason, ids in prepared.skipped.items() if "outside" in reason}
    assert skipped == {
        "label 'L' outside iemocap4": 10,
        "label 'E' outside iemocap4": 10,
        "label 'A' outside iemocap4": 10,
    }
    kept = emodb.prepare(root, labels="iemocap4", keep_unlabeled=True)
    assert len(kept.rows) == 73 and sum(r["label"] is None for r in kept.rows) == 30
    assert {r["raw_label"] for r in kept.rows if r["label"] is None} == {"L", "E", "A"}


@pytest.mark.parametrize("code", ["a01", "b01"])
def test_lablaut_vowels_match_the_truth(tree, code):
    root, utts = tree
    utt = utts[code]
    name = "03a01Faxx.lablaut" if code == "a01" else "03b01Fa.lablaut"
    words = read_lablaut(root / "lablaut" / name)
    spans = vowel_spans(words)
    truth = utt.vowels
    assert len(spans) == len(truth) >= 8
    for span, phone in zip(spans, truth):
        assert span.start_s == pytest.approx(phone.start_s, abs=1e-6)
        assert span.end_s == pytest.approx(phone.end_s, abs=1e-6)
    consonants = [p for w in words for p in w.phones if p.label not in {s.phone for s in spans}]
    assert len(consonants) + len(spans) == len(utt.phones)  # every phone kept, none taken for a pause
    expected = {"a01": {"ɛ", "a", "ə", "iː", "aʊ", "eː", "aɪ"}, "b01": {"ɪ", "yː", "aː", "ʊ", "ɐ", "eː"}}
    assert {s.ipa for s in spans} >= expected[code]  # SAMPA E, a:, 6, aU … became IPA vowels
    assert all(w.pron_source == "alignment" and w.text == "".join(p.label for p in w.phones) for w in words)


def test_lablaut_start_times_and_errors(tree, tmp_path):
    root, utts = tree
    utt = utts["a01"]
    write_lablaut(tmp_path / "starts.lablaut", utt, starts=True)  # the other reading of the times
    ends = vowel_spans(read_lablaut(root / "lablaut" / "03a01Faxx.lablaut"))
    starts = vowel_spans(read_lablaut(tmp_path / "starts.lablaut", end_s=utt.duration_s))
    assert [(s.start_s, s.end_s) for s in starts] == [(s.start_s, s.end_s) for s in ends]
    assert sampa_to_ipa("a: [+lar]") == "aː" and sampa_to_ipa("'E") == "ɛ" and sampa_to_ipa("<p:>") is None
    (tmp_path / "nohash.lablaut").write_text("signal x\n  0.1 121 a\n")
    with pytest.raises(AlignmentError, match="no '#' line"):
        read_lablaut(tmp_path / "nohash.lablaut")
    (tmp_path / "back.lablaut").write_text("#\n  0.2 121 a\n  0.1 121 b\n")
    with pytest.raises(AlignmentError, match=r"back.lablaut:3: time 0.1 goes back"):
        read_lablaut(tmp_path / "back.lablaut")
    with pytest.raises(AlignmentError, match="cannot read phone labels"):
        read_lablaut(tmp_path / "absent.lablaut")


def test_manifest_reads_back_and_annotates_with_the_hand_labels(tree, tmp_path):
    """The rows go through annotate's manifest reader (a row with an error keeps it, and becomes that item's
    input_error); the lablaut file is the alignment (read_alignment dispatches on the lablaut folder)."""
    root, utts = tree
    rows = emodb.prepare(root).rows
    manifest = tmp_path / "emodb.jsonl"
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    items = {u.id: u for u in read_manifest(manifest)}
    assert len(items) == len(rows)
    for r in rows:
        u = items[r["id"]]
        expected = (r["audio"], r["text"], r["speaker"], r["label"], r.get("alignment"))
        assert (u.audio, u.text, u.speaker, u.label, u.alignment) == expected
        if "error" in r:
            assert r["error"] in u.error and "16a02Tc.wav" in u.error
            with pytest.raises(VowelPromptError, match=r"16a02Tc\.wav"):
                Annotator().prepare(u)
    annotation = Annotator().annotate(items["emodb-03a01Fa"])
    assert (annotation.status, annotation.aligner, annotation.label) == ("ok", "lablaut", "happiness")
    assert len(annotation.vowels) == len(utts["a01"].vowels)
    voiced = [v for v in annotation.vowels if v.features.voiced_frames]
    assert len(voiced) >= len(annotation.vowels) - 1  # espeak's vowels are voiced
