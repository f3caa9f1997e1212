"""Worker processes of ``annotate --jobs N``: dead workers, dead parents, early stops. Real processes, no
mocks of the pool: the CLI runs in a subprocess and its workers are found (and killed) through /proc.

The library tests patch :meth:`Annotator.annotate` in this process before the pool forks, so the workers
inherit the patch: they need the fork start method (Linux's default before Python 3.14).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import soundfile as sf
from conftest import HANG_GUARD_S, REPO, SENTENCES

from vowelprompt import pipeline
from vowelprompt.errors import RETRY_STATUSES, WorkerError
from vowelprompt.records import Utterance
from vowelprompt.workers import MAX_BARREN_POOLS

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers through /proc")

N_FILES = 6


@pytest.fixture(scope="module")
def slow_corpus(tmp_path_factory, synth) -> Path:
    """Six ~8 s recordings (two sentences in one), each with its transcript: about a second per item."""
    folder = tmp_path_factory.mktemp("slow_corpus")
    text = " ".join(SENTENCES[:2])
    for n in range(N_FILES):
        utt = synth.synthesize(text, voice=("en-us+m3", "en-gb+f2")[n % 2], rate_wpm=140 + 10 * n)
        sf.write(str(folder / f"u{n}.wav"), utt.samples, utt.sr, subtype="PCM_16")
        (folder / f"u{n}.txt").write_text(utt.transcript + "\n")
    return folder


@pytest.fixture
def reap():
    """Pids to SIGKILL after the test if still running, so that a failing test leaves no orphans behind."""
    pids: set[int] = set()
    yield pids
    for pid in pids:
        if alive(pid):
            kill(pid)


# --- processes, through /proc ---------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


#: When each pid was first seen as a child (its start time, in clock ticks since boot). A long test session
#: wraps the pid space (32,768 pids, and threads draw from it too), so a dead worker's pid may come back as
#: another process: that one is not the worker, neither to wait for nor to kill.
_STARTED: dict[int, str] = {}


def alive(pid: int) -> bool:
    """A running process (a zombie has exited: it only waits for its parent, or init, to reap it), and the
    same one that was seen as a child under this pid."""
    fields = _stat(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return _STARTED.setdefault(pid, fields[19]) == fields[19]


def cpu_s(pid: int) -> float:
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> set[int]:
    """Live child processes of ``pid``."""
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            continue
    if not Path(f"/proc/{pid}/task/{pid}/children").exists():  # kernel without the children file: scan
        found = {
            int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(int(p.name)) == pid
        }
    for c in found:
        if (fields := _stat(c)) is not None:
            _STARTED[c] = fields[19]
    return {c for c in found if alive(c)}


def workers(pid: int) -> set[int]:
    """Pool workers of ``pid`` (fork or spawn): its children but a resource tracker or forkserver."""
    return {
        c
        for c in children(pid)
        if not any(name in _cmdline(c) for name in (b"resource_tracker", b"forkserver"))
    }


def _ppid(pid: int) -> int | None:
    fields = _stat(pid)
    return None if fields is None else int(fields[1])


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def wait_for(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def wait_for_workers(pid: int, n: int = 2, cpu: float = 0.0, timeout: float = HANG_GUARD_S) -> set[int]:
    """Wait until ``pid`` has ``n`` workers that have used ``cpu`` s of CPU each (0.2: busy on items)."""

    def ready():
        found = workers(pid)
        return found if len(found) >= n and all(cpu_s(c) >= cpu for c in found) else None

    found = wait_for(ready, timeout)
    assert found, f"expected {n} workers of {pid} with {cpu} s of CPU each, found {workers(pid)}"
    return found


def busy_workers(pid: int) -> set[int]:
    return wait_for_workers(pid, cpu=0.2)


def annotate_cli(folder: Path, out: Path, tmp_path: Path, **popen) -> subprocess.Popen:
    command = ["-m", "vowelprompt.cli", "annotate", str(folder), "-o", str(out), "--jobs", "2", "-q"]
    with open(tmp_path / "stderr.txt", "w") as stderr:  # a file, not a pipe: nothing blocks on it
        return subprocess.Popen(
            [sys.executable, *command], cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr, **popen
        )


def stuck(proc: subprocess.Popen, busy: set[int], stderr: Path) -> str:
    """What a CLI whose workers outlived Ctrl-C was doing: its exit status, the signal state of it and of its
    workers, and its threads' stacks (the CLI registers faulthandler on SIGUSR1)."""

    def status(pid: int) -> str:
        with contextlib.suppress(OSError):
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            wanted = [x.split()[:2] for x in lines if x.startswith(("State", "Sig", "PPid"))]
            return " ".join(name + value for name, value in wanted)
        return "gone"

    kill(proc.pid, signal.SIGUSR1)
    time.sleep(1.0)
    report = [f"CLI {proc.pid}: returncode={proc.poll()} {status(proc.pid)}"]
    report += [f"worker {w}: {status(w)}" for w in sorted(busy)]
    return "\n".join([*report, "CLI stderr:", stderr.read_text()[-6000:]])


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def rows_so_far(out: Path) -> list[dict]:
    """The rows a running CLI has finished writing: a row being written (a 37 kB line goes out in several
    writes) is not yet a line, so a reader polling mid-run skips it; once the run ends, :func:`rows` reads
    every line and a torn one fails."""
    text = out.read_text() if out.exists() else ""
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


