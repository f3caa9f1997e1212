"""Compose the stages: audio → transcript → alignment → vowel features → normalisation → description.

Every input yields exactly one :class:`~vowelprompt.records.Annotation`: ``status="ok"``, or the error kind
and a one-line message. Nothing here prints; :mod:`vowelprompt.cli` reports.

Usage: ``annotate("examples/happy_day.wav")`` (transcript from the sidecar ``.txt``) returns an
:class:`~vowelprompt.records.Annotation`; a list of paths returns a list, in input order.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from vowelprompt.align import Aligner, BatchAligner, BatchItem, get_aligner
from vowelprompt.align.vowels import vowel_spans
from vowelprompt.audio import Audio, AudioConfig, load_audio
from vowelprompt.errors import (
    ConfigError,
    FeatureError,
    InputError,
    TranscriptError,
    VowelPromptError,
    WorkerError,
)
from vowelprompt.features import FeatureConfig, compute_tracks, measure_utterance, measure_vowel
from vowelprompt.normalize import NormalizeConfig, Stats, normalize
from vowelprompt.records import Annotation, Utterance, Vowel, Word
from vowelprompt.verbalize import STYLES, describe

TRANSCRIPT_SUFFIXES = (".txt", ".lab")  # MFA's sidecar convention: a.wav + a.lab (or a.txt)


@dataclass(frozen=True)
class AnnotateConfig:
    """Everything ``annotate`` needs besides its inputs; one field per stage config."""

    aligner: str = "pocketsphinx"
    aligner_options: dict = field(default_factory=dict)
    style: str = "paper"
    asr: bool = False
    asr_model: str | None = None
    audio: AudioConfig = AudioConfig()
    features: FeatureConfig = FeatureConfig()
    normalization: NormalizeConfig = NormalizeConfig()

    def __post_init__(self):
        if self.style not in STYLES:
            raise ConfigError(f"unknown style {self.style!r}; choose one of: {', '.join(STYLES)}")


@cache
def versions() -> dict[str, str]:
    """Versions of vowelprompt and the libraries that shape its numbers (recorded in every row)."""
    out = {}
    for package in ("vowelprompt", "pocketsphinx", "praat-parselmouth", "numpy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "unknown"
    return out


def find_transcript(utt: Utterance) -> str | None:
    """The transcript given with the item, else the text of a sidecar ``AUDIO.txt``/``AUDIO.lab``."""
    if utt.text is not None and utt.text.strip():
        return utt.text.strip()
    audio = Path(utt.audio)
    for suffix in TRANSCRIPT_SUFFIXES:
        for candidate in (audio.with_suffix(suffix), Path(str(audio) + suffix)):
            if candidate.is_file():
                return candidate.read_text(encoding="utf-8", errors="replace").strip()
    return None


class Annotator:
    """Holds the expensive, reusable parts (aligner, statistics) and annotates one item at a time."""

    def __init__(self, config: AnnotateConfig = AnnotateConfig(), stats: Stats | None = None):
        self.config = config
        self.stats = stats
        self.aligner: Aligner | None = None  # built on first use: not needed for imported TextGrids

    def aligner_instance(self) -> Aligner:
        if self.aligner is None:
            self.aligner = get_aligner(self.config.aligner, **self.config.aligner_options)
        return self.aligner

    def transcript(self, utt: Utterance, audio: Audio) -> str:
        text = find_transcript(utt)
        if text:
            return text
        if self.config.asr:
            from vowelprompt.asr import transcribe

            return transcribe(audio.samples, audio.sr, model=self.config.asr_model)
        raise TranscriptError(
            f"{utt.audio}: no transcript; pass --text, add {Path(utt.audio).with_suffix('.txt').name} "
            "(or .lab) beside the audio, or use --asr"
        )

    def prepare(self, utt: Utterance) -> tuple[Audio, str]:
        if utt.error:
            raise InputError(utt.error)
        audio = load_audio(utt.audio, self.config.audio)
        return audio, ("" if utt.alignment else self.transcript(utt, audio))

    def words(self, utt: Utterance, audio: Audio, text: str) -> tuple[list[Word], str]:
        if utt.alignment:
            from vowelprompt.align.textgrid import read_alignment

            return read_alignment(utt.alignment, speaker=utt.speaker), "textgrid"
        aligner = self.aligner_instance()
        return aligner.align(audio.samples, audio.sr, text), aligner.name

    def finish(self, utt: Utterance, audio: Audio, text: str, words: list[Word], aligner: str) -> Annotation:
        """Measure, normalise and describe an aligned utterance."""
        spans = vowel_spans(words)
        if not spans:
            raise FeatureError("no vowels were aligned")
        tracks = compute_tracks(audio.samples, audio.sr, self.config.features)
        vowels = tuple(Vowel(s, measure_vowel(s, tracks, self.config.features)) for s in spans)
        warnings = list(audio.warnings)
        for source, what in (
            ("g2p", "given letter-to-sound pronunciations"),
            ("unaligned", "left unaligned"),
        ):
            names = [w.text for w in words if w.pron_source == source]
            if names:
                warnings.append(f"words not in the dictionary, {what}: {', '.join(names)}")
        unvoiced = sum(v.features.voiced_frames == 0 for v in vowels)
        if unvoiced:
            warnings.append(f"{unvoiced} of {len(vowels)} vowels had no voiced frames: no pitch descriptors")
        row = Annotation(
            id=utt.id,
            audio=utt.audio,
            status="ok",
            text=text or " ".join(w.text for w in words),
            speaker=utt.speaker,
            label=utt.label,
            dialogue=utt.dialogue,
            turn=utt.turn,
            duration_s=round(audio.duration_s, 4),
            words=tuple(words),
            vowels=vowels,
            utterance=measure_utterance(words, len(vowels), tracks, self.config.features),
            style=self.config.style,
            aligner=aligner,
            warnings=tuple(warnings),
            versions=versions(),
        )
        return renormalize(row, self.stats, self.config)

    def annotate(self, utt: Utterance) -> Annotation:
        """Annotate one item; never raises for bad input — the row's status says what went wrong."""
        try:
            audio, text = self.prepare(utt)
            words, aligner = self.words(utt, audio, text)
            return self.finish(utt, audio, text, words, aligner)
        except VowelPromptError as exc:
            return failed(utt, exc.kind, str(exc))
        except Exception as exc:  # an unexpected failure must not lose the item or stop the batch
            return failed(utt, "internal_error", f"{type(exc).__name__}: {exc}")


