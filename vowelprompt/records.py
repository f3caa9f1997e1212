"""The small records every stage passes along. Times are in seconds; units are in field names.

Records are frozen dataclasses with ``to_dict``/``from_dict`` for JSONL, so a row written by ``annotate``
reads back into the same objects (``Annotation.from_dict(json.loads(line))``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: The six low-level descriptors per vowel (docs/method.md §1.3), in the order they are verbalised.
#: Each maps to the raw field of :class:`VowelFeatures` it is computed from.
DESCRIPTORS: dict[str, str] = {
    "pitch": "f0_mean_st",
    "pitch_slope": "f0_slope_st_per_s",
    "pitch_var": "f0_sd_st",
    "energy": "rms_mean_db",
    "energy_var": "rms_sd_db",
    "duration": "duration_s",
}

#: Utterance-level descriptors for the SpeechCueLLM style (docs/method.md §1.7).
UTTERANCE_DESCRIPTORS: dict[str, str] = {
    "volume": "rms_mean_db",
    "volume_var": "rms_sd_db",
    "pitch": "f0_mean_st",
    "pitch_var": "f0_sd_st",
    "rate": "rate_vowels_per_s",
}


def _build(cls, data: dict[str, Any]):
    """Construct ``cls`` from a dict, ignoring unknown keys (forward compatibility of JSONL rows)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Utterance:
    """One input item: an audio file and what is known about it.

    >>> Utterance(id="u1", audio="a.wav", text="hello there").speaker is None
    True
    """

    id: str
    audio: str
    text: str | None = None
    speaker: str | None = None
    label: str | None = None
    alignment: str | None = None  # path of an existing MFA-style TextGrid, if any
    dialogue: str | None = None  # conversation id, for dialogue context in prompts
    turn: int | None = None  # position in the dialogue (earlier turns become context)
    error: str | None = None  # why the manifest row is unusable (its row becomes ``input_error``)
    text_source: str | None = None  # where ``text`` came from: "manifest", "command line" (None: a caller)
    language: str | None = None  # the row's language (``fr``); None: the run's ``--language``

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Utterance:
        return _build(cls, data)


@dataclass(frozen=True)
class Phone:
    """One aligned phone, with the label as the aligner wrote it (``AH0``, ``ɪ``, ``SIL``).

    ``score`` is the aligner's acoustic score per 10 ms frame where it gives one (pocketsphinx: the phone's
    log-likelihood relative to the best-scoring state in each frame, in its scaled log units, so 0 is a
    perfect fit and large negative values a poor one); ``None`` for aligners without one (TextGrid, MFA).
    """

    label: str
    start_s: float
    end_s: float
    score: float | None = None


@dataclass(frozen=True)
class Word:
    """One transcript word with its phones.

    ``pron_source`` says where its pronunciation came from: ``dictionary``, ``g2p`` (the word was not in
    the aligner's dictionary and was given a letter-to-sound pronunciation), ``alignment`` (imported from an
    existing TextGrid) or ``unaligned`` (no phones could be aligned: the word has no pronunciation, an
    imported alignment marks it ``spn``, or it lies in a piece of a long recording whose phones did not align,
    :mod:`vowelprompt.align.pieces`; ``start_s``/``end_s`` are ``None`` when not even the word has times).
    Non-English words aligned offline (:mod:`vowelprompt.align.mapped`) are ``espeak`` (espeak-ng's
    pronunciation, phones aligned) or ``approximate`` (phone alignment failed: the word's span is measured,
    its phones are spread over it by typical durations, so vowel times are estimates).
    """

    text: str
    start_s: float | None
    end_s: float | None
    phones: tuple[Phone, ...] = ()
    pron_source: str = "dictionary"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Word:
        phones = tuple(_build(Phone, p) for p in data.get("phones", ()))
        return _build(cls, {**data, "phones": phones})


