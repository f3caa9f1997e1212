"""EmoBox metadata import on a small copy of EmoBox's layout (data/<dataset>/ + downloads/<dataset>/)."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest
from conftest import write_wav

from vowelprompt.corpora import emobox
from vowelprompt.errors import InputError

CAFE_MAP = {
    "c": "Angry",
    "d": "Disgust",
    "j": "Happy",
    "n": "Neutral",
    "p": "Fear",
    "s": "Surprise",
    "t": "Sad",
}
MSP_MAP = {"A": "Angry", "H": "Happy", "N": "Neutral", "X": "No-agreement", "O": "Other", "C": "Contempt"}


def jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture(scope="module")
def emobox_root(tmp_path_factory, synth):
    top = tmp_path_factory.mktemp("EmoBox")
    utt = synth.synthesize("Un cheval fou dans mon jardin", voice="fr")
    source = write_wav(top / "source.wav", utt.samples, utt.sr)
    # CaFE: 3 folds, the accented folders spelled as EmoBox's metadata spells them (mojibake)
    folders = {"c": "ColŠre/Fort", "d": "D‚go–t/Faible", "j": "Joie/Fort", "n": "Neutre", "p": "Peur/Fort"}
    rows = []
    for actor in ("01", "02", "03", "07", "04", "05"):
        for code, folder in folders.items():
            name = f"{actor}-{code.upper()}-{'1' if code == 'n' else '2'}-1"
            wav = f"downloads/cafe/CaFE_48k/{folder}/{name}.wav"
            rows.append(
                {
                    "key": f"cafe-{name}",
                    "dataset": "cafe",
                    "wav": wav,
                    "type": "raw",
                    "sample_rate": 48000,
                    "length": 3.5,
                    "task": "category",
                    "emo": code,
                    "channel": 1,
                }
            )
            (top / wav).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, top / wav)
    (top / rows[-1]["wav"]).unlink()  # listed, but its audio is missing
    data = top / "data" / "cafe"
    jsonl(data / "cafe.jsonl", rows)
    (data / "label_map.json").write_text(json.dumps(CAFE_MAP, indent=4))
    for k, actors in enumerate((("01", "07"), ("02", "04"), ("03", "05")), start=1):
        test = [r for r in rows if r["key"][5:7] in actors]
        jsonl(data / f"fold_{k}" / f"cafe_test_fold_{k}.jsonl", test)
        jsonl(data / f"fold_{k}" / f"cafe_train_fold_{k}.jsonl", [r for r in rows if r not in test])
    # MSP-Podcast: one fold with an official valid file, and a code outside msp8
    msp = top / "data" / "msppodcast"
    parts = {"train": ["0001_0008", "0001_0009"], "valid": ["0002_0033"], "test": ["0003_0001", "0004_0002"]}
    codes = iter("HNACX")
    for part, names in parts.items():
        part_rows = []
        for n in names:
            wav = f"downloads/msppodcast/Audio/MSP-PODCAST_{n}.wav"
            (top / wav).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, top / wav)
            part_rows.append(
                {
                    "key": f"msppodcast-MSP-PODCAST_{n}",
                    "dataset": "msppodcast",
                    "wav": wav,
                    "emo": next(codes),
                }
            )
        jsonl(msp / "fold_1" / f"msppodcast_{part}_fold_1.jsonl", part_rows)
    (msp / "label_map.json").write_text(json.dumps(MSP_MAP))
    # EmoDB as EmoBox has it: two spellings of the fold files, the older with "audio" and "label" keys
    emodb = top / "data" / "emodb"
    for k in (1, 2):
        name = "03a01Wa" if k == 1 else "08a02Lb"
        new = {
            "key": f"emodb-{name}",
            "dataset": "emodb",
            "wav": f"downloads/emodb/wav/{name}.wav",
            "emo": "anger" if k == 1 else "boredem",
        }
        old = {
            "key": f"emodb-{name}",
            "dataset": "emodb",
            "audio": f"downloads/emodb/wav/{name}.wav",
            "label": "x",
        }
        jsonl(emodb / f"fold_{k}" / f"emodb_test_fold_{k}.jsonl", [new])
        jsonl(emodb / f"fold_{k}" / f"emodb_test_fold{k}.jsonl", [old])
        (top / new["wav"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, top / new["wav"])
    (emodb / "label_map.json").write_text(
        json.dumps({"anger": "Angry", "boredem": "Boredom", "Neutral": "Neutral"})
    )
    source.unlink()
    return top


def test_cafe_folds_labels_and_paths(emobox_root):
    prepared = emobox.prepare(emobox_root / "data" / "cafe")
    rows = {r["id"]: r for r in prepared.rows}
    assert json.loads(json.dumps(prepared.rows)) == prepared.rows  # plain JSON values only
    assert len(rows) == len(prepared.rows) == 30 and not prepared.skipped
    r = rows["cafe-01-C-2-1"]
    assert r["audio"] == str(emobox_root / "downloads/cafe/CaFE_48k/ColŠre/Fort/01-C-2-1.wav")
    assert (r["dataset"], r["source"], r["lang"], r["text"]) == ("cafe", "emobox", "fr", "")
    assert (r["label"], r["raw_label"], r["label_set"], r["fold"]) == ("anger", "c", "cafe7", 1)
    assert "split" not in r and "error" not in r
    assert Counter(r["fold"] for r in prepared.rows) == {1: 10, 2: 10, 3: 10}
    assert {r["label"] for r in prepared.rows} == {"anger", "disgust", "happiness", "neutral", "fear"}
    assert rows["cafe-05-P-2-1"]["error"].startswith("media file missing")
    to_four = emobox.prepare(emobox_root / "data" / "cafe", labels="iemocap4")
    assert {r["label"] for r in to_four.rows} == {"angry", "happy", "neutral"}
    assert set(to_four.skipped) == {"label 'd' outside iemocap4", "label 'p' outside iemocap4"}


def test_single_fold_gives_splits(emobox_root):
    prepared = emobox.prepare(emobox_root / "data" / "msppodcast")
    rows = {r["id"]: r for r in prepared.rows}
    assert {i: (r["split"], r["label"]) for i, r in rows.items()} == {
        "msppodcast-MSP-PODCAST_0001_0008": ("train", "happy"),
        "msppodcast-MSP-PODCAST_0001_0009": ("train", "neutral"),
        "msppodcast-MSP-PODCAST_0002_0033": ("dev", "angry"),
        "msppodcast-MSP-PODCAST_0003_0001": ("test", "contempt"),
    }
    assert all("fold" not in r and r["label_set"] == "msp8" for r in rows.values())
    assert prepared.skipped == {"label 'X' outside msp8": ["MSP-PODCAST_0004_0002"]}


def test_fold_file_spellings_and_typos(emobox_root):
    prepared = emobox.prepare(emobox_root / "data" / "emodb")
    rows = {r["id"]: r for r in prepared.rows}
    assert {i: (r["fold"], r["label"], r["lang"]) for i, r in rows.items()} == {
        "emodb-03a01Wa": (1, "anger", "de"),  # from emodb_test_fold_1.jsonl, not the older _fold1 spelling
        "emodb-08a02Lb": (2, "boredom", "de"),  # EmoBox's "boredem" resolved through its label map
    }
    assert all("error" not in r for r in rows.values())


def test_not_emobox(tmp_path):
    with pytest.raises(InputError, match=r"no empty\.jsonl, empty\.json or fold_<k>/ files of EmoBox"):
        emobox.prepare((tmp_path / "empty").mkdir() or tmp_path / "empty", labels="meld7")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "bad.jsonl").write_text('{"key": "bad-1"\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:1: not JSON"):
        emobox.prepare(tmp_path / "bad", labels="meld7")