def renormalize(
    row: Annotation, stats: Stats | None, config: AnnotateConfig = AnnotateConfig()
) -> Annotation:
    """``row`` with its levels and description redone from ``stats``, without aligning or measuring again.

    For rows annotated before the statistics existed (``fit-stats --save-annotations``, or annotate's JSONL
    given to ``predict --stats``). Failed rows are returned unchanged.
    """
    if not row.ok:
        return row
    row = normalize(row, stats, config.normalization)
    marker = "no fitted statistics: levels are relative to this utterance"
    warnings = tuple(w for w in row.warnings if w != marker)
    if row.normalization == "utterance":
        warnings = (*warnings, marker)
    row = replace(row, warnings=warnings, style=config.style)
    return replace(row, description=describe(row, config.style))


def failed(utt: Utterance, kind: str, message: str) -> Annotation:
    """The row recorded for an item that could not be annotated."""
    return Annotation(
        id=utt.id, audio=utt.audio, status=kind, text=utt.text, speaker=utt.speaker, label=utt.label,
        dialogue=utt.dialogue, turn=utt.turn, error=message, versions=versions(),
    )  # fmt: skip


_worker: Annotator | None = None

#: Pools in a row that may die before returning a row before every remaining item is given up as
#: ``worker_error``: workers that cannot start, or something that kills every worker.
MAX_BARREN_POOLS = 5

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _init_worker(
    config: AnnotateConfig,
    stats: Stats | None,
    owner: int | None = None,
    direct: bool = True,
    pdeathsig: bool = False,
) -> None:
    """Set up a worker process: its :class:`Annotator`, and its exit when ``owner`` (the process that made
    the pool) dies. ``direct``: the owner is the worker's parent (fork, spawn), not a forkserver;
    ``pdeathsig``: ask Linux to SIGKILL the worker when the parent thread that started it ends."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    # A forked worker inherits the parent's Python handlers (the CLI's SIGTERM handler raises an exception,
    # which a worker would catch, report and carry on after): SIGTERM must end it, even inside native code.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if owner is not None:
        _exit_with_owner(owner, direct, pdeathsig)
    _worker = Annotator(config, stats)


def _exit_with_owner(owner: int, direct: bool, pdeathsig: bool) -> None:
    """Make this worker exit when ``owner`` dies, even by SIGKILL: an orphaned worker would sit blocked on
    the pool's queue for ever, holding its memory (a few hundred MB with the aligner loaded)."""
    if pdeathsig and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no prctl: the watcher below still ends it
            ulong = ctypes.c_ulong  # prctl is variadic: pass full-width arguments
            ctypes.CDLL(None).prctl(ctypes.c_int(_PR_SET_PDEATHSIG), ulong(signal.SIGKILL), *[ulong(0)] * 3)
    parent = owner if direct else os.getppid()
    if os.getppid() != parent or not _alive(owner):  # the owner died before prctl took effect
        os._exit(1)
    # Portable fallback, and the only guard where prctl is unavailable or not used (a pool made in a thread,
    # a forkserver: it outlives the owner while workers hold its pipe): every 0.5 s, is the worker orphaned
    # (re-parented), is the owner gone? It needs the GIL, so it may wait for a long native call to return.
    threading.Thread(
        target=_watch_owner, args=(parent, owner), name="vowelprompt-owner-watch", daemon=True
    ).start()


