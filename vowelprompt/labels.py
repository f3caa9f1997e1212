"""Emotion label sets (docs/method.md §2) with synonyms, and explicit mappings between sets.

Each label belongs to a *concept* (``happiness``, ``anger`` …); synonyms a model may answer with resolve to
the set's own label (``joy`` → ``happy`` in IEMOCAP, ``happy`` → ``joy`` in MELD). Cross-corpus mappings go
through concepts plus a few documented merges (IEMOCAP's *excited* counts as happiness, as in the 4-class
convention) and say which labels have no counterpart instead of guessing.

>>> LABEL_SETS["iemocap4"].normalize("Joy")
'happy'
>>> LABEL_SETS["meld7"].normalize("angry")
'anger'
>>> label_map("iemocap6", "meld7").mapping["excited"]
'joy'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from vowelprompt.errors import ConfigError

#: Words a model may use for each concept (lower case). A label resolves through its own name first.
CONCEPT_WORDS: dict[str, tuple[str, ...]] = {
    # "calm" also names neutral in every set without a calm label; RAVDESS's calm is its own concept
    "neutral": ("neutral", "neutrality", "calm", "none", "no emotion", "neutre"),
    "calm": ("calm", "calmness", "relaxed", "serene", "peaceful"),
    "happiness": ("happy", "happiness", "joy", "joyful", "glad", "pleased", "cheerful", "joie"),
    "excitement": ("excited", "excitement", "enthusiastic", "thrilled"),
    "sadness": ("sad", "sadness", "unhappy", "sorrow", "tristesse"),
    "anger": ("angry", "anger", "mad", "furious", "annoyed", "rage", "fury", "colère", "colere"),
    "frustration": ("frustrated", "frustration"),
    "fear": ("fear", "fearful", "afraid", "scared", "anxious", "peur"),
    "disgust": ("disgust", "disgusted", "dégoût", "degout"),
    "surprise": ("surprise", "surprised", "amazed", "astonished"),
    "boredom": ("bored", "boredom"),
    "contempt": ("contempt", "contemptuous"),
    "pleasure": ("pleasure", "pleased"),
    "pain": ("pain", "hurt"),
    "disappointment": ("disappointment", "disappointed"),
}


@dataclass(frozen=True)
class LabelSet:
    """A named, ordered set of labels; ``concepts`` gives each label's concept (for synonyms and mapping)."""

    name: str
    labels: tuple[str, ...]
    concepts: dict[str, tuple[str, ...]]
    description: str = ""
    extra_synonyms: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        missing = [lab for lab in self.labels if lab not in self.concepts]
        if missing:
            raise ConfigError(f"label set {self.name}: no concept for {missing}")

    def synonyms(self) -> dict[str, str]:
        """Every accepted answer (lower case) → label."""
        table: dict[str, str] = {}
        for label in self.labels:
            for concept in self.concepts[label]:
                for word in CONCEPT_WORDS[concept]:
                    table.setdefault(word, label)
        table.update(self.extra_synonyms)
        table.update({label.lower(): label for label in self.labels})  # a label is always itself
        return table

    def normalize(self, text: str) -> str | None:
        """The label ``text`` names (exact label, any case, or a synonym), else ``None``.

        >>> LABEL_SETS["iemocap5"].normalize(" Excited. "), LABEL_SETS["iemocap5"].normalize("bored")
        ('excited', None)
        """
        key = _clean(text)
        return self.synonyms().get(key)

    def find_all(self, text: str) -> list[tuple[int, str]]:
        """Positions and labels of every label or synonym mentioned in free text (whole words).

        Linear in the text: each pattern starts with the word itself (a literal the regex engine searches
        for quickly) and checks the character before it afterwards with a lookbehind, rather than testing a
        lookbehind at every position of the text.
        """
        found = []
        lowered = text.lower()
        for word, label in self.synonyms().items():
            w = re.escape(word)
            for m in re.finditer(rf"{w}(?<![\w-]{w})(?![\w-])", lowered):
                found.append((m.start(), label))
        return sorted(found)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).strip().strip(" .!?\"'`*:;,()[]{}").lower()
    return re.sub(r"\s+", " ", text)


def _concepts(spec: str) -> dict[str, tuple[str, ...]]:
    """``"happy=happiness+excitement angry=anger"`` → {label: concepts}; a bare label is its own concept."""
    out = {}
    for item in spec.split():
        label, _, concepts = item.partition("=")
        out[label] = tuple((concepts or label).split("+"))
    return out


