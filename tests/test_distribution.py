"""Label distributions (issue 17 §1) without a model: the answer frame every scored answer is rebuilt in,
reading first-token log-probabilities, ``samples:N`` frequencies and the one-line refusals.

The model-backed proofs (the scores of the tiny SmolLM2 sum to 1, pick the answer, and agree with sampling
frequencies) are in tests/test_backend_transformers.py, next to the model they load.
"""

from __future__ import annotations

import math

import pytest

from vowelprompt.backends import Sampling, Structure, structure_choices
from vowelprompt.backends.answers import answer_frame, cap_reasoning, first_token_logprobs, softmax
from vowelprompt.backends.fake import FakeBackend
from vowelprompt.distribution import answer_batch, check_distribution, parse_spec
from vowelprompt.errors import ConfigError
from vowelprompt.labels import get_label_set
from vowelprompt.parse import parse
from vowelprompt.predict import PredictConfig, iter_predict
from vowelprompt.prompts import output_structure

LABELS = get_label_set("iemocap4")  # neutral, happy, angry, sad
CHAT = [{"role": "user", "content": "Which emotion? Choose exactly one of: neutral, happy, angry, sad."}]


@pytest.mark.parametrize(
    ("text", "reasoning"),
    [
        ("<think>low and slow</think><answer>sad</answer>", "low and slow"),
        ("low and slow</think> so <answer>sad", "low and slow"),
        ("low and slow <answer>a mix of sad and angry</answer>", "low and slow"),
        (
            "It is a mix of happiness, anger, sadness, and neutral.",
            "It is a mix of happiness, anger, sadness, and neutral.",
        ),
        ("", ""),
    ],
)
def test_every_rebuilt_tags_answer_parses_ok_with_the_scored_label(text, reasoning):
    head, tails = answer_frame(text, "tags", LABELS.labels)
    for label in LABELS.labels:
        parsed = parse(head + tails[label], LABELS)
        assert (parsed.label, parsed.status, parsed.reasoning) == (label, "ok", reasoning)


@pytest.mark.parametrize(
    "text",
    [
        '{"reasoning": "a \\"quoted\\" rise", "evidence": ["rise"], "label": "an',
        '{"reasoning": "cut off in the mid',
        "No JSON at all, only prose about anger and joy.",
    ],
)
def test_every_rebuilt_json_answer_parses_ok_with_the_scored_label(text):
    head, tails = answer_frame(text, "json", LABELS.labels)
    for label in LABELS.labels:
        parsed = parse(head + tails[label], LABELS, "json")
        assert (parsed.label, parsed.status) == (label, "ok")
    assert parse(head + tails["sad"], LABELS, "json").reasoning in text.replace('\\"', '"')


def test_reasoning_is_capped_after_a_word_and_loses_its_tags():
    text = "<think>" + "rising pitch " * 200
    head, _ = answer_frame(text, "tags", LABELS.labels)
    reasoning = parse(head + "sad</answer>", LABELS).reasoning
    assert len(reasoning) <= 1200 and reasoning.endswith("pitch") and "<" not in reasoning
    assert cap_reasoning("a <answer>sad</answer> b") == "a  sad  b"


def test_structures_name_their_choices_and_hand_made_ones_are_read():
    assert structure_choices(output_structure(LABELS)) == LABELS.labels
    assert structure_choices(output_structure(LABELS, "json")) == LABELS.labels
    assert output_structure(LABELS, "json").output_format == "json"
    assert structure_choices(Structure(regex=r"<answer>(a\.b|c)</answer>")) == ("a.b", "c")
    assert structure_choices(Structure(regex="neutral|happy")) == ()
    assert structure_choices(None) == ()


def test_softmax_sums_to_one_and_keeps_the_order():
    p = softmax({"neutral": -1.0, "happy": -3.0, "angry": -800.0, "sad": -2.0})
    assert math.isclose(sum(p.values()), 1.0) and max(p, key=p.get) == "neutral"
    assert p["angry"] == 0.0  # underflow is a zero, not an error


# --- OpenAI-style first-token log-probabilities --------------------------------------------------------


def tokens(pieces: list[str], top: dict[str, float], at: int) -> list[dict]:
    out = [{"token": t, "logprob": -0.01} for t in pieces]
    out[at]["top_logprobs"] = [{"token": k, "logprob": v} for k, v in top.items()]
    return out


def test_first_token_logprobs_are_read_where_the_answer_starts():
    top = {"sad": -0.5, "ang": -1.5, "neutral": -2.0, "happy": -3.0, "s": -4.0}
    toks = tokens(["<think>", "low", "</think>", "<answer>", "sad", "</answer>"], top, 4)
    text = "".join(t["token"] for t in toks)
    scores, note = first_token_logprobs(text, toks, "tags", LABELS.labels)
    assert note == "" and scores == {"neutral": -2.0, "happy": -3.0, "angry": -1.5, "sad": -0.5}
    toks = tokens(['{"label":"', "sad", '"}'], top, 1)
    assert first_token_logprobs('{"label":"sad"}', toks, "json", LABELS.labels)[0]["sad"] == -0.5


