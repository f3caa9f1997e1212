"""The MFA backend: our side (corpus writing, the command line, collecting TextGrids, errors) runs for real
against a stand-in ``mfa`` executable; one test runs the real MFA where it is installed (conda only)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vowelprompt.align import BatchAligner, BatchItem, get_aligner
from vowelprompt.align.mfa import NOT_FOUND, MFAAligner
from vowelprompt.align.vowels import vowel_info
from vowelprompt.audio import load_audio
from vowelprompt.errors import AlignmentError, ConfigError

# A stand-in for `mfa align CORPUS DICTIONARY ACOUSTIC_MODEL OUTPUT [options]`. Like MFA it mirrors the
# corpus folders in OUTPUT and writes no TextGrid for a file it cannot align (here: a transcript with
# "skipme"); "failall" makes it fail the way MFA does on an exception; "sleepy" makes it hang. Words
# containing "zz" are out of its dictionary and get one `spn` phone, as MFA 3 does. It logs its
# arguments and what it found in each wav header to calls.json beside itself.
FAKE_MFA = textwrap.dedent(
    r"""
    import json, sys, time, wave
    from pathlib import Path

    args = sys.argv[1:]
    assert args[0] == "align", args
    corpus, dictionary, model, output = args[1:5]
    corpus, output = Path(corpus), Path(output)
    files = []
    for lab in sorted(corpus.rglob("*.lab")):
        with wave.open(str(lab.with_suffix(".wav"))) as w:
            header = dict(rate=w.getframerate(), channels=w.getnchannels(), width=w.getsampwidth())
            seconds = w.getnframes() / w.getframerate()
        text = lab.read_text(encoding="utf-8")
        files.append(dict(path=str(lab.relative_to(corpus)), text=text, seconds=seconds, **header))
    Path(__file__).with_name("calls.json").write_text(json.dumps(dict(args=args, files=files)))
    words_seen = " ".join(f["text"] for f in files).split()
    if "failall" in words_seen:
        print("INFO Setting up corpus", flush=True)
        print('Traceback (most recent call last):\n  File "mfa", line 1', file=sys.stderr)
        print("montreal_forced_aligner.exceptions.KaldiProcessingError: boom", file=sys.stderr)
        sys.exit(1)
    if "sleepy" in words_seen:
        time.sleep(30)

    def tier(number, name, entries, duration):
        # MFA 3's Textgrid.save: blanks fill gaps over 1 ms, values end with a space
        filled, last = [], 0
        for a, b, label in entries:
            if a - last > 0.001:
                filled.append((0.0 if last == 0 else last, a, ""))
            filled.append((a, b, label))
            last = b
        if duration - last > 0.001:
            filled.append((last, duration, ""))
        t = " " * 4
        out = f'{t}item [{number}]:\n{t * 2}class = "IntervalTier" \n{t * 2}name = "{name}" \n'
        out += f"{t * 2}xmin = 0 \n{t * 2}xmax = {duration} \n{t * 2}intervals: size = {len(filled)} \n"
        for i, (a, b, label) in enumerate(filled, 1):
            out += f"{t * 2}intervals [{i}]:\n{t * 3}xmin = {a} \n{t * 3}xmax = {b} \n"
            out += f'{t * 3}text = "{label}" \n'
        return out

    for f in files:
        words = f["text"].split()
        if "skipme" in words:
            continue
        duration = round(f["seconds"], 6)
        step = round((duration - 0.2) / len(words), 4)
        word_tier, phone_tier = [], []
        for i, word in enumerate(words):
            a, b = round(0.1 + i * step, 4), round(0.1 + (i + 1) * step, 4)
            word_tier.append((a, b, word))
            if "zz" in word:
                phone_tier.append((a, b, "spn"))
            else:
                mid = round((a + b) / 2, 4)
                phone_tier += [(a, mid, "K"), (mid, b, "AA1")]
        text = 'File type = "ooTextFile"\nObject class = "TextGrid"\n\n'
        text += f"xmin = 0 \nxmax = {duration} \ntiers? <exists> \nsize = 2 \nitem []: \n"
        text += tier(1, "words", word_tier, duration) + tier(2, "phones", phone_tier, duration)
        target = output / Path(f["path"]).with_suffix(".TextGrid")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    """
)


@pytest.fixture
def fake_mfa(tmp_path, monkeypatch):
    """Put the stand-in ``mfa`` first on PATH; return the folder it logs into."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "mfa"
    script.write_text(f"#!{sys.executable}\n" + FAKE_MFA, encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return bin_dir


def calls(bin_dir: Path) -> dict:
    return json.loads((bin_dir / "calls.json").read_text())


def tone(seconds: float, sr: int) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)


