"""Forced aligners: audio + transcript → words with phone timings.

Every backend implements :class:`Aligner`. Backends are looked up by name in :data:`ALIGNERS`; a dotted
path ``package.module:factory`` admits a user's own.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from vowelprompt.records import Word
from vowelprompt.registry import load_factory


class Aligner(Protocol):
    """Align one utterance. Raise :class:`~vowelprompt.errors.AlignmentError` when it cannot be aligned."""

    name: str

    def align(self, samples: np.ndarray, sr: int, transcript: str) -> list[Word]: ...


#: name → "module:factory"; factories take keyword options and return an :class:`Aligner`.
ALIGNERS: dict[str, str] = {
    "pocketsphinx": "vowelprompt.align.pocketsphinx:PocketsphinxAligner",
    "mfa": "vowelprompt.align.mfa:MFAAligner",
}


def get_aligner(name: str, **options) -> Aligner:
    """Build the aligner called ``name`` (a key of :data:`ALIGNERS` or ``module:factory``)."""
    return load_factory(ALIGNERS, name, "aligner")(**options)