def _watch_owner(parent: int, owner: int) -> None:
    while os.getppid() == parent and _alive(owner):
        time.sleep(0.5)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except (OSError, IndexError):  # no /proc: the kill() above has to do
        return True


def _work(utt: Utterance) -> Annotation:
    assert _worker is not None
    return _worker.annotate(utt)


def iter_annotate(
    items: Iterable[Utterance],
    config: AnnotateConfig = AnnotateConfig(),
    stats: Stats | None = None,
    jobs: int = 1,
) -> Iterator[Annotation]:
    """Annotate items, yielding one row per item (in completion order when ``jobs > 1``).

    With ``jobs > 1`` the items are annotated in worker processes:

    * Workers exit when this process dies, even by SIGKILL (Linux: ``PR_SET_PDEATHSIG``; everywhere, and for
      pools made in a thread or by a forkserver, a thread in each worker checks every 0.5 s that this
      process still runs). Stopping early (an exception, ``KeyboardInterrupt`` or the CLI's SIGTERM in the
      consumer, the generator closed) ends them at once instead of waiting for the items they hold. Workers
      ignore SIGINT (Ctrl-C is handled here) and take SIGTERM's default action (they end).
    * A worker that dies (killed, out of memory, a crash in native code) takes its pool down. The pool is
      rebuilt and what it had not returned is redone, so a dead worker costs time, not rows. The items that
      may have been in flight are suspects: a pool hands out items in submission order and holds at most
      ``2 × jobs + 1`` (one running per worker, ``jobs + 1`` queued), so they are the first ``2 × jobs + 1``
      not returned. Each suspect is redone alone in a one-worker pool, so an item that kills its worker
      every time takes no other item down with it, and gets its own ``worker_error`` row; the items the pool
      had not started go to a new pool. Each item is thus tried at most twice.
    * After :data:`MAX_BARREN_POOLS` pools in a row die without returning a row (workers that cannot start,
      something killing every worker), every remaining item gets a ``worker_error`` row.

    ``annotate --resume`` redoes ``worker_error`` rows: a dead worker is rarely the item's fault (one that
    died on the item twice, the second time alone, may be; it is then tried twice again).
    """
    items = list(items)
    annotator = Annotator(config, stats)
    # The aligner is built only when some item needs one: items given with their TextGrid (or refused as
    # given) need none, and an aligner that cannot be built (MFA not installed) must not stop them.
    needs_aligner = any(not (utt.alignment or utt.error) for utt in items)
    if needs_aligner and isinstance(annotator.aligner_instance(), BatchAligner):
        yield from _annotate_corpus(annotator, items)
        return
    if jobs <= 1 or len(items) <= 1:
        for utt in items:
            yield annotator.annotate(utt)
        return
    yield from _annotate_parallel(items, config, stats, jobs)


