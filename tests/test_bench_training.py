"""The training proof's CI-sized run: ``benchmarks/bench_training.py --quick`` launched as a user would.

It builds the prosody-only corpus, fits statistics, builds SFT and GRPO datasets per prompt style, trains
SmolLM2-135M with both recipes (a few steps: this checks the machinery, not the accuracy — the full run's
figures are in the README), predicts the unseen test voices with ``vowelprompt predict --model <adapter
folder>`` after each stage and scores them with ``vowelprompt evaluate``. About 5 minutes on 2 CPUs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LLM_INSTALL, LLM_MODULES, need_espeak, require

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    need_espeak()
    modules = ("trl", "peft", "datasets", "sklearn", *LLM_MODULES)
    require(modules, LLM_INSTALL + " && pip install -c constraints.txt -e '.[train,eval]'")
    out = tmp_path_factory.mktemp("bench") / "run"
    cmd = [sys.executable, str(REPO / "benchmarks" / "bench_training.py"), str(out), "--quick"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


def test_every_style_is_trained_predicted_and_scored(quick_run):
    out, stdout = quick_run
    results = json.loads((out / "results.json").read_text())
    assert [r["style"] for r in results["results"]] == ["transcript", "speechcue", "vowelprompt"]
    test_ids = {json.loads(line)["id"] for line in (out / "test.annotations.jsonl").read_text().splitlines()}
    assert len(test_ids) == 8
    for r in results["results"]:
        for stage in ("sft", "grpo"):
            scores = r[stage]
            assert scores["n"] == 8 and 0 <= scores["accuracy"] <= 1 and 0 <= scores["invalid_rate"] <= 1
            preds = [json.loads(x) for x in (out / "predictions" / f"{r['style']}-{stage}.jsonl").open()]
            assert {p["id"] for p in preds} == test_ids  # no item lost
            # predict --model <the adapter folder the recipe wrote>
            assert {p["model"] for p in preds} == {str(out / "runs" / r["style"] / stage)}
            assert {p["template"]["name"] for p in preds} == {r["style"]}
        assert r["grpo_accuracy_reward"] is not None  # GRPO logged its accuracy reward
        assert r["grpo_drift"]["kl"] >= 0 and r["grpo_drift"]["entropy"] >= 0
    assert set(results["probes"]) == {"utterance-level descriptors", "vowel-level descriptors"}
    assert "| vowelprompt |" in stdout and (out / "results.md").read_text().startswith("| prompt |")


def test_test_voices_are_unseen_and_traces_fit_each_prompt(quick_run):
    out, _ = quick_run
    speakers = {
        part: {json.loads(x)["speaker"] for x in (out / f"{part}.annotations.jsonl").open()}
        for part in ("train", "test")
    }
    assert speakers["train"] and speakers["test"] and not speakers["train"] & speakers["test"]
    for style in ("transcript", "speechcue", "vowelprompt"):
        rows = [json.loads(x) for x in (out / "data" / style / "sft" / "train.jsonl").open()]
        traces = [r["completion"][0]["content"] for r in rows]
        if style == "vowelprompt":  # the benchmark's --cite 0: the vowels' lean, no single vowel cited
            assert all(t.startswith("<think>Across the vowels, the pitch") for t in traces)
        else:
            assert not any("vowel" in t.lower() for t in traces)


def test_a_rerun_resumes_without_retraining(quick_run):
    out, _ = quick_run
    adapter = out / "runs" / "vowelprompt" / "grpo" / "adapter_model.safetensors"
    before = adapter.stat().st_mtime_ns
    script = str(REPO / "benchmarks" / "bench_training.py")
    cmd = [sys.executable, script, str(out), "--quick", "--styles", "vowelprompt"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert adapter.stat().st_mtime_ns == before and proc.stdout.count("(done)") >= 6
    # The resumed run reports what every step cost, not only its own few seconds.
    minutes = json.loads((out / "results.json").read_text())["minutes"]
    recorded = sum(float(p.read_text()) for p in (out / "logs").glob("*.seconds")) / 60
    assert {"corpus.seconds", "fit-stats.seconds", "vowelprompt-grpo.seconds"} <= {
        p.name for p in (out / "logs").glob("*.seconds")
    }
    assert minutes["steps"] == pytest.approx(recorded) and minutes["steps"] > 2 * minutes["this_run"]


def test_reads_cues_scores_what_a_trace_states_against_the_vowels(quick_run, tmp_path):
    """The diagnostic behind the README's "states the true lean" line, on traces with a known answer."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_training import _stated, reads_cues

    from vowelprompt.records import Annotation
    from vowelprompt.training_data import deterministic_trace

    out, _ = quick_run
    test = out / "test.annotations.jsonl"
    rows = [Annotation.from_dict(json.loads(x)) for x in test.open()]
    # (pitch slope, pitch) leans → emotion, as the corpus is built
    design = {("up", "up"): "happy", ("down", "up"): "angry", ("up", "down"): "neutral",
              ("down", "down"): "sad"}  # fmt: skip

    def score(traces: list[str], answer) -> dict:
        path = tmp_path / "predictions.jsonl"
        path.write_text("".join(json.dumps({"id": r.id, "raw": t, "label": answer(t)}) + "\n"
                                for r, t in zip(rows, traces, strict=True)))  # fmt: skip
        return reads_cues(path, test)

    true = [deterministic_trace(r, "x") if r.ok else "" for r in rows]
    readable = sum(_stated(t) is not None for t in true) / len(rows)
    assert readable > 0.5  # most test rows lean clearly one way (the corpus's design)
    right = score(true, lambda t: design.get(_stated(t)))
    assert right == {"stated_right": readable, "answer_follows": 1.0}
    assert score(true, lambda t: "none")["answer_follows"] == 0.0
    flipped = [t.replace("rises", "RISE").replace("falls", "rises").replace("RISE", "falls") for t in true]
    assert score(flipped, lambda t: "sad")["stated_right"] == 0.0


def test_reward_thirds_reports_the_rise_and_its_noise(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_training import reward_thirds

    state = tmp_path / "trainer_state.json"
    rewards = [0.0, 0.5, 0.25, 0.5, 0.75, 1.0]
    history = [{"step": i, "rewards/accuracy/mean": r} for i, r in enumerate(rewards)] + [{"train_loss": 0.1}]
    state.write_text(json.dumps({"log_history": history}))
    first, last, se = reward_thirds(state)
    assert (first, last) == (0.25, 0.875)
    assert se == pytest.approx(((0.125 + 0.03125) / 2) ** 0.5)  # sample variances of (0, .5) and (.75, 1)
    history = [{"rewards/accuracy/mean": 0.5}, {"rewards/accuracy/mean": 1.0}]
    state.write_text(json.dumps({"log_history": history}))
    assert reward_thirds(state) == (0.5, 1.0, None)  # one step a third: no error estimate
    assert reward_thirds(tmp_path / "missing.json") is None
