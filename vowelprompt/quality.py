"""How far each vowel's measurements can be trusted, and what the text leaves out when they cannot.

Three quality fields per vowel (:class:`~vowelprompt.records.VowelQuality`):

- ``voiced_fraction``: the share of the vowel core's F0 frames (the same core as the descriptors, see
  :mod:`vowelprompt.features`) that Praat found voiced. A vowel is voiced all through; a core that is mostly
  unvoiced means noise, a misplaced segment or a whisper, and the few voiced frames it has are the least
  trustworthy pitch of the utterance.
- ``snr_db``: the core's energy over the utterance's noise floor, measured in the frames outside the aligned
  words (pauses, lead-in, tail; :attr:`QualityConfig.pause_quantile`), or, when there is too little pause,
  from the utterance's quietest frames (:attr:`QualityConfig.noise_quantile`; the quietest consonants then
  count as noise and the estimate errs towards *lower* SNR). A vowel barely above the noise has energy (and
  pitch) of the noise, not of the voice.
- ``align_score``: the aligner's acoustic score per frame for the vowel (pocketsphinx; ``None`` for imported
  TextGrids and MFA). A vowel the acoustic model fits badly was probably placed on the wrong stretch.

:func:`assess` applies :class:`QualityConfig`'s documented thresholds: below ``min_snr_db`` or
``min_align_score`` every descriptor of the vowel is dropped from the text; below ``min_voiced_fraction``
or above ``max_pitch_sd_st`` (the F0 track jumps inside the core) its pitch descriptors are. Dropped
descriptors are masked out of normalisation too (a noise-driven value must not shift the levels of the
others), but the raw features stay in the row, and the row's ``quality`` says how many vowels lost what,
and why. Under heavy noise the description therefore shrinks to the vowels
that can still be measured instead of stating confident levels of noise (``benchmarks/bench_robustness.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, replace

import numpy as np

from vowelprompt.align.slips import noise_floor_db
from vowelprompt.align.squeeze import SHORTEST_PHONE_S, length_spread
from vowelprompt.errors import ConfigError
from vowelprompt.records import DESCRIPTORS, Annotation, Vowel, VowelQuality, VowelSpan, Word

#: The descriptors that come from the F0 track (dropped for a weakly voiced core).
PITCH_DESCRIPTORS: tuple[str, ...] = ("pitch", "pitch_slope", "pitch_var")


#: The fields of :class:`QualityConfig` that decide what is dropped (recorded in every row's ``quality``).
THRESHOLDS = (
    "min_snr_db",
    "min_voiced_fraction",
    "min_align_score",
    "max_pitch_sd_st",
    "max_speech_outside_s",
)


@dataclass(frozen=True)
class QualityConfig:
    """When a vowel's descriptors are left out of the text. Defaults were chosen on the tuning set only
    (``benchmarks/bench_robustness.py --set tuning``); the held-out figures are the README's."""

    enabled: bool = True
    """Apply the thresholds; without, quality fields are still measured and recorded."""
    min_snr_db: float = 5.0
    """Below this local SNR (vowel core over the noise floor) every descriptor of the vowel is dropped. On
    the tuning set it keeps every clean vowel and drops 10 % of vowels at 5 dB SNR, whose midpoints fall
    inside the true vowel 70 % of the time (97.5 % for the vowels kept)."""
    min_voiced_fraction: float = 0.5
    """Below this share of voiced core frames the pitch descriptors are dropped."""
    min_align_score: float = -150.0
    """Below this acoustic score per frame (pocketsphinx units) every descriptor is dropped. Clean vowels
    score about −5 to −60; a vowel placed on noise or on the wrong stretch scores below −150."""
    max_pitch_sd_st: float = 3.0
    """Above this F0 standard deviation within the core (semitones) the pitch descriptors are dropped: a
    glide of 30 st/s over a 150 ms core has an SD under 1.5 st, so 3 st means the track jumped (an octave
    error, or a competing voice or instrument). On the tuning set's 5 dB conditions the pitch it drops is
    grossly wrong (> 1 st off the clean signal's) 4 times as often as the pitch it keeps."""
    max_speech_outside_s: float = 0.06
    """A voiced stretch at least this long outside every aligned word but as loud as the words (within
    ``speech_outside_db`` of their median frame level) is speech the aligner put no word on: it slipped a
    short word (often "the", "of") off its sound into a neighbouring one. Every descriptor of the words on
    either side of the stretch is dropped. 60 ms: at 80 ms, as before, the 70 ms vowel of a slipped "the" at
    140 wpm passed unflagged. On the tuning set (where the retry repairs every slip) it flags 4 words in 3
    of the 160 clean files (80 ms: 2 words in 1), and under ``bench_robustness.py --set tuning`` it changes
    only the cough condition (vowels kept whole 96.9 → 95.5 %; both measured before the aligner's noise
    floor, :data:`vowelprompt.align.pcm.NOISE_FLOOR_DBFS`). It was the aligner's slip threshold until that
    became 30 ms (:data:`~vowelprompt.align.slips.MAX_SPEECH_OUTSIDE_S`): between 30 and 60 ms the aligner
    retries, and a slip whose retry it refused is flagged here only from 60 ms."""
    max_phone_spread: float = 1.0
    """Above this :func:`phone_spread` of a pocketsphinx alignment the row warns that its transcript may not
    match the audio (no descriptor is dropped: see :func:`phone_spread`). Chosen on the alignment tuning
    set, each file also given another sentence's transcript: right transcripts reach at most 0.91, and most
    wrong ones that align are above 1.0 (``benchmarks/bench_transcripts.py`` prints how many)."""
    speech_outside_db: float = 6.0
    """How close to the words' median level (dB) a frame outside them counts as speech (see above)."""
    pause_quantile: float = 0.25
    """The noise floor is this quantile of the power of the frames outside the aligned words (pauses, lead-in
    and tail) when there are ``min_pause_s`` of them: their typical level for steady noise, and below a
    cough or a laugh between two words as long as it fills under three quarters of the pauses."""
    min_pause_s: float = 0.15
    """Less pause than this and the floor is the mean power of the utterance's quietest frames instead."""
    noise_quantile: float = 0.1
    """The share of the utterance's quietest frames that make the floor when there are too few pauses
    (then the quietest consonants may count as noise: the SNR errs low)."""

    def __post_init__(self):
        if not 0 <= self.min_voiced_fraction <= 1:
            raise ConfigError(f"min_voiced_fraction must be in [0, 1], got {self.min_voiced_fraction}")
        if not (0 < self.noise_quantile < 1 and 0 < self.pause_quantile < 1):
            raise ConfigError("noise_quantile and pause_quantile must be in (0, 1)")

    def thresholds(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if k in THRESHOLDS}


