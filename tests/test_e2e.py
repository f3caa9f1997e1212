"""End to end as a user runs it: synthesised speech → annotate → predict with SmolLM2-135M through
transformers → evaluate. The tiny model is not expected to be accurate; what is checked is that every
input yields a scored, reproducible row and that the files a user reads are all there."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import HANG_GUARD_S, LLM_INSTALL, LLM_MODULES, REPO, require, write_wav

require(LLM_MODULES, LLM_INSTALL, module_level=True)

LABELED = [
    ("Please put the blue folder on the table next to the window.", "en-us+m3", 150, "neutral"),
    ("My neighbour painted his fence a pale shade of green last weekend.", "en-gb+f2", 200, "happy"),
    ("The morning train leaves the station before the sun comes up.", "en-us+f3", 240, "angry"),
]


def cli(*args: str, rc: int = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "vowelprompt.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == rc, proc.stderr
    return proc


@pytest.fixture(scope="module")
def manifest(synth, tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    rows = []
    for i, (text, voice, rate, label) in enumerate(LABELED):
        utt = synth.synthesize(text, voice=voice, rate_wpm=rate)
        write_wav(folder / f"u{i}.wav", utt.samples, utt.sr)
        rows.append(
            {
                "id": f"u{i}",
                "audio": f"u{i}.wav",
                "text": text,
                "speaker": voice,
                "label": label,
                "dialogue": "d0",
                "turn": i,
            }
        )
    rows.append({"id": "missing", "audio": "missing.wav", "text": "gone", "label": "sad"})
    path = folder / "manifest.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_annotate_predict_evaluate(manifest, tmp_path):
    annotated = tmp_path / "annotated.jsonl"
    cli("annotate", str(manifest), "-o", str(annotated), "-q", rc=1)  # 'missing' fails, its row is kept
    preds = tmp_path / "preds.jsonl"
    cli(
        "predict",
        str(annotated),
        "--model",
        "smollm2-135m",
        "--backend",
        "transformers",
        "--template",
        "vowelprompt_context",
        "--max-new-tokens",
        "48",
        "-o",
        str(preds),
        "-q",
        rc=1,
    )
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["missing", "u0", "u1", "u2"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["missing"]["status"] == "input_error"
    for uid in ("u0", "u1", "u2"):
        r = by_id[uid]
        assert r["status"] in {"ok", "repaired", "invalid"} and r["raw"]
        assert r["label"] is None or r["label"] in {"neutral", "happy", "angry", "sad"}
        assert (r["model"], r["backend"], r["template"]["name"]) == (
            "smollm2-135m",
            "transformers",
            "vowelprompt_context",
        )
    run = json.loads((tmp_path / "preds.jsonl.run.json").read_text())
    assert run["packages"]["torch"] and run["sampling"]["seed"] == 0 and run["template"]["hash"]

    # Greedy decoding is reproducible: a second run gives the same raw outputs.
    again = tmp_path / "again.jsonl"
    cli(
        "predict",
        str(annotated),
        "--model",
        "smollm2-135m",
        "--template",
        "vowelprompt_context",
        "--max-new-tokens",
        "48",
        "-o",
        str(again),
        "-q",
        rc=1,
    )
    assert {r["id"]: r["raw"] for r in map(json.loads, again.read_text().splitlines())} == {
        r["id"]: r["raw"] for r in rows
    }

    out = cli("evaluate", str(preds)).stdout
    assert "weighted F1" in out and "invalid outputs" in out
    scores = json.loads((tmp_path / "preds.scores.json").read_text())
    assert scores["n"] == 4  # the failed input is scored as wrong, not dropped
    assert scores["invalid_rate"] >= 0.25
    assert (tmp_path / "preds.confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_predict_annotates_audio_on_the_fly_and_resumes(manifest, tmp_path):
    preds = tmp_path / "preds.jsonl"
    args = (
        "predict",
        str(manifest),
        "--template",
        "speechcue",
        "--max-new-tokens",
        "24",
        "--output-format",
        "json",
    )
    cli(*args, "-o", str(preds), "-q", rc=1)
    first = {r["id"]: r for r in map(json.loads, preds.read_text().splitlines())}
    assert len(first) == 4 and first["missing"]["status"] == "input_error"
    # A missing file is the item's own fault: final. A row the backend failed on is redone (once).
    lines = preds.read_text().splitlines()
    redo = next(
        i for i, line in enumerate(lines) if json.loads(line)["status"] in ("ok", "repaired", "invalid")
    )
    failed = {**json.loads(lines[redo]), "status": "backend_error", "label": None, "error": "server down"}
    lines[redo] = json.dumps(failed)
    preds.write_text("\n".join(lines) + "\n")
    proc = cli(*args, "-o", str(preds), "--resume", rc=0)
    assert "wrote 1 prediction to" in proc.stderr and "input_error" not in proc.stderr
    after = [json.loads(line) for line in preds.read_text().splitlines()]
    assert sorted(r["id"] for r in after) == sorted(first)
    redone = failed["id"]
    assert all(r == first[r["id"]] for r in after if r["id"] != redone)
    assert next(r for r in after if r["id"] == redone)["status"] in ("ok", "repaired", "invalid")
