"""Rewards with literal completions, in TRL's calling convention (keyword arguments, plain or chat)."""

from __future__ import annotations

import pytest

from vowelprompt.rewards import (
    REWARDS,
    accuracy_reward,
    blend_reward,
    cited_pairs,
    format_reward,
    grounding_reward,
    rating_reward,
)
from vowelprompt.verbalize import read_cues

PROMPT = [
    {"role": "system", "content": "You are an expert."},
    {
        "role": "user",
        "content": (
            "<utterance>That is great</utterance>\n"
            'The vowel /æ/ in "That" has a flat pitch slope, low pitch with low variation, '
            "low intensity with medium variation, and short duration.\n"
            'The vowel /eɪ/ in "great" has a steeply rising pitch slope, very high pitch with high '
            "variation, high intensity with low variation, and very long duration."
        ),
    },
]


def chat(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def test_accuracy_uses_the_evaluation_parser():
    acc = accuracy_reward("iemocap4")
    completions = [
        "<think>x</think><answer>happy</answer>",
        "<think>x</think><answer>joy</answer>",  # synonym: same label as evaluate would give
        "<think>x</think><answer>sad</answer>",
        "garbage",
    ]
    assert acc(completions=completions, label=["happy", "excited", "happy", "happy"]) == [1.0, 1.0, 0.0, 0.0]
    assert acc(completions=[chat("<answer>angry</answer>")], label=["angry"]) == [1.0]  # conversational
    assert acc.__name__ == "accuracy"


def test_format_is_strict():
    fmt = format_reward()
    texts = [
        "<think>a</think><answer>sad</answer>",
        "<answer>sad</answer>",
        "<think>a</think>sad",
        "<think>a</think><answer>sad</answer><answer>sad</answer>",
    ]
    assert fmt(completions=texts) == [1.0, 0.0, 0.0, 0.0]


def test_prompt_cues_read_the_vowel_sentences():
    cues = read_cues(PROMPT[1]["content"])
    assert cues["great"] == {"rising", "very high pitch", "high intensity", "very long duration"}
    assert cues["that"] == {"flat", "low pitch", "low intensity", "short duration"}


def test_grounding_rewards_true_cues_and_punishes_invented_ones():
    g = grounding_reward()
    completions = [
        chat('<think>"great" has very high pitch and a rising contour.</think><answer>happy</answer>'),
        chat("<think>The words sound positive.</think><answer>happy</answer>"),  # cites nothing
        chat("<think>great has low pitch.</think><answer>sad</answer>"),  # a cue it does not have
        chat("<think>great has very high pitch. That has very long duration.</think><answer>happy</answer>"),
        chat("<think>That: low intensity; great: very long duration.</think><answer>happy</answer>"),
    ]
    assert g(prompts=[PROMPT] * 5, completions=completions) == [1.0, 0.0, 0.0, 0.0, 1.0]


def test_cited_pairs_keep_clauses_apart():
    pairs = cited_pairs("that is quiet, but great has high intensity", {"that", "great"})
    assert pairs == {("great", "high intensity")}


def test_rating_reward_is_one_minus_the_scaled_absolute_error():
    reward = rating_reward()
    gold = {"valence": 2.0, "arousal": 4.0, "dominance": 3.0}
    completions = [
        "<think>x</think><answer>valence=2, arousal=4, dominance=3</answer>",  # exact
        "<think>x</think><answer>valence=3, arousal=4, dominance=3</answer>",  # 1 off on a range of 4
        "<think>x</think><answer>valence=2, arousal=4</answer>",  # dominance missing: its largest error
        "<think>x</think><answer>calm</answer>",  # invalid
        chat("<answer>V=5, A=1, D=5</answer>"),  # errors 3/4, 3/4 and 2/4
    ]
    expected = [1.0, 1 - 0.25 / 3, 1 - 1 / 3, 0.0, 1 - (0.75 + 0.75 + 0.5) / 3]
    assert reward(completions=completions, vad=[gold] * 5) == pytest.approx(expected)
    assert reward(completions=completions[:1], vad=[None]) == [0.0]  # no gold ratings for this row
    assert reward(completions=completions[1:2], vad=[{"valence": 2.0}]) == [0.75]  # only what gold has
    seven = rating_reward(scale="1-7")  # MSP-Podcast: the error is scaled by a range of 6
    one = ["<answer>valence=7, arousal=1, dominance=4</answer>"]
    low = {"valence": 1, "arousal": 1, "dominance": 4}
    assert seven(completions=one, vad=[low]) == pytest.approx([2 / 3])
    assert reward.__name__ == "rating"


def test_blend_reward_credits_the_right_set_and_the_right_salience():
    reward = blend_reward("iemocap4")
    completions = [
        "<think>x</think><answer>happy 70, sad 30</answer>",
        "<think>x</think><answer>sad 50, joy 50</answer>",  # right labels, wrong salience
        "<think>x</think><answer>happy 70, angry 30</answer>",
        "<think>x</think><answer>happy 40, sad 30, angry 30</answer>",  # invalid: three labels
    ]
    gold = [{"happy": 70, "sad": 30}] * 4
    assert reward(completions=completions, blend=gold) == [1.0, 0.5, 0.0, 0.0]
    assert reward(completions=["<answer>joy</answer>"], blend=["happy"]) == [1.0]  # a plain gold label


def test_registry():
    assert set(REWARDS) == {"accuracy", "format", "grounding", "blend", "rating"}