def finish(proc: subprocess.Popen, timeout: float = HANG_GUARD_S) -> int:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


# --- the CLI: a worker dies ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_worker_is_replaced_and_every_item_finishes(slow_corpus, tmp_path, sig, reap):
    """A worker killed mid-run costs time, not rows. SIGTERM ends a worker too, although it was forked from
    a CLI whose SIGTERM handler raises (a worker that kept that handler would report and carry on)."""
    out = tmp_path / "w.jsonl"
    proc = annotate_cli(slow_corpus, out, tmp_path)
    try:
        # an item done: kill a worker in the middle of the run
        assert wait_for(lambda: rows_so_far(out), timeout=HANG_GUARD_S)
        reap.update(busy := busy_workers(proc.pid))
        victim = min(busy)
        os.kill(victim, sig)
        assert wait_for(lambda: not alive(victim), timeout=1)
        assert finish(proc) == 0, (tmp_path / "stderr.txt").read_text()
    finally:
        proc.kill()
    got = rows(out)
    assert sorted(r["id"] for r in got) == [f"u{n}" for n in range(N_FILES)]  # each input exactly once
    assert {r["status"] for r in got} == {"ok"}, [r.get("error") for r in got]
    assert not alive(victim)


@pytest.mark.slow
def test_workers_that_keep_dying_give_worker_error_rows(slow_corpus, tmp_path):
    """Every worker is killed as soon as it appears: each input still gets one row, a ``worker_error`` one
    (which ``--resume`` redoes), and the run ends instead of rebuilding pools for ever."""
    out = tmp_path / "w.jsonl"
    proc = annotate_cli(slow_corpus, out, tmp_path)
    stop = threading.Event()
    killed: set[int] = set()

    def killer():
        while not stop.is_set() and proc.poll() is None:
            for pid in workers(proc.pid):
                kill(pid)
                killed.add(pid)
            time.sleep(0.01)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        assert finish(proc) == 1
    finally:
        stop.set()
        proc.kill()
        thread.join()
    got = rows(out)
    assert sorted(r["id"] for r in got) == [f"u{n}" for n in range(N_FILES)]
    assert {r["status"] for r in got} == {WorkerError.kind} and WorkerError.kind in RETRY_STATUSES
    for row in got:
        assert "\n" not in row["error"] and "rerun with --resume" in row["error"]
        assert "killed by SIGKILL" in row["error"]
    # A pool of two, then one-worker pools for the suspects (each blamed on its item), until
    # MAX_BARREN_POOLS pools in a row had died without a row: the rest are given up.
    twice = [r for r in got if "died on this item twice" in r["error"]]
    assert len(twice) == MAX_BARREN_POOLS - 1 and len(killed) >= MAX_BARREN_POOLS
    assert all("pools in a row died" in r["error"] for r in got if r not in twice)
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()


