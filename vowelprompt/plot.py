"""A figure of one annotated recording: waveform with words, F0 contour with vowels coloured by level.

Needs matplotlib (``pip install 'vowelprompt[plot]'``). The figure answers "where did the aligner put
the vowels, and why is this one called high?" at a glance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vowelprompt.audio import load_audio
from vowelprompt.errors import MissingExtraError
from vowelprompt.features import compute_tracks
from vowelprompt.normalize import LEVELS
from vowelprompt.records import Annotation

#: Colours for the five levels, cold (very low) to warm (very high); grey = not measurable.
LEVEL_COLOURS = dict(zip(LEVELS, ("#2b6cb0", "#63b3ed", "#a0aec0", "#f6ad55", "#c53030")))


def plot_annotation(annotation: Annotation, path: str | Path, descriptor: str = "pitch") -> Path:
    """Draw ``annotation`` to ``path`` (PNG); vowel boxes are coloured by the bin of ``descriptor``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError:
        raise MissingExtraError("matplotlib", "plot") from None
    audio = load_audio(annotation.audio)
    tracks = compute_tracks(audio.samples, audio.sr)
    t = np.arange(len(audio.samples)) / audio.sr
    fig, (ax_w, ax_f) = plt.subplots(2, 1, figsize=(12, 5.5), sharex=True, height_ratios=(1, 1.4))
    ax_w.plot(t, audio.samples, lw=0.4, color="#4a5568")
    ax_w.set_ylabel("amplitude")
    ax_w.set_title(f"{annotation.id}: {annotation.text}", fontsize=10, loc="left")
    for word in annotation.words:
        if word.start_s is None:
            continue
        ax_w.axvspan(word.start_s, word.end_s, color="#edf2f7", zorder=0)
        ax_w.axvline(word.start_s, color="#cbd5e0", lw=0.6)
        ax_w.text((word.start_s + word.end_s) / 2, 0.92, word.text, transform=ax_w.get_xaxis_transform(),
                  ha="center", va="top", fontsize=8)  # fmt: skip
    ax_f.plot(tracks.f0_times_s, tracks.f0_hz, ".", ms=2, color="#2d3748", label="F0")
    finite = tracks.f0_hz[np.isfinite(tracks.f0_hz)]
    lo, hi = (np.min(finite) * 0.85, np.max(finite) * 1.15) if finite.size else (50, 400)
    for vowel in annotation.vowels:
        colour = LEVEL_COLOURS.get(vowel.bins.get(descriptor, ""), "#e2e8f0")
        ax_f.axvspan(vowel.span.start_s, vowel.span.end_s, color=colour, alpha=0.55, lw=0)
        ax_f.text((vowel.span.start_s + vowel.span.end_s) / 2, hi, f"/{vowel.span.ipa}/", ha="center",
                  va="top", fontsize=8)  # fmt: skip
    ax_f.set_ylim(lo, hi * 1.08)
    ax_f.set_ylabel("F0 (Hz)")
    ax_f.set_xlabel("time (s)")
    handles = [Patch(color=c, alpha=0.55, label=name) for name, c in LEVEL_COLOURS.items()]
    ax_f.legend(handles=handles, title=f"vowel {descriptor}", fontsize=7, title_fontsize=8, loc="upper right",
                ncol=5, bbox_to_anchor=(1, -0.18))  # fmt: skip
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
