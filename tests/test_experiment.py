"""Experiments (vowelprompt/experiment/): protocol splits, counterfactual controls, the table maths, the
config and the runner's resume, on hand-made annotation rows and the fake backend (the model is not under test
here; tests/test_experiment_e2e.py runs a protocol with SmolLM2-135M on synthetic speech)."""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from vowelprompt.bins import LEVELS, SLOPE_LEVELS
from vowelprompt.errors import ConfigError
from vowelprompt.experiment.config import load_config, parse_config
from vowelprompt.experiment.controls import (
    CONTROLS,
    MIRROR_LEVEL,
    MIRROR_SLOPE,
    control_template,
    no_prosody,
    pitch_inverted,
    shuffled,
)
from vowelprompt.experiment.protocols import PROTOCOLS, fold_names, split_fold
from vowelprompt.experiment.published import PUBLISHED
from vowelprompt.experiment.runner import Runner
from vowelprompt.experiment.tables import markdown, summarize
from vowelprompt.prompts import PromptConfig, conversation
from vowelprompt.records import Annotation, UtteranceProsody, Vowel, VowelFeatures, VowelSpan
from vowelprompt.verbalize import describe, read_vowels

WORDS = ("the", "meeting", "is", "on", "third", "floor", "today")


def annotation(uid: str, label: str, speaker: str, rng: random.Random, **extra) -> Annotation:
    """An annotated row with random (but valid) bins and features on every vowel of WORDS."""
    vowels = []
    for i, word in enumerate(WORDS):
        f0 = rng.uniform(3, 12)
        feats = VowelFeatures(
            100 * 2 ** (f0 / 12), f0, rng.uniform(-30, 30), 0.5, -20 + rng.random(), 2.0, 0.1, 9
        )
        bins = {
            "pitch": rng.choice(LEVELS),
            "pitch_slope": rng.choice(SLOPE_LEVELS),
            "pitch_var": rng.choice(LEVELS),
            "energy": rng.choice(LEVELS),
            "energy_var": rng.choice(LEVELS),
            "duration": rng.choice(LEVELS),
        }
        z = {"pitch": rng.gauss(0, 1), "pitch_slope": rng.gauss(0, 1), "energy": rng.gauss(0, 1)}
        vowels.append(Vowel(VowelSpan("EH", "ɛ", 1, i * 0.2, i * 0.2 + 0.1, word, i), feats, z, bins))
    utt = UtteranceProsody(7.0, 1.0, -20.0, 2.0, 4.0, {"pitch": 0.5}, {"pitch": rng.choice(LEVELS)})
    row = Annotation(
        id=uid, audio=f"{uid}.wav", status="ok", text=" ".join(WORDS), speaker=speaker, label=label,
        vowels=tuple(vowels), utterance=utt, style="paper", **extra,
    )  # fmt: skip
    return Annotation(**{**row.__dict__, "description": describe(row)})


def corpus(folder: Path, dataset: str = "iemocap", splits: bool = False, seed: int = 0):
    """An IEMOCAP-shaped manifest (2 sessions × 2 speakers × 4 emotions × 2 sentences) and its annotation
    rows; with ``splits``, MELD-shaped train/dev/test instead of folds."""
    rng = random.Random(seed)
    manifest, rows = [], []
    labels = (
        ("neutral", "happy", "angry", "sad")
        if dataset == "iemocap"
        else ("neutral", "joy", "anger", "sadness")
    )
    for fold in (1, 2):
        for sex in "FM":
            speaker = f"{dataset}{fold}{sex}"
            for n, label in enumerate(labels * 2):
                uid = f"{dataset}-{fold}{sex}{n}"
                row = {"id": uid, "audio": f"{uid}.wav", "text": " ".join(WORDS), "speaker": speaker}
                row |= {"label": label, "dataset": dataset, "dialogue": f"{dataset}{fold}{sex}", "turn": n}
                if splits:
                    row["split"] = ("train", "dev", "test")[(n + fold) % 3]
                else:
                    row["fold"] = fold
                manifest.append(row)
                rows.append(annotation(uid, label, speaker, rng, dialogue=row["dialogue"], turn=n))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{dataset}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in manifest))
    (folder / f"{dataset}.ann.jsonl").write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rows))
    return folder / f"{dataset}.jsonl", folder / f"{dataset}.ann.jsonl", manifest, rows


