"""Per-vowel quality fields and the threshold that leaves unreliable descriptors out of the text.

Real speech (espeak-ng) through the real aligner: clean speech keeps every vowel with high SNR and a voiced
core; the same speech under 0 dB white noise loses some vowels, and the row says how many and why.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import write_wav

from vowelprompt.pipeline import annotate, renormalize
from vowelprompt.quality import QualityConfig, judge, noise_floor_db, snr_db
from vowelprompt.records import Annotation, Vowel, VowelFeatures, VowelQuality, VowelSpan
from vowelprompt.verbalize import compact_code, vowel_sentence


def _noisy(utterance, snr: float | None, seed: int = 0) -> np.ndarray:
    x = utterance.samples.astype(np.float64)
    if snr is None:
        return x
    speech = x[np.abs(x) > 0]  # espeak's padding is digital silence
    noise = np.random.default_rng(seed).standard_normal(x.size)
    return x + noise * np.sqrt(np.mean(speech**2) / 10 ** (snr / 10))


@pytest.fixture(scope="module")
def rows(utterance, tmp_path_factory):
    """The fixture utterance annotated clean and under 0 dB white noise (one annotate call)."""
    out = tmp_path_factory.mktemp("quality")
    paths = [
        write_wav(out / f"{name}.wav", _noisy(utterance, snr).astype(np.float32), utterance.sr, "FLOAT")
        for name, snr in (("clean", None), ("noisy", 0.0))
    ]
    for p in paths:
        p.with_suffix(".txt").write_text(utterance.transcript, encoding="utf-8")
    clean, noisy = annotate(paths)
    assert clean.ok and noisy.ok, (clean.error, noisy.error)
    return clean, noisy, paths[1]


def test_clean_speech_has_sane_quality_fields_and_keeps_every_vowel(rows):
    clean, _, _ = rows
    for v in clean.vowels:
        q = v.quality
        assert q is not None and q.dropped == () and q.reasons == ()
        assert q.snr_db > 40  # espeak pads with digital silence: the noise floor is far below the vowels
        assert -150 < q.align_score <= 0  # pocketsphinx: 0 is the best-fitting state in every frame
    voiced = [v.quality.voiced_fraction for v in clean.vowels]
    assert np.median(voiced) == 1.0 and min(voiced) >= 0.5
    assert clean.quality["vowels"] == clean.quality["kept"] == len(clean.vowels)
    assert clean.quality["dropped"] == {} and clean.quality["dropped_descriptors"] == 0
    assert not any(w.startswith("quality:") for w in clean.warnings)


def test_heavy_noise_drops_vowels_and_the_row_says_why(rows):
    clean, noisy, noisy_path = rows
    q = noisy.quality
    assert q["kept"] < q["vowels"] == len(noisy.vowels)
    assert q["dropped"] and set(q["dropped"]) <= {"low_snr", "bad_alignment", "low_voicing", "unstable_pitch"}
    assert q["dropped_descriptors"] == sum(len(v.quality.dropped) for v in noisy.vowels) > 0
    assert q["noise_floor_dbfs"] > clean.quality["noise_floor_dbfs"] + 40
    assert any(w.startswith("quality: descriptors of") for w in noisy.warnings)
    for v in noisy.vowels:
        # a dropped descriptor has no level (so no words) but keeps its raw value; kept ones keep their level
        for d in v.quality.dropped:
            assert d not in v.bins and d not in v.z and v.features.value(d) is not None
        if "low_snr" in v.quality.reasons:
            assert v.quality.snr_db < QualityConfig().min_snr_db and v.bins == {}
            assert "could not be measured" in vowel_sentence(v)
    # the kept vowels are still described
    assert sum("could not be measured" not in s for s in noisy.description.splitlines()) >= q["kept"]
    assert Annotation.from_dict(json.loads(json.dumps(noisy.to_dict()))) == noisy
    # without the threshold the same vowels are measured and recorded, and nothing is left out
    everything = annotate(noisy_path, quality=QualityConfig(enabled=False))
    assert [v.quality.snr_db for v in everything.vowels] == [v.quality.snr_db for v in noisy.vowels]
    assert everything.quality["kept"] == len(everything.vowels) and everything.quality["thresholds"] == {}
    assert "could not be measured" not in everything.description


def test_judge_applies_each_documented_threshold():
    config = QualityConfig()
    assert judge(1.0, 30.0, -10.0, config) == ()
    assert judge(1.0, config.min_snr_db - 0.1, -10.0, config) == ("low_snr",)
    assert judge(1.0, 30.0, config.min_align_score - 1, config) == ("bad_alignment",)
    assert judge(config.min_voiced_fraction - 0.01, 30.0, None, config) == ("low_voicing",)
    assert judge(1.0, 30.0, None, config, config.max_pitch_sd_st + 0.1) == ("unstable_pitch",)
    assert judge(None, None, None, config) == ()  # unknown quality drops nothing
    assert judge(0.0, -10.0, -500.0, QualityConfig(enabled=False)) == ()


def test_noise_floor_and_snr():
    frames = np.array([-60.0] * 10 + [-20.0] * 90)
    assert noise_floor_db(frames, 0.1) == pytest.approx(-60.0)
    assert snr_db(-20.0, -60.0) == pytest.approx(40.0, abs=0.01)
    assert snr_db(-60.0, -60.0) == -30.0  # no signal above the noise: the floor of the estimate
    assert snr_db(None, -60.0) is None


SPAN = VowelSpan("IH", "ɪ", 1, 0.0, 0.1, "it", 0)
FEATS = VowelFeatures(100.0, 0.0, 1.0, 0.1, -20.0, 2.0, 0.1, 10)
BINS = {"pitch": "high", "pitch_var": "low", "energy": "low", "energy_var": "high", "duration": "high"}


def test_verbalize_leaves_dropped_descriptors_out():
    kept = {k: b for k, b in BINS.items() if not k.startswith("pitch")}  # pitch dropped for low voicing
    quality = VowelQuality(0.3, 20.0, -20.0, ("pitch", "pitch_slope", "pitch_var"), ("low_voicing",))
    vowel = Vowel(SPAN, FEATS, {}, kept, quality)
    assert (
        vowel_sentence(vowel)
        == 'The vowel /ɪ/ in "it" has low intensity with high variation and long duration.'
    )
    assert compact_code(vowel) == "/ɪ/ - - - 2 4 4"
    dropped = Vowel(SPAN, FEATS, {}, {}, VowelQuality(1.0, -5.0, -20.0, ("pitch",), ("low_snr",)))
    assert vowel_sentence(dropped) == 'The vowel /ɪ/ in "it" could not be measured.'


def test_renormalize_masks_dropped_descriptors_and_keeps_raw_values():
    quality = VowelQuality(1.0, -5.0, -20.0, ("pitch", "energy"), ("low_snr",))
    vowels = (
        Vowel(SPAN, FEATS, quality=quality),
        Vowel(SPAN, VowelFeatures(150.0, 7.0, -2.0, 0.3, -10.0, 1.0, 0.2, 12)),
        Vowel(SPAN, VowelFeatures(120.0, 3.2, 0.0, 0.2, -15.0, 1.5, 0.15, 11)),
    )
    row = renormalize(Annotation("a", "a.wav", "ok", vowels=vowels), None)
    first = row.vowels[0]
    assert "pitch" not in first.bins and "energy" not in first.bins and "duration" in first.bins
    assert first.features == FEATS and first.quality == quality
    # the dropped values took no part in the others' statistics: two pitches left, z = ±1
    assert sorted(round(v.z["pitch"], 6) for v in row.vowels[1:]) == [-1.0, 1.0]


def test_rows_written_before_quality_fields_still_load():
    old = {
        "id": "a",
        "audio": "a.wav",
        "status": "ok",
        "words": [
            {
                "text": "it",
                "start_s": 0.0,
                "end_s": 0.1,
                "phones": [{"label": "IH1", "start_s": 0.0, "end_s": 0.1}],
            }
        ],
        "vowels": [
            {
                "span": {
                    "phone": "IH",
                    "ipa": "ɪ",
                    "stress": 1,
                    "start_s": 0.0,
                    "end_s": 0.1,
                    "word": "it",
                    "word_index": 0,
                },
                "features": {
                    "f0_mean_hz": 100.0,
                    "f0_mean_st": 0.0,
                    "f0_slope_st_per_s": 1.0,
                    "f0_sd_st": 0.1,
                    "rms_mean_db": -20.0,
                    "rms_sd_db": 2.0,
                    "duration_s": 0.1,
                    "voiced_frames": 10,
                },
                "bins": {"pitch": "high"},
            }
        ],
    }
    row = Annotation.from_dict(old)
    assert row.quality == {} and row.vowels[0].quality is None
    assert row.words[0].phones[0].score is None
    assert Annotation.from_dict(json.loads(json.dumps(row.to_dict()))) == row


@pytest.mark.bench
def test_robustness_benchmark_at_its_smallest_size(capsys, monkeypatch):
    """``benchmarks/bench_robustness.py`` end to end on one utterance (an insertion shifts the truth)."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_robustness

    summary = bench_robustness.main(["--files", "1", "--conditions", "clean", "white5", "telephone", "laugh"])
    assert set(summary) == {"clean", "white5", "telephone", "laugh"}
    assert summary["clean"]["f0_err_st"] == 0.0 and summary["clean"]["failed"] == 0
    assert summary["laugh"]["inside"] > 0.8  # the truth after the laugh was shifted with it
    assert "| condition |" in capsys.readouterr().out


