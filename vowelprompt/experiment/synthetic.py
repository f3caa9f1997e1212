"""A synthetic IEMOCAP-shaped corpus to run protocols on without IEMOCAP: espeak-ng speech whose emotion is in
the vowel pitch movements only (:mod:`vowelprompt.corpora.prosody`), laid out as ``vowelprompt prepare
iemocap`` lays IEMOCAP out (ids ``iemocap-Ses0<s><F|M>_…``, ``fold`` = session, two speakers per session,
``dialogue`` and ``turn``, ``label`` in iemocap4 with ``raw_label`` codes).

    python -m vowelprompt.experiment.synthetic runs/synthetic-corpus [--sessions 2] [--sentences 1]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

#: Two voices per session (one female, one male, as IEMOCAP's sessions), none shared between sessions.
SESSION_VOICES = (
    ("en-us+f2", "en-gb+m3"),
    ("en-gb+f4", "en-us+m1"),
    ("en-us+f3", "en-us+m4"),
    ("en-gb+f1", "en-us+m7"),
    ("en-gb+f3", "en-gb+m1"),
)
RAW = {"neutral": "neu", "happy": "hap", "angry": "ang", "sad": "sad"}


def write_corpus(
    out: str | Path, sessions: int = 2, sentences: int = 1, speakers: int = 2, seed: int = 0
) -> Path:
    """Speak ``sentences`` neutral sentences in the four emotions with ``speakers`` voices (1 or 2) of each
    session; write the WAVs and ``manifest.jsonl`` into ``out``; return the manifest's path."""
    import numpy as np
    import soundfile as sf

    from vowelprompt.corpora.prosody import EMOTIONS, SENTENCES, speak

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rows = []
    for session, voices in enumerate(SESSION_VOICES[:sessions], start=1):
        for sex, voice in list(zip("FM", voices))[:speakers]:
            dialogue, turn = f"Ses0{session}{sex}_impro01", 0
            for sentence in SENTENCES[:sentences]:
                for emotion in EMOTIONS:
                    native = f"{dialogue}_{sex}{turn:03d}"
                    samples, sr, _ = speak(sentence, voice, emotion, rng)
                    sf.write(out / f"{native}.wav", np.clip(samples, -1, 1), sr, subtype="PCM_16")
                    rows.append(
                        dict(
                            id=f"iemocap-{native}", audio=str((out / f"{native}.wav").resolve()),
                            text=sentence, lang="en", speaker=f"Ses0{session}{sex}",
                            gender="female" if sex == "F" else "male", label=emotion,
                            raw_label=RAW[emotion], label_set="iemocap4", dataset="iemocap", fold=session,
                            dialogue=dialogue, turn=turn, voice=voice,
                        )
                    )  # fmt: skip
                    turn += 1
    manifest = out / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the WAVs and manifest.jsonl")
    parser.add_argument("--sessions", type=int, default=2, help="sessions (folds), 1-5; default 2")
    parser.add_argument("--sentences", type=int, default=1, help="sentences per voice and emotion; default 1")
    parser.add_argument("--speakers", type=int, default=2, help="speakers per session, 1 or 2; default 2")
    parser.add_argument("--seed", type=int, default=0, help="seed of the prosody jitter; default 0")
    args = parser.parse_args(argv)
    print(write_corpus(args.out, args.sessions, args.sentences, args.speakers, args.seed))


if __name__ == "__main__":
    main()
