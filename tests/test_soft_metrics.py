"""Scores beyond one label against hand-computed values on literal inputs (the arithmetic is in the
comments), and ``vowelprompt evaluate --gold`` scoring a hand-written manifest with votes, ratings and
blends."""

from __future__ import annotations

import json
import math

import pytest

from vowelprompt import soft_metrics as sm
from vowelprompt.errors import ConfigError
from vowelprompt.evaluation import evaluate
from vowelprompt.labels import get_label_set
from vowelprompt.records import Prediction
from vowelprompt.soft_evaluation import vote_counts


def test_bhattacharyya_jensen_shannon_kl_by_hand():
    # item 1 identical: √(.5·.5)+√(.5·.5) = 1; item 2: √(1·.25) + √(0·.75) = .5 → mean .75
    gold = [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]
    pred = [[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]]
    assert sm.bhattacharyya(gold, pred) == pytest.approx(0.75)
    # disjoint [1,0] vs [0,1]: m = [.5,.5], KL(g‖m) = log2(1/.5) = 1 bit, same for p → JSD 1; identical → 0
    assert sm.jensen_shannon([[1, 0], [0.3, 0.7]], [[0, 1], [0.3, 0.7]]) == pytest.approx(0.5)
    # g = [1,0], p = [.5,.5]: m = [.75,.25]; KL(g‖m) = log2(4/3) = .415037;
    # KL(p‖m) = .5·log2(.5/.75) + .5·log2(.5/.25) = .5·(-.584963) + .5 = .207519 → JSD = .311278
    assert sm.jensen_shannon([[1, 0]], [[0.5, 0.5]]) == pytest.approx(0.311278, abs=1e-6)
    # KL(g‖p), g = [.5,.5], p = [.25,.75]: .5·ln 2 + .5·ln(.5/.75) = .346574 - .202733 = .143841 nats
    assert sm.kl_divergence([[0.5, 0.5]], [[0.25, 0.75]]) == pytest.approx(0.143841, abs=1e-6)
    # a zero predicted where gold has mass costs ln(1/EPS) = ln(1e6) = 13.8155, not infinity
    assert sm.kl_divergence([[1, 0]], [[0, 1]]) == pytest.approx(math.log(1e6))


def test_r_squared_over_flattened_distributions():
    # gold values 1,0,0,1 (mean .5): SS_tot = 4·.25 = 1; residuals .25,.25,.5,.5 → SS_res = .625 → R² = .375
    assert sm.r_squared([[1, 0], [0, 1]], [[0.75, 0.25], [0.5, 0.5]]) == pytest.approx(0.375)
    assert sm.r_squared([[0.5, 0.5]], [[0.4, 0.6]]) is None  # every gold value .5: SS_tot = 0
    with pytest.raises(ConfigError, match="no gold distributions"):
        sm.r_squared([], [])


def test_calibration_by_hand():
    pred = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]]
    gold = [0, 1, 1]
    c = sm.calibration(pred, gold)
    # confidences .9/.6/.7 fall in bins 14, 9, 11 of 15 (one item each); right, wrong, right:
    # ECE = (|1-.9| + |0-.6| + |1-.7|) / 3 = 1/3
    assert c["ece"] == pytest.approx(1 / 3)
    # Brier: (.1² + .1²) + (.6² + .6²) + (.3² + .3²) = .02 + .72 + .18 = .92 → /3
    assert c["brier"] == pytest.approx(0.92 / 3)
    # NLL: -(ln .9 + ln .4 + ln .7)/3 = (.105361 + .916291 + .356675)/3 = .459442
    assert c["nll"] == pytest.approx(0.459442, abs=1e-6)
    assert c["accuracy"] == pytest.approx(2 / 3) and c["n"] == 3
    # two items in one bin (confidence .8): accuracy .5 vs confidence .8 → ECE .3
    assert sm.calibration([[0.8, 0.2], [0.8, 0.2]], [0, 1])["ece"] == pytest.approx(0.3)


