"""Numbered OFD locks and their allocation in the DB."""
import multiprocessing
import os
import subprocess
import time

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import LockError, LockExhausted
from ansible_collections.libpod.engine.plugins.module_utils.engine.store import locks
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.locks import Lock, LockManager, is_locked
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State
from ansible_collections.libpod.engine.tests.helpers.procs import wait_argv


@pytest.fixture
def mgr(tmp_path):
    st = State(str(tmp_path / "state.db"))
    yield LockManager(st, str(tmp_path / "locks"), 8)
    st.close()


def test_allocation_is_lowest_free_and_reuses(mgr):
    assert [mgr.allocate("container", "c%d" % i) for i in range(3)] == [0, 1, 2]
    mgr.free(1)
    assert mgr.allocate("pod", "p") == 1
    assert mgr.allocate("volume", "v") == 3


def test_exhaustion_is_a_clear_error(mgr):
    for i in range(8):
        mgr.allocate("container", "c%d" % i)
    with pytest.raises(LockExhausted) as exc:
        mgr.allocate("container", "abcdef0123456789")
    assert "exceeded num_locks (8)" in str(exc.value)
    assert "abcdef012345" in str(exc.value)
    assert "num_locks" in exc.value.hint


def test_ofd_excludes_within_one_process(tmp_path):
    path = str(tmp_path / "locks")
    a, b = Lock(path, 5), Lock(path, 5)
    a.acquire()
    try:
        with pytest.raises(LockError):
            b.acquire(timeout=0.05)
        # another byte is independent
        with Lock(path, 6):
            pass
        # closing an unrelated descriptor of the same file keeps the lock (POSIX lockf would drop it)
        os.close(os.open(path, os.O_RDONLY))
        assert is_locked(path, 5)
    finally:
        a.release()
    assert not is_locked(path, 5)
    b.acquire(timeout=1)
    b.release()


def _hold(path, n, ready, release):
    with Lock(path, n):
        ready.set()
        release.wait(10)


def test_lock_released_when_holder_dies(tmp_path):
    path = str(tmp_path / "locks")
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(path, 3, ready, release))
    p.start()
    assert ready.wait(10)
    assert is_locked(path, 3)
    p.kill()
    p.join(10)
    lk = Lock(path, 3)
    lk.acquire(timeout=2)
    lk.release()


def _allocate_many(db, locks_path, n, out):
    st = State(db)
    mgr = LockManager(st, locks_path, 4096)
    got = [mgr.allocate("container", "%d-%d" % (os.getpid(), i)) for i in range(n)]
    out.put(got)
    st.close()


def test_concurrent_allocation_never_duplicates(tmp_path):
    db, lp = str(tmp_path / "state.db"), str(tmp_path / "locks")
    State(db).close()
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_allocate_many, args=(db, lp, 50, out)) for _i in range(4)]
    t0 = time.time()
    for p in procs:
        p.start()
    got = [n for _i in procs for n in out.get(timeout=60)]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len(got) == 200 and len(set(got)) == 200
    assert sorted(got) == list(range(200))
    assert time.time() - t0 < 60


def test_second_handle_in_one_process_is_refused_not_a_deadlock(tmp_path):
    # issue 22 item 2: locking an object this process already holds through another handle hung forever
    import threading

    path = str(tmp_path / "locks")
    a, b = Lock(path, 5), Lock(path, 5)
    a.acquire()
    got = []

    def second():
        try:
            b.acquire()  # no timeout: before the fix this waited on ourselves forever
        except LockError as exc:
            got.append(exc)

    t = threading.Thread(target=second, daemon=True)
    t.start()
    t.join(30)  # a bound so a regression fails instead of hanging the suite
    a.release()
    assert got and "already held by this process" in str(got[0]), got
    b.acquire(timeout=1)  # nothing was left registered
    b.release()


def test_lock_timeout_names_the_holder(tmp_path):
    path = str(tmp_path / "locks")
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(path, 3, ready, release))
    p.start()
    try:
        assert ready.wait(10)
        with pytest.raises(LockError) as exc:
            Lock(path, 3, owner="container web").acquire(timeout=0.05)
        assert "container web" in str(exc.value)
        assert "pid %d" % p.pid in str(exc.value)
    finally:
        release.set()
        p.join(10)


def test_holder_description_is_the_first_200_bytes_of_its_command_line(tmp_path, monkeypatch):
    """As ps shows it: NULs as spaces, cut at 200 bytes, bytes that are not UTF-8 as U+FFFD."""
    raw = [b"/tmp/lpe-\xff/holder", b"-c", b"read x", b"", b"x" * 300]
    p = subprocess.Popen(raw, executable="/bin/sh", stdin=subprocess.PIPE)
    try:
        wait_argv(p.pid, lambda a: len(a) == len(raw))
        monkeypatch.setattr(locks, "lock_holders", lambda path, lock_id: [p.pid])
        cmd = b" ".join(raw)[:200].decode("utf-8", "replace")
        assert locks._describe_holders(str(tmp_path / "locks"), 3) == "pid %d (%s)" % (p.pid, cmd)
        assert cmd.startswith("/tmp/lpe-\ufffd/holder -c read x  xxx")
    finally:
        p.kill()
        p.communicate()
