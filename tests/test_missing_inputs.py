"""Missing inputs (issue 17 §5): a clip with no transcript, or whose transcript does not align, is annotated
to a usable row with what can be measured; its prompts say what is missing; predictions record what they
saw; a row with nothing to show is an input_error. Real speech (espeak-ng), real aligner, a scripted model.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import SENTENCES, write_wav

from vowelprompt.backends import Sampling
from vowelprompt.backends.fake import FakeBackend
from vowelprompt.missing import NO_TRANSCRIPT, NO_VOWELS, missing_reasons, row_inputs
from vowelprompt.pipeline import annotate
from vowelprompt.predict import PredictConfig, iter_predict
from vowelprompt.prompts import PromptConfig, Template, conversation, prompt_variables
from vowelprompt.records import Annotation

SR = 16_000
#: A real sentence that is not the one spoken: pocketsphinx finds no alignment for it.
WRONG = "The morning train leaves the station before the sun comes up."


@pytest.fixture(scope="module")
def clips(tmp_path_factory, utterance):
    """Speech (the fixture utterance), a 150 Hz hum and white noise, as 16 kHz wav files."""
    d = tmp_path_factory.mktemp("missing")
    speech = write_wav(d / "speech.wav", utterance.samples, utterance.sr)
    t = np.arange(2 * SR) / SR
    hum = write_wav(d / "hum.wav", (0.2 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), SR)
    rng = np.random.default_rng(1)
    noise = write_wav(d / "noise.wav", (0.1 * rng.standard_normal(3 * SR)).astype(np.float32), SR)
    return {"speech": speech, "hum": hum, "noise": noise}


@pytest.fixture(scope="module")
def rows(clips):
    """The same speech annotated with its transcript, with none, and with a wrong one."""
    return {
        "full": annotate(clips["speech"], SENTENCES[1]),
        "no_transcript": annotate(clips["speech"]),
        "unaligned": annotate(clips["speech"], WRONG),
    }


def test_speech_without_transcript_keeps_its_utterance_prosody(rows, clips):
    full, bare = rows["full"], rows["no_transcript"]
    assert full.ok and full.vowels and row_inputs(full) == ("transcript", "vowels", "utterance")
    assert bare.ok and bare.text == "" and bare.vowels == () and bare.words == ()
    assert row_inputs(bare) == ("utterance",)
    assert (
        bare.warnings[0].startswith(NO_TRANSCRIPT + ": ") and "--asr" in missing_reasons(bare)["transcript"]
    )
    assert bare.transcript_source["from"] == "none"
    # Measured without words, pitch and loudness are those the aligned words give; the rate needs vowels.
    u, ref = bare.utterance, full.utterance
    assert u.f0_mean_st == pytest.approx(ref.f0_mean_st, abs=0.5)
    assert u.rms_mean_db == pytest.approx(ref.rms_mean_db, abs=1.5)
    assert u.rate_vowels_per_s is None and "rate" not in u.bins and {"pitch", "volume"} <= set(u.bins)
    assert bare.description.startswith("Target speech characteristics: ")
    # As before issue 17 when words are required.
    strict = annotate(clips["speech"], require_words=True)
    assert strict.status == "transcript_error" and "pass --text" in strict.error


def test_non_speech_clips_are_usable_rows_with_utterance_cues(clips):
    hum, noise = annotate(clips["hum"]), annotate(clips["noise"])
    assert hum.ok and row_inputs(hum) == ("utterance",)
    assert hum.utterance.f0_mean_st == pytest.approx(12 * np.log2(150 / 100), abs=0.2)  # 150 Hz re 100 Hz
    assert noise.ok and noise.utterance.rms_mean_db == pytest.approx(-20, abs=1)  # 0.1 RMS white noise
    assert "volume" in noise.utterance.bins


def test_a_transcript_that_fails_to_align_is_kept_with_the_utterance_cues(rows, clips):
    row = rows["unaligned"]
    assert row.ok and row.text == WRONG and row.vowels == ()
    assert row_inputs(row) == ("transcript", "utterance")
    assert missing_reasons(row)["vowels"].startswith("alignment failed: pocketsphinx found no alignment")
    assert any(w.startswith(NO_VOWELS) for w in row.warnings)
    strict = annotate(clips["speech"], WRONG, require_words=True)
    assert strict.status == "alignment_error"


def test_prompts_say_what_is_missing(rows):
    labels = PromptConfig().labels
    bare = prompt_variables(rows["no_transcript"], labels)
    assert bare["transcript"] == "(no transcript is available for this recording)"
    assert bare["vowel_descriptions"].startswith("(no vowel-level cues: there is no transcript to align")
    assert "Target speech characteristics: " in bare["vowel_descriptions"]
    unaligned = prompt_variables(rows["unaligned"], labels)
    assert unaligned["transcript"] == WRONG
    assert unaligned["vowel_descriptions"].startswith("(no vowel-level cues: the words could not be aligned")
    asr = Annotation(
        **{**rows["no_transcript"].__dict__, "transcript_source": {"from": "asr", "missing": "x"}}
    )
    assert "speech recognition heard no words" in prompt_variables(asr, labels)["transcript"]
    # A user's own template with only {vowel_descriptions} still renders, with the utterance cues.
    own = Template("own", 1, "", "Cues:\n{vowel_descriptions}\nOne of: {labels}.", "", "own.yaml", "0")
    text = conversation(rows["no_transcript"], PromptConfig(template=own))[-1]["content"]
    assert "Target speech characteristics" in text and "{" not in text


def test_predictions_record_the_inputs_the_prompt_saw(rows):
    nothing = Annotation(id="nothing", audio="x.wav", status="ok", text="", label="sad")
    todo = [replace(row, id=key) for key, row in rows.items()] + [nothing]

    def predict(template: str) -> dict:
        config = PredictConfig(template=template, record_prompt=True)
        return {p.id: p for p in iter_predict(todo, FakeBackend(), Sampling(), config)}

    vp = predict("vowelprompt")
    assert vp["full"].inputs == ("transcript", "vowels") and vp["full"].status == "ok"
    assert vp["no_transcript"].inputs == ("utterance",)
    assert vp["unaligned"].inputs == ("transcript", "utterance")
    assert "(no transcript is available" in vp["no_transcript"].prompt[-1]["content"]
    assert vp["nothing"].status == "input_error" and vp["nothing"].error.startswith("nothing to predict from")
    assert "inputs" not in vp["nothing"].to_dict() and list(vp["full"].to_dict()["inputs"]) == [
        "transcript",
        "vowels",
    ]
    # A transcript-only template shows nothing of a clip without a transcript: refused, not asked.
    tr = predict("transcript")
    assert tr["full"].inputs == ("transcript",) and tr["unaligned"].inputs == ("transcript",)
    assert tr["no_transcript"].status == "input_error" and "inputs: utterance" in tr["no_transcript"].error
    assert predict("speechcue")["no_transcript"].inputs == ("utterance",)


@pytest.mark.bench
def test_bench_missing_prints_its_table(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_missing

    assert bench_missing.main(["--set", "tuning", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "### tuning set: 2 files" in out and "(shipped) | 0.0" in out
