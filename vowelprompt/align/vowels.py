"""Vowel inventories: which aligner phone labels are vowels, and how to show them in IPA.

ARPAbet (CMUdict, pocketsphinx, MFA's ``english_us_arpa``) carries stress as a trailing digit; the IPA
phone sets of MFA's ``english_mfa``, ``french_mfa`` and ``german_mfa`` models carry none. Labels that are
neither (``sil``, ``spn``, empty) are non-speech.

>>> split_label("AH0")
('AH', 0)
>>> vowel_info("AY1")
('AY', 'aɪ', 1)
>>> vowel_info("ɛː")
('ɛː', 'ɛː', None)
>>> vowel_info("T") is None
True
>>> vowel_info("ow")
('ow', 'ow', None)

The IPA rule also covers what :mod:`vowelprompt.align.mapped` writes for other languages (espeak-ng's IPA):
nasal vowels, front rounded vowels, length marks and German diphthongs.

>>> [vowel_info(v)[1] for v in ("ɛ̃", "œ̃", "y", "øː", "ʏ", "ɔʏ", "ɐ")]
['ɛ̃', 'œ̃', 'y', 'øː', 'ʏ', 'ɔʏ', 'ɐ']
>>> vowel_info("ʁ") is None and vowel_info("ç") is None
True
"""

from __future__ import annotations

import unicodedata

from vowelprompt.records import VowelSpan, Word

#: ARPAbet monophthongs and diphthongs → IPA. AH and ER are reduced (ə, ɚ) when unstressed.
ARPABET_VOWELS: dict[str, str] = {
    "AA": "ɑ",
    "AE": "æ",
    "AH": "ʌ",
    "AO": "ɔ",
    "AW": "aʊ",
    "AY": "aɪ",
    "EH": "ɛ",
    "ER": "ɝ",
    "EY": "eɪ",
    "IH": "ɪ",
    "IY": "i",
    "OW": "oʊ",
    "OY": "ɔɪ",
    "UH": "ʊ",
    "UW": "u",
}
_UNSTRESSED_IPA = {"AH": "ə", "ER": "ɚ"}

#: Vowel phones of MFA's pretrained IPA acoustic models (their phone sets, vowels only).
# fmt: off
MFA_VOWELS: dict[str, frozenset[str]] = {
    "english_mfa": frozenset([
        "a", "aj", "aw", "aː", "e", "ej", "i", "iː", "o", "ow", "u", "uː", "æ", "ɐ", "ɑ", "ɑː", "ɒ", "ɒː",
        "ɔ", "ɔj", "ə", "əw", "ɚ", "ɛ", "ɛː", "ɜ", "ɜː", "ɝ", "ɪ", "ʉ", "ʉː", "ʊ",
    ]),
    "french_mfa": frozenset([
        "a", "ɑ", "ɑ̃", "e", "ɛ", "ɛ̃", "ɛː", "i", "o", "ɔ", "ɔ̃", "u", "y", "ø", "œ", "œ̃", "ə",
    ]),
    "german_mfa": frozenset([
        "a", "aː", "aj", "aw", "ɐ", "e", "eː", "ɛ", "ɛː", "i", "iː", "ɪ", "o", "oː", "ɔ", "ɔʏ", "ɔj",
        "u", "uː", "ʊ", "y", "yː", "ʏ", "ø", "øː", "œ", "ə",
    ]),
}
# fmt: on

#: IPA vowel letters; an IPA label is a vowel when its first base letter is one of these. This catches
#: length marks, nasalisation and diphthongs of MFA models not listed above.
IPA_VOWEL_LETTERS = frozenset("aeiouyæɑɒɐɔəɘɚɛɜɝɞɤɨɪʉʊʌʏøœɶɯɵ")

NON_SPEECH = frozenset(
    {"", "sil", "sp", "spn", "SIL", "SP", "SPN", "<sil>", "+NSN+", "+SPN+", "NSN", "++NOISE++"}
)


def split_label(label: str) -> tuple[str, int | None]:
    """Split an ARPAbet stress digit off a phone label: ``AH0`` → (``AH``, 0); ``ɪ`` → (``ɪ``, None)."""
    if label and label[-1] in "012":
        return label[:-1], int(label[-1])
    return label, None


def vowel_info(label: str) -> tuple[str, str, int | None] | None:
    """(symbol without stress, IPA, stress) if ``label`` is a vowel in any known inventory, else ``None``."""
    if label in NON_SPEECH:
        return None
    base, stress = split_label(label)
    if base in ARPABET_VOWELS:  # ARPAbet is upper case; MFA's IPA "ow", "aw" are lower case
        ipa = _UNSTRESSED_IPA[base] if stress == 0 and base in _UNSTRESSED_IPA else ARPABET_VOWELS[base]
        return base, ipa, stress
    if base.isascii() and base.isupper():
        return None  # an ARPAbet consonant
    letters = [c for c in unicodedata.normalize("NFD", base) if not unicodedata.combining(c)]
    if letters and letters[0] in IPA_VOWEL_LETTERS:
        return base, base, None
    return None


def is_vowel(label: str) -> bool:
    """True if ``label`` is an ARPAbet or IPA vowel (monophthong or diphthong)."""
    return vowel_info(label) is not None


def vowel_spans(words: list[Word]) -> list[VowelSpan]:
    """The vowel segments of aligned words, in time order, each tied to its word.

    >>> from vowelprompt.records import Phone
    >>> w = Word("it's", 0.0, 0.3, (Phone("IH1", 0.0, 0.1), Phone("T", 0.1, 0.15), Phone("S", 0.15, 0.3)))
    >>> [(v.ipa, v.stress, v.word) for v in vowel_spans([w])]
    [('ɪ', 1, "it's")]
    """
    spans = []
    for index, word in enumerate(words):
        for phone in word.phones:
            info = vowel_info(phone.label)
            if info is None or phone.end_s <= phone.start_s:
                continue
            symbol, ipa, stress = info
            spans.append(VowelSpan(symbol, ipa, stress, phone.start_s, phone.end_s, word.text, index))
    return spans
