"""French and German alignment accuracy of the offline mapped aligner against espeak-ng's true phone times.

    python benchmarks/bench_languages.py [--languages fr de en] [--sets tuning heldout] [--map IPA=ARPA ...]

espeak-ng speaks French and German with the same ground truth as English (vowelprompt/corpora/synth.py),
so the harness of bench_alignment.py applies unchanged: each language has a tuning set (five sentences ×
two voices × two rates) on which the phone map of vowelprompt/align/mapped.py was chosen, and a held-out
set (five other sentences, two other voice variants, two other rates) used only to report. Prints one
markdown table per language: mean absolute vowel-boundary error (ms) and share of vowel midpoints inside
the true vowel over the files aligned to phones, vowels compared, files that needed the word-level
fallback (``approximate``; their vowels are scored in their own columns, not mixed in) and files that
failed outright. "en" runs English through the same mapped path as a sanity row (not the English
aligner: that is bench_alignment.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_alignment import truth_vowels

from vowelprompt.align.mapped import MappedPocketsphinxAligner
from vowelprompt.align.score import score_alignment
from vowelprompt.audio import load_audio
from vowelprompt.corpora.synth import DEFAULT_SENTENCES, HELDOUT_SENTENCES, write_corpus
from vowelprompt.errors import VowelPromptError

#: Neutral sentences without digits: the first five of each language tune, the last five are held out.
SENTENCES: dict[str, tuple[str, ...]] = {
    "fr": (
        "Le chat dort près de la fenêtre pendant que la pluie tombe doucement.",
        "Nous avons acheté du pain, du fromage et quelques fruits au marché.",
        "Mon voisin répare son vélo tous les samedis matin.",
        "La bibliothèque ferme plus tôt pendant les vacances d'été.",
        "Il faut tourner à gauche après le pont pour trouver la gare.",
        "Les enfants ont construit une cabane au fond du jardin.",
        "Elle lit le journal en buvant un café chaud.",
        "Un vent léger soufflait sur les collines brunes.",
        "Je voudrais réserver une table pour deux personnes ce soir.",
        "Le musée présente une exposition sur les peintres du Nord.",
    ),
    "de": (
        "Der Zug fährt pünktlich um halb neun vom Bahnhof ab.",
        "Meine Schwester backt am Wochenende gern frisches Brot.",
        "Im Garten blühen die Rosen schon seit einigen Tagen.",
        "Wir haben den ganzen Nachmittag über Bücher gesprochen.",
        "Die Kinder spielen nach der Schule oft im Park.",
        "Könnten Sie mir bitte den Weg zum Rathaus zeigen?",
        "Über dem See lag am frühen Morgen dichter Nebel.",
        "Er hat seinen Schlüssel wieder in der Küche vergessen.",
        "Das Museum öffnet erst nach der Mittagspause.",
        "Heute Abend gibt es Suppe mit frischem Gemüse.",
    ),
    "en": DEFAULT_SENTENCES[:5] + HELDOUT_SENTENCES[:5],
}
#: Voices and rates per language and set: the held-out voices are variants (and, for French, a regional
#: voice) never tuned on, at rates never tuned on.
VOICES = {
    "fr": {"tuning": ("fr+m1", "fr+f3"), "heldout": ("fr-be+m6", "fr-ch+f2")},
    "de": {"tuning": ("de+m1", "de+f3"), "heldout": ("de+m6", "de+f2")},
    "en": {"tuning": ("en-us+m1", "en-gb+f2"), "heldout": ("en-us+m6", "en-gb+f5")},
}
RATES = {"tuning": (140, 200), "heldout": (170, 230)}


def sentences(language: str, which: str) -> tuple[str, ...]:
    return SENTENCES[language][:5] if which == "tuning" else SENTENCES[language][5:]


def run_set(
    language: str,
    which: str,
    phone_map: dict,
    out: Path,
    beams: tuple[float, ...] | None = None,
    refine: bool = False,
) -> dict:
    """Synthesise one language's tuning or held-out set, align every file, and score it."""
    folder = out / f"{language}-{which}"
    manifest = write_corpus(folder, sentences(language, which), VOICES[language][which], RATES[which])
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    aligner = MappedPocketsphinxAligner(language=language, phone_map=phone_map, refine=refine)
    if beams:
        aligner.beams = beams
    cell = {"errors": [], "inside": [], "approx_errors": [], "approx_inside": [], "files": 0}
    cell |= {"approximate": 0, "failed": 0, "seconds": 0.0, "audio_s": 0.0}
    failures = []
    for row in rows:
        audio = load_audio(folder / row["audio"])
        cell["files"] += 1
        cell["audio_s"] += audio.duration_s
        started = time.perf_counter()
        try:
            words = aligner.align(audio.samples, audio.sr, row["text"])
        except VowelPromptError as exc:
            cell["failed"] += 1
            failures.append(f"{row['id']}: {exc}")
            continue
        finally:
            cell["seconds"] += time.perf_counter() - started
        score = score_alignment(words, truth_vowels(folder / row["truth"]))
        approximate = any(w.pron_source == "approximate" for w in words)
        cell["approximate"] += approximate
        prefix = "approx_" if approximate else ""
        cell[prefix + "errors"] += score.errors_s
        cell[prefix + "inside"] += [score.midpoint_inside] * score.matched
    return {
        "boundary_error_ms": 1000 * float(np.mean(cell["errors"])) if cell["errors"] else float("nan"),
        "midpoints_inside": float(np.mean(cell["inside"])) if cell["inside"] else float("nan"),
        "vowels": len(cell["inside"]),
        "files": cell["files"],
        "approximate": cell["approximate"],
        "approx_boundary_error_ms": 1000 * float(np.mean(cell["approx_errors"]))
        if cell["approx_errors"]
        else None,
        "approx_midpoints_inside": float(np.mean(cell["approx_inside"])) if cell["approx_inside"] else None,
        "failed": cell["failed"],
        "failures": failures,
        "x_real_time": cell["audio_s"] / cell["seconds"] if cell["seconds"] else float("nan"),
        "voices": list(VOICES[language][which]),
        "rates": list(RATES[which]),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="+", default=["fr", "de", "en"], choices=sorted(SENTENCES))
    parser.add_argument("--sets", nargs="+", default=["tuning", "heldout"], choices=["tuning", "heldout"])
    parser.add_argument(
        "--map", nargs="*", default=[], metavar="IPA=ARPA", help="try another proxy, e.g. y=UW ɛ̃=EH,N"
    )
    parser.add_argument(
        "--force-fallback",
        action="store_true",
        help="a beam of 0.1, too narrow for any path: every file takes the word-level fallback (what its "
        "approximate vowel times are worth)",
    )
    parser.add_argument(
        "--refine", action="store_true", help="move vowel edges with align.refine (fitted on English)"
    )
    args = parser.parse_args(argv)
    phone_map = {k: tuple(v.split(",")) for k, _, v in (m.partition("=") for m in args.map)}
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for language in args.languages:
            beams = (1e-1,) if args.force_fallback else None
            results[language] = {
                s: run_set(language, s, phone_map, Path(tmp), beams, args.refine) for s in args.sets
            }
    print(
        "| language | set | voices × wpm | boundary error (ms) | midpoints inside | vowels | "
        "word-level fallback (error ms, inside) | failed |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for language, sets in results.items():
        for which, r in sets.items():
            approx = f"{r['approximate']}/{r['files']}"
            if r["approximate"]:
                approx += f" ({r['approx_boundary_error_ms']:.0f} ms, {r['approx_midpoints_inside']:.0%})"
            name = language + (" (sanity)" if language == "en" else "")
            print(
                f"| {name} | {which} | {', '.join(r['voices'])} × {'/'.join(map(str, r['rates']))} | "
                f"{r['boundary_error_ms']:.1f} | {r['midpoints_inside']:.1%} | {r['vowels']} | {approx} | "
                f"{r['failed']}/{r['files']} |"
            )
    for language, sets in results.items():
        for which, r in sets.items():
            for failure in r["failures"]:
                print(f"- {language} {which} failed: {failure}")
    speeds = ", ".join(
        f"{lang} {s['tuning' if 'tuning' in s else 'heldout']['x_real_time']:.0f}×"
        for lang, s in results.items()
    )
    print(f"\nalignment speed (shared 2-core machine, real time per core): {speeds}")
    return results


if __name__ == "__main__":
    main()
