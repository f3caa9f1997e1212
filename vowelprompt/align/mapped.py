"""Offline alignment for any language espeak-ng speaks: its phones mapped onto the bundled English model.

No French or German acoustic model for pocketsphinx exists on PyPI or Debian, and MFA's ``french_mfa`` /
``german_mfa`` need conda and a download. This aligner needs neither: each word gets its IPA pronunciation
from espeak-ng (:mod:`vowelprompt.align.g2p`), each IPA phone is spelt with the closest ARPAbet phone(s) of
pocketsphinx's en-us model (:data:`PHONE_MAP`: /y/ as IY, /ø/ as ER, nasal vowels as their oral vowel, /ʁ/
as R …), and a decoder whose dictionary holds only the utterance's words (no language model: alignment
never uses one, and such a decoder is built in about 0.02 s) runs the same two passes as
:class:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner`. The proxies' segments are then put back
together under the language's own IPA labels, so rows and descriptors show /y/, not /IY/.

When no beam yields a phone alignment, the utterance is not failed silently nor aligned wrongly with
confidence: the first pass's word spans (or, when even that pass finds no path, the speech found by energy,
split between the words by their number of phones) are kept, and the phones are spread over each word in
proportion to typical durations (vowels twice a consonant). Every such word has
``pron_source="approximate"``, and the pipeline says so in the row's warnings.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from vowelprompt.align import require_analysis_rate
from vowelprompt.align.g2p import check_language, pronounce
from vowelprompt.align.pcm import to_pcm
from vowelprompt.align.pocketsphinx import BEAMS, FRAME_S, PocketsphinxAligner, tokenize, word_pass
from vowelprompt.align.vowels import NON_SPEECH, is_vowel
from vowelprompt.audio import ANALYSIS_SR
from vowelprompt.errors import AlignmentError, TranscriptError
from vowelprompt.records import Phone, Word

#: IPA phone → ARPAbet phones of the en-us model that stand in for it. Vowels by closeness of their first
#: two formants, and rounding where English has no such vowel (front rounded /y ø œ/ have no English
#: counterpart). A nasal vowel is its oral vowel followed by N, and the two segments are one vowel again
#: in the output: its nasal second half scores better as N than as more oral vowel (French tuning set:
#: 21.7 → 19.3 ms mean boundary error, 96.5 → 97.2 % of midpoints inside, mostly word-final /ɛ̃/ that
#: ended 45 ms early). Other proxies tried on the tuning set and not kept, each within 0.5 ms or worse:
#: /y/ as UW, /ø/ as UH, /ə/ as ER, /ʁ/ as HH, /a/ as AE (the last 30.3 ms, five files not aligned).
# fmt: off
PHONE_MAP: dict[str, tuple[str, ...]] = {
    # vowels
    "i": ("IY",), "y": ("IY",), "ɪ": ("IH",), "ʏ": ("IH",), "e": ("EY",), "ø": ("ER",), "ɛ": ("EH",),
    "œ": ("ER",), "æ": ("AE",), "a": ("AA",), "ɑ": ("AA",), "ɐ": ("AH",), "ə": ("AH",), "ɜ": ("ER",),
    "ɔ": ("AO",), "o": ("OW",), "u": ("UW",), "ʊ": ("UH",), "ʌ": ("AH",), "ɒ": ("AA",),
    "ɛ̃": ("EH", "N"), "ɑ̃": ("AA", "N"), "ɔ̃": ("OW", "N"), "œ̃": ("ER", "N"), "ã": ("AA", "N"),
    "õ": ("OW", "N"),
    "aɪ": ("AY",), "aʊ": ("AW",), "ɔʏ": ("OY",), "ɔɪ": ("OY",), "eɪ": ("EY",), "oʊ": ("OW",),
    # consonants
    "b": ("B",), "d": ("D",), "f": ("F",), "ɡ": ("G",), "g": ("G",), "h": ("HH",), "k": ("K",),
    "l": ("L",), "ɫ": ("L",), "m": ("M",), "n": ("N",), "ŋ": ("NG",), "ɲ": ("N", "Y"), "p": ("P",),
    "ʁ": ("R",), "r": ("R",), "ɾ": ("R",), "ɹ": ("R",), "ʀ": ("R",), "χ": ("HH",), "x": ("HH",),
    "ç": ("HH",), "s": ("S",), "ʃ": ("SH",), "t": ("T",), "v": ("V",), "ʋ": ("V",), "w": ("W",),
    "ɥ": ("W",), "j": ("Y",), "z": ("Z",), "ʒ": ("ZH",), "θ": ("TH",), "ð": ("DH",),
    "pf": ("P", "F"), "ts": ("T", "S"), "tʃ": ("CH",), "dʒ": ("JH",), "tɕ": ("CH",), "dʑ": ("JH",),
    "ʎ": ("L", "Y"), "β": ("V",), "ɣ": ("G",),
    # English as espeak writes it (the benchmark's sanity row)
    "ɚ": ("ER",), "ɝ": ("ER",), "ᵻ": ("IH",), "ɔː": ("AO",), "ɜː": ("ER",),
}
# fmt: on

_LONG = "ːˑ"

#: The English aligner's beams, then one that prunes almost nothing: phones spelt with another language's
#: proxies score worse than English ones, and on the tuning set some French utterances found no first-pass
#: path at 1e-200 but did at 1e-300 (decoding time grows, but only for the files that need it).
MAPPED_BEAMS = (*BEAMS, 1e-300)


def proxies(phone: str, table: dict[str, tuple[str, ...]] = PHONE_MAP) -> tuple[str, ...]:
    """The ARPAbet stand-ins of an IPA ``phone``: exact entry, else without length marks, else its first
    base letter; ``()`` when nothing fits (the phone is then left out of the alignment).

    >>> proxies("yː"), proxies("ɛ̃"), proxies("aɪ"), proxies("ʔ")
    (('IY',), ('EH', 'N'), ('AY',), ())
    """
    for candidate in (phone, phone.translate({ord(c): None for c in _LONG})):
        if candidate in table:
            return table[candidate]
    letters = [c for c in unicodedata.normalize("NFD", phone) if not unicodedata.combining(c)]
    return table.get(letters[0], ()) if letters else ()


@dataclass
class MappedPocketsphinxAligner:
    """Align ``language`` speech with pocketsphinx's English model through :data:`PHONE_MAP` (module doc).

    ``beams`` are tried in order as by the English aligner; ``fallback`` keeps word-level spans with
    approximate vowel times when no beam aligns phones (False: raise :class:`AlignmentError` instead).
    ``phone_map`` replaces entries of :data:`PHONE_MAP` (IPA → ARPAbet proxies), to try another mapping.
    """

    language: str = "fr"
    beams: tuple[float, ...] = MAPPED_BEAMS
    min_speech_coverage: float = 0.5
    max_duration_s: float = 120.0
    fallback: bool = True
    phone_map: dict[str, tuple[str, ...]] = field(default_factory=dict)
    refine: bool = False
    """Move vowel edges with :mod:`vowelprompt.align.refine` (its shift table was fitted on English)."""
    name: str = "pocketsphinx-mapped"

    def __post_init__(self):
        check_language(self.language)
        self._table = {**PHONE_MAP, **{k: tuple(v) for k, v in self.phone_map.items()}}

    def pronunciation(self, word: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(IPA phone, its ARPAbet proxies) for each phone of ``word`` that has proxies."""
        return tuple(
            (p, proxies(p, self._table)) for p in pronounce(word, self.language) if proxies(p, self._table)
        )

    def align(self, samples: np.ndarray, sr: int, transcript: str) -> list[Word]:
        require_analysis_rate(sr, self.name)
        seconds = len(samples) / ANALYSIS_SR
        if seconds > self.max_duration_s:
            raise AlignmentError(
                f"{seconds:.0f} s is over pocketsphinx's {self.max_duration_s:.0f} s limit; split the "
                "recording into utterances, or use --aligner mfa"
            )
        tokens = tokenize(transcript)
        if not tokens:
            raise TranscriptError(f"transcript has no words: {transcript!r}")
        # lower case but accents kept: they are part of French and German spelling (été ≠ ete)
        prons = [self.pronunciation(t.replace("’", "'").lower()) for t in tokens]
        if not any(prons):
            raise AlignmentError(f"no word of the transcript could be pronounced: {transcript!r}")
        # Dictionary keys are ASCII (w0, w1 …): the decoder never sees the language's spelling.
        keys: dict[tuple, str] = {}
        for pron in prons:
            if pron and pron not in keys:
                keys[pron] = f"w{len(keys)}"
        text = " ".join(keys[p] for p in prons if p)
        pcm = to_pcm(samples)
        with tempfile.TemporaryDirectory(prefix="vowelprompt-mapped-") as tmp:
            dict_path = os.path.join(tmp, "words.dict")
            with open(dict_path, "w", encoding="ascii") as fh:
                for pron, key in keys.items():
                    fh.write(f"{key} {' '.join(a for _, arpa in pron for a in arpa)}\n")
            segments = None
            for beam in self.beams:
                segments = PocketsphinxAligner._run(self._decoder(dict_path, beam), pcm, text)
                if segments is not None:
                    break
            if segments is None or len(segments) != len(text.split()):
                if not self.fallback:
                    raise AlignmentError(
                        f"pocketsphinx ({self.language} phones mapped onto en-us) found no alignment "
                        f"(tried beams {', '.join(f'{b:g}' for b in self.beams)})"
                    )
                return self._approximate(samples, pcm, tokens, prons, text, dict_path)
        PocketsphinxAligner._check_coverage(self, samples, segments)
        words: list[Word] = []
        seg = iter(segments)
        for token, pron in zip(tokens, prons):
            if not pron:
                words.append(Word(token, None, None, (), "unaligned"))
                continue
            start_s, end_s, arpa_phones = next(seg)
            words.append(Word(token, start_s, end_s, _merge(pron, arpa_phones), "espeak"))
        if self.refine:
            from vowelprompt.align.refine import refine_vowels

            words = refine_vowels(samples, ANALYSIS_SR, words)
        return words

    def _decoder(self, dict_path: str, beam: float):
        from pocketsphinx import Decoder

        # No language model (lm=None): the alignment grammar is built from the transcript alone.
        beams = {} if beam == BEAMS[0] else {"beam": beam, "pbeam": beam, "wbeam": beam}
        return Decoder(
            samprate=ANALYSIS_SR, bestpath=False, loglevel="FATAL", lm=None, dict=dict_path, **beams
        )

    def _approximate(self, samples, pcm, tokens, prons, text, dict_path) -> list[Word]:
        """Word spans from the first pass (else from energy), phones spread within each word."""
        spans = None
        for beam in self.beams:
            spans = _first_pass(self._decoder(dict_path, beam), pcm, text)
            if spans is not None and len(spans) == len(text.split()):
                break
            spans = None
        if spans is not None:
            PocketsphinxAligner._check_coverage(self, samples, [(s, e, ()) for s, e in spans])
        else:
            spans = _energy_spans(samples, [len(p) for p in prons if p])
            if spans is None:
                raise AlignmentError("phone alignment failed and no speech was found for a word-level one")
        words: list[Word] = []
        it = iter(spans)
        for token, pron in zip(tokens, prons):
            if not pron:
                words.append(Word(token, None, None, (), "unaligned"))
                continue
            start_s, end_s = next(it)
            words.append(Word(token, start_s, end_s, _spread(pron, start_s, end_s), "approximate"))
        return words


