"""The published numbers each protocol's results table prints beside ours (docs/method.md §4 and the
corpus notes' list of published numbers; in %). Only what those papers report for that corpus is here: a
"—" in the table means no published figure, not zero.

VowelPrompt reports weighted F1 for zero-shot GPT-4o (transcript and context) and LLaMA-3-8B SFT, per prompt
(transcript only, SpeechCueLLM cues, VowelPrompt); EmoBox reports UA / WA / macro-F1 of its best frozen SSL
features (Whisper-large-v3) on its folds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    source: str
    """``VowelPrompt`` or ``EmoBox``."""
    setting: str
    """What was run: ``zero-shot GPT-4o``, ``LLaMA-3-8B SFT``, ``Whisper-large-v3 (frozen)`` …"""
    template: str | None
    """The prompt family the figure is for (``transcript``, ``speechcue``, ``vowelprompt``); None: audio."""
    scores: dict[str, float]
    """Metric (``weighted_f1``, ``unweighted_accuracy``, ``accuracy``, ``macro_f1``) → value in %."""


def _vp(setting: str, transcript: float | None, speechcue: float, vowelprompt: float) -> list[Published]:
    figures = (("transcript", transcript), ("speechcue", speechcue), ("vowelprompt", vowelprompt))
    return [Published("VowelPrompt", setting, t, {"weighted_f1": v}) for t, v in figures if v is not None]


def _emobox(ua: float, wa: float, macro_f1: float) -> Published:
    scores = {"unweighted_accuracy": ua, "accuracy": wa, "macro_f1": macro_f1}
    return Published("EmoBox", "Whisper-large-v3 (frozen)", None, scores)


#: Protocol name → the published figures for it.
PUBLISHED: dict[str, list[Published]] = {
    "iemocap4-loso": [_emobox(73.54, 72.86, 73.11)],
    # VowelPrompt's IEMOCAP tables follow the ERC convention (sessions 1-4 train, 5 test).
    "iemocap6-s5": [
        *_vp("zero-shot GPT-4o", 53.63, 58.52, 60.74),
        *_vp("LLaMA-3-8B SFT", 70.32, 71.74, 73.46),
    ],
    "meld7-official": [
        *_vp("zero-shot GPT-4o", 63.57, 57.90, 64.17),
        *_vp("LLaMA-3-8B SFT", 67.44, 67.07, 69.61),
        _emobox(31.54, 51.89, 32.95),
    ],
    "cafe-3fold": [*_vp("zero-shot GPT-4o", 45.10, 49.16, 51.42), _emobox(69.43, 68.84, 68.06)],
    "emodb-5fold": _vp("zero-shot GPT-4o", 64.86, 67.32, 69.85),
    "emodb-loso": _vp("zero-shot GPT-4o", 64.86, 67.32, 69.85),
    "ravdess-6fold": [_emobox(75.32, 75.87, 75.19)],
    "iemocap-to-meld": [
        *_vp("LLaMA-3-8B SFT", None, 42.36, 46.26),
        *_vp("LLaMA-3-8B SFT+GRPO", None, 55.16, 60.28),
    ],
}


def family(template: str) -> str:
    """The prompt family of a template name: ``vowelprompt_context`` → ``vowelprompt``.

    >>> family("speechcue_context"), family("my/own.yaml")
    ('speechcue', 'my/own.yaml')
    """
    return template.removesuffix("_context")


def published_for(protocol: str, template: str | None = None) -> list[Published]:
    """The figures for ``protocol`` (those of ``template``'s family and the audio baselines when given)."""
    rows = PUBLISHED.get(protocol, [])
    if template is None:
        return rows
    return [p for p in rows if p.template in (None, family(template))]
