"""Time of ``vowelprompt.parse.parse`` on adversarial model outputs, from 1 KB to 10 MB.

    python benchmarks/bench_parser.py [--sizes 1000 10000 100000 1000000 10000000]

Each family of input targets one path of the parser that used to be quadratic (braces restarting the JSON
scan, repeated or unclosed tags retried by lazy regexes, a long JSON string, free text full of label words).
Prints the time per call for each family and size, and the worst time per megabyte (10^6 characters) over
all of them: a linear parser keeps it flat as the size grows, and the cap on what it reads
(``MAX_PARSE_CHARS``) makes it fall above the cap. ``worst_seconds_per_mb()`` is the same figure for other
benchmarks to import. Runs in a few seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable

from vowelprompt.labels import LABEL_SETS
from vowelprompt.parse import MAX_PARSE_CHARS, parse

LABELS = LABEL_SETS["iemocap4"]
SIZES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
NORMAL = "<think>Loud and rising pitch on the stressed vowels, and a fast rate.</think><answer>angry</answer>"


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


def _label_soup(size: int) -> str:
    """Label words and synonyms at random (a 100 KB block, repeated): the free-text fallback's worst case."""
    rng = random.Random(0)
    words = [*LABELS.synonyms(), "the", "speaker", "sounds"]
    block = " ".join(rng.choice(words) for _ in range(15_000))[:100_000]
    return _repeat(block + " ")(size)


def _nested(size: int) -> str:
    """Closed nested objects, each a candidate holding a label key: the JSON decoder's worst case."""
    depth = size // 12
    return ('{"label": ' * depth + "1" + "}" * depth).ljust(size)


#: name → (make text of a given size, output format)
FAMILIES: dict[str, tuple[Callable[[int], str], str]] = {
    "braces `{{{…` (json)": (_repeat("{"), "json"),
    'braces and label keys `{"label": {…` (json)': (_repeat('{"label": {'), "json"),
    'nested objects `{"label": {…}}` (json)': (_nested, "json"),
    'JSON strings `{"label": "…` (json)': (_repeat('{"label": "'), "json"),
    "open code fence (json)": (lambda size: "```json" + " " * (size - 7), "json"),
    "repeated `<answer>`": (_repeat("<answer>"), "tags"),
    "repeated `<think>`": (_repeat("<think>"), "tags"),
    "unclosed `<think>` + text": (lambda size: "<think>" + "x" * (size - 7), "tags"),
    "label soup": (_label_soup, "tags"),
    "label soup (json)": (_label_soup, "json"),
}


def time_call(call: Callable[[], object], min_seconds: float = 0.05) -> float:
    """Mean wall time of ``call()``, repeating short ones until ``min_seconds`` have passed (10,000 at most)."""
    calls, start = 0, time.perf_counter()
    while True:
        call()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or calls >= 10_000:
            return elapsed / calls


def seconds_per_call(text: str, output_format: str, min_seconds: float = 0.05) -> float:
    """Mean wall time of one ``parse`` call, repeating short ones until ``min_seconds`` have passed."""
    return time_call(lambda: parse(text, LABELS, output_format), min_seconds)


def measure(sizes: tuple[int, ...] = SIZES) -> dict[str, dict[int, float]]:
    """Seconds per call, by family and size."""
    return {
        name: {size: seconds_per_call(make(size), fmt) for size in sizes}
        for name, (make, fmt) in FAMILIES.items()
    }


def worst_seconds_per_mb(sizes: tuple[int, ...] = SIZES) -> float:
    """The slowest ``parse`` over every adversarial family and size, in seconds per 10^6 characters."""
    times = measure(sizes)
    return max(t / (size / 1e6) for row in times.values() for size, t in row.items())


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"


def _size(n: int) -> str:
    return f"{n / 1e6:g} MB" if n >= 1_000_000 else f"{n / 1e3:g} KB"


def timing_table(times: dict[str, dict[int, float]], sizes: tuple[int, ...]) -> float:
    """Print seconds per call by family and size, with each family's worst seconds per MB, and the worst
    over all; returns that worst."""
    per_mb = {name: max(t / (size / 1e6) for size, t in row.items()) for name, row in times.items()}
    print("| input | " + " | ".join(_size(s) for s in sizes) + " | worst s/MB |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for name, row in times.items():
        print(f"| {name} | " + " | ".join(_fmt(row[s]) for s in sizes) + f" | {per_mb[name]:.3f} |")
    worst = max(per_mb.values())
    print(f"\nworst: {worst:.3f} s per MB; slowest call {_fmt(max(max(r.values()) for r in times.values()))}")
    return worst


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="input sizes (characters)")
    args = parser.parse_args(argv)
    sizes = tuple(args.sizes)
    start = time.perf_counter()
    times = measure(sizes)
    normal = seconds_per_call(NORMAL, "tags", 0.2)
    print(f"parse() time per call; inputs over {MAX_PARSE_CHARS:,} characters are read in part\n")
    worst = timing_table(times, sizes)
    print(f"a normal completion ({len(NORMAL)} characters): {_fmt(normal)} per call")
    print(f"({time.perf_counter() - start:.1f} s in all)")
    return {"seconds_per_call": times, "worst_seconds_per_mb": worst, "normal_seconds": normal}


if __name__ == "__main__":
    main(sys.argv[1:])
