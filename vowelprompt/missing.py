"""Rows with an input missing: no transcript (none given, or ASR heard no speech) or an alignment that failed.

Missing modalities are a condition to study (as STARS does), not only an error: a noisy clip the aligner
cannot place, or a clip with no words at all, still has a voice whose pitch and loudness say something.
Such a row is therefore kept and usable (``status="ok"``). It carries what needs no words, the
utterance-level pitch and energy measured over the voiced frames (:func:`measure_wordless`; the speaking
rate counts vowels, so it is None), and the transcript when there is one; it has no words and no vowels.

How a downstream verb knows what a row has, from the row alone (:func:`row_inputs`): an empty ``text`` means
no transcript, no measured ``vowels`` no vowel cues, an ``utterance`` without bins no utterance cues. Why is
in ``warnings``, in one entry starting with :data:`NO_TRANSCRIPT` or :data:`NO_VOWELS` and ending with the
reason after the first ``": "`` (:func:`missing_reasons`). ``AnnotateConfig(require_words=True)``
(``annotate --require-words``) refuses these rows instead, as annotate did before issue 17.

What is not kept: an imported alignment that cannot be read, audio that cannot be used (silence, a corrupt
file), and an ASR model that cannot be loaded (a setup problem that would turn every row prosody-only).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vowelprompt.features import FeatureConfig, Tracks
from vowelprompt.records import Annotation, UtteranceProsody

#: A row's warning that it has no transcript; the reason follows the first ``": "``.
NO_TRANSCRIPT = "no transcript, utterance-level prosody only"
#: A row's warning that it has a transcript but no vowel cues (the alignment failed); reason as above.
NO_VOWELS = "no vowel cues, transcript and utterance-level prosody only"
#: The reason recorded when no transcript was given and ASR was not asked for.
NOT_GIVEN = "none was given (pass --text, put a .txt or .lab file beside the audio, or use --asr)"

#: Every input a prompt can carry, in the order predictions record them (``Prediction.inputs``).
INPUTS = ("transcript", "vowels", "utterance", "context")

DEFAULT_FEATURES = FeatureConfig()

#: Mean energy without words is measured over the frames within this many dB of the loudest.
LOUD_DB = 30.0


def measure_wordless(tracks: Tracks, config: FeatureConfig = DEFAULT_FEATURES) -> UtteranceProsody:
    """Utterance-level F0 and energy with no aligned words to say where the speech is.

    F0 over every voiced frame; mean energy over the loud frames (within :data:`LOUD_DB` of the loudest),
    where :func:`~vowelprompt.features.measure_utterance` measures both over the aligned words.
    On the tuning set (160 files) they are on average 0.04 st (mean F0), 0.05 st (F0 SD) and 0.13 dB (mean
    energy) from the aligned measures, and give the same level word for pitch in every file, for pitch
    variation in 99 %, for volume in every file (``benchmarks/bench_missing.py``; the voiced frames instead
    gave 0.86 dB and 92 %). The energy *variation* is left out (None): it depends on which frames count as
    speech (consonant dips, pauses), and no choice of frames without words came within 2.8 dB of the aligned
    value on the tuning set or gave its level word for half of the files. The speaking rate needs vowels:
    None too. A clip with no voiced frame (noise) has no pitch. Clean synthetic speech, one voice per clip:
    other voices or music in a real clip's voiced frames count as its voice here.
    """
    f0 = tracks.f0_hz
    voiced = np.isfinite(f0)
    st = 12 * np.log2(f0[voiced] / config.f0_reference_hz)
    rms = tracks.rms_db[tracks.rms_db >= tracks.rms_db.max(initial=-np.inf) - LOUD_DB]
    return UtteranceProsody(
        f0_mean_st=float(12 * np.log2(np.mean(f0[voiced]) / config.f0_reference_hz)) if st.size else None,
        f0_sd_st=float(np.std(st)) if st.size >= 2 else None,
        rms_mean_db=float(10 * np.log10(np.mean(10 ** (rms / 10)))) if rms.size else None,
        rms_sd_db=None,
        rate_vowels_per_s=None,
    )


def has_transcript(row: Annotation) -> bool:
    return bool((row.text or "").strip())


def has_vowel_cues(row: Annotation) -> bool:
    """Whether some vowel has a level to describe (a vowel the quality threshold emptied has none)."""
    return any(v.bins for v in row.vowels)


def has_utterance_cues(row: Annotation) -> bool:
    return row.utterance is not None and bool(row.utterance.bins)


def row_inputs(row: Annotation) -> tuple[str, ...]:
    """What an ok row can give a prompt, of ``transcript``, ``vowels`` and ``utterance`` (context is another
    row's: :func:`vowelprompt.prompts.prompt_inputs` adds it)."""
    have = {
        "transcript": has_transcript(row),
        "vowels": has_vowel_cues(row),
        "utterance": has_utterance_cues(row),
    }
    return tuple(name for name, present in have.items() if present)


def missing_reasons(row: Annotation) -> dict[str, str]:
    """``{"transcript": why}`` and/or ``{"vowels": why}`` from the row's warnings (empty if nothing is
    missing, or for rows written before missing inputs were kept)."""
    found = {}
    for warning in row.warnings:
        for key, prefix in (("transcript", NO_TRANSCRIPT), ("vowels", NO_VOWELS)):
            if warning.startswith(prefix + ": "):
                found[key] = warning[len(prefix) + 2 :]
    return found


def missing_warning(what: str, reason: str) -> str:
    """The warning a row gets for the missing ``what`` (``transcript`` or ``vowels``)."""
    return f"{NO_TRANSCRIPT if what == 'transcript' else NO_VOWELS}: {reason}"


def wordless_row(row_fields: dict[str, Any], text: str, reason: str, tracks: Tracks, config) -> Annotation:
    """The row of an item that has no aligned words: ``row_fields`` (id, audio, speaker … as any row's) with
    the utterance measured without words and the reason recorded (``config``: a FeatureConfig)."""
    what = "vowels" if text.strip() else "transcript"
    warnings = (*row_fields.pop("warnings", ()), missing_warning(what, reason))
    return Annotation(
        **row_fields,
        status="ok",
        text=text,
        utterance=measure_wordless(tracks, config),
        warnings=warnings,
    )
