"""Synthetic speech with ground-truth word and phone times, for testing aligners and vowel measures.

No emotional speech corpus can be installed offline, and no recorded corpus says *exactly* where its vowels
are. espeak-ng can: it is a rule-based synthesiser, so it knows where it put every phone. :func:`synthesize`
drives ``libespeak-ng.so.1`` through ctypes and returns the audio with the truth; :func:`psola` changes F0,
duration or level of a span by a known factor (so a test can check that ×1.3 F0 on a vowel reads as a 30 %
rise); :func:`write_corpus` writes wav + transcript + truth files and a manifest.

How the truth is recovered (espeak-ng 1.51: ``synthesize.c``, ``wavegen.c``)
---------------------------------------------------------------------------
espeak reports phones in two ways, and neither alone is right:

* ``espeakEVENT_PHONEME`` events (``espeak_Initialize(..., espeakINITIALIZE_PHONEME_EVENTS)``) carry the
  sample at which they were emitted (``sample``; ``audio_position`` is the same in whole ms). They come
  *after* a phone's pre-pause (a stop's closure, or a gap between words), and for a vowel after a liquid or
  nasal only after the vowel's onset transition: such vowels start ~40 ms late in the events.
* The output hook ``outputPhoSymbol`` (``espeak_ng_SetOutputHooks``, espeak-ng ≥ 1.50) is queued at the top
  of the synthesis loop for each phone, before its pre-pause and its audio, and gives espeak's phoneme type
  (vowel, stop, liquid, nasal, pause …). Its sample is known by counting samples in the per-sample hooks.
  It is queued again when the loop waits for queue space: consecutive duplicates are dropped.

A phone runs from its hook position to the next phone's, with two corrections. (1) A pre-pause, the span
between hook and event, holds nothing but silence (or the voice's echo); it is left out as a gap, except
before a stop that follows speech, where it is the stop's closure and belongs to the stop, as in MFA's and
the CMU models' phone sets. (2) espeak synthesises some consonants *inside* a neighbouring vowel, so their
own span is empty: a nasal or /j/ before a vowel is the vowel's onset sequence, a dark /l/ after one its
ending. Such a consonant is cut out of that vowel where the spectrum turns from consonant to vowel (see
:func:`_turn`), and both get ``estimated=True``. Pauses (``_``, ``_:``) are not phones; they end phones.
``;``, espeak's linking glide between vowels ("every evening"), has no audio and is left out.

Verification (espeak-ng 1.51; 16 sentences × en-us, en-gb, +m1, +f3, +m3, +f2 × 120, 175, 220, 260 wpm):
hook and event phone sequences were identical in all 384 utterances. Of 11,964 hook/event pairs, 8,832
coincide to the sample; the other 3,132 differ by a pre-pause, which was digital silence in all 2,088
checked (voices without echo). 386 of 416 pauses start on the first silent sample (the other 30 follow a
phone whose audio had already ended). All 1,073 gaps the truth leaves between phones are digital silence.
Formant tracks (Praat, Burg) show the hook position of a vowel after /l/ or /w/ where F1/F2 start moving
from the liquid to the vowel, and the event where they arrive. 17 % of phones (20 % of vowels) have an
estimated boundary; on the 2,280 sonorant–vowel boundaries that espeak does give, the estimate is off by a
median of −1 (onsets) and +5 ms (offsets), mean absolute error 11 and 10 ms, 90 % within 21 and 26 ms.
pocketsphinx's alignment of 80 of these files puts vowel boundaries a median 7–14 ms from the truth.

Believed accuracy: every boundary not marked ``estimated`` is espeak's own segmentation, exact to the
sample; ones at silence, closures and releases are also exact acoustic landmarks. ``estimated`` ones are
good to about ±10 ms. Convention: the vowel owns its transitions, as in espeak. For a vowel after a sonorant
the onset is where the transition starts; aligners trained on natural speech put it mid-transition
(pocketsphinx: 22 ms later on average), so compare those boundaries with that offset in mind.
espeak's output differs by a few samples from call to call (its wave generator keeps state between
calls), and estimated boundaries may move by a few ms with it; the truth describes the samples it comes with.

Words
-----
espeak's word events carry the character position of the word in the input (SSML tags included). The
truth words are the transcript's orthographic tokens, cut as the pocketsphinx aligner cuts them (runs of
letters/digits, apostrophes inside a word kept), so truth and alignment compare word by word. A word event
belongs to the token that contains its position (or the next token: ``$`` in ``$5`` is spoken as "dollars"
and goes to ``5``); a number read as several words ("42" → forty, two) gives several events in one token,
merged. Some word pairs are one dictionary entry (``of a``, ``in the``, and ``well-known``, ``U.S.A.``
spell several tokens) and give one event for several tokens: their phones are shared out in order by the
number of phones espeak gives each token spoken alone (``espeak_TextToPhonemes``): exact when the counts
add up (all 42 merges seen: in the, on the, of a, of the, to be, out of), proportional otherwise. Word
events espeak emits for pauses at the end of a clause (length 0) carry no phones and are ignored.
"""

