"""Audio inside media containers (MP4/M4A/AAC, MOV, MKV, WebM), decoded with PyAV (FFmpeg).

Corpora cut from films and TV ship their clips as video or AAC files: MELD's are MP4 with AAC audio, many in
5.1. Film and TV mixes put dialogue in the front-centre channel (``FC``) and music and effects around it, so
from a layout with more than two channels and an ``FC`` channel only ``FC`` is kept (a downmix would bury the
voice under the effects and lower its level); any other layout is averaged to mono as a WAV would be.
:func:`load_container` returns what it took and the source layout, which
:func:`vowelprompt.audio.load_audio` records on :class:`~vowelprompt.audio.Audio`.

PyAV is optional (``pip install 'vowelprompt[media]'``) and imported only when a container is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vowelprompt.errors import AudioError, MissingExtraError, one_line

#: Extensions read through PyAV. AAC in MP4 is what MELD has; the others are the usual homes of AAC,
#: Opus and Vorbis speech tracks. A folder scan picks them up too (``vowelprompt.io.AUDIO_SUFFIXES``).
CONTAINER_SUFFIXES = (".mp4", ".m4a", ".aac", ".mov", ".mkv", ".webm")

#: The channel kept from layouts of more than two channels that have it: front centre, where films mix
#: the dialogue.
CENTRE = "FC"


@dataclass(frozen=True)
class Decoded:
    """Samples of a container's first audio stream, ``(frames, channels)`` float32, and what was done."""

    samples: np.ndarray
    sr: int
    channels: int
    layout: str
    note: str | None = None


def is_container(path: str | Path) -> bool:
    return Path(path).suffix.lower() in CONTAINER_SUFFIXES


def require_av():
    """The ``av`` module, or :class:`MissingExtraError` naming the ``media`` extra."""
    try:
        import av
    except ImportError:
        raise MissingExtraError("PyAV (av, to read MP4/M4A/AAC audio)", "media") from None
    return av


def load_container(path: Path, max_duration_s: float) -> Decoded:
    """Decode the first audio stream of ``path``; :class:`AudioError` (one line) when there is none, when
    it is longer than ``max_duration_s`` by its header, or when it is corrupt or truncated."""
    av = require_av()
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise AudioError(f"{path}: not a readable media file ({_reason(exc)})") from None
    with container:
        if not container.streams.audio:
            kinds = sorted({s.type for s in container.streams}) or ["no streams"]
            raise AudioError(f"{path}: no audio stream in this file (it holds: {', '.join(kinds)})")
        stream = container.streams.audio[0]
        header_s = _header_duration(container, stream)
        if header_s is not None and header_s > max_duration_s:
            raise AudioError(
                f"{path}: {header_s:.1f} s long, over the {max_duration_s:.0f} s limit "
                "(--max-duration); split it into utterances first"
            )
        planes, sr, names, layout = _decode(av, container, stream, path)
    if not planes:
        raise AudioError(f"{path}: contains no audio samples (the audio stream decodes to nothing)")
    data = np.concatenate(planes, axis=1).T  # (frames, channels)
    decoded_s = data.shape[0] / sr
    # Encoders pad a few frames (AAC: up to ~50 ms) and headers round; more missing than that was cut off.
    if header_s is not None and decoded_s < header_s - (0.1 + 0.01 * header_s):
        raise AudioError(
            f"{path}: truncated audio (the header says {header_s:.2f} s, {decoded_s:.2f} s could be decoded)"
        )
    channels = data.shape[1]
    if channels > 2 and CENTRE in names:
        data = data[:, [names.index(CENTRE)]]
        note = f"{layout} audio: took the centre channel (FC) only, where films put the dialogue"
        return Decoded(np.ascontiguousarray(data), sr, channels, layout, note)
    return Decoded(data, sr, channels, layout)


def _header_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _decode(av, container, stream, path: Path) -> tuple[list[np.ndarray], int, list[str], str]:
    """Every frame as float32 ``(channels, n)`` planes in the first frame's layout and rate (a stream that
    changes them midway is converted to those)."""
    planes: list[np.ndarray] = []
    resampler = None
    sr, names, layout = 0, [], ""
    try:
        for frame in container.decode(stream):
            if resampler is None:
                sr, layout = frame.sample_rate, frame.layout.name
                names = [c.name for c in frame.layout.channels]
                resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=sr)
            planes.extend(f.to_ndarray() for f in resampler.resample(frame))
        if resampler is not None:
            planes.extend(f.to_ndarray() for f in resampler.resample(None))
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(f"{path}: truncated or corrupt audio ({_reason(exc)})") from None
    return [p.astype(np.float32, copy=False) for p in planes if p.size], sr, names, layout


def _reason(exc: Exception) -> str:
    """FFmpeg's own words for a failure ("Invalid data found when processing input"), without the errno."""
    return str(getattr(exc, "strerror", None) or one_line(exc, last=True))