@dataclass
class _Round:
    """What one pool's life came to (filled in by :func:`_pool_round`)."""

    returned: int = 0
    unfinished: list[int] = field(default_factory=list)  # indices into the items, in submission order
    died: bool = False
    culprit: int | None = None  # one item at a time: the item the worker died on
    cause: str = ""  # how the dead workers ended ("killed by SIGKILL")


def _annotate_parallel(
    items: list[Utterance], config: AnnotateConfig, stats: Stats | None, jobs: int
) -> Iterator[Annotation]:
    pending = list(range(len(items)))  # not yet started by any pool that survived
    suspects: list[int] = []  # possibly in flight in a pool that died: redone one at a time
    barren = 0
    while pending or suspects:
        alone = bool(suspects)
        batch = suspects if alone else pending
        result = _Round()
        yield from _pool_round(items, batch, config, stats, 1 if alone else jobs, alone, result)
        barren = 0 if result.returned else barren + 1
        if alone:
            suspects = [i for i in result.unfinished if i != result.culprit]
            if result.culprit is not None:
                message = (
                    f"worker process died on this item twice, the second time with the item alone "
                    f"({result.cause}); it may crash the aligner or exhaust memory; rerun with --resume to "
                    "retry it"
                )
                yield failed(items[result.culprit], WorkerError.kind, message)
        else:
            window = 2 * jobs + 1
            suspects, pending = result.unfinished[:window], result.unfinished[window:]
        if barren >= MAX_BARREN_POOLS and (pending or suspects):
            message = (
                f"worker process died before this item finished ({result.cause}; {barren} worker pools in a "
                "row died before finishing any item); rerun with --resume"
            )
            for i in suspects + pending:
                yield failed(items[i], WorkerError.kind, message)
            return


def _pool_round(
    items: list[Utterance],
    batch: list[int],
    config: AnnotateConfig,
    stats: Stats | None,
    workers: int,
    alone: bool,
    result: _Round,
) -> Iterator[Annotation]:
    """Annotate ``batch`` in a new pool until it finishes or dies, yielding rows; ``result`` says how it went.

    ``alone``: one item at a time, so that a worker's death is pinned on the item it held.
    """
    context = multiprocessing.get_context()
    direct = context.get_start_method() in ("fork", "spawn")  # else a forkserver is the workers' parent
    pdeathsig = threading.current_thread() is threading.main_thread()  # the signal follows the forking thread
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                               initargs=(config, stats, os.getpid(), direct, pdeathsig))  # fmt: skip
    done: set[int] = set()
    finished = False
    try:
        if alone:
            for i in batch:
                try:
                    future = pool.submit(_work, items[i])
                except (BrokenProcessPool, OSError):  # no worker could be started
                    result.died = True
                    break
                row = _row(future, items[i], result)
                if row is None:
                    result.culprit = i
                    break
                done.add(i)
                yield row
        else:
            futures = {}
            try:
                for i in batch:
                    futures[pool.submit(_work, items[i])] = i
            except (BrokenProcessPool, OSError):  # died (or could not start) while items were being submitted
                result.died = True  # don't wait for the rest: with no worker started, they would never end
                futures = {future: i for future, i in futures.items() if future.done()}
            for future in as_completed(futures):
                row = _row(future, items[futures[future]], result)
                if row is not None:
                    done.add(futures[future])
                    yield row
        finished = not result.died
    finally:
        result.returned = len(done)
        result.unfinished = [i for i in batch if i not in done]
        result.cause = _stop_pool(pool, wait=finished)


def _row(future, utt: Utterance, result: _Round) -> Annotation | None:
    """The item's row, or None if its worker died (noted in ``result``)."""
    try:
        return future.result()
    except BrokenProcessPool:
        result.died = True
        return None
    except Exception as exc:  # the row did not come back (e.g. it could not be pickled): the item's own
        return failed(utt, "internal_error", f"worker failed: {type(exc).__name__}: {exc}")


