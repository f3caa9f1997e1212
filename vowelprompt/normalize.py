"""Normalisation and ordinal bins (docs/method.md §1.4–1.5): fitted on a corpus, saved as JSON, applied apart.

Per vowel, each descriptor is z-scored (a) against its speaker's mean and SD, then (b) against the mean
and SD of that vowel type's speaker-z-scores across the corpus, so "high pitch" means high for this speaker
*and* for this vowel (/i/ is intrinsically higher than /a/). Bins are 5 levels cut at the 10th/25th/75th/
90th percentiles of the fitted z-scores. Pitch slope keeps its sign: near-zero slopes are ``flat``, others
are binned by magnitude at the 25th/75th percentiles of rising and of falling slopes separately.

Languages (docs/method.md §1.4, "multilingual: z-score per language as well"): vowel types are keyed by
language and vowel, so French /a/ is not pooled with English /a/ of MFA's phone set, nor German /ə/ with
English /ə/. English keeps the bare IPA key (:func:`vowel_type_key`), so statistics files fitted before
languages were recorded load and apply unchanged. Speaker z-scores stay per speaker.

Without fitted statistics, a single utterance is normalised against itself (its own vowels' mean and SD;
no vowel-type step) and binned at standard-normal quantiles; utterance-level (SpeechCueLLM) descriptors,
which cannot be compared with themselves, are binned against :data:`REFERENCE_UTTERANCE` values. The
``normalization`` field of the output says which was used.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vowelprompt.bins import NORMAL_EDGES, level, slope_level
from vowelprompt.errors import ConfigError, StatsError
from vowelprompt.outputs import write_text_atomic
from vowelprompt.quality import masked
from vowelprompt.records import (
    DESCRIPTORS,
    UTTERANCE_DESCRIPTORS,
    Annotation,
    UtteranceProsody,
    Vowel,
    VowelFeatures,
)

STATS_VERSION = 1

#: Utterance-level reference (mean, SD) used only when no statistics are fitted: typical values of our
#: espeak-ng development corpus at 175 wpm (see benchmarks/); fit statistics on your own data instead.
REFERENCE_UTTERANCE: dict[str, tuple[float, float]] = {
    "volume": (-20.0, 4.0),  # dBFS
    "volume_var": (10.0, 3.0),  # dB
    "pitch": (6.0, 5.0),  # semitones re 100 Hz (≈ 140 Hz)
    "pitch_var": (2.0, 1.0),  # semitones
    "rate": (5.5, 1.5),  # vowels per second of speech
}


@dataclass(frozen=True)
class NormalizeConfig:
    """How descriptors are normalised and binned."""

    quantiles: tuple[float, float, float, float] = (10, 25, 75, 90)
    """Percentiles of fitted z-scores that cut the 5 bins very low / low / medium / high / very high."""
    slope_quantiles: tuple[float, float] = (25, 75)
    """Percentiles of rising (and of falling) slope magnitudes: slightly / moderately / steeply."""
    slope_flat_st_per_s: float = 3.0
    """Slopes below this magnitude are "flat": 3 st/s moves F0 by ≤ 0.3 st over a 100 ms vowel, about the
    smallest pitch movement listeners notice in a vowel that short."""
    default_slope_edges: tuple[float, float] = (8.0, 20.0)
    """Slope magnitude edges (st/s) used when statistics are not fitted."""
    vowel_type_normalization: bool = True
    """Apply step (b), per-vowel-type z-scores, when statistics are fitted."""
    min_count: int = 5
    """A speaker or vowel type with fewer values than this borrows the global statistics."""

    def __post_init__(self):
        if (
            list(self.quantiles) != sorted(self.quantiles)
            or not 0 < self.quantiles[0] < self.quantiles[-1] < 100
        ):
            raise ConfigError(f"quantiles must increase within (0, 100), got {self.quantiles}")
        if self.slope_flat_st_per_s < 0:
            raise ConfigError("slope_flat_st_per_s must be ≥ 0")


@dataclass(frozen=True)
class Moments:
    """Mean, standard deviation and count of one descriptor's values (saved as ``{"mean", "sd", "n"}``)."""

    mean: float
    sd: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Moments:
        arr = np.asarray(values, dtype=np.float64)
        return cls(float(np.mean(arr)), float(np.std(arr)) if arr.size >= 2 else 0.0, int(arr.size))

    def z(self, value: float) -> float:
        """``value`` as a z-score; 0 when the values did not vary."""
        return (value - self.mean) / self.sd if self.sd > 1e-9 else 0.0

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "sd": self.sd, "n": self.n}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Moments:
        return cls(float(data["mean"]), float(data["sd"]), int(data.get("n", 0)))


