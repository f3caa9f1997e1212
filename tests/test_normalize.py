"""Normalisation and bins: fitted speaker/vowel-type z-scores, quantile edges, slopes, the fallback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vowelprompt.bins import LEVELS, NORMAL_EDGES, level, slope_level
from vowelprompt.errors import ConfigError, StatsError
from vowelprompt.normalize import NormalizeConfig, Stats, fit_stats, normalize
from vowelprompt.records import Annotation, UtteranceProsody, Vowel, VowelFeatures, VowelSpan


def vowel(ipa: str, f0_st: float, rms: float = -20.0, dur: float = 0.1, slope: float | None = 0.0) -> Vowel:
    feats = VowelFeatures(100 * 2 ** (f0_st / 12), f0_st, slope, 0.5, rms, 2.0, dur, 10)
    return Vowel(VowelSpan(ipa.upper(), ipa, 1, 0.0, dur, "w", 0), feats)


def row(uid: str, speaker: str, vowels: list[Vowel], rate: float = 5.0) -> Annotation:
    utt = UtteranceProsody(np.mean([v.features.f0_mean_st or 0.0 for v in vowels]), 1.0, -20.0, 8.0, rate)
    return Annotation(
        id=uid, audio=f"{uid}.wav", status="ok", speaker=speaker, vowels=tuple(vowels), utterance=utt
    )


def corpus() -> list[Annotation]:
    """Two speakers 12 semitones apart; /i/ is 2 st higher than /a/ for both."""
    rng = np.random.default_rng(0)
    rows = []
    for spk, base in (("low", 0.0), ("high", 12.0)):
        for n in range(20):
            vs = [vowel("i", base + 2 + rng.normal(0, 1)), vowel("a", base + rng.normal(0, 1))]
            rows.append(row(f"{spk}{n}", spk, vs, rate=5 + rng.normal(0, 1)))
    return rows


def test_speaker_normalisation_removes_speaker_offset():
    stats = fit_stats(corpus())
    speakers = stats.vowel.speakers
    assert speakers["high"]["pitch"].mean - speakers["low"]["pitch"].mean == pytest.approx(12, abs=0.5)
    # The same relative position yields the same z for both speakers.
    low = normalize(row("x", "low", [vowel("a", 0.0)]), stats).vowels[0].z["pitch"]
    high = normalize(row("y", "high", [vowel("a", 12.0)]), stats).vowels[0].z["pitch"]
    assert low == pytest.approx(high, abs=0.3)


def test_vowel_type_normalisation_removes_intrinsic_pitch():
    stats = fit_stats(corpus())
    # Without step (b), /i/ reads higher than /a/ at the speaker's typical values; with it, both ≈ 0.
    i_typ = normalize(row("x", "low", [vowel("i", 2.0)]), stats).vowels[0].z["pitch"]
    a_typ = normalize(row("y", "low", [vowel("a", 0.0)]), stats).vowels[0].z["pitch"]
    assert abs(i_typ) < 0.4 and abs(a_typ) < 0.4
    no_b = fit_stats(corpus(), NormalizeConfig(vowel_type_normalization=False))
    assert normalize(row("x", "low", [vowel("i", 2.0)]), no_b).vowels[0].z["pitch"] > 0.5


def test_bins_follow_fitted_quantiles():
    rows = corpus()
    stats = fit_stats(rows)
    edges = stats.vowel.edges["pitch"]
    assert edges == sorted(edges) and len(edges) == 4
    # On the training data itself the bins split 10 / 15 / 50 / 15 / 10 %.
    bins = [v.bins["pitch"] for r in rows for v in normalize(r, stats).vowels]
    shares = [bins.count(name) / len(bins) for name in LEVELS]
    assert shares == pytest.approx([0.10, 0.15, 0.50, 0.15, 0.10], abs=0.02)
    # Bins rise with the value and use every level.
    grid = [normalize(row("x", "low", [vowel("a", st)]), stats).vowels[0] for st in np.linspace(-5, 5, 41)]
    order = [LEVELS.index(g.bins["pitch"]) for g in grid]
    assert order == sorted(order) and set(order) == set(range(5))
    assert all(g.bins["pitch"] == level(g.z["pitch"], edges) for g in grid)


def test_level_and_slope_level():
    assert [level(z, NORMAL_EDGES) for z in (-2, -1, 0, 1, 2)] == [
        "very low",
        "low",
        "medium",
        "high",
        "very high",
    ]
    assert slope_level(2.0, 3.0, [8, 20], [5, 10]) == "flat"
    assert slope_level(5.0, 3.0, [8, 20], [5, 10]) == "slightly rising"
    assert slope_level(-7.0, 3.0, [8, 20], [5, 10]) == "moderately falling"
    assert slope_level(30.0, 3.0, [8, 20], [5, 10]) == "steeply rising"


def test_slope_edges_fitted_per_direction():
    slopes = (5.0, 10.0, 15.0, 20.0, -40.0, -60.0, -80.0, -100.0)
    rows = [row(f"r{n}", "s", [vowel("a", 0, slope=s) for s in slopes]) for n in range(2)]
    stats = fit_stats(rows)
    assert stats.slope_edges["rising"] == pytest.approx([8.75, 16.25])
    assert stats.slope_edges["falling"] == pytest.approx([55.0, 85.0])


def test_missing_descriptor_gets_no_bin():
    v = vowel("a", 0.0)
    unvoiced = Vowel(v.span, VowelFeatures(None, None, None, None, -30.0, 1.0, 0.1, 0))
    out = normalize(row("x", "s", [v, v, unvoiced]))
    assert "pitch" not in out.vowels[2].bins and "pitch_slope" not in out.vowels[2].bins
    assert "energy" in out.vowels[2].bins


def test_fallback_without_stats_is_marked_and_self_relative():
    rows = row("x", "s", [vowel("a", st) for st in (0, 1, 2, 3, 10)])
    out = normalize(rows)
    assert out.normalization == "utterance"
    zs = [v.z["pitch"] for v in out.vowels]
    assert np.mean(zs) == pytest.approx(0, abs=1e-9) and np.std(zs) == pytest.approx(1)
    assert out.vowels[-1].bins["pitch"] == "very high"
    assert set(out.utterance.bins) == {"volume", "volume_var", "pitch", "pitch_var", "rate"}


def test_utterance_level_bins_with_stats():
    rows = corpus()
    stats = fit_stats(rows)
    fast = normalize(row("f", "low", [vowel("a", 0.0)], rate=9.0), stats)
    slow = normalize(row("s", "low", [vowel("a", 0.0)], rate=2.0), stats)
    assert fast.utterance.bins["rate"] == "very high" and slow.utterance.bins["rate"] == "very low"
    assert fast.normalization == "fitted"


def test_stats_round_trip_and_bad_files(tmp_path):
    stats = fit_stats(corpus())
    path = tmp_path / "stats.json"
    stats.save(path)
    loaded = Stats.load(path)
    assert loaded.vowel.edges == stats.vowel.edges and loaded.vowel.speakers == stats.vowel.speakers
    probe = row("x", "high", [vowel("i", 13.0)])
    assert normalize(probe, loaded).vowels[0].z == normalize(probe, stats).vowels[0].z
    with pytest.raises(StatsError, match="no such statistics file"):
        Stats.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(StatsError, match="not a vowelprompt statistics file"):
        Stats.load(tmp_path / "bad.json")
    (tmp_path / "old.json").write_text(json.dumps({"version": 0}))
    with pytest.raises(StatsError, match="version"):
        Stats.load(tmp_path / "old.json")


def test_unknown_speaker_uses_global_stats():
    stats = fit_stats(corpus())
    out = normalize(row("x", "stranger", [vowel("a", 6.0)]), stats)
    g, vt = stats.vowel.global_["pitch"], stats.vowel_types["a"]["pitch"]
    expected = ((6.0 - g.mean) / g.sd - vt.mean) / vt.sd
    assert out.vowels[0].z["pitch"] == pytest.approx(expected)


def test_fit_needs_ok_rows():
    with pytest.raises(StatsError):
        fit_stats([Annotation(id="x", audio="x.wav", status="audio_error")])


def test_config_validation():
    with pytest.raises(ConfigError):
        NormalizeConfig(quantiles=(50, 25, 75, 90))


FIXTURES = Path(__file__).parent / "fixtures" / "stats"


def test_statistics_file_of_version_1_still_reads_and_normalises_the_same():
    """``stats_v1.json`` was written by ``Stats.save`` before the statistics became records; the expected
    z-scores and bins next to it are what ``normalize`` gave with it then (see fixtures/stats/README.md)."""
    path = FIXTURES / "stats_v1.json"
    stats = Stats.load(path)
    assert stats.to_dict() == json.loads(path.read_text(encoding="utf-8"))
    assert stats.n_utterances == 17 and set(stats.vowel.speakers) == {"f1", "m1", "rare"}
    cases = json.loads((FIXTURES / "stats_v1_expected.json").read_text(encoding="utf-8"))
    for case in cases:
        out = normalize(Annotation.from_dict(case["input"]), stats)
        utt = out.utterance
        got = {
            "normalization": out.normalization,
            "vowels": [{"z": v.z, "bins": v.bins} for v in out.vowels],
            "utterance": None if utt is None else {"z": utt.z, "bins": utt.bins},
        }
        assert got == case["expected"], case["input"]["id"]


def test_the_fallback_note_says_what_each_style_is_judged_against():
    from vowelprompt.normalize import REFERENCE_UTTERANCE
    from vowelprompt.pipeline import AnnotateConfig, renormalize

    # An utterance-level pitch of 6 st (the reference mean) is "medium" for any speaker without statistics:
    # the speechcue level is judged against the fixed reference, and the note must say so.
    base = row("x", "s", [vowel("a", st) for st in (0, 1, 2, 3, 10)])
    base = Annotation(**{**base.__dict__, "status": "ok"})
    for style, says, denies in (
        ("speechcue", "fixed reference values from synthetic espeak-ng speech", "own vowels"),
        ("paper", "relative to this utterance's own vowels", "reference"),
    ):
        out = renormalize(base, None, AnnotateConfig(style=style))
        notes = [w for w in out.warnings if w.startswith("no fitted statistics")]
        assert len(notes) == 1 and says in notes[0] and denies not in notes[0]
        again = renormalize(out, None, AnnotateConfig(style=style))
        assert again.warnings == out.warnings  # replaced, not repeated
    pitch = REFERENCE_UTTERANCE["pitch"][0]
    utt = UtteranceProsody(pitch, 1.0, -20.0, 10.0, 5.5)
    out = normalize(Annotation(**{**base.__dict__, "utterance": utt}))
    assert out.utterance.bins["pitch"] == "medium"


def test_descriptors_dropped_for_quality_are_left_out_of_the_fit():
    from dataclasses import replace

    from vowelprompt.records import VowelQuality

    clean = corpus()
    # a noisy copy of one speaker's rows whose /a/ pitch is wildly off, marked as dropped by the threshold
    noisy = [
        replace(
            r,
            id=r.id + "n",
            vowels=(
                r.vowels[0],
                replace(
                    r.vowels[1],
                    features=replace(r.vowels[1].features, f0_mean_st=40.0, f0_mean_hz=1000.0),
                    quality=VowelQuality(dropped=("pitch", "pitch_var", "pitch_slope"), reasons=("low_snr",)),
                ),
            ),
        )
        for r in clean
        if r.speaker == "low"
    ]
    fitted = fit_stats(clean + noisy)
    unmeasured = [
        replace(r, vowels=(r.vowels[0], replace(r.vowels[1], features=_no_pitch(r.vowels[1].features))))
        for r in noisy
    ]
    assert fitted.to_dict() == fit_stats(clean + unmeasured).to_dict()  # as if pitch was not measured
    unmarked = [replace(r, vowels=(r.vowels[0], replace(r.vowels[1], quality=None))) for r in noisy]
    assert fit_stats(clean + unmarked).to_dict() != fitted.to_dict()  # the test can fail


def _no_pitch(features: VowelFeatures) -> VowelFeatures:
    from dataclasses import replace

    return replace(features, f0_mean_hz=None, f0_mean_st=None, f0_sd_st=None, f0_slope_st_per_s=None)
