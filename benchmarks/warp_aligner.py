"""Speaker adaptation by vocal-tract-length normalisation, measured: issue 16 §1 names "adapting the acoustic
model to the speaker" as a way to fewer silent failures on unseen voices. The library does not search every
file this way; it warps only an alignment that squeezed words into its shortest phones
(vowelprompt.align.squeeze).

    python benchmarks/warp_aligner.py [--set tuning|heldout2|both] [--warps 0.8,0.9,1.0,1.1,1.2]

:class:`WarpSearchAligner` aligns each file once per frequency warp of pocketsphinx's front end
(``warp_type=inverse_linear``, ``warp_params=α``: the filterbank's frequency axis scaled, so a voice's formants
move towards the model's) and keeps the alignment whose phones score best per frame, as a VTLN grid search
does. Scores under different warps are compared as they come (the warp's Jacobian is ignored, as is usual).
Each set is scored with :func:`bench_alignment.run_set`, as the default aligner is. The sets are the tuning
set and the second held-out set, which is the development set for silent failures; the third and fourth
held-out sets are not used here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_alignment import _manifests, run_set

from vowelprompt.align import vtln
from vowelprompt.align.pocketsphinx import ANALYSIS_SR, PocketsphinxAligner
from vowelprompt.align.refine import refine_vowels
from vowelprompt.align.squeeze import warped_options
from vowelprompt.errors import AlignmentError

WARPS = (0.8, 0.9, 1.0, 1.1, 1.2)


def frame_score(words) -> float:
    """The phones' acoustic score per frame, weighted by their lengths (higher is a better fit): the
    aligner's own measure (vowelprompt.align.vtln.frame_score), over words."""
    return vtln.frame_score([(w.start_s, w.end_s, w.phones) for w in words])


@dataclass
class WarpSearchAligner(PocketsphinxAligner):
    """:class:`PocketsphinxAligner` run once per warp in :attr:`warps`; the best-scoring alignment wins."""

    warps: tuple[float, ...] = WARPS

    def _warped(self, warp: float) -> PocketsphinxAligner:
        """The plain aligner (same beams, slip retry and pieces, no refinement, no squeeze retry of its own)
        with this warp; a new one each time (pocketsphinx keeps the warp in C globals, and a decoder made
        after an unwarped one may silently lose it: vowelprompt.align.squeeze.warped_options)."""
        own = {f.name: getattr(self, f.name) for f in fields(PocketsphinxAligner) if f.init}
        options = warped_options(self.decoder_options, warp)
        return PocketsphinxAligner(
            **{**own, "refine": False, "squeeze_warps": (), "decoder_options": options}
        )

    def align(self, samples, sr: int, transcript: str):
        best, error = None, None
        for warp in self.warps:
            try:
                words = self._warped(warp).align(samples, sr, transcript)
            except AlignmentError as failed:
                error = failed
                continue
            score = frame_score(words)
            if best is None or score > best[0]:
                best = (score, words)
        if best is None:
            raise error
        return refine_vowels(samples, ANALYSIS_SR, best[1]) if self.refine else best[1]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("tuning", "heldout2", "both"), default="both", dest="which")
    parser.add_argument("--warps", default=",".join(f"{w:g}" for w in WARPS))
    args = parser.parse_args(argv)
    try:
        grid = tuple(float(w) for w in args.warps.split(","))
    except ValueError:
        parser.error(f"--warps needs numbers separated by commas, got {args.warps!r}")

    @dataclass
    class Aligner(WarpSearchAligner):
        warps: tuple[float, ...] = grid

    names = ("tuning", "heldout2") if args.which == "both" else (args.which,)
    with tempfile.TemporaryDirectory() as tmp:
        manifests = _manifests(Path(tmp), names)
        return {
            name: run_set(f"{name}, warps {args.warps}", manifest, aligner_class=Aligner)
            for name, manifest in manifests.items()
        }


if __name__ == "__main__":
    main()