def test_annotator_accuracy_and_ambiguity_levels():
    # sad got a vote (right); nobody voted happy (wrong); invalid is wrong → 1/3
    votes = [{"sad": 2, "angry": 1}, {"angry": 3}, {"sad": 1}]
    assert sm.annotator_accuracy(["sad", "happy", None], votes) == pytest.approx(1 / 3)
    # agreement = top share: 3/4 → high; 2/4 → medium; 3/5 → medium; 2/5 → low; 1/1 → high
    assert [sm.ambiguity_level(v) for v in ([3, 1, 0], [2, 2], [3, 2], [2, 1, 1, 1], [4])] == [
        "high",
        "medium",
        "medium",
        "low",
        "high",
    ]
    with pytest.raises(ConfigError, match="no rater votes"):
        sm.agreement([0, 0])


def test_ccc_and_pearson_what_they_are_invariant_to():
    g = [1.0, 2.0, 3.0]
    assert sm.ccc(g, g) == pytest.approx(1.0)
    # shifted by 1: var g = var p = 2/3, cov = 2/3, (Δmean)² = 1 → 2·(2/3)/(2/3+2/3+1) = 4/7; r stays 1
    shifted = [x + 1 for x in g]
    assert sm.ccc(g, shifted) == pytest.approx(4 / 7) and sm.pearson(g, shifted) == pytest.approx(1.0)
    # scaled ×2: var p = 8/3, cov = 4/3, (2-4)² = 4 → (8/3)/(2/3+8/3+4) = 4/11; r stays 1
    scaled = [2 * x for x in g]
    assert sm.ccc(g, scaled) == pytest.approx(4 / 11) and sm.pearson(g, scaled) == pytest.approx(1.0)
    # g = 1,2,3,4 and p = 2,1,4,3: same means 2.5 and variances 1.25, cov = .75 → r = CCC = .6; MAE 1
    g4, p4 = [1, 2, 3, 4], [2, 1, 4, 3]
    assert sm.pearson(g4, p4) == pytest.approx(0.6) and sm.ccc(g4, p4) == pytest.approx(0.6)
    assert sm.mae(g4, p4) == pytest.approx(1.0)
    assert sm.ccc(p4, g4) == pytest.approx(sm.ccc(g4, p4))  # symmetric
    assert sm.ccc(g4, [*scaled, 8]) == pytest.approx(sm.ccc([*scaled, 8], g4))
    assert sm.pearson(g4, [3 * x + 5 for x in p4]) == pytest.approx(0.6)  # positive affine map
    assert sm.pearson(g4, [5, 5, 5, 5]) is None  # undefined, not NaN
    d = sm.dimension_scores({"valence": g4, "arousal": g}, {"valence": p4, "arousal": shifted})
    assert d["mean_ccc"] == pytest.approx((0.6 + 4 / 7) / 2)
    with pytest.raises(ConfigError, match="no ratings"):
        sm.ccc([], [])


def test_blend_presence_and_salience_as_blemore_defines_them():
    gold = [{"happy": 70, "sad": 30}, {"angry": 50, "fear": 50}, {"happy": 100}]
    # same set, swapped salience (presence right, salience wrong); one emotion for a blend (both wrong);
    # the single emotion right (presence right; not a two-emotion item for salience)
    pred = [{"sad": 70, "happy": 30}, {"angry": 100}, {"happy": 100}]
    assert sm.presence_accuracy(gold, pred) == pytest.approx(2 / 3)
    assert sm.salience_accuracy(gold, pred) == (0.0, 2)
    right = [{"sad": 30, "happy": 70}, {"fear": 50.2, "angry": 49.8}, None]  # rounded 50/50; None invalid
    assert sm.salience_accuracy(gold, right) == (1.0, 2)
    assert sm.presence_accuracy(gold, right) == pytest.approx(2 / 3)
    assert sm.salience_accuracy([{"happy": 100}], [{"happy": 100}]) == (None, 0)


