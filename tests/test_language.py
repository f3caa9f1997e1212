"""French and German (any language espeak-ng speaks): G2P, the mapped offline aligner on real espeak-ng
speech with true phone times, its approximate fallback, per-language vowel statistics, and CaFE/EmoDB
manifests annotated end to end through the CLI."""

from __future__ import annotations

import json

import pytest
from conftest import write_wav

from vowelprompt.align.score import TrueVowel, score_alignment
from vowelprompt.align.vowels import is_vowel, vowel_info, vowel_spans
from vowelprompt.audio import ANALYSIS_SR, resample
from vowelprompt.errors import AlignmentError, ConfigError


@pytest.fixture(scope="module")
def utterances(synth):
    """Two French and one German utterance (the corpora's own sentences), synthesised before any G2P."""
    return {
        "fr1": synth.synthesize("Un cheval fou dans mon jardin", voice="fr+m1", rate_wpm=160),
        "fr2": synth.synthesize("Deux ânes aigris au pelage brun", voice="fr+f3", rate_wpm=190),
        "de1": synth.synthesize(
            "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.", voice="de+f3"
        ),
    }


def _audio(utt):
    return resample(utt.samples, utt.sr, ANALYSIS_SR)


def test_g2p_gives_the_language_s_ipa(synth):
    from vowelprompt.align.g2p import pronounce

    assert pronounce("jardin", "fr") == ("ʒ", "a", "ʁ", "d", "ɛ̃")
    assert "œ̃" in pronounce("brun", "fr") and "ɔ̃" in pronounce("mon", "fr")
    assert "y" in pronounce("lune", "fr")  # front rounded, not /u/
    assert pronounce("été", "fr") == ("e", "t", "e")  # accents are spelling, not decoration
    assert "yː" in pronounce("Tüten", "de") and "ɔʏ" in pronounce("heute", "de")  # espeak's ɔø renamed
    assert "aɪ" in pronounce("Eis", "de") and "øː" in pronounce("böse", "de")
    # a word espeak's French rules take for English comes back without its language-switch markers
    assert not any(p.startswith("(") for p in pronounce("weekend", "fr"))


def test_vowel_inventories_recognise_french_and_german_vowels():
    for label in ("ɑ̃", "ɛ̃", "ɔ̃", "œ̃", "y", "ø", "œ", "ʏ", "yː", "øː", "aɪ", "aʊ", "ɔʏ", "ə", "ɐ", "ɛː"):
        assert vowel_info(label) == (label, label, None), label
    for label in ("ʁ", "ç", "ʒ", "ɲ", "pf", "ts", "ɥ", "x"):
        assert not is_vowel(label), label


def test_mapped_aligner_puts_vowel_midpoints_inside_the_true_vowels(utterances):
    from vowelprompt.align.mapped import MappedPocketsphinxAligner

    inside, n = 0.0, 0
    for key, utt in utterances.items():
        aligner = MappedPocketsphinxAligner(language=key[:2])
        words = aligner.align(_audio(utt), ANALYSIS_SR, utt.transcript)
        assert [w.text for w in words] == [w.text for w in utt.words]
        assert all(w.pron_source == "espeak" for w in words), key  # phone-aligned, not the fallback
        labels = {p.label for w in words for p in w.phones}
        assert not any(lab.isascii() and lab.isupper() for lab in labels), labels  # IPA, not ARPAbet
        score = score_alignment(words, [TrueVowel(p.start_s, p.end_s, p.word_index) for p in utt.vowels])
        assert score.unmatched == 0
        inside += score.midpoint_inside * score.matched
        n += score.matched
    assert n >= 25
    assert inside / n >= 0.85, inside / n
    spans = vowel_spans(words)
    assert {"ʏ", "ɛ", "ə"} & {s.ipa for s in spans}  # German vowels in the last utterance's spans