# --- the CLI: the parent dies ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_exit_when_the_parent_is_killed(slow_corpus, tmp_path, sig, reap):
    """Within 2 s, far less than the items they hold: SIGKILL is passed on by the kernel (PDEATHSIG), and on
    SIGTERM the CLI ends its workers instead of waiting for every queued item."""
    out = tmp_path / "w.jsonl"
    proc = annotate_cli(slow_corpus, out, tmp_path)
    try:
        reap.update(busy := busy_workers(proc.pid))
        os.kill(proc.pid, sig)
        gone = wait_for(lambda: not any(alive(w) for w in busy), timeout=2)
        rc = finish(proc)
    finally:
        proc.kill()
    assert gone, f"workers {busy} still alive 2 s after {sig.name} to their parent"
    if sig == signal.SIGTERM:
        assert rc in (143, -signal.SIGTERM)  # 143: the CLI stopped its workers and closed its output
        assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
        assert all(r["status"] == "ok" for r in rows(out))  # rows written so far are whole


def tgkill(pid: int, tid: int, sig: int) -> None:
    """Send ``sig`` to one thread ``tid`` of process ``pid`` (glibc ≥ 2.30 exports tgkill)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "tgkill"):
        pytest.skip("this C library has no tgkill()")
    if libc.tgkill(pid, tid, sig) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill({pid}, {tid}, {sig})")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["group", "helper thread"])
def test_ctrl_c_stops_workers_without_their_tracebacks(slow_corpus, tmp_path, reap, target):
    """Ctrl-C reaches the whole process group: workers ignore it and the parent ends them. Their items
    never finish (they spin), so a worker left running is still alive however slow the machine.

    Linux hands a process's signal to any of its threads that does not block it, and on a loaded machine
    that is often not the main thread (it failed this way after the full suite had run): a SIGINT delivered
    to one of the pool's helper threads must stop the run too (the main thread wakes to run the handler)."""
    out = tmp_path / "w.jsonl"
    spin = (
        "import faulthandler, signal, sys\nfaulthandler.register(signal.SIGUSR1, all_threads=True)\n"
        # Ctrl-C as a terminal's foreground job has it: a suite started in the background (`make test &` in a
        # script) hands its children SIGINT ignored, and a CLI started so rightly ignores Ctrl-C
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from vowelprompt import pipeline\nfrom vowelprompt.cli import main\n"
        "def spin(self, utt):\n    while True:\n        pass\n"
        "pipeline.Annotator.annotate = spin\n"
        f"sys.exit(main(['annotate', {str(slow_corpus)!r}, '-o', {str(out)!r}, '--jobs', '2', '-q']))\n"
    )
    with open(tmp_path / "stderr.txt", "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", spin],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        reap.update(busy := busy_workers(proc.pid))
        if target == "group":
            os.killpg(proc.pid, signal.SIGINT)
        else:  # the pool's manager or queue-feeder thread, or tqdm's monitor: not the main thread
            helpers = sorted(int(t) for t in os.listdir(f"/proc/{proc.pid}/task") if int(t) != proc.pid)
            assert helpers, "the CLI runs its pool with helper threads"
            tgkill(proc.pid, helpers[-1], signal.SIGINT)
        stopped = wait_for(lambda: not any(alive(w) for w in busy), timeout=30)
        assert stopped, stuck(proc, busy, tmp_path / "stderr.txt")
        assert finish(proc) == 130
    finally:
        proc.kill()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


