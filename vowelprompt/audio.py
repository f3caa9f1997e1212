"""Load and check audio: any format libsndfile reads, any sample rate, mono, resampled with soxr; MP4/M4A/AAC
(and MOV, MKV, WebM) through PyAV (:mod:`vowelprompt.media`: the centre channel of 5.1 film audio).

Problems are raised as :class:`~vowelprompt.errors.AudioError` with a one-line message; soft problems
(clipping, a low sample rate) are returned as warnings so that the file is still processed.

Headerless PCM (``.raw``/``.pcm``, common in speech corpora) says nothing about its sample rate, sample
format or channels: :class:`AudioConfig`'s ``raw_*`` fields give them (CLI: ``--sample-rate``,
``--raw-format``), and without ``raw_sample_rate`` such a file is refused, saying so. Only those two
extensions are read as headerless: a ``.wav`` (or any other name) that libsndfile cannot identify is corrupt,
not PCM, and reading it as samples would turn its bytes into noise. A ``.raw``/``.pcm`` file that does start
with a known header (RIFF, FORM, fLaC …) is read from its header.
"""

from __future__ import annotations

import io
import numbers
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from vowelprompt.errors import AudioError, ConfigError, one_line
from vowelprompt.media import is_container, load_container

#: Extensions read as headerless PCM (with the ``raw_*`` fields of :class:`AudioConfig`).
RAW_SUFFIXES = (".raw", ".pcm")

#: Endianness names libsndfile takes; for headerless PCM ``FILE`` and ``CPU`` both mean this machine's order.
RAW_ENDIANS = ("LITTLE", "BIG", "CPU", "FILE")

#: First bytes of the headered formats libsndfile identifies by content: a ``.raw``/``.pcm`` file that starts
#: with one of them is read from its header, not as samples.
_MAGIC = (b"RIFF", b"RIFX", b"RF64", b"FORM", b"fLaC", b"OggS", b"NIST", b".snd", b"caff")

#: Bytes per sample of the fixed-width headerless subtypes (to warn about a size that is not whole frames).
_SAMPLE_BYTES = {
    "PCM_S8": 1,
    "PCM_U8": 1,
    "ULAW": 1,
    "ALAW": 1,
    "PCM_16": 2,
    "PCM_24": 3,
    "PCM_32": 4,
    "FLOAT": 4,
    "DOUBLE": 8,
}

#: The rate every stage works at: pocketsphinx's en-us model and MFA's pretrained models are 16 kHz models,
#: and 16 kHz keeps everything up to 8 kHz, far above F0 (≤ 600 Hz) and the energy that matters for RMS.
#: Loading (:func:`check_audio`) is the one place audio is resampled; the aligners only check the rate.
ANALYSIS_SR = 16_000