def test_failed_phone_alignment_falls_back_to_approximate_words(utterances, tmp_path):
    """A beam too narrow for any path stands in for a failed phone alignment: the words keep spans over the
    speech, their phones are marked approximate, and an annotated row says so."""
    from vowelprompt.align.mapped import MappedPocketsphinxAligner
    from vowelprompt.pipeline import AnnotateConfig, Annotator
    from vowelprompt.records import Utterance

    utt = utterances["fr1"]
    strict = MappedPocketsphinxAligner(language="fr", beams=(1e-1,), fallback=False)
    with pytest.raises(AlignmentError, match="found no alignment"):
        strict.align(_audio(utt), ANALYSIS_SR, utt.transcript)
    loose = MappedPocketsphinxAligner(language="fr", beams=(1e-1,))
    words = loose.align(_audio(utt), ANALYSIS_SR, utt.transcript)
    assert [w.pron_source for w in words] == ["approximate"] * len(utt.words)
    speech = (utt.words[0].start_s - 0.1, utt.words[-1].end_s + 0.1)
    assert all(speech[0] <= w.start_s < w.end_s <= speech[1] for w in words)
    assert all(p.label for w in words for p in w.phones) and len(vowel_spans(words)) == len(utt.vowels)

    annotator = Annotator(AnnotateConfig(language="fr"))
    annotator.aligner = loose
    wav = tmp_path / "u.wav"
    write_wav(wav, utt.samples, utt.sr)
    row = annotator.annotate(Utterance("u", str(wav), text=utt.transcript))
    assert row.status == "ok" and row.language == "fr"
    assert any("vowel times approximate" in w for w in row.warnings)