@pytest.mark.bench
def test_wrong_transcript_benchmark_at_its_smallest_size(capsys, monkeypatch):
    """``benchmarks/bench_transcripts.py`` end to end on two tuning files: each aligned with its own and with
    the next sentence's transcript, every verdict counted once, no right transcript warned."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_transcripts

    result = bench_transcripts.main(["--set", "tuning", "--files", "2"])["tuning"]
    assert result["files"] == 2
    assert all(sum(result["counts"][kind].values()) == 2 for kind in ("right", "wrong"))
    assert result["counts"]["right"] == {"refused": 0, "warned": 0, "passed": 2}
    assert "| tuning | 2 |" in capsys.readouterr().out


def test_speech_left_outside_every_word_drops_the_words_next_to_it(utterance):
    """A word moved off its sound (as pocketsphinx does with a short "the" in some accents) leaves loud speech
    that no word covers: the words on either side of it lose their descriptors; the true alignment none."""
    from dataclasses import replace

    from vowelprompt.audio import resample
    from vowelprompt.features import FeatureConfig, compute_tracks
    from vowelprompt.quality import speech_outside_words

    samples = resample(utterance.samples, utterance.sr, 16_000)
    tracks = compute_tracks(samples, 16_000, FeatureConfig())
    words = list(utterance.words)
    assert speech_outside_words(tracks, words, QualityConfig()) == set()
    # the second word now starts 150 ms late, and the first ends before its own sound does
    first, second = words[0], words[1]
    cut = first.start_s + 0.02
    slipped = [replace(first, end_s=cut), replace(second, start_s=second.start_s + 0.15), *words[2:]]
    slipped[0] = replace(slipped[0], start_s=first.start_s)
    flagged = speech_outside_words(tracks, slipped, QualityConfig())
    assert flagged == {0, 1}
    assert speech_outside_words(tracks, slipped, QualityConfig(enabled=False)) == set()


def test_a_slip_of_60_ms_is_flagged(utterance):
    """The quality check flags 60 ms of word-loud speech outside the words (the aligner's slip trigger until
    it became 30 ms, :data:`~vowelprompt.align.slips.MAX_SPEECH_OUTSIDE_S`), so that a slip whose retry the
    aligner rejected is not passed on unannounced: 70 ms of a vowel left outside its word (the short "the"
    of a held-out voice at 140 wpm) drops both neighbours; the earlier 80 ms threshold let it through.
    At 30 ms it would drop more vowels under noise, most of them well placed (bench_robustness.py)."""
    from dataclasses import replace

    from vowelprompt.align.slips import MAX_SPEECH_OUTSIDE_S
    from vowelprompt.audio import resample
    from vowelprompt.features import FeatureConfig, compute_tracks
    from vowelprompt.quality import speech_outside_words

    assert QualityConfig().max_speech_outside_s == 0.06 > MAX_SPEECH_OUTSIDE_S
    samples = resample(utterance.samples, utterance.sr, 16_000)
    tracks = compute_tracks(samples, 16_000, FeatureConfig())
    vowel = next(v for v in utterance.vowels if v.word_index > 0 and v.end_s - v.start_s > 0.1)
    k, words = vowel.word_index, list(utterance.words)
    assert speech_outside_words(tracks, words, QualityConfig()) == set()
    # word k-1 reaches up to word k's vowel, and word k starts 70 ms into it: 70 ms of the vowel is left out
    slipped = [*words[: k - 1], replace(words[k - 1], end_s=vowel.start_s)]
    slipped += [replace(words[k], start_s=vowel.start_s + 0.07), *words[k + 1 :]]
    assert speech_outside_words(tracks, slipped, QualityConfig()) == {k - 1, k}
    assert speech_outside_words(tracks, slipped, QualityConfig(max_speech_outside_s=0.08)) == set()


def test_the_robustness_benchmark_counts_a_failed_alignment_as_failed(utterance, tmp_path, monkeypatch):
    """annotate keeps a row whose alignment failed (ok, no vowels, a warning that says why): the robustness
    benchmark's "failed" column must count it, not only rows that are not ok."""
    from pathlib import Path

    import soundfile as sf

    from vowelprompt.pipeline import AnnotateConfig, Annotator
    from vowelprompt.records import Utterance

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from bench_robustness import alignment_failed

    path = tmp_path / "u.wav"
    sf.write(path, utterance.samples, utterance.sr)
    annotator = Annotator(AnnotateConfig(quality=QualityConfig()))
    right = annotator.annotate(Utterance(id="right", audio=str(path), text=utterance.text))
    wrong_text = "Thousands of birds gathered on the wires above the old station every single evening."
    wrong = annotator.annotate(Utterance(id="wrong", audio=str(path), text=wrong_text))
    assert right.ok and right.vowels and not alignment_failed(right)
    assert wrong.ok and not wrong.vowels and alignment_failed(wrong)