def _stop_pool(pool: ProcessPoolExecutor, wait: bool) -> str:
    """Shut ``pool`` down: gently when ``wait`` (every item returned), else cancel what is queued and end
    the workers at once (SIGTERM, then SIGKILL after 2 s). Returns how workers that died had ended."""
    if wait:
        pool.shutdown(wait=True)
        return ""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    # Ended or not is read from the sentinels, not with waitpid(), which the pool's manager thread races
    # for (the loser would take a dead worker for a live one).
    died = _ended(processes)  # before we end the others
    for end in ("terminate", "kill"):
        for p in processes:
            if p not in _ended([p]):
                getattr(p, end)()
        _ended(processes, timeout=2.0)
    if manager is not None:
        manager.join(5.0)  # it reaps the workers and cleans up: not left to interpreter exit
    return _exit_cause([p.exitcode for p in died if p.exitcode is not None])


def _ended(processes: list, timeout: float = 0.0) -> list:
    """Those of ``processes`` that have exited, waiting up to ``timeout`` seconds for all of them."""
    deadline = time.monotonic() + timeout
    waiting = {p.sentinel: p for p in processes}
    while waiting:
        ready = multiprocessing.connection.wait(list(waiting), max(0.0, deadline - time.monotonic()))
        for sentinel in ready:
            waiting.pop(sentinel)
        if not ready or time.monotonic() >= deadline:
            break
    return [p for p in processes if p.sentinel not in waiting]


def _exit_cause(codes: list[int]) -> str:
    """``killed by SIGKILL`` for the exit codes of workers that died (SIGTERM only if nothing else)."""
    code = next((c for c in codes if c != -signal.SIGTERM), codes[0] if codes else None)
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}" + (": out of memory, or killed" if code == -signal.SIGKILL else "")
    return f"exit status {code}"


def _annotate_corpus(annotator: Annotator, items: list[Utterance]) -> Iterator[Annotation]:
    """Batch path for corpus aligners: prepare everything, align once, then measure each item."""
    prepared: dict[str, tuple[Audio, str]] = {}
    batch: list[BatchItem] = []
    for utt in items:
        try:
            prepared[utt.id] = audio, text = annotator.prepare(utt)
        except VowelPromptError as exc:
            yield failed(utt, exc.kind, str(exc))
            continue
        if not utt.alignment:
            batch.append(BatchItem(utt.id, audio.samples, audio.sr, text, utt.speaker))
    aligner = annotator.aligner_instance()
    results = aligner.align_corpus(batch) if batch else {}
    for utt in items:
        if utt.id not in prepared:
            continue
        audio, text = prepared[utt.id]
        try:
            if utt.alignment:
                words, name = annotator.words(utt, audio, text)
            else:
                result = results.get(utt.id)
                if isinstance(result, Exception) or result is None:
                    raise result or FeatureError("aligner returned nothing for this item")
                words, name = result, aligner.name
            yield annotator.finish(utt, audio, text, words, name)
        except VowelPromptError as exc:
            yield failed(utt, exc.kind, str(exc))
        except Exception as exc:
            yield failed(utt, "internal_error", f"{type(exc).__name__}: {exc}")


def annotate(
    audio: str | os.PathLike | Utterance | Iterable[str | os.PathLike | Utterance],
    text: str | None = None,
    *,
    speaker: str | None = None,
    alignment: str | None = None,
    stats: Stats | str | os.PathLike | None = None,
    jobs: int = 1,
    **options,
) -> Annotation | list[Annotation]:
    """Annotate one recording (returns an :class:`Annotation`) or several (returns a list, input order).

    ``text`` applies to a single recording; otherwise transcripts come from sidecar files or the items.
    ``stats`` is a :class:`Stats` or the path of a ``fit-stats`` JSON file; ``options`` are fields of
    :class:`AnnotateConfig` (``aligner``, ``style``, ``asr`` …).
    """
    single = isinstance(audio, (str, os.PathLike, Utterance))
    raw = [audio] if single else list(audio)
    stems = [Path(x).stem for x in raw if not isinstance(x, Utterance)]
    items = [
        x if isinstance(x, Utterance) else Utterance(
            id=Path(x).stem if stems.count(Path(x).stem) == 1 else str(x),  # ids must be unique
            audio=str(x), text=text if single else None, speaker=speaker, alignment=alignment,
        )
        for x in raw
    ]  # fmt: skip
    if isinstance(stats, (str, os.PathLike)):
        stats = Stats.load(stats)
    rows = {}
    for row in iter_annotate(items, AnnotateConfig(**options), stats, jobs):
        rows[row.id] = row
    ordered = [rows[u.id] for u in items]
    return ordered[0] if single else ordered
