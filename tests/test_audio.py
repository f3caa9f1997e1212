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


# Headerless PCM (.raw/.pcm), common in speech corpora: rate, sample format and channels come from the config.


def pcm16(samples: np.ndarray) -> np.ndarray:
    """``samples`` quantised to 16-bit PCM, as a WAV would store them."""
    return np.clip(np.round(samples * 32768), -32768, 32767).astype("<i2")


@pytest.fixture(scope="module")
def example_8k() -> np.ndarray:
    """happy_day.wav resampled to 8 kHz (telephone speech), as 16-bit samples."""
    data, sr = sf.read(str(EXAMPLE), dtype="float32")
    return pcm16(resample(data, sr, 8000))


def test_raw_pcm_reads_the_same_samples_as_the_wav(tmp_path):
    assert sf.info(str(EXAMPLE)).subtype == "PCM_16"
    data, sr = sf.read(str(EXAMPLE), dtype="int16")
    raw = tmp_path / "happy_day.raw"
    raw.write_bytes(data.astype("<i2").tobytes())
    audio = load_audio(raw, AudioConfig(raw_sample_rate=sr))
    wav = load_audio(EXAMPLE)
    np.testing.assert_array_equal(audio.samples, wav.samples)
    assert (audio.sr, audio.source_sr, audio.source_channels, audio.warnings) == (
        wav.sr,
        wav.source_sr,
        1,
        wav.warnings,
    )


@pytest.mark.parametrize(
    ("subtype", "endian", "channels"),
    [
        ("PCM_16", "LITTLE", 1),
        ("PCM_16", "BIG", 1),
        ("PCM_16", "LITTLE", 2),
        ("PCM_U8", "LITTLE", 1),
        ("ULAW", "LITTLE", 1),
        ("FLOAT", "LITTLE", 1),
    ],
)
def test_raw_8k_formats_match_the_same_samples_in_a_wav(tmp_path, example_8k, subtype, endian, channels):
    samples = example_8k.astype(np.float32) / 32768
    if channels == 2:
        samples = np.stack([samples, samples], axis=1)
    wav = tmp_path / "x.wav"
    sf.write(str(wav), samples, 8000, subtype=subtype)
    raw = tmp_path / "x.pcm"
    sf.write(str(raw), samples, 8000, format="RAW", subtype=subtype, endian=endian)
    config = AudioConfig(raw_sample_rate=8000, raw_format=subtype, raw_endian=endian, raw_channels=channels)
    audio, reference = load_audio(raw, config), load_audio(wav)
    np.testing.assert_array_equal(audio.samples, reference.samples)
    assert audio.source_sr == 8000 and audio.source_channels == channels
    assert audio.duration_s == pytest.approx(len(example_8k) / 8000, abs=1e-3)
    assert any("low sample rate 8000 Hz" in w for w in audio.warnings)


def test_raw_without_a_rate_says_which_flag(tmp_path):
    raw = tmp_path / "goforward.raw"
    raw.write_bytes(pcm16(tone(16000)).tobytes())
    with pytest.raises(AudioError) as info:
        load_audio(raw)
    message = str(info.value)
    assert message.startswith(f"{raw}: headerless PCM has no sample rate")
    assert "--sample-rate" in message and "--raw-format" in message and "\n" not in message


def test_raw_with_a_header_is_read_from_the_header(tmp_path):
    # A WAV named .raw/.pcm: its header is used, no rate needed (its header is not read as samples).
    for suffix in (".raw", ".pcm"):
        path = tmp_path / f"really_a_wav{suffix}"
        sf.write(str(path), tone(22050), 22050, format="WAV", subtype="PCM_16")
        audio = load_audio(path)
        assert audio.source_sr == 22050 and audio.duration_s == pytest.approx(1.0, abs=1e-3)


def test_raw_size_that_is_not_whole_frames_warns(tmp_path):
    raw = tmp_path / "odd.raw"
    raw.write_bytes(pcm16(tone(16000)).tobytes() + b"\x01")
    audio = load_audio(raw, AudioConfig(raw_sample_rate=16000))
    assert audio.duration_s == pytest.approx(1.0, abs=1e-4)
    assert any("not a whole number of 2-byte frames" in w for w in audio.warnings)


def test_unknown_extension_hints_at_raw_but_a_corrupt_wav_does_not(tmp_path):
    odd = tmp_path / "speech.s16"
    odd.write_bytes(pcm16(tone(16000)).tobytes())
    with pytest.raises(AudioError, match=r"not readable audio .*name it speech\.raw and pass --sample-rate"):
        load_audio(odd, AudioConfig(raw_sample_rate=16000))  # only .raw/.pcm are read as headerless
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" + bytes(100))
    with pytest.raises(AudioError) as info:
        load_audio(corrupt, AudioConfig(raw_sample_rate=16000))
    assert "headerless" not in str(info.value)


@pytest.mark.parametrize(
    ("options", "names"),
    [
        (dict(raw_format="PCM_17"), ["--raw-format", "PCM_16", "PCM_S8", "ULAW", "FLOAT"]),
        (dict(raw_endian="MIDDLE"), ["LITTLE", "BIG"]),
        (dict(raw_sample_rate=0), ["--sample-rate"]),
        (dict(raw_sample_rate=16000.5), ["--sample-rate"]),
        (dict(raw_channels=0), ["raw_channels"]),
    ],
)
def test_raw_config_validation(options, names):
    with pytest.raises(ConfigError) as info:
        AudioConfig(**options)
    assert all(name in str(info.value) for name in names) and "\n" not in str(info.value)


def test_raw_config_spellings_are_canonical():
    config = AudioConfig(raw_sample_rate=np.int64(8000), raw_format="pcm_u8", raw_endian="big")
    assert (config.raw_sample_rate, config.raw_format, config.raw_endian) == (8000, "PCM_U8", "BIG")
    assert type(config.raw_sample_rate) is int
