"""Named evaluation protocols: which manifest rows are trained on, validated on and tested on, fold by fold.

A protocol reads the fields corpus adapters write (``vowelprompt/corpora/base.py``): ``fold`` (the fold
in which the row is *test*), ``split`` (``train``/``dev``/``test``), ``speaker`` and ``dataset``. The
test rows of a fold never enter its statistics, its training data or its validation set; validation is the
``dev`` split where the corpus has one, else a seeded, held-out share of the training part (whole speakers
where there are three or more; docs/experiments.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from vowelprompt.errors import ConfigError


@dataclass(frozen=True)
class Protocol:
    """One named protocol (see :data:`PROTOCOLS`)."""

    name: str
    corpus: str
    """The corpus (manifest ``dataset`` field) tested on."""
    labels: str
    """The label-set preset it is scored in."""
    folds_by: str
    """``fold`` (the manifest's fold field), ``speaker`` (one fold per speaker) or ``split`` (one fold:
    train/dev/test as the corpus distributes them)."""
    summary: str
    speaker_independent: bool = True
    folds: tuple[Any, ...] = ()
    """The folds run by default (``folds_by: fold``); empty: every fold the manifest holds."""
    train_corpus: str | None = None
    """Cross-domain protocols: the corpus trained on (every row of it is training data)."""
    train_labels: str | None = None
    """Cross-domain protocols: the label set the model is prompted and trained in (mapped to ``labels``)."""


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            "iemocap4-loso",
            "iemocap",
            "iemocap4",
            "fold",
            "IEMOCAP 4-class (happy+excited), leave one session out: 5 folds, each tests one session (two "
            "speakers) and trains on the other four (EmoBox)",
            folds=(1, 2, 3, 4, 5),
        ),
        Protocol(
            "iemocap6-s5",
            "iemocap",
            "iemocap6",
            "fold",
            "IEMOCAP 6-class with frustrated (ERC convention): train on sessions 1-4, test on session 5",
            folds=(5,),
        ),
        Protocol(
            "meld7-official",
            "meld",
            "meld7",
            "split",
            "MELD 7-class, official train/dev/test split (speakers recur across splits: TV characters)",
            speaker_independent=False,
        ),
        Protocol(
            "cafe-3fold",
            "cafe",
            "cafe7",
            "fold",
            "CaFE 7-class, 3 speaker-independent folds of 4 actors (EmoBox)",
            folds=(1, 2, 3),
        ),
        Protocol(
            "emodb-5fold",
            "emodb",
            "emodb7",
            "fold",
            "EmoDB 7-class, EmoBox's 5 random folds: SPEAKER-DEPENDENT (every test speaker is also trained "
            "on); for a speaker-independent figure use emodb-loso",
            speaker_independent=False,
            folds=(1, 2, 3, 4, 5),
        ),
        Protocol(
            "emodb-loso",
            "emodb",
            "emodb7",
            "speaker",
            "EmoDB 7-class, leave one speaker out: 10 folds, speaker-independent",
        ),
        Protocol(
            "ravdess-6fold",
            "ravdess",
            "ravdess8",
            "fold",
            "RAVDESS speech, 6 speaker-independent folds of 4 actors (EmoBox)",
            folds=(1, 2, 3, 4, 5, 6),
        ),
        Protocol(
            "iemocap-to-meld",
            "meld",
            "meld7",
            "split",
            "cross-domain: train on every IEMOCAP row (iemocap4), test on MELD's official test split; "
            "predicted labels reach meld7 through the printed label map",
            train_corpus="iemocap",
            train_labels="iemocap4",
        ),
    )
}


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {name!r}; choose one of: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


@dataclass(frozen=True)
class Split:
    """The ids of one fold: trained on (``train``), validated on (``dev``), tested on (``test``)."""

    fold: str
    train: tuple[str, ...]
    dev: tuple[str, ...]
    test: tuple[str, ...]
    dev_source: str
    """``dev split`` or ``held-out part of training`` (or ``none``), for the run manifest and the docs."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def fold_names(protocol: Protocol, rows: list[dict], chosen: list | None = None) -> list[str]:
    """The folds to run: ``chosen`` (checked against the manifest), else the protocol's, else every fold
    the manifest holds."""
    rows = [r for r in rows if r.get("dataset", protocol.corpus) == protocol.corpus]
    if protocol.folds_by == "split":
        present = ["official"]
    elif protocol.folds_by == "speaker":
        present = sorted({str(r["speaker"]) for r in rows if r.get("speaker") is not None})
    else:
        present = sorted({str(r["fold"]) for r in rows if r.get("fold") is not None}, key=_fold_key)
    if chosen:
        names = [str(f) for f in chosen]
        missing = [f for f in names if f not in present]
        if missing:
            raise ConfigError(
                f"folds {', '.join(missing)} are not in the manifest ({protocol.name} has: "
                f"{', '.join(present) or 'none'})"
            )
        return names
    default = [str(f) for f in protocol.folds if str(f) in present]
    if not (default or present):
        raise ConfigError(f"no {protocol.corpus} rows with a {protocol.folds_by} field for {protocol.name}")
    return default or present