def test_votes_read_by_label_or_corpus_code_and_the_rest_counted():
    iemocap4 = get_label_set("iemocap4")
    counts, dropped = vote_counts(
        {"dataset": "iemocap", "label_votes": {"neu": 2, "fru": 1, "Sad": 1, "oth": 1}}, iemocap4
    )
    assert counts == {"neutral": 2, "sad": 1} and dropped == {"fru": 1, "oth": 1}
    # the votes `prepare iemocap` writes for Ses05M_script01_1_M000: excited folds into happy in iemocap4 only
    row = {"dataset": "iemocap", "label_votes": {"exc": 2, "hap": 1}}
    assert vote_counts(row, iemocap4)[0] == {"happy": 3}
    assert vote_counts(row, get_label_set("iemocap6"))[0] == {"excited": 2, "happy": 1}
    # MSP-Podcast letters (A angry, C contempt: not in iemocap4)
    counts, dropped = vote_counts(
        {"dataset": "msp-podcast", "label_votes": {"A": 2, "happy": 1, "C": 1}}, iemocap4
    )
    assert counts == {"angry": 2, "happy": 1} and dropped == {"C": 1}


def _p(pid, label, gold, **kw):
    return Prediction(id=pid, status="ok", label=label, gold=gold, label_set="iemocap4", **kw)


def test_evaluate_without_anything_to_score_beyond_one_label_is_unchanged():
    result = evaluate([_p("a", "sad", "sad"), _p("b", "sad", "angry")])
    assert result.extra == {} and result.scores.accuracy == 0.5


def test_ratings_only_run_scores_dimensions_and_no_label_table():
    preds = [
        Prediction(id=i, status="ok", task="dimensions", label_set="iemocap4", ratings={"valence": v})
        for i, v in (("a", 1.0), ("b", 2.0), ("c", 3.0))
    ]
    rows = {i: {"id": i, "label": "sad", "vad": {"valence": v}} for i, v in (("a", 2), ("b", 3), ("c", 4))}
    unrated = Prediction(id="c", status="invalid", task="dimensions", label_set="iemocap4")
    result = evaluate([*preds, unrated], labels=None, gold_rows=rows)
    assert result.scores is None
    # gold 2,3,4 vs 1,2,3: a shift by 1 → CCC 4/7 (as above); the unrated row is counted, not scored
    assert result.extra["dimensions"]["per_dimension"]["valence"]["ccc"] == pytest.approx(4 / 7)
    assert result.extra["dimensions"]["unrated"] == 1
    assert "1 prediction asked for ratings gave none (invalid): not in the dimension scores" in result.notes
    with pytest.raises(ConfigError, match="nothing to score"):
        evaluate(preds, gold_rows={i: {"id": i, "label": "sad"} for i in "abc"})


