"""Every annotation row says where its transcript came from; numerals in a given transcript are flagged."""

from __future__ import annotations

import json
import shutil

from conftest import EXAMPLE, write_wav
from test_cli import rows, run

from vowelprompt import annotate

TEXT = "It's a beautiful day and I'm really happy to see you again."


def test_each_source_of_a_transcript_is_recorded(tmp_path):
    sidecar = tmp_path / "sidecar.wav"
    shutil.copy(EXAMPLE, sidecar)
    (tmp_path / "sidecar.txt").write_text(TEXT + "\n", encoding="utf-8")
    listed = shutil.copy(EXAMPLE, tmp_path / "listed.wav")  # no sidecar: the manifest has the words
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(
        json.dumps({"id": "listed", "audio": "listed.wav", "text": TEXT})
        + "\n"
        + json.dumps({"id": "sidecar", "audio": "sidecar.wav"})
        + "\n",
        encoding="utf-8",
    )
    run("annotate", str(manifest), "-o", str(tmp_path / "out.jsonl"), "--quiet")
    by_id = {r["id"]: r for r in rows(tmp_path / "out.jsonl")}
    assert by_id["listed"]["transcript_source"] == {"from": "manifest"}
    assert by_id["sidecar"]["transcript_source"] == {"from": "sidecar", "path": str(tmp_path / "sidecar.txt")}

    given = json.loads(run("annotate", str(listed), "--text", TEXT, "--json").stdout)
    assert given["status"] == "ok" and given["transcript_source"] == {"from": "command line"}
    assert annotate(listed, TEXT).transcript_source == {"from": "caller"}


def test_numerals_in_a_given_transcript_are_flagged(tmp_path, synth):
    utt = synth.synthesize("Go forward 10 meters and turn left.", voice="en-us", rate_wpm=160)
    path = write_wav(tmp_path / "numbers.wav", utt.samples, utt.sr)
    row = annotate(path, "Go forward 10 meters and turn left.")
    assert row.status == "ok", row.error
    flagged = [w for w in row.warnings if w.startswith("numerals")]
    assert len(flagged) == 1 and "(10)" in flagged[0]
    assert not [w for w in annotate(path, "Go forward ten meters and turn left.").warnings if "numerals" in w]