@dataclass(frozen=True)
class AudioConfig:
    """How audio is loaded and checked."""

    max_duration_s: float = 600.0
    """Refuse longer files (checked from the header, before reading). pocketsphinx aligns recordings over
    10 s in pieces cut at pauses, so its memory stays bounded; 600 s = 10 min is the length
    benchmarks/bench_speed.py checks end to end (time and peak memory). Raise it with --max-duration."""
    min_duration_s: float = 0.1
    """Refuse shorter files: 100 ms holds at most one vowel and too few pitch frames to measure it."""
    silence_dbfs: float = -60.0
    """Refuse files whose overall RMS is below this (dB re full scale): digital silence or near it."""
    clip_fraction: float = 0.001
    """Warn when more than this share of samples sit at full scale (|x| ≥ 0.999): clipped recording."""
    raw_sample_rate: int | None = None
    """Sample rate (Hz) of headerless PCM (``.raw``/``.pcm``), which has no header to say it (CLI:
    ``--sample-rate``). None: such files are refused, with a message saying to give it."""
    raw_format: str = "PCM_16"
    """libsndfile subtype of headerless PCM (CLI: ``--raw-format``): ``PCM_16`` (signed 16-bit, the usual),
    ``PCM_S8``, ``PCM_U8``, ``PCM_24``, ``PCM_32``, ``FLOAT``, ``DOUBLE``, ``ULAW``, ``ALAW`` …; any of
    ``soundfile.available_subtypes("RAW")``."""
    raw_channels: int = 1
    """Interleaved channels in headerless PCM (downmixed to mono like any other file)."""
    raw_endian: str = "LITTLE"
    """Byte order of headerless PCM: ``LITTLE`` (the default: what speech corpora and x86/ARM machines
    write, and the same result on every machine), ``BIG``, or ``FILE``/``CPU`` (this machine's order)."""

    def __post_init__(self):
        if not 0 < self.min_duration_s < self.max_duration_s:
            raise ConfigError("need 0 < min_duration_s < max_duration_s")
        rate, channels = self.raw_sample_rate, self.raw_channels
        if rate is not None and not (_whole(rate) and 1000 <= rate <= 768_000):
            raise ConfigError(
                f"raw_sample_rate (--sample-rate) must be a whole number of Hz, 1000 to 768000; got {rate!r}"
            )
        subtypes = sf.available_subtypes("RAW")
        fmt = str(self.raw_format).upper()
        if fmt not in subtypes:
            raise ConfigError(
                f"unknown raw_format (--raw-format) {self.raw_format!r}; choose one of: {', '.join(subtypes)}"
            )
        endian = str(self.raw_endian).upper()
        if endian not in RAW_ENDIANS:
            raise ConfigError(
                f"unknown raw_endian {self.raw_endian!r}; choose one of: {', '.join(RAW_ENDIANS)}"
            )
        if not (_whole(channels) and 1 <= channels <= 64):
            raise ConfigError(f"raw_channels must be a whole number from 1 to 64; got {channels!r}")
        # Frozen: store the canonical spellings (``pcm_16`` → ``PCM_16``, a numpy integer → int).
        object.__setattr__(self, "raw_sample_rate", None if rate is None else int(rate))
        object.__setattr__(self, "raw_channels", int(channels))
        object.__setattr__(self, "raw_format", fmt)
        object.__setattr__(self, "raw_endian", endian)


