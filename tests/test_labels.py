"""Label presets, synonyms and cross-corpus mappings."""

from __future__ import annotations

import pytest

from vowelprompt.errors import ConfigError
from vowelprompt.labels import LABEL_SETS, get_label_set, label_map


def test_presets_have_the_documented_sizes():
    sizes = {name: len(s.labels) for name, s in LABEL_SETS.items()}
    assert sizes == {
        "iemocap4": 4,
        "iemocap5": 5,
        "iemocap6": 6,
        "meld7": 7,
        "cafe7": 7,
        "emodb7": 7,
        "asvp12": 12,
        "msp8": 8,
        "ravdess8": 8,
        "cremad6": 6,
    }
    assert LABEL_SETS["meld7"].labels == ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")


@pytest.mark.parametrize(
    ("preset", "answer", "label"),
    [
        ("iemocap4", "excited", "happy"),  # the 4-class merge
        ("iemocap5", "excited", "excited"),
        ("iemocap4", "Joyful", "happy"),
        ("iemocap6", "frustration", "frustrated"),
        ("meld7", "happy", "joy"),
        ("meld7", "Angry!", "anger"),
        ("cafe7", "colère", "anger"),
        ("emodb7", "bored", "boredom"),
        ("iemocap4", "bored", None),
        ("ravdess8", "calm", "calm"),  # calm is its own class in RAVDESS …
        ("ravdess8", "Relaxed.", "calm"),
        ("ravdess8", "neutral", "neutral"),
        ("ravdess8", "afraid", "fearful"),
        ("ravdess8", "surprise", "surprised"),
        ("iemocap4", "calm", "neutral"),  # … and still a word for neutral where there is no calm
        ("meld7", "calm", "neutral"),
        ("cremad6", "joy", "happy"),
        ("cremad6", "angry", "anger"),
        ("cremad6", "sadness", "sad"),
        ("iemocap4", "", None),
    ],
)
def test_synonyms_resolve_per_preset(preset, answer, label):
    assert LABEL_SETS[preset].normalize(answer) == label


def test_cross_corpus_mapping_is_explicit_about_gaps():
    m = label_map("iemocap6", "meld7")
    assert m.mapping == {
        "neutral": "neutral",
        "happy": "joy",
        "excited": "joy",
        "angry": "anger",
        "sad": "sadness",
        "frustrated": None,
    }
    assert m.unmapped == ["frustrated"]
    assert m.describe().startswith("iemocap6→meld7: neutral→neutral, happy→joy")
    assert label_map("meld7", "iemocap4").mapping["surprise"] is None
    assert label_map("iemocap5", "iemocap4").mapping["excited"] == "happy"


def test_custom_and_unknown_sets():
    custom = get_label_set("calm, tense,happy")
    assert custom.labels == ("calm", "tense", "happy")
    assert custom.normalize("joy") == "happy" and custom.normalize("tense") == "tense"
    with pytest.raises(ConfigError, match="choose one of: iemocap4"):
        get_label_set("iemocap")


def test_ravdess_calm_has_no_counterpart_elsewhere():
    assert LABEL_SETS["ravdess8"].labels == (
        "neutral",
        "calm",
        "happy",
        "sad",
        "angry",
        "fearful",
        "disgust",
        "surprised",
    )
    assert LABEL_SETS["cremad6"].labels == ("anger", "disgust", "fear", "happy", "neutral", "sad")
    to_cremad = label_map("ravdess8", "cremad6")
    assert to_cremad.unmapped == ["calm", "surprised"]
    assert to_cremad.mapping["fearful"] == "fear" and to_cremad.mapping["neutral"] == "neutral"
    assert label_map("iemocap4", "ravdess8").mapping == {
        "neutral": "neutral",
        "happy": "happy",
        "angry": "angry",
        "sad": "sad",
    }
    assert LABEL_SETS["ravdess8"].find_all("calm, not neutral") == [(0, "calm"), (10, "neutral")]
