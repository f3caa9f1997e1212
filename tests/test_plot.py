"""`annotate --plot`: the figure of a short and of a long (≈ 18 s) real utterance stays readable: labels
that do not collide, a title inside the figure, a width that grows with the recording, every descriptor."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import soundfile as sf
from conftest import EXAMPLE, write_wav

from vowelprompt.pipeline import Annotator
from vowelprompt.plot import GRID_ROWS, MAX_WIDTH_IN, MIN_WIDTH_IN, annotation_figure, plot_annotation, pyplot
from vowelprompt.records import Annotation, Utterance

TEXT = EXAMPLE.with_suffix(".txt").read_text(encoding="utf-8").strip()
REPEATS = 5


@pytest.fixture(scope="module")
def short() -> Annotation:
    row = Annotator().annotate(Utterance(id="happy_day", audio=str(EXAMPLE), text=TEXT))
    assert row.ok, row.error
    return row


@pytest.fixture(scope="module")
def long(tmp_path_factory) -> Annotation:
    """The example said five times in a row, aligned as one utterance."""
    samples, sr = sf.read(str(EXAMPLE), dtype="float32")
    path = write_wav(tmp_path_factory.mktemp("plot") / "long.wav", np.concatenate([samples] * REPEATS), sr)
    row = Annotator().annotate(
        Utterance(id="five_happy_days", audio=str(path), text=" ".join([TEXT] * REPEATS))
    )
    assert row.ok, row.error
    assert row.duration_s > 15 and len(row.vowels) > 80
    return row


def visible_labels(fig, kind: str) -> list:
    return [t for t in fig.findobj(lambda a: a.get_gid() == f"{kind}-label") if t.get_visible()]


def check_readable(annotation: Annotation) -> float:
    """Checks the figure of ``annotation``; returns its width in inches."""
    fig = annotation_figure(annotation)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        page = fig.bbox
        vowels, words = visible_labels(fig, "vowel"), visible_labels(fig, "word")
        # Nearly every label is shown, and no two shown labels overlap.
        assert len(vowels) >= 0.9 * len(annotation.vowels)
        assert len(words) >= 0.9 * len([w for w in annotation.words if w.start_s is not None])
        for group in (vowels, words):
            boxes = [t.get_window_extent(renderer) for t in group]
            for a, b in itertools.combinations(boxes, 2):
                assert not a.overlaps(b), (a, b)
            assert all(page.x0 <= box.x0 and box.x1 <= page.x1 for box in boxes)
        # The whole title, inside the figure, wrapped rather than cut.
        title = fig._suptitle
        box = title.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
        assert annotation.id in title.get_text()
        assert title.get_text().replace("\n", " ").endswith(annotation.text.split()[-1])
        # Every descriptor has its row of levels; pitch slope appears as a legend too.
        ticks = {t.get_text() for ax in fig.axes for t in ax.get_yticklabels()}
        assert set(GRID_ROWS.values()) <= ticks and {"energy", "duration", "pitch slope"} <= ticks
        legends = [t.get_text() for leg in fig.legends for t in (leg.get_title(), *leg.get_texts())]
        assert "steeply rising" in legends and "very high" in legends
        level_box, slope_box = (leg.get_window_extent(renderer) for leg in fig.legends)
        assert not level_box.overlaps(slope_box)
        return fig.get_figwidth()
    finally:
        pyplot().close(fig)


def test_short_utterance_figure(short, tmp_path):
    assert check_readable(short) == MIN_WIDTH_IN
    png = plot_annotation(short, tmp_path / "short.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_long_utterance_stays_readable(long, tmp_path):
    assert MIN_WIDTH_IN < check_readable(long) <= MAX_WIDTH_IN
    path = plot_annotation(long, tmp_path / "long.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_long_title_is_wrapped_then_shortened(short):
    text = " ".join([TEXT] * 30)
    fig = annotation_figure(Annotation(**{**short.__dict__, "text": text}))
    try:
        fig.canvas.draw()
        title = fig._suptitle
        box, page = title.get_window_extent(fig.canvas.get_renderer()), fig.bbox
        assert box.x1 <= page.x1 and box.y1 <= page.y1
        lines = title.get_text().split("\n")
        assert 1 < len(lines) <= 3 and lines[-1].endswith("…")
    finally:
        pyplot().close(fig)
