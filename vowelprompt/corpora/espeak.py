"""ctypes binding to espeak-ng's C library (``libespeak-ng.so.1``, espeak-ng ≥ 1.50), for synthesis with
ground truth.

:class:`Engine` loads and initialises the library once per process (:func:`engine`) and, during one call of
:meth:`Engine.synth`, collects the audio, the word and phoneme events and the ``outputPhoSymbol`` hook
records from which :mod:`vowelprompt.corpora.synth` recovers the true phone times (its module docstring
says how). :func:`espeak_available` tells whether the library and its data load on this machine.
"""

from __future__ import annotations

import ctypes
import re
import threading
from functools import cache

import numpy as np

LIBRARY = "libespeak-ng.so.1"

# speak_lib.h / espeak_ng.h (espeak-ng 1.51)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SSML = 0x10
EVENT_LIST_TERMINATED, EVENT_WORD, EVENT_PHONEME = 0, 1, 7
_RATE, _VOLUME, _PITCH = 1, 2, 3
# phoneme types, src/libespeak-ng/phoneme.h
PH_PAUSE, PH_VOWEL, PH_LIQUID, PH_STOP, PH_VSTOP, PH_NASAL = 0, 2, 3, 4, 5, 8


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    # 40 bytes on 64-bit Linux: six 4-byte ints, then the pointer and the union at 8-byte alignment.
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters of the input (SSML tags included)
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms, truncated
        ("sample", ctypes.c_int),  # the same position in samples
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_PHO_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int)
_SAMPLE_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_short)


class _OutputHooks(ctypes.Structure):
    _fields_ = [
        ("outputPhoSymbol", _PHO_HOOK),
        ("outputSilence", _SAMPLE_HOOK),
        ("outputVoiced", _SAMPLE_HOOK),
        ("outputUnvoiced", _SAMPLE_HOOK),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class Engine:
    """The library, initialised once, and the buffers its callbacks fill during one synthesis.

    espeak-ng is a process-wide singleton, so calls are serialised with a lock. The ctypes callback objects
    are kept on the instance: if they were garbage-collected, espeak would call freed memory.
    """

    def __init__(self) -> None:
        lib = ctypes.CDLL(LIBRARY)
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_Voice)]
        lib.espeak_ng_SetOutputHooks.argtypes = [ctypes.POINTER(_OutputHooks)]
        self.lib = lib
        self.sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS)
        if self.sr <= 0:
            raise OSError(f"espeak_Initialize failed ({self.sr}): is espeak-ng-data installed?")
        data = ctypes.c_char_p()
        self.version = lib.espeak_Info(ctypes.byref(data)).decode()
        #: The espeak-ng-data folder it reads (ESPEAK_DATA_PATH's, where that is set).
        self.data_path = (data.value or b"").decode()
        self.lock = threading.Lock()
        self._callback = _SYNTH_CALLBACK(self._on_audio)
        count = _SAMPLE_HOOK(self._count_sample)  # silence, voiced and unvoiced samples alike
        self._hooks = _OutputHooks(_PHO_HOOK(self._on_phone), count, count, count)
        lib.espeak_SetSynthCallback(self._callback)
        lib.espeak_ng_SetOutputHooks(ctypes.byref(self._hooks))
        self._reset()

    def _reset(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[int, int, int, str]] = []  # (type, text_position, sample, phoneme)
        self.hooked: list[tuple[int, str, int]] = []  # (sample, phoneme, phoneme type)
        self.n_samples = 0

    def _on_audio(self, wav, n: int, events) -> int:
        if n > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            e = events[i]
            if e.type in (EVENT_WORD, EVENT_PHONEME):
                symbol = _mnemonic(e.id.string) if e.type == EVENT_PHONEME else ""
                self.events.append((e.type, e.text_position, e.sample, symbol))
            i += 1
        return 0  # continue synthesis

    def _on_phone(self, symbol: bytes, ph_type: int) -> None:
        entry = (self.n_samples, _mnemonic(symbol), ph_type)
        if not self.hooked or self.hooked[-1] != entry:  # re-queued after a wait for queue space
            self.hooked.append(entry)

    def _count_sample(self, _sample: int) -> None:
        self.n_samples += 1

    def synth(self, text: str, voice: str, rate_wpm: int, pitch: int, amplitude: int, ssml: bool):
        """Audio (int16) and the raw events and hook records of one utterance. Call with the lock held."""
        self.set_voice(voice)
        for parameter, value in ((_RATE, rate_wpm), (_PITCH, pitch), (_VOLUME, amplitude)):
            self.lib.espeak_SetParameter(parameter, int(value), 0)
        self._reset()
        data = text.encode()
        flags = _CHARS_UTF8 | (_SSML if ssml else 0)
        self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
        self.lib.espeak_Synchronize()
        audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        return audio, self.events, self.hooked

    def set_voice(self, voice: str) -> None:
        """Select ``voice``: a voice file name (``en-us``, ``gmw/en``) or a language (``en-gb``), each with an
        optional ``+variant``. espeak_SetVoiceByName knows only file names, and en-gb's file is ``gmw/en``;
        like the espeak-ng command line, a language is looked up among the voices (mbrola ones skipped, as
        they need an mbrola install)."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) == 0:
            return
        language, plus, variant = voice.partition("+")
        found = self.lib.espeak_ListVoices(ctypes.byref(_Voice(languages=language.encode())))
        i = 0
        while found[i]:  # NULL-terminated, best match first
            identifier = found[i].contents.identifier.decode()
            if not identifier.startswith("mb/"):
                if self.lib.espeak_SetVoiceByName(f"{identifier}{plus}{variant}".encode()) == 0:
                    return
                break
            i += 1
        raise ValueError(f"espeak-ng has no voice {voice!r} (try en-us, en-gb, en-us+f3, en-gb+m3)")

    def phone_count(self, word: str) -> int:
        """How many phones espeak gives ``word`` spoken alone (current voice). Call with the lock held."""
        ptr = ctypes.c_char_p(word.encode())
        names: list[str] = []
        while ptr.value:  # one call per clause; espeak advances ptr, and sets it to NULL at the end
            names += re.split(
                r"[| ]",
                self.lib.espeak_TextToPhonemes(ctypes.byref(ptr), _CHARS_UTF8, ord("|") << 8).decode(),
            )
        return sum(1 for n in names if n.lstrip("',") and not n.startswith("_"))


def _mnemonic(raw: bytes) -> str:
    """An espeak phoneme name without stress marks (espeak-ng ≥ 1.52 prefixes them in phoneme events)."""
    return raw.decode().lstrip("',")


@cache
def engine() -> Engine:
    return Engine()


def espeak_available() -> bool:
    """True if libespeak-ng (≥ 1.50, for the output hooks) and its data load, so synthesis can run."""
    try:
        engine()
    except (OSError, AttributeError):  # library missing, or too old to have espeak_ng_SetOutputHooks
        return False
    return True
