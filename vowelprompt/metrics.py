"""Scores the way SER papers report them (docs/method.md §4), computed with scikit-learn.

Weighted F1 (all VowelPrompt tables), unweighted accuracy (UA = mean per-class recall), accuracy (WA),
macro F1, a per-class report, the confusion matrix, and the share of invalid outputs. An invalid output
(no label could be parsed, or the model was never asked) counts as wrong — it is kept as the pseudo-label
``(invalid)``, which matches no gold label — never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vowelprompt.errors import MissingExtraError

INVALID = "(invalid)"


@dataclass(frozen=True)
class Scores:
    n: int
    weighted_f1: float
    unweighted_accuracy: float
    accuracy: float
    macro_f1: float
    invalid_rate: float
    labels: tuple[str, ...]
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]  # rows: gold labels; columns: labels then INVALID

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__, labels=list(self.labels))

    def table(self) -> str:
        """A plain-text summary for the terminal."""
        lines = [
            f"utterances          {self.n}",
            f"weighted F1         {100 * self.weighted_f1:6.2f}",
            f"unweighted accuracy {100 * self.unweighted_accuracy:6.2f}  (UA, mean per-class recall)",
            f"accuracy            {100 * self.accuracy:6.2f}  (WA)",
            f"macro F1            {100 * self.macro_f1:6.2f}",
            f"invalid outputs     {100 * self.invalid_rate:6.2f} %",
            "",
            f"{'class':<14}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}",
        ]
        for label in self.labels:
            c = self.per_class[label]
            lines.append(
                f"{label:<14}{100 * c['precision']:>10.1f}{100 * c['recall']:>8.1f}{100 * c['f1']:>8.1f}"
                f"{int(c['support']):>9}"
            )
        return "\n".join(lines)


def score(gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]) -> Scores:
    """Score predictions (``None`` = invalid) against gold labels from ``labels``.

    >>> s = score(["sad", "sad", "angry"], ["sad", None, "angry"], ["angry", "sad"])
    >>> round(s.accuracy, 3), round(s.unweighted_accuracy, 3), round(s.invalid_rate, 3)
    (0.667, 0.75, 0.333)
    """
    try:
        from sklearn.metrics import (
            accuracy_score,
            confusion_matrix,
            f1_score,
            precision_recall_fscore_support,
        )
    except ImportError:
        raise MissingExtraError("scikit-learn", "eval") from None
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    labels = list(labels)
    y_true = list(gold)
    y_pred = [p if p is not None else INVALID for p in predicted]
    if not y_true:
        return Scores(0, 0.0, 0.0, 0.0, 0.0, 0.0, tuple(labels), {}, [])
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    present = [i for i, s in enumerate(support) if s > 0]  # UA averages over classes that occur
    return Scores(
        n=len(y_true),
        weighted_f1=float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
        unweighted_accuracy=float(sum(recall[i] for i in present) / len(present)) if present else 0.0,
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        invalid_rate=sum(p == INVALID for p in y_pred) / len(y_pred),
        labels=tuple(labels),
        per_class={
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        confusion=confusion_matrix(y_true, y_pred, labels=[*labels, INVALID])[: len(labels)].tolist(),
    )


def plot_confusion(scores: Scores, path: str | Path, title: str = "") -> Path:
    """Row-normalised confusion matrix with counts, an extra column for invalid outputs."""
    import numpy as np

    from vowelprompt.plot import pyplot

    plt = pyplot()

    counts = np.asarray(scores.confusion, dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    columns = [*scores.labels, INVALID]
    fig, ax = plt.subplots(figsize=(1.1 * len(columns) + 2, 0.9 * len(scores.labels) + 1.6))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(scores.labels)):
        for j in range(len(columns)):
            ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center",
                    color="white" if shares[i, j] > 0.6 else "black", fontsize=9)  # fmt: skip
    ax.set_xticks(range(len(columns)), columns, rotation=35, ha="right")
    ax.set_yticks(range(len(scores.labels)), scores.labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(
        title or f"WF1 {100 * scores.weighted_f1:.1f}  UA {100 * scores.unweighted_accuracy:.1f}", fontsize=10
    )
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