@dataclass(frozen=True)
class VowelSpan:
    """A vowel segment: its inventory symbol (stress stripped), IPA form, stress and the word it sits in."""

    phone: str
    ipa: str
    stress: int | None
    start_s: float
    end_s: float
    word: str
    word_index: int

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class VowelFeatures:
    """The six raw descriptors of one vowel (docs/method.md §1.3). ``None`` means "could not be computed".

    Pitch is in semitones re 100 Hz so that it can be averaged and z-scored on a perceptual scale;
    ``f0_mean_hz`` keeps the same value in Hz for people.
    """

    f0_mean_hz: float | None
    f0_mean_st: float | None
    f0_slope_st_per_s: float | None
    f0_sd_st: float | None
    rms_mean_db: float | None
    rms_sd_db: float | None
    duration_s: float
    voiced_frames: int

    def value(self, descriptor: str) -> float | None:
        """The raw value of one of :data:`DESCRIPTORS`."""
        return getattr(self, DESCRIPTORS[descriptor])


@dataclass(frozen=True)
class VowelQuality:
    """How far a vowel's measurements can be trusted (:mod:`vowelprompt.quality`). ``None`` = not known.

    ``voiced_fraction`` is the share of the vowel core's F0 frames that are voiced; ``snr_db`` the core's
    energy over the utterance's noise floor; ``align_score`` the aligner's acoustic score per frame
    (:attr:`Phone.score`). ``dropped`` names the descriptors left out of the text, ``reasons`` why
    (``low_snr``, ``bad_alignment``, ``low_voicing``, ``unstable_pitch``); the raw features are kept
    either way.
    """

    voiced_fraction: float | None = None
    snr_db: float | None = None
    align_score: float | None = None
    dropped: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VowelQuality:
        return _build(
            cls,
            {**data, "dropped": tuple(data.get("dropped", ())), "reasons": tuple(data.get("reasons", ()))},
        )


@dataclass(frozen=True)
class Vowel:
    """A measured vowel: span, raw features, normalised z-scores and ordinal bins (descriptor → value),
    and its quality (``None`` in rows written before quality fields existed)."""

    span: VowelSpan
    features: VowelFeatures
    z: dict[str, float] = field(default_factory=dict)
    bins: dict[str, str] = field(default_factory=dict)
    quality: VowelQuality | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vowel:
        quality = data.get("quality")
        return cls(
            span=_build(VowelSpan, data["span"]),
            features=_build(VowelFeatures, data["features"]),
            z=dict(data.get("z", {})),
            bins=dict(data.get("bins", {})),
            quality=VowelQuality.from_dict(quality) if quality else None,
        )


@dataclass(frozen=True)
class UtteranceProsody:
    """Utterance-level prosody for the SpeechCueLLM style: raw values, z-scores and bins.

    ``rate_vowels_per_s`` is the articulation rate: vowels (≈ syllables) per second of speech, pauses
    excluded.
    """

    f0_mean_st: float | None
    f0_sd_st: float | None
    rms_mean_db: float | None
    rms_sd_db: float | None
    rate_vowels_per_s: float | None
    z: dict[str, float] = field(default_factory=dict)
    bins: dict[str, str] = field(default_factory=dict)

    def value(self, descriptor: str) -> float | None:
        return getattr(self, UTTERANCE_DESCRIPTORS[descriptor])


@dataclass(frozen=True)
class Annotation:
    """Everything ``annotate`` produces for one input: one row of its JSONL output.

    ``status`` is ``ok`` or an error kind (see :mod:`vowelprompt.errors`); a failed item keeps its id,
    audio and error message so that no input is ever silently missing. ``normalization`` is ``fitted``
    (statistics from ``fit-stats``) or ``utterance`` (fallback: statistics of this utterance alone).
    ``language`` is the speech's language (``en``, ``fr``, ``de`` …); ``None`` in rows written before it was
    recorded, which were English.
    ``quality`` summarises what the quality threshold left out of the text (:mod:`vowelprompt.quality`):
    ``{"vowels": n, "kept": k, "dropped_descriptors": m, "dropped": {reason: vowels}, "thresholds": …}``;
    empty in rows written before it existed.
    """

    id: str
    audio: str
    status: str
    text: str | None = None
    speaker: str | None = None
    label: str | None = None
    dialogue: str | None = None
    turn: int | None = None
    error: str | None = None
    duration_s: float | None = None
    words: tuple[Word, ...] = ()
    vowels: tuple[Vowel, ...] = ()
    utterance: UtteranceProsody | None = None
    description: str = ""
    style: str = ""
    normalization: str = ""
    aligner: str = ""
    warnings: tuple[str, ...] = ()
    versions: dict[str, str] = field(default_factory=dict)
    transcript_source: dict[str, Any] = field(default_factory=dict)
    """Where ``text`` came from: ``{"from": "manifest" | "command line" | "caller" | "alignment"}``,
    ``{"from": "sidecar", "path": …}``, or ``{"from": "asr", "model": …, "confidence": …, …}``."""
    language: str | None = None
    quality: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Annotation:
        utt = data.get("utterance")
        return _build(
            cls,
            {
                **data,
                "words": tuple(Word.from_dict(w) for w in data.get("words", ())),
                "vowels": tuple(Vowel.from_dict(v) for v in data.get("vowels", ())),
                "utterance": _build(UtteranceProsody, utt) if utt else None,
                "warnings": tuple(data.get("warnings", ())),
            },
        )


