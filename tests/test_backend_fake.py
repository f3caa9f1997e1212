"""The scripted backend: defaults that follow the prompt and the structure, scripts, recording."""

from __future__ import annotations

import json

import pytest

from vowelprompt.backends import Sampling, Structure, get_backend
from vowelprompt.backends.fake import FakeBackend
from vowelprompt.errors import ConfigError
from vowelprompt.labels import get_label_set
from vowelprompt.prompts import load_template, output_structure

LABELS = "Choose exactly one of:\n  frustrated, angry, sad.\nThink step by step."


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "one of: system, labels"}, {"role": "user", "content": text}]


def test_default_names_the_first_label_listed_in_the_last_user_message():
    assert FakeBackend().generate([chat(LABELS)], Sampling()) == [
        "<think>fake</think><answer>frustrated</answer>"
    ]


def test_default_without_a_label_list_is_neutral():
    assert FakeBackend().generate([chat("How are you?")], Sampling()) == [
        "<think>fake</think><answer>neutral</answer>"
    ]


def test_default_follows_the_structure_over_the_prompt():
    labels = get_label_set("meld7")
    regex = output_structure(labels)
    text = FakeBackend().generate([chat(LABELS)], Sampling(), regex)[0]
    assert text == f"<think>fake</think><answer>{labels.labels[0]}</answer>"
    schema = output_structure(labels, "json")
    answer = json.loads(FakeBackend().generate([chat(LABELS)], Sampling(), schema)[0])
    assert answer == {"reasoning": "fake", "evidence": [], "label": labels.labels[0]}


def test_default_reads_the_shipped_templates_label_list():
    labels = get_label_set("iemocap4")
    template = load_template("transcript")
    conversation = template.render(
        {"transcript": "I can't believe it.", "labels": ", ".join(labels.labels), "output_instructions": "."}
    )
    assert FakeBackend().generate([conversation], Sampling()) == [
        f"<think>fake</think><answer>{labels.labels[0]}</answer>"
    ]


def test_a_list_of_responses_cycles_across_calls():
    backend = FakeBackend(responses=["a", "b", "c"])
    assert backend.generate([chat("1"), chat("2")], Sampling()) == ["a", "b"]
    assert backend.generate([chat("3"), chat("4")], Sampling()) == ["c", "a"]


def test_a_function_answers_each_conversation():
    backend = FakeBackend(responses=lambda conversation: conversation[-1]["content"].upper())
    assert backend.generate([chat("x"), chat("y")], Sampling(), Structure(regex="x")) == ["X", "Y"]


def test_responses_from_text_and_jsonl_files(tmp_path):
    text = tmp_path / "r.txt"
    text.write_text("<answer>sad</answer>\n\n<answer>angry</answer>\n", encoding="utf-8")
    assert FakeBackend(responses=text).generate([chat("")] * 3, Sampling()) == [
        "<answer>sad</answer>",
        "<answer>angry</answer>",
        "<answer>sad</answer>",
    ]
    rows = tmp_path / "r.jsonl"
    rows.write_text('"<think>a\\nb</think>"\n{"response": ""}\n', encoding="utf-8")
    assert FakeBackend(responses=str(rows)).generate([chat("")] * 2, Sampling()) == [
        "<think>a\nb</think>",
        "",
    ]


def test_calls_record_every_conversation_in_order():
    backend = get_backend("fake", model="scripted")
    backend.generate([chat("1"), chat("2")], Sampling())
    backend.generate([chat("3")], Sampling())
    assert (backend.name, backend.model) == ("fake", "scripted")
    assert [c[-1]["content"] for c in backend.calls] == ["1", "2", "3"]
    assert backend.generate([], Sampling()) == []


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda p: p / "missing.txt", "cannot read"),
        (lambda p: (p / "empty.txt").write_text("\n") and p / "empty.txt", "at least one"),
        (lambda p: (p / "bad.jsonl").write_text('{"text": "x"}\n') and p / "bad.jsonl", "response"),
    ],
    ids=["missing", "empty", "no-response-field"],
)
def test_bad_scripts_are_config_errors(tmp_path, write, message):
    with pytest.raises(ConfigError, match=message):
        FakeBackend(responses=write(tmp_path))