from __future__ import annotations

import ctypes
import html
import itertools
import json
import random
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from vowelprompt.records import Phone, Word

LIBRARY = "libespeak-ng.so.1"

#: Ten emotionally neutral English sentences of 6–14 words, no digits or abbreviations, with varied
#: vowels, stops, liquids, nasals and clause structure.
DEFAULT_SENTENCES: tuple[str, ...] = (
    "The yellow boat drifted slowly across the quiet harbor at dawn.",
    "She measured the wooden table twice before cutting it.",
    "Anyone who lives near the river knows about the morning fog.",
    "Please bring three oranges, a loaf of bread, and some cheese.",
    "Although the journey was long, we arrived just after noon.",
    "The museum opens at nine and closes early on Sundays.",
    "Could you explain why the train was delayed again?",
    "Thousands of birds gathered on the wires above the old station.",
    "Every evening the keeper wrote a few lines in his journal.",
    "My brother keeps his bicycle in the garage.",
)

# speak_lib.h / espeak_ng.h (espeak-ng 1.51)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SSML = 0x10
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_RATE, _VOLUME, _PITCH = 1, 2, 3
# phoneme types, src/libespeak-ng/phoneme.h
_PH_PAUSE, _PH_VOWEL, _PH_LIQUID, _PH_STOP, _PH_VSTOP, _PH_NASAL = 0, 2, 3, 4, 5, 8


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


class _Engine:
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
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
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
        self.version = lib.espeak_Info(None).decode()
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
        while events[i].type != _EVENT_LIST_TERMINATED:
            e = events[i]
            if e.type in (_EVENT_WORD, _EVENT_PHONEME):
                symbol = _mnemonic(e.id.string) if e.type == _EVENT_PHONEME else ""
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
def _engine() -> _Engine:
    return _Engine()


def espeak_available() -> bool:
    """True if libespeak-ng (≥ 1.50, for the output hooks) and its data load, so synthesis can run."""
    try:
        _engine()
    except (OSError, AttributeError):  # library missing, or too old to have espeak_ng_SetOutputHooks
        return False
    return True


