"""Pronunciations in IPA for any language espeak-ng speaks, from its own letter-to-sound rules and lexicons.

espeak-ng is already the project's synthesiser (:mod:`vowelprompt.corpora.espeak`, a system dependency of the
tests), and ``espeak_TextToPhonemes`` gives its pronunciation of a text as IPA with a separator between
phonemes, so French and German need no new package (gruut-lang-fr/de would add two packages and a
second, differently segmented phone set for no measured gain). Words are looked up one at a time, so a
pronunciation never depends on its neighbours: French liaison consonants (*deux‿ânes*) are left out, and a
word boundary is always a phone boundary.

>>> pronounce("jardin", "fr")  # doctest: +SKIP
('ʒ', 'a', 'ʁ', 'd', 'ɛ̃')
"""

from __future__ import annotations

import ctypes
from functools import cache

from vowelprompt.errors import ConfigError

#: Language codes that mean English: the default pocketsphinx aligner and its CMU dictionary serve them.
ENGLISH = frozenset({"", "en", "en-us", "en-gb", "eng", "english"})

_CHARS_UTF8 = 1
_IPA = 0x02
_SEPARATOR = ord("|") << 8
_STRESS = "ˈˌ"
_RESET_EVERY = 10
_calls = [0]  # espeak_TextToPhonemes calls since the last reset (see pronounce)

#: espeak-ng's IPA → the symbol written in rows: espeak writes German *eu/äu* as ``ɔø`` and final *-er* as
#: ``ɜ`` (its mnemonic ``3``); the usual transcriptions (and MFA's german_mfa phone set) write ``ɔʏ`` and
#: ``ɐ``.
_RENAME = {"de": {"ɔø": "ɔʏ", "ɜ": "ɐ"}}


def is_english(language: str | None) -> bool:
    """True for ``None`` and the codes of :data:`ENGLISH` (rows written before languages were recorded)."""
    return language is None or language.lower() in ENGLISH


def base_language(language: str) -> str:
    """``fr-CA`` → ``fr``: the key of per-language tables (vowel statistics, phone maps)."""
    return language.lower().replace("_", "-").split("-")[0]


@cache
def check_language(language: str) -> str:
    """``language`` if espeak-ng has a voice for it, else a one-line :class:`ConfigError`."""
    from vowelprompt.corpora import espeak

    if not espeak.espeak_available():
        raise ConfigError(
            f"--language {language} needs espeak-ng (libespeak-ng.so.1) for pronunciations; install espeak-ng"
        )
    eng = espeak.engine()
    with eng.lock:
        try:
            eng.set_voice(language)
        except ValueError:
            raise ConfigError(
                f"unknown language {language!r}: espeak-ng has no voice for it (e.g. fr, de, es, it, en)"
            ) from None
    return language


@cache
def pronounce(word: str, language: str) -> tuple[str, ...]:
    """IPA phones of ``word`` in ``language`` (stress marks removed), ``()`` if espeak gives none."""
    from vowelprompt.corpora import espeak

    check_language(language)
    eng = espeak.engine()
    with eng.lock:
        eng.set_voice(language)
        ptr = ctypes.c_char_p(word.encode())
        chunks: list[str] = []
        while ptr.value:  # one call per clause; espeak advances ptr and sets it to NULL at the end
            chunks.append(eng.lib.espeak_TextToPhonemes(ctypes.byref(ptr), _CHARS_UTF8, _IPA | _SEPARATOR))
        _calls[0] += len(chunks)
        if _calls[0] >= _RESET_EVERY:
            # espeak-ng 1.51 keeps some state across espeak_TextToPhonemes calls that a synthesis resets:
            # after 20–60 calls with no synthesis between them, the next espeak_Synth lost its first word's
            # phoneme events (corpora.synth then refused the utterance). Speaking a blank resets it.
            _calls[0] = 0
            eng.lib.espeak_Synth(b" ", 2, 0, 1, 0, _CHARS_UTF8, None, None)
            eng.lib.espeak_Synchronize()
    rename = _RENAME.get(base_language(language), {})
    phones = []
    for chunk in chunks:
        for name in chunk.decode("utf-8", errors="replace").replace(" ", "|").split("|"):
            # stress marks go; a trailing "-" is espeak's mark of an unstressed French vowel (a-, ə-)
            name = name.strip().translate({ord(c): None for c in _STRESS}).rstrip("-")
            # "(en)" … "(fr)": espeak switched to another language's rules for a word it takes as foreign
            if name and name not in ("_", "ʔ") and not name.startswith("("):
                phones.append(rename.get(name, name))
    return tuple(phones)
