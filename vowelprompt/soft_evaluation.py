"""The scores beyond one label that ``evaluate`` adds when the data carry them (issue 17), computed with
:mod:`vowelprompt.soft_metrics`, and their tables for the terminal.

Each section is computed only over the items that have what it needs, and says how many those were (``n``):

- ``distribution`` — predictions with a ``distribution`` against the gold manifest's ``label_votes``
  (Bhattacharyya coefficient, Jensen–Shannon divergence, KL, R²);
- ``calibration`` — predictions with a ``distribution`` against the hard gold label (ECE, Brier, NLL);
- ``annotator_accuracy`` — the predicted label against the votes: right if any rater chose it;
- ``by_ambiguity`` — items with votes and a hard gold label, by rater agreement level;
- ``dimensions`` — predictions with ``ratings`` against the manifest's ``vad`` (CCC, Pearson r, MAE,
  mean CCC);
- ``blend`` — predictions asked for a blend against the manifest's ``blend`` (BLEMORE presence, salience);
- ``by_inputs`` — the label scores per combination of inputs the prompt saw, when the rows record several.

Votes are keyed by label or by the corpus's own code (``prepare`` keeps a code where the label set has no
label for it): a key is read as a label of the scored set, else through the corpus's code table
(:data:`VOTE_CODES`), else dropped before the votes are normalised — the note says how many were.
"""

from __future__ import annotations

import importlib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vowelprompt import soft_metrics as sm
from vowelprompt.labels import LabelMap, LabelSet
from vowelprompt.records import Prediction

#: Corpus (the manifest's ``dataset``) → ``module:table`` of its raw codes → words a label set reads.
VOTE_CODES: dict[str, str] = {
    "iemocap": "vowelprompt.corpora.iemocap:CODE_WORDS",
    "msp-podcast": "vowelprompt.corpora.msp_podcast:EMOTIONS",
    "crema-d": "vowelprompt.corpora.cremad:VOTE_COLUMNS",
}
DIMENSIONS = ("valence", "arousal", "dominance")


@dataclass(frozen=True)
class Item:
    """One prediction with its hard gold and predicted label in the scored set (None: none / invalid)."""

    prediction: Prediction
    gold: str | None
    label: str | None


class Reader:
    """Reads keys as labels of the scored set, each distinct key once (``LabelSet.normalize`` builds its
    synonym table on every call, which made most of the time of a 20,000-row evaluation): ``gold`` for keys
    of the gold manifest, ``predicted`` for a prediction's keys (through ``mapping`` where one is given)."""

    def __init__(self, target: LabelSet, mapping: LabelMap | None = None):
        self.target, self.mapping = target, mapping
        self._seen: dict[str, str | None] = {}

    def gold(self, key: Any) -> str | None:
        key = str(key)
        if key not in self._seen:
            self._seen[key] = self.target.normalize(key)
        return self._seen[key]

    def predicted(self, key: Any) -> str | None:
        return self.gold(key) if self.mapping is None else self.mapping.mapping.get(key)


def _codes(dataset: Any) -> dict[str, str | None]:
    spec = VOTE_CODES.get(str(dataset or ""))
    if spec is None:
        return {}
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def vote_counts(row: dict[str, Any], target: LabelSet | Reader) -> tuple[dict[str, float], Counter]:
    """The row's ``label_votes`` as {label of ``target``: votes} (zero-vote labels left out), and the votes
    whose key is outside the set (key → votes)."""
    read = target if isinstance(target, Reader) else Reader(target)
    counts: dict[str, float] = {}
    dropped: Counter = Counter()
    codes = _codes(row.get("dataset"))
    for key, n in (row.get("label_votes") or {}).items():
        if isinstance(n, bool) or not isinstance(n, (int, float)) or n <= 0:
            continue
        label = read.gold(key)
        if label is None and codes.get(str(key)):
            label = read.gold(codes[str(key)])
        if label is None:
            dropped[str(key)] += n
        else:
            counts[label] = counts.get(label, 0) + n
    return counts, dropped


