"""CaFE adapter on a small tree in CaFE's layout (French espeak-ng speech), mojibake folder names included."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import write_wav

from vowelprompt.corpora import cafe


@pytest.fixture(scope="module")
def root(tmp_path_factory, synth):
    root = tmp_path_factory.mktemp("cafe")
    base = root / "CaFE_48k"
    voice = {
        "1": synth.synthesize(cafe.SENTENCES["1"], voice="fr"),
        "4": synth.synthesize(cafe.SENTENCES["4"], voice="fr"),
    }
    first = base / "Neutre" / "01-N-1-1.wav"
    first.parent.mkdir(parents=True)
    write_wav(first, voice["1"].samples, voice["1"].sr)
    write_wav(base / "Neutre" / "12-N-1-4.wav", voice["4"].samples, voice["4"].sr)
    # the accented folders as they often unpack (mojibake): the file names still say everything
    for folder, name in [
        ("ColŠre/Faible", "01-C-1-1.wav"),
        ("ColŠre/Fort", "05-C-2-6.wav"),
        ("D‚go–t/Fort", "12-D-2-2.wav"),
        ("Joie/Faible", "08-J-1-3.wav"),
        ("Peur/Fort", "04-P-2-5.wav"),
        ("Surprise/Faible", "11-S-1-2.wav"),
        ("Tristesse/Fort", "07-T-2-1.wav"),
        ("Colère/Faible", "01-C-1-1.wav"),  # the same file under the proper name: one row, one skip
    ]:
        (base / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(first, base / folder / name)
    (base / "Joie" / "Fort").mkdir(parents=True)
    (base / "Joie" / "Fort" / "09-J-2-1.wav").write_bytes(b"")  # empty: an error row
    (base / "Peur" / "Faible").mkdir(parents=True)
    (base / "Peur" / "Faible" / "10-P-1-6.wav").symlink_to(root / "gone.wav")  # dangling: missing media
    (base / "Neutre" / "Thumbs.wav").write_bytes(b"RIFF")
    (root / "CaFE_192k" / "Neutre").mkdir(
        parents=True
    )  # the other release beside it: sorts first, kept second
    shutil.copy(first, root / "CaFE_192k" / "Neutre" / "01-N-1-1.wav")
    return root


def test_rows_have_every_field(root):
    prepared = cafe.prepare(root)
    rows = {r["id"]: r for r in prepared.rows}
    assert json.loads(json.dumps(prepared.rows)) == prepared.rows  # plain JSON values only
    assert len(rows) == len(prepared.rows) == 11
    r = rows["cafe-01-C-1-1"]
    assert r["audio"] == str(root / "CaFE_48k" / "Colère" / "Faible" / "01-C-1-1.wav")  # first, sorted
    assert (r["text"], r["lang"], r["dataset"]) == ("Un cheval fou dans mon jardin", "fr", "cafe")
    assert (r["speaker"], r["gender"], r["fold"], r["intensity"]) == ("01", "male", 1, "weak")
    assert (r["label"], r["raw_label"], r["label_set"]) == ("anger", "C", "cafe7") and "error" not in r
    d = rows["cafe-12-D-2-2"]
    assert (d["label"], d["gender"], d["fold"], d["intensity"]) == ("disgust", "female", 2, "strong")
    assert d["text"] == "Deux ânes aigris au pelage brun" and "D‚go–t" in d["audio"]
    assert rows["cafe-12-N-1-4"]["text"] == "Quatre vieilles truies éléphantesques"
    assert (
        rows["cafe-05-C-2-6"]["fold"] == 3 and rows["cafe-05-C-2-6"]["text"] == "Six ours aimants domestiqués"
    )
    labels = {r["label"] for r in prepared.rows}
    assert labels == {"neutral", "anger", "disgust", "happiness", "fear", "surprise", "sadness"}
    assert rows["cafe-09-J-2-1"]["error"].startswith("media file empty")
    assert rows["cafe-10-P-1-6"]["error"].startswith("media file missing")
    assert prepared.skipped == {
        "file name found twice (kept CaFE_48k/Colère/Faible/01-C-1-1.wav)": [
            "CaFE_48k/ColŠre/Faible/01-C-1-1.wav"
        ],
        "file name found twice (kept CaFE_48k/Neutre/01-N-1-1.wav)": ["CaFE_192k/Neutre/01-N-1-1.wav"],
        "file name not AA-E-I-S (actor, emotion, intensity, sentence)": ["CaFE_48k/Neutre/Thumbs.wav"],
    }
    summary = prepared.summary()
    assert summary[0] == "11 rows, 9 usable" and any("fold 1: " in line for line in summary)


def test_label_set_choice(root):
    prepared = cafe.prepare(root, labels="iemocap4")
    assert {r["label"] for r in prepared.rows} == {"neutral", "angry", "happy", "sad"}
    assert sorted(r for r in prepared.skipped if "outside" in r) == [
        "label 'D' outside iemocap4",
        "label 'P' outside iemocap4",
        "label 'S' outside iemocap4",
    ]