def _merge(pron, arpa_phones: list[Phone]) -> tuple[Phone, ...]:
    """The proxies' segments regrouped under their IPA phones (one IPA phone may have two proxies)."""
    out: list[Phone] = []
    i = 0
    for ipa, arpa in pron:
        group = arpa_phones[i : i + len(arpa)]
        i += len(arpa)
        if group:
            out.append(Phone(ipa, group[0].start_s, group[-1].end_s, _frame_score(group)))
    return tuple(out)


def _frame_score(group: list[Phone]) -> float | None:
    """The acoustic score per frame of proxies regrouped under one phone: their frame-weighted mean."""
    frames = [max(p.end_s - p.start_s, 0.01) for p in group]
    if any(p.score is None for p in group):
        return None
    return round(sum(p.score * n for p, n in zip(group, frames)) / sum(frames), 3)


def _spread(pron, start_s: float, end_s: float) -> tuple[Phone, ...]:
    """Phones over [start_s, end_s] in proportion to weights: a vowel counts twice a consonant."""
    weights = np.array([2.0 if is_vowel(ipa) else 1.0 for ipa, _ in pron])
    edges = start_s + (end_s - start_s) * np.concatenate([[0], np.cumsum(weights) / weights.sum()])
    return tuple(
        Phone(ipa, round(float(a), 3), round(float(b), 3))
        for (ipa, _), (a, b) in zip(pron, itertools.pairwise(edges))
    )