def pause_frames(times_s: np.ndarray, words: list[Word], margin_s: float = 0.03) -> np.ndarray:
    """Mask of frames more than ``margin_s`` away from every aligned word."""
    speech = np.zeros(times_s.shape, dtype=bool)
    for w in words:
        if w.start_s is not None and w.end_s is not None:
            speech |= (times_s >= w.start_s - margin_s) & (times_s <= w.end_s + margin_s)
    return ~speech


def utterance_floor_db(tracks, words: list[Word], config: QualityConfig) -> tuple[float | None, str]:
    """The noise floor (dBFS) and where it came from: ``pauses`` or ``quietest`` frames."""
    pauses = tracks.rms_db[pause_frames(tracks.rms_times_s, words)]
    if pauses.size * (frame_step(tracks.rms_times_s) or 0.0) >= config.min_pause_s:
        power = np.quantile(10 ** (pauses / 10), config.pause_quantile)
        return float(10 * np.log10(power)), "pauses"
    return noise_floor_db(tracks.rms_db, config.noise_quantile), "quietest"


def snr_db(core_db: float | None, floor_db: float | None) -> float | None:
    """Local SNR: the core's power less the noise power, over the noise power (≥ −30 dB).

    >>> snr_db(-20.0, -40.0), snr_db(-40.0, -40.0)
    (20.0, -30.0)
    """
    if core_db is None or floor_db is None:
        return None
    ratio = 10 ** ((core_db - floor_db) / 10) - 1  # the core holds noise too: subtract it
    return round(float(10 * np.log10(max(ratio, 1e-3))), 1)


def voiced_fraction(
    span: VowelSpan, f0_times_s: np.ndarray, f0_hz: np.ndarray, core_trim: float
) -> float | None:
    """Share of F0 frames in the vowel's core (``core_trim`` off each edge) that are voiced."""
    trim = core_trim * span.duration_s
    share = voiced_share(f0_times_s, f0_hz, span.start_s + trim, span.end_s - trim)
    return None if share is None else round(share, 3)


def voiced_share(f0_times_s: np.ndarray, f0_hz: np.ndarray, start_s: float, end_s: float) -> float | None:
    """Share of the F0 frames in [start_s, end_s] that are voiced (``None`` when there is no frame)."""
    inside = (f0_times_s >= start_s) & (f0_times_s <= end_s)
    return float(np.isfinite(f0_hz[inside]).mean()) if inside.any() else None


