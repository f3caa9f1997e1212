"""Where an item's transcript comes from: given with the item, or a sidecar file beside its audio.

ASR (``annotate --asr``) is the last resort, in :mod:`vowelprompt.asr`; whichever source is used is recorded
in the row's ``transcript_source``.
"""

from __future__ import annotations

from pathlib import Path

from vowelprompt.records import Utterance

TRANSCRIPT_SUFFIXES = (".txt", ".lab")  # MFA's sidecar convention: a.wav + a.lab (or a.txt)


def find_transcript(utt: Utterance) -> str | None:
    """The transcript given with the item, else the text of a sidecar ``AUDIO.txt``/``AUDIO.lab``."""
    found = given_transcript(utt)
    return found[0] if found else None


def given_transcript(utt: Utterance) -> tuple[str, dict] | None:
    """:func:`find_transcript` with its ``transcript_source``: the item's own text (from the manifest, the
    command line or a library caller), else a sidecar file's (with its path); None if there is neither."""
    if utt.text is not None and utt.text.strip():
        return utt.text.strip(), {"from": utt.text_source or "caller"}
    audio = Path(utt.audio)
    for suffix in TRANSCRIPT_SUFFIXES:
        for candidate in (audio.with_suffix(suffix), Path(str(audio) + suffix)):
            if candidate.is_file():
                text = candidate.read_text(encoding="utf-8", errors="replace").strip()
                return text, {"from": "sidecar", "path": str(candidate)}
    return None