def test_a_transcript_that_aligns_but_does_not_match_gets_a_warning(tmp_path):
    """A wrong transcript often still aligns (the decoder finds some path for any words over any speech);
    its phones are then packed into the shortest length and stretched over what was said. A tuning-set
    utterance ("Anyone who lives near the river…", en-us+m1, 175 wpm, synthesised alone in a fresh process)
    annotated with its own transcript keeps no warning and a low phone spread; annotated with the next
    tuning sentence's transcript it aligns, keeps its vowels, and the row warns that the transcript may not
    match, with the spread recorded in its quality."""
    from vowelprompt.corpora.synth import DEFAULT_SENTENCES, write_corpus_fresh
    from vowelprompt.pipeline import AnnotateConfig, Annotator
    from vowelprompt.quality import TRANSCRIPT_WARNING
    from vowelprompt.records import Utterance

    manifest = write_corpus_fresh(tmp_path, [DEFAULT_SENTENCES[2]], ["en-us+m1"], [175])
    audio = str(tmp_path / json.loads(manifest.read_text(encoding="utf-8").splitlines()[0])["audio"])
    annotator = Annotator(AnnotateConfig())
    right = annotator.annotate(Utterance(id="right", audio=audio, text=DEFAULT_SENTENCES[2]))
    wrong = annotator.annotate(Utterance(id="wrong", audio=audio, text=DEFAULT_SENTENCES[3]))
    limit = QualityConfig().max_phone_spread
    assert right.ok and right.vowels and right.quality["phone_spread"] < limit - 0.2
    assert not any("may not match" in w for w in right.warnings)
    assert wrong.ok and wrong.vowels and wrong.quality["phone_spread"] > limit + 0.1
    assert any(w.startswith(TRANSCRIPT_WARNING) for w in wrong.warnings)
    quiet = Annotator(AnnotateConfig(quality=QualityConfig(max_phone_spread=9.0)))
    assert not any(
        "may not match" in w
        for w in quiet.annotate(Utterance(id="w", audio=audio, text=DEFAULT_SENTENCES[3])).warnings
    )


def test_annotate_quality_options_reach_the_config():
    """Every quality threshold of annotate's command line lands in the QualityConfig it annotates with."""
    from vowelprompt.cli import build_parser
    from vowelprompt.cli.annotate import quality_config

    parser, _ = build_parser()
    options = "--min-snr 3 --min-voicing 0.4 --min-align-score -120 --max-pitch-sd 2.5 --max-phone-spread 1.5"
    args = parser.parse_args(["annotate", "a.wav", *options.split(), "--keep-unreliable"])
    assert quality_config(args) == QualityConfig(
        enabled=False,
        min_snr_db=3.0,
        min_voiced_fraction=0.4,
        min_align_score=-120.0,
        max_pitch_sd_st=2.5,
        max_phone_spread=1.5,
    )
    assert quality_config(parser.parse_args(["annotate", "a.wav"])) == QualityConfig()