def _distribution(p: Prediction, read: Reader) -> list[float] | None:
    """The prediction's distribution over ``target.labels`` (mapped from another set where ``mapping``),
    renormalised over what lands in the set; None when nothing does or a value is not a probability."""
    if not p.distribution:
        return None
    labels = read.target.labels
    vector = [0.0] * len(labels)
    for key, value in p.distribution.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            return None
        label = read.predicted(key)
        if label is not None:
            vector[labels.index(label)] += float(value)
    total = sum(vector)
    return [v / total for v in vector] if total > 0 else None


def _blend(blend: Any, read: Callable[[Any], str | None]) -> dict[str, float] | None:
    """A blend with its labels read by ``read`` (None if one is not a label of the set, or it is empty)."""
    if not isinstance(blend, dict) or not blend:
        return None
    out: dict[str, float] = {}
    for key, share in blend.items():
        label = read(key)
        if label is None or isinstance(share, bool) or not isinstance(share, (int, float)):
            return None
        out[label] = out.get(label, 0) + float(share)
    return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def beyond_one_label(
    items: Sequence[Item], gold_rows: dict[str, dict[str, Any]], target: LabelSet, mapping: LabelMap | None
) -> tuple[dict[str, Any], list[str]]:
    """The sections the data allow (module docstring), and notes on what was left out."""
    sections: dict[str, Any] = {}
    notes: list[str] = []
    labels = list(target.labels)
    read = Reader(target, mapping)
    votes: dict[int, dict[str, float]] = {}  # by position in ``items`` (ids may repeat across tasks)
    dropped: Counter = Counter()
    no_votes_left = 0
    for k, it in enumerate(items):
        row = gold_rows.get(it.prediction.id) or {}
        if row.get("label_votes"):
            counts, out = vote_counts(row, read)
            dropped.update(out)
            if counts:
                votes[k] = counts
            else:
                no_votes_left += 1
    if dropped:
        keys = ", ".join(f"{k!r} {v:g}" for k, v in dropped.most_common(6))
        n = sum(dropped.values())
        notes.append(
            f"{n:g} rater {'vote' if n == 1 else 'votes'} under keys outside {target.name} "
            f"{'was' if n == 1 else 'were'} dropped before normalising the votes ({keys})"
        )
    if no_votes_left:
        notes.append(
            f"{_count(no_votes_left, 'item')} had no rater vote left in {target.name}: "
            "not scored against votes"
        )

    def vote_vector(k: int) -> list[float]:
        return [votes[k].get(label, 0) for label in labels]

    soft = {k: [n / sum(v.values()) for n in vote_vector(k)] for k, v in votes.items()}  # y_c = n_c / N

    dists = {k: d for k, it in enumerate(items) if (d := _distribution(it.prediction, read))}
    bad = sum(1 for k, it in enumerate(items) if it.prediction.distribution and k not in dists)
    if bad:
        notes.append(
            f"{_count(bad, 'distribution')} had no probability in {target.name} or a value outside [0, 1]: "
            "left out"
        )
    both = [k for k in range(len(items)) if k in votes and k in dists]
    if both:
        gold_d = [soft[k] for k in both]
        pred_d = [dists[k] for k in both]
        sections["distribution"] = {
            "n": len(both),
            "bhattacharyya": sm.bhattacharyya(gold_d, pred_d),
            "jensen_shannon": sm.jensen_shannon(gold_d, pred_d),
            "kl": sm.kl_divergence(gold_d, pred_d),
            "r2": sm.r_squared(gold_d, pred_d),
            # how the distributions were obtained (logprobs, samples, classifier), so mixed runs are visible
            "from": dict(Counter(items[k].prediction.distribution_from or "unknown" for k in both)),
        }
    hard = [k for k, it in enumerate(items) if k in dists and it.gold is not None]
    if hard:
        sections["calibration"] = sm.calibration(
            [dists[k] for k in hard], [labels.index(items[k].gold) for k in hard]
        )
    voted = [k for k, it in enumerate(items) if k in votes and it.prediction.task != "dimensions"]
    if voted:
        sections["annotator_accuracy"] = {
            "n": len(voted),
            "accuracy": sm.annotator_accuracy([items[k].label for k in voted], [votes[k] for k in voted]),
        }
        levels = _by_ambiguity(items, [k for k in voted if items[k].gold is not None], votes, soft, dists)
        if levels:
            sections["by_ambiguity"] = levels
    dims = _dimensions(items, gold_rows, notes)
    if dims:
        sections["dimensions"] = dims
    blend = _blends(items, gold_rows, read)
    if blend:
        sections["blend"] = blend
    by_inputs = _by_inputs(items, labels)
    if by_inputs:
        sections["by_inputs"] = by_inputs
    return sections, notes


