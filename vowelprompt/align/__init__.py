"""Forced aligners: audio + transcript → words with phone timings.

Every backend implements :class:`Aligner`. Backends are looked up by name in :data:`ALIGNERS`; a dotted
path ``package.module:factory`` admits a user's own.
"""

from __future__ import annotations

import importlib
from typing import Protocol

import numpy as np

from vowelprompt.errors import ConfigError
from vowelprompt.records import Word


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
    target = ALIGNERS.get(name, name)
    if ":" not in target:
        raise ConfigError(f"unknown aligner {name!r}; choose one of: {', '.join(ALIGNERS)}")
    module, _, attr = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load aligner {name!r} ({target}): {exc}") from exc
    return factory(**options)