@pytest.mark.slow
def test_workers_exit_with_a_parent_whose_pool_runs_in_a_thread(reap):
    """Started from a thread, workers rely on polling the parent's pid (PDEATHSIG follows the thread that
    forked them): kill -9 of the parent still ends them, within the 0.5 s poll."""
    script = textwrap.dedent(
        """
        import threading, time
        from vowelprompt import pipeline
        from vowelprompt.records import Utterance
        pipeline.Annotator.annotate = lambda self, utt: time.sleep(120)
        items = [Utterance(id=str(i), audio="x.wav") for i in range(4)]
        thread = threading.Thread(target=lambda: list(pipeline.iter_annotate(items, jobs=2)))
        thread.start()
        thread.join()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        reap.update(busy := wait_for_workers(proc.pid))
        time.sleep(0.5)  # past the initializer: the parent watcher is running
        proc.kill()
        assert wait_for(lambda: not any(alive(w) for w in busy), timeout=3)
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_workers_exit_with_their_owner_under_a_forkserver(slow_corpus, tmp_path, reap):
    """With the forkserver start method (Python 3.14's default on Linux) the workers' parent is the server,
    which outlives the owner while they hold its pipe: they watch the owner itself."""
    script = tmp_path / "owner.py"
    script.write_text(
        textwrap.dedent(
            """
            import multiprocessing, sys
            from pathlib import Path
            if __name__ == "__main__":
                multiprocessing.set_start_method("forkserver")
                from vowelprompt.pipeline import iter_annotate
                from vowelprompt.records import Utterance
                items = [Utterance(id=p.stem, audio=str(p)) for p in sorted(Path(sys.argv[1]).glob("*.wav"))]
                for row in iter_annotate(items, jobs=2):
                    pass
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), str(slow_corpus)], cwd=REPO, stderr=subprocess.DEVNULL
    )
    try:

        def busy_under_server():
            servers = [c for c in children(proc.pid) if b"forkserver" in _cmdline(c)]
            found = {w for server in servers for w in children(server)}
            return found if len(found) == 2 and all(cpu_s(w) > 0.2 for w in found) else None

        busy = wait_for(busy_under_server, timeout=HANG_GUARD_S)
        assert busy, "no busy workers under a forkserver"
        reap.update(busy)
        proc.kill()
        assert wait_for(lambda: not any(alive(w) for w in busy), timeout=3)
    finally:
        proc.kill()
        proc.wait()


# --- the library: an item that kills its worker; stopping early ------------------------------------------

fork_only = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="workers inherit the patched Annotator by fork"
)


def fake_items(n: int) -> list[Utterance]:
    return [Utterance(id=f"item{i}", audio=f"item{i}.wav") for i in range(n)]


@fork_only
def test_an_item_that_kills_its_worker_is_isolated(tmp_path, monkeypatch):
    """The poison item gets its own ``worker_error`` row after two tries (the second alone); everything
    else, including the items that died with it, is redone and finishes."""

    def annotate(self, utt):
        (tmp_path / f"{utt.id}.{os.getpid()}").touch()  # one file per try
        time.sleep(0.1)
        if utt.id == "item5":
            os.kill(os.getpid(), signal.SIGKILL)
        return pipeline.failed(utt, "fake_ok", "annotated")

    monkeypatch.setattr(pipeline.Annotator, "annotate", annotate)
    items = fake_items(16)
    got = list(pipeline.iter_annotate(items, jobs=2))
    assert sorted(r.id for r in got) == sorted(u.id for u in items)
    status = {r.id: r.status for r in got}
    assert status.pop("item5") == WorkerError.kind and set(status.values()) == {"fake_ok"}
    poison = next(r for r in got if r.id == "item5")
    assert "twice" in poison.error and "killed by SIGKILL" in poison.error
    tries = {u.id: len(list(tmp_path.glob(f"{u.id}.*"))) for u in items}
    assert tries["item5"] == 2 and max(tries.values()) <= 2
    assert not workers(os.getpid())


