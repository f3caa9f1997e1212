"""predict/evaluate logic with a scripted backend (the model is not what is tested here)."""

from __future__ import annotations

import json

import pytest

from vowelprompt.backends import Sampling, Structure
from vowelprompt.errors import BackendError, ConfigError
from vowelprompt.evaluation import evaluate
from vowelprompt.predict import PredictConfig, iter_predict
from vowelprompt.records import Annotation, Prediction, Vowel, VowelFeatures, VowelSpan


class Scripted:
    """Answers from a function of the user message; can be told to fail on a batch."""

    name = "scripted"
    model = "script-1"

    def __init__(self, answer, fail_batches=()):
        self.answer, self.fail_batches, self.calls = answer, set(fail_batches), []

    def generate(self, conversations, sampling: Sampling, structure: Structure | None = None):
        self.calls.append((conversations, structure))
        if len(self.calls) - 1 in self.fail_batches:
            raise BackendError("server unreachable")
        return [self.answer(c[-1]["content"]) for c in conversations]


def row(uid, label, turn=None, status="ok", text=None):
    feats = VowelFeatures(150.0, 7.0, 1.0, 0.5, -20.0, 2.0, 0.1, 10)
    vowel = Vowel(VowelSpan("AE", "æ", 1, 0.1, 0.2, "w", 0), feats, {}, {"pitch": "high"})
    return Annotation(
        id=uid,
        audio=f"{uid}.wav",
        status=status,
        text=text or f"words of {uid}",
        label=label,
        speaker="a" if (turn or 0) % 2 else "b",
        dialogue="d" if turn is not None else None,
        turn=turn,
        vowels=(vowel,) if status == "ok" else (),
        error=None if status == "ok" else "bad audio",
    )


def by_keyword(user: str) -> str:
    for word, label in (("angry", "angry"), ("sad", "sad"), ("joy", "joy")):
        if f"words of {word}" in user:
            return f"<think>cue</think><answer>{label}</answer>"
    return "I cannot tell."


ROWS = [
    row("angry", "angry"),
    row("sad", "sad"),
    row("joy", "excited"),
    row("other", "neutral"),
    row("broken", "sad", status="audio_error"),
]


def test_one_prediction_per_row_with_statuses_and_provenance():
    backend = Scripted(by_keyword)
    preds = {p.id: p for p in iter_predict(ROWS, backend, Sampling(), PredictConfig(batch_size=2))}
    assert set(preds) == {r.id for r in ROWS}
    assert {k: (p.label, p.status) for k, p in preds.items()} == {
        "angry": ("angry", "ok"),
        "sad": ("sad", "ok"),
        "joy": ("happy", "repaired"),
        "other": (None, "invalid"),
        "broken": (None, "input_error"),
    }
    assert preds["joy"].gold == "happy"  # 'excited' in the 4-class set
    assert preds["broken"].error == "audio_error: bad audio"
    p = preds["angry"]
    assert p.template["name"] == "vowelprompt" and len(p.template["hash"]) == 12
    assert (p.model, p.backend, p.label_set, p.sampling["temperature"]) == (
        "script-1",
        "scripted",
        "iemocap4",
        0.0,
    )
    assert p.raw == "<think>cue</think><answer>angry</answer>"
    # The backend was asked to constrain decoding to the label set.
    assert "(neutral|happy|angry|sad)" in backend.calls[0][1].regex
    assert len(backend.calls) == 2  # 4 ok rows in batches of 2; a batch of only failed rows asks nothing


def test_backend_failure_is_recorded_per_row_and_the_run_goes_on():
    preds = list(
        iter_predict(
            ROWS[:4], Scripted(by_keyword, fail_batches={0}), Sampling(), PredictConfig(batch_size=2)
        )
    )
    assert [p.status for p in preds] == ["backend_error", "backend_error", "repaired", "invalid"]
    assert preds[0].error == "server unreachable"


def test_skip_resumes_only_missing_rows():
    preds = list(iter_predict(ROWS, Scripted(by_keyword), Sampling(), skip={"angry", "sad", "broken"}))
    assert [p.id for p in preds] == ["joy", "other"]


def test_context_template_sees_earlier_turns_only():
    dialogue = [row(f"t{i}", "neutral", turn=i, text=f"line {i}") for i in range(4)]
    backend = Scripted(lambda user: "<think>x</think><answer>neutral</answer>")
    list(
        iter_predict(
            dialogue, backend, Sampling(), PredictConfig(template="transcript_context", context_window=2)
        )
    )
    users = [c[-1]["content"] for c in backend.calls[0][0]]
    assert '"line 1"' in users[3] and '"line 2"' in users[3] and '"line 0"' not in users[3]
    assert "(no earlier turns)" in users[0]