def _by_ambiguity(items: Sequence[Item], voted: list[int], votes, soft, dists) -> dict[str, Any]:
    """Accuracy, annotator-aware accuracy and (where there are distributions) BC and JSD per agreement
    level of :data:`~vowelprompt.soft_metrics.AMBIGUITY_LEVELS`, over ``voted`` (positions in ``items``)."""
    levels: dict[str, list[int]] = defaultdict(list)
    for k in voted:
        levels[sm.ambiguity_level(soft[k])].append(k)
    out = {}
    for level, _floor in sm.AMBIGUITY_LEVELS:
        group = levels.get(level)
        if not group:
            continue
        with_dist = [k for k in group if k in dists]
        gold_d = [soft[k] for k in with_dist]
        pred_d = [dists[k] for k in with_dist]
        out[level] = {
            "n": len(group),
            "accuracy": sum(items[k].label == items[k].gold for k in group) / len(group),
            "annotator_accuracy": sm.annotator_accuracy(
                [items[k].label for k in group], [votes[k] for k in group]
            ),
            "bhattacharyya": sm.bhattacharyya(gold_d, pred_d) if with_dist else None,
            "jensen_shannon": sm.jensen_shannon(gold_d, pred_d) if with_dist else None,
        }
    return out


def _dimensions(items: Sequence[Item], gold_rows, notes: list[str]) -> dict[str, Any] | None:
    gold: dict[str, list[float]] = defaultdict(list)
    pred: dict[str, list[float]] = defaultdict(list)
    unrated = 0
    for it in items:
        vad = (gold_rows.get(it.prediction.id) or {}).get("vad")
        if not isinstance(vad, dict):
            continue
        ratings = {str(k).lower(): v for k, v in (it.prediction.ratings or {}).items()}
        if not ratings:
            unrated += it.prediction.task == "dimensions"
            continue
        for name in DIMENSIONS:
            g, p = _number(vad.get(name)), _number(ratings.get(name))
            if g is not None and p is not None:
                gold[name].append(g)
                pred[name].append(p)
    if unrated:
        notes.append(
            f"{_count(unrated, 'prediction')} asked for ratings gave none (invalid): "
            "not in the dimension scores"
        )
    if not gold:
        return None
    out = sm.dimension_scores(dict(gold), dict(pred))
    out["unrated"] = unrated
    return out


def _blends(items: Sequence[Item], gold_rows, read: Reader) -> dict[str, Any] | None:
    """BLEMORE's scores over the predictions that were asked for a blend (or carry one) and whose gold row
    has a ``blend``; such a prediction without a readable blend counts as wrong."""
    pairs = []
    for it in items:
        p = it.prediction
        gold = _blend((gold_rows.get(p.id) or {}).get("blend"), read.gold)
        if gold is not None and (p.blend or p.task == "blend"):
            pairs.append((gold, _blend(p.blend, read.predicted)))
    if not pairs:
        return None
    gold_b, pred_b = [g for g, _ in pairs], [p for _, p in pairs]
    salience, n_pairs = sm.salience_accuracy(gold_b, pred_b)
    return {
        "n": len(pairs),
        "presence_accuracy": sm.presence_accuracy(gold_b, pred_b),
        "n_two_emotion": n_pairs,
        "salience_accuracy": salience,
        "invalid": sum(p is None for p in pred_b),
    }


