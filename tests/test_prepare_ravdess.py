"""RAVDESS adapter on a small tree in RAVDESS's layout with English espeak-ng speech."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest
from conftest import write_wav

from vowelprompt.corpora import ravdess
from vowelprompt.corpora.base import LFS_POINTER


@pytest.fixture(scope="module")
def root(tmp_path_factory, synth):
    root = tmp_path_factory.mktemp("ravdess")
    speech = root / "Audio_Speech_Actors_01-24"
    utts = {ss: synth.synthesize(text, voice="en-us") for ss, text in ravdess.SENTENCES.items()}
    for actor in range(1, 25):
        folder = speech / f"Actor_{actor:02d}"
        folder.mkdir(parents=True)
        for emotion in ravdess.EMOTIONS:
            ss = "01" if int(emotion) % 2 else "02"
            name = folder / f"03-01-{emotion}-01-{ss}-01-{actor:02d}.wav"
            if actor == 1:
                write_wav(name, utts[ss].samples, utts[ss].sr)
            else:
                shutil.copy(speech / "Actor_01" / f"03-01-{emotion}-01-{ss}-01-01.wav", name)
    # traps: a song, a macOS resource fork, a Git LFS stub, a file filed under the wrong actor folder
    song = root / "Audio_Song_Actors_01-24" / "Actor_01"
    song.mkdir(parents=True)
    shutil.copy(speech / "Actor_01" / "03-01-01-01-01-01-01.wav", song / "03-02-01-01-01-01-01.wav")
    (speech / "Actor_01" / "._03-01-01-01-01-01-01.wav").write_bytes(b"\0\5\26\7")
    (speech / "Actor_02" / "03-01-05-02-01-02-02.wav").write_bytes(LFS_POINTER + b"-lfs.github.com/spec/v1\n")
    shutil.copy(
        speech / "Actor_01" / "03-01-03-01-01-01-01.wav", speech / "Actor_05" / "03-01-03-02-02-02-06.wav"
    )
    return root


def test_rows_have_every_field(root):
    prepared = ravdess.prepare(root)
    rows = {r["id"]: r for r in prepared.rows}
    assert json.loads(json.dumps(prepared.rows)) == prepared.rows  # plain JSON values only
    assert len(rows) == len(prepared.rows) == 24 * 8 + 2
    r = rows["ravdess-03-01-02-01-02-01-11"]
    assert r["audio"] == str(root / "Audio_Speech_Actors_01-24" / "Actor_11" / "03-01-02-01-02-01-11.wav")
    assert (r["text"], r["lang"], r["dataset"]) == ("Dogs are sitting by the door", "en", "ravdess")
    assert (r["speaker"], r["gender"], r["fold"]) == ("11", "male", 1)
    assert (r["label"], r["raw_label"], r["label_set"]) == ("calm", "02", "ravdess8")  # calm is not neutral
    assert (r["intensity"], r["repetition"]) == ("normal", 1) and "error" not in r
    moved = rows["ravdess-03-01-03-02-02-02-06"]  # in Actor_05's folder; the name says actor 06
    assert (moved["speaker"], moved["gender"], moved["fold"], moved["label"]) == ("06", "female", 6, "happy")
    assert (moved["text"], moved["intensity"], moved["repetition"]) == (
        "Dogs are sitting by the door",
        "strong",
        2,
    )
    assert rows["ravdess-03-01-05-02-01-02-02"]["error"].startswith("media file is a Git LFS pointer")
    assert Counter(r["label"] for r in prepared.rows)["calm"] == 24
    assert {r["label"] for r in prepared.rows} == set(ravdess.EMOTIONS.values())
    folds = Counter(r["fold"] for r in prepared.rows if r["id"] != moved["id"] and "error" not in r)
    assert folds == {k: 32 for k in range(1, 7)}  # 4 test actors × 8 clips each
    assert prepared.skipped == {
        "song (vocal channel 02), not speech": ["03-02-01-01-01-01-01"],
        "file name not MM-VV-EE-II-SS-RR-AA": [
            "Audio_Speech_Actors_01-24/Actor_01/._03-01-01-01-01-01-01.wav"
        ],
    }
    summary = "\n".join(prepared.summary())
    assert "1 rows with an error: media file is a Git LFS pointer" in summary
    assert (
        "fold 1: 32 (angry 4, calm 4, disgust 4, fearful 4, happy 4, neutral 4, sad 4, surprised 4)"
        in summary
    )


def test_calm_outside_a_four_class_set(root):
    prepared = ravdess.prepare(root, labels="iemocap4")
    assert {r["label"] for r in prepared.rows} == {"neutral", "happy", "sad", "angry"}
    assert len(prepared.skipped["label '02' outside iemocap4"]) == 24
    kept = ravdess.prepare(root, labels="iemocap4", keep_unlabeled=True)
    assert len(kept.rows) == 24 * 8 + 2 and {r["raw_label"] for r in kept.rows if r["label"] is None} == {
        "02",
        "06",
        "07",
        "08",
    }
