"""The blend and ratings parsers on literal model outputs, adversarial ones, and arbitrary text."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vowelprompt.labels import LABEL_SETS
from vowelprompt.parse import MAX_PARSE_CHARS
from vowelprompt.parse_modes import parse_blend, parse_ratings, parse_task
from vowelprompt.prompts import PromptConfig

IEMOCAP = LABEL_SETS["iemocap4"]
T = "<think>low and slow, but 'great' rises</think>"


def answer(text: str) -> str:
    return f"{T}<answer>{text}</answer>"


@pytest.mark.parametrize(
    ("text", "blend", "status"),
    [
        (answer("happy 70, sad 30"), {"happy": 70, "sad": 30}, "ok"),
        (answer("sad 100"), {"sad": 100}, "ok"),
        (answer("angry 50, sad 50"), {"angry": 50, "sad": 50}, "ok"),
        (answer("70% happy / 30% sad"), {"happy": 70, "sad": 30}, "repaired"),
        (answer("happy (70%) and sad (30%)"), {"happy": 70, "sad": 30}, "repaired"),
        (answer("happy:0.7 sad:0.3"), {"happy": 70, "sad": 30}, "repaired"),
        (answer("50/50 happy and sad"), {"happy": 50, "sad": 50}, "repaired"),
        (answer("30/70 happy and sad"), {"sad": 70, "happy": 30}, "repaired"),  # most salient first
        (answer("mostly happy, some sad"), {"happy": 70, "sad": 30}, "repaired"),
        (answer("sad with a hint of joy"), {"sad": 70, "happy": 30}, "repaired"),
        ("A mix of happy and sad, but the most salient is sad.", {"sad": 70, "happy": 30}, "repaired"),
        (answer("happy"), {"happy": 100}, "repaired"),  # one label, no salience
        (answer("joy 70, sorrow 30"), {"happy": 70, "sad": 30}, "repaired"),  # synonyms
        (answer("sad 30, happy 70"), {"happy": 70, "sad": 30}, "repaired"),  # less salient first
        (answer("happy 70, sad"), {"happy": 70, "sad": 30}, "repaired"),  # the other takes the rest
        (answer("happy 60, sad 60"), {"happy": 50, "sad": 50}, "repaired"),  # rescaled to 100
        (answer("happy 2, sad 1"), {"happy": 67, "sad": 33}, "repaired"),  # rescaled, rounded to 100
        (answer("happy 60, sad 40"), {"happy": 60, "sad": 40}, "repaired"),  # not a BLEMORE form
        (answer("happy and sad"), {"happy": 50, "sad": 50}, "repaired"),  # no salience: even
        ("<answer>happy 70, sad 30", {"happy": 70, "sad": 30}, "repaired"),  # unclosed answer
        ("It sounds like a mix of joy and anger.", {"happy": 50, "angry": 50}, "repaired"),  # prose
        (answer("happy 40, sad 30, angry 30"), None, "invalid"),  # three labels
        (answer("happy 120, sad 30"), None, "invalid"),  # a salience over 100
        (answer("happy 0, sad 0"), None, "invalid"),  # nothing to normalise
        (answer("bored 70, tired 30"), None, "invalid"),  # labels outside the set
        (answer("happy 70 30 sad 20"), None, "invalid"),  # numbers that do not pair with the labels
        (answer(""), None, "invalid"),
        ("", None, "invalid"),
    ],
)
def test_every_salience_form(text, blend, status):
    parsed = parse_blend(text, IEMOCAP)
    assert (parsed.blend, parsed.status) == (blend, status), parsed.note
    assert parsed.label == (next(iter(blend)) if blend else None)  # the most salient label
    if blend:
        assert list(parsed.blend) == list(blend)  # order: most salient first


def test_notes_say_what_was_assumed():
    assert parse_blend(answer("happy and sad"), IEMOCAP).note == "no salience given; read as 50/50"
    assert "rescaled to 100" in parse_blend(answer("happy 60, sad 60"), IEMOCAP).note
    assert "at most two" in parse_blend(answer("happy 40, sad 30, angry 30"), IEMOCAP).note
    assert parse_blend(answer("happy 70, sad 30"), IEMOCAP).note == ""


def test_blend_quoted_inside_the_reasoning_does_not_count():
    text = "<think>the words say <answer>angry 70, sad 30</answer></think><answer>happy 100</answer>"
    assert parse_blend(text, IEMOCAP).blend == {"happy": 100}


@pytest.mark.parametrize(
    ("data", "blend", "status"),
    [
        (
            {
                "reasoning": "r",
                "evidence": ["great"],
                "blend": [{"label": "happy", "salience": 70}, {"label": "sad", "salience": 30}],
            },
            {"happy": 70, "sad": 30},
            "ok",
        ),
        (
            {"reasoning": "r", "evidence": [], "blend": [{"label": "sad", "salience": 100}]},
            {"sad": 100},
            "ok",
        ),
        ({"blend": {"happy": 70, "sad": 30}}, {"happy": 70, "sad": 30}, "repaired"),
        (
            {"blend": [{"label": "joy", "salience": 50}, {"label": "anger", "salience": 50}]},
            {"happy": 50, "angry": 50},
            "repaired",
        ),
        ({"blend": "mostly happy, some sad"}, {"happy": 70, "sad": 30}, "repaired"),
        ({"label": "angry"}, {"angry": 100}, "repaired"),
        (
            {
                "blend": [
                    {"label": "happy", "salience": 40},
                    {"label": "sad", "salience": 30},
                    {"label": "angry", "salience": 30},
                ]
            },
            None,
            "invalid",
        ),
    ],
)
def test_json_blends(data, blend, status):
    parsed = parse_blend(json.dumps(data), IEMOCAP, "json")
    assert (parsed.blend, parsed.status) == (blend, status), parsed.note
    fenced = parse_blend("Here:\n```json\n" + json.dumps(data) + "\n```", IEMOCAP, "json")
    assert fenced.blend == blend and fenced.status in {"repaired", "invalid"}


V = {"valence": 2.5, "arousal": 4.0, "dominance": 3.0}


@pytest.mark.parametrize(
    ("text", "ratings", "status"),
    [
        (answer("valence=2.5, arousal=4, dominance=3"), V, "ok"),
        (answer("Valence: 2.5, Arousal: 4, Dominance: 3"), V, "ok"),
        (answer("V=2.5, A=4, D=3"), V, "repaired"),
        (answer("valence is 2.5 out of 5, activation 4/5, dominance of 3"), V, "repaired"),
        (answer("2.5, 4, 3"), V, "repaired"),  # unnamed: in the order asked
        ("<answer>valence=2.5, arousal=4, dominance=3</answer>", V, "repaired"),  # no think block
        (answer("valence=6, arousal=4, dominance=3"), {**V, "valence": 5.0}, "repaired"),  # clipped
        (answer("valence=0, arousal=4, dominance=3"), {**V, "valence": 1.0}, "repaired"),
        (answer("valence=2.5, arousal=4"), {"valence": 2.5, "arousal": 4.0}, "repaired"),  # partial
        (answer("valence=9, arousal=4, dominance=3"), None, "invalid"),  # another scale
        (answer("valence=2, valence=4, arousal=3"), None, "invalid"),  # given twice, differently
        (answer("calm and low"), None, "invalid"),
        ("", None, "invalid"),
    ],
)
def test_ratings_forms(text, ratings, status):
    parsed = parse_ratings(text)
    assert (parsed.ratings, parsed.status) == (ratings, status), parsed.note
    assert parsed.label is None


def test_ratings_decisions_are_noted_and_follow_the_scale():
    assert parse_ratings(answer("valence=6, arousal=4, dominance=3")).note == "valence 6 clipped to 5"
    assert parse_ratings(answer("valence=2.5, arousal=4")).note == "missing dominance"
    assert "off the 1–5 scale" in parse_ratings(answer("valence=9, arousal=4, dominance=3")).note
    seven = parse_ratings(answer("valence=6.5, arousal=7, dominance=1"), scale=(1, 7))
    assert (seven.ratings, seven.status) == ({"valence": 6.5, "arousal": 7.0, "dominance": 1.0}, "ok")
    two = parse_ratings(answer("valence=2, arousal=4"), dimensions=("valence", "arousal"))
    assert two.status == "ok"


@pytest.mark.parametrize(
    ("data", "ratings", "status"),
    [
        (
            {"reasoning": "r", "evidence": [], "ratings": {"valence": 2.5, "arousal": 4, "dominance": 3}},
            V,
            "ok",
        ),
        ({"valence": 2.5, "arousal": 4, "dominance": 3}, V, "repaired"),  # flat
        ({"ratings": {"valence": "2.5", "arousal": "4", "dominance": "3"}}, V, "repaired"),  # strings
        ({"ratings": {"valence": 2.5}}, {"valence": 2.5}, "repaired"),
        ({"ratings": {"valence": 20, "arousal": 4, "dominance": 3}}, None, "invalid"),
    ],
)
def test_json_ratings(data, ratings, status):
    parsed = parse_ratings(json.dumps(data), output_format="json")
    assert (parsed.ratings, parsed.status) == (ratings, status), parsed.note


def test_parse_task_follows_the_config():
    blend = parse_task(answer("happy 70, sad 30"), PromptConfig(task="blend"))
    assert (blend.label, blend.blend, blend.ratings) == ("happy", {"happy": 70, "sad": 30}, None)
    rated = parse_task(
        answer("valence=6, arousal=7, dominance=1"), PromptConfig(task="dimensions", scale="1-7")
    )
    assert rated.ratings == {"valence": 6.0, "arousal": 7.0, "dominance": 1.0} and rated.status == "ok"
    label = parse_task(answer("sad"), PromptConfig())
    assert (label.label, label.status, label.blend, label.ratings) == ("sad", "ok", None, None)


# --- Never raises; what comes out is always a well-formed blend or ratings on the scale. ---


def _check(text: str, mode: str) -> None:
    blend = parse_blend(text, IEMOCAP, mode)
    assert blend.status in {"ok", "repaired", "invalid"}
    if blend.blend is not None:
        assert 1 <= len(blend.blend) <= 2 and sum(blend.blend.values()) == 100
        assert set(blend.blend) <= set(IEMOCAP.labels) and list(blend.blend.values()) == sorted(
            blend.blend.values(), reverse=True
        )
    else:
        assert blend.status == "invalid"
    rated = parse_ratings(text, output_format=mode)
    assert rated.status in {"ok", "repaired", "invalid"}
    assert rated.ratings is None or all(1 <= v <= 5 for v in rated.ratings.values())


@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from(["tags", "json"]))
def test_arbitrary_text_never_raises(text, mode):
    _check(text, mode)


piece = st.sampled_from(
    [
        "<think>",
        "</think>",
        "<answer>",
        "</answer>",
        "{",
        "}",
        '"blend": ',
        '"ratings": ',
        '"label": "',
        '"salience": ',
        "happy",
        "sad",
        "joy",
        "mostly",
        "some",
        " 70",
        " 30",
        "%",
        "/",
        ":",
        "=",
        ", ",
        "0.5",
        "valence",
        "arousal",
        "V",
        "A=",
        "7",
        "-",
        "[",
        "]",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(piece, st.text(max_size=4)), max_size=30), st.sampled_from(["tags", "json"]))
def test_answer_soup_never_raises(parts, mode):
    _check("".join(parts), mode)


ADVERSARIAL = {
    "a number and a long run of spaces": ("happy 1" + " " * 60000 + "x", "tags"),
    "a percent between spaces": ("1" + " " * 30000 + "%" + " " * 30000 + "x", "tags"),
    "ratios": ("1/" * 30000, "tags"),
    "label soup with numbers": (" ".join(["happy 70", "sad", "30%", "joy", "mostly"] * 40000), "tags"),
    "dimension soup": ("valence= arousal: v= a= " * 20000, "tags"),
    "answer tags": ("<answer>" * 20000, "tags"),
    "unclosed think": ("<think>" + "happy 70 " * 100000, "tags"),
    "nested blend keys": ('{"blend": ' * 6000 + "1" + "}" * 6000, "json"),
    "nested ratings keys": ('{"ratings": {"valence": ' * 6000 + "1" + "}" * 12000, "json"),
    "10 MB of braces": ("{" * 10_000_000, "json"),
}


@pytest.mark.parametrize(("text", "mode"), ADVERSARIAL.values(), ids=ADVERSARIAL)
def test_adversarial_inputs_parse_in_bounded_time(text, mode):
    start = time.perf_counter()
    _check(text, mode)
    elapsed = time.perf_counter() - start
    assert elapsed < 4.0, f"{elapsed:.1f} s for {len(text)} characters"
    if len(text) > MAX_PARSE_CHARS:
        assert parse_blend(text, IEMOCAP, mode).status != "ok"


# --- Through predict: the rows carry the task, the blend or the ratings. ---


def test_predict_fills_the_task_fields_and_the_cli_writes_them(tmp_path):
    import subprocess
    import sys

    from conftest import EXAMPLE, HANG_GUARD_S, REPO

    from vowelprompt.backends import Sampling
    from vowelprompt.backends.fake import FakeBackend
    from vowelprompt.predict import PredictConfig, iter_predict
    from vowelprompt.records import Annotation

    rows = [Annotation(id=f"u{i}", audio=f"u{i}.wav", status="ok", text="that is great") for i in range(3)]
    script = [
        answer("happy 70, sad 30"),
        answer("mostly sad, some anger"),
        answer("happy 40, sad 30, angry 30"),
    ]
    config = PredictConfig(task="blend")
    preds = list(iter_predict(rows, FakeBackend(responses=script), Sampling(), config))
    assert [(p.task, p.label, p.blend, p.status) for p in preds] == [
        ("blend", "happy", {"happy": 70, "sad": 30}, "ok"),
        ("blend", "sad", {"sad": 70, "angry": 30}, "repaired"),
        ("blend", None, None, "invalid"),
    ]
    assert "ratings" not in preds[0].to_dict() and preds[0].to_dict()["blend"] == {"happy": 70, "sad": 30}

    out = tmp_path / "p.jsonl"
    args = [
        str(EXAMPLE),
        "--backend",
        "fake",
        "--task",
        "dimensions",
        "--scale",
        "1-7",
        "--output-format",
        "json",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "vowelprompt.cli", "predict", *args, "--record-prompt", "-o", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["task"] == "dimensions" and row["status"] == "ok", row  # the fake answers within the schema
    assert row["ratings"] == {"valence": 1.0, "arousal": 1.0, "dominance": 1.0} and "label" in row
    assert "on a scale from 1 to 7" in row["prompt"][1]["content"]
    manifest = json.loads(out.with_name("p.jsonl.run.json").read_text())
    assert manifest["config"]["task"] == "dimensions" and manifest["config"]["scale"] == [1.0, 7.0]
    assert manifest["template"]["name"] == "vowelprompt_dimensions" and manifest["config"]["constrained"]