def test_unknown_language_is_a_one_line_error(synth, tmp_path, capsys):
    from vowelprompt.cli import main
    from vowelprompt.pipeline import AnnotateConfig

    with pytest.raises(ConfigError, match="unknown language 'qq'"):
        AnnotateConfig(language="qq")
    wav = tmp_path / "a.wav"
    utt = synth.synthesize("Bonjour", voice="fr")
    write_wav(wav, utt.samples, utt.sr)
    assert main(["annotate", str(wav), "--text", "Bonjour", "--language", "qq", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown language 'qq'" in err


def test_vowel_type_statistics_are_keyed_by_language(tmp_path):
    """French /a/ and English /a/ (MFA's IPA) get separate vowel-type moments; English keeps the bare key,
    so a statistics file fitted before languages were recorded applies unchanged."""
    from vowelprompt.normalize import Stats, fit_stats, normalize, vowel_type_key
    from vowelprompt.records import Annotation, Vowel, VowelFeatures, VowelSpan

    def row(i, language, f0):
        vowels = tuple(
            Vowel(
                VowelSpan("a", "a", None, 0.1 * k, 0.1 * k + 0.08, "la", k),
                VowelFeatures(100.0, f0 + k % 3, 0.0, 0.5, -20.0 - k % 4, 2.0, 0.08, 8),
            )
            for k in range(6)
        )
        return Annotation(f"{language}{i}", "x.wav", "ok", speaker="s", vowels=vowels, language=language)

    rows = [row(i, "fr", 2.0) for i in range(3)] + [row(i, None, 8.0) for i in range(3)]
    stats = fit_stats(rows)
    assert {"a", "fr:a"} <= set(stats.vowel_types)
    assert vowel_type_key("a", "en") == "a" and vowel_type_key("ɛ̃", "fr-CA") == "fr:ɛ̃"
    path = tmp_path / "stats.json"
    stats.save(path)
    again = Stats.load(path)
    assert again.vowel_types.keys() == stats.vowel_types.keys()
    # pooled, the French vowels would all read low against the English ones; keyed, they centre on 0
    french = normalize(rows[0], again)
    mean_z = sum(v.z["pitch"] for v in french.vowels) / len(french.vowels)
    assert abs(mean_z) < 0.5, mean_z


def _cafe_tree(root, synth):
    from vowelprompt.corpora import cafe

    made = {}
    for name, voice in (("01-J-2-1", "fr+m1"), ("02-T-1-6", "fr+f3")):
        utt = synth.synthesize(cafe.SENTENCES[name[-1]], voice=voice, rate_wpm=170)
        path = root / "CaFE_48k" / "Joie" / "Fort" / f"{name}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, utt.samples, utt.sr)
        made[f"cafe-{name}"] = utt
    return made


def _emodb_tree(root, synth):
    from vowelprompt.corpora import emodb

    made = {}
    for name, voice in (("03a01Fa", "de+m1"), ("08a07Nb", "de+f3")):
        utt = synth.synthesize(emodb.TEXTS[name[2:5]], voice=voice, rate_wpm=170)
        (root / "wav").mkdir(parents=True, exist_ok=True)
        write_wav(root / "wav" / f"{name}.wav", utt.samples, utt.sr)
        made[f"emodb-{name}"] = utt
    return made


def test_cafe_and_emodb_manifests_annotate_end_to_end(synth, tmp_path):
    """`prepare` writes each row's language; `annotate` of one manifest holding both corpora picks the
    language per row (the CLI default stays English) and describes IPA vowels of that language in English."""
    from vowelprompt.cli import main

    truth = _cafe_tree(tmp_path / "cafe", synth) | _emodb_tree(tmp_path / "emodb", synth)
    for corpus in ("cafe", "emodb"):
        assert main(["prepare", corpus, str(tmp_path / corpus), "-o", str(tmp_path / f"{corpus}.jsonl")]) == 0
    lines = (tmp_path / "cafe.jsonl").read_text(encoding="utf-8") + (tmp_path / "emodb.jsonl").read_text(
        encoding="utf-8"
    )
    (tmp_path / "both.jsonl").write_text(lines, encoding="utf-8")
    assert main(["annotate", str(tmp_path / "both.jsonl"), "-o", str(tmp_path / "out.jsonl"), "-q"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in rows} == set(truth)
    french_only, german_only = {"ɛ̃", "ɑ̃", "ɔ̃", "œ̃", "y", "ø"}, {"ɪ", "ʊ", "ɐ", "aɪ", "aʊ", "ɔʏ", "ʏ"}
    for r in rows:
        language = "fr" if r["id"].startswith("cafe") else "de"
        assert (r["status"], r["language"], r["aligner"]) == ("ok", language, "pocketsphinx-mapped"), r
        ipa = {v["span"]["ipa"] for v in r["vowels"]}
        assert not any(s.isascii() and s.isupper() for s in ipa)
        assert ipa & (french_only if language == "fr" else german_only), (r["id"], ipa)
        assert not ipa & (german_only - {"ʏ"} if language == "fr" else french_only - {"y", "ø"}), ipa
        assert len(r["vowels"]) >= len(truth[r["id"]].vowels) - 2
        assert r["description"].startswith("The vowel /") and " has " in r["description"]
        assert "approximate" not in " ".join(r["warnings"])
    # fit-stats on these rows keys every vowel type by its language
    stats = tmp_path / "stats.json"
    assert main(["fit-stats", str(tmp_path / "out.jsonl"), "-o", str(stats), "-q"]) == 0
    keys = set(json.loads(stats.read_text(encoding="utf-8"))["vowel_types"])
    assert keys and all(k.startswith(("fr:", "de:")) for k in keys), keys


def test_language_picks_the_aligner(synth):
    """English keeps the configured aligner; other languages get pocketsphinx-mapped offline, or MFA's
    model for the language (a user's own dictionary and model win)."""
    from vowelprompt.pipeline import AnnotateConfig, aligner_for

    assert aligner_for(AnnotateConfig(), None) == ("pocketsphinx", {})
    assert aligner_for(AnnotateConfig(), "fr") == ("pocketsphinx-mapped", {"language": "fr"})
    assert aligner_for(AnnotateConfig(language="de"), None) == ("pocketsphinx-mapped", {"language": "de"})
    assert aligner_for(AnnotateConfig(language="de"), "en") == ("pocketsphinx", {})
    mfa = AnnotateConfig(aligner="mfa", language="fr")
    assert aligner_for(mfa, None) == ("mfa", {"dictionary": "french_mfa", "acoustic_model": "french_mfa"})
    own = AnnotateConfig(aligner="mfa", aligner_options={"dictionary": "my.dict"})
    assert aligner_for(own, "de-AT")[1] == {"dictionary": "my.dict", "acoustic_model": "german_mfa"}
    with pytest.raises(ConfigError, match="no MFA model is known for 'es'"):
        aligner_for(AnnotateConfig(aligner="mfa"), "es")
