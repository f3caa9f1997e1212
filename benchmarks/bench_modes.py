"""The blend and ratings parsers (``vowelprompt.parse_modes``): what each answer form is read as, and the time
per call on adversarial model outputs from 1 KB to 10 MB.

    python benchmarks/bench_modes.py [--sizes 1000 10000 100000 1000000 10000000]

The first tables are the parsers' own answers to every form the issue lists (printed, not written by hand,
so they cannot drift from the code). The timing table gives, for each family of adversarial input, the
slower of ``parse_blend`` and ``parse_ratings`` per call and the worst seconds per megabyte: a linear parser
keeps it flat as the size grows, and the cap on what it reads (``MAX_PARSE_CHARS``) makes it fall above the
cap. Runs in about a minute on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable

from bench_parser import _fmt, _repeat, time_call, timing_table

from vowelprompt.labels import LABEL_SETS
from vowelprompt.parse import MAX_PARSE_CHARS
from vowelprompt.parse_modes import parse_blend, parse_ratings

LABELS = LABEL_SETS["iemocap4"]
SIZES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
THINK = "<think>'great' rises and is loud; the rest is low and slow.</think>"

BLEND_FORMS = [
    ("tags", "<answer>happy 70, sad 30</answer>"),
    ("tags", "<answer>sad 100</answer>"),
    ("tags", "<answer>70% happy / 30% sad</answer>"),
    ("tags", "<answer>happy (70%) and sad (30%)</answer>"),
    ("tags", "<answer>happy:0.7 sad:0.3</answer>"),
    ("tags", "<answer>50/50 happy and sad</answer>"),
    ("tags", "<answer>mostly happy, some sad</answer>"),
    ("tags", "<answer>happy</answer>"),
    ("tags", "<answer>joy 70, sorrow 30</answer>"),
    ("tags", "<answer>happy 70, sad</answer>"),
    ("tags", "<answer>happy 60, sad 60</answer>"),
    ("tags", "<answer>happy and sad</answer>"),
    ("json", '{"blend": [{"label": "happy", "salience": 70}, {"label": "sad", "salience": 30}]}'),
    ("json", '{"blend": {"happy": 70, "sad": 30}}'),
    ("tags", "<answer>happy 40, sad 30, angry 30</answer>"),
    ("tags", "<answer>happy 120, sad 30</answer>"),
    ("tags", "<answer>bored 70, tired 30</answer>"),
]
RATING_FORMS = [
    ("tags", "<answer>valence=2.5, arousal=4, dominance=3</answer>"),
    ("tags", "<answer>Valence: 2.5, Arousal: 4, Dominance: 3</answer>"),
    ("tags", "<answer>V=2.5, A=4, D=3</answer>"),
    ("tags", "<answer>valence is 2.5 out of 5, activation 4/5, dominance of 3</answer>"),
    ("tags", "<answer>2.5, 4, 3</answer>"),
    ("json", '{"ratings": {"valence": 2.5, "arousal": 4, "dominance": 3}}'),
    ("json", '{"valence": "2.5", "arousal": 4, "dominance": 3}'),
    ("tags", "<answer>valence=6, arousal=4, dominance=3</answer>"),
    ("tags", "<answer>valence=2.5, arousal=4</answer>"),
    ("tags", "<answer>valence=9, arousal=4, dominance=3</answer>"),
    ("tags", "<answer>valence=2, valence=4, arousal=3</answer>"),
]


def _soup(size: int) -> str:
    """Label words, qualifiers, numbers, ratios and dimension names at random (a 100 KB block, repeated)."""
    rng = random.Random(0)
    words = [*LABELS.synonyms(), "mostly", "some", "70", "30%", "50/50", "0.7", "valence=", "A:", "the"]
    block = " ".join(rng.choice(words) for _ in range(20_000))[:100_000]
    return _repeat(block + " ")(size)


#: name → (make text of a given size, output format)
FAMILIES: dict[str, tuple[Callable[[int], str], str]] = {
    "a number, then spaces": (lambda size: "happy 1" + " " * (size - 8) + "x", "tags"),
    "ratios `1/1/1…`": (_repeat("1/"), "tags"),
    "answer soup": (_soup, "tags"),
    "dimension names `valence= a: …`": (_repeat("valence= arousal: v= a= "), "tags"),
    "repeated `<answer>`": (_repeat("<answer>"), "tags"),
    "unclosed `<think>` + answers": (lambda size: "<think>" + _repeat("happy 70 ")(size - 7), "tags"),
    'nested `{"blend": {…` (json)': (_repeat('{"blend": {"ratings": {"valence": '), "json"),
    "braces `{{{…` (json)": (_repeat("{"), "json"),
}


def seconds_per_call(text: str, output_format: str, min_seconds: float = 0.05) -> float:
    """Mean wall time of the slower parser's call, repeating short ones until ``min_seconds`` have passed."""
    return max(
        time_call(lambda: parse_blend(text, LABELS, output_format), min_seconds),
        time_call(lambda: parse_ratings(text, output_format=output_format), min_seconds),
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def forms_tables() -> None:
    print("`parse_blend` (iemocap4), each answer after a think block (JSON as the whole output):\n")
    print("| answer | blend | status | note |\n|---|---|---|---|")
    for fmt, text in BLEND_FORMS:
        p = parse_blend(text if fmt == "json" else THINK + text, LABELS, fmt)
        blend = ", ".join(f"{k} {v}" for k, v in p.blend.items()) if p.blend else "—"
        print(f"| `{_cell(text)}` | {blend} | {p.status} | {_cell(p.note)} |")
    print("\n`parse_ratings` (scale 1–5):\n")
    print("| answer | ratings | status | note |\n|---|---|---|---|")
    for fmt, text in RATING_FORMS:
        p = parse_ratings(text if fmt == "json" else THINK + text, output_format=fmt)
        ratings = ", ".join(f"{k[0].upper()} {v:g}" for k, v in p.ratings.items()) if p.ratings else "—"
        print(f"| `{_cell(text)}` | {ratings} | {p.status} | {_cell(p.note)} |")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="input sizes (characters)")
    args = parser.parse_args(argv)
    sizes = tuple(args.sizes)
    start = time.perf_counter()
    forms_tables()
    times = {
        name: {s: seconds_per_call(make(s), fmt) for s in sizes} for name, (make, fmt) in FAMILIES.items()
    }
    print(
        f"\nslower of parse_blend and parse_ratings per call; inputs over {MAX_PARSE_CHARS:,} characters are read in part\n"
    )
    worst = timing_table(times, sizes)
    normal = seconds_per_call(THINK + BLEND_FORMS[0][1], "tags", 0.2)
    print(f"a normal completion: {_fmt(normal)} per call")
    print(f"({time.perf_counter() - start:.1f} s in all)")
    return {"seconds_per_call": times, "worst_seconds_per_mb": worst, "normal_seconds": normal}


if __name__ == "__main__":
    main(sys.argv[1:])
