"""Worker processes for batch work (``annotate --jobs N``): one row per item, whatever happens to workers.

:func:`map_in_workers` is the whole interface: it runs a work function, made once in each worker, over the
items, and survives workers that die (the pool is rebuilt and their items redone), a parent that dies (the
workers end with it) and a consumer that stops early (the workers end at once). It knows nothing of
annotation: :func:`vowelprompt.pipeline.iter_annotate` hands it an annotator and the row of a failed item.
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TypeVar

from vowelprompt.errors import WorkerError

T = TypeVar("T")  # an item
R = TypeVar("R")  # its row

_worker: Callable | None = None  # in a worker process: its work function, made by _init_worker

#: Pools in a row that may die before returning a row before every remaining item is given up as
#: ``worker_error``: workers that cannot start, or something that kills every worker.
MAX_BARREN_POOLS = 5

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

#: How long the main thread blocks at most in one wait for workers. Linux delivers a process's SIGINT or
#: SIGTERM to any of its threads that does not block it (the pool's manager and queue-feeder threads, tqdm's
#: monitor), and Python runs its handlers only in the main thread, when that thread next runs bytecode: a main
#: thread in an untimed wait on workers that never finish would never see Ctrl-C.
WAKE_S = 0.25


def _init_worker(
    make_worker: Callable[[], Callable],
    owner: int | None = None,
    direct: bool = True,
    pdeathsig: bool = False,
) -> None:
    """Set up a worker process: its work function (``make_worker()``), and its exit when ``owner`` (the
    process that made the pool) dies. ``direct``: the owner is the worker's parent (fork, spawn), not a
    forkserver; ``pdeathsig``: ask Linux to SIGKILL the worker when the parent thread that started it ends."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    # A forked worker inherits the parent's Python handlers (the CLI's SIGTERM handler raises an exception,
    # which a worker would catch, report and carry on after): SIGTERM must end it, even inside native code.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if owner is not None:
        _exit_with_owner(owner, direct, pdeathsig)
    _worker = make_worker()


_forking_workers = False  # True while this process may fork pool workers (see _forking)


def _worker_signals_after_fork() -> None:
    """In a child forked while :data:`_forking_workers` is set: Ctrl-C ignored and SIGTERM's default action
    from the first moment, as :func:`_init_worker` sets them later (until then the child has the parent's
    handlers, and the CLI's SIGTERM handler would raise in it: a traceback on the terminal when a pool is
    stopped just as it starts a worker)."""
    if _forking_workers:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_worker_signals_after_fork)


@contextlib.contextmanager
def _forking():
    """Mark the submissions that may fork workers (ProcessPoolExecutor starts them on submit)."""
    global _forking_workers
    _forking_workers = True
    try:
        yield
    finally:
        _forking_workers = False


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


def _work(item):
    assert _worker is not None
    return _worker(item)


@dataclass
class _Round:
    """What one pool's life came to (filled in by :func:`_pool_round`)."""

    returned: int = 0
    unfinished: list[int] = field(default_factory=list)  # indices into the items, in submission order
    died: bool = False
    culprit: int | None = None  # one item at a time: the item the worker died on
    cause: str = ""  # how the dead workers ended ("killed by SIGKILL")


def map_in_workers(
    items: Sequence[T],
    make_worker: Callable[[], Callable[[T], R]],
    failed: Callable[[T, str, str], R],
    jobs: int,
) -> Iterator[R]:
    """``make_worker()(item)`` for each of ``items``, in ``jobs`` worker processes: one row per item.

    ``make_worker`` runs once in each worker (it must pickle where workers are not forked: a module-level
    function, or a ``functools.partial`` of one); ``failed(item, kind, message)`` makes the row of an item
    whose worker died (``kind`` is ``worker_error``) or whose row could not come back (``internal_error``).

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

    Rows come in the order of ``items``, as they would from one process: a row that finishes before an
    earlier item's is held back until that one is yielded (a run stopped early loses the rows it held back;
    ``--resume`` does them again).
    """
    waiting: dict[int, R] = {}  # finished, held back until every earlier item's row has been yielded
    following = 0  # the index of the next row to yield
    with contextlib.closing(_completed(items, make_worker, failed, jobs)) as rows:
        for index, row in rows:
            waiting[index] = row
            while following in waiting:
                yield waiting.pop(following)
                following += 1
    # Empty, since every item gets a row; should one ever be missing, the rows after it still come out.
    yield from (waiting[i] for i in sorted(waiting))