_PRESETS: dict[str, tuple[str, str]] = {
    "iemocap4": (
        "neutral happy=happiness+excitement angry=anger sad=sadness",
        "IEMOCAP 4-class, happy and excited merged (5,531 utterances)",
    ),
    "iemocap5": (
        "neutral happy=happiness excited=excitement angry=anger sad=sadness",
        "IEMOCAP 5-class (VowelPrompt Table 2)",
    ),
    "iemocap6": (
        "neutral happy=happiness excited=excitement angry=anger sad=sadness frustrated=frustration",
        "IEMOCAP 6-class (SpeechCueLLM)",
    ),
    "meld7": ("neutral joy=happiness+excitement surprise anger sadness disgust fear", "MELD 7-class"),
    "cafe7": ("neutral happiness anger sadness fear disgust surprise", "CaFE (Canadian French), 7 classes"),
    "emodb7": ("neutral happiness anger sadness fear disgust boredom", "Berlin EmoDB, 7 classes"),
    "asvp12": (
        "neutral happiness sadness anger fear disgust surprise boredom excitement pleasure pain "
        "disappointment",
        "ASVP-ESD, 12 classes",
    ),
    "ravdess8": (
        "neutral calm happy=happiness sad=sadness angry=anger fearful=fear disgust surprised=surprise",
        "RAVDESS speech, 8 classes (calm is its own class: no other set maps onto it)",
    ),
    "cremad6": ("anger disgust fear happy=happiness neutral sad=sadness", "CREMA-D, 6 classes"),
    "msp8": (
        "neutral happy=happiness sad=sadness angry=anger surprise fear disgust contempt",
        "MSP-Podcast, 8 primary emotions",
    ),
}

LABEL_SETS: dict[str, LabelSet] = {
    name: LabelSet(name, tuple(_concepts(spec)), _concepts(spec), description)
    for name, (spec, description) in _PRESETS.items()
}


def get_label_set(name: str) -> LabelSet:
    """A preset by name, or a custom set from a comma-separated list (``"calm,tense"``: concepts by name
    where known, otherwise the label is its own concept with no synonyms)."""
    if name in LABEL_SETS:
        return LABEL_SETS[name]
    if "," in name:
        labels = [x.strip().lower() for x in name.split(",") if x.strip()]
        if not labels:
            raise ConfigError(f"label set {name!r} names no labels; give a preset or a,b,c")
        bad = [x for x in labels if not re.fullmatch(r"\w[\w .'-]*", x)]
        if bad:
            names = ", ".join(map(repr, bad))
            raise ConfigError(f"labels must be words (letters, digits, space, - ' .): {names}")
        if len(set(labels)) != len(labels):
            raise ConfigError(f"label set {name!r} repeats a label")
        concepts = {}
        for label in labels:
            known = [c for c, words in CONCEPT_WORDS.items() if label in words]
            concepts[label] = tuple(known[:1]) or ()
        return LabelSet("custom", tuple(labels), concepts, "custom: " + ", ".join(labels))
    raise ConfigError(f"unknown label set {name!r}; choose one of: {', '.join(LABEL_SETS)} or give a,b,c")


@dataclass(frozen=True)
class LabelMap:
    """``mapping[source_label]`` is the target label, or ``None`` where the target set has no counterpart."""

    source: str
    target: str
    mapping: dict[str, str | None]

    @property
    def unmapped(self) -> list[str]:
        return [s for s, t in self.mapping.items() if t is None]

    def describe(self) -> str:
        """One line for logs: ``iemocap6→meld7: neutral→neutral, …, frustrated→(none)``."""
        pairs = ", ".join(f"{s}→{t or '(none)'}" for s, t in self.mapping.items())
        return f"{self.source}→{self.target}: {pairs}"


def label_map(source: str | LabelSet, target: str | LabelSet) -> LabelMap:
    """Map every label of ``source`` onto ``target`` by shared concept; unmatched labels map to ``None``."""
    src = source if isinstance(source, LabelSet) else get_label_set(source)
    dst = target if isinstance(target, LabelSet) else get_label_set(target)
    mapping: dict[str, str | None] = {}
    for label in src.labels:
        hits = [t for t in dst.labels if set(src.concepts[label]) & set(dst.concepts[t])]
        mapping[label] = hits[0] if hits else None
    return LabelMap(src.name, dst.name, mapping)
