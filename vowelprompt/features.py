"""Per-vowel low-level descriptors (docs/method.md §1.3) and utterance-level prosody (§1.7).

Pitch is Praat's autocorrelation F0 (parselmouth), computed once per utterance with a speaker-adaptive
range: a first pass at 75–600 Hz, then a second pass with floor = 0.75 × q25 and ceiling = 1.5 × q75 of
the first pass's voiced F0 (halving/doubling errors fall outside that range). Energy is frame RMS in dB
re full scale. Pitch and energy use the vowel's *core* (20 % trimmed from each edge, away from the
transitions into neighbouring consonants); duration uses the full span. A descriptor that cannot be
computed (no voiced frame in the core) is ``None``, never invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vowelprompt.errors import ConfigError, FeatureError
from vowelprompt.records import UtteranceProsody, VowelFeatures, VowelSpan, Word


@dataclass(frozen=True)
class FeatureConfig:
    """How descriptors are measured. Defaults are docs/method.md's documented standard."""

    core_trim: float = 0.2
    """Share of the vowel trimmed from *each* edge for pitch and energy (0.2 → the middle 60 %)."""
    pitch_time_step_s: float = 0.005
    """F0 frame step. 5 ms gives ≥ 7 frames in the core of a 60 ms vowel."""
    range_time_step_s: float = 0.02
    """F0 step of the first (range-finding) pass: only its quartiles are used, so 20 ms (a quarter of the
    frames) is enough."""
    range_candidates: int = 4
    """Praat's candidates per frame in the first pass (its default is 15): the quartiles need the best path,
    not octave alternatives. With 20 ms, per-vowel F0 moved 0.00 st on synthetic speech (see
    benchmarks/bench_speed.py --pitch-check) and the pass costs a fifth of what it did."""
    pitch_candidates: int = 6
    """Praat's candidates per frame in the second (measuring) pass (its default is 15). Its range is already
    the speaker's (about an octave and a half around the first pass's quartiles), so octave alternatives
    outside it are not candidates anyway: with 6, per-vowel F0 did not move (0.0000 st on average, every
    vowel within 0.5 st) and utterance F0 moved ≤ 0.003 st on synthetic, PSOLA-modified noisy and the shipped
    real recording (benchmarks/bench_speed.py --pitch-check), and the pitch tracks cost 10 % less."""
    pitch_floor_hz: float = 75.0
    """First-pass F0 floor (Praat's default for speech)."""
    pitch_ceiling_hz: float = 600.0
    """First-pass F0 ceiling; covers children and high-pitched emotional speech."""
    adaptive_pitch_range: bool = True
    """Run a second pitch pass with the speaker-adaptive range below."""
    adaptive_floor_factor: float = 0.75
    """Second-pass floor = this × 25th percentile of first-pass F0."""
    adaptive_ceiling_factor: float = 1.5
    """Second-pass ceiling = this × 75th percentile of first-pass F0."""
    min_adaptive_frames: int = 10
    """Below this many first-pass voiced frames the range is not adapted (quantiles would be noise)."""
    f0_reference_hz: float = 100.0
    """Reference for semitones: st = 12·log2(F0 / reference)."""
    rms_window_s: float = 0.02
    """RMS frame length: 20 ms spans ≥ 2 periods at 100 Hz, so frame energy does not follow single cycles."""
    rms_step_s: float = 0.005
    """RMS frame step."""
    min_slope_frames: int = 3
    """A pitch slope needs at least this many voiced core frames; fewer → no slope."""

    def __post_init__(self):
        if not 0 <= self.core_trim < 0.5:
            raise ConfigError(f"core_trim must be in [0, 0.5), got {self.core_trim}")
        if not 0 < self.pitch_floor_hz < self.pitch_ceiling_hz:
            raise ConfigError("need 0 < pitch_floor_hz < pitch_ceiling_hz")
        if min(self.pitch_time_step_s, self.range_time_step_s, self.rms_window_s, self.rms_step_s) <= 0:
            raise ConfigError("time steps and windows must be positive")


@dataclass(frozen=True)
class Tracks:
    """Frame tracks of one utterance: F0 in Hz (NaN where unvoiced) and RMS in dBFS, with frame times."""

    f0_times_s: np.ndarray
    f0_hz: np.ndarray
    rms_times_s: np.ndarray
    rms_db: np.ndarray
    pitch_floor_hz: float
    pitch_ceiling_hz: float


def _pitch(
    sound, step: float, floor: float, ceiling: float, candidates: int = 15
) -> tuple[np.ndarray, np.ndarray]:
    pitch = sound.to_pitch_ac(
        time_step=step, pitch_floor=floor, pitch_ceiling=ceiling, max_number_of_candidates=candidates
    )
    f0 = pitch.selected_array["frequency"].astype(np.float64)
    f0[f0 <= 0] = np.nan
    return np.asarray(pitch.xs()), f0


