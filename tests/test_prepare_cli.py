"""``vowelprompt prepare`` as users run it (real processes, the small IEMOCAP and MELD trees of
test_prepare_iemocap.py and test_prepare_meld.py), and ``annotate`` on what it wrote: a row's ``error``
becomes that item's ``input_error``, a ``.phseg`` alignment gives the vowels Sphinx found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLE
from test_cli import rows, run
from test_prepare_iemocap import build_iemocap
from test_prepare_meld import build_meld


@pytest.fixture(scope="module")
def trees(tmp_path_factory, synth) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("corpora")
    spoken = build_iemocap(root / "iemocap", synth)
    build_meld(root / "meld", synth)
    return root / "iemocap", root / "meld", spoken


def one_line_error(proc) -> str:
    assert proc.stderr.startswith("vowelprompt: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


def test_prepare_writes_the_manifest_and_a_summary(trees, tmp_path):
    iemocap, meld, _ = trees
    manifest = tmp_path / "iemocap.jsonl"
    proc = run("prepare", "iemocap", str(iemocap), "-o", str(manifest), check_rc=1)  # one row has an error
    written = rows(manifest)
    assert len(written) == 5 and len({r["id"] for r in written}) == 5
    assert proc.stderr.splitlines()[0] == "5 rows, 4 usable"
    assert "skipped 1: code 'xxx' is outside iemocap4 (Ses01F_impro01_F001)" in proc.stderr
    assert proc.stderr.rstrip().endswith(f"5 rows -> {manifest}")
    again = run("prepare", "iemocap", str(iemocap), "-o", str(manifest), check_rc=2)
    assert "already has rows; pass --overwrite" in one_line_error(again)
    run(
        "prepare",
        "iemocap",
        str(iemocap),
        "-o",
        str(manifest),
        "--labels",
        "iemocap6",
        "--overwrite",
        check_rc=1,
    )
    assert {r["label_set"] for r in rows(manifest)} == {"iemocap6"} and len(rows(manifest)) == 6
    out = tmp_path / "meld.jsonl"
    proc = run("prepare", "meld", str(meld), "-o", str(out), check_rc=1)
    assert [r["id"] for r in rows(out)][-2:] == ["meld-dev-dia0_utt0", "meld-test-dia0_utt0"]
    assert "skipped 1: media without a CSV row (train-dia7_utt3)" in proc.stderr


def test_prepare_refusals_are_one_line(trees, tmp_path):
    iemocap, meld, _ = trees
    out = str(tmp_path / "m.jsonl")
    unknown = one_line_error(run("prepare", "iemokap", str(iemocap), "-o", out, check_rc=2))
    assert "unknown corpus 'iemokap'; choose one of: iemocap, meld, emodb" in unknown
    assert "is not IEMOCAP: expected Session1" in one_line_error(
        run("prepare", "iemocap", str(meld), "-o", out, check_rc=2)
    )
    assert "is not MELD: expected" in one_line_error(
        run("prepare", "meld", str(iemocap), "-o", out, check_rc=2)
    )
    missing = one_line_error(run("prepare", "meld", str(tmp_path / "nowhere"), "-o", out, check_rc=2))
    assert "nowhere: no such folder" in missing
    bad_labels = one_line_error(run("prepare", "meld", str(meld), "-o", out, "--labels", "meld9", check_rc=2))
    assert "unknown label set 'meld9'" in bad_labels
    corpus_file = next(iemocap.rglob("Ses01F_impro01.txt"))
    before = corpus_file.read_bytes()
    proc = run("prepare", "iemocap", str(iemocap), "-o", str(corpus_file), "--overwrite", check_rc=2)
    assert "is a file of the corpus" in one_line_error(proc)
    assert corpus_file.read_bytes() == before
    assert not Path(out).exists()


def test_annotate_reads_the_prepared_rows(trees, tmp_path):
    """A row with ``error`` is an ``input_error`` with that reason; a ``.phseg`` alignment is used as is."""
    iemocap, _, spoken = trees
    manifest = tmp_path / "iemocap.jsonl"
    run("prepare", "iemocap", str(iemocap), "-o", str(manifest), check_rc=1)
    chosen = [r for r in rows(manifest) if r["id"].endswith(("impro01_F000", "impro01_F002"))]
    chosen.append(
        {"id": "by-hand", "audio": str(EXAMPLE), "text": "happy day", "error": "held out:  by hand"}
    )
    chosen.append({"id": "bad-error", "audio": str(EXAMPLE), "text": "happy day", "error": 3})
    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(json.dumps(r) + "\n" for r in chosen))
    out = tmp_path / "annotated.jsonl"
    run("annotate", str(subset), "-o", str(out), "-q", check_rc=1)
    got = {r["id"]: r for r in rows(out)}
    aligned = got["iemocap-Ses01F_impro01_F000"]
    assert (aligned["status"], aligned["aligner"]) == ("ok", "phseg")
    assert [v["span"]["ipa"] for v in aligned["vowels"]] == ["ɛ", "u", "i"]
    truth = [p for p in spoken["Ses01F_impro01_F000"].phones if p.is_vowel]
    for vowel, want in zip(aligned["vowels"], truth, strict=True):
        assert vowel["span"]["start_s"] == pytest.approx(want.start_s, abs=0.006)
    missing = got["iemocap-Ses01F_impro01_F002"]
    assert missing["status"] == "input_error" and "media file missing: " in missing["error"]
    assert (missing["speaker"], missing["label"], missing["dialogue"], missing["turn"]) == (
        "Ses01F",
        "angry",
        "Ses01F_impro01",
        4,
    )
    assert got["by-hand"]["status"] == "input_error" and got["by-hand"]["error"].endswith("held out: by hand")
    assert got["bad-error"]["status"] == "input_error" and "'error' must be text" in got["bad-error"]["error"]
