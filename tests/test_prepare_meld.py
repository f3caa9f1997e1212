"""The MELD adapter on a small ``MELD.Raw`` tree laid out as the release is (docs/corpora.md, "IEMOCAP and
MELD"): espeak-ng speech in a stereo and a 5.1 AAC MP4 made with PyAV (the speech in the 5.1 clip's centre
channel), a train CSV in cp1252, ids that restart in every split, a row without its clip, a clip without a
row, a Git LFS pointer, a stray file in the test clip folder, and CSVs both in the root and in split
folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vowelprompt.corpora.base import LFS_POINTER

HEADER = (
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime"
)
#: Train rows, cp1252-encoded: \x92 is a right single quote, \x85 an ellipsis, \xa0 a no-break space.
TRAIN = [
    b'1,"Oh my God, I\x92m so sorry\x85",Rachel,surprise,negative,0,0,3,19,"00:20:57,256","00:20:59,049"',
    b'2,That\xa0is fine.,Ross,neutral,neutral,0,1,3,19,"00:21:00,000","00:21:01,500"',
    b'3,"Where is it?",Monica,fear,negative,0,2,3,19,"00:21:02,000","00:21:03,000"',
    b'4,"No way!",Joey,joy,positive,1,0,8,21,"00:05:02,000","00:05:03,250"',
]
SAY = {"dia0_utt0": "Oh my God, I am so sorry.", "dia0_utt1": "That is fine.", "dia1_utt0": "No way!"}


def write_aac(path: Path, mono: np.ndarray, sr: int, layout: str) -> None:
    """An AAC MP4 at 48 kHz as MELD's clips are: stereo (speech in both channels) or 5.1 (speech in FC)."""
    import av

    rate = 48000
    t = np.arange(int(len(mono) * rate / sr)) / rate
    speech = np.interp(t, np.arange(len(mono)) / sr, mono).astype(np.float32)
    data = np.zeros((2 if layout == "stereo" else 6, len(speech)), np.float32)
    if layout == "stereo":
        data[:] = speech
    else:
        data[2] = speech  # FL FR FC LFE BL BR
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate, layout=layout)
        for i in range(0, data.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, i : i + 1024]), "fltp", layout)
            frame.sample_rate, frame.pts = rate, i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def build_meld(root: Path, synth) -> Path:
    """A ``MELD.Raw`` tree under ``root``; returns the release folder."""
    release = root / "MELD.Raw"
    (release / "train" / "train_splits").mkdir(parents=True)
    (release / "train" / "train_sent_emo.csv").write_bytes(b"\r\n".join([HEADER.encode(), *TRAIN]) + b"\r\n")
    clips = release / "train" / "train_splits"
    for name, layout in (("dia0_utt0", "stereo"), ("dia0_utt1", "5.1"), ("dia1_utt0", "stereo")):
        utt = synth.synthesize(SAY[name], voice="en-us+m3", rate_wpm=170)
        write_aac(clips / f"{name}.mp4", utt.samples, utt.sr, layout)
    (clips / "dia7_utt3.mp4").write_bytes((clips / "dia1_utt0.mp4").read_bytes())  # a clip without a row
    # dev: the CSV in the root (as some copies of the release have it), the clip folder too, an LFS pointer
    (release / "dev_sent_emo.csv").write_text(
        HEADER + '\n1,"Hi there.",Phoebe,joy,positive,0,0,4,2,"00:01:00,000","00:01:01,000"\n',
        encoding="utf-8",
    )
    (release / "dev_splits_complete").mkdir()
    (release / "dev_splits_complete" / "dia0_utt0.mp4").write_bytes(
        LFS_POINTER + b"-lfs.github.com/spec/v1\n"
    )
    test = release / "test"
    (test / "output_repeated_splits_test").mkdir(parents=True)
    (test / "test_sent_emo.csv").write_text(
        HEADER + '\n1,"Hello.",Chandler,disgust,negative,0,0,6,5,"00:00:10,000","00:00:11,000"\n'
    )
    (test / "output_repeated_splits_test" / "dia0_utt0.mp4").write_bytes(
        (clips / "dia0_utt0.mp4").read_bytes()
    )
    (test / "output_repeated_splits_test" / "final_videos_testdia0_utt0.mp4").write_bytes(b"\0" * 64)
    return release


@pytest.fixture(scope="module")
def meld(tmp_path_factory, synth) -> Path:
    root = tmp_path_factory.mktemp("meld")
    build_meld(root, synth)
    return root


def test_the_clips_are_stereo_and_5_1_aac_with_the_speech_in_the_centre(meld):
    import av

    clips = meld / "MELD.Raw" / "train" / "train_splits"
    for name, layout in (("dia0_utt0", "stereo"), ("dia0_utt1", "5.1")):
        with av.open(str(clips / f"{name}.mp4")) as container:
            stream = container.streams.audio[0]
            assert (stream.codec_context.name, stream.layout.name, stream.rate) == ("aac", layout, 48000)
            data = np.concatenate([f.to_ndarray() for f in container.decode(stream)], axis=1)
        rms = np.sqrt((data**2).mean(axis=1))
        loud = [ch.name for ch, level in zip(stream.layout.channels, rms) if level > 0.01]
        assert loud == (["FL", "FR"] if layout == "stereo" else ["FC"])


