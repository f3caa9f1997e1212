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
        decoded = _decode(av, container, stream, path)
    frames = decoded.samples.shape[0]
    if not frames:
        raise AudioError(f"{path}: contains no audio samples (the audio stream decodes to nothing)")
    # Encoders pad a few frames (AAC: up to ~50 ms) and headers round; more missing than that was cut off.
    decoded_s = frames / decoded.sr
    if header_s is not None and decoded_s < header_s - (0.1 + 0.01 * header_s):
        raise AudioError(
            f"{path}: truncated audio (the header says {header_s:.2f} s, {decoded_s:.2f} s could be decoded)"
        )
    return decoded


#: Containers whose duration FFmpeg estimates from the bit rate (raw ADTS AAC has no index): a quiet start
#: makes the guess many times too long, so neither the length limit nor the truncation check trusts it (the
#: limit is checked on the decoded audio instead, by :func:`vowelprompt.audio.check_audio`).
_ESTIMATED_DURATION = frozenset({"aac"})


def _header_duration(container, stream) -> float | None:
    if container.format.name in _ESTIMATED_DURATION:
        return None
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _decode(av, container, stream, path: Path) -> Decoded:
    """Every frame as float32, in the first frame's layout and rate (a stream that changes them midway is
    converted to those). More than two channels are reduced frame by frame (the centre channel, else their
    mean), so a long 5.1 or 7.1 file never holds all its channels in memory."""
    planes: list[np.ndarray] = []
    resampler = None
    sr, layout, channels, centre, note = 0, "", 0, None, None

    def keep(frame) -> None:
        data = frame.to_ndarray().astype(np.float32, copy=False)  # fltp: (channels, n)
        if data.size and channels > 2:
            data = data[[centre]] if centre is not None else data.mean(axis=0, keepdims=True)
        if data.size:
            planes.append(data)

    try:
        for frame in container.decode(stream):
            if resampler is None:
                sr, layout = frame.sample_rate, frame.layout.name
                names = [c.name for c in frame.layout.channels]
                channels = len(names)
                if channels > 2 and CENTRE in names:
                    centre = names.index(CENTRE)
                    note = f"{layout} audio: took the centre channel (FC) only, where films put the dialogue"
                resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=sr)
            for converted in resampler.resample(frame):
                keep(converted)
        if resampler is not None:
            for converted in resampler.resample(None):
                keep(converted)
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(f"{path}: truncated or corrupt audio ({_reason(exc)})") from None
    if not planes:
        return Decoded(np.zeros((0, 1), np.float32), sr or 1, channels, layout, note)
    return Decoded(np.concatenate(planes, axis=1).T, sr, channels, layout, note)


def _reason(exc: Exception) -> str:
    """FFmpeg's own words for a failure ("Invalid data found when processing input"), without the errno."""
    return str(getattr(exc, "strerror", None) or one_line(exc, last=True))
