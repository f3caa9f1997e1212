"""A controlled emotion corpus in which the emotion is carried by vowel-level prosody only (issue 4's proof).

Every sentence is emotionally neutral and is spoken in every emotion by every voice, so the words carry no
label: a model that reads only the transcript can do no better than chance. Every utterance is drawn from
the *same* global settings (espeak-ng rate, base pitch and volume, jittered per utterance). The emotion lies
in pitch movements made with PSOLA on every content word (words of four letters or more), on two axes:

- *level*, which an utterance-level description also sees: *happy* and *angry* words move in the upper
  half of the range (between 0 and +8 semitones), *sad* and *neutral* words in the lower half (between
  −8 and 0 st, and 1.3× longer);
- *direction*, which only a vowel-level description keeps: *happy* and *neutral* words rise (0 → +8,
  −8 → 0 st), *angry* and *sad* words fall (+8 → 0, 0 → −8 st).

So each emotion pair with the same level (happy/angry, neutral/sad) has the same pitch mean and spread, and
differs only in the direction of its movements.

Utterance-level statistics (mean and spread of pitch and volume, speaking rate — what a SpeechCueLLM-style
prompt describes) can tell the two levels apart but average away the direction of the movements;
vowel-level pitch slopes keep it. ``benchmarks/bench_training.py`` measures exactly that with linear probes
on both kinds of descriptor before training any LLM. The profiles
(:data:`PROFILES`) are a design, not a measurement of real speakers. Speakers are espeak voices;
:data:`TRAIN_VOICES` and :data:`TEST_VOICES` are disjoint, so models are tested on voices they never heard.

    python -c "from vowelprompt.corpora.prosody import write_corpus; write_corpus('corpus')"
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from vowelprompt.corpora.psola import psola
from vowelprompt.corpora.synth import synthesize

#: Short, emotionally neutral sentences (6-9 words): every one is spoken in every emotion.
SENTENCES: tuple[str, ...] = (
    "The meeting is on the third floor today.",
    "She put the folder on the desk by the door.",
    "The bus to the station leaves at nine.",
    "He painted the kitchen wall a pale green.",
    "The report has twelve pages and two tables.",
    "We moved the chairs into the other room.",
    "The library closes at six on Mondays.",
    "My brother bought a new bicycle last week.",
    "The train stopped for ten minutes in the valley.",
    "They planted tomatoes along the garden fence.",
    "The letter arrived on Tuesday afternoon.",
    "Our neighbour parks his van across the road.",
    "The printer on the second floor needs paper.",
    "I left my umbrella in the hallway.",
    "The museum opens again in the spring.",
    "She read the instructions on the box twice.",
    "The river runs past the old mill.",
    "We ordered soup and bread for lunch.",
    "The lamp on the table uses a small bulb.",
    "He counted the boxes in the storage room.",
    "The road to the village was paved in May.",
    "Their flight lands at the north terminal.",
    "The window in the office faces the park.",
    "The teacher wrote the dates on the board.",
)

EMOTIONS: tuple[str, ...] = ("neutral", "happy", "angry", "sad")

#: Speakers the models are trained on, and the disjoint ones they are tested on (accents and sexes in both).
TRAIN_VOICES: tuple[str, ...] = ("en-us+m1", "en-us+f2", "en-gb+m3", "en-gb+f4", "en-us+m4", "en-gb+f1")
TEST_VOICES: tuple[str, ...] = ("en-us+m7", "en-gb+f3")


@dataclass(frozen=True)
class Local:
    """A PSOLA change on every content word: an F0 ramp in semitones (start, end) across the word and a
    duration factor."""

    ramp_st: tuple[float, float]
    duration: float = 1.0


@dataclass(frozen=True)
class Profile:
    """espeak-ng settings (words per minute, base pitch 0-100, amplitude 0-200) with their jitter (± uniform
    per utterance), and the local vowel events."""

    rate: int
    pitch: int
    amplitude: int
    local: tuple[Local, ...] = ()
    jitter: tuple[int, int, int] = (20, 6, 6)


#: Shared global settings: every emotion draws rate, pitch and volume from the same ranges.
_GLOBAL = dict(rate=165, pitch=50, amplitude=40)

PROFILES: dict[str, Profile] = {
    "happy": Profile(**_GLOBAL, local=(Local(ramp_st=(0.0, 8.0)),)),
    "angry": Profile(**_GLOBAL, local=(Local(ramp_st=(8.0, 0.0)),)),
    "neutral": Profile(**_GLOBAL, local=(Local(ramp_st=(-8.0, 0.0), duration=1.3),)),
    "sad": Profile(**_GLOBAL, local=(Local(ramp_st=(0.0, -8.0), duration=1.3),)),
}


def speak(sentence: str, voice: str, emotion: str, rng: random.Random) -> tuple[np.ndarray, int, dict]:
    """Synthesise ``sentence`` in ``emotion`` with ``voice``; return samples, rate and what was done."""
    profile = PROFILES[emotion]
    jr, jp, ja = profile.jitter
    rate = profile.rate + rng.randint(-jr, jr)
    pitch = profile.pitch + rng.randint(-jp, jp)
    amplitude = profile.amplitude + rng.randint(-ja, ja)
    utt = synthesize(sentence, voice=voice, rate_wpm=rate, pitch=pitch, amplitude=amplitude)
    content = [i for i, w in enumerate(utt.words) if len(w.text.strip(".,")) >= 4]
    edits = [(i, local) for local in profile.local for i in content]
    samples = utt.samples
    # Right to left, so that a duration change does not move the words still to be edited.
    for index, local in sorted(edits, key=lambda e: -e[0]):
        word = utt.words[index]
        samples = psola(samples, utt.sr, 1.0, local.duration, 0.0, word.start_s, word.end_s, local.ramp_st)
    peak = float(np.max(np.abs(samples)))
    info = dict(rate_wpm=rate, pitch=pitch, amplitude=amplitude, peak=round(peak, 3),
                edited_words=[utt.words[i].text for i, _ in sorted(edits)])  # fmt: skip
    return samples, utt.sr, info


def write_corpus(
    out_dir: str | Path,
    sentences: Sequence[str] = SENTENCES,
    train_voices: Sequence[str] = TRAIN_VOICES,
    test_voices: Sequence[str] = TEST_VOICES,
    emotions: Sequence[str] = EMOTIONS,
    seed: int = 0,
) -> Path:
    """Speak every sentence × voice × emotion into ``out_dir``; return the path of ``manifest.jsonl``.

    Rows: ``id, audio, text, speaker, label, split`` (``train`` or ``test`` by voice) plus the settings used.
    Also writes ``train.jsonl`` and ``test.jsonl``, the same rows split by speaker. The same ``seed`` gives
    the same files, byte for byte, when the corpus is written by a fresh process (PSOLA's random unvoiced
    periods are seeded; espeak-ng carries some state from one utterance to the next, so within a process an
    utterance also depends on what was synthesised before it). A voice in both lists is refused.
    """
    if set(train_voices) & set(test_voices):
        raise ValueError(f"train and test voices overlap: {sorted(set(train_voices) & set(test_voices))}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rows = []
    voices = [(v, "train") for v in train_voices] + [(v, "test") for v in test_voices]
    for (voice, part), (n, sentence), emotion in itertools.product(voices, enumerate(sentences), emotions):
        samples, sr, info = speak(sentence, voice, emotion, rng)
        uid = f"{voice.replace('+', '-')}_s{n:02d}_{emotion}"
        sf.write(out / f"{uid}.wav", np.clip(samples, -1.0, 1.0), sr, subtype="PCM_16")
        (out / f"{uid}.txt").write_text(sentence + "\n", encoding="utf-8")
        rows.append(dict(id=uid, audio=f"{uid}.wav", text=sentence, speaker=voice, label=emotion, split=part)
                    | info)  # fmt: skip
    random.Random(seed).shuffle(rows)
    lines = {part: [json.dumps(r, ensure_ascii=False) + "\n" for r in rows if r["split"] == part]
             for part in ("train", "test")}  # fmt: skip
    for part, part_lines in lines.items():
        (out / f"{part}.jsonl").write_text("".join(part_lines), encoding="utf-8")
    manifest = out / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return manifest
