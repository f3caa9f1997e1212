"""The training proof's smallest run, ``benchmarks/bench_training.py --smoke --styles vowelprompt``, launched
as a user would. Marked ``bench``: ``make bench-smoke`` runs them (and CI), ``make test`` does not (~5 min).

It builds the prosody-only corpus (16 utterances), fits statistics, builds the SFT and GRPO datasets of one
prompt style, trains SmolLM2-135M with both recipes (one step each: this checks that the steps connect, not
the accuracy), predicts 4 rows of the unseen test voice with ``vowelprompt predict --model <adapter folder>``
after each stage and scores them with ``vowelprompt evaluate``. The same checks for every style, on more
steps, run in the benchmark itself (its ``check``, at every scale: ``--quick`` for the CI-sized run of all
three styles); ``tests/test_recipes.py`` checks the recipes' own outputs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_GUARD_S, LLM_INSTALL, LLM_MODULES, need_espeak, require

REPO = Path(__file__).resolve().parent.parent
SMOKE = ["--smoke", "--styles", "vowelprompt"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    need_espeak()
    modules = ("trl", "peft", "datasets", "sklearn", *LLM_MODULES)
    require(modules, LLM_INSTALL + " && pip install -c constraints.txt -e '.[train,eval]'")
    out = tmp_path_factory.mktemp("bench") / "run"
    cmd = [sys.executable, str(REPO / "benchmarks" / "bench_training.py"), str(out), *SMOKE]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


@pytest.mark.bench
def test_a_style_is_trained_predicted_and_scored(smoke_run):
    out, stdout = smoke_run
    results = json.loads((out / "results.json").read_text())
    assert [r["style"] for r in results["results"]] == ["vowelprompt"]
    test_ids = {json.loads(line)["id"] for line in (out / "test.annotations.jsonl").read_text().splitlines()}
    assert len(test_ids) == 4
    for r in results["results"]:
        for stage in ("sft", "grpo"):
            scores = r[stage]
            assert scores["n"] == 4 and 0 <= scores["accuracy"] <= 1 and 0 <= scores["invalid_rate"] <= 1
            preds = [json.loads(x) for x in (out / "predictions" / f"{r['style']}-{stage}.jsonl").open()]
            assert {p["id"] for p in preds} == test_ids  # no item lost
            # predict --model <the adapter folder the recipe wrote>
            assert {p["model"] for p in preds} == {str(out / "runs" / r["style"] / stage)}
            assert {p["template"]["name"] for p in preds} == {r["style"]}
        assert r["grpo_accuracy_reward"] is not None  # GRPO logged its accuracy reward
        assert r["grpo_drift"]["kl"] >= 0 and r["grpo_drift"]["entropy"] >= 0
        # read back from the completions GRPO logged: its one step draws angry and happy (--interleave)
        assert set(r["grpo_reward_by_class"]) == {"angry", "happy"}
        by_class = r["grpo_reward_by_class"]
        assert all(0 <= v <= 1 for pair in by_class.values() for v in pair)
        reads = r["grpo_sampled_reads"]  # only VowelPrompt traces state how the vowels lean
        if r["style"] != "vowelprompt":
            assert reads is None
        elif reads is not None:  # a 1-step SFT model may not write the lean sentence yet
            assert set(reads) == {"stated_right", "answer_follows"}
            assert all(0 <= v <= 1 for pair in reads.values() for v in pair)
    assert set(results["probes"]) == {"utterance-level descriptors", "vowel-level descriptors"}
    assert "| vowelprompt |" in stdout and (out / "results.md").read_text().startswith("| prompt |")
    assert "\nchecks: every style trained, predicted and scored" in stdout  # the benchmark's own check passed


@pytest.mark.bench
def test_test_voices_are_unseen_and_traces_fit_the_prompt(smoke_run):
    out, _ = smoke_run
    speakers = {
        part: {json.loads(x)["speaker"] for x in (out / f"{part}.annotations.jsonl").open()}
        for part in ("train", "test")
    }
    assert speakers["train"] and speakers["test"] and not speakers["train"] & speakers["test"]
    # The other styles' traces name no vowel: test_training_data.py, and the benchmark's check on every run.
    data = out / "data" / "vowelprompt"
    traces = [json.loads(x)["completion"][0]["content"] for x in (data / "sft" / "train.jsonl").open()]
    # the benchmark's --cite 0: the vowels' lean, no single vowel cited
    assert traces and all(t.startswith("<think>Across the vowels, the pitch") for t in traces)
    grpo = [json.loads(x)["label"] for x in (data / "grpo" / "train.jsonl").open()]
    classes = sorted(set(grpo))  # --interleave: one prompt of each class in turn (the corpus is balanced)
    assert len(classes) == 4 and grpo == classes * (len(grpo) // 4)


@pytest.mark.bench
def test_a_rerun_resumes_without_retraining(smoke_run):
    out, _ = smoke_run
    adapter = out / "runs" / "vowelprompt" / "grpo" / "adapter_model.safetensors"
    before = adapter.stat().st_mtime_ns
    script = str(REPO / "benchmarks" / "bench_training.py")
    cmd = [sys.executable, script, str(out), *SMOKE]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert adapter.stat().st_mtime_ns == before and proc.stdout.count("(done)") >= 6
    # The resumed run reports what every step cost, not only its own few seconds.
    minutes = json.loads((out / "results.json").read_text())["minutes"]
    recorded = sum(float(p.read_text()) for p in (out / "logs").glob("*.seconds")) / 60
    assert {"corpus.seconds", "fit-stats.seconds", "vowelprompt-grpo.seconds"} <= {
        p.name for p in (out / "logs").glob("*.seconds")
    }
    assert minutes["steps"] == pytest.approx(recorded) and minutes["steps"] > 2 * minutes["this_run"]


@pytest.mark.bench
def test_reads_cues_scores_what_a_trace_states_against_the_vowels(smoke_run, tmp_path):
    """The diagnostic behind the README's "states the true lean" line, on traces with a known answer."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_training import _stated, reads_cues

    from vowelprompt.records import Annotation
    from vowelprompt.training_data import deterministic_trace

    out, _ = smoke_run
    test = out / "test.annotations.jsonl"
    rows = [Annotation.from_dict(json.loads(x)) for x in test.open()]
    # (pitch slope, pitch) leans → emotion, as the corpus is built
    design = {
        ("up", "up"): "happy",
        ("down", "up"): "angry",
        ("up", "down"): "neutral",
        ("down", "down"): "sad",
    }

    def score(traces: list[str], answer) -> dict:
        path = tmp_path / "predictions.jsonl"
        path.write_text(
            "".join(
                json.dumps({"id": r.id, "raw": t, "label": answer(t)}) + "\n"
                for r, t in zip(rows, traces, strict=True)
            )
        )
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