@fork_only
@pytest.mark.parametrize("how", ["close", "interrupt"])
def test_stopping_early_ends_busy_workers_at_once(monkeypatch, how):
    """Closing the generator, or KeyboardInterrupt while it waits (as the CLI's SIGTERM handler raises),
    ends workers busy on 2-minute items in well under their item time."""

    def annotate(self, utt):
        time.sleep(0 if utt.id == "item0" else 120)
        return pipeline.failed(utt, "fake_ok", "annotated")

    monkeypatch.setattr(pipeline.Annotator, "annotate", annotate)
    rows_seen = pipeline.iter_annotate(fake_items(6), jobs=2)
    assert next(rows_seen).id == "item0"
    busy = wait_for_workers(os.getpid())
    start = time.monotonic()
    if how == "close":
        rows_seen.close()
    else:

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGALRM, interrupt)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.5)
            with pytest.raises(KeyboardInterrupt):
                next(rows_seen)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < 5
    assert not any(alive(w) for w in busy)


# --- the library and the CLI: rows in input order --------------------------------------------------------


def slow_first(tmp_path: Path):
    """A fake ``Annotator.annotate`` whose early items take longest, logging when each finished."""

    def annotate(self, utt):
        time.sleep({"item0": 1.2, "item1": 0.9, "item2": 0.6}.get(utt.id, 0.05))
        (tmp_path / f"{utt.id}.done").write_text(str(time.monotonic()))
        return pipeline.failed(utt, "fake_ok", "annotated")

    return annotate


def finish_order(tmp_path: Path) -> list[str]:
    done = {p.stem: float(p.read_text()) for p in tmp_path.glob("*.done")}
    return sorted(done, key=done.get)


@fork_only
def test_rows_come_in_input_order_whatever_order_they_finish_in(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline.Annotator, "annotate", slow_first(tmp_path))
    items = fake_items(8)
    got = [r.id for r in pipeline.iter_annotate(items, jobs=2)]
    assert got == [u.id for u in items]
    assert finish_order(tmp_path) != got  # they did finish out of order
    assert not workers(os.getpid())


@fork_only
def test_annotate_jobs_writes_rows_in_the_manifests_order(tmp_path, monkeypatch):
    from vowelprompt.cli import main

    monkeypatch.setattr(pipeline.Annotator, "annotate", slow_first(tmp_path))
    order = ["item5", "item0", "item3", "item1", "item7", "item2", "item6", "item4"]  # not sorted
    for name in order:
        (tmp_path / f"{name}.wav").write_bytes(b"RIFF")  # never read: annotate is the fake above
    manifest = tmp_path / "items.jsonl"
    manifest.write_text("".join(json.dumps({"id": n, "audio": f"{n}.wav"}) + "\n" for n in order))
    out = tmp_path / "out.jsonl"
    assert main(["annotate", str(manifest), "-o", str(out), "--jobs", "2", "-q"]) == 1  # fake_ok: not ok
    assert [r["id"] for r in rows(out)] == order
    assert finish_order(tmp_path) != order


@fork_only
def test_a_worker_has_its_own_signal_handlers_from_the_moment_it_is_forked():
    """Before the pool's initializer runs, a forked worker must not have the parent's handlers (the CLI's
    SIGTERM handler raises: a worker stopped just after its fork printed a traceback)."""
    from vowelprompt import workers as module

    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        read, write = os.pipe()
        with module._forking():
            pid = os.fork()
        if pid == 0:  # the child: report its handlers and leave at once
            handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
            os.write(write, repr(handlers).encode())
            os._exit(0)
        os.close(write)
        got = os.read(read, 200).decode()
        os.waitpid(pid, 0)
        os.close(read)
        unmarked = os.fork()  # a fork outside a pool's start keeps the parent's handlers
        if unmarked == 0:
            os._exit(0 if callable(signal.getsignal(signal.SIGTERM)) else 1)
        assert os.waitstatus_to_exitcode(os.waitpid(unmarked, 0)[1]) == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert got == repr((signal.SIG_IGN, signal.SIG_DFL))
