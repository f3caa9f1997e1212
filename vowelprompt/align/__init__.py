"""Forced aligners: audio + transcript → words with phone timings.

Every backend implements :class:`Aligner`; one that is cheaper run once over many utterances (MFA) also
implements :class:`BatchAligner`, which takes :class:`BatchItem` records. Backends are looked up by name in
:data:`ALIGNERS`; a dotted path ``package.module:factory`` admits a user's own. An alignment made elsewhere
(MFA run by hand, Praat) is read from its TextGrid by :mod:`vowelprompt.align.textgrid` instead.

Aligners take the audio as :func:`vowelprompt.audio.load_audio` gives it: mono float32 at
:data:`~vowelprompt.audio.ANALYSIS_SR` (16 kHz, the rate of pocketsphinx's model and of MFA's pretrained
models). Loading is the one place audio is resampled; an aligner checks the rate it is given with
:func:`require_analysis_rate` and never resamples.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from vowelprompt.audio import ANALYSIS_SR
from vowelprompt.errors import AlignmentError
from vowelprompt.records import Word
from vowelprompt.registry import load_factory


class Aligner(Protocol):
    """Align one utterance. Raise :class:`~vowelprompt.errors.AlignmentError` when it cannot be aligned.

    ``samples`` are mono float32 at ``sr``, which is :data:`~vowelprompt.audio.ANALYSIS_SR` (see the module's
    docstring); any other rate is refused (:func:`require_analysis_rate`), not resampled.
    """

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


def require_analysis_rate(sr: int, aligner: str) -> None:
    """Raise :class:`~vowelprompt.errors.AlignmentError` unless ``sr`` is the analysis rate (16 kHz).

    >>> require_analysis_rate(16_000, "pocketsphinx")
    >>> try:
    ...     require_analysis_rate(22_050, "pocketsphinx")
    ... except AlignmentError as exc:
    ...     print(str(exc).split(":")[0])
    pocketsphinx takes audio at 16000 Hz (as load_audio gives it), got 22050 Hz
    """
    if sr != ANALYSIS_SR:
        raise AlignmentError(
            f"{aligner} takes audio at {ANALYSIS_SR} Hz (as load_audio gives it), got {sr} Hz: "
            "resample it first with vowelprompt.audio.resample"
        )


#: name → "module:factory"; factories take keyword options and return an :class:`Aligner`.
ALIGNERS: dict[str, str] = {
    "pocketsphinx": "vowelprompt.align.pocketsphinx:PocketsphinxAligner",
    "mfa": "vowelprompt.align.mfa:MFAAligner",
    "pocketsphinx-mapped": "vowelprompt.align.mapped:MappedPocketsphinxAligner",
}


def get_aligner(name: str, **options) -> Aligner:
    """Build the aligner called ``name`` (a key of :data:`ALIGNERS` or ``module:factory``)."""
    return load_factory(ALIGNERS, name, "aligner")(**options)