def test_missing_binary_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without mfa
    with pytest.raises(AlignmentError) as info:
        MFAAligner()
    assert str(info.value) == NOT_FOUND
    assert "conda install -c conda-forge montreal-forced-aligner" in NOT_FOUND
    assert "--alignment FILE.TextGrid" in NOT_FOUND
    with pytest.raises(AlignmentError, match="Montreal Forced Aligner not found"):
        get_aligner("mfa")


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="num_jobs"):
        MFAAligner(num_jobs=0)
    with pytest.raises(ConfigError, match="beam"):
        MFAAligner(beam=0)


def test_align_corpus_writes_the_corpus_and_collects_every_item(fake_mfa):
    aligner = get_aligner("mfa", num_jobs=2, beam=100, extra_args=("--fine_tune",))
    assert isinstance(aligner, MFAAligner) and aligner.name == "mfa"
    int16 = (tone(1.0, 16_000) * 32767).astype(np.int16)
    results = aligner.align_corpus(
        [
            BatchItem("a/1", tone(1.2, 16_000), 16_000, "hello  world\n", "alice"),
            BatchItem("b", int16, 16_000, "good morning zzquux", "alice"),
            BatchItem("c", tone(0.8, 16_000), 16_000, "skipme please", None),
            BatchItem("d", tone(0.5, 16_000), 16_000, "   ", None),
            BatchItem("e", tone(0.9, 16_000), 16_000, "fine", None),
        ]
    )
    assert list(results) == ["a/1", "b", "c", "d", "e"]

    a = results["a/1"]
    assert [w.text for w in a] == ["hello", "world"]
    assert [[p.label for p in w.phones] for w in a] == [["K", "AA1"], ["K", "AA1"]]
    assert {w.pron_source for w in a} == {"dictionary"}
    assert a[0].start_s == pytest.approx(0.1) and a[-1].end_s == pytest.approx(1.1, abs=1e-3)
    b = results["b"]
    assert [(w.text, w.pron_source, len(w.phones)) for w in b] == [
        ("good", "dictionary", 2),
        ("morning", "dictionary", 2),
        ("zzquux", "unaligned", 0),
    ]
    assert isinstance(results["c"], AlignmentError)
    assert str(results["c"]).startswith("MFA produced no alignment for 'c'")
    assert isinstance(results["d"], AlignmentError) and "empty transcript" in str(results["d"])
    assert [w.text for w in results["e"]] == ["fine"]

    log = calls(fake_mfa)
    args = log["args"]
    assert args[0] == "align"
    assert args[2:4] == ["english_us_arpa", "english_us_arpa"]
    assert args[5:] == [
        "--clean",
        "--overwrite",
        "--output_format",
        "long_textgrid",
        "--num_jobs",
        "2",
        "--beam",
        "100",
        "--fine_tune",
    ]
    assert not Path(args[1]).exists(), "the temporary corpus is removed afterwards"
    files = log["files"]
    assert [f["text"] for f in files] == [
        "hello world\n",
        "good morning zzquux\n",
        "skipme please\n",
        "fine\n",
    ]
    assert {(f["rate"], f["channels"], f["width"]) for f in files} == {(16_000, 1, 2)}
    assert [f["seconds"] for f in files] == pytest.approx([1.2, 1.0, 0.8, 0.9], abs=1e-3)
    folders = [Path(f["path"]).parent.name for f in files]
    # alice's two files share a folder; each speakerless file gets its own
    assert folders[0] == folders[1] and len(set(folders)) == 3


def test_mfa_is_the_batch_aligner_and_pocketsphinx_is_not(fake_mfa):
    # The pipeline hands a whole batch to an aligner that is a BatchAligner, item by item to the others.
    assert isinstance(MFAAligner(), BatchAligner)
    assert not isinstance(get_aligner("pocketsphinx"), BatchAligner)


def test_align_one_returns_words_or_raises(fake_mfa):
    aligner = MFAAligner()
    words = aligner.align(tone(1.0, 16_000), 16_000, "one two three")
    assert [w.text for w in words] == ["one", "two", "three"]
    assert all(vowel_info(w.phones[1].label) for w in words)
    with pytest.raises(AlignmentError, match="MFA produced no alignment"):
        aligner.align(tone(1.0, 16_000), 16_000, "skipme")
    with pytest.raises(AlignmentError, match="aligned no word of 'utterance' to phones"):
        aligner.align(tone(1.0, 16_000), 16_000, "zzfoo zzbar")


