"""The transformers backend on the real bundled SmolLM2-135M-Instruct (no mocks).

Completions are kept to a few tokens: a 135M model on 2 CPUs makes ~25 tokens/s per row, and what is under
test is batching, ordering, seeding and limits, not the quality of the text.

The scored answer (issue 17 §0, §1) is tested at the end: on prompts built from annotated rows the answer is
always a label of the set (status ``ok``), its label distribution sums to 1 and has the answer as argmax, and
the label scores agree with the frequencies of labels sampled from the model after the same prefix.
"""

from __future__ import annotations

import pytest
from conftest import CONVERSATIONS, LLM_INSTALL, LLM_MODULES, assert_seed_honoured, require

require(LLM_MODULES, LLM_INSTALL, module_level=True)

from vowelprompt.backends import Sampling, Structure, get_backend  # noqa: E402
from vowelprompt.backends.answers import answer_frame, softmax  # noqa: E402
from vowelprompt.backends.transformers import TransformersBackend  # noqa: E402
from vowelprompt.errors import BackendError, ConfigError  # noqa: E402
from vowelprompt.models import resolve_model  # noqa: E402

SHORT = Sampling(max_new_tokens=12)  # enough for each answer's key word


@pytest.fixture(scope="module")
def backend() -> TransformersBackend:
    return get_backend("transformers", model="smollm2-135m")


@pytest.fixture(scope="module")
def batched(backend) -> list[str]:
    return backend.generate(CONVERSATIONS, SHORT)


def test_backend_reports_its_name_and_model(backend):
    assert (backend.name, backend.model) == ("transformers", "smollm2-135m")


def test_batch_answers_each_conversation_in_input_order(batched):
    assert len(batched) == 3
    assert "Paris" in batched[0]
    assert "Jupiter" in batched[1]
    assert "blue" in batched[2].lower()


def test_greedy_batched_equals_one_at_a_time(backend, batched):
    assert [backend.generate([c], SHORT)[0] for c in CONVERSATIONS] == batched


def test_batches_smaller_than_the_input_keep_the_order(backend, batched):
    backend.batch_size = 2  # 3 conversations → two batches, longest first
    try:
        assert backend.generate(CONVERSATIONS, SHORT) == batched
    finally:
        backend.batch_size = 8


def test_greedy_is_deterministic_and_a_structure_without_choices_is_ignored(backend, batched, capfd):
    assert backend.generate(CONVERSATIONS, SHORT, Structure(regex="neutral|happy")) == batched
    assert capfd.readouterr() == ("", "")  # library code prints nothing, not even transformers' warnings


def test_sampling_honours_the_seed(backend):
    assert_seed_honoured(backend.generate)


def test_max_new_tokens_is_respected(backend):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m"))
    chat = [[{"role": "user", "content": "Tell me a long story about a dragon who lives in the mountains."}]]
    short = backend.generate(chat, Sampling(max_new_tokens=5))[0]
    longer = backend.generate(chat, Sampling(max_new_tokens=15))[0]
    assert 0 < len(tokenizer(short, add_special_tokens=False)["input_ids"]) <= 5
    assert len(tokenizer(longer, add_special_tokens=False)["input_ids"]) > 5
    assert longer.startswith(short)  # greedy: the short answer is the long one cut off


def test_no_conversations_give_no_outputs(backend):
    assert backend.generate([], SHORT) == []


@pytest.mark.parametrize(
    "make", [lambda tmp: tmp / "missing", lambda tmp: tmp], ids=["missing", "empty-folder"]
)
def test_a_bad_model_path_is_a_one_line_backend_error(tmp_path, make):
    path = str(make(tmp_path))
    with pytest.raises(BackendError) as info:
        TransformersBackend(path)
    message = str(info.value)
    assert path in message and "\n" not in message


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="batch_size"):
        TransformersBackend("smollm2-135m", batch_size=0)
    with pytest.raises(ConfigError, match="dtype"):
        TransformersBackend("smollm2-135m", dtype="float33")


# --- the scored answer and its label distribution (issue 17 §0, §1) --------------------------------------