def _moments_by(groups: dict[str, dict[str, list[float]]], min_count: int) -> dict[str, dict[str, Moments]]:
    """Moments per group (speaker, vowel type) and descriptor, for descriptors with ≥ ``min_count`` values."""
    return {
        key: {d: Moments.of(v) for d, v in descs.items() if len(v) >= min_count}
        for key, descs in groups.items()
    }


def _table(data: dict[str, dict[str, Any]]) -> dict[str, dict[str, Moments]]:
    """A saved group → descriptor → moments table (speakers, vowel types) read back."""
    return {key: {d: Moments.from_dict(m) for d, m in ms.items()} for key, ms in data.items()}


def _table_dict(table: dict[str, dict[str, Moments]]) -> dict[str, dict[str, dict[str, float]]]:
    return {key: {d: m.to_dict() for d, m in ms.items()} for key, ms in table.items()}


def _edges(samples: dict[str, list[float]], quantiles: Iterable[float]) -> dict[str, list[float]]:
    return {d: [float(q) for q in np.percentile(v, list(quantiles))] for d, v in samples.items()}


def _values(measured: VowelFeatures | UtteranceProsody, descriptors: Iterable[str]) -> dict[str, float]:
    """The descriptors that could be measured, with their raw values."""
    return {d: v for d in descriptors if (v := measured.value(d)) is not None}


@dataclass(frozen=True)
class LevelStats:
    """One level's statistics (vowels, or whole utterances): moments per speaker and descriptor, moments of
    everyone's values (used for a speaker without enough values), and the bin edges of the z-scores."""

    speakers: dict[str, dict[str, Moments]]
    global_: dict[str, Moments]
    edges: dict[str, list[float]] = field(default_factory=dict)

    def moments(self, speaker: str, descriptor: str) -> Moments | None:
        return self.speakers.get(speaker, {}).get(descriptor) or self.global_.get(descriptor)

    def z(self, speaker: str, values: dict[str, float]) -> dict[str, float]:
        """Speaker z-scores of ``values`` (descriptor → raw value), for the descriptors with moments."""
        out = {}
        for desc, value in values.items():
            moments = self.moments(speaker, desc)
            if moments is not None:
                out[desc] = moments.z(value)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "speakers": _table_dict(self.speakers),
            "global": {d: m.to_dict() for d, m in self.global_.items()},
            "edges": self.edges,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LevelStats:
        return cls(
            speakers=_table(data["speakers"]),
            global_={d: Moments.from_dict(m) for d, m in data["global"].items()},
            edges={d: [float(e) for e in es] for d, es in data["edges"].items()},
        )


class _Samples:
    """Raw values gathered per speaker and over everyone, in the order they come."""

    def __init__(self):
        self.by_speaker: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.overall: dict[str, list[float]] = defaultdict(list)

    def add(self, speaker: str, values: dict[str, float]) -> None:
        for desc, value in values.items():
            self.by_speaker[speaker][desc].append(value)
            self.overall[desc].append(value)

    def fit(self, min_count: int) -> LevelStats:
        """Moments (no edges yet); a speaker's descriptor needs ``min_count`` values."""
        overall = {d: Moments.of(v) for d, v in self.overall.items()}
        return LevelStats(_moments_by(self.by_speaker, min_count), overall)


