"""What ``annotate`` is configured with (:class:`AnnotateConfig`) and which aligner serves each language.

Split from :mod:`vowelprompt.pipeline`, which re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vowelprompt.align.g2p import base_language, check_language, is_english
from vowelprompt.audio import AudioConfig
from vowelprompt.errors import ConfigError
from vowelprompt.features import FeatureConfig
from vowelprompt.normalize import NormalizeConfig
from vowelprompt.quality import QualityConfig
from vowelprompt.verbalize import STYLES


@dataclass(frozen=True)
class AnnotateConfig:
    """Everything ``annotate`` needs besides its inputs; one field per stage config.

    ``language`` is the speech's language where an item does not carry its own (a manifest row's
    ``lang``/``language`` wins: a corpus of several languages annotates in one run). English goes to
    ``aligner``; other languages to :func:`aligner_for` (pocketsphinx-mapped offline, or MFA's
    ``<language>_mfa`` models with ``aligner="mfa"``).
    """

    language: str = "en"
    aligner: str = "pocketsphinx"
    aligner_options: dict = field(default_factory=dict)
    style: str = "paper"
    asr: bool = False
    asr_model: str | None = None
    audio: AudioConfig = AudioConfig()
    features: FeatureConfig = FeatureConfig()
    normalization: NormalizeConfig = NormalizeConfig()
    quality: QualityConfig = QualityConfig()
    require_words: bool = False
    """Refuse an item with no transcript (``transcript_error``) or whose alignment fails (its error), as
    annotate did before issue 17. By default such an item keeps its utterance-level prosody and its
    transcript, if any, with the reason in its warnings (:mod:`vowelprompt.missing`)."""

    def __post_init__(self):
        if self.style not in STYLES:
            raise ConfigError(f"unknown style {self.style!r}; choose one of: {', '.join(STYLES)}")
        if not is_english(self.language):
            check_language(self.language)


#: MFA's pretrained IPA models by language (``mfa model download acoustic french_mfa``).
MFA_MODELS = {"fr": "french_mfa", "de": "german_mfa", "en": "english_mfa"}


def aligner_for(config: AnnotateConfig, language: str | None) -> tuple[str, dict]:
    """The aligner name and options for speech in ``language`` (None: ``config.language``).

    English keeps ``config.aligner``. Otherwise the default pocketsphinx becomes ``pocketsphinx-mapped``
    for that language; ``mfa`` gets the language's ``*_mfa`` dictionary and acoustic model unless given;
    a user's own aligner (``module:factory``) is used as configured.
    """
    language = language or config.language
    if is_english(language):
        return config.aligner, dict(config.aligner_options)
    check_language(language)
    if config.aligner in ("pocketsphinx", "pocketsphinx-mapped"):
        options = {k: v for k, v in config.aligner_options.items() if k != "language"}
        return "pocketsphinx-mapped", {**options, "language": language}
    if config.aligner == "mfa":
        model = MFA_MODELS.get(base_language(language))
        if model is None and not {"dictionary", "acoustic_model"} <= set(config.aligner_options):
            raise ConfigError(
                f"no MFA model is known for {language!r}: pass --dictionary and --acoustic-model"
            )
        return "mfa", {"dictionary": model, "acoustic_model": model, **config.aligner_options}
    return config.aligner, dict(config.aligner_options)