def _completed(
    items: Sequence[T],
    make_worker: Callable[[], Callable[[T], R]],
    failed: Callable[[T, str, str], R],
    jobs: int,
) -> Iterator[tuple[int, R]]:
    """``(index, row)`` for every item, as the rows finish (see :func:`map_in_workers`)."""
    pending = list(range(len(items)))  # not yet started by any pool that survived
    suspects: list[int] = []  # possibly in flight in a pool that died: redone one at a time
    barren = 0
    while pending or suspects:
        alone = bool(suspects)
        batch = suspects if alone else pending
        result = _Round()
        yield from _pool_round(items, batch, make_worker, failed, 1 if alone else jobs, alone, result)
        barren = 0 if result.returned else barren + 1
        if alone:
            suspects = [i for i in result.unfinished if i != result.culprit]
            if result.culprit is not None:
                message = (
                    f"worker process died on this item twice, the second time with the item alone "
                    f"({result.cause}); it may crash the aligner or exhaust memory; rerun with --resume to "
                    "retry it"
                )
                yield result.culprit, failed(items[result.culprit], WorkerError.kind, message)
        else:
            window = 2 * jobs + 1
            suspects, pending = result.unfinished[:window], result.unfinished[window:]
        if barren >= MAX_BARREN_POOLS and (pending or suspects):
            message = (
                f"worker process died before this item finished ({result.cause}; {barren} worker pools in a "
                "row died before finishing any item); rerun with --resume"
            )
            for i in suspects + pending:
                yield i, failed(items[i], WorkerError.kind, message)
            return


def _pool_round(
    items: Sequence[T],
    batch: list[int],
    make_worker: Callable[[], Callable[[T], R]],
    failed: Callable[[T, str, str], R],
    workers: int,
    alone: bool,
    result: _Round,
) -> Iterator[tuple[int, R]]:
    """Run ``batch`` in a new pool until it finishes or dies, yielding ``(index, row)``; ``result`` says how
    it went.

    ``alone``: one item at a time, so that a worker's death is pinned on the item it held.
    """
    context = multiprocessing.get_context()
    direct = context.get_start_method() in ("fork", "spawn")  # else a forkserver is the workers' parent
    pdeathsig = threading.current_thread() is threading.main_thread()  # the signal follows the forking thread
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(make_worker, os.getpid(), direct, pdeathsig),
    )
    done: set[int] = set()
    finished = False
    try:
        if alone:
            for i in batch:
                try:
                    with _forking():
                        future = pool.submit(_work, items[i])
                except (BrokenProcessPool, OSError):  # no worker could be started
                    result.died = True
                    break
                row = _row(future, items[i], failed, result)
                if row is None:
                    result.culprit = i
                    break
                done.add(i)
                yield i, row
        else:
            futures = {}
            try:
                with _forking():
                    for i in batch:
                        futures[pool.submit(_work, items[i])] = i
            except (BrokenProcessPool, OSError):  # died (or could not start) while items were being submitted
                result.died = True  # don't wait for the rest: with no worker started, they would never end
                futures = {future: i for future, i in futures.items() if future.done()}
            for future in _as_completed(futures):
                row = _row(future, items[futures[future]], failed, result)
                if row is not None:
                    done.add(futures[future])
                    yield futures[future], row
        finished = not result.died
    finally:
        result.returned = len(done)
        result.unfinished = [i for i in batch if i not in done]
        result.cause = _stop_pool(pool, wait=finished)


def _as_completed(futures: Iterable[Future]) -> Iterator[Future]:
    """``concurrent.futures.as_completed`` in waits of :data:`WAKE_S` at most, so that signal handlers run."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=WAKE_S, return_when=FIRST_COMPLETED)
        yield from done


def _row(future, item: T, failed: Callable[[T, str, str], R], result: _Round) -> R | None:
    """The item's row, or None if its worker died (noted in ``result``)."""
    while not future.done():
        wait([future], timeout=WAKE_S)
    try:
        return future.result()
    except BrokenProcessPool:
        result.died = True
        return None
    except Exception as exc:  # the row did not come back (e.g. it could not be pickled): the item's own
        return failed(item, "internal_error", f"worker failed: {type(exc).__name__}: {exc}")


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
