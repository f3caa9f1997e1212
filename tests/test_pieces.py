"""How the words of a long recording are found when the word pass finds no path through all of them
(vowelprompt.align.wordsearch.find_words), with the passes scripted: which stretches are searched, and which
pass each word's span comes from. The passes themselves run on real audio in tests/test_align.py."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np

from vowelprompt.align import pieces, wordsearch

HOP = 160
N_WORDS, STEP = 40, 100  # word k is spoken over frames 100k+10 … 100k+80
KEYS = [f"w{k}" for k in range(N_WORDS)]
TRUE = [(STEP * k + 10, STEP * k + 80) for k in range(N_WORDS)]
LOST = {17, 18}  # no pass finds these: a stretch holding them has no strict path


def _recording() -> bytes:
    """PCM loud where words are spoken and quiet between them, whose first sample in each frame is the
    frame's number, so that a pass knows where its stretch starts."""
    frames = np.arange(N_WORDS * STEP)
    loud = np.zeros(len(frames), dtype=bool)
    for start, end in TRUE:
        loud[start : end + 1] = True
    samples = np.repeat(np.where(loud, 20000, 0), HOP).reshape(-1, HOP)
    samples[:, 0] = frames
    return samples.astype(np.int16).tobytes()


def _where(pcm: bytes) -> int:
    return int(np.frombuffer(pcm, dtype=np.int16)[0])