# --- protocols -------------------------------------------------------------------------------------------


def test_every_fold_tests_its_own_rows_and_trains_on_the_others_only(tmp_path):
    _, _, manifest, _ = corpus(tmp_path)
    protocol = PROTOCOLS["iemocap4-loso"]
    assert fold_names(protocol, manifest) == ["1", "2"]  # the protocol's 5 folds, as far as the manifest has
    for fold in ("1", "2"):
        s = split_fold(protocol, manifest, fold, dev_fraction=0.25, seed=3)
        assert set(s.test) == {r["id"] for r in manifest if str(r["fold"]) == fold}
        assert not set(s.test) & (set(s.train) | set(s.dev)) and not set(s.train) & set(s.dev)
        assert set(s.test) | set(s.train) | set(s.dev) == {r["id"] for r in manifest}
        # validation: held-out rows of training, never test (2 training speakers: rows, not speakers)
        assert s.dev and s.dev_source == "held-out part of training"
    with pytest.raises(ConfigError, match="folds 3 are not in the manifest"):
        fold_names(protocol, manifest, [3])


def test_the_dev_split_is_the_validation_set_where_the_corpus_has_one(tmp_path):
    _, _, manifest, _ = corpus(tmp_path, "meld", splits=True)
    s = split_fold(PROTOCOLS["meld7-official"], manifest, "official")
    by_split = {part: {r["id"] for r in manifest if r["split"] == part} for part in ("train", "dev", "test")}
    assert (set(s.train), set(s.dev), set(s.test)) == (by_split["train"], by_split["dev"], by_split["test"])
    assert s.dev_source == "dev split"


def test_held_out_validation_takes_whole_training_speakers_and_loso_folds_by_speaker():
    rows = [
        {"id": f"e{s}{i}", "speaker": f"{s:02d}", "dataset": "emodb", "fold": 1 + i % 5}
        for s in range(10)
        for i in range(5)
    ]
    loso = PROTOCOLS["emodb-loso"]
    assert fold_names(loso, rows) == [f"{s:02d}" for s in range(10)]
    s = split_fold(loso, rows, "03", dev_fraction=0.2, seed=1)
    speaker = {r["id"]: r["speaker"] for r in rows}
    assert {speaker[i] for i in s.test} == {"03"}
    dev_speakers = {speaker[i] for i in s.dev}
    assert len(dev_speakers) == 2 and not dev_speakers & {speaker[i] for i in (*s.train, *s.test)}
    # EmoBox's EmoDB folds are speaker-dependent, and the protocol says so
    dependent = split_fold(PROTOCOLS["emodb-5fold"], rows, "1")
    assert {speaker[i] for i in dependent.test} & {speaker[i] for i in dependent.train}
    assert (
        not PROTOCOLS["emodb-5fold"].speaker_independent
        and "SPEAKER-DEPENDENT" in PROTOCOLS["emodb-5fold"].summary
    )


def test_every_protocol_is_documented_with_its_published_numbers():
    docs = (REPO / "docs" / "experiments.md").read_text(encoding="utf-8")
    for name in PROTOCOLS:
        assert f"`{name}`" in docs
        assert name in PUBLISHED or name in ("emodb-loso",)


# --- controls --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rows():
    rng = random.Random(7)
    return [annotation(f"u{i}", "happy", f"s{i % 3}", rng) for i in range(9)]


