"""A figure of one annotated recording: waveform with words, F0 contour with vowels coloured by level and
their pitch slopes, and a grid of every vowel's levels (pitch, slope, variation, energy, duration).

Needs matplotlib (``pip install 'vowelprompt[plot]'``). The figure answers "where did the aligner put
the vowels, and why is this one called high?" at a glance. It grows wider with the recording (up to
:data:`MAX_WIDTH_IN`); word and vowel labels are staggered on several heights, and a label with no room
left on any height is left out (the x-axis label says how many).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vowelprompt.audio import load_audio
from vowelprompt.errors import MissingExtraError
from vowelprompt.features import compute_tracks
from vowelprompt.normalize import LEVELS, SLOPE_LEVELS
from vowelprompt.records import DESCRIPTORS, Annotation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Colours for the five levels, cold (very low) to warm (very high); grey = not measurable.
LEVEL_COLOURS = dict(zip(LEVELS, ("#2b6cb0", "#63b3ed", "#a0aec0", "#f6ad55", "#c53030")))
#: Colours for the slope classes: falling blue, flat grey, rising red, darker when steeper.
SLOPE_COLOURS = dict(
    zip(SLOPE_LEVELS, ("#2b6cb0", "#63b3ed", "#bee3f8", "#a0aec0", "#fbd38d", "#f6ad55", "#c53030"))
)
MISSING_COLOUR = "#e2e8f0"
#: Row names of the level grid, top to bottom (the keys of :data:`vowelprompt.records.DESCRIPTORS`).
GRID_ROWS = {d: d.replace("_var", " variation").replace("_", " ") for d in DESCRIPTORS}
DPI = 110
MIN_WIDTH_IN, INCHES_PER_S, MAX_WIDTH_IN = 10.0, 1.5, 24.0
TITLE_LINES = 3
LABEL_LANES = {"word": 2, "vowel": 3}
#: A longer waveform is drawn as the min/max envelope of this many chunks.
ENVELOPE_POINTS = 4000


def pyplot():
    """``matplotlib.pyplot`` drawing off screen (Agg), or :class:`MissingExtraError` naming the extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("matplotlib", "plot") from None
    return plt


def figure_width(duration_s: float) -> float:
    """Figure width in inches: grows with the recording's duration, between the minimum and the cap."""
    return float(
        np.clip(MIN_WIDTH_IN + INCHES_PER_S * max(duration_s - 4.0, 0.0), MIN_WIDTH_IN, MAX_WIDTH_IN)
    )


def annotation_figure(annotation: Annotation, descriptor: str = "pitch") -> Figure:
    """The figure of ``annotation`` (the caller closes it); F0 spans coloured by ``descriptor``'s level."""
    plt = pyplot()
    from matplotlib.patches import Patch

    audio = load_audio(annotation.audio)
    duration = len(audio.samples) / audio.sr
    fig, (ax_w, ax_f, ax_g) = plt.subplots(
        3,
        1,
        figsize=(figure_width(duration), 8.0),
        dpi=DPI,
        sharex=True,
        height_ratios=(1, 1.5, 1.2),
        layout="constrained",
    )
    words = _waveform(ax_w, audio.samples, audio.sr, annotation)
    vowels = _f0(ax_f, compute_tracks(audio.samples, audio.sr), annotation, descriptor)
    _grid(ax_g, annotation)
    ax_g.set_xlim(-0.02 * duration, duration * 1.02)

    level_handles = [Patch(color=c, alpha=0.8, label=name) for name, c in LEVEL_COLOURS.items()]
    level_handles.append(Patch(color=MISSING_COLOUR, label="not measurable"))
    slope_handles = [Patch(color=c, label=name) for name, c in SLOPE_COLOURS.items()]
    normalization = "fitted statistics" if annotation.normalization == "fitted" else "this utterance"
    fig.legend(
        handles=level_handles,
        title=f"level (relative to {normalization})",
        loc="outside lower left",
        ncol=3,
        fontsize=7,
        title_fontsize=8,
    )
    fig.legend(
        handles=slope_handles,
        title="pitch slope",
        loc="outside lower right",
        ncol=4,
        fontsize=7,
        title_fontsize=8,
    )
    title = fig.suptitle(f"{annotation.id}: {annotation.text or ''}", x=0.01, ha="left", fontsize=10)
    _fit_title(fig, title)

    fig.canvas.draw()  # lay the figure out: label widths and axes sizes are final from here on
    renderer = fig.canvas.get_renderer()
    left_out = _stagger(ax_w, words, LABEL_LANES["word"], renderer)
    left_out += _stagger(ax_f, vowels, LABEL_LANES["vowel"], renderer)
    ax_g.set_xlabel("time (s)" + (f" ({left_out} labels left out for lack of room)" if left_out else ""))
    return fig


