"""Normalisation and ordinal bins (METHOD.md §1.4–1.5): fitted on a corpus, saved as JSON, applied apart.

Per vowel, each descriptor is z-scored (a) against its speaker's mean and SD, then (b) against the mean
and SD of that vowel type's speaker-z-scores across the corpus, so "high pitch" means high for this speaker
*and* for this vowel (/i/ is intrinsically higher than /a/). Bins are 5 levels cut at the 10th/25th/75th/
90th percentiles of the fitted z-scores. Pitch slope keeps its sign: near-zero slopes are ``flat``, others
are binned by magnitude at the 25th/75th percentiles of rising and of falling slopes separately.

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

from vowelprompt.errors import ConfigError, StatsError
from vowelprompt.io import write_text_atomic
from vowelprompt.records import DESCRIPTORS, UTTERANCE_DESCRIPTORS, Annotation, UtteranceProsody, Vowel

LEVELS = ("very low", "low", "medium", "high", "very high")
#: Standard-normal 10/25/75/90th percentiles: the bin edges when z-scores are not fitted.
NORMAL_EDGES = (-1.2816, -0.6745, 0.6745, 1.2816)
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


def _moments(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    sd = float(np.std(arr)) if arr.size >= 2 else 0.0
    return {"mean": float(np.mean(arr)), "sd": sd, "n": int(arr.size)}


def _z(value: float, m: dict[str, float]) -> float:
    return (value - m["mean"]) / m["sd"] if m["sd"] > 1e-9 else 0.0


@dataclass
class Stats:
    """Fitted statistics: per speaker and per vowel type, z-score quantile edges, slope edges.

    Saved/loaded as JSON (:meth:`save`, :meth:`load`). ``vowel_types`` are keyed by IPA symbol.
    """

    speakers: dict[str, dict[str, dict[str, float]]]
    global_: dict[str, dict[str, float]]
    vowel_types: dict[str, dict[str, dict[str, float]]]
    edges: dict[str, list[float]]
    slope_edges: dict[str, list[float]]
    utterance: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    n_utterances: int = 0
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATS_VERSION,
            "n_utterances": self.n_utterances,
            "config": self.config,
            "global": self.global_,
            "speakers": self.speakers,
            "vowel_types": self.vowel_types,
            "edges": self.edges,
            "slope_edges": self.slope_edges,
            "utterance": self.utterance,
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
            return cls(
                speakers=data["speakers"],
                global_=data["global"],
                vowel_types=data["vowel_types"],
                edges=data["edges"],
                slope_edges=data["slope_edges"],
                utterance=data.get("utterance", {}),
                config=data.get("config", {}),
                n_utterances=data.get("n_utterances", 0),
                source=str(path),
            )
        except FileNotFoundError:
            raise StatsError(f"{path}: no such statistics file") from None
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise StatsError(f"{path}: not a vowelprompt statistics file ({exc})") from None


def _speaker_key(annotation: Annotation) -> str:
    return annotation.speaker or annotation.id


def fit_stats(annotations: Iterable[Annotation], config: NormalizeConfig = NormalizeConfig()) -> Stats:
    """Fit speaker, vowel-type, bin-edge and slope statistics on annotated rows (training split only).

    Rows whose status is not ``ok`` are ignored. Raises :class:`StatsError` if nothing can be fitted.
    """
    rows = [a for a in annotations if a.ok and a.vowels]
    if not rows:
        raise StatsError("no successfully annotated utterances to fit statistics on")
    by_speaker: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    overall: dict[str, list[float]] = defaultdict(list)
    utt_by_speaker: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    utt_overall: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        for vowel in row.vowels:
            for desc in DESCRIPTORS:
                value = vowel.features.value(desc)
                if value is not None:
                    by_speaker[_speaker_key(row)][desc].append(value)
                    overall[desc].append(value)
        if row.utterance:
            for desc in UTTERANCE_DESCRIPTORS:
                value = row.utterance.value(desc)
                if value is not None:
                    utt_by_speaker[_speaker_key(row)][desc].append(value)
                    utt_overall[desc].append(value)
    global_ = {d: _moments(v) for d, v in overall.items()}
    speakers = {
        spk: {d: _moments(v) for d, v in descs.items() if len(v) >= config.min_count}
        for spk, descs in by_speaker.items()
    }
    stats = Stats(speakers, global_, {}, {}, {}, config=_config_dict(config), n_utterances=len(rows))
    # Step (b): vowel-type moments of speaker z-scores.
    by_type: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for vowel in row.vowels:
            for desc, z in _speaker_z(vowel, _speaker_key(row), stats).items():
                by_type[vowel.span.ipa][desc].append(z)
    if config.vowel_type_normalization:
        stats.vowel_types = {
            ipa: {d: _moments(v) for d, v in descs.items() if len(v) >= config.min_count}
            for ipa, descs in by_type.items()
        }
    # Bin edges on the final z-scores; slope edges on raw slopes.
    finals: dict[str, list[float]] = defaultdict(list)
    rising, falling = [], []
    for row in rows:
        for vowel in row.vowels:
            for desc, z in _final_z(vowel, _speaker_key(row), stats).items():
                finals[desc].append(z)
            slope = vowel.features.f0_slope_st_per_s
            if slope is not None and abs(slope) >= config.slope_flat_st_per_s:
                (rising if slope > 0 else falling).append(abs(slope))
    stats.edges = {d: [float(q) for q in np.percentile(v, config.quantiles)] for d, v in finals.items()}
    stats.slope_edges = {
        name: [float(q) for q in np.percentile(v, config.slope_quantiles)]
        if len(v) >= config.min_count
        else list(config.default_slope_edges)
        for name, v in (("rising", rising), ("falling", falling))
    }
    # Utterance level: speaker z-scores, edges on them.
    utt_speakers = {
        spk: {d: _moments(v) for d, v in descs.items() if len(v) >= 2}
        for spk, descs in utt_by_speaker.items()
    }
    utt_global = {d: _moments(v) for d, v in utt_overall.items()}
    utt_z: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row.utterance:
            for desc in UTTERANCE_DESCRIPTORS:
                value = row.utterance.value(desc)
                if value is not None:
                    m = utt_speakers.get(_speaker_key(row), {}).get(desc) or utt_global[desc]
                    utt_z[desc].append(_z(value, m))
    stats.utterance = {
        "speakers": utt_speakers,
        "global": utt_global,
        "edges": {d: [float(q) for q in np.percentile(v, config.quantiles)] for d, v in utt_z.items()},
    }
    return stats


def _config_dict(config: NormalizeConfig) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.__dict__.items()}


def _speaker_z(vowel: Vowel, speaker: str, stats: Stats) -> dict[str, float]:
    out = {}
    spk = stats.speakers.get(speaker, {})
    for desc in DESCRIPTORS:
        value = vowel.features.value(desc)
        if value is None:
            continue
        moments = spk.get(desc) or stats.global_.get(desc)
        if moments:
            out[desc] = _z(value, moments)
    return out


def _final_z(vowel: Vowel, speaker: str, stats: Stats) -> dict[str, float]:
    z = _speaker_z(vowel, speaker, stats)
    vt = stats.vowel_types.get(vowel.span.ipa, {})
    return {d: _z(v, vt[d]) if d in vt else v for d, v in z.items()}


def level(z: float, edges: list[float] | tuple[float, ...]) -> str:
    """The ordinal bin of ``z`` given 4 increasing edges.

    >>> level(0.0, NORMAL_EDGES), level(1.5, NORMAL_EDGES), level(-0.7, NORMAL_EDGES)
    ('medium', 'very high', 'low')
    """
    return LEVELS[int(np.searchsorted(np.asarray(edges), z, side="right"))]


def slope_level(slope: float, flat: float, rising: list[float], falling: list[float]) -> str:
    """Verbal slope class: ``flat`` or slightly/moderately/steeply rising/falling.

    >>> slope_level(1.0, 3.0, [8, 20], [8, 20]), slope_level(-25.0, 3.0, [8, 20], [8, 20])
    ('flat', 'steeply falling')
    """
    if abs(slope) < flat:
        return "flat"
    lo, hi = rising if slope > 0 else falling
    degree = "slightly" if abs(slope) < lo else "moderately" if abs(slope) < hi else "steeply"
    return f"{degree} {'rising' if slope > 0 else 'falling'}"


def normalize(
    annotation: Annotation, stats: Stats | None = None, config: NormalizeConfig = NormalizeConfig()
) -> Annotation:
    """Fill z-scores and bins of every vowel and of the utterance; fitted ``stats`` or utterance fallback."""
    if stats is None:
        return _normalize_self(annotation, config)
    speaker = _speaker_key(annotation)
    vowels = []
    for vowel in annotation.vowels:
        z = _final_z(vowel, speaker, stats)
        vowels.append(replace(vowel, z=z, bins=_bins(vowel, z, stats.edges, stats.slope_edges, config)))
    utt = annotation.utterance
    if utt is not None and stats.utterance:
        spk = stats.utterance["speakers"].get(speaker, {})
        uz = {}
        for desc in UTTERANCE_DESCRIPTORS:
            value = utt.value(desc)
            m = spk.get(desc) or stats.utterance["global"].get(desc)
            if value is not None and m:
                uz[desc] = _z(value, m)
        utt = _utt_bins(utt, uz, stats.utterance["edges"])
    return replace(annotation, vowels=tuple(vowels), utterance=utt, normalization="fitted")


def _bins(vowel: Vowel, z: dict[str, float], edges, slope_edges, config: NormalizeConfig) -> dict[str, str]:
    bins = {d: level(v, edges.get(d, NORMAL_EDGES)) for d, v in z.items() if d != "pitch_slope"}
    slope = vowel.features.f0_slope_st_per_s
    if slope is not None:
        bins["pitch_slope"] = slope_level(
            slope, config.slope_flat_st_per_s, slope_edges["rising"], slope_edges["falling"]
        )
    return bins


def _utt_bins(utt: UtteranceProsody, z: dict[str, float], edges) -> UtteranceProsody:
    return replace(utt, z=z, bins={d: level(v, edges.get(d, NORMAL_EDGES)) for d, v in z.items()})


def _normalize_self(annotation: Annotation, config: NormalizeConfig) -> Annotation:
    values: dict[str, list[float]] = defaultdict(list)
    for vowel in annotation.vowels:
        for desc in DESCRIPTORS:
            v = vowel.features.value(desc)
            if v is not None:
                values[desc].append(v)
    moments = {d: _moments(v) for d, v in values.items()}
    default_slopes = {"rising": list(config.default_slope_edges), "falling": list(config.default_slope_edges)}
    vowels = []
    for vowel in annotation.vowels:
        z = {}
        for desc in DESCRIPTORS:
            v = vowel.features.value(desc)
            if v is not None:
                z[desc] = _z(v, moments[desc])
        vowels.append(replace(vowel, z=z, bins=_bins(vowel, z, {}, default_slopes, config)))
    utt = annotation.utterance
    if utt is not None:
        uz = {}
        for desc, (mean, sd) in REFERENCE_UTTERANCE.items():
            v = utt.value(desc)
            if v is not None:
                uz[desc] = (v - mean) / sd
        utt = _utt_bins(utt, uz, {})
    return replace(annotation, vowels=tuple(vowels), utterance=utt, normalization="utterance")
