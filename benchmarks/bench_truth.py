"""How good the synthetic truth's estimated vowel ends are: espeak-ng's own vowel → nasal/liquid boundaries,
re-estimated as if espeak had not given them.

espeak-ng synthesises some consonants inside the vowel before them (a dark /l/, and in its Scottish voices
the /r/ after every r-coloured vowel), so the truth must estimate where the vowel ends
(vowelprompt/corpora/segment.py: the spectrum's turn from the consonant towards the vowel). Where espeak
does give a vowel → nasal or liquid boundary (the consonant has audio of its own), the same estimate can be
made over the vowel and consonant together and compared with espeak's boundary: the known answer. Rows:
the tuning voices (those the estimate's threshold was fitted on) and held-out voices (Scottish, Caribbean,
American and English variants: the first held-out set's), by the consonant, for vowels after a stop,
fricative or pause (their phoneme event at their first sample, where a frame straddles the phone before):
"previous" takes the vowel's reference frame there, "now" as segment.vowel_end does.

    python benchmarks/bench_truth.py            # about 10 seconds
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
CLASSES = {"a nasal": ("n", "m", "N"), "/l/": ("l",), "/r/": ("r",)}


def cases(voice: str, sentences, rate: int):
    """(consonant, error of the previous and of the current estimate in ms, vowel length in ms) for each
    vowel → nasal/liquid boundary espeak gives in ``sentences`` spoken by ``voice``, the vowel after a stop,
    fricative or pause (after a liquid or nasal its event is already inside it: both estimates agree)."""
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
            if i > 0 and segs[i - 1].ph_type in (espeak.PH_NASAL, espeak.PH_LIQUID):
                continue
            merged = segment.Segment(vowel.symbol, vowel.ph_type, vowel.start, cons.end, vowel.event, None)
            start = max(merged.event, merged.start)
            previous = segment._turn(features, cons.end, start, segment._THETA_OFFSET, eng.sr)
            now = segment.vowel_end(features, merged, cons.symbol, eng.sr)
            errors = [1000 * (cut - vowel.end) / eng.sr for cut in (previous, now)]
            yield cons.symbol, errors[0], errors[1], 1000 * (vowel.end - vowel.start) / eng.sr


def summary(errors: list[float]) -> list[str]:
    absolute = np.abs(errors)
    return [
        f"{statistics.median(errors):+.0f}",
        f"{absolute.mean():.1f}",
        f"{np.percentile(absolute, 90):.0f}",
        f"{np.mean(absolute <= 25):.1%}",
    ]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    print(
        "| voices | vowel before | boundaries | median error, previous → now (ms) | mean abs. error (ms) | "
        "90th percentile (ms) | within 25 ms | estimated vowel under 25 ms long |"
    )
    print("|---|---|---|---|---|---|---|---|")
    out = []
    for group, voices in GROUPS.items():
        sentences = DEFAULT_SENTENCES if group == "tuning voices" else HELDOUT_SENTENCES
        found = [c for voice in voices for rate in RATES for c in cases(voice, sentences, rate)]
        for label, symbols in CLASSES.items():
            rows = [c for c in found if c[0] in symbols]
            if not rows:
                continue
            old, new = summary([r[1] for r in rows]), summary([r[2] for r in rows])
            short = [sum(r[3] + r[k] < 25 for r in rows) for k in (1, 2)]
            cells = " | ".join(f"{o} → {n}" for o, n in zip(old, new))
            print(f"| {group} | {label} | {len(rows)} | {cells} | {short[0]} → {short[1]} |")
            mae = [float(np.abs([r[k] for r in rows]).mean()) for k in (1, 2)]
            out.append({"voices": group, "before": label, "n": len(rows), "mae_ms": mae, "short": short})
    return out


if __name__ == "__main__":
    main()
