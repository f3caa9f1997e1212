"""MSP-Podcast adapter on small trees in the current layout and in an older release's layout."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import write_wav

from vowelprompt.corpora import msp_podcast
from vowelprompt.corpora.base import LFS_POINTER
from vowelprompt.errors import InputError

TEXT = "Well, I honestly did not expect the show to be this popular."
HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"
ROWS = [
    "MSP-PODCAST_0001_0008.wav,H,5.2,6.0,4.8,127,Female,Train",
    "MSP-PODCAST_0001_0009.wav,N,3.0,4.0,4.2,127,Female,Development",
    "MSP-PODCAST_0002_0033.wav,A,6.4,1.8,5.6,Unknown,Unknown,Test1",
    "MSP-PODCAST_0003_0001.wav,C,4.0,3.2,4.4,881,Male,Test2",
    "MSP-PODCAST_0004_0002.wav,S,2.0,2.2,2.6,12,Male,Test3",
    "MSP-PODCAST_0005_0003.wav,O,4.0,4.0,4.0,12,Male,Train",  # other: outside msp8
    "MSP-PODCAST_0005_0004.wav,X,4.2,3.8,4.0,12,Male,Train",  # no agreement: outside msp8
    "MSP-PODCAST_0006_0001.wav,U,5.0,5.0,4.0,30,Female,Train",  # its audio is missing
    "MSP-PODCAST_0007_0001.wav,F,5.0,2.0,3.0,31,Male,Train",  # its audio is a Git LFS stub
]
DETAILED = """FileName,WorkerID,EmoClass,EmoAct,EmoVal,EmoDom
MSP-PODCAST_0001_0008.wav,w1,H,5,6,5
MSP-PODCAST_0001_0008.wav,w2,H,5,6,5
MSP-PODCAST_0001_0008.wav,w3,N,4,5,4
MSP-PODCAST_0001_0008.wav,w4,Frustrated,4,5,4
"""


@pytest.fixture(scope="module")
def speech(tmp_path_factory, synth):
    utt = synth.synthesize(TEXT, voice="en-us+f3")
    return write_wav(tmp_path_factory.mktemp("msp-src") / "speech.wav", utt.samples, utt.sr)


def build(root, speech, audio="Audios", labels="labels_consensus.csv", split=True):
    (root / audio).mkdir(parents=True)
    (root / "Labels").mkdir()
    (root / "Transcripts").mkdir()
    for line in ROWS:
        name = line.split(",")[0]
        if "0006" not in name:
            shutil.copy(speech, root / audio / name)
    (root / audio / "MSP-PODCAST_0007_0001.wav").write_bytes(LFS_POINTER + b"-lfs.github.com/spec/v1\n")
    shutil.copy(speech, root / audio / "MSP-PODCAST_0099_0001.wav")  # no label row
    (root / "Transcripts" / "MSP-PODCAST_0001_0008.txt").write_text(TEXT + "\n")
    if split:
        (root / "Labels" / labels).write_text("\n".join([HEADER, *ROWS]) + "\n")
    else:  # an older release: no Split_Set column, the partition in Partitions.txt
        (root / "Labels" / labels).write_text(
            "\n".join([HEADER.rsplit(",", 1)[0]] + [r.rsplit(",", 1)[0] for r in ROWS])
        )
        parts = {"Development": "Validation"}
        lines = [f"{parts.get(r.rsplit(',', 1)[1], r.rsplit(',', 1)[1])}; {r.split(',')[0]}" for r in ROWS]
        (root / "Partitions.txt").write_text("\n".join(lines) + "\n")
    (root / "Labels" / "labels_detailed.csv").write_text(DETAILED)
    return root


def test_rows_have_every_field(tmp_path, speech):
    root = build(tmp_path / "MSP-PODCAST", speech)
    prepared = msp_podcast.prepare(root)
    rows = {r["id"]: r for r in prepared.rows}
    assert json.loads(json.dumps(prepared.rows)) == prepared.rows  # plain JSON values only
    assert len(rows) == len(prepared.rows) == 7
    r = rows["msp-podcast-MSP-PODCAST_0001_0008"]
    assert r["audio"] == str(root / "Audios" / "MSP-PODCAST_0001_0008.wav") and r["dataset"] == "msp-podcast"
    assert (r["text"], r["lang"], r["speaker"], r["gender"]) == (TEXT, "en", "127", "female")
    assert (r["label"], r["raw_label"], r["label_set"], r["split"]) == ("happy", "H", "msp8", "train")
    assert r["vad"] == {"valence": 6.0, "arousal": 5.2, "dominance": 4.8} and "test_set" not in r
    assert r["label_votes"] == {"happy": 2, "neutral": 1, "Frustrated": 1} and "error" not in r
    dev = rows["msp-podcast-MSP-PODCAST_0001_0009"]
    assert (dev["split"], dev["text"], dev["label"]) == ("dev", "", "neutral")  # no transcript: ASR applies
    t1 = rows["msp-podcast-MSP-PODCAST_0002_0033"]
    assert (t1["split"], t1["test_set"], t1["label"]) == ("test", "test1", "angry")
    assert "speaker" not in t1 and "gender" not in t1  # "Unknown" is no speaker
    assert [rows[f"msp-podcast-MSP-PODCAST_{n}"]["test_set"] for n in ("0003_0001", "0004_0002")] == [
        "test2",
        "test3",
    ]
    assert rows["msp-podcast-MSP-PODCAST_0003_0001"]["label"] == "contempt"
    assert rows["msp-podcast-MSP-PODCAST_0006_0001"]["error"].startswith("media file missing")
    assert rows["msp-podcast-MSP-PODCAST_0007_0001"]["error"].startswith("media file is a Git LFS pointer")
    assert prepared.skipped == {
        "label 'O' outside msp8": ["MSP-PODCAST_0005_0003"],
        "label 'X' outside msp8": ["MSP-PODCAST_0005_0004"],
        "audio file with no label row": ["MSP-PODCAST_0099_0001"],
    }
    summary = "\n".join(prepared.summary())
    assert (
        "test: 3 (angry 1, contempt 1, sad 1)" in summary
        and "skipped 1: audio file with no label row" in summary
    )


def test_older_release_layout(tmp_path, speech):
    root = build(
        tmp_path / "MSP-PODCAST-1.6", speech, audio="Audio", labels="labels_concensus.csv", split=False
    )
    new = msp_podcast.prepare(build(tmp_path / "new", speech))
    old = msp_podcast.prepare(root, keep_unlabeled=True)
    assert len(old.rows) == 9 and {r["label"] for r in old.rows if r["raw_label"] in "OX"} == {None}
    by_id = {r["id"]: r for r in old.rows}
    for r in new.rows:  # the same split, test set and labels from Partitions.txt and the old names
        o = by_id[r["id"]]
        assert (o["split"], o.get("test_set"), o["label"], o["vad"]) == (
            r["split"],
            r.get("test_set"),
            r["label"],
            r["vad"],
        )
        assert o["audio"].endswith(f"/Audio/{r['id'].removeprefix('msp-podcast-')}.wav")


def test_not_an_msp_folder(tmp_path):
    with pytest.raises(InputError, match=r"no Labels/labels_consensus\.csv"):
        msp_podcast.prepare(tmp_path)
