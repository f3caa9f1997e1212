"""CREMA-D adapter on a small tree in CREMA-D's layout: espeak-ng speech, its CSVs and a Git LFS stub."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest
from conftest import write_wav

from vowelprompt.corpora import cremad
from vowelprompt.corpora.base import LFS_POINTER

STUB = LFS_POINTER + b"-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 52044\n"
ACTORS = ("1001", "1002", "1003", "1004")


@pytest.fixture(scope="module")
def root(tmp_path_factory, synth):
    root = tmp_path_factory.mktemp("cremad")
    wav = root / "AudioWAV"
    wav.mkdir()
    utt = synth.synthesize(cremad.SENTENCES["DFA"], voice="en-us", pitch=60)
    write_wav(wav / "1001_DFA_ANG_XX.wav", utt.samples, utt.sr)
    votes = ["A,D,F,H,N,S,fileName,numResponses,agreement,emoVote"]
    for actor in ACTORS:  # 4 actors × 6 emotions × 4 sentences = 96 clips
        for emotion in cremad.EMOTIONS:
            for sentence in ("DFA", "IEO", "TIE", "WSI"):
                name = f"{actor}_{sentence}_{emotion}_{'XX' if sentence == 'DFA' else 'HI'}"
                if name != "1001_DFA_ANG_XX":
                    shutil.copy(wav / "1001_DFA_ANG_XX.wav", wav / f"{name}.wav")
                votes.append(f"{'7' if emotion == 'ANG' else '1'},0,0,2,0,1,{name},10,0.7,A")
    (wav / "1004_TIE_SAD_HI.wav").write_bytes(STUB)  # a zip download: a text stub, not audio
    (wav / "1003_IEO_FEA_HI.wav").unlink()  # rated (in the votes) but its audio is not there
    votes.append("0,0,0,0,9,1,1091_ITS_NEU_XX,10,0.9,N")  # a row for a clip that has no audio at all
    (root / "processedResults").mkdir()
    (root / "processedResults" / "tabulatedVotes.csv").write_text("\n".join(votes) + "\n")
    (root / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n1002,21,Female,Caucasian,"
        "Not Hispanic\n1003,21,Female,Caucasian,Not Hispanic\n1004,42,Female,Caucasian,Not Hispanic\n"
    )
    (wav / "1005_DFA_XYZ_XX.wav").write_bytes(b"RIFF")  # an emotion code CREMA-D does not have
    return root


def test_rows_have_every_field(root):
    prepared = cremad.prepare(root)
    rows = {r["id"]: r for r in prepared.rows}
    assert json.loads(json.dumps(prepared.rows)) == prepared.rows  # plain JSON values only
    assert len(rows) == len(prepared.rows) == 96 + 1
    r = rows["crema-d-1001_DFA_ANG_XX"]
    assert r["audio"] == str(root / "AudioWAV" / "1001_DFA_ANG_XX.wav") and r["dataset"] == "crema-d"
    assert (r["text"], r["lang"]) == ("Don't forget a jacket", "en")
    assert (r["speaker"], r["gender"], r["age"], r["level"]) == ("1001", "male", 51, "unspecified")
    assert (r["label"], r["raw_label"], r["label_set"]) == ("anger", "ANG", "cremad6")
    assert r["label_votes"] == {"anger": 7, "happy": 2, "sad": 1} and r["split"] in ("train", "test")
    s = rows["crema-d-1002_WSI_SAD_HI"]
    assert (s["text"], s["gender"], s["age"], s["level"], s["label"]) == (
        "We'll stop in a couple of minutes",
        "female",
        21,
        "high",
        "sad",
    )
    assert rows["crema-d-1004_TIE_SAD_HI"]["error"].startswith("media file is a Git LFS pointer")
    assert rows["crema-d-1003_IEO_FEA_HI"]["error"].startswith("media file missing")
    unknown = rows["crema-d-1091_ITS_NEU_XX"]  # an actor missing from the demographics: no gender
    assert unknown["error"].startswith("media file missing") and "gender" not in unknown
    assert unknown["label_votes"] == {"neutral": 9, "sad": 1}
    assert prepared.skipped == {"label 'XYZ' outside cremad6": ["1005_DFA_XYZ_XX"]}


def test_split_is_seeded_stratified_and_speaker_dependent(root):
    rows = cremad.prepare(root).rows
    assert [r["split"] for r in rows] == [r["split"] for r in cremad.prepare(root).rows]
    for label in cremad.EMOTIONS:  # 16 or 17 clips per label → 4 in test
        split = Counter(r["split"] for r in rows if r["raw_label"] == label)
        assert split["test"] == round((split["test"] + split["train"]) * 0.25)
    test_speakers = {r["speaker"] for r in rows if r["split"] == "test"}
    train_speakers = {r["speaker"] for r in rows if r["split"] == "train"}
    assert test_speakers & train_speakers  # speaker-dependent, as EmoBox's split


def test_without_the_csvs(root, tmp_path):
    bare = tmp_path / "CREMA-D"
    shutil.copytree(root / "AudioWAV", bare / "AudioWAV")
    (bare / "VideoDemographics.csv").write_bytes(STUB)  # the CSVs are stubs as well: read as absent
    rows = {r["id"]: r for r in cremad.prepare(bare).rows}
    assert len(rows) == 95  # no votes file: only the wavs found (the absent one cannot be known)
    assert (
        "gender" not in rows["crema-d-1001_DFA_ANG_XX"]
        and "label_votes" not in rows["crema-d-1001_DFA_ANG_XX"]
    )
