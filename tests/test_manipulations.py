"""Known changes in, matching descriptor changes out: PSOLA-manipulate one vowel of real speech, annotate
both versions through the whole pipeline, and check the touched vowel moved the right way and the others
did not."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, write_wav

import vowelprompt
from vowelprompt.bins import LEVELS
from vowelprompt.corpora.psola import psola

TEXT = "Please put the blue folder on the table next to the window."


@pytest.fixture(scope="module")
def original(synth, tmp_path_factory):
    """The utterance as espeak-ng renders it first in a process. Each rendering differs a little from the
    one before (espeak-ng's wave generator keeps state between calls), so rendering it in this process
    would make the audio depend on which tests ran here first, and one of this module's vowel boundaries
    moves by tens of ms between some renderings."""
    folder = tmp_path_factory.mktemp("psola")
    script = (
        "import pickle, sys\nfrom vowelprompt.corpora.synth import synthesize\n"
        f"utt = synthesize({TEXT!r}, voice='en-us+m3', rate_wpm=150)\n"
        "pickle.dump(utt, open(sys.argv[1], 'wb'))\n"
    )
    subprocess.run([sys.executable, "-c", script, str(folder / "utt.pickle")], check=True, cwd=REPO)
    with open(folder / "utt.pickle", "rb") as fh:
        utt = pickle.load(fh)
    path = write_wav(folder / "orig.wav", utt.samples, utt.sr)
    return utt, vowelprompt.annotate(path, text=TEXT)


def target(row, word: str):
    """Index and vowel of the first (stressed) vowel of ``word``."""
    return next((i, v) for i, v in enumerate(row.vowels) if v.span.word == word)


def manipulated(original, tmp_path, word: str, **change):
    utt, row = original
    _, v = target(row, word)
    samples = psola(utt.samples, utt.sr, start_s=v.span.start_s, end_s=v.span.end_s, **change)
    new = vowelprompt.annotate(write_wav(tmp_path / "m.wav", samples, utt.sr, subtype="FLOAT"), text=TEXT)
    assert new.ok and len(new.vowels) == len(row.vowels)
    return row, new


def others(row, new, index: int, attr: str) -> np.ndarray:
    pairs = [
        (getattr(a.features, attr), getattr(b.features, attr))
        for k, (a, b) in enumerate(zip(row.vowels, new.vowels))
        if k != index and a.features.voiced_frames > 3
    ]
    return np.array([(b - a) for a, b in pairs if a is not None and b is not None])


def test_f0_up_30_percent_raises_that_vowels_pitch(original, tmp_path):
    row, new = manipulated(original, tmp_path, "blue", f0_factor=1.3)
    i, before = target(row, "blue")
    _, after = target(new, "blue")
    assert after.features.f0_mean_hz / before.features.f0_mean_hz == pytest.approx(1.3, rel=0.04)
    assert after.z["pitch"] > before.z["pitch"] + 0.5
    assert LEVELS.index(after.bins["pitch"]) >= LEVELS.index(before.bins["pitch"])
    # Untouched vowels keep their F0 (within 2 %, a third of a semitone).
    ratios = [
        b.features.f0_mean_hz / a.features.f0_mean_hz
        for k, (a, b) in enumerate(zip(row.vowels, new.vowels))
        if k != i and a.features.f0_mean_hz and b.features.f0_mean_hz
    ]
    assert np.median(np.abs(np.array(ratios) - 1)) < 0.02


def test_duration_up_40_percent_lengthens_those_vowels(original, tmp_path):
    # Single vowel boundaries from pocketsphinx move by a frame or more between near-identical renderings
    # (10 ms frames; /eɪ/ in "table" after a plosive varied 50–130 ms), so stretch three vowels and check
    # each got longer and their median ratio is ≈ 1.4.
    utt, row = original
    words = ("blue", "table", "window")
    samples = utt.samples
    for word in reversed(words):  # later spans first, so earlier spans keep their times
        _, v = target(row, word)
        samples = psola(samples, utt.sr, duration_factor=1.4, start_s=v.span.start_s, end_s=v.span.end_s)
    new = vowelprompt.annotate(write_wav(tmp_path / "long.wav", samples, utt.sr, subtype="FLOAT"), text=TEXT)
    ratios = [target(new, w)[1].features.duration_s / target(row, w)[1].features.duration_s for w in words]
    assert min(ratios) > 1.1, ratios
    assert np.median(ratios) == pytest.approx(1.4, abs=0.15), ratios
    assert all(target(new, w)[1].z["duration"] > target(row, w)[1].z["duration"] for w in words)


def test_plus_6_db_raises_those_vowels_energy(original, tmp_path):
    # As for duration: one short vowel's onset can move by 20 ms between near-identical renderings (/ʊ/ of
    # "put", 85 ms, took 2 frames of the /p/ burst in once: 5.4 dB), so raise three vowels and check each
    # got louder and their median by ≈ 6 dB.
    utt, row = original
    words = ("put", "table", "window")
    samples = utt.samples
    for word in words:
        _, v = target(row, word)
        samples = psola(samples, utt.sr, gain_db=6.0, start_s=v.span.start_s, end_s=v.span.end_s)
    new = vowelprompt.annotate(write_wav(tmp_path / "loud.wav", samples, utt.sr, subtype="FLOAT"), text=TEXT)
    assert new.ok and len(new.vowels) == len(row.vowels)
    gains = [target(new, w)[1].features.rms_mean_db - target(row, w)[1].features.rms_mean_db for w in words]
    assert min(gains) > 4.0, gains
    assert np.median(gains) == pytest.approx(6.0, abs=0.5), gains
    # z is relative to this utterance, whose mean and spread the three louder vowels raise: the loudest
    # vowel's z can stay where it was, the others rise
    z = [(target(row, w)[1].z["energy"], target(new, w)[1].z["energy"]) for w in words]
    assert all(after > before - 0.05 for before, after in z) and sum(a - b for b, a in z) > 1.0, z
    touched = {target(row, w)[0] for w in words}
    unchanged = [
        b.features.rms_mean_db - a.features.rms_mean_db
        for k, (a, b) in enumerate(zip(row.vowels, new.vowels))
        if k not in touched and a.features.rms_mean_db is not None and b.features.rms_mean_db is not None
    ]
    assert np.median(np.abs(unchanged)) < 0.5


def test_whispered_vowel_keeps_its_other_descriptors(original, tmp_path):
    # Replace one vowel of real speech by noise of the same level (a whispered vowel), keep the alignment.
    from vowelprompt.align.textgrid import write_alignment
    from vowelprompt.verbalize import vowel_sentence

    utt, row = original
    i, v = target(row, "blue")
    samples = utt.samples.copy()
    a, b = int(v.span.start_s * utt.sr), int(v.span.end_s * utt.sr)
    level = np.sqrt(np.mean(samples[a:b] ** 2))
    samples[a:b] = level * np.random.default_rng(0).standard_normal(b - a).astype(np.float32)
    write_alignment(tmp_path / "orig.TextGrid", row)
    path = write_wav(tmp_path / "whisper.wav", samples, utt.sr, subtype="FLOAT")
    new = vowelprompt.annotate(path, alignment=str(tmp_path / "orig.TextGrid"))
    assert new.ok
    w = new.vowels[i]
    assert w.features.voiced_frames == 0 and w.features.f0_mean_hz is None
    assert not {"pitch", "pitch_var", "pitch_slope"} & set(w.bins)
    assert {"energy", "energy_var", "duration"} <= set(w.bins)
    sentence = vowel_sentence(w)
    assert "pitch" not in sentence and "intensity" in sentence and "duration" in sentence
    assert any("had no voiced frames" in warning for warning in new.warnings)
    assert sum(x.features.voiced_frames == 0 for x in new.vowels) == 1 + sum(
        x.features.voiced_frames == 0 for x in row.vowels
    )
