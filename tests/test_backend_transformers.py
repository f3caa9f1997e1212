"""The transformers backend on the real bundled SmolLM2-135M-Instruct (no mocks).

Completions are kept to a few tokens: a 135M model on 2 CPUs makes ~25 tokens/s per row, and what is under
test is batching, ordering, seeding and limits, not the quality of the text.
"""

from __future__ import annotations

import pytest
from conftest import CONVERSATIONS, LLM_INSTALL, LLM_MODULES, assert_seed_honoured, require

require(LLM_MODULES, LLM_INSTALL, module_level=True)

from vowelprompt.backends import Sampling, Structure, get_backend  # noqa: E402
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


def test_greedy_is_deterministic_and_structure_is_ignored(backend, batched, capfd):
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
