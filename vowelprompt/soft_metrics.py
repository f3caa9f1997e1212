"""Scores beyond one label (issue 17): label distributions against rater votes, calibration, annotator-aware
accuracy and ambiguity levels, dimensional ratings (valence, arousal, dominance) and blends (BLEMORE).

Pure numpy on literal inputs, so each figure can be checked by hand (tests/test_soft_metrics.py). Inputs are
aligned lists, one entry per item: a *distribution* is a sequence of probabilities over the scored labels (in
the label set's order), a *vote row* the raters' counts in the same order. Nothing to score is a
:class:`~vowelprompt.errors.ConfigError`; a figure that is undefined on the data (R² when every gold
distribution is the same, Pearson r of a constant) is ``None``, never NaN.

Soft gold is the raters' votes normalised to sum to 1 (``y_c = n_c / N``, as AmbER² and the ALM
synthetic-proxy work build it), after votes outside the scored label set were dropped by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from vowelprompt.errors import ConfigError

#: Probabilities are clipped to at least this before a logarithm (KL and NLL): a model that gives a label
#: exactly 0 then costs ln(1/1e-6) ≈ 13.8 nats for it instead of infinity, so one item cannot make the mean
#: infinite; the clipped distribution is not renormalised (the shift is at most K·1e-6).
EPS = 1e-6

#: Calibration bins: 15 of equal width on the top-class confidence, the usual ECE setting (Guo et al. 2017).
ECE_BINS = 15

#: Ambiguity levels by rater agreement (the share of the votes that went to the most-voted label): ``high``
#: agreement ≥ 0.75 (e.g. 3 of 4 raters), ``medium`` 0.5 ≤ a < 0.75 (a plain majority or a tie of two),
#: ``low`` < 0.5 (no label has half the votes). AmbER² reports its scores by ambiguity level; its exact
#: binning is not restated here, these are the bins this package uses (the boundaries are inclusive below).
AMBIGUITY_LEVELS: tuple[tuple[str, float], ...] = (("high", 0.75), ("medium", 0.5), ("low", 0.0))


def _matrix(rows: Sequence[Sequence[float]], what: str) -> np.ndarray:
    m = np.asarray(rows, dtype=float)
    if m.ndim != 2 or m.shape[0] == 0 or m.shape[1] == 0:
        raise ConfigError(f"no {what} to score")
    return m


def _pair(gold: Sequence[Sequence[float]], pred: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    g, p = _matrix(gold, "gold distributions"), _matrix(pred, "predicted distributions")
    if g.shape != p.shape:
        raise ValueError(f"gold {g.shape} and predicted {p.shape} distributions differ in shape")
    return g, p


def normalize_votes(votes: Sequence[float]) -> np.ndarray:
    """Rater counts → soft gold distribution (``n_c / N``). No votes at all is an error."""
    v = np.asarray(votes, dtype=float)
    total = v.sum()
    if total <= 0:
        raise ConfigError("an item has no rater votes in the scored label set")
    return v / total


def agreement(votes: Sequence[float]) -> float:
    """The share of the votes given to the most-voted label (1.0: unanimous). Plain Python: it is called once
    per item."""
    total = float(sum(votes))
    if total <= 0:
        raise ConfigError("an item has no rater votes in the scored label set")
    return max(votes) / total


def ambiguity_level(votes: Sequence[float]) -> str:
    """``high``, ``medium`` or ``low`` agreement (:data:`AMBIGUITY_LEVELS`)."""
    a = agreement(votes) + 1e-12  # 3/4 is "high" even where the division rounds down
    return next(name for name, floor in AMBIGUITY_LEVELS if a >= floor)


def bhattacharyya(gold: Sequence[Sequence[float]], pred: Sequence[Sequence[float]]) -> float:
    """Mean Bhattacharyya coefficient Σ_c √(g_c p_c): 1 for identical distributions, 0 for disjoint ones."""
    g, p = _pair(gold, pred)
    return float(np.mean(np.sum(np.sqrt(g * p), axis=1)))


def _kl_rows(a: np.ndarray, b: np.ndarray, log) -> np.ndarray:
    """KL(a‖b) per row; terms with a_c = 0 are 0 (the limit), b is not clipped (callers make it > 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(a > 0, a * (log(a) - log(np.where(b > 0, b, 1.0))), 0.0)
    return terms.sum(axis=1)


def jensen_shannon(gold: Sequence[Sequence[float]], pred: Sequence[Sequence[float]]) -> float:
    """Mean Jensen–Shannon divergence in bits (base 2), so each item's lies in [0, 1]: ½KL(g‖m) + ½KL(p‖m)
    with m = ½(g + p). Symmetric and finite even where one side gives a label 0."""
    g, p = _pair(gold, pred)
    m = (g + p) / 2
    return float(np.mean(0.5 * _kl_rows(g, m, np.log2) + 0.5 * _kl_rows(p, m, np.log2)))


def kl_divergence(
    gold: Sequence[Sequence[float]], pred: Sequence[Sequence[float]], eps: float = EPS
) -> float:
    """Mean KL(gold‖pred) in nats, the predicted probabilities clipped to at least ``eps`` (:data:`EPS`)."""
    g, p = _pair(gold, pred)
    return float(np.mean(_kl_rows(g, np.maximum(p, eps), np.log)))


def r_squared(gold: Sequence[Sequence[float]], pred: Sequence[Sequence[float]]) -> float | None:
    """R² over the flattened distributions (every item × class is one value), as AmbER² and the ALM
    synthetic-proxy work report it: 1 − SS_res/SS_tot, SS_tot about the mean of all gold values. ``None``
    when SS_tot is 0 (every gold value the same: nothing to explain)."""
    g, p = _pair(gold, pred)
    ss_tot = float(np.sum((g - g.mean()) ** 2))
    if ss_tot == 0:
        return None
    return 1.0 - float(np.sum((g - p) ** 2)) / ss_tot


def calibration(pred: Sequence[Sequence[float]], gold_index: Sequence[int], bins: int = ECE_BINS) -> dict:
    """ECE, Brier score and NLL of the hard gold (class indices into the distributions' order).

    - ECE: items binned by their top-class confidence into ``bins`` equal-width bins ((0, 1/15], …,
      (14/15, 1]); Σ_bins (n_bin/n)·|accuracy_bin − mean confidence_bin|, where an item is right when its
      top class (the first in label order on a tie) is the gold one;
    - Brier: Σ_c (p_c − 1[c = gold])², averaged over items (multi-class form: 0 perfect, 2 worst);
    - NLL: −ln p_gold averaged over items, p clipped to at least :data:`EPS`.
    """
    p = _matrix(pred, "predicted distributions")
    y = np.asarray(gold_index, dtype=int)
    if y.shape != (p.shape[0],):
        raise ValueError("one gold class per distribution is needed")
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    ece = 0.0
    for b in np.unique(which):
        members = which == b
        ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    onehot = np.eye(p.shape[1])[y]
    return {
        "n": int(p.shape[0]),
        "ece": float(ece),
        "brier": float(np.mean(np.sum((p - onehot) ** 2, axis=1))),
        "nll": float(np.mean(-np.log(np.maximum(p[np.arange(len(y)), y], EPS)))),
        "accuracy": float(correct.mean()),
        "mean_confidence": float(confidence.mean()),
    }


def annotator_accuracy(predicted: Sequence[str | None], voted: Sequence[Mapping[str, float]]) -> float:
    """Share of items whose predicted label at least one rater chose (an invalid prediction is wrong)."""
    if not predicted:
        raise ConfigError("no items with rater votes to score")
    if len(predicted) != len(voted):
        raise ValueError("predicted and voted differ in length")
    return sum(p is not None and voted_for(v, p) for p, v in zip(predicted, voted)) / len(predicted)


def voted_for(votes: Mapping[str, float], label: str) -> bool:
    return votes.get(label, 0) > 0


def ccc(gold: Sequence[float], pred: Sequence[float]) -> float | None:
    """Lin's concordance correlation coefficient with population (1/n) variances:
    2·cov(g, p) / (var g + var p + (mean g − mean p)²). 1 only when p = g; a shift or a scale lowers it
    (unlike Pearson r). ``None`` when undefined (both constant and equal)."""
    g, p = _vectors(gold, pred)
    denominator = g.var() + p.var() + (g.mean() - p.mean()) ** 2
    if denominator == 0:
        return None
    return float(2 * np.mean((g - g.mean()) * (p - p.mean())) / denominator)


def pearson(gold: Sequence[float], pred: Sequence[float]) -> float | None:
    """Pearson's r; ``None`` when either side is constant (r is undefined)."""
    g, p = _vectors(gold, pred)
    if g.std() == 0 or p.std() == 0:
        return None
    return float(np.mean((g - g.mean()) * (p - p.mean())) / (g.std() * p.std()))


def mae(gold: Sequence[float], pred: Sequence[float]) -> float:
    g, p = _vectors(gold, pred)
    return float(np.mean(np.abs(g - p)))


def _vectors(gold: Sequence[float], pred: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    g, p = np.asarray(gold, dtype=float), np.asarray(pred, dtype=float)
    if g.size == 0:
        raise ConfigError("no ratings to score")
    if g.shape != p.shape or g.ndim != 1:
        raise ValueError("gold and predicted ratings differ in length")
    return g, p


def dimension_scores(gold: Mapping[str, Sequence[float]], pred: Mapping[str, Sequence[float]]) -> dict:
    """Per dimension (the keys of ``gold``, each with its aligned ``pred`` list): n, CCC, Pearson r, MAE;
    plus ``mean_ccc`` over the dimensions whose CCC is defined (``None`` if none is)."""
    if not gold:
        raise ConfigError("no dimensional ratings to score")
    out: dict = {"per_dimension": {}}
    for name, g in gold.items():
        p = pred[name]
        out["per_dimension"][name] = {
            "n": len(g),
            "ccc": ccc(g, p),
            "pearson": pearson(g, p),
            "mae": mae(g, p),
        }
    cccs = [d["ccc"] for d in out["per_dimension"].values() if d["ccc"] is not None]
    out["mean_ccc"] = float(np.mean(cccs)) if cccs else None
    return out


def presence_accuracy(
    gold: Sequence[Mapping[str, float]], pred: Sequence[Mapping[str, float] | None]
) -> float:
    """BLEMORE's ACC_presence: an item is right when the predicted SET of emotions equals the gold set (no
    emotion missed, none added; salience ignored). Over every item; an invalid prediction (None) is wrong."""
    if not gold:
        raise ConfigError("no gold blends to score")
    if len(gold) != len(pred):
        raise ValueError("gold and predicted blends differ in length")
    return sum(p is not None and set(p) == set(g) for g, p in zip(gold, pred)) / len(gold)


def salience_accuracy(
    gold: Sequence[Mapping[str, float]], pred: Sequence[Mapping[str, float] | None]
) -> tuple[float | None, int]:
    """BLEMORE's ACC_salience, as its reference code (blemore-common ``acc_salience_total``) computes it:
    over the items whose gold is a blend of exactly two emotions, right when the prediction names the same
    two emotions with the same salience (percent, rounded to whole numbers: 70/30 ≠ 50/50, and 70/30 ≠
    30/70); a prediction of one emotion, or three, is wrong. Returns (accuracy, number of such items);
    accuracy is ``None`` when the gold has no two-emotion blend."""
    if len(gold) != len(pred):
        raise ValueError("gold and predicted blends differ in length")
    pairs = [(g, p) for g, p in zip(gold, pred) if len(g) == 2]
    if not pairs:
        return None, 0
    right = sum(p is not None and len(p) == 2 and _rounded(p) == _rounded(g) for g, p in pairs)
    return right / len(pairs), len(pairs)


def _rounded(blend: Mapping[str, float]) -> dict[str, int]:
    return {label: round(float(share)) for label, share in blend.items()}
