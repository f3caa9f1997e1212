"""Descriptions as literal strings: paper, SpeechCueLLM and compact styles."""

from __future__ import annotations

import pytest

from vowelprompt.errors import ConfigError
from vowelprompt.records import Annotation, UtteranceProsody, Vowel, VowelFeatures, VowelSpan
from vowelprompt.verbalize import compact, describe, paper, speechcue, vowel_sentence

FEATS = VowelFeatures(100.0, 0.0, 1.0, 0.1, -20.0, 2.0, 0.1, 10)
FULL = {
    "pitch_slope": "moderately rising",
    "pitch": "high",
    "pitch_var": "very low",
    "energy": "low",
    "energy_var": "high",
    "duration": "high",
}


def v(ipa="ɪ", word="it's", bins=FULL) -> Vowel:
    return Vowel(VowelSpan("IH", ipa, 1, 0.0, 0.1, word, 0), FEATS, {}, dict(bins))


def test_paper_sentence_matches_the_paper_shape():
    assert vowel_sentence(v()) == (
        'The vowel /ɪ/ in "it\'s" has a moderately rising pitch slope, high pitch with very low variation, '
        "low intensity with high variation, and long duration."
    )


def test_missing_descriptors_are_left_out_not_invented():
    unvoiced = {k: b for k, b in FULL.items() if not k.startswith("pitch")}
    assert vowel_sentence(v(bins=unvoiced)) == (
        'The vowel /ɪ/ in "it\'s" has low intensity with high variation and long duration.'
    )
    assert (
        vowel_sentence(v(bins={"duration": "very low"}))
        == 'The vowel /ɪ/ in "it\'s" has very short duration.'
    )
    assert "could not be measured" in vowel_sentence(v(bins={}))


def test_paper_is_one_line_per_vowel():
    ann = Annotation(id="u", audio="u.wav", status="ok", vowels=(v(), v("æ", "happy")))
    lines = paper(ann).splitlines()
    assert len(lines) == 2 and lines[1].startswith('The vowel /æ/ in "happy"')


def test_speechcue_sentence():
    utt = UtteranceProsody(
        0,
        1,
        -20,
        8,
        5,
        bins={
            "volume": "low",
            "volume_var": "medium",
            "pitch": "high",
            "pitch_var": "medium",
            "rate": "very high",
        },
    )
    ann = Annotation(id="u", audio="u.wav", status="ok", utterance=utt)
    assert speechcue(ann) == (
        "Target speech characteristics: low volume with moderate variation, "
        "high pitch with moderate variation, "
        "very high speaking rate."
    )


def test_compact_carries_the_same_bins():
    second = Vowel(VowelSpan("AE", "æ", 1, 0.2, 0.3, "happy", 1), FEATS, {}, {"duration": "low"})
    third = Vowel(VowelSpan("IY", "i", 0, 0.3, 0.4, "happy", 1), FEATS, {}, {"pitch_slope": "flat"})
    ann = Annotation(id="u", audio="u.wav", status="ok", vowels=(v(), second, third))
    lines = compact(ann).splitlines()
    assert lines[1:] == ["it's: /ɪ/ 4 1 +2 2 4 4", "happy: /æ/ - - - - - 2, /i/ - - 0 - - -"]
    assert lines[0].startswith("Vowel codes by word: /vowel/ pitch, pitch variation, slope, intensity")


def test_unknown_style():
    with pytest.raises(ConfigError, match="choose one of: paper, speechcue, compact"):
        describe(Annotation(id="u", audio="u.wav", status="ok"), "poetry")


def test_compact_is_at_most_half_the_tokens_of_paper():
    from tokenizers import Tokenizer

    import vowelprompt
    from vowelprompt.asr import bundled_model_dir

    tok = Tokenizer.from_file(str(bundled_model_dir() / "tokenizer.json"))  # a real BPE (Whisper's)
    row = vowelprompt.annotate("examples/happy_day.wav")
    paper_tokens = len(tok.encode(describe(row, "paper")).ids)
    compact_tokens = len(tok.encode(describe(row, "compact")).ids)
    assert compact_tokens <= 0.5 * paper_tokens, (compact_tokens, paper_tokens)


def test_vowel_sentences_read_back_into_the_same_bins_and_cues():
    from itertools import product

    from vowelprompt.bins import LEVELS
    from vowelprompt.verbalize import SLOPE_STEPS, cues, read_cues, read_vowels

    checked = 0
    for slope, pitch, energy, duration in product(
        [None, *SLOPE_STEPS], [None, *LEVELS], LEVELS, [None, *LEVELS]
    ):
        for var in (None, LEVELS[0], LEVELS[-1]):
            given = dict(pitch_slope=slope, pitch=pitch, pitch_var=var, energy=energy, energy_var=var)
            bins = {k: b for k, b in {**given, "duration": duration}.items() if b is not None}
            sentence = vowel_sentence(v(bins=bins))
            assert read_vowels(sentence) == [("ɪ", "it's", bins)], sentence
            assert read_cues(sentence) == {"it's": cues(bins)}
            checked += 1
    assert checked == 8 * 6 * 5 * 6 * 3
    # Variation without a level is read as variation, never as a level.
    alone = {"pitch_var": "high", "energy_var": "very low"}
    assert read_vowels(vowel_sentence(v(bins=alone)))[0][2] == alone and cues(alone) == set()
    assert cues(FULL) == {"high pitch", "low intensity", "long duration", "rising"}