def test_cli_scores_votes_ratings_blends_and_inputs(tmp_path, capsys):
    manifest = tmp_path / "manifest.jsonl"
    gold_rows = [
        # a: unanimous sad; b: 2 angry, 1 sad, 1 'fru' (outside iemocap4: dropped) → agreement 2/3, medium;
        # c: 1 happy, 1 neutral, 1 sad, 1 angry → .25, low
        {"id": "a", "dataset": "iemocap", "label": "sad", "label_votes": {"sad": 3}, "vad": {"valence": 1.5}},
        {"id": "b", "dataset": "iemocap", "label": "angry", "label_votes": {"ang": 2, "sad": 1, "fru": 1}},
        {"id": "c", "label": "happy", "label_votes": {"happy": 1, "neutral": 1, "sad": 1, "angry": 1}},
        {"id": "d", "label": "happy", "blend": {"happy": 70, "sad": 30}, "vad": {"valence": 4.0}},
    ]
    manifest.write_text("".join(json.dumps(r) + "\n" for r in gold_rows))
    preds = [
        _p(
            "a",
            "sad",
            None,
            distribution={"sad": 1.0},
            distribution_from="logprobs",
            inputs=("transcript", "vowels"),
        ),
        _p(
            "b",
            "sad",
            None,
            distribution={"angry": 0.5, "sad": 0.5},
            distribution_from="logprobs",
            inputs=("vowels",),
        ),
        _p("c", "neutral", None, distribution={"neutral": 1.0}, inputs=("vowels",)),
        _p("d", "happy", None, task="blend", blend={"happy": 70, "sad": 30}, inputs=("vowels",)),
        Prediction(id="a", status="ok", task="dimensions", label_set="iemocap4", ratings={"valence": 2.0}),
        Prediction(id="d", status="ok", task="dimensions", label_set="iemocap4", ratings={"valence": 4.0}),
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in preds))
    from vowelprompt.cli import main  # in-process: scikit-learn is imported once for the whole file

    assert main(["evaluate", str(path), "--gold", str(manifest)]) == 0
    printed = capsys.readouterr()
    assert "annotator-aware accuracy" in printed.out and "mean CCC" in printed.out and not printed.err
    assert "1 rater vote under keys outside iemocap4 was dropped" in printed.out
    report = json.loads((tmp_path / "p.scores.json").read_text())
    assert report["n"] == 4 and report["accuracy"] == pytest.approx(2 / 4)  # existing keys unchanged
    d = report["distribution"]
    # soft gold a [sad 1], b [angry 2/3, sad 1/3], c [¼ each]; BC: a 1; b √(2/3·½)+√(1/3·½) = .985599;
    # c √(¼·1) = .5 → mean .828533
    assert d["from"] == {"logprobs": 2, "unknown": 1}
    assert d["n"] == 3 and d["bhattacharyya"] == pytest.approx((1 + 0.985599 + 0.5) / 3, abs=1e-6)
    # calibration over a, b, c (hard gold sad, angry, happy): top classes sad (.1 → conf 1), angry (tie:
    # first in label order, conf .5), neutral (conf 1): right, right, wrong → accuracy 2/3
    assert report["calibration"]["accuracy"] == pytest.approx(2 / 3)
    # annotator-aware: a sad ✓, b sad ✓ (one rater), c neutral ✓ (one rater), d no votes → 3/3
    assert report["annotator_accuracy"] == {"n": 3, "accuracy": 1.0}
    levels = report["by_ambiguity"]
    assert {k: v["n"] for k, v in levels.items()} == {"high": 1, "medium": 1, "low": 1}
    assert levels["medium"]["accuracy"] == 0.0 and levels["medium"]["annotator_accuracy"] == 1.0
    dims = report["dimensions"]["per_dimension"]["valence"]
    # gold 1.5, 4 vs 2, 4: MAE .25; CCC: means 2.75/3, var 1.5625/1, cov 1.25 → 2.5/(2.5625+.0625) = .952381
    assert dims["n"] == 2 and dims["mae"] == pytest.approx(0.25) and dims["ccc"] == pytest.approx(2.5 / 2.625)
    assert report["blend"]["presence_accuracy"] == 1.0 and report["blend"]["salience_accuracy"] == 1.0
    assert set(report["by_inputs"]) == {"transcript+vowels", "vowels"}
    assert report["by_inputs"]["vowels"]["n"] == 3


def test_distributions_are_mapped_across_label_sets_and_bad_ones_left_out():
    preds = [
        _p("a", "happy", None, distribution={"happy": 0.6, "sad": 0.4}),
        _p("b", "sad", None, distribution={"sad": 1.5}),  # not a probability: left out, with a note
    ]
    rows = {
        "a": {"id": "a", "label": "joy", "label_votes": {"joy": 1, "sadness": 1}},
        "b": {"id": "b", "label": "sadness", "label_votes": {"sadness": 2}},
    }
    result = evaluate(preds, labels="meld7", map_from="iemocap4", gold_rows=rows)
    # iemocap4 → meld7: happy → joy, sad → sadness; BC = √(.5·.6) + √(.5·.4) = .547723 + .447214 = .994936
    assert result.extra["distribution"]["n"] == 1
    assert result.extra["distribution"]["bhattacharyya"] == pytest.approx(0.994936, abs=1e-6)
    assert any("1 distribution had no probability" in n for n in result.notes)
    assert result.scores.accuracy == 1.0 and result.extra["annotator_accuracy"]["n"] == 2
