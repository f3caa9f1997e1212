"""Forced aligners: audio + transcript → words with phone timings.

Every backend implements :class:`Aligner`; one that is cheaper run once over many utterances (MFA) also
implements :class:`BatchAligner`, which takes :class:`BatchItem` records. Backends are looked up by name in
:data:`ALIGNERS`; a dotted path ``package.module:factory`` admits a user's own. An alignment made elsewhere
(MFA run by hand, Praat) is read from its TextGrid by :mod:`vowelprompt.align.textgrid` instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from vowelprompt.errors import AlignmentError
from vowelprompt.records import Word
from vowelprompt.registry import load_factory


class Aligner(Protocol):
    """Align one utterance. Raise :class:`~vowelprompt.errors.AlignmentError` when it cannot be aligned."""

    name: str

    def align(self, samples: np.ndarray, sr: int, transcript: str) -> list[Word]: ...


@dataclass(frozen=True, eq=False)
class BatchItem:
    """One utterance of a batch for :meth:`BatchAligner.align_corpus`: ``samples`` as for
    :meth:`Aligner.align`, ``speaker`` groups utterances of one voice (None: a voice of its own)."""

    id: str
    samples: np.ndarray
    sr: int
    text: str
    speaker: str | None = None


@runtime_checkable
class BatchAligner(Aligner, Protocol):
    """An aligner that is cheaper run once over a batch (MFA starts in seconds to minutes)."""

    def align_corpus(self, items: Iterable[BatchItem]) -> dict[str, list[Word] | AlignmentError]:
        """Every item's id mapped to its words, or to the error that says why it has none."""
        ...


#: name → "module:factory"; factories take keyword options and return an :class:`Aligner`.
ALIGNERS: dict[str, str] = {
    "pocketsphinx": "vowelprompt.align.pocketsphinx:PocketsphinxAligner",
    "mfa": "vowelprompt.align.mfa:MFAAligner",
}


def get_aligner(name: str, **options) -> Aligner:
    """Build the aligner called ``name`` (a key of :data:`ALIGNERS` or ``module:factory``)."""
    return load_factory(ALIGNERS, name, "aligner")(**options)
