"""ASVP-ESD adapter on a small tree in its layout: 8–12 field names, a name with a space, non-speech clips."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest
from conftest import write_wav

from vowelprompt.corpora import asvp

#: name → (native id, speech, label, lang, speaker, gender)
NAMES = {
    "03-01-03-01-01-01-02-01-02": ("03-01-03-01-01-01-02-01-02", True, "happiness", "en", "01", "female"),
    "03-01-02-01-01-12-02-03": ("03-01-02-01-01-12-02-03", True, "neutral", "und", "12", "male"),  # 8 fields
    "03-01-05-02-02-14-02-02-04-10-01-03": (  # 12 fields, French
        "03-01-05-02-02-14-02-02-04-10-01-03",
        True,
        "anger",
        "fr",
        "14",
        "male",
    ),
    "03-01-04-01-01-16 -02-02-01": ("03-01-04-01-01-16-02-02-01", True, "sadness", "zh", "16", "male"),
    "03-02-11-01-07-123-02-02-02-09": (  # non-speech
        "03-02-11-01-07-123-02-02-02-09",
        False,
        "pain",
        "en",
        "123",
        "female",
    ),
    "03-01-09-01-02-106-02-02-02-19-66": (
        "03-01-09-01-02-106-02-02-02-19-66",
        True,
        "excitement",
        "en",
        "106",
        "male",
    ),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory, synth):
    root = tmp_path_factory.mktemp("asvp")
    audio = root / "Audio"
    utt = synth.synthesize("I can't believe you did that again.", voice="en-gb")
    source = write_wav(root / "source.wav", utt.samples, utt.sr)
    for name, (_, _, _, _, speaker, _) in NAMES.items():
        (audio / f"actor_{speaker}").mkdir(parents=True, exist_ok=True)
        shutil.copy(source, audio / f"actor_{speaker}" / f"{name}.wav")
    # 4 × 12 more speech clips of actor 20, for the split; a breath (13) and unknown (17) clip; bad names
    (audio / "actor_20").mkdir()
    for emotion in range(1, 13):
        for take in range(1, 5):
            shutil.copy(source, audio / "actor_20" / f"03-01-{emotion:02d}-01-{take:02d}-20-02-02-02.wav")
    shutil.copy(source, audio / "actor_20" / "03-02-13-01-01-20-02-02.wav")
    shutil.copy(source, audio / "actor_20" / "03-02-17-01-01-20-02-02.wav")
    shutil.copy(source, audio / "actor_20" / "03-01-02-01-01-20-02.wav")  # 7 fields
    shutil.copy(source, audio / "actor_20" / "03-01-02-01-01-20-02-02 (copy).wav")
    (audio / "actor_20" / "03-01-02-01-09-20-02-02.wav").symlink_to(root / "gone.wav")
    source.unlink()
    return root


def test_rows_have_every_field(root):
    prepared = asvp.prepare(root)
    rows = {r["id"]: r for r in prepared.rows}
    assert json.loads(json.dumps(prepared.rows)) == prepared.rows  # plain JSON values only
    assert len(rows) == len(prepared.rows) == len(NAMES) + 48 + 1
    for name, (native, speech, label, lang, speaker, gender) in NAMES.items():
        r = rows[f"asvp-esd-{native}"]
        assert r["audio"] == str(root / "Audio" / f"actor_{speaker}" / f"{name}.wav")
        assert (r["text"], r["dataset"], r["label_set"], r["raw_label"]) == (
            "",
            "asvp-esd",
            "asvp12",
            name.split("-")[2],
        )
        assert (r["speech"], r["label"], r["lang"], r["speaker"], r["gender"]) == (
            speech,
            label,
            lang,
            speaker,
            gender,
        )
        assert r["split"] in ("train", "test") and "error" not in r
    assert rows["asvp-esd-03-01-02-01-09-20-02-02"]["error"].startswith("media file missing")
    assert {r["label"] for r in prepared.rows} == set(asvp.EMOTIONS.values()) - {"breath", "unknown"}
    assert prepared.skipped == {
        "label '13' outside asvp12": ["03-02-13-01-01-20-02-02"],
        "label '17' outside asvp12": ["03-02-17-01-01-20-02-02"],
        "file name not 8-12 dash-separated numbers": [
            "Audio/actor_20/03-01-02-01-01-20-02-02 (copy).wav",
            "Audio/actor_20/03-01-02-01-01-20-02.wav",
        ],
    }
    kept = asvp.prepare(root, keep_unlabeled=True)
    breath = {r["id"]: r for r in kept.rows}["asvp-esd-03-02-13-01-01-20-02-02"]
    assert (breath["label"], breath["raw_label"], breath["speech"]) == (None, "13", False)


def test_split_is_seeded_and_stratified(root):
    rows = asvp.prepare(root).rows
    assert [r["split"] for r in rows] == [r["split"] for r in asvp.prepare(root).rows]
    for label in {r["label"] for r in rows}:  # 4 to 6 clips a label: a quarter, rounded, in test
        splits = Counter(r["split"] for r in rows if r["label"] == label)
        assert splits["test"] == round(0.25 * (splits["test"] + splits["train"])) >= 1, label
    assert {r["speaker"] for r in rows if r["split"] == "test"} & {
        r["speaker"] for r in rows if r["split"] == "train"
    }
