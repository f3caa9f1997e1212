"""Compose the stages: audio → transcript → alignment → vowel features → normalisation → description.

Every input yields exactly one :class:`~vowelprompt.records.Annotation`: ``status="ok"``, or the error kind
and a one-line message. An item with no transcript, or whose transcript does not align, is ``ok`` with its
utterance-level prosody (:mod:`vowelprompt.missing`) unless ``require_words`` is set. Nothing here
prints; :mod:`vowelprompt.cli` reports.

Usage: ``annotate("examples/happy_day.wav")`` (transcript from the sidecar ``.txt``) returns an
:class:`~vowelprompt.records.Annotation`; a list of paths returns a list, in input order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import cache, partial
from pathlib import Path

from vowelprompt.align import Aligner, BatchAligner, BatchItem, get_aligner
from vowelprompt.align.vowels import vowel_spans
from vowelprompt.annotate_config import MFA_MODELS, AnnotateConfig, aligner_for  # noqa: F401 (API)
from vowelprompt.audio import Audio, load_audio
from vowelprompt.errors import (
    AlignmentError,
    FeatureError,
    InputError,
    NoSpeechError,
    TranscriptError,
    VowelPromptError,
)
from vowelprompt.features import compute_tracks, measure_utterance, measure_vowel
from vowelprompt.missing import NOT_GIVEN, wordless_row
from vowelprompt.normalize import Stats, normalize
from vowelprompt.quality import assess, normalize_kept, phone_spread, transcript_warning
from vowelprompt.quality import warning as quality_warning
from vowelprompt.records import Annotation, Utterance, Vowel, Word
from vowelprompt.transcripts import find_transcript, given_transcript  # noqa: F401 (find_transcript: API)
from vowelprompt.verbalize import FALLBACK_NOTE, describe, fallback_note
from vowelprompt.versions import package_versions
from vowelprompt.workers import map_in_workers

#: The default configuration (:class:`AnnotateConfig` is frozen: one instance serves every default).
DEFAULT_CONFIG = AnnotateConfig()


@cache
def versions() -> dict[str, str]:
    """Versions of vowelprompt and the libraries that shape its numbers (recorded in every row)."""
    return package_versions(("vowelprompt", "pocketsphinx", "praat-parselmouth", "numpy"), missing="unknown")


#: The row's note on words whose pronunciation or times are not the dictionary's aligned phones.
PRON_SOURCE_NOTES = (
    ("g2p", "words not in the dictionary, given letter-to-sound pronunciations"),
    (
        "unaligned",
        "words left unaligned, without vowels (no pronunciation, or in a stretch of a long recording whose "
        "phones did not align)",
    ),
    (
        "approximate",
        "phone alignment failed: word-level alignment, vowel times approximate (spread over each word by "
        "typical durations) in",
    ),
)


class Annotator:
    """Holds the expensive, reusable parts (aligner, statistics) and annotates one item at a time."""

    def __init__(self, config: AnnotateConfig = DEFAULT_CONFIG, stats: Stats | None = None):
        self.config = config
        self.stats = stats
        self.aligner: Aligner | None = None  # built on first use: not needed for imported TextGrids
        self._aligners: dict[str, Aligner] = {}  # by language, for rows whose language is not the run's

    def aligner_instance(self, language: str | None = None) -> Aligner:
        """The aligner for ``language`` (None: the run's ``config.language``), built on first use."""
        if language is None or language == self.config.language:
            if self.aligner is None:
                name, options = aligner_for(self.config, None)
                self.aligner = get_aligner(name, **options)
            return self.aligner
        if language not in self._aligners:
            name, options = aligner_for(self.config, language)
            self._aligners[language] = get_aligner(name, **options)
        return self._aligners[language]

    def language(self, utt: Utterance) -> str:
        return utt.language or self.config.language

    def transcript(self, utt: Utterance, audio: Audio) -> tuple[str, dict]:
        """The item's transcript and its ``transcript_source``: given, a sidecar, or ASR (with --asr)."""
        found = given_transcript(utt)
        if found and found[0]:
            return found
        if self.config.asr:
            from vowelprompt.asr import transcribe_with_confidence

            try:
                heard = transcribe_with_confidence(audio.samples, audio.sr, model=self.config.asr_model)
            except NoSpeechError as exc:  # a missing transcript, kept unless words are required
                if self.config.require_words:
                    raise
                return "", {"from": "asr", "model": self.config.asr_model, "missing": str(exc)}
            return heard.text, heard.source()
        if not self.config.require_words:
            return "", {"from": "none", "missing": NOT_GIVEN}
        raise TranscriptError(
            f"{utt.audio}: no transcript; pass --text, add {Path(utt.audio).with_suffix('.txt').name} "
            "(or .lab) beside the audio, or use --asr"
        )

    def prepare(self, utt: Utterance) -> tuple[Audio, str, dict]:
        """The item's audio, transcript and ``transcript_source`` (an imported alignment brings its words)."""
        if utt.error:
            raise InputError(utt.error)
        audio = load_audio(utt.audio, self.config.audio)
        if utt.alignment:
            return audio, "", {"from": "alignment", "path": utt.alignment}
        return audio, *self.transcript(utt, audio)

    def words(self, utt: Utterance, audio: Audio, text: str) -> tuple[list[Word], str]:
        if utt.alignment:
            from vowelprompt.align.textgrid import alignment_format, read_alignment

            # the row's aligner names the imported format: textgrid, phseg (IEMOCAP) or lablaut (EmoDB)
            return read_alignment(utt.alignment, speaker=utt.speaker), alignment_format(Path(utt.alignment))
        aligner = self.aligner_instance(utt.language)
        return aligner.align(audio.samples, audio.sr, text), aligner.name

    def finish(
        self,
        utt: Utterance,
        audio: Audio,
        text: str,
        words: list[Word],
        aligner: str,
        transcript_source: dict | None = None,
    ) -> Annotation:
        """Measure, normalise and describe an aligned utterance."""
        spans = vowel_spans(words)
        if not spans:
            raise FeatureError("no vowels were aligned")
        tracks = compute_tracks(audio.samples, audio.sr, self.config.features)
        vowels = tuple(Vowel(s, measure_vowel(s, tracks, self.config.features)) for s in spans)
        vowels, quality = assess(vowels, words, tracks, self.config.features.core_trim, self.config.quality)
        warnings = list(audio.warnings)
        for source, what in PRON_SOURCE_NOTES:
            names = [w.text for w in words if w.pron_source == source]
            if names:
                warnings.append(f"{what}: {', '.join(names)}")
        numerals = [w.text for w in words if any(c.isdigit() for c in w.text)]
        if numerals:
            warnings.append(
                f"numerals aligned as numbers are usually read ({', '.join(numerals)}); if they were said "
                "otherwise (digit by digit, as a year), write them as words in the transcript"
            )
        unvoiced = sum(v.features.voiced_frames == 0 for v in vowels)
        if unvoiced:
            warnings.append(f"{unvoiced} of {len(vowels)} vowels had no voiced frames: no pitch descriptors")
        if note := quality_warning(quality):
            warnings.append(note)
        if aligner == "pocketsphinx":  # the aligner max_phone_spread was chosen on
            quality["phone_spread"] = spread = phone_spread(words)
            if note := transcript_warning(spread, self.config.quality):
                warnings.append(note)
        row = Annotation(
            id=utt.id,
            audio=utt.audio,
            status="ok",
            text=text or " ".join(w.text for w in words),
            speaker=utt.speaker,
            label=utt.label,
            dialogue=utt.dialogue,
            turn=utt.turn,
            duration_s=round(audio.duration_s, 4),
            words=tuple(words),
            vowels=vowels,
            utterance=measure_utterance(words, len(vowels), tracks, self.config.features),
            style=self.config.style,
            aligner=aligner,
            warnings=tuple(warnings),
            versions=versions(),
            transcript_source=transcript_source or {},
            language=self.language(utt),
            quality=quality,
        )
        return renormalize(row, self.stats, self.config)

    def measure(self, utt: Utterance, audio: Audio, text: str, source: dict, aligned=None) -> Annotation:
        """Align (unless ``aligned`` is given: the words and the aligner's name, or the batch aligner's
        error for this item) and :meth:`finish`. An item with no transcript, or whose transcript fails to
        align, keeps its utterance-level prosody (:mod:`vowelprompt.missing`) unless words are required."""
        if not text and not utt.alignment:
            return self.wordless(utt, audio, text, source, source.get("missing", NOT_GIVEN))
        try:
            if isinstance(aligned, Exception):
                raise aligned
            words, aligner = aligned or self.words(utt, audio, text)
            return self.finish(utt, audio, text, words, aligner, source)
        except (AlignmentError, FeatureError, TranscriptError) as exc:
            if self.config.require_words or utt.alignment:  # an unreadable imported alignment stays an error
                raise
            return self.wordless(utt, audio, text, source, f"alignment failed: {exc}")

    def wordless(self, utt: Utterance, audio: Audio, text: str, source: dict, reason: str) -> Annotation:
        """The row of an item without aligned words: utterance-level prosody and the transcript, if any."""
        tracks = compute_tracks(audio.samples, audio.sr, self.config.features)
        fields = dict(
            id=utt.id,
            audio=utt.audio,
            speaker=utt.speaker,
            label=utt.label,
            dialogue=utt.dialogue,
            turn=utt.turn,
            duration_s=round(audio.duration_s, 4),
            style=self.config.style,
            warnings=audio.warnings,
            versions=versions(),
            transcript_source=source,
            language=self.language(utt),
        )
        return renormalize(
            wordless_row(fields, text, reason, tracks, self.config.features), self.stats, self.config
        )

    def annotate(self, utt: Utterance) -> Annotation:
        """Annotate one item; never raises for bad input — the row's status says what went wrong."""
        try:
            return self.measure(utt, *self.prepare(utt))
        except VowelPromptError as exc:
            return failed(utt, exc.kind, str(exc))
        except Exception as exc:  # an unexpected failure must not lose the item or stop the batch
            return failed(utt, "internal_error", f"{type(exc).__name__}: {exc}")


def renormalize(row: Annotation, stats: Stats | None, config: AnnotateConfig = DEFAULT_CONFIG) -> Annotation:
    """``row`` with its levels and description redone from ``stats``, without aligning or measuring again.

    For rows annotated before the statistics existed (``fit-stats --save-annotations``, or annotate's JSONL
    given to ``predict --stats``). Failed rows are returned unchanged.
    """
    if not row.ok:
        return row
    # descriptors the quality threshold dropped get no level and take no part in the utterance's own
    # statistics (vowelprompt.quality)
    row = normalize_kept(row, partial(normalize, stats=stats, config=config.normalization))
    warnings = tuple(w for w in row.warnings if not w.startswith(FALLBACK_NOTE))
    style = config.style if row.vowels else "speechcue"  # a row without vowels is described as a whole
    if row.normalization == "utterance":
        warnings = (*warnings, fallback_note(style))
    row = replace(row, warnings=warnings, style=config.style)
    return replace(row, description=describe(row, style))


def failed(utt: Utterance, kind: str, message: str) -> Annotation:
    """The row recorded for an item that could not be annotated."""
    return Annotation(
        id=utt.id,
        audio=utt.audio,
        status=kind,
        text=utt.text,
        speaker=utt.speaker,
        label=utt.label,
        dialogue=utt.dialogue,
        turn=utt.turn,
        error=message,
        versions=versions(),
    )


def iter_annotate(
    items: Iterable[Utterance],
    config: AnnotateConfig = DEFAULT_CONFIG,
    stats: Stats | None = None,
    jobs: int = 1,
) -> Iterator[Annotation]:
    """Annotate items, yielding one row per item, in the order of ``items`` (whatever ``jobs``).

    With ``jobs > 1`` the items are annotated in worker processes, which a dead worker, a dead parent or an
    early stop cannot cost a row or leave behind (:func:`vowelprompt.workers.map_in_workers`).
    """
    items = list(items)
    annotator = Annotator(config, stats)
    # The aligner is built only when some item needs one: items given with their TextGrid (or refused as
    # given) need none, and an aligner that cannot be built (MFA not installed) must not stop them.
    needs_aligner = any(not (utt.alignment or utt.error) for utt in items)
    if needs_aligner and isinstance(annotator.aligner_instance(), BatchAligner):
        yield from _annotate_corpus(annotator, items)
        return
    if jobs <= 1 or len(items) <= 1:
        for utt in items:
            yield annotator.annotate(utt)
        return
    yield from map_in_workers(items, partial(_annotator, config, stats), failed, jobs)


def _annotator(config: AnnotateConfig, stats: Stats | None):
    """A worker's work function: an :class:`Annotator` of its own, built in the worker."""
    return Annotator(config, stats).annotate


def _annotate_corpus(annotator: Annotator, items: list[Utterance]) -> Iterator[Annotation]:
    """Batch path for corpus aligners: prepare everything, align once, then measure each item."""
    prepared: dict[str, tuple[Audio, str, dict]] = {}
    refused: dict[str, Annotation] = {}  # yielded in their place, below
    batches: dict[str, list[BatchItem]] = {}  # by language: each has its own models
    for utt in items:
        try:
            prepared[utt.id] = audio, text, _ = annotator.prepare(utt)
        except VowelPromptError as exc:
            refused[utt.id] = failed(utt, exc.kind, str(exc))
            continue
        if not utt.alignment and text:
            item = BatchItem(utt.id, audio.samples, audio.sr, text, utt.speaker)
            batches.setdefault(annotator.language(utt), []).append(item)
    results: dict = {}
    whole: dict[str, VowelPromptError] = {}
    names: dict[str, str] = {}
    for language, batch in batches.items():
        aligner = None  # a language whose aligner cannot be built fails its items, not the run
        try:
            aligner = annotator.aligner_instance(language)
            found = (
                aligner.align_corpus(batch)
                if isinstance(aligner, BatchAligner)
                else {item.id: _align_one(aligner, item) for item in batch}
            )
        except VowelPromptError as exc:  # the whole batch failed (a setup fault): errors, not kept rows
            found = {item.id: exc for item in batch}
            whole.update(found)
        results.update(found)
        names.update({item.id: getattr(aligner, "name", "") for item in batch})
    for utt in items:
        if utt.id in refused or utt.id in whole:
            yield refused.get(utt.id) or failed(utt, whole[utt.id].kind, str(whole[utt.id]))
            continue
        audio, text, source = prepared[utt.id]
        try:
            aligned = None
            if text and not utt.alignment:
                aligned = results.get(utt.id) or FeatureError("aligner returned nothing for this item")
                aligned = aligned if isinstance(aligned, Exception) else (aligned, names[utt.id])
            yield annotator.measure(utt, audio, text, source, aligned)
        except VowelPromptError as exc:
            yield failed(utt, exc.kind, str(exc))
        except Exception as exc:
            yield failed(utt, "internal_error", f"{type(exc).__name__}: {exc}")


def _align_one(aligner: Aligner, item: BatchItem) -> list[Word] | VowelPromptError:
    """One item of a batch for an aligner that has no batch mode (a language MFA does not serve here)."""
    try:
        return aligner.align(item.samples, item.sr, item.text)
    except VowelPromptError as exc:
        return exc


def annotate(
    audio: str | os.PathLike | Utterance | Iterable[str | os.PathLike | Utterance],
    text: str | None = None,
    *,
    speaker: str | None = None,
    alignment: str | None = None,
    stats: Stats | str | os.PathLike | None = None,
    jobs: int = 1,
    **options,
) -> Annotation | list[Annotation]:
    """Annotate one recording (returns an :class:`Annotation`) or several (returns a list, input order).

    ``text`` applies to a single recording; otherwise transcripts come from sidecar files or the items.
    ``stats`` is a :class:`Stats` or the path of a ``fit-stats`` JSON file; ``options`` are fields of
    :class:`AnnotateConfig` (``aligner``, ``style``, ``asr`` …).
    """
    single = isinstance(audio, (str, os.PathLike, Utterance))
    raw = [audio] if single else list(audio)
    stems = [Path(x).stem for x in raw if not isinstance(x, Utterance)]
    items = [
        x
        if isinstance(x, Utterance)
        else Utterance(
            id=Path(x).stem if stems.count(Path(x).stem) == 1 else str(x),  # ids must be unique
            audio=str(x),
            text=text if single else None,
            speaker=speaker,
            alignment=alignment,
        )
        for x in raw
    ]
    if isinstance(stats, (str, os.PathLike)):
        stats = Stats.load(stats)
    rows = {}
    for row in iter_annotate(items, AnnotateConfig(**options), stats, jobs):
        rows[row.id] = row
    ordered = [rows[u.id] for u in items]
    return ordered[0] if single else ordered