@dataclass(frozen=True)
class TruthPhone:
    """One phone as espeak synthesised it: its espeak mnemonic (``I``, ``@``, ``aI``, ``t#``), times, and
    the index of its word in :attr:`SynthUtterance.words`. ``is_vowel`` is espeak's own phoneme type; it
    includes syllabic consonants (``@L`` in "little", ``n-`` in "button"), which are syllable nuclei."""

    symbol: str
    start_s: float
    end_s: float
    is_vowel: bool
    word_index: int
    estimated: bool = False  # a boundary was found in the signal, not given by espeak (module docstring)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class TruthWord:
    """One orthographic word of the transcript: from the start of its first phone to the end of its last."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SynthUtterance:
    """A synthesised utterance and its ground truth. ``samples`` are mono float32 in [-1, 1] at ``sr`` Hz;
    all times are seconds from the first sample (padding included)."""

    text: str
    voice: str
    rate_wpm: int
    pitch: int
    samples: np.ndarray = field(repr=False)
    sr: int
    words: tuple[TruthWord, ...]
    phones: tuple[TruthPhone, ...]
    amplitude: int = 100
    ssml: bool = False
    engine: str = ""

    @property
    def vowels(self) -> tuple[TruthPhone, ...]:
        return tuple(p for p in self.phones if p.is_vowel)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sr

    @property
    def transcript(self) -> str:
        """The text as a person would write it: SSML tags removed and entities resolved."""
        return _unmarkup(self.text) if self.ssml else self.text

    def to_words(self) -> tuple[Word, ...]:
        """The truth as the aligners' records (phone labels are espeak mnemonics), to score an alignment."""
        return tuple(
            Word(w.text, w.start_s, w.end_s, tuple(_phone_records(self.phones, i)), "alignment")
            for i, w in enumerate(self.words)
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything but the samples, for a JSON truth file."""
        return {
            "text": self.text,
            "transcript": self.transcript,
            "voice": self.voice,
            "rate_wpm": self.rate_wpm,
            "pitch": self.pitch,
            "amplitude": self.amplitude,
            "ssml": self.ssml,
            "engine": self.engine,
            "sr": self.sr,
            "duration_s": self.duration_s,
            "words": [asdict(w) for w in self.words],
            "phones": [asdict(p) for p in self.phones],
        }


def _phone_records(phones: tuple[TruthPhone, ...], word_index: int) -> list[Phone]:
    return [Phone(p.symbol, p.start_s, p.end_s) for p in phones if p.word_index == word_index]


_MARKUP = re.compile(r"<[^>]*>|&#?\w+;")  # SSML tags and entities: not words, and not to be matched as words
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")  # as vowelprompt.align.pocketsphinx cuts a transcript


def _unmarkup(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", text)).split())


def _tokens(text: str, ssml: bool) -> list[re.Match[str]]:
    masked = _MARKUP.sub(lambda m: " " * len(m.group()), text) if ssml else text
    return list(_TOKEN.finditer(masked))


def synthesize(
    text: str,
    voice: str = "en-us",
    rate_wpm: int = 175,
    pitch: int = 50,
    amplitude: int = 100,
    ssml: bool = False,
    pad_s: float = 0.2,
) -> SynthUtterance:
    """Speak ``text`` with espeak-ng and return the audio with its word and phone times.

    ``voice`` is an espeak voice name, optionally with a variant (``en-us``, ``en-gb+m3``, ``en-us+f3``);
    ``rate_wpm`` is espeak's speed (80–450, natural speech ≈ 120–260); ``pitch`` its base pitch (0–100, 50 is
    the voice's own); ``amplitude`` its volume (0–200, 100 normal). With ``ssml`` the text may hold SSML
    (``<prosody pitch="+20%">``); times still refer to the audio. ``pad_s`` of digital silence is added at
    both ends, as around a recorded utterance: espeak starts speaking at its first sample.
    """
    tokens = _tokens(text, ssml)
    if not tokens:
        raise ValueError(f"no words to speak in {text!r}")
    eng = _engine()
    with eng.lock:
        audio, events, hooked = eng.synth(text, voice, rate_wpm, pitch, amplitude, ssml)
        phones = _phones(audio, events, hooked, eng.sr)
        owner = _assign_words([p.word_pos for p in phones], tokens, eng.phone_count)
    pad = round(pad_s * eng.sr)
    sec = 1.0 / eng.sr
    truth_phones = tuple(
        TruthPhone(
            p.symbol,
            (pad + p.start) * sec,
            (pad + p.end) * sec,
            p.ph_type == _PH_VOWEL,
            owner[i],
            p.estimated,
        )
        for i, p in enumerate(phones)
    )
    words = tuple(
        TruthWord(
            tok.group(),
            min(p.start_s for p in truth_phones if p.word_index == k),
            max(p.end_s for p in truth_phones if p.word_index == k),
        )
        for k, tok in enumerate(tokens)
    )
    samples = np.concatenate([np.zeros(pad), audio / 32768.0, np.zeros(pad)]).astype(np.float32)
    engine = f"espeak-ng {eng.version}"
    return SynthUtterance(
        text, voice, rate_wpm, pitch, samples, eng.sr, words, truth_phones, amplitude, ssml, engine
    )


@dataclass
class _Seg:
    """A phone being timed, in samples of espeak's output. ``event`` is where its phoneme event fell."""

    symbol: str
    ph_type: int
    start: int
    end: int
    event: int
    word_pos: int | None  # text position of the word event it follows
    estimated: bool = False


def _phones(audio: np.ndarray, events, hooked, sr: int) -> list[_Seg]:
    """The timed phones of one utterance, pauses dropped (module docstring: "How the truth is recovered").

    The hook records and the phoneme events are the same phones in the same order (checked); the word each
    phone belongs to comes from the word event before it in the event stream.
    """
    evented: list[tuple[int, str, int | None]] = []  # (sample, symbol, word text position)
    word_pos: int | None = None
    for ev_type, text_position, sample, symbol in events:
        if ev_type == _EVENT_WORD:
            word_pos = text_position
        else:
            evented.append((sample, symbol, word_pos))
    if [s for _, s, _ in evented] != [s for _, s, _ in hooked]:
        raise RuntimeError(
            "espeak-ng's phoneme events and output hooks disagree: "
            f"{[s for _, s, _ in evented]} vs {[s for _, s, _ in hooked]}"
        )
    segs: list[_Seg | None] = []  # None stands for a pause, so that neighbours stay neighbours
    for i, ((start, symbol, ph_type), (event, _, pos)) in enumerate(zip(hooked, evented, strict=True)):
        if ph_type == _PH_PAUSE:
            segs.append(None)
            continue
        end = hooked[i + 1][0] if i + 1 < len(hooked) else len(audio)
        prev_type = hooked[i - 1][2] if i > 0 else _PH_PAUSE
        if ph_type == _PH_VOWEL and prev_type in (_PH_LIQUID, _PH_NASAL):
            # the event is late (after the onset transition): leave out only leading digital silence
            nonzero = np.flatnonzero(audio[start:end])
            start += int(nonzero[0]) if len(nonzero) else 0
        elif not (ph_type in (_PH_STOP, _PH_VSTOP) and prev_type != _PH_PAUSE):
            start = max(start, event)  # [hook, event) is a pre-pause: silence between words, not this phone
        segs.append(_Seg(symbol, ph_type, start, end, event, pos))
    features = None
    for j, seg in enumerate(segs):
        if seg is None or seg.ph_type == _PH_VOWEL or seg.end > seg.start:
            continue
        # espeak synthesised this consonant inside a neighbouring vowel: a nasal or /j/ before a vowel is the
        # vowel's onset sequence, a dark /l/ after one its ending. Cut it out where the spectrum turns.
        nxt = segs[j + 1] if j + 1 < len(segs) else None
        prev = segs[j - 1] if j > 0 else None
        if features is None:
            features = _log_mel(audio, sr)
        if seg.symbol != ";" and nxt is not None and nxt.ph_type == _PH_VOWEL:
            cut = _turn(features, nxt.start, max(nxt.event, nxt.start + 1), _THETA_ONSET, sr)
            seg.start, seg.end, nxt.start = nxt.start, cut, cut
            seg.estimated = nxt.estimated = True
        elif seg.symbol != ";" and prev is not None and prev.ph_type == _PH_VOWEL:
            cut = _turn(features, prev.end, max(prev.event, prev.start), _THETA_OFFSET, sr)
            seg.start, seg.end, prev.end = cut, prev.end, cut
            seg.estimated = prev.estimated = True
        # else: no audio of its own and no vowel to take it from (";" is espeak's linking glide in
        # "every evening"): left out
    return [seg for seg in segs if seg is not None and seg.end > seg.start]


#: How far (0–1) the spectrum must have moved from the consonant towards the vowel to count as the boundary.
#: Fitted on the boundaries espeak does give (liquid → vowel, and vowel → nasal/liquid with audio of its
#: own; 2,280 cases, 6 voices, 120–260 wpm), which they reproduce with a median error of −1 and +5 ms and a
#: mean absolute error of 11 and 10 ms. Onsets turn early, offsets late: the vowel owns its transitions, as
#: in espeak's own segmentation.
_THETA_ONSET, _THETA_OFFSET = 0.2, 0.4
_MEL_HOP_S, _MEL_WIN_S = 0.001, 0.015  # 1 ms steps; 15 ms windows resolve a 20 ms consonant


def _log_mel(audio: np.ndarray, sr: int) -> np.ndarray:
    """24 log mel bands (80–5000 Hz) of Hann frames; frame k is centred on sample ``k * hop``."""
    hop, win, n_fft = round(_MEL_HOP_S * sr), round(_MEL_WIN_S * sr), 512
    x = np.concatenate([np.zeros(win // 2), audio / 32768.0, np.zeros(win)])
    starts = hop * np.arange(len(audio) // hop + 1)
    frames = x[starts[:, None] + np.arange(win)] * np.hanning(win)
    power = np.abs(np.fft.rfft(frames, n_fft)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    mel = np.linspace(2595 * np.log10(1 + 80 / 700), 2595 * np.log10(1 + 5000 / 700), 26)
    lo, mid, hi = (700 * (10 ** (mel[k : k + 24, None] / 2595) - 1) for k in range(3))
    bank = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return 10 * np.log10(power @ bank.T + 1e-10)


def _turn(features: np.ndarray, cons_edge: int, vowel_at: int, theta: float, sr: int) -> int:
    """The sample between a consonant edge and a point in the vowel where the spectrum has moved ``theta``
    of the way from the consonant to the vowel, scanning from the consonant. The consonant's reference
    frame is 12 ms inside it (past the window's reach into the phone before), or a third of the way."""
    hop = round(_MEL_HOP_S * sr)
    step = 1 if vowel_at > cons_edge else -1
    ref = cons_edge + step * min(round(0.012 * sr), abs(vowel_at - cons_edge) // 3)
    ks = np.arange(ref // hop, vowel_at // hop + step, step)
    c, v = features[ref // hop], features[vowel_at // hop]
    progress = (features[ks] - c) @ (v - c) / max(float((v - c) @ (v - c)), 1e-9)
    moved = np.flatnonzero(progress > theta)
    return int(ks[moved[0]] * hop) if len(moved) else (cons_edge + vowel_at) // 2


def _assign_words(word_pos: list[int | None], tokens: list[re.Match[str]], count) -> list[int]:
    """The token index of each phone, from the text position of its word event (module docstring, "Words")."""
    owner: list[int] = []
    for pos in word_pos:
        k = next((k for k, t in enumerate(tokens) if pos is not None and t.end() >= pos), None)
        owner.append(k if k is not None else (owner[-1] if owner else 0))
    # tokens without phones were spoken inside the previous token's word event: share that event's phones out
    k = 0
    while k < len(tokens):
        m = k + 1
        while m < len(tokens) and m not in owner:
            m += 1
        if k not in owner:
            raise RuntimeError(f"espeak-ng spoke no phones for {tokens[k].group()!r}")
        if m > k + 1:
            idx = [i for i, o in enumerate(owner) if o == k]
            counts = [max(count(tokens[j].group()), 1) for j in range(k, m)]
            if len(idx) < len(counts):
                raise RuntimeError(f"too few phones to share out over {[t.group() for t in tokens[k:m]]}")
            # where each token's share ends: exact when the counts add up; at least one phone each
            ends = np.round(np.cumsum(counts) / sum(counts) * len(idx)).astype(int)
            for j in range(len(ends)):
                ends[j] = min(max(ends[j], (ends[j - 1] if j else 0) + 1), len(idx) - (len(ends) - 1 - j))
            for j, (a, b) in enumerate(zip([0, *ends[:-1]], ends, strict=True)):
                for i in idx[a:b]:
                    owner[i] = k + j
        k = m
    return owner


def psola(
    samples: np.ndarray,
    sr: int,
    f0_factor: float = 1.0,
    duration_factor: float = 1.0,
    gain_db: float = 0.0,
    start_s: float | None = None,
    end_s: float | None = None,
    f0_ramp_st: tuple[float, float] | None = None,
    seed: int | None = 0,
) -> np.ndarray:
    """Scale F0 and duration with Praat's PSOLA, and level, inside [start_s, end_s] (default: everything).

    ``f0_ramp_st=(a, b)`` also shifts F0 by a ramp from ``a`` to ``b`` semitones across the span (a pitch
    movement: ``(0, 5)`` rises by 5 st, ``(5, 0)`` falls from 5 st above the original).

    F0 is multiplied on the Manipulation's pitch tier and duration set on its duration tier, then
    resynthesised by overlap-add (Praat's ``To Manipulation`` with 10 ms steps and a 75–600 Hz pitch range,
    which covers the espeak voices). Gain is applied to the same span of the output with 5 ms linear ramps
    just outside it, against clicks. Overlap-add places unvoiced periods at random: ``seed`` seeds Praat's
    generator for this call (then reseeds it unpredictably), so the same input gives the same output; ``None``
    leaves it alone. A duration change makes the output longer by
    ``(end_s - start_s) * (duration_factor - 1)``: times after the span shift by that much, and the span
    itself ends at ``start_s + (end_s - start_s) * duration_factor``. Returns float32 (not clipped).
    """
    import parselmouth
    from parselmouth.praat import call

    total_s = len(samples) / sr
    start = 0.0 if start_s is None else start_s
    end = total_s if end_s is None else end_s
    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=sr)
    out = np.asarray(samples, dtype=np.float64)
    if f0_factor != 1.0 or duration_factor != 1.0 or f0_ramp_st is not None:
        manipulation = call(sound, "To Manipulation", 0.01, 75, 600)
        if f0_factor != 1.0 or f0_ramp_st is not None:
            pitch_tier = call(manipulation, "Extract pitch tier")
            if f0_factor != 1.0:
                call(pitch_tier, "Multiply frequencies", start, end, f0_factor)
            if f0_ramp_st is not None:
                a, b = f0_ramp_st
                semitones = f"({a} + ({b} - {a}) * (x - {start}) / ({end} - {start}))"
                formula = f"if x >= {start} and x <= {end} then self * 2 ^ ({semitones} / 12) else self fi"
                call(pitch_tier, "Formula", formula)
            call([manipulation, pitch_tier], "Replace pitch tier")
        if duration_factor != 1.0:
            tier = call("Create DurationTier", "duration", 0.0, total_s)
            if start_s is None and end_s is None:
                call(tier, "Add point", 0.0, duration_factor)
            else:
                edge = 1e-3  # 1 ms steps from 1 to the factor: the tier interpolates linearly between points
                for t, factor in zip(
                    (start - edge, start, end, end + edge),
                    (1.0, duration_factor, duration_factor, 1.0),
                    strict=True,
                ):
                    call(tier, "Add point", t, factor)
            call([manipulation, tier], "Replace duration tier")
        if seed is not None:
            parselmouth.praat.run(f"random_initializeWithSeedUnsafelyButPredictably ({int(seed)})")
        try:
            out = call(manipulation, "Get resynthesis (overlap-add)").values[0]
        finally:
            if seed is not None:
                parselmouth.praat.run("random_initializeSafelyAndUnpredictably ()")
    if gain_db:
        ramp_s = 0.005
        out_end = start + (end - start) * duration_factor
        ramp = np.interp(
            np.arange(len(out)) / sr, [start - ramp_s, start, out_end, out_end + ramp_s], [0, 1, 1, 0]
        )
        out = out * (1.0 + ramp * (10 ** (gain_db / 20) - 1.0))
    return out.astype(np.float32)


def write_corpus(
    out_dir: str | Path,
    sentences: Sequence[str] = DEFAULT_SENTENCES,
    voices: Sequence[str] = ("en-us",),
    rates: Sequence[int] = (175,),
    pitches: Sequence[int] = (50,),
    seed: int = 0,
) -> Path:
    """Synthesise every sentence × voice × rate × pitch into ``out_dir``; return the manifest's path.

    Per utterance: ``<id>.wav`` (16-bit PCM at espeak's rate, 22050 Hz), ``<id>.txt`` (the transcript, as MFA
    expects beside each wav) and ``<id>.truth.json`` (:meth:`SynthUtterance.to_dict`). ``manifest.jsonl`` has
    one row per utterance: ``id, audio, text, speaker, voice, rate_wpm, pitch, truth`` with paths relative to
    its folder; the speaker is the voice with its variant (``en-us+f3``). Rows are shuffled with ``seed``, so
    that any prefix of the manifest mixes voices and rates.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for voice, rate, pitch, (n, sentence) in itertools.product(voices, rates, pitches, enumerate(sentences)):
        utt = synthesize(sentence, voice=voice, rate_wpm=rate, pitch=pitch)
        uid = f"{voice.replace('+', '-')}_r{rate}_p{pitch}_s{n:03d}"
        sf.write(out / f"{uid}.wav", utt.samples, utt.sr, subtype="PCM_16")
        (out / f"{uid}.txt").write_text(utt.transcript + "\n", encoding="utf-8")
        truth = json.dumps(utt.to_dict(), indent=1, ensure_ascii=False)
        (out / f"{uid}.truth.json").write_text(truth, encoding="utf-8")
        row = dict(id=uid, audio=f"{uid}.wav", text=utt.transcript, speaker=voice, voice=voice, rate_wpm=rate)
        rows.append(row | dict(pitch=pitch, truth=f"{uid}.truth.json"))
    random.Random(seed).shuffle(rows)
    manifest = out / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return manifest