@dataclass(frozen=True)
class Stats:
    """Fitted statistics: vowel level (per speaker, z-score quantile edges), per vowel type, slope edges,
    utterance level.

    Saved/loaded as JSON (:meth:`save`, :meth:`load`). ``vowel_types`` are keyed by :func:`vowel_type_key`
    (the IPA symbol; ``fr:ɛ̃`` outside English) and hold the moments of speaker z-scores (step (b)).
    ``utterance`` is ``None`` in a file that has no utterance level.
    """

    vowel: LevelStats
    vowel_types: dict[str, dict[str, Moments]]
    slope_edges: dict[str, list[float]]
    utterance: LevelStats | None = None
    config: dict[str, Any] = field(default_factory=dict)
    n_utterances: int = 0
    source: str = ""

    def vowel_z(self, vowel: Vowel, speaker: str, language: str | None = None) -> dict[str, float]:
        """Speaker z-scores of ``vowel``, then z-scored against its vowel type (in ``language``) where that
        type was fitted."""
        z = self.vowel.z(speaker, _values(vowel.features, DESCRIPTORS))
        return _type_z(vowel, z, self.vowel_types, language)

    def to_dict(self) -> dict[str, Any]:
        vowel = self.vowel.to_dict()
        return {
            "version": STATS_VERSION,
            "n_utterances": self.n_utterances,
            "config": self.config,
            "global": vowel["global"],
            "speakers": vowel["speakers"],
            "vowel_types": _table_dict(self.vowel_types),
            "edges": vowel["edges"],
            "slope_edges": self.slope_edges,
            "utterance": self.utterance.to_dict() if self.utterance is not None else {},
        }

    def save(self, path: str | Path) -> None:
        write_text_atomic(path, json.dumps(self.to_dict(), indent=1, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> Stats:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("version") != STATS_VERSION:
                raise StatsError(
                    f"{path}: statistics version {data.get('version')}, expected {STATS_VERSION}"
                )
            utterance = data.get("utterance")
            return cls(
                vowel=LevelStats.from_dict(data),
                vowel_types=_table(data["vowel_types"]),
                slope_edges={k: [float(e) for e in es] for k, es in data["slope_edges"].items()},
                utterance=LevelStats.from_dict(utterance) if utterance else None,
                config=data.get("config", {}),
                n_utterances=data.get("n_utterances", 0),
                source=str(path),
            )
        except FileNotFoundError:
            raise StatsError(f"{path}: no such statistics file") from None
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise StatsError(f"{path}: not a vowelprompt statistics file ({exc})") from None


def vowel_type_key(ipa: str, language: str | None) -> str:
    """The key of a vowel type's statistics: the IPA symbol for English (and rows without a language),
    ``language:ipa`` otherwise (base language: ``fr-CA`` and ``fr`` share ``fr``).

    >>> vowel_type_key("a", "en"), vowel_type_key("a", None), vowel_type_key("a", "fr-CA")
    ('a', 'a', 'fr:a')
    """
    from vowelprompt.align.g2p import base_language, is_english

    return ipa if is_english(language) else f"{base_language(language)}:{ipa}"


def _type_z(
    vowel: Vowel, z: dict[str, float], types: dict[str, dict[str, Moments]], language: str | None = None
) -> dict[str, float]:
    """Step (b): speaker z-scores ``z`` against the moments of ``vowel``'s type, where fitted."""
    vt = types.get(vowel_type_key(vowel.span.ipa, language), {})
    return {d: vt[d].z(v) if d in vt else v for d, v in z.items()}


def _speaker_key(annotation: Annotation) -> str:
    return annotation.speaker or annotation.id


def fit_stats(annotations: Iterable[Annotation], config: NormalizeConfig = NormalizeConfig()) -> Stats:
    """Fit speaker, vowel-type, bin-edge and slope statistics on annotated rows (training split only).

    Rows whose status is not ``ok`` are ignored. Raises :class:`StatsError` if nothing can be fitted.
    """
    # descriptors the quality threshold dropped (vowelprompt.quality) are left out of the fit as well
    rows = [replace(a, vowels=tuple(map(masked, a.vowels))) for a in annotations if a.ok and a.vowels]
    if not rows:
        raise StatsError("no successfully annotated utterances to fit statistics on")
    vowel_samples, utt_samples = _Samples(), _Samples()
    for row in rows:
        for vowel in row.vowels:
            vowel_samples.add(_speaker_key(row), _values(vowel.features, DESCRIPTORS))
        if row.utterance:
            utt_samples.add(_speaker_key(row), _values(row.utterance, UTTERANCE_DESCRIPTORS))
    vowel_level = vowel_samples.fit(config.min_count)
    # Step (b): vowel-type moments of speaker z-scores.
    speaker_z = [
        (vowel, vowel_level.z(_speaker_key(row), _values(vowel.features, DESCRIPTORS)), row.language)
        for row in rows
        for vowel in row.vowels
    ]
    by_type: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for vowel, z, language in speaker_z:
        for desc, value in z.items():
            by_type[vowel_type_key(vowel.span.ipa, language)][desc].append(value)
    vowel_types = _moments_by(by_type, config.min_count) if config.vowel_type_normalization else {}
    # Bin edges on the final z-scores; slope edges on raw slopes.
    finals: dict[str, list[float]] = defaultdict(list)
    rising, falling = [], []
    for vowel, z, language in speaker_z:
        for desc, value in _type_z(vowel, z, vowel_types, language).items():
            finals[desc].append(value)
        slope = vowel.features.f0_slope_st_per_s
        if slope is not None and abs(slope) >= config.slope_flat_st_per_s:
            (rising if slope > 0 else falling).append(abs(slope))
    slope_edges = {
        name: [float(q) for q in np.percentile(v, config.slope_quantiles)]
        if len(v) >= config.min_count
        else list(config.default_slope_edges)
        for name, v in (("rising", rising), ("falling", falling))
    }
    # Utterance level: speaker z-scores (a speaker needs two utterances), edges on them.
    utt_level = utt_samples.fit(2)
    utt_z: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row.utterance:
            values = _values(row.utterance, UTTERANCE_DESCRIPTORS)
            for desc, value in utt_level.z(_speaker_key(row), values).items():
                utt_z[desc].append(value)
    return Stats(
        vowel=replace(vowel_level, edges=_edges(finals, config.quantiles)),
        vowel_types=vowel_types,
        slope_edges=slope_edges,
        utterance=replace(utt_level, edges=_edges(utt_z, config.quantiles)),
        config=_config_dict(config),
        n_utterances=len(rows),
    )


def _config_dict(config: NormalizeConfig) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.__dict__.items()}


def normalize(
    annotation: Annotation, stats: Stats | None = None, config: NormalizeConfig = NormalizeConfig()
) -> Annotation:
    """Fill z-scores and bins of every vowel and of the utterance; fitted ``stats`` or utterance fallback."""
    if stats is None:
        return _normalize_self(annotation, config)
    speaker = _speaker_key(annotation)
    vowels = []
    for vowel in annotation.vowels:
        z = stats.vowel_z(vowel, speaker, annotation.language)
        vowels.append(replace(vowel, z=z, bins=_bins(vowel, z, stats.vowel.edges, stats.slope_edges, config)))
    utt = annotation.utterance
    if utt is not None and stats.utterance is not None:
        utt = _utt_bins(utt, speaker, stats.utterance)
    return replace(annotation, vowels=tuple(vowels), utterance=utt, normalization="fitted")


def _bins(vowel: Vowel, z: dict[str, float], edges, slope_edges, config: NormalizeConfig) -> dict[str, str]:
    bins = {d: level(v, edges.get(d, NORMAL_EDGES)) for d, v in z.items() if d != "pitch_slope"}
    slope = vowel.features.f0_slope_st_per_s
    if slope is not None:
        bins["pitch_slope"] = slope_level(
            slope, config.slope_flat_st_per_s, slope_edges["rising"], slope_edges["falling"]
        )
    return bins


def _utt_bins(utt: UtteranceProsody, speaker: str, stats: LevelStats) -> UtteranceProsody:
    z = stats.z(speaker, _values(utt, UTTERANCE_DESCRIPTORS))
    return replace(utt, z=z, bins={d: level(v, stats.edges.get(d, NORMAL_EDGES)) for d, v in z.items()})


#: :data:`REFERENCE_UTTERANCE` as the utterance level of the fallback (no speakers, no fitted edges).
_REFERENCE_LEVEL = LevelStats({}, {d: Moments(mean, sd, 0) for d, (mean, sd) in REFERENCE_UTTERANCE.items()})


def _normalize_self(annotation: Annotation, config: NormalizeConfig) -> Annotation:
    samples = _Samples()
    for vowel in annotation.vowels:
        samples.add("", _values(vowel.features, DESCRIPTORS))
    own = LevelStats({}, {d: Moments.of(v) for d, v in samples.overall.items()})
    default_slopes = {"rising": list(config.default_slope_edges), "falling": list(config.default_slope_edges)}
    vowels = []
    for vowel in annotation.vowels:
        z = own.z("", _values(vowel.features, DESCRIPTORS))
        vowels.append(replace(vowel, z=z, bins=_bins(vowel, z, {}, default_slopes, config)))
    utt = annotation.utterance
    if utt is not None:
        utt = _utt_bins(utt, "", _REFERENCE_LEVEL)
    return replace(annotation, vowels=tuple(vowels), utterance=utt, normalization="utterance")