def frame_step(times_s: np.ndarray) -> float | None:
    """A track's frame step in seconds (``None`` with fewer than two frames)."""
    return float(np.median(np.diff(times_s))) if times_s.size > 1 else None


def phone_score(span: VowelSpan, words: list[Word]) -> float | None:
    """The aligner's per-frame score of the phone the vowel span came from (``None`` if it gave none)."""
    if not 0 <= span.word_index < len(words):
        return None
    for phone in words[span.word_index].phones:
        if abs(phone.start_s - span.start_s) < 1e-6 and abs(phone.end_s - span.end_s) < 1e-6:
            return phone.score
    return None


def judge(
    voiced: float | None,
    snr: float | None,
    score: float | None,
    config: QualityConfig,
    pitch_sd_st: float | None = None,
) -> tuple[str, ...]:
    """The reasons (possibly none) to drop descriptors of a vowel with these quality fields."""
    if not config.enabled:
        return ()
    reasons = []
    if snr is not None and snr < config.min_snr_db:
        reasons.append("low_snr")
    if score is not None and score < config.min_align_score:
        reasons.append("bad_alignment")
    if voiced is not None and voiced < config.min_voiced_fraction:
        reasons.append("low_voicing")
    if pitch_sd_st is not None and pitch_sd_st > config.max_pitch_sd_st:
        reasons.append("unstable_pitch")
    return tuple(reasons)


def speech_outside_words(
    tracks, words: list[Word], config: QualityConfig, floor_db: float | None = None
) -> set[int]:
    """Indices of the words on either side of a stretch of speech that no aligned word covers (see
    :attr:`QualityConfig.max_speech_outside_s`). With the utterance's noise floor, a stretch must also
    stand 10 dB above it: in heavy noise the pauses are as loud as the words, and that is noise."""
    spans = [(i, w.start_s, w.end_s) for i, w in enumerate(words) if w.start_s is not None]
    times, db = np.asarray(tracks.rms_times_s), np.asarray(tracks.rms_db)
    if not spans or not len(times) or not config.enabled:
        return set()
    inside = np.zeros(len(times), dtype=bool)
    for _, start, end in spans:
        inside |= (times >= start) & (times < end)
    if not inside.any():
        return set()
    loud = (db > np.median(db[inside]) - config.speech_outside_db) & ~inside
    if floor_db is not None:
        loud &= db > floor_db + 10
    step = frame_step(times) or 0.005
    flagged: set[int] = set()
    start = None
    for k, value in enumerate([*loud, False]):
        if value and start is None:
            start = k
        elif not value and start is not None:
            a, b = times[start], times[k - 1]
            voiced = voiced_share(np.asarray(tracks.f0_times_s), np.asarray(tracks.f0_hz), a, b) or 0.0
            # a slid-off word is voiced speech, a cough is not
            if (k - start) * step >= config.max_speech_outside_s and voiced >= 0.5:
                before = [i for i, _, end in spans if end <= a + 1e-9]
                after = [i for i, begin, _ in spans if begin >= b - 1e-9]
                flagged.update(([before[-1]] if before else []) + ([after[0]] if after else []))
            start = None
    return flagged


def assess(vowels: tuple[Vowel, ...], words: list[Word], tracks, core_trim: float, config: QualityConfig):
    """``vowels`` with their :class:`VowelQuality`, and the row's ``quality`` summary.

    ``tracks`` are the utterance's :class:`~vowelprompt.features.Tracks`; ``core_trim`` the feature
    config's, so that the voiced fraction is measured on the frames the pitch descriptors used.
    """
    floor, source = utterance_floor_db(tracks, words, config)
    slipped = speech_outside_words(tracks, words, config, floor)
    out = []
    for vowel in vowels:
        voiced = voiced_fraction(vowel.span, tracks.f0_times_s, tracks.f0_hz, core_trim)
        snr = snr_db(vowel.features.rms_mean_db, floor)
        score = phone_score(vowel.span, words)
        reasons = judge(voiced, snr, score, config, vowel.features.f0_sd_st)
        if vowel.span.word_index in slipped:
            reasons = ("speech_outside_words", *reasons)
        whole = {"low_snr", "bad_alignment", "speech_outside_words"} & set(reasons)
        targets = tuple(DESCRIPTORS) if whole else PITCH_DESCRIPTORS if reasons else ()
        # only what was measured can be dropped: an unvoiced core has no pitch to leave out
        dropped = tuple(d for d in targets if vowel.features.value(d) is not None)
        if not dropped:
            reasons = ()
        out.append(replace(vowel, quality=VowelQuality(voiced, snr, score, dropped, reasons)))
    return tuple(out), summary(out, floor, source, config)