def _fold_key(name: str):
    return (0, int(name)) if name.isdigit() else (1, name)


def split_fold(
    protocol: Protocol, rows: list[dict], fold: str, dev_fraction: float = 0.1, seed: int = 0
) -> Split:
    """The train/dev/test ids of ``fold`` over manifest ``rows``. Test rows are never in train or dev.

    >>> rows = [{"id": f"u{i}", "fold": 1 + i % 2, "speaker": f"s{i % 4}", "dataset": "iemocap"}
    ...         for i in range(8)]
    >>> s = split_fold(PROTOCOLS["iemocap4-loso"], rows, "1", dev_fraction=0.5)
    >>> s.test, sorted(s.train + s.dev), s.dev_source
    (('u0', 'u2', 'u4', 'u6'), ['u1', 'u3', 'u5', 'u7'], 'held-out part of training')
    """
    test_rows = [r for r in rows if r.get("dataset", protocol.corpus) == protocol.corpus]
    if protocol.train_corpus:  # cross-domain: all of the training corpus; the test corpus's test split
        train_rows = [r for r in rows if r.get("dataset") == protocol.train_corpus]
        test = [r["id"] for r in test_rows if r.get("split") in ("test", None)]
    elif protocol.folds_by == "split":
        train_rows = [r for r in test_rows if r.get("split") in ("train", "dev")]
        test = [r["id"] for r in test_rows if r.get("split") == "test"]
    elif protocol.folds_by == "speaker":
        train_rows = [r for r in test_rows if str(r.get("speaker")) != fold]
        test = [r["id"] for r in test_rows if str(r.get("speaker")) == fold]
    else:
        unassigned = [r["id"] for r in test_rows if r.get("fold") is None]
        if unassigned:
            raise ConfigError(f"{len(unassigned)} rows have no fold (e.g. {unassigned[0]}): {protocol.name}")
        train_rows = [r for r in test_rows if str(r["fold"]) != fold]
        test = [r["id"] for r in test_rows if str(r["fold"]) == fold]
    if not test or not train_rows:
        raise ConfigError(
            f"fold {fold} of {protocol.name}: {len(train_rows)} training and {len(test)} test rows"
        )
    dev = [r["id"] for r in train_rows if r.get("split") == "dev"]
    source = "dev split"
    if not dev and dev_fraction > 0:
        dev, source = _held_out(train_rows, dev_fraction, seed), "held-out part of training"
    elif not dev:
        source = "none"
    held = set(dev)
    train = tuple(r["id"] for r in train_rows if r["id"] not in held)
    return Split(fold, train, tuple(dev), tuple(test), source)


def _held_out(rows: list[dict], fraction: float, seed: int) -> list[str]:
    """A seeded share of the training rows for validation: whole speakers where there are several (so that
    validation is as speaker-independent as the test), else rows."""
    speakers = sorted({str(r.get("speaker")) for r in rows})
    rng = random.Random(seed)
    if len(speakers) >= 3:
        rng.shuffle(speakers)
        chosen = set(speakers[: max(1, round(fraction * len(speakers)))])
        return [r["id"] for r in rows if str(r.get("speaker")) in chosen]
    ids = [r["id"] for r in rows]
    rng.shuffle(ids)
    keep = set(ids[: max(1, round(fraction * len(ids)))])
    return [i for i in (r["id"] for r in rows) if i in keep]
