"""Corpus tooling: where speech corpora are made or read.

Now the synthetic corpora: espeak-ng speech with exact phone times (:mod:`~vowelprompt.corpora.synth`, over
the ctypes binding in :mod:`~vowelprompt.corpora.espeak`), PSOLA changes by known factors
(:mod:`~vowelprompt.corpora.psola`) and the controlled emotion corpus built from both
(:mod:`~vowelprompt.corpora.prosody`). Adapters for real corpora (IEMOCAP, MELD, EmoDB …) will live here
next. Nothing is imported here: import the module you need.
"""
