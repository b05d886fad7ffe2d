# SPDX-License-Identifier: GPL-3.0-or-later
"""The exit command's check of a removed container (store/ofd.py, issue 20): before importing the
engine it looks the container up in the state DB and, when it is there, waits for its lock and
looks again, so a container removed under that lock (``state: absent``) costs no engine import,
and one still there goes through the full cleanup."""
from __future__ import annotations

import os
import threading

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.store import ofd
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.locks import Lock
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State

CID = "c" * 64


@pytest.fixture
def root(tmp_path):
    static, tmp = tmp_path / "static", tmp_path / "run"
    static.mkdir()
    tmp.mkdir()
    st = State(str(static / ofd.DB_FILE))
    with st.tx():
        st.conn.execute("INSERT INTO containers (id, name, lock_id, config, state, created) "
                        "VALUES (?, 'web', 3, '{}', '{}', 0)", (CID,))
    open(str(tmp / ofd.LOCK_FILE), "w").close()
    yield st, str(static), str(tmp)
    st.close()


def _delete(st):
    with st.tx():
        st.conn.execute("DELETE FROM containers WHERE id=?", (CID,))


def test_a_container_not_in_the_db_is_removed(root):
    _st, static, tmp = root
    assert ofd.container_removed(static, tmp, "d" * 64)


def test_a_container_still_there_goes_to_the_full_cleanup(root):
    _st, static, tmp = root
    assert not ofd.container_removed(static, tmp, CID)
    lock = Lock(os.path.join(tmp, ofd.LOCK_FILE), 3)  # the check let the lock go again
    lock.acquire(timeout=0)
    lock.release()


def test_the_check_waits_for_the_remover_holding_the_lock(root, monkeypatch):
    """The race of ``state: absent``: the remover holds the container's lock while the exit command
    starts. The check must not answer from its first look: it sees the container, blocks on the
    lock (F_OFD_SETLKW), and finds it gone only once the remover deleted it and let the lock go."""
    st, static, tmp = root
    remover = Lock(os.path.join(tmp, ofd.LOCK_FILE), 3)
    remover.acquire()
    calls = []
    real_fcntl = ofd.fcntl.fcntl

    class _Fcntl:
        F_WRLCK = ofd.fcntl.F_WRLCK

        @staticmethod
        def fcntl(fd, cmd, arg):
            calls.append(("wait" if cmd == ofd.F_OFD_SETLKW else cmd, ofd.struct.unpack("hhqqi4x", arg)[2]))
            return real_fcntl(fd, cmd, arg)

    looked = threading.Event()
    real_lookup = ofd._container_lock_id

    def lookup(db_path, ctr_id):
        found = real_lookup(db_path, ctr_id)
        looked.set()
        return found

    monkeypatch.setattr(ofd, "fcntl", _Fcntl)
    monkeypatch.setattr(ofd, "_container_lock_id", lookup)
    out = []
    checker = threading.Thread(target=lambda: out.append(ofd.container_removed(static, tmp, CID)))
    checker.start()
    assert looked.wait(30)  # its first look found the container (still in the DB)
    _delete(st)  # the remover's last step under the lock
    remover.release()
    checker.join(30)
    assert out == [True]
    assert calls == [("wait", 3)]  # it waited on the container's own lock number


def test_a_remover_that_died_before_deleting_leaves_it_to_the_full_cleanup(root):
    """The lock is free again (the kernel dropped it) but the container is still in the DB."""
    _st, static, tmp = root
    crashed = Lock(os.path.join(tmp, ofd.LOCK_FILE), 3)
    crashed.acquire()
    crashed.release()
    assert not ofd.container_removed(static, tmp, CID)


@pytest.mark.parametrize("trouble", ["no_db", "no_lock_file", "not_a_db"])
def test_anything_unclear_goes_to_the_full_cleanup(root, trouble):
    _st, static, tmp = root
    if trouble == "no_db":
        static = os.path.join(static, "elsewhere")
    elif trouble == "no_lock_file":
        os.unlink(os.path.join(tmp, ofd.LOCK_FILE))
    else:
        other = os.path.join(static, "other")
        os.makedirs(other)
        with open(os.path.join(other, ofd.DB_FILE), "w") as f:
            f.write("not sqlite " * 100)
        static = other
    assert not ofd.container_removed(static, tmp, CID)
    assert not os.path.exists(os.path.join(static, "elsewhere", ofd.DB_FILE))  # never creates a DB


def test_the_lock_struct_is_the_numbered_locks_own():
    """One implementation: locks.py takes its flock struct and fcntl numbers from ofd.py."""
    from ansible_collections.libpod.engine.plugins.module_utils.engine.store import locks

    assert locks._flock is ofd.flock and locks.F_OFD_SETLKW == ofd.F_OFD_SETLKW


def test_the_exit_command_of_a_removed_container_imports_no_engine(root):
    """What conmon runs after ``state: absent`` removed the container: exit 0 without importing the
    runtime, the container object or the OCI driver (a fresh interpreter, as conmon's)."""
    import subprocess
    import sys

    _st, static, tmp = root
    pkg = "ansible_collections.libpod.engine.plugins.module_utils.engine"
    code = ("import sys\nfrom %s.ops import cli\n"
            "rc = cli.main(['--set', 'engine.static_dir=%s', '--set', 'engine.tmp_dir=%s', 'cleanup', '%s'])\n"
            "heavy = [m for m in sys.modules if m.endswith(('.runtime', '.objects.container', '.oci.driver', "
            "'.store.state'))]\nprint(rc, heavy)\n" % (pkg, static, tmp, "d" * 64))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=":".join(sys.path)))
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr
