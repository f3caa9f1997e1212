"""Training datasets: selection, balance, traces (deterministic and teacher), TRL row formats."""

from __future__ import annotations

from collections import Counter

import pytest

from vowelprompt.backends import Sampling
from vowelprompt.errors import ConfigError
from vowelprompt.prompts import PromptConfig
from vowelprompt.records import Annotation, Vowel, VowelFeatures, VowelSpan
from vowelprompt.rewards import accuracy_reward, blend_reward, format_reward, grounding_reward, rating_reward
from vowelprompt.training_data import DatasetConfig, build_rows, deterministic_trace, split, teacher_traces

FEATS = VowelFeatures(150.0, 7.0, 20.0, 0.5, -20.0, 2.0, 0.2, 10)


def row(uid: str, label: str | None, status: str = "ok") -> Annotation:
    loud = Vowel(
        VowelSpan("EY", "eɪ", 1, 0.1, 0.3, "great", 1),
        FEATS,
        {"pitch": 2.1, "energy": 1.5, "duration": 0.2, "pitch_slope": 2.0},
        {"pitch": "very high", "energy": "high", "duration": "medium", "pitch_slope": "steeply rising"},
    )
    flat = Vowel(VowelSpan("AE", "æ", 1, 0.0, 0.1, "that", 0), FEATS, {"pitch": -0.1}, {"pitch": "medium"})
    return Annotation(
        id=uid,
        audio=f"{uid}.wav",
        status=status,
        text="that is great",
        label=label,
        vowels=(flat, loud) if status == "ok" else (),
    )


ROWS = (
    [row(f"h{i}", "happy") for i in range(6)]
    + [row(f"s{i}", "sad") for i in range(2)]
    + [row("x", None), row("bad", "sad", status="audio_error"), row("f", "frustrated")]
)


def test_deterministic_trace_is_grounded_well_formed_and_correct():
    trace = deterministic_trace(ROWS[0], "happy")
    assert trace.startswith('<think>The vowel /eɪ/ in "great" has very high pitch')
    assert "steeply rising" not in trace.split(".")[0]  # one cue by default, the most extreme
    assert deterministic_trace(ROWS[0], "happy", top=0).startswith("<think>Across the vowels, the pitch")
    two = deterministic_trace(ROWS[0], "happy", top=2)
    assert "a steeply rising pitch" in two and '"that"' not in two  # the flat, medium vowel is never cited
    assert trace.endswith(
        "Across the vowels, the pitch mostly rises and it leans high; intensity leans high; durations are "
        "mostly medium. Together with the words, this fits happy.</think><answer>happy</answer>"
    )
    prompt = build_rows([ROWS[0]], "grpo")[0]["prompt"]
    kw = {"prompts": [prompt], "completions": [trace], "label": ["happy"]}
    assert accuracy_reward()(**kw) == format_reward()(**kw) == grounding_reward()(**kw) == [1.0]


def test_traces_cite_only_what_their_prompt_shows():
    from dataclasses import replace

    from vowelprompt.records import UtteranceProsody

    utt = UtteranceProsody(2.0, 1.0, -20.0, 3.0, 4.0, {}, {"volume": "high", "pitch": "low", "rate": "low"})
    r = replace(ROWS[0], utterance=utt)
    by_template = {
        t: build_rows([r], "sft", DatasetConfig(prompt=PromptConfig(template=t)))[0]
        for t in ("transcript", "speechcue", "vowelprompt")
    }
    text = {t: row["completion"][0]["content"] for t, row in by_template.items()}
    assert "vowel" in text["vowelprompt"] and "vowel" not in text["speechcue"] + text["transcript"]
    assert "The speech has high volume, low pitch, low speaking rate." in text["speechcue"]
    assert "high volume" in by_template["speechcue"]["prompt"][1]["content"]  # cited cues are in the prompt
    assert (
        text["transcript"]
        == "<think>Only the words are given, and they fit happy.</think><answer>happy</answer>"
    )
    assert all(t.endswith("<answer>happy</answer>") for t in text.values())
    assert "could not be measured" in deterministic_trace(ROWS[0], "sad", cues="utterance")
    with pytest.raises(ConfigError):
        deterministic_trace(ROWS[0], "sad", cues="words")


def test_sft_and_grpo_rows_have_trl_shapes():
    sft = build_rows(ROWS, "sft")
    assert {r["id"] for r in sft} == {f"h{i}" for i in range(6)} | {
        "s0",
        "s1",
    }  # unlabelled/failed/out-of-set left out
    first = sft[0]
    assert [m["role"] for m in first["prompt"]] == ["system", "user"]
    assert first["completion"][0]["role"] == "assistant" and first["completion"][0]["content"].endswith(
        "<answer>happy</answer>"
    )
    grpo = build_rows(ROWS, "grpo")
    assert set(grpo[0]) == {"id", "prompt", "label"}


def test_task_rows_carry_gold_columns_and_answer_in_the_task_form():
    vad = {"valence": 4.5, "arousal": 3.5, "dominance": 3.0}
    gold = {"h0": {"id": "h0", "vad": vad}, "h1": {"vad": None, "blend": {"happy": 70, "sad": 30}}}
    dims = DatasetConfig(prompt=PromptConfig(task="dimensions"))
    sft = build_rows(ROWS, "sft", dims, gold=gold)
    assert [r["id"] for r in sft] == ["h0"]  # only a row with gold ratings can teach them
    text = sft[0]["completion"][0]["content"]
    assert text.endswith("<answer>valence=4.5, arousal=3.5, dominance=3</answer>")
    assert rating_reward()(completions=[text], vad=[vad]) == format_reward()(completions=[text]) == [1.0]
    assert "on a scale from 1 to 5" in sft[0]["prompt"][1]["content"]
    grpo = build_rows(ROWS, "grpo", dims, gold=gold)
    assert grpo[0]["vad"] == vad and set(grpo[1]) == {"id", "prompt", "label", "blend"}
    blends = build_rows(ROWS, "sft", DatasetConfig(prompt=PromptConfig(task="blend")), gold=gold)
    texts = {r["id"]: r["completion"][0]["content"] for r in blends}
    assert texts["h1"].endswith("<answer>happy 70, sad 30</answer>")
    assert texts["s0"].endswith("<answer>sad 100</answer>")
    assert blend_reward()(completions=[texts["h1"]], blend=[gold["h1"]["blend"]]) == [1.0]
    with pytest.raises(ConfigError, match="deterministic traces"):
        teacher_traces(ROWS[:1], None, PromptConfig(task="blend"))


def test_fraction_seed_and_balance():
    a = build_rows(ROWS, "grpo", DatasetConfig(fraction=0.5, seed=1))
    b = build_rows(ROWS, "grpo", DatasetConfig(fraction=0.5, seed=1))
    c = build_rows(ROWS, "grpo", DatasetConfig(fraction=0.5, seed=2))
    assert len(a) == 4 and [r["id"] for r in a] == [r["id"] for r in b] != [r["id"] for r in c]
    balanced = build_rows(ROWS, "grpo", DatasetConfig(balanced=True))
    assert Counter(r["label"] for r in balanced) == {"happy": 2, "sad": 2}
    train, held = split(build_rows(ROWS, "grpo"), 0.25, seed=0)
    assert len(held) == 2 and not {r["id"] for r in train} & {r["id"] for r in held}
    with pytest.raises(ConfigError):
        DatasetConfig(fraction=0)


def test_interleave_alternates_classes_and_keeps_every_row():
    rows = ROWS + [row(f"n{i}", "neutral") for i in range(3)]
    plain = build_rows(rows, "grpo")
    mixed = build_rows(rows, "grpo", DatasetConfig(interleave=True, seed=5))
    assert sorted(r["id"] for r in mixed) == sorted(r["id"] for r in plain)
    # one of each class per round while all last (happy 6, neutral 3, sad 2), then the rest in rotation
    expected = ["happy", "neutral", "sad"] * 2 + ["happy", "neutral"] + ["happy"] * 3
    assert [r["label"] for r in mixed] == expected
    again = build_rows(rows, "grpo", DatasetConfig(interleave=True, seed=5))
    other = build_rows(rows, "grpo", DatasetConfig(interleave=True, seed=6))
    assert [r["id"] for r in again] == [r["id"] for r in mixed] != [r["id"] for r in other]


class Teacher:
    """Scripted teacher: explains the label it is told, except for ids listed as disagreeing."""

    name, model = "scripted", "teacher"

    def __init__(self, disagree=(), garbage=()):
        self.disagree, self.garbage, self.seen = set(disagree), set(garbage), []

    def generate(self, conversations, sampling, structure=None):
        out = []
        for conv in conversations:
            user = conv[-1]["content"]
            self.seen.append(user)
            label = user.rsplit("The correct emotion label for this utterance is: ", 1)[1].split(".")[0]
            key = "disagree" if any(f"#{d}#" in user for d in self.disagree) else ""
            if any(f"#{g}#" in user for g in self.garbage):
                out.append("I refuse.")
            else:
                out.append(
                    f'<think>"great" has very high pitch.</think><answer>{"sad" if key else label}</answer>'
                )
        return out


def test_teacher_traces_drop_and_count_disagreements():
    rows = [
        Annotation(**{**r.to_dict(), "text": f"#{r.id}# that is great", "vowels": r.vowels}) for r in ROWS[:4]
    ]
    teacher = Teacher(disagree={"h1"}, garbage={"h2"})
    traces, report = teacher_traces(rows, teacher, PromptConfig(), Sampling())
    assert set(traces) == {"h0", "h3"}
    assert (report.kept, report.dropped_disagree, report.dropped_invalid) == (2, 1, 1)
    assert "The correct emotion label for this utterance is: happy." in teacher.seen[0]
    sft = build_rows(rows, "sft", traces=traces)
    assert [r["id"] for r in sft] == ["h0", "h3"]  # rows without an agreeing trace are left out
    assert (
        sft[0]["completion"][0]["content"]
        == '<think>"great" has very high pitch.</think><answer>happy</answer>'
    )


def test_build_dataset_cli_on_real_annotations(corpus, tmp_path):
    import json
    import subprocess
    import sys

    from conftest import REPO

    annotated = tmp_path / "ann.jsonl"
    cli = [sys.executable, "-m", "vowelprompt.cli"]
    subprocess.run([*cli, "annotate", str(corpus), "-o", str(annotated), "-q"], cwd=REPO, check=True)
    rows = [json.loads(line) for line in annotated.read_text().splitlines()]
    for r in rows:  # a label per voice, as a corpus would carry
        r["label"] = "happy" if r["speaker"] == "en-us+m3" else "sad"
    annotated.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "sft"
    proc = subprocess.run(
        [
            *cli,
            "build-dataset",
            str(annotated),
            "--kind",
            "sft",
            "-o",
            str(out),
            "--fraction",
            "0.5",
            "--eval-fraction",
            "0.34",
            "--seed",
            "3",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    train = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    held = [json.loads(line) for line in (out / "eval.jsonl").read_text().splitlines()]
    assert len(train) + len(held) == 6 and len(held) == 2
    assert all(r["completion"][0]["content"].endswith(f"<answer>{r['label']}</answer>") for r in train)
    assert "The vowel /" in train[0]["prompt"][1]["content"]
    info = json.loads((out / "info.json").read_text())
    assert info["train"] == len(train) and sum(info["classes"].values()) == len(train)
    assert all(r["completion"][0]["content"].startswith("<think>The vowel /") for r in train)  # --cite 1

    summary_only = tmp_path / "sft-cite0"
    proc = subprocess.run(
        [*cli, "build-dataset", str(annotated), "--kind", "sft", "-o", str(summary_only), "--cite", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    traces = [json.loads(line)["completion"][0]["content"] for line in (summary_only / "train.jsonl").open()]
    assert len(traces) == 12 and all(t.startswith("<think>Across the vowels, the pitch") for t in traces)
    proc = subprocess.run(
        [*cli, "build-dataset", str(annotated), "--kind", "sft", "-o", str(tmp_path / "x"), "--cite", "-1"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "cite must be 0 or more" in proc.stderr
    assert "Traceback" not in proc.stderr

    mixed = tmp_path / "grpo-interleaved"
    proc = subprocess.run(
        [*cli, "build-dataset", str(annotated), "--kind", "grpo", "-o", str(mixed), "--interleave"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    labels = [json.loads(line)["label"] for line in (mixed / "train.jsonl").open()]
    assert labels == ["happy", "sad"] * 6
