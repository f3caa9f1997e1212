"""``--shard K/N`` and ``vowelprompt merge``: every item in exactly one shard whatever the order or the
machine, dialogues kept whole for predict, and merged shards equal to the run done in one piece."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_GUARD_S

from vowelprompt.cli import main
from vowelprompt.errors import ConfigError
from vowelprompt.records import Utterance
from vowelprompt.shards import Shard, shard_key, shard_of

#: Fields of an annotation row that depend on the alignment's times.


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def cli(capsys, *args: str, rc: int = 0) -> str:
    """Run ``vowelprompt *args`` in this process; its stderr."""
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == rc, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "text, problem",
    [
        ("0/4", "numbered from 1"),
        ("5/4", "1 ≤ K ≤ N"),
        ("1/0", "N ≥ 1"),
        ("2", "takes K/N"),
        ("a/b", "takes K/N"),
        ("1/2/3", "takes K/N"),
        ("-1/4", "takes K/N"),
    ],
)
def test_bad_shard_specs_are_one_line_errors(text, problem):
    with pytest.raises(ConfigError, match=problem) as info:
        Shard.parse(text)
    assert "\n" not in str(info.value)


def test_every_item_is_in_exactly_one_shard_whatever_the_order():
    items = [Utterance(f"Ses0{i % 5}_utt{i:04d}", f"{i}.wav") for i in range(600)]
    items += [
        Utterance(f"dia{d}_utt{t}", f"d{d}_{t}.mp4", dialogue=f"dia{d}", turn=t)
        for d in range(40)
        for t in range(6)
    ]
    shuffled = random.Random(1).sample(items, len(items))
    for n in (1, 2, 3, 7, 16):
        parts = [Shard(k, n).select(items) for k in range(1, n + 1)]
        ids = [u.id for part in parts for u in part]
        assert sorted(ids) == sorted(u.id for u in items)  # each once: none lost, none twice
        # The same partition from the inputs listed in another order (in that order).
        again = [[u.id for u in Shard(k, n).select(shuffled)] for k in range(1, n + 1)]
        assert [sorted(p) for p in again] == [sorted(u.id for u in p) for p in parts]
        for part in parts:  # a dialogue is never split
            for dialogue in {u.dialogue for u in part if u.dialogue}:
                assert sum(u.dialogue == dialogue for u in items) == sum(u.dialogue == dialogue for u in part)
        sizes = [len(p) for p in parts]
        assert max(sizes) < 1.5 * len(items) / n + 12  # roughly even (dialogues move 6 items at a time)


def test_the_shard_of_an_item_is_the_same_in_another_process():
    keys = [shard_key(Utterance(f"MSP-PODCAST_{i:04d}_{i % 7:04d}", "a.wav")) for i in range(200)]
    here = [shard_of(k, 8) for k in keys]
    code = f"from vowelprompt.shards import shard_of; print([shard_of(k, 8) for k in {keys!r}])"
    for seed in ("0", "12345"):  # str hashing differs between these; the shard must not
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_S,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin", **_pythonpath()},
        )
        assert json.loads(out.stdout) == here, out.stderr
    assert set(here) == set(range(1, 9))


def _pythonpath() -> dict[str, str]:
    import os

    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}


@pytest.fixture(scope="module")
def runs(corpus, tmp_path_factory) -> dict[str, Path]:
    """The corpus annotated in one piece and in 2 shards (shard 1 interrupted and resumed), and predicted
    from dialogues in one piece and in 2 shards; the paths of every output."""
    out = tmp_path_factory.mktemp("shards")
    paths = {"manifest": corpus, "whole": out / "ann.jsonl"}
    assert main(["annotate", str(corpus), "-q", "-o", str(paths["whole"])]) == 0
    for k in (1, 2):
        paths[f"ann{k}"] = out / f"ann.{k}.jsonl"
        assert main(["annotate", str(corpus), "-q", "--shard", f"{k}/2", "-o", str(paths[f"ann{k}"])]) == 0
    # A crash in the middle of shard 1's last row: --resume redoes only that one.
    torn = paths["ann1"].read_text().splitlines(keepends=True)
    paths["ann1"].write_text("".join(torn[:-1]) + torn[-1][:40])
    assert main(["annotate", str(corpus), "-q", "--shard", "1/2", "-o", str(paths["ann1"]), "--resume"]) == 0
    # Dialogues of two turns: the second turn's prompt shows the first as context.
    dialogues = out / "dialogues.jsonl"
    whole = rows(paths["whole"])
    for i, row in enumerate(whole):
        row.update(dialogue=f"dia{i // 2}", turn=i % 2)
    dialogues.write_text("".join(json.dumps(r) + "\n" for r in whole))
    paths["dialogues"] = dialogues
    predict = ["predict", str(dialogues), "-q", "--backend", "fake", "--template", "vowelprompt_context"]
    predict += ["--record-prompt", "--batch-size", "4"]
    paths["pred"] = out / "pred.jsonl"
    assert main([*predict, "-o", str(paths["pred"])]) == 0
    for k in (1, 2):
        paths[f"pred{k}"] = out / f"pred.{k}.jsonl"
        assert main([*predict, "--shard", f"{k}/2", "-o", str(paths[f"pred{k}"])]) == 0
    paths["pred2_hot"] = out / "pred.2.hot.jsonl"  # shard 2 again, sampled differently
    assert main([*predict, "--shard", "2/2", "--temperature", "0.7", "-o", str(paths["pred2_hot"])]) == 0
    paths["pred2_batch"] = out / "pred.2.batch.jsonl"  # shard 2 again, another batch size
    batch = [a if a != "4" else "3" for a in predict]
    assert main([*batch, "--shard", "2/2", "-o", str(paths["pred2_batch"])]) == 0
    return paths


@pytest.mark.slow  # the module's runs: ~15 s of annotation, once
def test_annotate_shards_merge_into_the_run_done_in_one_piece(runs, tmp_path, capsys):
    whole = rows(runs["whole"])
    parts = [rows(runs[f"ann{k}"]) for k in (1, 2)]
    assert sorted(r["id"] for p in parts for r in p) == sorted(r["id"] for r in whole)
    assert all(parts), "12 utterances in 2 shards: each should hold some"
    merged = tmp_path / "merged.jsonl"
    shards = [runs["ann2"], runs["ann1"]]
    err = cli(capsys, "merge", "-o", merged, *shards, "--manifest", runs["manifest"])
    got = rows(merged)
    assert [r["id"] for r in got] == [r["id"] for r in whole]  # in the manifest's order
    by_id = {r["id"]: r for p in parts for r in p}
    assert got == [by_id[r["id"]] for r in whole]  # the shards' rows as they were written
    assert got == whole  # row for row: an alignment does not depend on the recordings aligned before it
    assert f"merged 12 rows of annotations from 2 shards into {merged}" in err
    cli(capsys, "merge", "-o", merged, *shards, "--overwrite")  # without a manifest: shard order
    assert rows(merged) == [*parts[1], *parts[0]]
    assert not Path(f"{merged}.run.json").exists()


@pytest.mark.slow  # the module's runs: ~15 s of annotation, once
def test_predict_shards_keep_dialogues_whole_and_merge_with_their_manifest(runs, tmp_path, capsys):
    shard_of_id = {r["id"]: k for k in (1, 2) for r in rows(runs[f"pred{k}"])}
    dialogue_of = {r["id"]: r["dialogue"] for r in rows(runs["dialogues"])}
    for dialogue in set(dialogue_of.values()):
        assert len({shard_of_id[i] for i, d in dialogue_of.items() if d == dialogue}) == 1
    merged = tmp_path / "pred.jsonl"
    cli(capsys, "merge", "-o", merged, runs["pred2"], runs["pred1"], "--manifest", runs["dialogues"])
    whole = rows(runs["pred"])
    assert rows(merged) == whole  # the prompts too (--record-prompt): every context turn was there
    # Each second turn's prompt quotes its first turn as context (which the shard had to hold).
    ann = {r["id"]: r for r in rows(runs["dialogues"])}
    first = {r["dialogue"]: r for r in ann.values() if r["turn"] == 0}
    seconds = [r for r in whole if ann[r["id"]]["turn"] == 1]
    assert len(seconds) == 6
    for row in seconds:
        context = row["prompt"][-1]["content"].split("</context>")[0]
        assert f'"{first[ann[row["id"]]["dialogue"]]["text"]}"' in context
    manifest = json.loads(Path(f"{merged}.run.json").read_text())
    assert [s["output"] for s in manifest["shards"]] == [str(runs["pred2"]), str(runs["pred1"])]
    assert "--shard" in manifest["shards"][0]["command"]
    assert manifest["backend"] == "fake" and manifest["sampling"] == whole[0]["sampling"]


@pytest.mark.slow  # the module's runs: ~15 s of annotation, once
def test_merge_refuses_shards_that_are_not_one_runs(runs, tmp_path, capsys):
    out = tmp_path / "m.jsonl"
    twin = tmp_path / "twin.jsonl"
    shutil.copy(runs["ann2"], twin)
    first = rows(runs["ann2"])[0]["id"]
    cases = [
        ([runs["ann1"], runs["ann2"], twin], f"id {first!r} is in two shards"),
        ([runs["ann1"], runs["ann1"]], "is given twice"),
        ([runs["ann1"], runs["pred1"]], "a row of predictions, but the shards before it hold annotations"),
        ([runs["pred1"], runs["pred2_hot"]], "sampling"),
        ([runs["pred1"], runs["pred2_batch"]], "config"),
        ([runs["manifest"]], "not a row of annotate or predict output"),
    ]
    for shards, problem in cases:
        err = cli(capsys, "merge", "-o", out, *shards, rc=2)
        assert problem in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists()
    assert "differs from" in cli(capsys, "merge", "-o", out, runs["pred1"], runs["pred2_hot"], rc=2)


@pytest.mark.slow  # the module's runs: ~15 s of annotation, once
def test_merge_of_a_torn_or_incomplete_run(runs, tmp_path, capsys):
    out = tmp_path / "m.jsonl"
    torn = tmp_path / "torn.jsonl"
    text = runs["ann2"].read_text()
    torn.write_text(text[: len(text) - 30])
    lines = len(text.splitlines())
    err = cli(capsys, "merge", "-o", out, runs["ann1"], torn, rc=2)
    assert f"{torn}:{lines}: not valid JSON" in err and "--resume" in err
    err = cli(capsys, "merge", "-o", out, runs["ann1"], "--manifest", runs["manifest"], rc=2)
    held = {r["id"] for r in rows(runs["ann2"])}
    assert f"{len(held)} inputs of --manifest in no shard" in err and len(held) > 1
    assert not out.exists()
    err = cli(
        capsys,
        "merge",
        "-o",
        out,
        runs["ann1"],
        "--manifest",
        runs["manifest"],
        "--allow-missing",
        rc=1,
    )
    assert {r["id"] for r in rows(out)} == {r["id"] for r in rows(runs["whole"])} - held
    assert all(i in err for i in held)
    err = cli(capsys, "merge", "-o", out, runs["ann1"], rc=2)
    assert "already holds rows: pass --overwrite" in err
    err = cli(capsys, "merge", "-o", runs["ann1"], runs["ann2"], runs["ann1"], "--overwrite", rc=2)
    assert "is one of the inputs" in err
    # Rows of other inputs than the manifest's.
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"audio": "x.wav"}) + "\n")
    err = cli(capsys, "merge", "-o", out, runs["ann1"], "--manifest", other, "--overwrite", rc=2)
    assert "not among the inputs given with --manifest" in err


@pytest.mark.slow  # the module's runs: ~15 s of annotation, once
def test_a_retried_row_replaces_the_failed_one_but_a_plain_repeat_is_an_error(runs, tmp_path, capsys):
    preds = rows(runs["pred1"])
    failed = {**preds[0], "status": "backend_error", "label": None, "raw": "", "error": "server unreachable"}
    retried = tmp_path / "retried.jsonl"
    retried.write_text("".join(json.dumps(r) + "\n" for r in [failed, *preds]))
    shutil.copy(f"{runs['pred1']}.run.json", f"{retried}.run.json")
    out = tmp_path / "m.jsonl"
    err = cli(capsys, "merge", "-o", out, retried, runs["pred2"])
    assert "1 retried row replaced" in err
    assert rows(out) == [*preds, *rows(runs["pred2"])]
    twice = tmp_path / "twice.jsonl"
    twice.write_text("".join(json.dumps(r) + "\n" for r in [preds[0], *preds]))
    shutil.copy(f"{runs['pred1']}.run.json", f"{twice}.run.json")
    err = cli(capsys, "merge", "-o", tmp_path / "n.jsonl", twice, rc=2)
    assert f"{twice}:2: id {preds[0]['id']!r} appears twice in this shard" in err
    bare = tmp_path / "bare.jsonl"
    shutil.copy(runs["pred1"], bare)  # without its run manifest
    err = cli(capsys, "merge", "-o", tmp_path / "n.jsonl", runs["pred2"], bare, rc=2)
    assert f"{bare}.run.json is missing, but other shards have their run manifest" in err


def test_shard_on_the_command_line(corpus, capsys):
    err = cli(capsys, "annotate", corpus, "--shard", "4/3", rc=2)
    assert err.strip() == "vowelprompt: error: --shard K/N needs 1 ≤ K ≤ N; got 4/3"
    err = cli(capsys, "predict", corpus, "--backend", "fake", "--shard", "1-2", rc=2)
    assert "--shard takes K/N" in err and "SLURM_ARRAY_TASK_ID" in err
