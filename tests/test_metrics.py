"""Metrics against hand-computed values; invalid outputs count as wrong."""

from __future__ import annotations

import pytest

from vowelprompt.metrics import INVALID, plot_confusion, score

LABELS = ["neutral", "happy", "angry", "sad"]


def test_hand_computed_example():
    gold = ["neutral", "neutral", "happy", "happy", "angry", "sad", "sad", "sad"]
    pred = ["neutral", "happy", "happy", None, "angry", "sad", "neutral", None]
    s = score(gold, pred, LABELS)
    assert s.accuracy == pytest.approx(4 / 8)
    # recalls: neutral 1/2, happy 1/2, angry 1/1, sad 1/3 -> UA = (0.5 + 0.5 + 1 + 1/3) / 4
    assert s.unweighted_accuracy == pytest.approx((0.5 + 0.5 + 1 + 1 / 3) / 4)
    # F1: neutral p=1/2 r=1/2 -> .5; happy p=1/2 r=1/2 -> .5; angry 1; sad p=1 r=1/3 -> .5
    assert s.weighted_f1 == pytest.approx((2 * 0.5 + 2 * 0.5 + 1 * 1 + 3 * 0.5) / 8)
    assert s.macro_f1 == pytest.approx((0.5 + 0.5 + 1 + 0.5) / 4)
    assert s.invalid_rate == pytest.approx(2 / 8)
    assert s.confusion[3] == [1, 0, 0, 1, 1]  # sad row: 1 neutral, 1 sad, 1 invalid
    assert s.per_class["sad"]["support"] == 3


def test_all_invalid_scores_zero_not_nan():
    s = score(["sad", "angry"], [None, None], LABELS)
    assert (s.accuracy, s.weighted_f1, s.unweighted_accuracy, s.invalid_rate) == (0, 0, 0, 1)


def test_confusion_png(tmp_path):
    s = score(["sad", "angry", "happy"], ["sad", None, "sad"], LABELS)
    png = plot_confusion(s, tmp_path / "cm.png").read_bytes()
    assert png[:4] == b"\x89PNG" and INVALID == "(invalid)"
    assert "weighted F1" in s.table() and "invalid outputs" in s.table()
