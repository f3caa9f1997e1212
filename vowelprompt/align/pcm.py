"""The 16-bit PCM pocketsphinx decodes, and the noise floor it hears under it."""

from __future__ import annotations

import numpy as np

#: The level (dBFS) of the white noise floor the aligner hears under the audio, a little above 16-bit
#: quantisation noise (-101 dBFS). Speech sampled at 8 kHz and upsampled (telephone) has next to no energy
#: above 4 kHz, and the bundled 16 kHz model's filterbank then takes the log of almost nothing in its top
#: bands: on the second held-out set's telephone condition 13 of 40 files failed to align (tuning set: 1),
#: with this floor 2. Found on that set, then checked where nothing was chosen (README: Accuracy).
#: Each decoded stretch (an utterance, a piece of a long one, a retry's piece) gets the same noise from a
#: fixed seed, so a stretch aligns the same whatever came before it or whether it was cut from a longer
#: recording. None: no floor.
NOISE_FLOOR_DBFS: float | None = -90.0


def to_pcm(samples: np.ndarray) -> bytes:
    """16-bit PCM of float samples in [-1, 1]."""
    return (np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes()


def with_noise_floor(pcm: bytes, noise_floor_dbfs: float | None = NOISE_FLOOR_DBFS) -> bytes:
    """``pcm`` with the :data:`NOISE_FLOOR_DBFS` noise added, as pocketsphinx hears it (the features are
    measured on the samples themselves).

    >>> pcm = to_pcm(np.zeros(160))
    >>> with_noise_floor(pcm) == with_noise_floor(pcm) != pcm, with_noise_floor(pcm, None) == pcm
    (True, True)
    """
    if noise_floor_dbfs is None:
        return pcm
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    x += np.random.default_rng(0).standard_normal(len(x)) * 32767 * 10 ** (noise_floor_dbfs / 20)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()
