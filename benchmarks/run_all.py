"""Run every benchmark and print the figures the README quotes.

python benchmarks/run_all.py        (or: make bench)
"""

from __future__ import annotations

import bench_alignment
import bench_parser
import bench_reliability
import bench_speed

if __name__ == "__main__":
    print("## Alignment accuracy (pocketsphinx vs espeak-ng truth)\n")
    bench_alignment.main([])
    print("\n## Speed, memory and description length\n")
    bench_speed.main([])
    print("\n## Parser time against input size\n")
    bench_parser.main([])
    print("\n## Reliability: bad inputs, kills with resume, a misbehaving server, planted secrets\n")
    bench_reliability.main([])