def test_rows_carry_every_field(meld):
    from vowelprompt.corpora.meld import prepare

    release = meld / "MELD.Raw"
    prepared = prepare(meld)
    rows = {r["id"]: r for r in prepared.rows}
    assert list(rows) == [
        "meld-train-dia0_utt0",
        "meld-train-dia0_utt1",
        "meld-train-dia0_utt2",
        "meld-train-dia1_utt0",
        "meld-dev-dia0_utt0",
        "meld-test-dia0_utt0",
    ]
    assert rows["meld-train-dia0_utt0"] == {
        "id": "meld-train-dia0_utt0",
        "audio": str(release / "train" / "train_splits" / "dia0_utt0.mp4"),
        "text": "Oh my God, I’m so sorry…",  # cp1252 \x92 and \x85
        "lang": "en",
        "speaker": "Rachel",
        "label": "surprise",
        "raw_label": "surprise",
        "label_set": "meld7",
        "dataset": "meld",
        "split": "train",
        "dialogue": "train-dia0",
        "turn": 0,
        "sentiment": "negative",
        "season": 3,
        "episode": 19,
        "start_s": 1257.256,
        "end_s": 1259.049,
    }
    assert rows["meld-train-dia0_utt1"]["text"] == "That is fine."  # \xa0 → space
    assert rows["meld-train-dia0_utt1"]["audio"].endswith("train_splits/dia0_utt1.mp4")
    assert rows["meld-train-dia1_utt0"]["label"] == "joy" and rows["meld-train-dia1_utt0"]["turn"] == 0
    assert rows["meld-train-dia0_utt2"]["error"].startswith("media file missing: ")
    dev = rows["meld-dev-dia0_utt0"]
    assert dev["error"].startswith("media file is a Git LFS pointer")
    assert (dev["dialogue"], dev["split"], dev["speaker"]) == ("dev-dia0", "dev", "Phoebe")
    assert dev["audio"] == str(release / "dev_splits_complete" / "dia0_utt0.mp4")
    test = rows["meld-test-dia0_utt0"]
    assert (test["label"], test["dialogue"], "error" in test) == ("disgust", "test-dia0", False)
    assert all("gender" not in r for r in rows.values())  # MELD records none
    assert prepared.skipped == {
        "media without a CSV row": ["train-dia7_utt3"],
        "file in a clip folder that is not dia<D>_utt<U>.mp4": ["test/final_videos_testdia0_utt0.mp4"],
    }
    summary = prepared.summary()
    assert summary[0] == "6 rows, 4 usable"
    assert "  train: 3 (joy 1, neutral 1, surprise 1)" in summary
    assert "  1 rows with an error: media file missing" in summary
    assert "  skipped 1: media without a CSV row (train-dia7_utt3)" in summary


def test_another_label_set_skips_what_it_cannot_name(meld):
    from vowelprompt.corpora.meld import prepare

    prepared = prepare(meld, labels="iemocap4")
    labels = {r["id"]: r["label"] for r in prepared.rows}
    assert labels == {
        "meld-train-dia0_utt1": "neutral",
        "meld-train-dia1_utt0": "happy",
        "meld-dev-dia0_utt0": "happy",
    }
    assert prepared.skipped["emotion 'surprise' is outside iemocap4"] == ["train-dia0_utt0"]
    assert prepared.skipped["emotion 'fear' is outside iemocap4"] == ["train-dia0_utt2"]
    kept = prepare(meld, labels="iemocap4", keep_unlabeled=True)
    assert {r["id"]: r["label"] for r in kept.rows}["meld-train-dia0_utt0"] is None
    assert len(kept.rows) == 6


def test_missing_splits_and_wrong_folders_are_reported(tmp_path):
    from vowelprompt.corpora.meld import prepare
    from vowelprompt.errors import ConfigError

    with pytest.raises(ConfigError, match=r"is not MELD: expected train_sent_emo.csv, dev_sent_emo.csv"):
        prepare(tmp_path)
    (tmp_path / "dev_sent_emo.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match=r"dev_sent_emo.csv: not a MELD CSV, no column Utterance"):
        prepare(tmp_path)
    (tmp_path / "dev_sent_emo.csv").write_text(HEADER + "\n1,Hi,Joey,joy,positive,x,0,1,1,,\n")
    prepared = prepare(tmp_path)
    assert prepared.rows == []
    assert prepared.skipped == {
        "no train_sent_emo.csv: split not prepared": ["train"],
        "no test_sent_emo.csv: split not prepared": ["test"],
        "CSV row without a numeric Dialogue_ID/Utterance_ID": ["dev_sent_emo.csv line 2"],
    }
