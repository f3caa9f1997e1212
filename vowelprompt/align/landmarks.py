"""Acoustic landmarks near a phone boundary, for :mod:`vowelprompt.align.refine`: short-time energy,
voicing (normalised autocorrelation) and spectral change per frame, and where each puts an edge.

All work on frames of ``hop_s`` seconds from the first sample; all are plain numpy, deterministic, and return
"no landmark" (``None`` or the given default) rather than guess when the window holds none.
"""

from __future__ import annotations

import itertools

import numpy as np


def energy_db(samples: np.ndarray, sr: int, hop_s: float) -> np.ndarray:
    """Mean power per ``hop_s`` frame in dB (−100 dB for digital silence)."""
    hop = max(1, int(round(sr * hop_s)))
    n = len(samples) // hop
    frames = samples[: n * hop].astype(np.float64).reshape(n, hop)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)


def voicing(samples: np.ndarray, sr: int, hop_s: float, index: np.ndarray) -> np.ndarray:
    """For the ``hop_s`` frames in ``index``: the peak normalised autocorrelation of a 30 ms window at lags
    for 70–400 Hz (≈ 1 for a periodic frame, near 0 for noise, aspiration or silence). Only the frames asked
    for are computed: over a whole recording this would cost more than the rest of the refinement."""
    hop = max(1, int(round(sr * hop_s)))
    win = int(0.03 * sr)
    if len(index) == 0 or len(samples) < win:
        return np.zeros(len(index))
    x = np.pad(samples.astype(np.float64), (win // 2, win))
    frames = x[index[:, None] * hop + np.arange(win)[None, :]]
    frames = frames - frames.mean(axis=1, keepdims=True)
    spec = np.fft.rfft(frames, 2 * win, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :win]
    lo, hi = int(sr / 400), min(win - 1, int(sr / 70))
    return np.max(ac[:, lo:hi], axis=1) / (ac[:, 0] + 1e-12)


SPECTRUM_BLOCK = 4096  # frames per block of spectral_change (20 s at 5 ms; ~13 MB of frames)


def spectral_change(samples: np.ndarray, sr: int, hop_s: float) -> np.ndarray:
    """Per ``hop_s`` frame: how fast the log band spectrum (25 ms Hann frames, 24 log-spaced bands up to
    5 kHz) changes around the frame's centre, as the L1 distance between the frames 10 ms before and after."""
    hop = max(1, int(round(sr * hop_s)))
    win = int(0.025 * sr)
    n = len(samples) // hop
    if n < 5 or len(samples) < win:
        return np.zeros(n)
    padded = np.pad(samples.astype(np.float64), (win // 2, win))
    freqs = np.fft.rfftfreq(win, 1 / sr)
    edges = np.geomspace(100, min(5000, sr / 2), 25)
    masks = [(freqs >= lo) & (freqs < hi) for lo, hi in itertools.pairwise(edges)]
    window = np.hanning(win)
    logb = np.empty((n, len(masks)))
    # In blocks of frames: the whole recording's frame matrix and spectrum at once would hold ~1 GB for a
    # 10-minute recording (aligned in pieces, it is refined in one go).
    for first in range(0, n, SPECTRUM_BLOCK):
        idx = np.arange(first, min(n, first + SPECTRUM_BLOCK))[:, None] * hop + np.arange(win)[None, :]
        power = np.abs(np.fft.rfft(padded[idx] * window, axis=1)) ** 2
        bands = np.stack([power[:, m].sum(axis=1) for m in masks], axis=1)
        logb[first : first + len(idx)] = 10 * np.log10(bands + 1e-10)
    k = max(1, int(round(0.01 / hop_s)))
    change = np.zeros(n)
    change[k:-k] = np.abs(logb[2 * k :] - logb[: -2 * k]).sum(axis=1)
    return change


def voicing_edge(voiced: np.ndarray, hop_s: float, at: float, lo: float, hi: float, onset: bool) -> float:
    """Where voicing starts (``onset``) or stops nearest ``at``, within [lo, hi]: from a voiced frame walk
    outward while frames stay voiced, from an unvoiced one walk inward to the first voiced frame."""
    n = len(voiced)
    i = int(round(at / hop_s))
    i_lo, i_hi = max(0, int(np.ceil(lo / hop_s))), min(n, int(np.floor(hi / hop_s)))
    if n == 0 or i_hi <= i_lo:
        return at
    if onset:  # boundary at the start of frame i: frame i is the vowel's first
        i = min(max(i, i_lo), i_hi - 1)
        if voiced[i]:
            while i - 1 >= i_lo and voiced[i - 1]:
                i -= 1
        else:
            while i + 1 < i_hi and not voiced[i]:
                i += 1
            if not voiced[i]:
                return at
        return i * hop_s
    # offset: boundary at the end of frame i - 1, the vowel's last
    i = min(max(i, i_lo + 1), i_hi)
    if voiced[i - 1]:
        while i < i_hi and voiced[i]:
            i += 1
    else:
        while i - 1 > i_lo and not voiced[i - 1]:
            i -= 1
        if not voiced[i - 1]:
            return at
    return i * hop_s


def peak(
    change: np.ndarray,
    hop_s: float,
    at: float,
    window: float,
    lo: float,
    hi: float,
    default: float | None = None,
) -> float | None:
    """The time of the fastest spectral change within ``window`` of ``at`` (and within [lo, hi]); ``default``
    when there is no such frame (window off, or no audio there)."""
    i0 = int(np.ceil(max(at - window, lo) / hop_s))
    i1 = min(int(np.floor(min(at + window, hi) / hop_s)), len(change) - 1)
    if window <= 0 or i1 <= i0:
        return default
    return (i0 + int(np.argmax(change[i0 : i1 + 1]))) * hop_s


def snap(
    energy: np.ndarray,
    hop_s: float,
    lo: float,
    hi: float,
    vowel_start: float,
    vowel_end: float,
    drop_db: float,
    rising: bool,
) -> float | None:
    """The time in [lo, hi] where energy crosses ``drop_db`` below the vowel's loudest frame: the last loud
    frame's end for an offset (``rising=False``), the first loud frame's start for an onset; None if the
    window holds no crossing (the vowel runs into another sound, not silence)."""
    a, b = int(vowel_start / hop_s), int(vowel_end / hop_s)
    if b <= a or a >= len(energy):
        return None
    level = float(np.max(energy[a : min(b, len(energy))])) - drop_db
    i0, i1 = max(0, int(np.floor(lo / hop_s))), min(len(energy), int(np.ceil(hi / hop_s)))
    if i1 - i0 < 2:
        return None
    loud = energy[i0:i1] > level
    if loud.all() or not loud.any():
        return None
    if rising:
        if loud[0]:
            return None  # already loud at the window's start: no silence to snap to
        first = int(np.argmax(loud))
        return max(lo, min(hi, (i0 + first) * hop_s))
    if loud[-1]:
        return None
    last = len(loud) - 1 - int(np.argmax(loud[::-1]))
    return max(lo, min(hi, (i0 + last + 1) * hop_s))
