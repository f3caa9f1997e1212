"""PSOLA manipulation: change F0, duration or level of a span of speech by a known factor, with Praat.

A test can then check that a known change comes out as the matching descriptor change (×1.3 F0 on a vowel
reads as a 30 % rise); :mod:`vowelprompt.corpora.prosody` builds an emotion corpus from such changes.
"""

from __future__ import annotations

import numpy as np


def psola(
    samples: np.ndarray,
    sr: int,
    f0_factor: float = 1.0,
    duration_factor: float = 1.0,
    gain_db: float = 0.0,
    start_s: float | None = None,
    end_s: float | None = None,
    f0_ramp_st: tuple[float, float] | None = None,
    seed: int | None = 0,
) -> np.ndarray:
    """Scale F0 and duration with Praat's PSOLA, and level, inside [start_s, end_s] (default: everything).

    ``f0_ramp_st=(a, b)`` also shifts F0 by a ramp from ``a`` to ``b`` semitones across the span (a pitch
    movement: ``(0, 5)`` rises by 5 st, ``(5, 0)`` falls from 5 st above the original).

    F0 is multiplied on the Manipulation's pitch tier and duration set on its duration tier, then
    resynthesised by overlap-add (Praat's ``To Manipulation`` with 10 ms steps and a 75–600 Hz pitch range,
    which covers the espeak voices). Gain is applied to the same span of the output with 5 ms linear ramps
    just outside it, against clicks. Overlap-add places unvoiced periods at random: ``seed`` seeds Praat's
    generator for this call (then reseeds it unpredictably), so the same input gives the same output; ``None``
    leaves it alone. A duration change makes the output longer by
    ``(end_s - start_s) * (duration_factor - 1)``: times after the span shift by that much, and the span
    itself ends at ``start_s + (end_s - start_s) * duration_factor``. Returns float32 (not clipped).
    """
    import parselmouth
    from parselmouth.praat import call

    total_s = len(samples) / sr
    start = 0.0 if start_s is None else start_s
    end = total_s if end_s is None else end_s
    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=sr)
    out = np.asarray(samples, dtype=np.float64)
    if f0_factor != 1.0 or duration_factor != 1.0 or f0_ramp_st is not None:
        manipulation = call(sound, "To Manipulation", 0.01, 75, 600)
        if f0_factor != 1.0 or f0_ramp_st is not None:
            pitch_tier = call(manipulation, "Extract pitch tier")
            if f0_factor != 1.0:
                call(pitch_tier, "Multiply frequencies", start, end, f0_factor)
            if f0_ramp_st is not None:
                a, b = f0_ramp_st
                semitones = f"({a} + ({b} - {a}) * (x - {start}) / ({end} - {start}))"
                formula = f"if x >= {start} and x <= {end} then self * 2 ^ ({semitones} / 12) else self fi"
                call(pitch_tier, "Formula", formula)
            call([manipulation, pitch_tier], "Replace pitch tier")
        if duration_factor != 1.0:
            tier = call("Create DurationTier", "duration", 0.0, total_s)
            if start_s is None and end_s is None:
                call(tier, "Add point", 0.0, duration_factor)
            else:
                edge = 1e-3  # 1 ms steps from 1 to the factor: the tier interpolates linearly between points
                for t, factor in zip(
                    (start - edge, start, end, end + edge),
                    (1.0, duration_factor, duration_factor, 1.0),
                    strict=True,
                ):
                    call(tier, "Add point", t, factor)
            call([manipulation, tier], "Replace duration tier")
        if seed is not None:
            parselmouth.praat.run(f"random_initializeWithSeedUnsafelyButPredictably ({int(seed)})")
        try:
            out = call(manipulation, "Get resynthesis (overlap-add)").values[0]
        finally:
            if seed is not None:
                parselmouth.praat.run("random_initializeSafelyAndUnpredictably ()")
    if gain_db:
        ramp_s = 0.005
        out_end = start + (end - start) * duration_factor
        ramp = np.interp(
            np.arange(len(out)) / sr, [start - ramp_s, start, out_end, out_end + ramp_s], [0, 1, 1, 0]
        )
        out = out * (1.0 + ramp * (10 ** (gain_db / 20) - 1.0))
    return out.astype(np.float32)
