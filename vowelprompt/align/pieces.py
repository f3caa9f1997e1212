"""Where a long recording is cut for alignment, and what a piece that does not align leaves.

A recording longer than :attr:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner.max_piece_s` is aligned in
pieces: one word-level pass over the whole recording says where each word is (start and end frame), the
recording is cut in the middle of gaps between words, and each piece is aligned on its own
(:meth:`~vowelprompt.align.pocketsphinx.PocketsphinxAligner._align_pieces`).
"""

from __future__ import annotations


def gap_middle(words: list[tuple[int, int]], i: int) -> int:
    """The frame in the middle of the gap before word ``i`` (between its start and the previous word's end):
    where a piece starting at word ``i`` is cut."""
    return (words[i - 1][1] + words[i][0]) // 2


def piece_starts(words: list[tuple[int, int]], n_frames: int, limit: int) -> list[int]:
    """Indices of the words that start pieces, from each word's (start frame, end frame): each piece at most
    ``limit`` frames long and at least half that (bar the last), cut in the middle of the widest gap between
    two words in that range. Where no gap has its middle in the range (a word, or a pause, longer than half
    the limit), the gap nearest to the range is cut instead, so that one long stretch never leaves the rest
    of the recording as a single piece.

    >>> piece_starts([(0, 90), (110, 190), (200, 290), (350, 390)], 400, 250)  # one gap in 125–250
    [0, 2]
    >>> piece_starts([(0, 50), (900, 950), (960, 990)], 1000, 200)  # an 8.5 s pause is cut all the same
    [0, 1, 2]
    """
    cuts, start = [0], 0
    while n_frames - start > limit:
        # (middle, width, i) of the gap before word i, for the words after the last cut
        gaps = [
            (gap_middle(words, i), words[i][0] - words[i - 1][1], i) for i in range(cuts[-1] + 1, len(words))
        ]
        gaps = [g for g in gaps if g[0] > start]
        if not gaps:
            return cuts  # no word boundary left: the rest is the last piece
        low, high = start + limit // 2, start + limit
        inside = [(width, i, mid) for mid, width, i in gaps if low <= mid <= high]
        if inside:
            _, i, mid = max(inside)
        else:
            mid, _, i = min(gaps, key=lambda g: low - g[0] if g[0] < low else g[0] - high)
        cuts.append(i)
        start = mid
    return cuts


def unaligned_segments(spans: list[tuple[int, int]], frame_s: float) -> list[tuple[float, float, None]]:
    """The segments of a piece that did not align: each word's span from the word pass, no phones.

    >>> unaligned_segments([(10, 19)], 0.01)
    [(0.1, 0.2, None)]
    """
    return [(round(s * frame_s, 3), round((e + 1) * frame_s, 3), None) for s, e in spans]
