"""An experimental aligner for ``bench_alignment.py --one-pass``: one pocketsphinx decoding pass that yields
phones, instead of the word pass and the state-level phone pass of
:class:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner` (issue 16 §5 asks what such a design costs).

Every phone of the transcript is a word of its own in a finite-state grammar: one chain of phone-words per
pronunciation variant between a word's start and end states, optional silence (``<sil>``) only at word
boundaries, as ``set_align_text`` allows it. The grammar search's word segmentation is then the phone
segmentation, and the state-level pass is not needed. The cost is in the acoustic model: pocketsphinx models
a one-phone word with its left context but with silence as its right context (``fsg_lextree.c``: "Left
diphone ID for single-phone words already assumes SIL is right context"), so every phone loses its right
context. The benchmark measures what that costs; the library does not use this class.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from vowelprompt.align.pcm import with_noise_floor
from vowelprompt.align.pocketsphinx import FRAME_S, PocketsphinxAligner
from vowelprompt.records import Phone

#: Prior of optional silence at a word boundary: pocketsphinx's ``silprob``, as ``set_align_text`` uses it.
SILPROB = 0.005
#: pocketsphinx's log base (``logbase``): a Segment's ``ascore`` is ``LOGBASE ** ascr``, and ``ascr`` is on the
#: scale of the state-level pass's phone scores (what :mod:`vowelprompt.quality` judges; on the shipped example
#: the median phone's per-frame score is -21 here, -23 there).
LOGBASE = 1.0001


class OnePassAligner(PocketsphinxAligner):
    """:class:`PocketsphinxAligner` (same beams, slip retry, pieces and refinement) whose decoding is one
    grammar search over phone-words."""

    def _search(self, beam: float, fillers: bool) -> dict:
        """The word beam as wide as the others at every rung (every phone ends a word here, and pocketsphinx's
        default word beam, 7e-29, prunes the path at most phone boundaries), and pocketsphinx's own filler
        loops off at every rung: the grammar places silence itself."""
        return {"beam": beam, "pbeam": beam, "wbeam": beam, "fsgusefiller": False}

    def _try_beams(self, pcm: bytes, keys: list[str], prons: dict[str, str], fillers: bool):
        for beam in self.beams:
            segments = self._phone_pass(self._decoder(beam, fillers), pcm, keys, prons, fillers)
            if segments is not None:
                return segments
            del self._decoders[(beam, fillers)]  # as the parent: a failed search leaves state behind
        return None

    @staticmethod
    def _phone_pass(decoder, pcm: bytes, keys: list[str], prons: dict[str, str], silence: bool):
        """[(start_s, end_s, [Phone…]) per word] from one grammar search, or None when it finds no path."""
        transitions, owner, boundaries = [], {}, []
        state, next_state = 0, 1
        for i, key in enumerate(keys):
            boundaries.append(state)
            chains = [
                prons[v].split() for v in prons if v == key or (v.startswith(f"{key}(") and v[-1] == ")")
            ]
            end = next_state + sum(len(chain) - 1 for chain in chains)
            for j, chain in enumerate(chains):
                here = state
                for k, phone in enumerate(chain):
                    name = f"p{i}.{j}.{k}.{phone}"  # unique per position; the phone in it keeps it unique
                    if decoder.lookup_word(name) is None:
                        decoder.add_word(name, phone, False)
                    owner[name] = (i, phone)
                    last = k == len(chain) - 1
                    to = end if last else next_state
                    next_state += not last
                    transitions.append((here, to, 1.0 / len(chains) if k == 0 else 1.0, name))
                    here = to
            state, next_state = end, end + 1
        # One name for every grammar: adding it again replaces (and frees) the previous utterance's search.
        # pocketsphinx cannot remove the active search (it crashes), nor return to a default search that
        # a decoder without a language model does not have.
        name = "one-pass"
        grammar = decoder.create_fsg(name, 0, state, transitions)
        if silence:
            for at in {*boundaries, state}:
                grammar.add_silence("<sil>", at, SILPROB)
        try:
            decoder.add_fsg(name, grammar)
            decoder.activate_search(name)
            decoder.reinit_feat()
            decoder.start_utt()
            decoder.process_raw(with_noise_floor(pcm), full_utt=True)
            decoder.end_utt()
            found = decoder.hyp() is not None
            segments = list(decoder.seg()) if found else []
        except RuntimeError:
            return None
        if not found:
            return None
        words: dict[int, list[Phone]] = {}
        for seg in segments:
            if seg.word not in owner:
                continue  # silence
            i, phone = owner[seg.word]
            frames = seg.end_frame + 1 - seg.start_frame
            log_score = math.log(seg.ascore) / math.log(LOGBASE) if seg.ascore > 0 else -1e4
            words.setdefault(i, []).append(
                Phone(
                    phone,
                    round(seg.start_frame * FRAME_S, 3),
                    round((seg.end_frame + 1) * FRAME_S, 3),
                    round(log_score / max(frames, 1), 2),
                )
            )
        if sorted(words) != list(range(len(keys))):
            return None
        return [(phones[0].start_s, phones[-1].end_s, phones) for _, phones in sorted(words.items())]


def interleaved_speeds(
    runs: dict[str, Callable[[], object]], audio_s: float, rounds: int
) -> dict[str, list[float]]:
    """× real time in CPU time of each run (label → a function that processes ``audio_s`` seconds of audio),
    in ``rounds`` interleaved rounds: the machine's speed drifts between runs, so only a same-run ratio holds."""
    speeds: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(rounds):
        for label, run in runs.items():
            cpu = time.process_time()
            run()
            speeds[label].append(audio_s / (time.process_time() - cpu))
    return speeds


def speed_ratios(speeds: dict[str, list[float]]) -> list[float]:
    """The second run's speed over the first's (of two), per round."""
    base, other = speeds.values()
    return [b / a for a, b in zip(base, other)]


def speed_line(speeds: dict[str, list[float]]) -> str:
    """Each run's speed per round, and the second's over the first's (of two), per round."""
    first, last = speeds
    return (
        "; ".join(f"{label} {', '.join(f'{x:.1f}×' for x in xs)}" for label, xs in speeds.items())
        + f"; {last} ÷ {first} {', '.join(f'{r:.2f}' for r in speed_ratios(speeds))}"
    )