def test_json_mode_parses_json_and_asks_for_a_schema():
    answer = '{"reasoning": "r", "evidence": ["w /æ/: high pitch"], "label": "sad"}'
    backend = Scripted(lambda user: answer)
    [pred] = iter_predict(ROWS[1:2], backend, Sampling(), PredictConfig(output_format="json"))
    assert (pred.label, pred.status, pred.evidence) == ("sad", "ok", ("w /æ/: high pitch",))
    assert backend.calls[0][1].json_schema["properties"]["label"]["enum"] == [
        "neutral",
        "happy",
        "angry",
        "sad",
    ]


def test_evaluate_counts_invalid_as_wrong_and_maps_labels():
    preds = list(iter_predict(ROWS, Scripted(by_keyword), Sampling()))
    result = evaluate(preds)
    assert result.scores.n == 5 and result.scores.accuracy == pytest.approx(3 / 5)
    assert result.scores.invalid_rate == pytest.approx(2 / 5)
    # Cross-corpus: the same predictions scored against MELD gold labels, mapped iemocap4 → meld7.
    gold = {"angry": "anger", "sad": "sadness", "joy": "joy", "other": "surprise", "broken": "fear"}
    cross = evaluate(preds, gold=gold, labels="meld7", map_from="iemocap4")
    assert cross.scores.accuracy == pytest.approx(3 / 5)
    assert cross.mapping.startswith("iemocap4→meld7: neutral→neutral, happy→joy, angry→anger, sad→sadness")


def test_evaluate_reports_gold_outside_the_set():
    preds = [
        Prediction(id="a", status="ok", label="sad", gold="sad", label_set="iemocap4"),
        Prediction(id="b", status="ok", label="sad", gold="frustrated", label_set="iemocap4"),
        Prediction(id="c", status="ok", label="sad", label_set="iemocap4"),
    ]
    result = evaluate(preds)
    assert result.scores.n == 1 and result.excluded == {"frustrated": 1} and result.missing_gold == 1
    with pytest.raises(ConfigError):
        evaluate([])


def test_config_validation():
    with pytest.raises(ConfigError):
        PredictConfig(output_format="xml")
    with pytest.raises(ConfigError):
        PredictConfig(style="speechcue")


def test_the_prompt_is_recorded_on_request():
    backend = Scripted(by_keyword)
    plain = list(iter_predict(ROWS, backend, Sampling(), PredictConfig(batch_size=2)))
    assert all(p.prompt is None and "prompt" not in p.to_dict() for p in plain)
    recorded = list(iter_predict(ROWS, backend, Sampling(), PredictConfig(batch_size=2, record_prompt=True)))
    sent = [chat for conversations, _ in backend.calls[-2:] for chat in conversations]
    assert [p.prompt for p in recorded if p.status != "input_error"] == sent  # exactly what the model saw
    assert [m["role"] for m in recorded[0].prompt] == ["system", "user"]
    assert "words of angry" in recorded[0].prompt[-1]["content"]
    assert next(p for p in recorded if p.id == "broken").prompt is None  # never asked
    assert Prediction.from_dict(json.loads(json.dumps(recorded[0].to_dict()))) == recorded[0]
    failing = Scripted(by_keyword, fail_batches={0})
    failed = list(iter_predict(ROWS[:2], failing, Sampling(), PredictConfig(record_prompt=True)))
    assert all(p.status == "backend_error" and p.prompt for p in failed)


def test_cli_records_prompts_and_counts_progress_per_utterance(tmp_path, monkeypatch):
    import tqdm

    from vowelprompt.cli import main

    bars = []

    class Bar(tqdm.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "disable": True})
            self.options, self.steps = kwargs, []
            bars.append(self)

        def update(self, n=1):
            self.steps.append(n)

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    annotations = tmp_path / "ann.jsonl"
    annotations.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in ROWS))
    out = tmp_path / "p.jsonl"
    main(
        [
            "predict",
            str(annotations),
            "--backend",
            "fake",
            "--batch-size",
            "2",
            "--record-prompt",
            "-o",
            str(out),
        ]
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["prompt"][-1]["role"] == "user" for r in rows if r["status"] == "ok")
    [bar] = [b for b in bars if b.options.get("desc") == "predict"]
    assert bar.options["total"] == len(ROWS) and bar.options["unit"] == "utterance"
    assert bar.steps == [1] * len(ROWS)  # one step per utterance, not one per batch of 2
    main(["predict", str(annotations), "--backend", "fake", "-o", str(tmp_path / "q.jsonl"), "-q"])
    assert all("prompt" not in json.loads(line) for line in (tmp_path / "q.jsonl").read_text().splitlines())