def _waveform(ax, samples: np.ndarray, sr: int, annotation: Annotation) -> list:
    """The waveform (as a min/max envelope when long) with the words' spans; returns the word labels."""
    t = np.arange(len(samples)) / sr
    chunk = len(samples) // ENVELOPE_POINTS
    if chunk > 1:  # one min and one max per chunk: the same picture, far fewer points to draw
        n = chunk * ENVELOPE_POINTS
        blocks = samples[:n].reshape(ENVELOPE_POINTS, chunk)
        t = np.repeat(t[:n:chunk], 2)
        samples = np.column_stack([blocks.min(axis=1), blocks.max(axis=1)]).ravel()
    ax.plot(t, samples, lw=0.4, color="#4a5568")
    ax.set_ylabel("amplitude")
    ax.set_ylim(ax.get_ylim()[0], ax.get_ylim()[1] * 1.6)  # headroom for the word labels
    spans = [(w.start_s, w.end_s - w.start_s) for w in annotation.words if w.start_s is not None]
    ax.broken_barh(spans, (0, 1), transform=ax.get_xaxis_transform(), color="#edf2f7", zorder=0)
    ax.vlines([x for x, _ in spans], 0, 1, transform=ax.get_xaxis_transform(), color="#cbd5e0", lw=0.6)
    return [
        _label(ax, (w.start_s + w.end_s) / 2, w.text, "word")
        for w in annotation.words
        if w.start_s is not None
    ]


def _f0(ax, tracks, annotation: Annotation, descriptor: str) -> list:
    """The F0 track, vowel spans coloured by level, each vowel's fitted slope; returns the vowel labels."""
    from matplotlib.collections import LineCollection

    ax.plot(tracks.f0_times_s, tracks.f0_hz, ".", ms=2, color="#2d3748")
    finite = tracks.f0_hz[np.isfinite(tracks.f0_hz)]
    lo, hi = (np.min(finite) * 0.85, np.max(finite) * 1.15) if finite.size else (50, 400)
    spans = [(v.span.start_s, v.span.duration_s) for v in annotation.vowels]
    colours = [LEVEL_COLOURS.get(v.bins.get(descriptor, ""), MISSING_COLOUR) for v in annotation.vowels]
    ax.broken_barh(spans, (0, 1), transform=ax.get_xaxis_transform(), facecolors=colours, alpha=0.55, lw=0)
    slopes = []
    for vowel in annotation.vowels:
        start, end, feats = vowel.span.start_s, vowel.span.end_s, vowel.features
        if feats.f0_mean_hz is not None and feats.f0_slope_st_per_s is not None:
            # The fitted slope through the vowel's mean F0: what "rising"/"falling" was read from.
            ts = np.array([start, end])
            f0 = feats.f0_mean_hz * 2 ** (feats.f0_slope_st_per_s * (ts - (start + end) / 2) / 12)
            slopes.append(np.column_stack([ts, f0]))
    ax.add_collection(LineCollection(slopes, colors="#1a202c", lw=1.8, capstyle="round"))
    ax.set_ylim(lo, hi * 1.3)  # headroom for the vowel labels
    ax.set_ylabel("F0 (Hz)")
    title = f"F0; vowels coloured by {GRID_ROWS.get(descriptor, descriptor)} level, black lines: pitch slope"
    ax.set_title(title, fontsize=8, loc="left")
    return [
        _label(ax, (v.span.start_s + v.span.end_s) / 2, f"/{v.span.ipa}/", "vowel") for v in annotation.vowels
    ]