class Scripted:
    """A decoder whose strict pass finds every word where it is spoken unless a lost word is among them,
    and whose skippable pass finds the others 5 frames late (its first sample carries the noise floor)."""

    def __init__(self, silence_lost: bool | str = False):
        self.stretches: list[tuple[str, int, int]] = []
        self.segs: list = []
        self.silence = True
        self.silence_lost = silence_lost  # the pass with optional silence finds no path, or raises

    def decoder(self, silence: bool = True):
        self.silence = silence
        return self

    def word_pass(self, decoder, pcm: bytes, text: str) -> bool:
        a, words = _where(pcm), [int(w[1:]) for w in text.split()]
        self.stretches.append(("strict" if self.silence else "no silence", a, a + len(pcm) // 2 // HOP))
        if self.silence and self.silence_lost == "raises":
            raise RuntimeError("pocketsphinx's own error")
        long = len(pcm) // 2 // HOP > 1500  # "long": the pass with silence loses its path over more
        lost = self.silence and self.silence_lost and (self.silence_lost != "long" or long)
        if LOST & set(words) or lost:
            self.segs = []
            return False
        # without silence, the pauses go into the words: each word takes its whole step
        spans = [TRUE[k] if self.silence else (STEP * k, STEP * k + STEP - 1) for k in words]
        self.segs = [
            SimpleNamespace(word=KEYS[k], start_frame=s - a, end_frame=e - a)
            for k, (s, e) in zip(words, spans)
        ]
        return True

    def skip_pass(self, decoder, heard: bytes, keys: list[str]):
        a = _where(heard)
        self.stretches.append(("skippable", a, a + len(heard) // 2 // HOP))
        return [
            None if int(w[1:]) in LOST else (TRUE[int(w[1:])][0] + 5 - a, TRUE[int(w[1:])][1] + 5 - a)
            for w in keys
        ]

    # what found_words reads of the decoder after the strict pass
    def seg(self):
        return self.segs

    def hyp(self):
        return "found" if self.segs else None

    def lookup_word(self, word: str) -> str:
        return "W ER D"


def test_only_the_stretch_that_does_not_match_is_left_without_words(monkeypatch):
    script = Scripted()
    monkeypatch.setattr(wordsearch, "skip_pass", script.skip_pass)
    spans, held = wordsearch.find_words(
        script.decoder, _recording(), KEYS, script.word_pass, shortest=1000, hop=HOP
    )
    assert len(spans) == N_WORDS and held == []
    assert all(s is None or s == TRUE[k] for k, s in enumerate(spans))  # the strict pass's, or none
    missing = [k for k, s in enumerate(spans) if s is None]
    # the stretch around the lost words, at most 10 s, cut at pauses; every other word from a strict pass
    assert set(missing) >= LOST and missing == list(range(missing[0], missing[-1] + 1))
    assert len(missing) * STEP <= 1000, missing
    # the first pass is strict over the whole recording; each stretch searched is at most 3/4 of its parent
    whole = [
        ("strict", 0, N_WORDS * STEP),
        ("no silence", 0, N_WORDS * STEP),
        ("skippable", 0, N_WORDS * STEP),
    ]
    assert script.stretches[:3] == whole
    assert all(b - a <= 0.75 * N_WORDS * STEP + STEP for _, a, b in script.stretches[3:])


def test_speech_without_pauses_is_not_cut_on_the_skippable_passs_word_boundaries(monkeypatch):
    """Where the strict pass finds no path and there is no pause, nothing is cut: no part gets words that
    only the skippable pass placed, and no word keeps a span (the recording then fails as before)."""
    script = Scripted()
    monkeypatch.setattr(wordsearch, "skip_pass", script.skip_pass)
    loud = np.frombuffer(_recording(), dtype=np.int16).reshape(-1, HOP).copy()
    loud[:, 1:] = 20000
    # without the window pass that follows where nothing is found (tests/test_align.py: on real audio)
    kwargs = {"shortest": 1000, "hop": HOP, "windows": False}
    spans = wordsearch.find_words(script.decoder, loud.tobytes(), KEYS, script.word_pass, **kwargs)
    assert spans is None
    assert [kind for kind, *_ in script.stretches] == ["strict", "no silence", "skippable"]


def test_a_recording_the_strict_pass_aligns_is_searched_once(monkeypatch):
    script = Scripted()
    monkeypatch.setattr(wordsearch, "skip_pass", script.skip_pass)
    keys = KEYS[:10]
    pcm = _recording()[: 10 * STEP * HOP * 2]
    assert wordsearch.find_words(script.decoder, pcm, keys, script.word_pass, shortest=100, hop=HOP) == (
        TRUE[:10],
        [],
    )
    assert script.stretches == [("strict", 0, 10 * STEP)]


def test_where_the_pass_with_silence_finds_no_path_the_pass_without_it_gives_the_words_sound():
    """Without optional silence the pauses go into the words beside them; each word's span is cut back to its
    loud frames, so that the gaps between words are the pauses again (and the recording is cut in them)."""
    keys, pcm = KEYS[:10], _recording()[: 10 * STEP * HOP * 2]
    for lost in (True, "raises"):  # no path, or pocketsphinx raising: the pass without silence is tried
        script = Scripted(silence_lost=lost)
        found = wordsearch.find_words(script.decoder, pcm, keys, script.word_pass, shortest=100, hop=HOP)
        assert found == (TRUE[:10], [])
        assert script.stretches == [("strict", 0, 10 * STEP), ("no silence", 0, 10 * STEP)]


def test_where_the_pass_with_silence_loses_its_path_over_the_whole_it_runs_again_over_stretches(monkeypatch):
    """The pass without optional silence places words beside pauses poorly, so where it found the words of a
    recording whose pass with silence found no path, the pass with silence runs again over stretches of at
    most STRETCH_FRAMES cut in the pauses between the words, in order and covering the recording; the spans
    kept are the stretches' (the script's pass with silence loses its path only over more than 1500
    frames)."""
    monkeypatch.setattr(wordsearch, "STRETCH_FRAMES", 1000)
    monkeypatch.setitem(globals(), "LOST", set())  # every word is where it is spoken
    keys, pcm = KEYS, _recording()
    script = Scripted(silence_lost="long")
    found = wordsearch.find_words(script.decoder, pcm, keys, script.word_pass, 100, HOP, parts=False)
    assert found == (TRUE, [])
    assert script.stretches[:2] == [("strict", 0, 4000), ("no silence", 0, 4000)]
    again = script.stretches[2:]
    assert all(kind == "strict" and 500 <= b - a <= 1000 for kind, a, b in again[:-1]), again
    assert again[0][1] == 0 and again[-1][2] == 4000
    assert all(a == b for (_, _, b), (_, a, _) in itertools.pairwise(again))  # each from the last one's end
    # and where the stretches' pass fails too, the spans of the pass without silence stay
    script = Scripted(silence_lost=True)
    found = wordsearch.find_words(script.decoder, pcm, keys, script.word_pass, 100, HOP, parts=False)
    assert found == (TRUE, [])
    assert [kind for kind, _, _ in script.stretches[2:]] == ["strict"] * len(again)


def test_a_short_word_before_a_pause_is_squeezed_and_its_sound_given_to_the_next_piece():
    """A word the pass puts right before a pause in fewer than PAUSE_FRAMES frames a phone (here "w1": 2
    frames a phone, 3 phones) is taken as not found, its frames are returned as held, and with them counted
    quiet the recording is cut in the pause before the sound at its end, where the word is: "w1" goes after
    the cut. Counted loud, the sound on both sides of the pause would forbid the cut."""
    segs = [("w0", 0, 40), ("w1", 41, 46), ("<sil>", 47, 89), ("w2", 100, 140)]
    decoder = SimpleNamespace(
        seg=lambda: [SimpleNamespace(word=w, start_frame=a, end_frame=b) for w, a, b in segs],
        hyp=lambda: "found",
        lookup_word=lambda word: "W ER D",
    )
    spans, count, held = wordsearch.found_words(decoder, ["w0", "w1", "w2"])
    assert spans == [(0, 40), None, (100, 140)] and count == 3 and held == [(41, 46)]
    loud = np.zeros(141, dtype=bool)
    loud[0:47] = loud[90:141] = True  # w1's frames are the tail of w0's sound; w1 itself is at 90–99
    pcm = np.repeat(np.where(loud, 20000, 0), HOP).astype(np.int16).tobytes()
    assert pieces.cut_points(spans, pieces.quiet_frames(pcm, HOP, held)) == [(1, 65, 49)]
    assert pieces.cut_points(spans, pieces.quiet_frames(pcm, HOP)) == []


def test_no_word_found_anywhere_is_none(monkeypatch):
    script = Scripted()
    monkeypatch.setattr(wordsearch, "skip_pass", lambda *args: None)
    keys = ["w17", "w18"]
    assert (
        wordsearch.find_words(
            script.decoder,
            _recording()[: 20 * STEP * HOP * 2],
            keys,
            script.word_pass,
            100,
            HOP,
            windows=False,
        )
        is None
    )