def test_shuffle_gives_every_utterance_another_ones_vowels_as_a_permutation(rows):
    out = shuffled(rows, seed=5)
    before = [tuple(tuple(sorted(v.bins.items())) for v in r.vowels) for r in rows]
    after = [tuple(tuple(sorted(v.bins.items())) for v in r.vowels) for r in out]
    assert sorted(before) == sorted(after)  # a permutation of the utterances' vowel levels
    assert all(a != b for a, b in zip(before, after))  # nobody keeps their own (a derangement)
    assert [r.id for r in out] == [r.id for r in rows] and [r.text for r in out] == [r.text for r in rows]
    for r in out:  # the words stay, the description is redone from the new levels
        assert [w for _, w, _ in read_vowels(r.description)] == list(WORDS)
        assert [b for _, _, b in read_vowels(r.description)] == [v.bins for v in r.vowels]
    assert shuffled(rows, seed=5) == out and shuffled(rows, seed=6) != out  # seeded


def test_inversion_mirrors_every_pitch_cue_and_nothing_else(rows):
    for table, words in ((MIRROR_LEVEL, LEVELS), (MIRROR_SLOPE, SLOPE_LEVELS)):
        assert set(table) == set(words) == set(table.values())
        for word in words:
            assert table[table[word]] == word
            assert words.index(table[word]) == len(words) - 1 - words.index(word)
    out = pitch_inverted(rows)
    for before, after in zip(rows, out):
        for v, w in zip(before.vowels, after.vowels):
            assert w.bins["pitch"] == MIRROR_LEVEL[v.bins["pitch"]]
            assert w.bins["pitch_slope"] == MIRROR_SLOPE[v.bins["pitch_slope"]]
            assert {k: x for k, x in w.bins.items() if not k.startswith("pitch")} == {
                k: x for k, x in v.bins.items() if not k.startswith("pitch")
            }
            assert w.bins["pitch_var"] == v.bins["pitch_var"] and w.z["pitch"] == -v.z["pitch"]
        assert after.utterance.bins["pitch"] == MIRROR_LEVEL[before.utterance.bins["pitch"]]
        assert [b for _, _, b in read_vowels(after.description)] == [v.bins for v in after.vowels]
    assert pitch_inverted(out) == rows  # an involution


@pytest.mark.parametrize("template", ["vowelprompt", "vowelprompt_context", "speechcue"])
def test_removal_leaves_no_prosody_in_the_prompt(rows, template):
    real = conversation(rows[0], PromptConfig(template=template))
    assert "pitch" in real[-1]["content"]
    stripped = no_prosody(rows)
    assert all(not r.vowels and r.utterance is None and not r.description for r in stripped)
    shown = conversation(stripped[0], PromptConfig(template=control_template("no_prosody", template)))
    text = "\n".join(m["content"] for m in shown)
    assert "The vowel /" not in text and "pitch" not in text.lower() and rows[0].text in text
    assert control_template("no_prosody", template).startswith("transcript")


def test_controls_keep_failed_rows_as_they_are(rows):
    failed = Annotation(id="bad", audio="bad.wav", status="audio_error", error="unreadable")
    for control in CONTROLS.values():
        out = control([*rows[:3], failed], 0)
        assert out[-1] == failed and len(out) == 4


# --- tables ----------------------------------------------------------------------------------------------


def cell(fold: str, condition: str, wf1: float, recall_happy: float) -> dict:
    per_class = {"happy": {"recall": recall_happy}, "sad": {"recall": 1 - recall_happy}}
    scores = dict(
        n=10, weighted_f1=wf1, unweighted_accuracy=wf1, accuracy=wf1, macro_f1=wf1, invalid_rate=0.1
    )
    scores |= {"labels": ["happy", "sad"], "per_class": per_class}
    return dict(fold=fold, stage="zero-shot", template="vowelprompt", condition=condition, scores=scores)


