"""Load and check audio: any format libsndfile reads, any sample rate, mono, resampled with soxr.

Problems are raised as :class:`~vowelprompt.errors.AudioError` with a one-line message; soft problems
(clipping, a low sample rate) are returned as warnings so that the file is still processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from vowelprompt.errors import AudioError, ConfigError

#: The rate every stage works at: pocketsphinx's en-us model is a 16 kHz model, and 16 kHz keeps
#: everything up to 8 kHz, far above F0 (≤ 600 Hz) and the energy that matters for RMS.
ANALYSIS_SR = 16_000


@dataclass(frozen=True)
class AudioConfig:
    """How audio is loaded and checked."""

    max_duration_s: float = 600.0
    """Refuse longer files (checked from the header, before reading): pocketsphinx aligns a whole file
    as one utterance, so memory and time grow with length. 600 s = 10 min; split longer recordings."""
    min_duration_s: float = 0.1
    """Refuse shorter files: 100 ms holds at most one vowel and too few pitch frames to measure it."""
    silence_dbfs: float = -60.0
    """Refuse files whose overall RMS is below this (dB re full scale): digital silence or near it."""
    clip_fraction: float = 0.001
    """Warn when more than this share of samples sit at full scale (|x| ≥ 0.999): clipped recording."""

    def __post_init__(self):
        if not 0 < self.min_duration_s < self.max_duration_s:
            raise ConfigError("need 0 < min_duration_s < max_duration_s")


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples at :data:`ANALYSIS_SR`, with the source's facts and any warnings."""

    samples: np.ndarray
    sr: int
    source_sr: int
    source_channels: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sr


def resample(samples: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """Resample with soxr (high quality); a no-op when the rates match.

    >>> resample(np.zeros(8000, dtype=np.float32), 8000, 16000).shape
    (16000,)
    """
    if sr == target_sr:
        return samples
    return soxr.resample(samples, sr, target_sr).astype(np.float32)


def load_audio(path: str | Path, config: AudioConfig = AudioConfig()) -> Audio:
    """Read ``path`` as mono float32 at :data:`ANALYSIS_SR`, or raise :class:`AudioError` saying why."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path}: not readable audio ({_short(exc)})") from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError(f"{path}: contains no audio samples")
    duration = info.frames / info.samplerate
    if duration > config.max_duration_s:
        raise AudioError(
            f"{path}: {duration:.1f} s long, over the {config.max_duration_s:.0f} s limit "
            "(--max-duration); split it into utterances first"
        )
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path}: truncated or corrupt audio ({_short(exc)})") from None
    return check_audio(data, sr, config, name=str(path))


def check_audio(data: np.ndarray, sr: int, config: AudioConfig = AudioConfig(), name: str = "audio") -> Audio:
    """Validate in-memory samples (``(n,)`` or ``(n, channels)``), downmix and resample them."""
    data = np.asarray(data, dtype=np.float32)
    channels = 1 if data.ndim == 1 else data.shape[1]
    mono = data if data.ndim == 1 else data.mean(axis=1)
    if mono.size == 0:
        raise AudioError(f"{name}: contains no audio samples")
    if not np.isfinite(mono).all():
        raise AudioError(f"{name}: contains NaN or infinite sample values")
    duration = mono.size / sr
    if duration < config.min_duration_s:
        raise AudioError(
            f"{name}: only {duration * 1000:.0f} ms long (minimum {config.min_duration_s * 1000:.0f} ms)"
        )
    if duration > config.max_duration_s:
        raise AudioError(f"{name}: {duration:.1f} s long, over the {config.max_duration_s:.0f} s limit")
    rms_db = 20 * np.log10(np.sqrt(np.mean(np.square(mono, dtype=np.float64))) + 1e-12)
    if rms_db < config.silence_dbfs:
        raise AudioError(
            f"{name}: silent (overall level {rms_db:.0f} dBFS, threshold {config.silence_dbfs:.0f})"
        )
    warnings = []
    clipped = float(np.mean(np.abs(data) >= 0.999))
    if clipped > config.clip_fraction:
        warnings.append(f"clipped: {clipped:.1%} of samples at full scale; energy descriptors are unreliable")
    if sr < ANALYSIS_SR:
        warnings.append(
            f"low sample rate {sr} Hz: upsampled to {ANALYSIS_SR} Hz, no content above {sr // 2} Hz"
        )
    return Audio(resample(mono, sr, ANALYSIS_SR), ANALYSIS_SR, sr, channels, tuple(warnings))


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