def rms_track(samples: np.ndarray, sr: int, window_s: float, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Frame RMS in dBFS (centred frames) via a cumulative sum: O(n) for any window.

    >>> t, db = rms_track(np.full(1600, 0.5, dtype=np.float32), 16000, 0.02, 0.005)
    >>> round(float(db[0]), 2)
    -6.02
    """
    win = max(1, int(round(window_s * sr)))
    hop = max(1, int(round(step_s * sr)))
    if len(samples) < win:
        win = len(samples)
    csum = np.concatenate([[0.0], np.cumsum(np.square(samples, dtype=np.float64))])
    starts = np.arange(0, len(samples) - win + 1, hop)
    power = (csum[starts + win] - csum[starts]) / win
    return (starts + win / 2) / sr, 10 * np.log10(power + 1e-12)


def compute_tracks(samples: np.ndarray, sr: int, config: FeatureConfig = FeatureConfig()) -> Tracks:
    """F0 (two-pass, speaker-adaptive range) and RMS tracks for one utterance."""
    import parselmouth

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sr)
    floor, ceiling = config.pitch_floor_hz, config.pitch_ceiling_hz
    if config.adaptive_pitch_range:
        _, first = _pitch(sound, config.range_time_step_s, floor, ceiling, config.range_candidates)
        voiced = first[np.isfinite(first)]
        if voiced.size >= config.min_adaptive_frames:
            q25, q75 = np.percentile(voiced, [25, 75])
            floor = max(30.0, config.adaptive_floor_factor * q25)  # Praat needs a floor well above 0
            ceiling = max(floor * 2, config.adaptive_ceiling_factor * q75)
    times, f0 = _pitch(sound, config.pitch_time_step_s, floor, ceiling, config.pitch_candidates)
    rms_times, rms_db = rms_track(samples, sr, config.rms_window_s, config.rms_step_s)
    return Tracks(times, f0, rms_times, rms_db, floor, ceiling)


def _semitones(hz: np.ndarray, reference: float) -> np.ndarray:
    return 12 * np.log2(hz / reference)


def _core(times: np.ndarray, start: float, end: float) -> slice:
    """The frames with ``start <= time <= end`` (frame times ascend), as a slice: per vowel this is most of
    the cost of measuring it if done with masks over the utterance's whole track."""
    return slice(int(np.searchsorted(times, start, "left")), int(np.searchsorted(times, end, "right")))


def _in_span(times: np.ndarray, start: float, end: float) -> slice:
    """Frames in [start, end]; if none, the single frame nearest the span's centre."""
    frames = _core(times, start, end)
    if frames.start >= frames.stop and times.size:
        nearest = int(np.argmin(np.abs(times - (start + end) / 2)))
        return slice(nearest, nearest + 1)
    return frames


def _std(x: np.ndarray) -> float:
    """``np.std(x)``, computed the same way (same sums, same result) without its dispatch overhead."""
    d = x - np.add.reduce(x) / x.size
    return float(np.sqrt(np.add.reduce(d * d) / x.size))


def measure_vowel(span: VowelSpan, tracks: Tracks, config: FeatureConfig = FeatureConfig()) -> VowelFeatures:
    """The six descriptors of one vowel from precomputed tracks."""
    trim = config.core_trim * span.duration_s
    core_start, core_end = span.start_s + trim, span.end_s - trim
    core = _core(tracks.f0_times_s, core_start, core_end)
    f0 = tracks.f0_hz[core]
    t = tracks.f0_times_s[core]
    voiced = np.isfinite(f0)
    f0, t = f0[voiced], t[voiced]
    f0_mean_hz = f0_mean_st = slope = sd = None
    if f0.size:
        st = _semitones(f0, config.f0_reference_hz)
        f0_mean_hz = float(np.add.reduce(f0) / f0.size)
        f0_mean_st = float(_semitones(np.float64(f0_mean_hz), config.f0_reference_hz))
        if f0.size >= 2:
            sd = _std(st)
        if f0.size >= config.min_slope_frames:
            dt = t - np.add.reduce(t) / t.size  # least-squares slope in closed form (np.polyfit: 10× cost)
            slope = float(np.dot(dt, st - np.add.reduce(st) / st.size) / np.dot(dt, dt))
    rms = tracks.rms_db[_in_span(tracks.rms_times_s, core_start, core_end)]
    rms_mean = rms_sd = None
    if rms.size:
        power = 10 ** (rms / 10)
        rms_mean = float(10 * np.log10(np.add.reduce(power) / power.size))  # dB of the mean power
        rms_sd = _std(rms) if rms.size >= 2 else None
    return VowelFeatures(
        f0_mean_hz=f0_mean_hz,
        f0_mean_st=f0_mean_st,
        f0_slope_st_per_s=slope,
        f0_sd_st=sd,
        rms_mean_db=rms_mean,
        rms_sd_db=rms_sd,
        duration_s=round(span.duration_s, 6),
        voiced_frames=int(f0.size),
    )


def measure_utterance(
    words: list[Word], n_vowels: int, tracks: Tracks, config: FeatureConfig = FeatureConfig()
) -> UtteranceProsody:
    """Utterance-level F0, energy and articulation rate over the aligned words (pauses excluded)."""
    spans = [(w.start_s, w.end_s) for w in words if w.start_s is not None and w.end_s is not None]
    if not spans:
        raise FeatureError("no aligned words to measure")
    speech = sum(e - s for s, e in spans)

    def inside(times: np.ndarray) -> np.ndarray:
        mask = np.zeros(times.shape, dtype=bool)
        for s, e in spans:
            mask |= (times >= s) & (times <= e)
        return mask

    f0 = tracks.f0_hz[inside(tracks.f0_times_s)]
    st = _semitones(f0[np.isfinite(f0)], config.f0_reference_hz)
    rms = tracks.rms_db[inside(tracks.rms_times_s)]
    mean_st = None
    if st.size:
        mean_st = float(
            _semitones(np.float64(np.mean(config.f0_reference_hz * 2 ** (st / 12))), config.f0_reference_hz)
        )
    return UtteranceProsody(
        f0_mean_st=mean_st,
        f0_sd_st=float(np.std(st)) if st.size >= 2 else None,
        rms_mean_db=float(10 * np.log10(np.mean(10 ** (rms / 10)))) if rms.size else None,
        rms_sd_db=float(np.std(rms)) if rms.size >= 2 else None,
        rate_vowels_per_s=n_vowels / speech if speech > 0 else None,
    )
