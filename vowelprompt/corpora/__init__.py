"""Corpus tooling: where speech corpora are made or read.

Now the synthetic corpora: espeak-ng speech with exact phone times (:mod:`~vowelprompt.corpora.synth`, over
the ctypes binding in :mod:`~vowelprompt.corpora.espeak`), PSOLA changes by known factors
(:mod:`~vowelprompt.corpora.psola`) and the controlled emotion corpus built from both
(:mod:`~vowelprompt.corpora.prosody`).

And the adapters of real corpora, which ``vowelprompt prepare`` runs to write a manifest (docs/corpora.md):
what they share is in :mod:`~vowelprompt.corpora.base` (row shape, media checks, the ``CORPORA`` registry);
:mod:`~vowelprompt.corpora.iemocap` and :mod:`~vowelprompt.corpora.meld` read IEMOCAP and MELD as
distributed. Nothing is imported here: import the module you need.
"""