def summary(vowels, floor_db: float | None, floor_source: str, config: QualityConfig) -> dict:
    """The row's ``quality``: vowels, vowels kept whole, descriptors dropped, and vowels per reason."""
    reasons: Counter[str] = Counter()
    for v in vowels:
        reasons.update(v.quality.reasons if v.quality else ())
    return {
        "vowels": len(vowels),
        "kept": sum(not (v.quality and v.quality.dropped) for v in vowels),
        "dropped_descriptors": sum(len(v.quality.dropped) for v in vowels if v.quality),
        "dropped": dict(sorted(reasons.items())),
        "noise_floor_dbfs": None if floor_db is None else round(floor_db, 1),
        "noise_floor_from": floor_source,
        "thresholds": config.thresholds() if config.enabled else {},
    }


def phone_spread(words: list[Word], shortest_s: float = SHORTEST_PHONE_S) -> float | None:
    """The share of the aligned phones no longer than ``shortest_s`` (pocketsphinx's three-frame minimum)
    plus the coefficient of variation of the phones' lengths; ``None`` under ten phones.

    A transcript that does not match its audio is often still aligned: the decoder finds a path for any
    words over any speech when silence and noise can absorb the rest, and its acoustic scores overlap a
    right transcript's (see the README). The path then packs many phones into the shortest length and
    stretches others over what was really said, which a right alignment, whose phones follow the speech,
    rarely does: on the alignment tuning set a right transcript scores 0.34–0.91 and the next sentence's
    transcript, where it aligns, 0.62–2.21, two thirds of them above 1.
    It is a warning, not a refusal: emotional speech stretches vowels far more than espeak-ng's voices do,
    and no real recording with a known wrong transcript was at hand to bound the cost of refusing. Held out
    (right transcripts), it fired on 4 of the first held-out set's 118 aligned files, all of one voice and all
    poorly aligned (21–45 ms mean boundary error against the set's 11), and on none of the fourth set's 120.

    >>> from vowelprompt.records import Phone
    >>> even = [Word("w", 0.0, 1.0, tuple(Phone("AH0", i / 10, (i + 1) / 10) for i in range(10)))]
    >>> short = tuple(Phone("AH0", i * 0.03, (i + 1) * 0.03) for i in range(9))
    >>> squeezed = [Word("w", 0.0, 1.0, (*short, Phone("AH0", 0.27, 1.0)))]
    >>> round(phone_spread(even), 3), round(phone_spread(squeezed), 2)
    (0.0, 3.0)
    """
    return length_spread([p.end_s - p.start_s for w in words for p in w.phones], shortest_s)


#: How the row's warning about an implausible alignment begins (benchmarks count it).
TRANSCRIPT_WARNING = "the transcript may not match the audio"


def transcript_warning(spread: float | None, config: QualityConfig) -> str | None:
    """The row's warning when :func:`phone_spread` is above ``config.max_phone_spread``."""
    if spread is None or spread <= config.max_phone_spread:  # drops nothing, so also with --keep-unreliable
        return None
    return (
        f"{TRANSCRIPT_WARNING}: the alignment's phone lengths are implausible (spread "
        f"{spread:.2f} > {config.max_phone_spread:g}), as when the words are not the ones said or the "
        "aligner misplaced them; check the transcript"
    )


def masked(vowel: Vowel) -> Vowel:
    """``vowel`` with its dropped descriptors' raw values set to ``None`` (for normalisation)."""
    if not (vowel.quality and vowel.quality.dropped):
        return vowel
    fields = {DESCRIPTORS[d]: None for d in vowel.quality.dropped}
    if "pitch" in vowel.quality.dropped:
        fields["f0_mean_hz"] = None
    return replace(vowel, features=replace(vowel.features, **fields))


def normalize_kept(row: Annotation, normalize) -> Annotation:
    """``normalize(row)`` with dropped descriptors masked out of it (no z-score, no bin, no share in the
    utterance's own statistics), the raw features of every vowel restored afterwards."""
    if not any(v.quality and v.quality.dropped for v in row.vowels):
        return normalize(row)
    done = normalize(replace(row, vowels=tuple(masked(v) for v in row.vowels)))
    vowels = tuple(replace(new, features=old.features) for new, old in zip(done.vowels, row.vowels))
    return replace(done, vowels=vowels)


def warning(quality: dict) -> str | None:
    """The row's note about what was left out, or ``None`` when nothing was."""
    if not quality.get("dropped_descriptors"):
        return None
    reasons = ", ".join(f"{k} {n}" for k, n in quality["dropped"].items())
    dropped = quality["vowels"] - quality["kept"]
    return f"quality: descriptors of {dropped} of {quality['vowels']} vowels left out of the text ({reasons})"
