"""pocketsphinx's two passes over one stretch of audio: the word-level pass of the transcript as a grammar,
then the phone-level alignment (docs/offline.md). :class:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner`
decides what to run them on (beams, retries, pieces)."""

from __future__ import annotations

from vowelprompt.align.pcm import with_noise_floor
from vowelprompt.align.vowels import NON_SPEECH
from vowelprompt.records import Phone

FRAME_S = 0.01  # pocketsphinx's default frame rate is 100 frames/s


def word_pass(decoder, pcm: bytes, text: str) -> bool:
    """The first, word-level pass of ``text`` over one recording; True if it found a path (the decoder then
    holds it: ``hyp()``, ``seg()``). May raise RuntimeError, as pocketsphinx does."""
    return heard_word_pass(decoder, with_noise_floor(pcm), text)


def heard_word_pass(decoder, heard: bytes, text: str) -> bool:
    """:func:`word_pass` over PCM that already has the noise floor (:func:`with_noise_floor`)."""
    # The feature front end (cepstral mean, noise estimate) carries over from the previous recording:
    # without a reset an utterance's boundaries depend on what was aligned before it (--jobs, --shard and
    # --resume runs differed from a run in one piece by a frame here and there).
    decoder.reinit_feat()
    decoder.set_align_text(text)
    decoder.start_utt()
    decoder.process_raw(heard, full_utt=True)
    decoder.end_utt()
    return decoder.hyp() is not None


def two_passes(decoder, pcm: bytes, text: str):
    """Two-pass alignment; [(start_s, end_s, [Phone…]) per word] or None when no path was found."""
    heard = with_noise_floor(pcm)  # both passes hear the same noise floor
    try:
        if not heard_word_pass(decoder, heard, text):
            return None
        decoder.set_alignment()
        decoder.start_utt()
        decoder.process_raw(heard, full_utt=True)
        decoder.end_utt()
        alignment = decoder.get_alignment()
    except RuntimeError:
        return None
    if alignment is None:
        return None
    out = []
    for w in alignment:
        if w.name in NON_SPEECH or w.name.startswith(("<", "[", "+")):
            continue
        phones = [
            Phone(
                p.name,
                round(p.start * FRAME_S, 3),
                round((p.start + p.duration) * FRAME_S, 3),
                round(p.score / max(p.duration, 1), 2),  # per frame: comparable across durations
            )
            for p in w
        ]
        out.append((round(w.start * FRAME_S, 3), round((w.start + w.duration) * FRAME_S, 3), phones))
    return out