def _first_pass(decoder, pcm: bytes, text: str) -> list[tuple[float, float]] | None:
    """Word spans of the first (word-level) pass alone, or None when it finds no path."""
    try:
        if not word_pass(decoder, pcm, text):
            return None
        return [
            (round(s.start_frame * FRAME_S, 3), round((s.end_frame + 1) * FRAME_S, 3))
            for s in decoder.seg()
            if s.word not in NON_SPEECH and not s.word.startswith(("<", "[", "+"))
        ]
    except RuntimeError:
        return None


def _energy_spans(samples: np.ndarray, n_phones: list[int]) -> list[tuple[float, float]] | None:
    """Word spans over the loud frames of the audio (within 30 dB of its loudest 10 ms), shared between
    the words by their number of phones."""
    hop = int(ANALYSIS_SR * FRAME_S)
    n = len(samples) // hop
    if n == 0 or not n_phones:
        return None
    frames = samples[: n * hop].reshape(n, hop).astype(np.float64)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = np.flatnonzero(db > db.max() - 30)
    if loud.size == 0 or db.max() < -80:
        return None
    # Cut on the loud frames only, so that pauses fall between words rather than inside them.
    shares = np.concatenate([[0], np.cumsum(n_phones) / sum(n_phones)])
    cuts = np.minimum(np.round(shares * loud.size).astype(int), loud.size - 1)
    cuts[-1] = loud.size
    return [
        (round(float(loud[a] * FRAME_S), 3), round(float((loud[max(a, b - 1)] + 1) * FRAME_S), 3))
        for a, b in itertools.pairwise(cuts)
    ]
