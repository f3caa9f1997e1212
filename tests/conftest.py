"""Shared fixtures: real speech synthesised with espeak-ng (with ground-truth phone times).

In CI espeak-ng is installed by ``make test``; a test that needs it fails there if it is missing, and
skips with the install command on a developer machine without it.
"""

from __future__ import annotations

import os
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


def need_espeak() -> None:
    from vowelprompt.synth import espeak_available

    if not espeak_available():
        message = "espeak-ng (libespeak-ng1) is not installed: sudo apt-get install espeak-ng"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def synth():
    need_espeak()
    from vowelprompt import synth as module

    return module


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, synth) -> Path:
    """A small corpus: 3 sentences × 2 voices × 2 rates; returns the manifest path."""
    out = tmp_path_factory.mktemp("corpus")
    return synth.write_corpus(out, SENTENCES, voices=("en-us+m3", "en-gb+f2"), rates=(150, 210))


@pytest.fixture(scope="session")
def utterance(synth):
    """One synthesised utterance (SynthUtterance) with ground truth."""
    return synth.synthesize(SENTENCES[1], voice="en-us+m3", rate_wpm=170)


def write_wav(path: Path, samples: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    sf.write(str(path), samples, sr, subtype=subtype)
    return path
