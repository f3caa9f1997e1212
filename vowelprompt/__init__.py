"""vowelprompt: speech emotion recognition with LLMs from vowel-level prosody descriptions.

>>> import vowelprompt
>>> isinstance(vowelprompt.__version__, str)
True
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "annotate"]


def __getattr__(name: str):
    # Lazy so that `import vowelprompt` stays cheap; the pipeline pulls in parselmouth and the aligner.
    if name == "annotate":
        from vowelprompt.pipeline import annotate

        return annotate
    raise AttributeError(name)
