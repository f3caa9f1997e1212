"""The ordinal bins a measurement is put in (docs/method.md §1.5), and their names.

The names are the words the descriptions use: :mod:`vowelprompt.normalize` bins with them,
:mod:`vowelprompt.verbalize` phrases them and reads them back, and annotation rows store them.
"""

from __future__ import annotations

import numpy as np

#: The five levels of every descriptor but pitch slope, low to high.
LEVELS = ("very low", "low", "medium", "high", "very high")
#: The classes :func:`slope_level` gives, from steeply falling to steeply rising (``flat`` in the middle).
SLOPE_LEVELS = (
    "steeply falling",
    "moderately falling",
    "slightly falling",
    "flat",
    "slightly rising",
    "moderately rising",
    "steeply rising",
)
#: Standard-normal 10/25/75/90th percentiles: the bin edges when z-scores are not fitted.
NORMAL_EDGES = (-1.2816, -0.6745, 0.6745, 1.2816)


def level(z: float, edges: list[float] | tuple[float, ...]) -> str:
    """The ordinal bin of ``z`` given 4 increasing edges.

    >>> level(0.0, NORMAL_EDGES), level(1.5, NORMAL_EDGES), level(-0.7, NORMAL_EDGES)
    ('medium', 'very high', 'low')
    """
    return LEVELS[int(np.searchsorted(np.asarray(edges), z, side="right"))]


def slope_level(slope: float, flat: float, rising: list[float], falling: list[float]) -> str:
    """Verbal slope class: ``flat`` or slightly/moderately/steeply rising/falling.

    >>> slope_level(1.0, 3.0, [8, 20], [8, 20]), slope_level(-25.0, 3.0, [8, 20], [8, 20])
    ('flat', 'steeply falling')
    """
    if abs(slope) < flat:
        return "flat"
    lo, hi = rising if slope > 0 else falling
    step = 1 if abs(slope) < lo else 2 if abs(slope) < hi else 3
    return SLOPE_LEVELS[3 + step if slope > 0 else 3 - step]