def test_the_summary_is_the_mean_and_sample_sd_over_folds_and_controls_show_their_drop():
    cells = [cell("1", "real", 0.6, 0.5), cell("2", "real", 0.8, 0.7), cell("3", "real", 0.7, 0.9)]
    cells += [
        cell("1", "shuffled", 0.5, 0.5),
        cell("2", "shuffled", 0.5, 0.5),
        cell("3", "shuffled", 0.2, 0.5),
    ]
    real, control = summarize(cells)
    assert real["weighted_f1"] == pytest.approx((0.7, statistics.stdev([0.6, 0.8, 0.7])))
    assert real["recall"]["happy"] == pytest.approx((0.7, 0.2))
    assert real["n"] == 30 and real["folds"] == ["1", "2", "3"]
    assert control["drop_weighted_f1"] == pytest.approx((0.3, statistics.stdev([0.1, 0.3, 0.5])))
    text = markdown("iemocap4-loso", [real, control], cells)
    assert "| zero-shot | vowelprompt | real | 3 | 30 | 70.0 ± 10.0 |" in text
    assert (
        "| 30.0 ± 20.0 |" in text and "EmoBox Whisper-large-v3 (frozen): UA 73.54 WA 72.86 mF1 73.11" in text
    )
    assert all(f"## fold {f} (%)" in text for f in "123")
    single = markdown("emodb-loso", summarize(cells[:1]), cells[:1])
    assert "| 60.0 |" in single  # one fold: no sd
    assert "VowelPrompt zero-shot GPT-4o: WF1 69.85" in single
    assert "| — |" in markdown("no-such-protocol", summarize(cells[:1]), cells[:1])  # nothing published


# --- config and runner -----------------------------------------------------------------------------------


def test_config_errors_are_one_line_and_name_the_key(tmp_path):
    base = {"protocol": "iemocap4-loso", "manifest": "m.jsonl", "output": "out"}
    assert parse_config(base).templates == ("transcript", "speechcue", "vowelprompt")
    assert parse_config({**base, "controls": True}).controls == tuple(CONTROLS)
    for bad, message in (
        ({**base, "protocl": "x"}, "unknown keys protocl"),
        ({**base, "protocol": "x"}, "unknown protocol 'x'"),
        ({**base, "controls": ["mute"]}, "unknown controls"),
        ({k: v for k, v in base.items() if k != "manifest"}, "manifest is required"),
        ({**base, "train": {"sft": {}}}, "train.sft.config"),
        ({**base, "sampling": {"max_tokens": 5}}, "unknown sampling keys max_tokens"),
        ({**base, "sampling": {"top_p": 2}}, "top_p"),
    ):
        with pytest.raises(ConfigError, match=message):
            parse_config(bad)
    (tmp_path / "bad.yaml").write_text("protocol: [")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")


def fake_config(tmp_path: Path, manifest, annotations, **extra) -> dict:
    return {
        "protocol": "iemocap4-loso",
        "manifest": [str(m) for m in manifest],
        "annotations": str(annotations),
        "output": str(tmp_path / "run"),
        "templates": ["transcript", "vowelprompt"],
        "backend": "fake",
        "model": "fake",
        "controls": True,
        **extra,
    }


def test_statistics_are_fitted_on_training_rows_only_and_a_rerun_redoes_only_what_is_missing(tmp_path):
    manifest, annotations, rows, _ = corpus(tmp_path)
    config = parse_config(fake_config(tmp_path, [manifest], annotations))
    lines: list[str] = []
    Runner(config, lines.append).run()
    out = tmp_path / "run"
    for fold in ("1", "2"):
        split = json.loads((out / f"fold-{fold}" / "split.json").read_text())
        stats = json.loads((out / f"fold-{fold}" / "stats.json").read_text())
        fitted = set(stats["speakers"])
        assert fitted == {r["speaker"] for r in rows if str(r["fold"]) != fold}  # no test speaker
        assert not set(split["test"]) & set(split["train"] + split["dev"])
        conditions = {p.stem for p in (out / f"fold-{fold}" / "zero-shot" / "vowelprompt").glob("*.jsonl")}
        assert conditions == {"real", *CONTROLS}
        assert not list(
            (out / f"fold-{fold}" / "zero-shot" / "transcript").glob("shuffled*")
        )  # nothing to shuffle
    result = json.loads((out / "results.json").read_text())
    assert len(result["cells"]) == 2 * (1 + 4) and (out / "fold-1" / "results.md").is_file()
    ran = [s["step"] for s in json.loads((out / "experiment.run.json").read_text())["steps"]]
    assert len(ran) == 2 * (2 + 5 * 2)  # per fold: split, fit-stats, then predict + evaluate × 5

    (out / "fold-2" / "zero-shot" / "vowelprompt" / "shuffled.scores.json").unlink()
    Runner(config, lines.append).run()
    steps = json.loads((out / "experiment.run.json").read_text())["steps"]
    assert [s["step"] for s in steps if s["status"] == "ran"] == ["evaluate zero-shot vowelprompt shuffled"]
    assert json.loads((out / "results.json").read_text())["cells"] == result["cells"]


