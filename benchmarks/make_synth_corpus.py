"""Write the synthetic corpus the aligner and feature benchmarks run on: espeak-ng speech with exact truth.

    python benchmarks/make_synth_corpus.py OUT_DIR [--voices en-us+m1 en-gb+f2] [--rates 120 260]

The defaults cross two accents, two male and two female voices, and rates from slow (120 wpm) to fast
(260 wpm) with the ten default sentences: 160 utterances. It is written in a fresh process, as the benchmarks
write theirs, so the audio is theirs; generated voice variants (``en-gb+gen14``,
vowelprompt/corpora/variants.py) work here too.
"""

from __future__ import annotations

import argparse
import json

import soundfile as sf

from vowelprompt.corpora.synth import DEFAULT_SENTENCES, TUNING_RATES, TUNING_VOICES, write_corpus_fresh

VOICES = TUNING_VOICES
RATES = TUNING_RATES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="folder for the wav, txt and truth files and manifest.jsonl")
    parser.add_argument(
        "--voices", nargs="+", default=list(VOICES), help="espeak voices (default: %(default)s)"
    )
    parser.add_argument("--rates", nargs="+", type=int, default=list(RATES), help="words per minute")
    parser.add_argument("--pitches", nargs="+", type=int, default=[50], help="espeak base pitch, 0–100")
    parser.add_argument("--seed", type=int, default=0, help="shuffles the manifest rows")
    args = parser.parse_args(argv)

    manifest = write_corpus_fresh(
        args.out_dir, DEFAULT_SENTENCES, args.voices, args.rates, args.pitches, args.seed
    )
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    seconds = sum(sf.info(manifest.parent / row["audio"]).duration for row in rows)
    files = 3 * len(rows) + 1  # wav, txt and truth per utterance, and the manifest
    print(f"wrote {len(rows)} utterances ({files} files, {seconds:.1f} s of audio) to {manifest.parent}")


if __name__ == "__main__":
    main()
