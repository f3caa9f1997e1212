"""Loading and checking audio: formats, rates, channels, and every kind of bad file."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from conftest import EXAMPLE, write_wav

from vowelprompt.audio import ANALYSIS_SR, AudioConfig, check_audio, load_audio, resample
from vowelprompt.errors import AudioError, ConfigError


def tone(sr: int, seconds: float = 1.0, f0: float = 150.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def test_example_loads_at_analysis_rate():
    audio = load_audio(EXAMPLE)
    assert audio.sr == ANALYSIS_SR
    assert audio.source_sr == sf.info(str(EXAMPLE)).samplerate
    assert audio.duration_s == pytest.approx(sf.info(str(EXAMPLE)).duration, abs=1e-3)
    assert audio.samples.dtype == np.float32


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
def test_any_rate_is_resampled_keeping_duration_and_pitch(tmp_path, sr):
    path = write_wav(tmp_path / "t.wav", tone(sr), sr)
    audio = load_audio(path)
    assert audio.sr == ANALYSIS_SR
    assert audio.duration_s == pytest.approx(1.0, abs=1e-3)
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert np.argmax(spectrum) * ANALYSIS_SR / len(audio.samples) == pytest.approx(150, abs=2)
    assert any("low sample rate" in w for w in audio.warnings) == (sr < ANALYSIS_SR)


@pytest.mark.parametrize(
    ("suffix", "fmt", "subtype"), [(".flac", "FLAC", "PCM_16"), (".ogg", "OGG", "VORBIS")]
)
def test_other_formats(tmp_path, suffix, fmt, subtype):
    path = tmp_path / f"t{suffix}"
    sf.write(str(path), tone(22050), 22050, format=fmt, subtype=subtype)
    assert load_audio(path).duration_s == pytest.approx(1.0, abs=0.01)


def test_stereo_is_downmixed(tmp_path):
    left = tone(16000)
    path = write_wav(tmp_path / "s.wav", np.stack([left, -left * 0 + left], axis=1), 16000)
    audio = load_audio(path)
    assert audio.source_channels == 2
    np.testing.assert_allclose(audio.samples, left, atol=1e-4)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match="empty file"):
        load_audio(path)


def test_zero_length_wav(tmp_path):
    path = write_wav(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(path)


def test_corrupt_header(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" + bytes(100))
    with pytest.raises(AudioError, match="not readable audio"):
        load_audio(path)


def test_truncated_file(tmp_path):
    good = write_wav(tmp_path / "good.flac", tone(16000, 2.0), 16000, subtype="PCM_16")
    data = good.read_bytes()
    bad = tmp_path / "truncated.flac"
    bad.write_bytes(data[: len(data) // 3])
    # libsndfile may read a truncated FLAC partially; it must either load what is there or fail in one line.
    try:
        audio = load_audio(bad)
        assert audio.duration_s < 2.0
    except AudioError as exc:
        assert "\n" not in str(exc)


def test_not_audio_at_all(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is a text file")
    with pytest.raises(AudioError) as info:
        load_audio(path)
    assert "\n" not in str(info.value) and "notes.wav" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "nope.wav")


def test_silence_is_refused(tmp_path):
    path = write_wav(tmp_path / "silence.wav", np.zeros(16000, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="silent"):
        load_audio(path)


def test_clipping_is_a_warning(tmp_path):
    clipped = np.clip(tone(16000, amp=3.0), -1, 1)
    audio = load_audio(write_wav(tmp_path / "clip.wav", clipped, 16000, subtype="FLOAT"))
    assert any("clipped" in w for w in audio.warnings)
    assert not load_audio(write_wav(tmp_path / "ok.wav", tone(16000), 16000)).warnings


def test_too_short(tmp_path):
    with pytest.raises(AudioError, match="ms long"):
        load_audio(write_wav(tmp_path / "blip.wav", tone(16000, 0.05), 16000))


def test_long_file_refused_from_header_without_reading(tmp_path):
    # 11 minutes at 8 kHz, written in blocks so the test itself stays small in memory.
    path = tmp_path / "long.wav"
    with sf.SoundFile(str(path), "w", samplerate=8000, channels=1, subtype="PCM_16") as fh:
        block = tone(8000, 60.0)
        for _ in range(11):
            fh.write(block)
    with pytest.raises(AudioError, match="over the 600 s limit"):
        load_audio(path)
    assert load_audio(path, AudioConfig(max_duration_s=700)).duration_s == pytest.approx(660, abs=0.01)


def test_nan_samples():
    with pytest.raises(AudioError, match="NaN"):
        check_audio(np.full(16000, np.nan, dtype=np.float32), 16000)


def test_config_validation():
    with pytest.raises(ConfigError):
        AudioConfig(min_duration_s=5, max_duration_s=1)


def test_resample_noop():
    x = tone(16000)
    assert resample(x, 16000, 16000) is x