def test_the_answer_is_always_a_label_with_its_distribution(backend):
    from test_predict import row

    from vowelprompt.predict import PredictConfig, constrains, iter_predict

    config = PredictConfig(distribution="logprobs")
    assert constrains(backend, config.structure())  # what the run manifest records
    rows = [row("angry", "angry"), row("sad", "sad", text="I lost my keys again."), row("joy", "excited")]
    # 24 tokens of reasoning: the model never gets to answer by itself, so every label is the scored one.
    predictions = list(iter_predict(rows, backend, Sampling(max_new_tokens=24), config))
    for p in predictions:
        assert (p.status, p.distribution_from) == ("ok", "logprobs"), p
        assert p.label in config.labels.labels and p.generated and p.reasoning in p.generated
        assert set(p.distribution) == set(config.labels.labels)
        assert abs(sum(p.distribution.values()) - 1) < 1e-9
        assert max(p.distribution, key=p.distribution.get) == p.label
        assert p.raw == f"<think>{p.reasoning}</think><answer>{p.label}</answer>"
    json = list(
        iter_predict(rows[:1], backend, Sampling(max_new_tokens=24), PredictConfig(output_format="json"))
    )
    assert json[0].status == "ok" and json[0].distribution is None  # no distribution unless asked for


def sample_continuations(backend, prefix: str, targets: dict[str, list[int]], n: int, seed: int = 0):
    """How many of ``n`` token sequences sampled from the model after ``prefix`` (temperature 1, no top-k or
    top-p) begin with each target's tokens. Exact ancestral sampling, grown as a tree: a group of samples
    that share their tokens so far is extended with one forward pass and one multinomial draw, and a group
    whose tokens no longer begin any target is dropped (it is not a label) — so thousands of samples cost
    a few forward passes, independently of the batched, padded scoring under test."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    base = backend._tokenizer(prefix, add_special_tokens=False)["input_ids"]
    counts = dict.fromkeys(targets, 0)
    groups = [((), n)]
    while groups:
        tokens, size = groups.pop()
        with torch.inference_mode():
            logits = backend._lm(input_ids=torch.tensor([base + list(tokens)])).logits[0, -1].float()
        draws = torch.multinomial(torch.softmax(logits, -1), size, replacement=True, generator=generator)
        for token, count in zip(*torch.unique(draws, return_counts=True)):
            grown = (*tokens, int(token))
            done = [k for k, t in targets.items() if tuple(t) == grown]
            if done:
                counts[done[0]] += int(count)
            elif any(tuple(t[: len(grown)]) == grown for t in targets.values()):
                groups.append((grown, int(count)))
    return counts


def test_label_scores_agree_with_sampled_label_frequencies(backend):
    """The softmax of the label scores is the distribution of the labels the model itself writes after the
    same prefix (renormalised over answers that are labels): a chi-square test at p = 0.001 over 3000
    samples, which also rejects a uniform distribution (so it can fail)."""
    labels = ("neutral", "happy", "angry", "sad")

    def ask(said: str) -> str:
        return f"Someone says: '{said}' Which emotion is it? Choose exactly one of: {', '.join(labels)}."

    # One worked example: after it SmolLM2-135M writes a label in ~1 of 6 answers, and no label dominates.
    chat = [
        {"role": "user", "content": ask("We won the cup!")},
        {"role": "assistant", "content": "<think>Winning is good news.</think><answer>happy</answer>"},
        {"role": "user", "content": ask("I lost my keys again.")},
    ]
    tokenizer = backend._tokenizer
    prompt = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
    head, tails = answer_frame("<think>They said it.", "tags", labels)
    prefix = prompt + head
    p = softmax(dict(zip(labels, backend.score(prefix, [tails[x] for x in labels]))))
    targets = {x: tokenizer(tails[x], add_special_tokens=False)["input_ids"] for x in labels}
    counts = sample_continuations(backend, prefix, targets, n=3000)
    total = sum(counts.values())
    assert total >= 200, counts  # enough answers that are labels for the test to have power

    def chi_square(expected: dict[str, float]) -> float:
        return sum((counts[x] - total * expected[x]) ** 2 / (total * expected[x]) for x in labels)

    critical = 16.27  # chi-square, 3 degrees of freedom, p = 0.001
    assert all(total * p[x] >= 5 for x in labels), p  # the chi-square approximation holds
    assert chi_square(p) < critical, (counts, p)
    assert chi_square(dict.fromkeys(labels, 0.25)) > critical, (counts, p)