def test_mfa_failure_raises_with_the_end_of_its_error_output(fake_mfa):
    with pytest.raises(AlignmentError) as info:
        MFAAligner().align_corpus([BatchItem("x", tone(1.0, 16_000), 16_000, "failall now", "s")])
    message = str(info.value)
    assert message.startswith("mfa align failed (exit status 1): ")
    assert message.endswith("montreal_forced_aligner.exceptions.KaldiProcessingError: boom")
    assert "\n" not in message


def test_a_hanging_mfa_is_stopped_by_the_timeout(fake_mfa):
    with pytest.raises(AlignmentError, match=r"did not finish within 1 s"):
        MFAAligner(timeout_s=1).align_corpus([BatchItem("x", tone(0.5, 16_000), 16_000, "sleepy", None)])


def test_duplicate_ids_and_stereo_samples_are_caller_errors(fake_mfa):
    aligner = MFAAligner()
    with pytest.raises(ValueError, match="unique"):
        aligner.align_corpus([BatchItem("x", tone(0.5, 16_000), 16_000, "a", None)] * 2)
    with pytest.raises(ValueError, match="mono"):
        aligner.align_corpus([BatchItem("x", np.zeros((800, 2)), 16_000, "a", None)])


def test_audio_at_another_rate_is_refused_not_resampled(fake_mfa):
    # Audio reaches aligners at the analysis rate (load_audio resamples, once): another rate is refused
    # before MFA runs.
    items = [BatchItem("ok", tone(0.5, 16_000), 16_000, "a"), BatchItem("x", tone(0.5, 22_050), 22_050, "a")]
    with pytest.raises(AlignmentError, match=r"MFA takes audio at 16000 Hz .*got 22050 Hz"):
        MFAAligner().align_corpus(items)
    assert not (fake_mfa / "calls.json").exists()


