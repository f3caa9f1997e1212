"""How good the synthetic truth's estimated vowel ends are: espeak-ng's own vowel → nasal/liquid boundaries,
re-estimated as if espeak had not given them.

espeak-ng synthesises some consonants inside the vowel before them (a dark /l/, and in its Scottish voices
the /r/ after every r-coloured vowel), so the truth must estimate where the vowel ends
(vowelprompt/corpora/segment.py: the spectrum's turn from the consonant towards the vowel). Where espeak
does give a vowel → nasal or liquid boundary (the consonant has audio of its own), the same estimate can be
made over the vowel and consonant together and compared with espeak's boundary: the known answer. Rows:
the tuning voices (those the estimate's threshold was fitted on) and held-out voices (Scottish, Caribbean,
and variants of no benchmark set), each split by where the vowel's reference frame would lie: a vowel
after a stop, fricative or pause (its phoneme event at its first sample, so a frame there straddles the
phone before) and a vowel after a liquid or nasal (its event after the onset transition).

    python benchmarks/bench_truth.py            # about a minute
"""

from __future__ import annotations

import argparse
import itertools
import statistics

import numpy as np

from vowelprompt.corpora import espeak, segment
from vowelprompt.corpora.benchmark_sets import DEFAULT_SENTENCES, HELDOUT_SENTENCES

GROUPS = {
    "tuning voices": ("en-us+m1", "en-us+f3", "en-gb+m3", "en-gb+f2"),
    "held-out voices": ("en-gb-scotland", "en-gb-scotland+m5", "en-029+f4", "en-us+m6", "en-gb+f5"),
}
RATES = (120, 175, 260)


def cases(voice: str, sentences, rate: int):
    """(error of the previous and of the current estimate in ms, vowel after a sonorant, vowel length in ms)
    for each vowel → nasal/liquid boundary espeak gives in ``sentences`` spoken by ``voice``."""
    eng = espeak.engine()
    for text in sentences:
        with eng.lock:
            audio, events, hooked = eng.synth(text, voice, rate, 50, 100, False)
            segs = segment.time_phones(audio, events, hooked, eng.sr)
        features = segment._log_mel(audio, eng.sr)
        for i, (vowel, cons) in enumerate(itertools.pairwise(segs)):
            if vowel.ph_type != espeak.PH_VOWEL or cons.ph_type not in (espeak.PH_NASAL, espeak.PH_LIQUID):
                continue
            if vowel.estimated or cons.estimated or vowel.end != cons.start:
                continue
            after_sonorant = i > 0 and segs[i - 1].ph_type in (espeak.PH_NASAL, espeak.PH_LIQUID)
            merged = segment.Segment(vowel.symbol, vowel.ph_type, vowel.start, cons.end, vowel.event, None)
            old_at = max(merged.event, merged.start)
            new_at = segment.offset_reference(merged, eng.sr)
            errors = [
                1000
                * (segment._turn(features, cons.end, at, segment._THETA_OFFSET, eng.sr) - vowel.end)
                / eng.sr
                for at in (old_at, new_at)
            ]
            yield errors[0], errors[1], after_sonorant, 1000 * (vowel.end - vowel.start) / eng.sr


def summary(errors: list[float]) -> str:
    absolute = np.abs(errors)
    return (
        f"{statistics.median(errors):+.0f} | {absolute.mean():.1f} | {np.percentile(absolute, 90):.0f} | "
        f"{np.mean(absolute <= 25):.1%}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    print(
        "| voices | vowel after | boundaries | median error, previous → now (ms) | mean abs. error (ms) | "
        "90th percentile (ms) | within 25 ms | estimated vowel under 25 ms long |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for group, voices in GROUPS.items():
        sentences = DEFAULT_SENTENCES if group == "tuning voices" else HELDOUT_SENTENCES
        found = [c for voice in voices for rate in RATES for c in cases(voice, sentences, rate)]
        for label, sonorant in (("a stop, fricative or pause", False), ("a liquid or nasal", True)):
            rows = [c for c in found if c[2] == sonorant]
            if not rows:
                continue
            old, new = [r[0] for r in rows], [r[1] for r in rows]
            short_old = sum(r[3] + e < 25 for r, e in zip(rows, old))
            short_new = sum(r[3] + e < 25 for r, e in zip(rows, new))
            o, n = summary(old).split(" | "), summary(new).split(" | ")
            print(
                f"| {group} | {label} | {len(rows)} | {o[0]} → {n[0]} | {o[1]} → {n[1]} | {o[2]} → {n[2]} | "
                f"{o[3]} → {n[3]} | {short_old} → {short_new} |"
            )


if __name__ == "__main__":
    main()
