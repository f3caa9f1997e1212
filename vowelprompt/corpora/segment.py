"""Timing espeak-ng's phones and words from its events and output hooks: the ground truth of
:func:`vowelprompt.corpora.synth.synthesize`.

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
ending (and in the Scottish voices the /r/ after every r-coloured vowel). Such a consonant is cut out of that
vowel where the spectrum turns from consonant to vowel (:func:`_turn`; a vowel's end: :func:`vowel_end`), and
both get ``estimated=True``. Pauses (``_``, ``_:``) are not phones; they end phones. ``;``, espeak's linking
glide between vowels ("every evening"), has no audio and is left out.

Verification (espeak-ng 1.51; 16 sentences × en-us, en-gb, +m1, +f3, +m3, +f2 × 120, 175, 220, 260 wpm):
hook and event phone sequences were identical in all 384 utterances. Of 11,964 hook/event pairs, 8,832
coincide to the sample; the other 3,132 differ by a pre-pause, which was digital silence in all 2,088
checked (voices without echo). 386 of 416 pauses start on the first silent sample (the other 30 follow a
phone whose audio had already ended). All 1,073 gaps the truth leaves between phones are digital silence.
Formant tracks (Praat, Burg) show the hook position of a vowel after /l/ or /w/ where F1/F2 start moving
from the liquid to the vowel, and the event where they arrive. 17 % of phones (20 % of vowels) have an
estimated boundary; on the 2,280 sonorant–vowel boundaries that espeak does give, the estimate is off by a
median of −1 (onsets) and +5 ms (offsets), mean absolute error 11 and 10 ms, 90 % within 21 and 26 ms.
Offsets after a stop or fricative, re-estimated with the vowel's reference frame moved past the phone before
(:func:`vowel_end`; benchmarks/bench_truth.py, espeak's own vowel → consonant boundaries): before nasals mean
absolute error 7.7 → 7.3 ms (tuning voices) and 6.3 → 5.2 ms (held-out voices), before /r/ 16.1 → 10.6 ms
(tuning voices; 2 vowels under 25 ms before, none now); before /l/ unchanged. The Scottish voices' r-coloured
vowels, 4–10 ms long before, are whole. pocketsphinx's alignment of 80 of these files puts vowel boundaries a
median 7–14 ms from the truth.

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

import re
from dataclasses import dataclass

import numpy as np

from vowelprompt.corpora import espeak


@dataclass
class Segment:
    """A phone being timed, in samples of espeak's output. ``event`` is where its phoneme event fell."""

    symbol: str
    ph_type: int
    start: int
    end: int
    event: int
    word_pos: int | None  # text position of the word event it follows
    estimated: bool = False


def time_phones(audio: np.ndarray, events, hooked, sr: int) -> list[Segment]:
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
    segs: list[Segment | None] = []  # None stands for a pause, so that neighbours stay neighbours
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
        segs.append(Segment(symbol, ph_type, start, end, event, pos))
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
            cut = vowel_end(features, prev, seg.symbol, sr)
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


#: Below any vowel's share of its span with the /l/ after it where espeak gives their boundary (of 258 such
#: vowels in ten voices and 30 sentences, the smallest share was 0.57, and the estimate's 0.51).
_MIN_VOWEL_SHARE = 0.4


def vowel_end(features: np.ndarray, vowel: Segment, consonant: str, sr: int) -> int:
    """Where ``vowel`` ends, its span holding the ``consonant`` espeak synthesised inside its end: the turn
    (:func:`_turn`) from the consonant towards a reference frame of the vowel, its phoneme event, but before a
    nasal or /r/ at least 12 ms (or a third of the way) past its start, so that the frame's window does not
    reach into the phone before. A vowel after a stop or fricative has its event at its first sample, and
    the frame there, half /f/, was no reference: the turn was found in the vowel's first milliseconds (a
    Scottish "before": a 4–9 ms vowel, then 150 ms of /r/). Before /l/ the event stays, unless the vowel would
    keep under 40 % of the span: re-estimating espeak's own vowel → consonant boundaries
    (benchmarks/bench_truth.py), the frame past the phone before lowered the error before nasals and /r/ but
    raised it before /l/, whose dark colour reaches far into the vowel; no vowel there kept under half of
    the span either way (the Scottish "told" kept 5–25 %)."""
    if consonant.startswith("l"):
        cut = _turn(features, vowel.end, max(vowel.event, vowel.start), _THETA_OFFSET, sr)
        if cut - vowel.start >= _MIN_VOWEL_SHARE * (vowel.end - vowel.start):
            return cut
    deep = max(vowel.event, vowel.start + min(round(0.012 * sr), (vowel.end - vowel.start) // 3))
    return _turn(features, vowel.end, deep, _THETA_OFFSET, sr)


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


def assign_words(word_pos: list[int | None], tokens: list[re.Match[str]], count) -> list[int]:
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