@pytest.mark.needs_mfa
@pytest.mark.skipif(
    shutil.which("mfa") is None,
    reason="mfa binary not on PATH (Montreal Forced Aligner is installable only via conda)",
)
def test_real_mfa_aligns_espeak_speech(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    wav = tmp_path / "hello.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), "hello world, this is a test"], check=True)
    audio = load_audio(wav)  # espeak-ng writes 22.05 kHz: loading brings it to the analysis rate
    words = MFAAligner().align(audio.samples, audio.sr, "hello world this is a test")
    assert [w.text for w in words] == ["hello", "world", "this", "is", "a", "test"]
    vowels = [p.label for w in words for p in w.phones if vowel_info(p.label)]
    assert len(vowels) >= 6 and all(label[-1] in "012" for label in vowels)  # english_us_arpa: stress digits
    assert all(w.start_s < w.end_s for w in words)


def test_pipeline_runs_mfa_once_per_batch_and_keeps_every_row(fake_mfa, tmp_path, capsys):
    # Through the CLI as a user runs it: a batch with an aligned file, one MFA skips, and one unreadable.
    from conftest import EXAMPLE

    from vowelprompt.cli import main

    shutil.copy(EXAMPLE, tmp_path / "good.wav")
    (tmp_path / "good.txt").write_text(EXAMPLE.with_suffix(".txt").read_text())
    shutil.copy(EXAMPLE, tmp_path / "skipped.wav")
    (tmp_path / "skipped.txt").write_text("skipme please")
    (tmp_path / "broken.wav").write_bytes(b"not audio")
    (tmp_path / "broken.txt").write_text("hello")
    out = tmp_path / "out.jsonl"
    rc = main(
        [
            "annotate",
            str(tmp_path),
            "--aligner",
            "mfa",
            "--dictionary",
            "my_dict.dict",
            "--acoustic-model",
            "my_model.zip",
            "-o",
            str(out),
            "-q",
        ]
    )
    assert rc == 1
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert {k: r["status"] for k, r in rows.items()} == {
        "good": "ok",
        "skipped": "ok",  # kept with its transcript and utterance-level cues (vowelprompt.missing)
        "broken": "audio_error",
    }
    assert not rows["skipped"]["vowels"] and rows["skipped"]["text"] == "skipme please"
    assert "MFA produced no alignment" in rows["skipped"]["warnings"][0]
    assert rows["good"]["aligner"] == "mfa" and rows["good"]["vowels"]
    log = calls(fake_mfa)
    assert log["args"][2:4] == ["my_dict.dict", "my_model.zip"]
    assert len(log["files"]) == 2  # one MFA run for the batch; the unreadable file never reached it
    assert "broken: audio_error: " in capsys.readouterr().err


@pytest.fixture(scope="module")
def example_textgrid(tmp_path_factory) -> Path:
    """The shipped example's alignment as a TextGrid (aligned here with pocketsphinx)."""
    from conftest import EXAMPLE

    from vowelprompt.align.textgrid import write_alignment
    from vowelprompt.pipeline import annotate

    row = annotate(EXAMPLE)
    assert row.ok, row.error
    target = tmp_path_factory.mktemp("alignment") / "happy_day.TextGrid"
    write_alignment(target, row)
    return target


def test_a_given_alignment_needs_no_mfa(example_textgrid, tmp_path, monkeypatch, capsys):
    # `annotate x.wav --alignment x.TextGrid --aligner mfa` used to fail with "Montreal Forced Aligner not
    # found": the aligner is built only when some item needs it.
    from conftest import EXAMPLE

    from vowelprompt.cli import main

    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without mfa
    out = tmp_path / "out.jsonl"
    argv = ["annotate", str(EXAMPLE), "--alignment", str(example_textgrid), "--aligner", "mfa"]
    assert main([*argv, "-o", str(out), "-q"]) == 0, capsys.readouterr().err
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["status"] == "ok" and row["aligner"] == "textgrid" and row["vowels"]
    assert "not found" not in capsys.readouterr().err


def test_items_that_need_a_missing_mfa_still_say_it_is_not_found(
    example_textgrid, tmp_path, monkeypatch, capsys
):
    # A manifest mixing an item with its TextGrid and one to align: MFA is needed, so its absence is the
    # one-line error it always was (exit status 2, before any audio is read).
    from conftest import EXAMPLE

    from vowelprompt.cli import main

    monkeypatch.setenv("PATH", str(tmp_path))
    manifest = tmp_path / "items.jsonl"
    items = [
        {"id": "given", "audio": str(EXAMPLE), "alignment": str(example_textgrid)},
        {"id": "to_align", "audio": str(EXAMPLE), "text": EXAMPLE.with_suffix(".txt").read_text()},
    ]
    manifest.write_text("".join(json.dumps(item) + "\n" for item in items))
    assert main(["annotate", str(manifest), "--aligner", "mfa", "-q"]) == 2
    err = capsys.readouterr().err
    assert err == f"vowelprompt: error: {NOT_FOUND}\n"


def test_the_mfa_batch_keeps_the_input_order(fake_mfa, tmp_path):
    # An item refused before alignment (unreadable audio) is not reported ahead of those before it.
    from conftest import EXAMPLE

    from vowelprompt.pipeline import AnnotateConfig, iter_annotate
    from vowelprompt.records import Utterance

    (tmp_path / "broken.wav").write_bytes(b"not audio")
    text = EXAMPLE.with_suffix(".txt").read_text()
    items = [
        Utterance(id="first", audio=str(EXAMPLE), text=text),
        Utterance(id="broken", audio=str(tmp_path / "broken.wav"), text="hello"),
        Utterance(id="last", audio=str(EXAMPLE), text="skipme please"),
    ]
    rows = list(iter_annotate(items, AnnotateConfig(aligner="mfa", require_words=True)))
    statuses = [(r.id, r.status) for r in rows]
    assert statuses == [("first", "ok"), ("broken", "audio_error"), ("last", "alignment_error")]
    rows = list(iter_annotate(items, AnnotateConfig(aligner="mfa")))  # the failed alignment kept, in place
    assert [(r.id, r.status, bool(r.vowels)) for r in rows] == [
        ("first", "ok", True),
        ("broken", "audio_error", False),
        ("last", "ok", False),
    ]


def test_an_mfa_run_that_fails_as_a_whole_fails_its_rows(fake_mfa):
    # A failed MFA run is a setup fault, not a missing input of each item: its rows are errors, not rows
    # kept with their utterance-level cues (vowelprompt.missing).
    from conftest import EXAMPLE

    from vowelprompt.pipeline import AnnotateConfig, iter_annotate
    from vowelprompt.records import Utterance

    text = EXAMPLE.with_suffix(".txt").read_text()
    items = [
        Utterance(id="a", audio=str(EXAMPLE), text="failall now"),
        Utterance(id="b", audio=str(EXAMPLE), text=text),
    ]
    rows = list(iter_annotate(items, AnnotateConfig(aligner="mfa")))
    assert [(r.id, r.status) for r in rows] == [("a", "alignment_error"), ("b", "alignment_error")]
    assert rows[1].error.startswith("mfa align failed (exit status 1): ")
