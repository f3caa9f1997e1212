"""`vowelprompt annotate` / `fit-stats` as users run them: real processes, real files, bad inputs."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import parselmouth
import pytest
from conftest import EXAMPLE, HANG_GUARD_S, REPO, write_wav

from vowelprompt.labels import get_label_set
from vowelprompt.missing import NO_TRANSCRIPT, NO_VOWELS
from vowelprompt.records import Annotation


def run(*args: str, cwd: Path = REPO, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "vowelprompt.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_annotate_example_prints_one_sentence_per_vowel():
    proc = run("annotate", str(EXAMPLE))
    lines = proc.stdout.splitlines()
    header = lines[0]
    n_vowels = int(header.split(" vowels")[0].rsplit(" ", 1)[-1])
    sentences = [line for line in lines if line.startswith("The vowel /")]
    assert len(sentences) == n_vowels >= 15
    assert 'The vowel /eɪ/ in "day"' in proc.stdout
    assert "normalization utterance" in header


def test_json_output_round_trips_into_records():
    proc = run("annotate", str(EXAMPLE), "--json", "--style", "compact")
    data = json.loads(proc.stdout)
    row = Annotation.from_dict(data)
    assert row.ok and row.style == "compact" and row.aligner == "pocketsphinx"
    assert json.loads(json.dumps(row.to_dict())) == data
    assert row.versions["vowelprompt"]
    v = row.vowels[0]
    assert set(v.bins) <= {"pitch", "pitch_slope", "pitch_var", "energy", "energy_var", "duration"}
    assert v.features.duration_s == pytest.approx(v.span.end_s - v.span.start_s, abs=1e-6)


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory, synth) -> Path:
    """A folder with one good file and one of every kind of bad input, each with a transcript."""
    d = tmp_path_factory.mktemp("batch")
    text = "Please put the blue folder on the table next to the window."
    utt = synth.synthesize(text, voice="en-us+m3", rate_wpm=170)

    def add(name: str, samples, sr, transcript: str | None = text, subtype="PCM_16"):
        write_wav(d / f"{name}.wav", samples, sr, subtype)
        if transcript is not None:
            (d / f"{name}.txt").write_text(transcript)

    add("good", utt.samples, utt.sr)
    (d / "empty.wav").write_bytes(b"")
    (d / "empty.txt").write_text(text)
    (d / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(64))
    add("silence", np.zeros(utt.sr * 2, dtype=np.float32), utt.sr)
    add("noise", (0.1 * np.random.default_rng(1).standard_normal(utt.sr * 3)).astype(np.float32), utt.sr)
    add("clipped", np.clip(utt.samples * 8, -1, 1), utt.sr, subtype="FLOAT")
    s8 = __import__("soxr").resample(utt.samples, utt.sr, 8000)
    add("rate8k", s8, 8000)
    s48 = __import__("soxr").resample(utt.samples, utt.sr, 48000)
    add("stereo48k", np.stack([s48, s48 * 0.5], axis=1), 48000)
    add("mismatch", utt.samples, utt.sr, "The morning train leaves the station before the sun comes up.")
    add("unknown_words", utt.samples, utt.sr, text.replace("folder", "flurbox"))
    add("no_transcript", utt.samples, utt.sr, transcript=None)
    add("non_ascii", utt.samples, utt.sr, "Please put the blue folder on the table — next to the window! ✨")
    return d


EXPECTED = {
    "good": "ok",
    "empty": "audio_error",
    "corrupt": "audio_error",
    "silence": "audio_error",
    "noise": "ok",  # kept without vowels: its transcript and utterance-level cues (vowelprompt.missing)
    "clipped": "ok",
    "rate8k": "ok",
    "stereo48k": "ok",
    "mismatch": "ok",  # the same: pocketsphinx cannot tell a wrong transcript from unclear speech
    "unknown_words": "ok",
    "no_transcript": "ok",  # utterance-level cues only
    "non_ascii": "ok",
}


def test_batch_of_bad_inputs_yields_one_row_each(bad_batch, tmp_path):
    out = tmp_path / "out.jsonl"
    proc = run("annotate", str(bad_batch), "-o", str(out), "-q", check_rc=1)
    got = {r["id"]: r for r in rows(out)}
    assert {k: r["status"] for k, r in got.items()} == EXPECTED
    for key, row in got.items():
        if row["status"] != "ok":
            assert row["error"] and "\n" not in row["error"]
            assert f"{key}: {row['status']}: " in proc.stderr
    assert any("clipped" in w for w in got["clipped"]["warnings"])
    for key, missing in (("noise", NO_VOWELS), ("mismatch", NO_VOWELS), ("no_transcript", NO_TRANSCRIPT)):
        assert not got[key]["vowels"] and got[key]["warnings"][0].startswith(missing), key
    assert any("flurbox" in w for w in got["unknown_words"]["warnings"])
    assert any("low sample rate" in w for w in got["rate8k"]["warnings"])
    # Resampled and downmixed copies of the same speech give nearly the same vowels.
    n = len(got["good"]["vowels"])
    assert abs(len(got["stereo48k"]["vowels"]) - n) <= 1 and abs(len(got["rate8k"]["vowels"]) - n) <= 2


def test_jobs_2_gives_the_same_rows_as_jobs_1(bad_batch, tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run("annotate", str(bad_batch), "-o", str(one), "-q", check_rc=1)
    run("annotate", str(bad_batch), "-o", str(two), "-q", "--jobs", "2", check_rc=1)
    a = {r["id"]: (r["status"], r["description"]) for r in rows(one)}
    b = {r["id"]: (r["status"], r["description"]) for r in rows(two)}
    assert a == b


def test_resume_after_a_crash_finishes_every_item_once(corpus, tmp_path):
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "vowelprompt.cli", "annotate", str(corpus), "-o", str(out), "-q"]
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE)
    deadline = time.time() + HANG_GUARD_S
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and len(out.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # a crash: no cleanup, possibly mid-line
    proc.wait()
    partial = len(out.read_text().splitlines())
    with open(out, "a") as fh:
        fh.write('{"id": "torn')  # and a torn last line
    run("annotate", str(corpus), "-o", str(out), "-q", "--resume")
    ids = [r["id"] for r in rows(out)]
    total = sum(1 for _ in open(corpus))
    assert len(ids) == len(set(ids)) == total and partial < total


def test_resume_needs_output():
    proc = run("annotate", str(EXAMPLE), "--resume", check_rc=2)
    assert proc.stderr.strip() == "vowelprompt: error: --resume needs --output (the file to resume)"


def test_text_option_and_missing_transcript(tmp_path):
    wav = shutil.copy(EXAMPLE, tmp_path / "copy.wav")
    proc = run("annotate", str(wav))  # utterance-level prosody only, and a note saying why
    assert "Transcript: (none)" in proc.stdout and "pass --text" in proc.stdout
    proc = run("annotate", str(wav), "--require-words", check_rc=1)  # refused, as before issue 17
    assert "copy: transcript_error: " in proc.stderr and "pass --text" in proc.stderr
    proc = run(
        "annotate", str(wav), "--text", "It's a beautiful day, and I am really happy to see you again."
    )
    assert 'in "beautiful"' in proc.stdout


def test_lab_sidecar_is_used(tmp_path):
    wav = shutil.copy(EXAMPLE, tmp_path / "utt.wav")
    (tmp_path / "utt.lab").write_text(EXAMPLE.with_suffix(".txt").read_text())
    assert 'in "happy"' in run("annotate", str(wav)).stdout


def test_textgrid_and_plot_outputs(tmp_path):
    run("annotate", str(EXAMPLE), "--textgrid", str(tmp_path / "tg"), "--plot", str(tmp_path / "fig.png"))
    tg = parselmouth.read(str(tmp_path / "tg" / "happy_day.TextGrid"))
    tiers = [
        parselmouth.praat.call(tg, "Get tier name", i + 1)
        for i in range(parselmouth.praat.call(tg, "Get number of tiers"))
    ]
    assert tiers[:2] == ["words", "phones"] and "vowel-pitch" in tiers
    png = (tmp_path / "fig.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_imported_textgrid_reproduces_the_annotation(tmp_path):
    first = json.loads(run("annotate", str(EXAMPLE), "--json", "--textgrid", str(tmp_path)).stdout)
    again = json.loads(
        run("annotate", str(EXAMPLE), "--json", "--alignment", str(tmp_path / "happy_day.TextGrid")).stdout
    )
    assert again["aligner"] == "textgrid"
    assert [v["span"]["ipa"] for v in again["vowels"]] == [v["span"]["ipa"] for v in first["vowels"]]
    assert again["description"] == first["description"]


def test_fit_stats_then_annotate_with_stats(corpus, tmp_path):
    stats = tmp_path / "stats.json"
    proc = run("fit-stats", str(corpus), "-o", str(stats), "-q", "--jobs", "2")
    assert "fitted statistics on 12 utterances (2 speakers" in proc.stderr
    data = json.loads(stats.read_text())
    assert set(data["speakers"]) == {"en-us+m3", "en-gb+f2"} and len(data["edges"]["pitch"]) == 4
    out = json.loads(run("annotate", str(EXAMPLE), "--json", "--stats", str(stats)).stdout)
    assert out["normalization"] == "fitted"
    assert not any("no fitted statistics" in w for w in out["warnings"])
    assert run(
        "fit-stats", str(corpus), "-o", str(stats), "--save-annotations", str(tmp_path / "a.jsonl"), "-q"
    )
    saved = rows(tmp_path / "a.jsonl")  # levelled with the statistics just fitted, as annotate --stats does
    assert {r["normalization"] for r in saved} == {"fitted"}
    assert not any("no fitted statistics" in w for r in saved for w in r["warnings"])
    first = saved[0]
    single = tmp_path / "one.jsonl"
    single.write_text(json.dumps({k: first[k] for k in ("id", "audio", "text", "speaker")}) + "\n")
    fresh = json.loads(run("annotate", str(single), "--json", "--stats", str(stats)).stdout)
    assert [v["bins"] for v in fresh["vowels"]] == [v["bins"] for v in first["vowels"]]
    assert fresh["description"] == first["description"]
    again = tmp_path / "stats2.json"
    run("fit-stats", str(tmp_path / "a.jsonl"), "-o", str(again))  # from annotate's own output
    refit = json.loads(again.read_text())["edges"]  # same rows, other order: equal up to float rounding
    assert refit.keys() == data["edges"].keys()
    assert all(refit[k] == pytest.approx(data["edges"][k], abs=1e-9) for k in refit)


def test_bad_stats_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "stats.json"
    bad.write_text("[]")
    proc = run("annotate", str(EXAMPLE), "--stats", str(bad), check_rc=2)
    assert proc.stderr.startswith("vowelprompt: error: ") and proc.stderr.count("\n") == 1


def test_manifest_with_bad_line(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"audio": str(EXAMPLE)}) + "\n{oops\n")
    out = tmp_path / "out.jsonl"
    proc = run("annotate", str(manifest), "-o", str(out), check_rc=1)
    assert "m.jsonl:2: input_error: not valid JSON" in proc.stderr
    assert [(r["id"], r["status"]) for r in rows(out)] == [("happy_day", "ok"), ("m.jsonl:2", "input_error")]


VERBS_READING_JSONL = [["evaluate"], ["build-dataset", "--kind", "sft", "-o", "out"], ["predict", "-o", "p"]]


@pytest.mark.parametrize("verb", VERBS_READING_JSONL)
def test_a_missing_jsonl_is_a_one_line_error(verb, tmp_path):
    missing = str(tmp_path / "missing.jsonl")
    proc = run(verb[0], missing, *verb[1:], cwd=tmp_path, check_rc=2)
    assert proc.stderr.startswith("vowelprompt: error: ") and proc.stderr.count("\n") == 1
    assert "missing.jsonl" in proc.stderr


def test_heavy_libraries_are_not_imported():
    heavy = "{'torch', 'transformers', 'trl', 'vllm', 'matplotlib', 'faster_whisper', 'opensmile'}"
    code = (
        "import sys; from vowelprompt.cli import main; "
        f"rc = main(['annotate', {str(EXAMPLE)!r}, '-q', '--json']); "
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy}); "
        "print(heavy, file=sys.stderr); sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=HANG_GUARD_S
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[]"


# --- Each verb's parser: help, defaults, mistyped options ---------------------------------------------------


def _verbs():
    from vowelprompt.cli import build_parser

    parser, verbs = build_parser()
    return parser, verbs.choices


def test_every_verb_has_a_description_and_every_option_a_help_showing_its_default():
    from vowelprompt.cli import build_parser

    parser, subparsers = build_parser()
    verbs = subparsers.choices
    expected = {
        "prepare",
        "annotate",
        "fit-stats",
        "predict",
        "build-dataset",
        "evaluate",
        "baseline",
        "merge",
        "experiment",
    }
    assert set(verbs) == expected
    assert parser.description and "``" not in parser.description  # not an internal docstring
    top = " ".join(parser.format_help().split())
    for choice in subparsers._choices_actions:  # the verb list of ``vowelprompt --help``
        assert choice.help and f"{choice.dest} {choice.help}" in top
    for name, verb in verbs.items():
        assert verb.description and "\n" not in verb.description.strip(), name
        text = " ".join(verb.format_help().split())  # unwrapped
        assert text.startswith(f"usage: vowelprompt {name} ") and verb.description in text
        for action in verb._actions:
            assert action.help and action.help.strip(), (name, action.dest)
            default = action.default
            if (
                action.option_strings
                and default not in (None, [], argparse.SUPPRESS)
                and default is not False
            ):
                assert f"(default: {default})" in text, (name, action.option_strings)


def test_the_defaults_the_issue_found_bare_are_shown():
    _, verbs = _verbs()
    predict = " ".join(verbs["predict"].format_help().split())
    for option, default in (
        ("--top-p P", "1.0"),
        ("--max-new-tokens N", "512"),
        ("--seed SEED", "0"),
        ("--batch-size N", "16"),
        ("--temperature TEMPERATURE", "0.0"),
    ):
        assert re.search(rf"{re.escape(option)} [^-]*\(default: {re.escape(default)}\)", predict), option


def test_prompt_options_are_declared_once_for_predict_and_build_dataset():
    _, verbs = _verbs()

    def prompt_group(verb):
        group = next(g for g in verb._action_groups if g.title == "prompt")
        return {a.dest: (a.default, a.help, a.choices) for a in group._group_actions}

    predict, dataset = prompt_group(verbs["predict"]), prompt_group(verbs["build-dataset"])
    assert {"template", "labels", "context_window", "style"} <= dataset.keys()
    assert all(predict[dest] == dataset[dest] for dest in dataset)


VERB_TYPOS = [
    ["predict", "x", "--top-pp", "1"],
    ["annotate", "x.wav", "--stlye", "compact"],
    ["fit-stats", "x.wav", "-o", "s.json", "--save-anotations", "a.jsonl"],
    ["build-dataset", "a.jsonl", "--kind", "sft", "-o", "ds", "--ballanced"],
    ["evaluate", "p.jsonl", "--gld", "g.jsonl"],
]


@pytest.mark.parametrize("argv", VERB_TYPOS, ids=[a[0] for a in VERB_TYPOS])
def test_a_mistyped_option_shows_the_verbs_usage(argv, tmp_path):
    typo = next(a for a in argv if a.startswith("--") and a not in ("--kind",))
    proc = run(*argv, cwd=tmp_path, check_rc=2)
    assert proc.stderr.startswith(f"usage: vowelprompt {argv[0]} ")
    assert f"vowelprompt {argv[0]}: error: unrecognized arguments: {typo}" in proc.stderr
    assert not proc.stdout and not list(tmp_path.iterdir())


# --- predict without -o prints; messages count --------------------------------------------------------------

HAPPY_TEXT = "It's a beautiful day, and I am really happy to see you again."


def test_predict_without_output_prints_the_label_and_the_explanation(tmp_path):
    wav = shutil.copy(EXAMPLE, tmp_path / "a.wav")
    proc = run(
        "predict", str(wav), "--text", HAPPY_TEXT, "--backend", "fake", "--model", "scripted", cwd=tmp_path
    )
    lines = proc.stdout.splitlines()
    assert lines[0] == "# a  (ok, backend fake, model scripted)"
    assert (
        lines[1].startswith("Label: ")
        and lines[1].removeprefix("Label: ") in get_label_set("iemocap4").labels
    )
    assert lines[2] == "Explanation: fake" and lines[3:] == [""]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]  # no rows, no run manifest
    # An answer without a label says so and shows what the model answered.
    script = tmp_path / "answers.txt"
    script.write_text("I cannot tell.\n")
    proc = run(
        "predict",
        str(wav),
        "--text",
        HAPPY_TEXT,
        "--backend",
        "fake",
        "--backend-option",
        f"responses={script}",
        cwd=tmp_path,
    )
    assert proc.stdout.splitlines()[:3] == [
        "# a  (invalid, backend fake, model smollm2-135m)",
        "Label: none (the answer names no label of the set)",
        "Answer: I cannot tell.",
    ]
    # --record-prompt shows what the model saw before its answer.
    proc = run(
        "predict", str(wav), "--text", HAPPY_TEXT, "--backend", "fake", "--record-prompt", cwd=tmp_path
    )
    shown = proc.stdout.split("\nLabel: ")[0]
    assert "[user]\n<utterance>It's a beautiful day" in shown and 'The vowel /eɪ/ in "day"' in shown
    proc = run("predict", str(wav), "--text", HAPPY_TEXT, "--backend", "fake", "--resume", check_rc=2)
    assert proc.stderr.strip() == "vowelprompt: error: --resume needs --output (the file to resume)"


def test_plural():
    from vowelprompt.cli.console import plural

    assert [plural(n, "row") for n in (0, 1, 2)] == ["0 rows", "1 row", "2 rows"]
    assert plural(1, "vowel type") == "1 vowel type" and plural(3, "vowel type") == "3 vowel types"


def test_messages_count_one_in_the_singular(tmp_path):
    out = tmp_path / "a.jsonl"
    proc = run("annotate", str(EXAMPLE), "-o", str(out), "-q")
    assert not proc.stderr
    proc = run("annotate", str(EXAMPLE), "-o", str(out), "--overwrite")
    assert f"wrote 1 row to {out} (0 failed)" in proc.stderr
    proc = run("fit-stats", str(EXAMPLE), "-o", str(tmp_path / "s.json"))
    assert (
        "fitted statistics on 1 utterance (1 speaker, " in proc.stderr and "; 0 inputs failed)" in proc.stderr
    )
    preds = tmp_path / "p.jsonl"
    preds.write_text(
        "".join(
            json.dumps(row) + "\n"
            for row in (
                {"id": "a", "status": "ok", "label": "happy", "gold": "happy", "label_set": "iemocap4"},
                {"id": "b", "status": "ok", "label": "sad", "gold": "surprised", "label_set": "iemocap4"},
                {"id": "c", "status": "ok", "label": "sad", "label_set": "iemocap4"},
                [1],
            )
        )
    )
    proc = run("evaluate", str(preds), "--confusion", str(tmp_path / "c.png"))
    assert (
        "note: 1 item with gold label 'surprised' is outside the scored label set and was not scored"
        in proc.stdout
    )
    assert "note: 1 prediction has no gold label and was not scored" in proc.stdout
    assert f"note: 1 row of {preds} is not a prediction row and was not scored (line 4)" in proc.stderr
