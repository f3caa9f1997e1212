"""Synthetic speech with ground-truth word and phone times, for testing aligners and vowel measures.

No emotional speech corpus can be installed offline, and no recorded corpus says *exactly* where its vowels
are. espeak-ng can: it is a rule-based synthesiser, so it knows where it put every phone. :func:`synthesize`
drives ``libespeak-ng.so.1`` through ctypes (:mod:`vowelprompt.corpora.espeak`) and returns the audio with
the truth; :func:`vowelprompt.corpora.psola.psola` changes F0, duration or level of a span by a known factor
(so a test can check that ×1.3 F0 on a vowel reads as a 30 % rise); :func:`write_corpus` writes wav +
transcript + truth files and a manifest.

How the truth is recovered from espeak's events and hooks, and how accurate it is:
:mod:`vowelprompt.corpora.segment`.
"""

from __future__ import annotations

import html
import inspect
import itertools
import json
import os
import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from vowelprompt.corpora import espeak, variants
from vowelprompt.corpora.benchmark_sets import (  # noqa: F401 (the benchmarks' names, as before the split)
    DEFAULT_SENTENCES,
    HELDOUT2_SENTENCES,
    HELDOUT2_VOICES,
    HELDOUT_SENTENCES,
    HELDOUT_VOICES,
    SETS,
    TUNING_RATES,
    TUNING_VOICES,
)
from vowelprompt.corpora.segment import assign_words, time_phones
from vowelprompt.records import Phone, Word


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


#: Seconds of digital silence :func:`synthesize` adds at both ends of an utterance.
PAD_S = 0.2


def synthesize(
    text: str,
    voice: str = "en-us",
    rate_wpm: int = 175,
    pitch: int = 50,
    amplitude: int = 100,
    ssml: bool = False,
    pad_s: float = PAD_S,
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
    eng = espeak.engine()
    variant = voice.partition("+")[2]
    if variants.seed_of(voice) is not None and not (Path(eng.data_path) / "voices" / "!v" / variant).exists():
        # espeak-ng would speak the voice without it, unannounced
        raise ValueError(
            f"voice variant {variant} is generated (vowelprompt.corpora.variants) and not in espeak-ng's "
            f"data folder {eng.data_path}: synthesise it with write_corpus_fresh, which adds it"
        )
    with eng.lock:
        audio, events, hooked = eng.synth(text, voice, rate_wpm, pitch, amplitude, ssml)
        phones = time_phones(audio, events, hooked, eng.sr)
        owner = assign_words([p.word_pos for p in phones], tokens, eng.phone_count)
    pad = round(pad_s * eng.sr)
    sec = 1.0 / eng.sr
    truth_phones = tuple(
        TruthPhone(
            p.symbol,
            (pad + p.start) * sec,
            (pad + p.end) * sec,
            p.ph_type == espeak.PH_VOWEL,
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


def write_corpus_fresh(out_dir: str | Path, *args, **kwargs) -> Path:
    """:func:`write_corpus` in a new process: espeak-ng carries synthesiser state from one utterance to the
    next within a process (its audio for a sentence differs after other voices were spoken), so a corpus
    written this way is the same whatever this process synthesised before. Generated voice variants
    (``en-gb+gen14``, :mod:`vowelprompt.corpora.variants`) are written to a data folder in ``out_dir``
    (``.espeak``) that the new process reads."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    voices = inspect.signature(write_corpus).bind(out_dir, *args, **kwargs).arguments.get("voices", ())
    seeds = sorted({s for s in map(variants.seed_of, voices) if s is not None})
    env = {}
    if seeds:  # this process's engine says where the installed data is; the new one reads it with them
        folder = variants.data_folder(espeak.engine().data_path, seeds, Path(out_dir) / ".espeak")
        env = {"ESPEAK_DATA_PATH": str(folder)}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=_set_env, initargs=(env,)) as pool:
        return pool.submit(write_corpus, out_dir, *args, **kwargs).result()


def _set_env(env: dict[str, str]) -> None:
    os.environ.update(env)