def test_a_cross_domain_protocol_prints_its_label_map_and_scores_through_it(tmp_path):
    iemocap, iemocap_rows = corpus(tmp_path, "iemocap")[::2]
    meld, meld_rows = corpus(tmp_path, "meld", splits=True, seed=1)[::2]
    annotations = tmp_path / "both.ann.jsonl"
    annotations.write_text(
        (tmp_path / "iemocap.ann.jsonl").read_text() + (tmp_path / "meld.ann.jsonl").read_text()
    )
    path = tmp_path / "cross.yaml"
    config = fake_config(tmp_path, [iemocap, meld], annotations, protocol="iemocap-to-meld", controls=None)
    path.write_text(json.dumps(config))
    proc = subprocess.run(
        [sys.executable, "-m", "vowelprompt.cli", "experiment", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    mapping = "iemocap4→meld7: neutral→neutral, happy→joy, angry→anger, sad→sadness"
    assert mapping in proc.stderr and mapping in (tmp_path / "run" / "results.md").read_text()
    split = json.loads((tmp_path / "run" / "fold-official" / "split.json").read_text())
    assert set(split["train"]) | set(split["dev"]) == {r["id"] for r in iemocap_rows}
    assert set(split["test"]) == {r["id"] for r in meld_rows if r["split"] == "test"}
    scores = json.loads(
        (tmp_path / "run" / "fold-official" / "zero-shot" / "vowelprompt" / "real.scores.json").read_text()
    )
    assert scores["labels"] == ["neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear"]
    assert scores["mapping"] == mapping


def test_the_cli_lists_protocols_and_refuses_a_bad_config_in_one_line(tmp_path):
    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "vowelprompt.cli", "experiment", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
        )

    listed = cli("--list")
    assert listed.returncode == 0 and all(name in listed.stdout for name in PROTOCOLS)
    manifest = corpus(tmp_path)[0]
    rows = [json.loads(line) | {"label_set": "iemocap4"} for line in manifest.open()]
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "s5.yaml").write_text(
        f"protocol: iemocap6-s5\nmanifest: {manifest}\noutput: {tmp_path / 'o'}\nbackend: fake\n"
    )
    wrong = cli(str(tmp_path / "s5.yaml"))
    assert wrong.returncode == 2 and wrong.stderr.strip() == (
        "vowelprompt: error: the iemocap manifest's labels are in iemocap4, iemocap6-s5 needs iemocap6: "
        "vowelprompt prepare iemocap ROOT --labels iemocap6 -o ..."
    )
    (tmp_path / "c.yaml").write_text(
        f"protocol: iemocap4-loso\nmanifest: nowhere.jsonl\noutput: {tmp_path / 'o'}\n"
    )
    refused = cli(str(tmp_path / "c.yaml"))
    assert (
        refused.returncode == 2
        and refused.stderr.strip() == "vowelprompt: error: manifest nowhere.jsonl not found"
    )
    assert not (tmp_path / "o").exists()  # nothing written before the config and the manifests are sound


def test_the_example_configs_are_valid():
    for path in sorted((REPO / "examples" / "experiments").glob("*.yaml")):
        config = load_config(path)
        assert config.spec.name == config.protocol and config.controls == tuple(CONTROLS)
