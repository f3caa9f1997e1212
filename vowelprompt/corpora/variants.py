"""Voice variants generated from a seed, for held-out sets of voices that no earlier set used.

Each benchmark set's voices are espeak-ng voice variants (the files of its ``voices/!v`` folder) never used in
another set (:mod:`vowelprompt.corpora.benchmark_sets`), and every one of espeak-ng's own has now been used. A
set sealed after that speaks through variants written here instead: ``gen<seed>`` (``en-gb+gen14``) is a
variant file drawn by a generator seeded with ``seed`` from ranges inside those espeak-ng's own ordinary
variants span (a male or female pitch; the first four formants' frequencies scaled by 85–125 %, their heights
and widths by 80–120 %; some flutter, roughness, breath, voicing and consonant strength; an echo on one voice
in five), so that the voice is fixed by its name before any of its audio is heard, and a new seed is a new
voice. espeak-ng reads variants only from its data folder, so :func:`data_folder` builds one beside the
corpus: links to the installed ``espeak-ng-data`` with the generated variants added, which
:func:`~vowelprompt.corpora.synth.write_corpus_fresh` hands to its fresh process (``ESPEAK_DATA_PATH``).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterable
from pathlib import Path

#: The name of a generated variant: this prefix and its seed.
PREFIX = "gen"
_NAME = re.compile(rf"^{PREFIX}(\d+)$")


def seed_of(voice: str) -> int | None:
    """The seed of a voice's generated variant, or None for any other voice.

    >>> seed_of("en-gb+gen14"), seed_of("en-gb+f2"), seed_of("en-us")
    (14, None, None)
    """
    match = _NAME.match(voice.partition("+")[2])
    return int(match.group(1)) if match else None


def variant_text(seed: int) -> str:
    """The espeak-ng variant file of ``gen<seed>``: the same text for the same seed on every machine.

    >>> variant_text(3) == variant_text(3) != variant_text(4)
    True
    >>> variant_text(3).splitlines()[:2]
    ['language variant', 'name gen3']
    """
    rng = random.Random(f"vowelprompt voice variant {seed}")
    female = rng.random() < 0.5
    base = rng.randint(150, 210) if female else rng.randint(70, 115)
    top = base + (rng.randint(40, 100) if female else rng.randint(20, 60))
    scale = (100, 125) if female else (85, 105)
    lines = ["language variant", f"name {PREFIX}{seed}", f"gender {'female' if female else 'male'}"]
    lines.append(f"pitch {base} {top}")
    for k in range(9):
        freq = rng.randint(*scale) if k < 4 else rng.randint(90, 110)
        lines.append(f"formant {k} {freq} {rng.randint(80, 120)} {rng.randint(90, 110)}")
    lines += [f"flutter {rng.randint(0, 5)}", f"roughness {rng.randint(0, 3)}"]
    lines += [f"voicing {rng.randint(60, 120)}", f"consonants {rng.randint(80, 120)}"]
    if rng.random() < 0.3:
        lines.append(f"breath 0 {rng.randint(1, 4)} {rng.randint(1, 4)}")
    if rng.random() < 0.2:
        lines.append(f"echo {rng.randint(10, 40)} {rng.randint(10, 30)}")
    return "\n".join(lines) + "\n"


def data_folder(installed: str | Path, seeds: Iterable[int], folder: str | Path) -> Path:
    """A folder holding an ``espeak-ng-data`` of links to the ``installed`` one (its ``espeak-ng-data``
    folder) with the variants of ``seeds`` added: what ``ESPEAK_DATA_PATH`` names. Idempotent."""
    installed, root = Path(installed), Path(folder)
    data = root / "espeak-ng-data"
    variants = data / "voices" / "!v"
    variants.mkdir(parents=True, exist_ok=True)
    for source, target in (
        (installed, data),
        (installed / "voices", data / "voices"),
        (installed / "voices" / "!v", variants),
    ):
        for entry in source.iterdir():
            link = target / entry.name
            if entry.name not in ("voices", "!v") and not os.path.lexists(link):
                link.symlink_to(entry)
    for seed in seeds:
        (variants / f"{PREFIX}{seed}").write_text(variant_text(seed), encoding="utf-8")
    return root