@pytest.mark.parametrize(
    ("pieces", "top", "why"),
    [
        (["<answer>", "sad"], {"sad": -0.1, "neutral": -1.0, "happy": -1.0}, "first token of 'angry'"),
        (["<answer>", "s", "ad"], {"s": -0.1, "neutral": -1.0, "happy": -1.0, "a": -1.0}, "share"),
        (["<answer>s", "ad"], {"sad": -0.1}, "do not reach"),
        (["no answer"], {"sad": -0.1}, "no answer"),
    ],
)
def test_labels_that_cannot_be_told_apart_leave_no_distribution_and_say_why(pieces, top, why):
    labels = get_label_set("neutral,happy,angry,sad") if why != "share" else get_label_set("sad,surprised")
    scores, note = first_token_logprobs(
        "".join(pieces), tokens(pieces, top, min(1, len(pieces) - 1)), "tags", labels.labels
    )
    assert scores is None and why in note


# --- refusals and samples ------------------------------------------------------------------------------


def test_bad_specs_and_impossible_distributions_are_one_line_config_errors():
    assert parse_spec("logprobs") == ("logprobs", 0) and parse_spec(None) is None
    for spec in ("samples", "samples:1", "samples:x", "logprob"):
        with pytest.raises(ConfigError, match="logprobs or samples:N"):
            PredictConfig(distribution=spec)
    with pytest.raises(ConfigError, match="use --distribution samples:N"):
        check_distribution("logprobs", FakeBackend, Sampling())
    with pytest.raises(ConfigError, match="temperature 0"):
        check_distribution("samples:5", FakeBackend(), Sampling())
    with pytest.raises(ConfigError, match="--no-constrained"):
        scoring = type("B", (), {"generate_scored": lambda self: None})
        check_distribution("logprobs", scoring, Sampling(), False)
    check_distribution("samples:5", FakeBackend(), Sampling(temperature=1.0))


def test_predict_refuses_before_asking_the_backend():
    backend = FakeBackend()
    with pytest.raises(ConfigError):
        next(iter_predict([], backend, Sampling(), PredictConfig(distribution="logprobs")))
    assert backend.calls == []


def test_samples_are_label_frequencies_with_invalid_answers_counted_in_the_note():
    script = ["<answer>sad</answer>", "<answer>sad</answer>", "no idea", "<answer>angry</answer>"]
    backend = FakeBackend(responses=script)
    (scored,) = answer_batch(backend, [CHAT], Sampling(temperature=1.0), None, "samples:4", LABELS)
    assert scored.text == script[0] and scored.source == "samples"
    assert scored.distribution == {"neutral": 0.0, "happy": 0.0, "angry": 0.25 / 0.75, "sad": 0.5 / 0.75}
    assert scored.note == "samples: 1 of 4 invalid"
    (scored,) = answer_batch(
        FakeBackend(responses=["?"]), [CHAT], Sampling(temperature=1.0), None, "samples:3", LABELS
    )
    assert scored.distribution is None and scored.note == "samples: 3 of 3 invalid"


def test_each_sample_has_its_own_seed_and_the_first_is_the_runs_answer():
    seeds = []

    class Seeded(FakeBackend):
        def generate(self, conversations, sampling, structure=None):
            seeds.append(sampling.seed)
            return [f"<answer>{LABELS.labels[sampling.seed % 4]}</answer>"] * len(conversations)

    out = answer_batch(Seeded(), [CHAT, CHAT], Sampling(temperature=0.7, seed=5), None, "samples:4", LABELS)
    assert seeds == [5, 6, 7, 8]
    assert [s.text for s in out] == ["<answer>happy</answer>"] * 2  # seed 5, as without --distribution
    assert out[0].distribution == {label: 0.25 for label in LABELS.labels}


# --- the command line ----------------------------------------------------------------------------------


def test_the_cli_refuses_in_one_line_and_writes_the_distribution(tmp_path, capsys):
    import json

    from test_predict import row

    from vowelprompt.cli import main

    annotated = tmp_path / "ann.jsonl"
    annotated.write_text(json.dumps(row("sad", "sad").to_dict()) + "\n")
    fake = [str(annotated), "--backend", "fake"]
    assert main(["predict", *fake, "--distribution", "logprobs"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "samples:N" in err
    assert main(["predict", *fake, "--distribution", "samples:3"]) == 2
    assert "temperature 0" in capsys.readouterr().err
    assert main(["predict", *fake, "--distribution", "samples:3", "--temperature", "1"]) == 0
    assert "Distribution (samples): neutral 1.00, happy 0.00" in capsys.readouterr().out
    out = tmp_path / "p.jsonl"
    assert main(["predict", *fake, "--distribution", "samples:3", "--temperature", "1", "-o", str(out)]) == 0
    (written,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert written["distribution_from"] == "samples" and written["distribution"]["neutral"] == 1.0
    manifest = json.loads((tmp_path / "p.jsonl.run.json").read_text())
    assert manifest["config"]["distribution"] == "samples:3"
