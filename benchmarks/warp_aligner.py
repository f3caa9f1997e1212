"""Speaker adaptation by vocal-tract-length normalisation, measured: issue 16 §1 names "adapting the acoustic
model to the speaker" as a way to fewer silent failures on unseen voices. The library does not use this.

    python benchmarks/warp_aligner.py [--set tuning|heldout2|both] [--warps 0.8,0.9,1.0,1.1,1.2]

:class:`WarpSearchAligner` aligns each file once per frequency warp of pocketsphinx's front end
(``warp_type=inverse_linear``, ``warp_params=α``: the filterbank's frequency axis scaled, so a voice's formants
move towards the model's) and keeps the alignment whose phones score best per frame, as a VTLN grid search
does. Scores under different warps are compared as they come (the warp's Jacobian is ignored, as is usual).
Each set is scored with :func:`bench_alignment.run_set`, as the default aligner is. The sets are the tuning
set and the second held-out set, which is the development set for silent failures; the third held-out set
stays sealed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_alignment import _manifests, run_set

from vowelprompt.align.pocketsphinx import ANALYSIS_SR, PocketsphinxAligner
from vowelprompt.align.refine import refine_vowels
from vowelprompt.errors import AlignmentError

WARPS = (0.8, 0.9, 1.0, 1.1, 1.2)


def frame_score(words) -> float:
    """The phones' acoustic score per frame, weighted by their lengths (higher is a better fit)."""
    phones = [p for w in words for p in w.phones if p.score is not None and p.end_s > p.start_s]
    frames = sum(p.end_s - p.start_s for p in phones)
    return sum(p.score * (p.end_s - p.start_s) for p in phones) / frames if frames else float("-inf")


@dataclass
class WarpSearchAligner(PocketsphinxAligner):
    """:class:`PocketsphinxAligner` run once per warp in :attr:`warps`; the best-scoring alignment wins."""

    warps: tuple[float, ...] = WARPS

    def _warped(self, warp: float) -> PocketsphinxAligner:
        """The plain aligner (same beams, slip retry and pieces, no refinement) with this warp, kept."""
        cache = self.__dict__.setdefault("_by_warp", {})
        if warp not in cache:
            own = {f.name: getattr(self, f.name) for f in fields(PocketsphinxAligner) if f.init}
            options = {**self.decoder_options, "warp_type": "inverse_linear", "warp_params": f"{warp:g}"}
            cache[warp] = PocketsphinxAligner(**{**own, "refine": False, "decoder_options": options})
        return cache[warp]

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