def _whole(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples at :data:`ANALYSIS_SR`, with the source's facts and any warnings."""

    samples: np.ndarray
    sr: int
    source_sr: int
    source_channels: int
    warnings: tuple[str, ...] = field(default=())
    source_layout: str | None = None
    """The source's channel layout as FFmpeg names it (``stereo``, ``5.1(side)`` …) for audio read from a
    container; None for what libsndfile reads (its channel count is in ``source_channels``)."""

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sr


def resample(samples: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """Resample with soxr (high quality); a no-op when the rates match.

    >>> resample(np.zeros(8000, dtype=np.float32), 8000, 16000).shape
    (16000,)
    """
    if sr == target_sr:
        return samples
    return soxr.resample(samples, sr, target_sr).astype(np.float32)


def load_audio(path: str | Path, config: AudioConfig = AudioConfig()) -> Audio:
    """Read ``path`` as mono float32 at :data:`ANALYSIS_SR`, or raise :class:`AudioError` saying why.

    ``.raw``/``.pcm`` files are headerless PCM, read with ``config``'s ``raw_*`` fields (see the module's
    docstring).
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    if path.suffix.lower() in RAW_SUFFIXES and not _starts_with_header(path):
        return _load_raw(path, config)
    if is_container(path):
        return _load_container(path, config)
    # python-soundfile takes a name (even a file object's) ending .raw to mean headerless; given nameless
    # bytes, libsndfile identifies the format from the content (here: a .raw file that starts with a header).
    source = io.BytesIO(path.read_bytes()) if path.suffix.lower() == ".raw" else str(path)
    try:
        info = sf.info(source)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(
            f"{path}: not readable audio ({one_line(exc, last=True)}){_raw_hint(path, exc)}"
        ) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError(f"{path}: contains no audio samples")
    _check_length(path, info.frames / info.samplerate, config)
    if not isinstance(source, str):
        source.seek(0)
    try:
        data, sr = sf.read(source, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path}: truncated or corrupt audio ({one_line(exc, last=True)})") from None
    return check_audio(data, sr, config, name=str(path))


def _load_container(path: Path, config: AudioConfig) -> Audio:
    """A media container's first audio stream, through PyAV; the centre channel of 5.1 (see
    :mod:`vowelprompt.media`), noted among the warnings so that the annotation row records it."""
    decoded = load_container(path, config.max_duration_s)
    audio = check_audio(decoded.samples, decoded.sr, config, name=str(path))
    notes = (decoded.note,) if decoded.note else ()
    return replace(
        audio,
        source_channels=decoded.channels,
        source_layout=decoded.layout,
        warnings=(*notes, *audio.warnings),
    )


def _load_raw(path: Path, config: AudioConfig) -> Audio:
    """Headerless PCM, read with the rate, subtype, channels and byte order that ``config`` gives."""
    if config.raw_sample_rate is None:
        raise AudioError(
            f"{path}: headerless PCM has no sample rate; pass --sample-rate (e.g. --sample-rate 16000), "
            f"and --raw-format if it is not signed 16-bit (e.g. --raw-format PCM_S8, ULAW, FLOAT)"
        )
    options = dict(
        format="RAW",
        samplerate=config.raw_sample_rate,
        subtype=config.raw_format,
        channels=config.raw_channels,
        endian=config.raw_endian,
    )
    what = f"{config.raw_format}, {config.raw_channels} channel(s) at {config.raw_sample_rate} Hz"
    try:
        with sf.SoundFile(str(path), **options) as fh:
            frames = fh.frames
            if frames <= 0:
                raise AudioError(f"{path}: contains no audio samples (read as {what})")
            _check_length(path, frames / config.raw_sample_rate, config)
            data = fh.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path}: not readable as headerless {what} ({one_line(exc, last=True)})") from None
    audio = check_audio(data, config.raw_sample_rate, config, name=str(path))
    width = _SAMPLE_BYTES.get(config.raw_format)
    frame_bytes = width * config.raw_channels if width else 0
    if frame_bytes and path.stat().st_size % frame_bytes:
        dropped = path.stat().st_size % frame_bytes
        warning = (
            f"file size is not a whole number of {frame_bytes}-byte frames ({what}): the last {dropped} "
            "byte(s) were dropped; check --raw-format and the channels"
        )
        audio = replace(audio, warnings=(*audio.warnings, warning))
    return audio


def _check_length(path: Path, duration: float, config: AudioConfig) -> None:
    if duration > config.max_duration_s:
        raise AudioError(
            f"{path}: {duration:.1f} s long, over the {config.max_duration_s:.0f} s limit "
            "(--max-duration); split it into utterances first"
        )


def _starts_with_header(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) in _MAGIC


def _raw_hint(path: Path, exc: Exception) -> str:
    """For a file libsndfile cannot identify whose extension names no audio format: how to read it as PCM."""
    known = {f".{name.lower()}" for name in sf.available_formats()} | {".aif", ".aifc", ".snd", ".sph"}
    if "not recognised" in str(exc).lower() and path.suffix.lower() not in known:
        return f"; if it is headerless PCM, name it {path.stem}.raw and pass --sample-rate"
    return ""


def check_audio(data: np.ndarray, sr: int, config: AudioConfig = AudioConfig(), name: str = "audio") -> Audio:
    """Validate in-memory samples (``(n,)`` or ``(n, channels)``), downmix and resample them."""
    data = np.asarray(data, dtype=np.float32)
    channels = 1 if data.ndim == 1 else data.shape[1]
    mono = data if data.ndim == 1 else data.mean(axis=1)
    if mono.size == 0:
        raise AudioError(f"{name}: contains no audio samples")
    if not np.isfinite(mono).all():
        raise AudioError(f"{name}: contains NaN or infinite sample values")
    duration = mono.size / sr
    if duration < config.min_duration_s:
        raise AudioError(
            f"{name}: only {duration * 1000:.0f} ms long (minimum {config.min_duration_s * 1000:.0f} ms)"
        )
    if duration > config.max_duration_s:
        raise AudioError(f"{name}: {duration:.1f} s long, over the {config.max_duration_s:.0f} s limit")
    rms_db = 20 * np.log10(np.sqrt(np.mean(np.square(mono, dtype=np.float64))) + 1e-12)
    if rms_db < config.silence_dbfs:
        raise AudioError(
            f"{name}: silent (overall level {rms_db:.0f} dBFS, threshold {config.silence_dbfs:.0f})"
        )
    warnings = []
    clipped = float(np.mean(np.abs(data) >= 0.999))
    if clipped > config.clip_fraction:
        warnings.append(f"clipped: {clipped:.1%} of samples at full scale; energy descriptors are unreliable")
    if sr < ANALYSIS_SR:
        warnings.append(
            f"low sample rate {sr} Hz: upsampled to {ANALYSIS_SR} Hz, no content above {sr // 2} Hz"
        )
    return Audio(resample(mono, sr, ANALYSIS_SR), ANALYSIS_SR, sr, channels, tuple(warnings))