def _prompt(text):
    return [{"role": "system", "content": "s"}, {"role": "user", "content": text}]


def _log_grpo(tmp_path, labels, steps, prompts=None):
    """A GRPO dataset of one prompt per label (``LABEL1`` unless ``prompts`` are given), and a
    ``completions/`` log of (prompt, completion, accuracy) rows per step, as ``log_completions`` writes it."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "train.jsonl"
    prompts = prompts or [x + "1" for x in labels]
    data.write_text(
        "".join(json.dumps({"prompt": _prompt(p), "label": x}) + "\n" for p, x in zip(prompts, labels))
    )
    logs = tmp_path / "grpo" / "completions"
    logs.mkdir(parents=True)
    for step, rows in enumerate(steps, start=1):
        frame = pd.DataFrame(
            {
                "step": step,
                "prompt": [_prompt(p) for p, _, _ in rows],
                "completion": [[{"role": "assistant", "content": c}] for _, c, _ in rows],
                "accuracy": [a for _, _, a in rows],
            }
        )
        frame.to_parquet(logs / f"completions_{step:05d}.parquet")
    return tmp_path / "grpo", data


def test_reward_by_class_splits_the_curve_by_gold_label(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_training import logged_completions, reward_by_class

    # 3 steps, one prompt per class per step; sad goes 0 → 1, joy 1 → 0.5; an unknown prompt is ignored
    accuracy = [([0.0, 0.0], [1.0, 1.0]), ([1.0, 0.0], [1.0, 1.0]), ([1.0, 1.0], [1.0, 0.0])]
    steps = [
        [("sad1", "x", a) for a in sad] + [("joy1", "x", a) for a in joy] + [("other", "x", 0.0)]
        for sad, joy in accuracy
    ]
    grpo, data = _log_grpo(tmp_path, ["sad", "joy"], steps)
    assert reward_by_class(logged_completions(grpo, data)) == {"sad": (0.0, 1.0), "joy": (1.0, 0.5)}
    assert reward_by_class(logged_completions(tmp_path / "nothing", data)) is None


def test_the_read_order_tells_apart_rows_with_the_same_prompt(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_training import logged_completions, reward_by_class

    # transcript-only prompts: one sentence in two emotions is one text; 2 completions per prompt, in order
    step = [("same", "x", 0.0), ("same", "x", 0.0), ("same", "x", 1.0), ("same", "x", 1.0)]
    grpo, data = _log_grpo(tmp_path, ["sad", "joy"], [step] * 3, prompts=["same", "same"])
    assert reward_by_class(logged_completions(grpo, data, group=2)) == {"sad": (0.0, 0.0), "joy": (1.0, 1.0)}
    # by text alone every row is ambiguous: none is guessed
    assert reward_by_class(logged_completions(grpo, data)) is None
    # a shuffled read (b before a) is not the dataset's order: the labels come from the (distinct) texts
    shuffled = [("b", "x", 1.0), ("b", "x", 1.0), ("a", "x", 0.0), ("a", "x", 0.0)]
    grpo, data = _log_grpo(tmp_path / "shuffled", ["sad", "joy"], [shuffled] * 3, prompts=["a", "b"])
    assert reward_by_class(logged_completions(grpo, data, group=2)) == {"sad": (0.0, 0.0), "joy": (1.0, 1.0)}


def test_sampled_reads_tells_reading_from_following(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_training import logged_completions, sampled_reads

    def trace(slope, level, answer):
        lean = f"the pitch mostly {slope} and it leans {level}"
        return f"<think>Across the vowels, {lean}; intensity leans low.</think><answer>{answer}</answer>"

    # the corpus's design: rises + low = neutral, falls + low = sad
    first = [
        ("sad1", trace("falls", "low", "sad"), 1.0),
        ("sad1", trace("falls", "low", "neutral"), 0.0),
        ("sad1", trace("rises", "low", "neutral"), 0.0),
        ("sad1", "<answer>sad</answer>", 1.0),
    ]
    last = [
        ("sad1", trace("falls", "low", "sad"), 1.0),
        ("sad1", trace("falls", "low", "sad"), 1.0),
        ("sad1", trace("rises", "low", "sad"), 1.0),
        ("sad1", trace("rises", "low", "neutral"), 0.0),
    ]
    grpo, data = _log_grpo(tmp_path, ["sad"], [first, first, last])
    reads = sampled_reads(logged_completions(grpo, data))
    # stated right: 2 of 4 → 2 of 4; follows its own trace: 2 of 3 stating → 3 of 4
    assert reads == {"stated_right": (0.5, 0.5), "answer_follows": (2 / 3, 0.75)}
    plain = [("sad1", "<think>The words are calm.</think><answer>sad</answer>", 1.0)]
    grpo, data = _log_grpo(tmp_path / "plain", ["sad"], [plain])
    assert sampled_reads(logged_completions(grpo, data)) is None  # no lean stated