def _grid(ax, annotation: Annotation) -> None:
    """One row per descriptor, one cell per vowel (its span) coloured by that descriptor's level."""
    spans = [(v.span.start_s, v.span.duration_s) for v in annotation.vowels]
    for row, desc in enumerate(GRID_ROWS):
        palette = SLOPE_COLOURS if desc == "pitch_slope" else LEVEL_COLOURS
        colours = [palette.get(v.bins.get(desc, ""), MISSING_COLOUR) for v in annotation.vowels]
        ax.broken_barh(spans, (row - 0.42, 0.84), facecolors=colours, edgecolor="white", lw=0.5)
    ax.set_yticks(range(len(GRID_ROWS)), list(GRID_ROWS.values()), fontsize=8)
    ax.set_ylim(len(GRID_ROWS) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.set_title("levels per vowel", fontsize=8, loc="left")


def plot_annotation(annotation: Annotation, path: str | Path, descriptor: str = "pitch") -> Path:
    """Draw ``annotation`` to ``path`` (PNG); F0 spans are coloured by the level of ``descriptor``."""
    fig = annotation_figure(annotation, descriptor)
    path = Path(path)
    try:
        fig.savefig(path, dpi=DPI)
    finally:
        pyplot().close(fig)
    return path


def _label(ax, x: float, text: str, kind: str):
    """A label centred at data ``x`` near the top of ``ax``, outside the layout (it is placed later)."""
    label = ax.text(
        x,
        0.97,
        text,
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="top",
        fontsize=8,
        gid=f"{kind}-label",
    )
    label.set_in_layout(False)
    return label


def _stagger(ax, labels: list, lanes: int, renderer, pad_px: float = 3.0) -> int:
    """Put each label (left to right) on the highest of ``lanes`` heights where it clears the label before
    it; a label that fits on none is hidden. Returns how many were hidden."""
    if not labels:
        return 0
    box = ax.get_window_extent(renderer)
    extents = [label.get_window_extent(renderer) for label in labels]
    step = max(e.height for e in extents) * 1.15 / box.height  # lane spacing in axes fraction
    ends = [-np.inf] * lanes
    hidden = 0
    for label, ext in sorted(zip(labels, extents), key=lambda pair: pair[1].x0):
        lane = next((i for i in range(lanes) if ext.x0 >= ends[i] + pad_px), None)
        if lane is None:
            label.set_visible(False)
            hidden += 1
            continue
        ends[lane] = ext.x1
        label.set_y(0.97 - lane * step)
    return hidden


def _fit_title(fig, title) -> None:
    """Wrap the title to the figure's width, at most :data:`TITLE_LINES` lines (the rest cut with …)."""
    text = title.get_text()
    renderer = fig.canvas.get_renderer()
    width_px = fig.get_figwidth() * fig.dpi * 0.97
    chars = max(int(width_px / (title.get_fontsize() * fig.dpi / 72 * 0.5)), 20)
    while True:
        lines = textwrap.wrap(text, chars) or [""]
        if len(lines) > TITLE_LINES:
            lines = [*lines[: TITLE_LINES - 1], lines[TITLE_LINES - 1][: chars - 2].rstrip() + " …"]
        title.set_text("\n".join(lines))
        if title.get_window_extent(renderer).width <= width_px or chars <= 20:
            return
        chars = int(chars * 0.9)