def _by_inputs(items: Sequence[Item], labels: list[str]) -> dict[str, dict[str, Any]] | None:
    scored = [it for it in items if it.gold is not None and it.prediction.task != "dimensions"]
    if not any(it.prediction.inputs for it in scored):
        return None
    groups: dict[str, list[Item]] = defaultdict(list)
    for it in scored:
        groups["+".join(it.prediction.inputs) or "(not recorded)"].append(it)
    if len(groups) < 2:
        return None
    from vowelprompt.metrics import score

    out = {}
    for key in sorted(groups):
        s = score([it.gold for it in groups[key]], [it.label for it in groups[key]], labels)
        out[key] = {
            "n": s.n,
            "accuracy": s.accuracy,
            "weighted_f1": s.weighted_f1,
            "invalid_rate": s.invalid_rate,
        }
    return out


def _f(value: float | None, scale: float = 1.0, width: int = 8, digits: int = 3) -> str:
    return f"{'—':>{width}}" if value is None else f"{scale * value:>{width}.{digits}f}"


def tables(extra: dict[str, Any]) -> str:
    """The sections as plain-text tables, in the order of the module docstring (empty if none)."""
    out: list[str] = []
    if d := extra.get("distribution"):
        out += [
            "",
            f"label distribution vs rater votes (n {d['n']}; from "
            + ", ".join(f"{source} {n}" for source, n in sorted(d["from"].items()))
            + ")",
            f"  Bhattacharyya coefficient {_f(d['bhattacharyya'])}  (1 = identical)",
            f"  Jensen-Shannon divergence {_f(d['jensen_shannon'])}  (bits, 0 = identical)",
            f"  KL(gold||pred)            {_f(d['kl'])}  (nats)",
            f"  R² (items × classes)      {_f(d['r2'])}",
        ]
    if c := extra.get("calibration"):
        out += [
            "",
            f"calibration of the distribution's top label (n {c['n']})",
            f"  ECE (15 bins)   {_f(c['ece'])}    accuracy        {_f(c['accuracy'])}",
            f"  Brier           {_f(c['brier'])}    mean confidence {_f(c['mean_confidence'])}",
            f"  NLL of the gold {_f(c['nll'])}",
        ]
    if a := extra.get("annotator_accuracy"):
        accuracy = _f(a["accuracy"], 100, 6, 2)
        out += ["", f"annotator-aware accuracy {accuracy}  (right if any rater chose it; n {a['n']})"]
    if b := extra.get("by_ambiguity"):
        out.append(f"{'agreement':<12}{'n':>6}{'accuracy':>10}{'any-rater':>11}{'BC':>8}{'JSD':>8}")
        for level, r in b.items():
            out.append(
                f"{level:<12}{r['n']:>6}{_f(r['accuracy'], 100, 10, 1)}"
                f"{_f(r['annotator_accuracy'], 100, 11, 1)}{_f(r['bhattacharyya'])}{_f(r['jensen_shannon'])}"
            )
    if d := extra.get("dimensions"):
        out += ["", f"{'dimension':<12}{'n':>6}{'CCC':>8}{'r':>8}{'MAE':>8}"]
        for name, r in d["per_dimension"].items():
            out.append(f"{name:<12}{r['n']:>6}{_f(r['ccc'])}{_f(r['pearson'])}{_f(r['mae'])}")
        out.append(f"{'mean CCC':<18}{_f(d['mean_ccc'])}")
    if b := extra.get("blend"):
        out += [
            "",
            f"blends (n {b['n']}, {b['invalid']} without a readable blend)",
            f"  presence accuracy {_f(b['presence_accuracy'], 100, 6, 2)}  (same set of emotions)",
            f"  salience accuracy {_f(b['salience_accuracy'], 100, 6, 2)}  (same pair and proportions; "
            f"n {b['n_two_emotion']} two-emotion blends)",
        ]
    if g := extra.get("by_inputs"):
        out += ["", f"{'inputs':<36}{'n':>6}{'accuracy':>10}{'WF1':>8}{'invalid %':>11}"]
        for key, r in g.items():
            out.append(
                f"{key:<36}{r['n']:>6}{_f(r['accuracy'], 100, 10, 2)}{_f(r['weighted_f1'], 100, 8, 2)}"
                f"{_f(r['invalid_rate'], 100, 11, 1)}"
            )
    return "\n".join(out).strip("\n")