@dataclass(frozen=True)
class Prediction:
    """One model answer: the parsed label (``None`` if nothing usable), how it was parsed, and provenance.

    ``status`` is ``ok`` (well-formed output, label in the set), ``repaired`` (a label was recovered from
    malformed output or through a synonym), ``invalid`` (no label; counts as wrong in evaluation) or the
    kind of error that prevented asking the model (``input_error``, ``backend_error``). ``raw`` is the
    model's text, always kept; ``prompt``, the chat messages sent to the model, only when asked for
    (``predict --record-prompt``; the row has no ``prompt`` key otherwise).

    Beyond one label (each key is left out of the row while it is None or empty):

    - ``distribution`` — a probability over the label set (label → p, summing to 1) and
      ``distribution_from``, how it was obtained: ``logprobs`` (the answer's token log-probabilities),
      ``samples`` (frequencies over N sampled answers) or ``classifier`` (a baseline's probabilities);
    - ``task`` — what was asked: ``label`` (one emotion), ``blend`` (up to two with their salience) or
      ``dimensions`` (numeric valence/arousal/dominance ratings);
    - ``blend`` — label → salience in percent, most salient first, summing to 100 (``{"happy": 70,
      "sad": 30}``; one emotion is ``{"happy": 100}``);
    - ``ratings`` — dimension → rating on the scale the prompt asked for (``{"valence": 2.5, …}``);
    - ``inputs`` — what the prompt carried: some of ``transcript``, ``vowels``, ``utterance``, ``context``
      (a missing transcript or a failed alignment leaves its part out);
    - ``generated`` — the model's own text where ``raw`` is a completion rebuilt around a scored label (the
      transformers backend's constrained answer: its reasoning, then the best label of the set).
    """

    id: str
    status: str
    label: str | None = None
    gold: str | None = None
    reasoning: str = ""
    evidence: tuple[str, ...] = ()
    raw: str = ""
    error: str | None = None
    note: str | None = None  # what the parser noticed (an over-long output it capped, an ambiguous answer)
    label_set: str = ""
    labels: tuple[str, ...] = ()  # the label set itself, so custom sets can be scored without repeating it
    template: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    backend: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)
    prompt: list[dict[str, str]] | None = None
    distribution: dict[str, float] | None = None
    distribution_from: str | None = None
    task: str = "label"
    blend: dict[str, int] | None = None
    ratings: dict[str, float] | None = None
    inputs: tuple[str, ...] = ()
    generated: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in _OPTIONAL_PREDICTION_KEYS:
            if data[key] is None or data[key] == ():
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Prediction:
        return _build(
            cls,
            {
                **data,
                "evidence": tuple(data.get("evidence", ())),
                "labels": tuple(data.get("labels", ())),
                "inputs": tuple(data.get("inputs") or ()),
            },
        )


#: Prediction fields written only when set, so rows of a plain labelling run stay as they were.
_OPTIONAL_PREDICTION_KEYS = (
    "prompt",
    "distribution",
    "distribution_from",
    "blend",
    "ratings",
    "inputs",
    "generated",
)
