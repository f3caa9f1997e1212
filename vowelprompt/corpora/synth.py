"""Synthetic speech with ground-truth word and phone times, for testing aligners and vowel measures.

No emotional speech corpus can be installed offline, and no recorded corpus says *exactly* where its vowels
are. espeak-ng can: it is a rule-based synthesiser, so it knows where it put every phone. :func:`synthesize`
drives ``libespeak-ng.so.1`` through ctypes (:mod:`vowelprompt.corpora.espeak`) and returns the audio with
the truth; :func:`vowelprompt.corpora.psola.psola` changes F0, duration or level of a span by a known factor
(so a test can check that ×1.3 F0 on a vowel reads as a 30 % rise); :func:`write_corpus` writes wav +
transcript + truth files and a manifest.

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

import html
import itertools
import json
import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from vowelprompt.corpora import espeak
from vowelprompt.records import Phone, Word

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
    eng = espeak.engine()
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
        if ev_type == espeak.EVENT_WORD:
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
        if ph_type == espeak.PH_PAUSE:
            segs.append(None)
            continue
        end = hooked[i + 1][0] if i + 1 < len(hooked) else len(audio)
        prev_type = hooked[i - 1][2] if i > 0 else espeak.PH_PAUSE
        if ph_type == espeak.PH_VOWEL and prev_type in (espeak.PH_LIQUID, espeak.PH_NASAL):
            # the event is late (after the onset transition): leave out only leading digital silence
            nonzero = np.flatnonzero(audio[start:end])
            start += int(nonzero[0]) if len(nonzero) else 0
        elif not (ph_type in (espeak.PH_STOP, espeak.PH_VSTOP) and prev_type != espeak.PH_PAUSE):
            start = max(start, event)  # [hook, event) is a pre-pause: silence between words, not this phone
        segs.append(_Seg(symbol, ph_type, start, end, event, pos))
    features = None
    for j, seg in enumerate(segs):
        if seg is None or seg.ph_type == espeak.PH_VOWEL or seg.end > seg.start:
            continue
        # espeak synthesised this consonant inside a neighbouring vowel: a nasal or /j/ before a vowel is the
        # vowel's onset sequence, a dark /l/ after one its ending. Cut it out where the spectrum turns.
        nxt = segs[j + 1] if j + 1 < len(segs) else None
        prev = segs[j - 1] if j > 0 else None
        if features is None:
            features = _log_mel(audio, sr)
        if seg.symbol != ";" and nxt is not None and nxt.ph_type == espeak.PH_VOWEL:
            cut = _turn(features, nxt.start, max(nxt.event, nxt.start + 1), _THETA_ONSET, sr)
            seg.start, seg.end, nxt.start = nxt.start, cut, cut
            seg.estimated = nxt.estimated = True
        elif seg.symbol != ";" and prev is not None and prev.ph_type == espeak.PH_VOWEL:
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
