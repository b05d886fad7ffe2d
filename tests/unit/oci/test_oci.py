# SPDX-License-Identifier: GPL-3.0-or-later
"""The conmon + OCI runtime driver against the real runc / crun / conmon of this host.

No mocks: every test builds a bundle from the busybox rootfs helper, runs it through
OCIRuntime, and cleans up (runtime delete, conmon killed, dirs removed) even on failure.
All paths live under /run/lpe-test-<random>/ (tmpfs), never the engine's own dirs.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import (
    ConmonNotFound,
    CtrStateInvalid,
    OCIRuntimeError,
)
from ansible_collections.libpod.engine.plugins.module_utils.engine.host import cgroups, mounts
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import driver as oci
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci.logs import read_k8s_log
from ansible_collections.libpod.engine.tests.helpers.procs import wait_argv
from ansible_collections.libpod.engine.tests.helpers.rootfs import make_busybox_rootfs

CONMON = shutil.which("conmon") or "/usr/bin/conmon"
RUNC = oci.find_runtime("runc", ["/usr/sbin/runc", "/usr/bin/runc"])
CRUN = oci.find_runtime("crun", ["/usr/bin/crun"])
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(CONMON) or not RUNC,
                                reason="needs root, conmon and runc")


def _base_spec() -> dict:
    """`runc spec` output: the default spec each test adjusts."""
    tmp = "/run/lpe-test-spec-%s" % uuid.uuid4().hex[:8]
    os.makedirs(tmp)
    try:
        subprocess.run([RUNC, "spec", "--bundle", tmp], check=True)
        with open(os.path.join(tmp, "config.json")) as f:
            return json.load(f)
    finally:
        shutil.rmtree(tmp)


@pytest.fixture(scope="module")
def base_dir():
    """/run/lpe-test-<random>: runtime roots, exit dir, run dirs, and one shared rootfs."""
    path = "/run/lpe-test-%s" % uuid.uuid4().hex[:12]
    os.makedirs(path)
    make_busybox_rootfs(os.path.join(path, "rootfs"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def spec_template():
    spec = _base_spec()
    spec["process"]["terminal"] = False
    spec["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
                                  {"type": "RLIMIT_NPROC", "hard": 1024, "soft": 1024}]
    spec["process"]["env"] = ["PATH=/bin:/usr/bin", "HOME=/root"]
    spec["hostname"] = "lpe-test"
    return spec


class Harness:
    """Creates bundles and runtimes; remembers everything to clean up."""

    def __init__(self, base: str, spec: dict):
        self.base = base
        self.spec = spec
        self.made = []  # (runtime, ctr_id, run_dir)
        self.dirs = []

    def runtime(self, kind: str = "runc") -> oci.OCIRuntime:
        if kind == "runc":
            return oci.OCIRuntime("runc", RUNC, conmon_path=CONMON, runtime_root=os.path.join(self.base, "root-runc"),
                                  exit_dir=os.path.join(self.base, "exits"))
        if not CRUN:
            pytest.skip("crun is not installed")
        return oci.OCIRuntime("crun", CRUN, conmon_path=CONMON, runtime_root=os.path.join(self.base, "root-crun"),
                              exit_dir=os.path.join(self.base, "exits"),
                              private_mount_ns=cgroups.crun_needs_private_mount_ns())

    def bundle(self, args, *, tty: bool = False, parent: str = "") -> tuple:
        ctr_id = uuid.uuid4().hex + uuid.uuid4().hex
        bundle = os.path.join(parent or os.path.join(self.base, "bundles"), ctr_id, "userdata")
        os.makedirs(bundle)
        self.dirs.append(os.path.dirname(bundle))
        spec = json.loads(json.dumps(self.spec))
        spec["process"]["args"] = list(args)
        spec["process"]["terminal"] = tty
        spec["root"] = {"path": os.path.join(self.base, "rootfs"), "readonly": True}
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(spec, f)
        run_dir = os.path.join(self.base, "run", ctr_id)
        self.dirs.append(run_dir)
        return ctr_id, bundle, run_dir

    def create(self, rt: oci.OCIRuntime, args, **kw) -> tuple:
        tty = kw.pop("tty", False)
        ctr_id, bundle, run_dir = self.bundle(args, tty=tty, parent=kw.pop("parent", ""))
        self.made.append((rt, ctr_id, run_dir))
        res = rt.create(ctr_id, name="t-" + ctr_id[:8], bundle=bundle, run_dir=run_dir,
                        log_path=os.path.join(bundle, "ctr.log"), tty=tty, **kw)
        return ctr_id, bundle, run_dir, res

    def cleanup(self) -> None:
        for rt, ctr_id, run_dir in self.made:
            conmon_pid = _read_int(os.path.join(run_dir, "conmon.pid"))
            if conmon_pid and oci.is_conmon(conmon_pid, ctr_id):
                try:
                    os.kill(conmon_pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                rt.delete(ctr_id, force=True)
            except Exception as e:  # keep cleaning the others
                print("cleanup of %s failed: %s" % (ctr_id, e))
            try:
                os.unlink(rt.exit_file(ctr_id))
            except OSError:
                pass
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


def _read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


@pytest.fixture
def h(base_dir, spec_template, request):
    harness = Harness(base_dir, spec_template)
    request.addfinalizer(harness.cleanup)
    return harness


RUNTIMES = ["runc", "crun"]


def _lines(bundle):
    return [r["line"] for r in read_k8s_log(os.path.join(bundle, "ctr.log"))]


# --- lifecycle ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", RUNTIMES)
def test_echo_hello(h, kind):
    rt = h.runtime(kind)
    ctr_id, bundle, run_dir, res = h.create(rt, ["echo", "hello"])
    assert res.pid > 0 and res.conmon_pid > 0
    assert rt.state(ctr_id)["status"] == "created"
    rt.start(ctr_id)
    assert rt.wait_exit(ctr_id, 10) == 0
    code, ctime = rt.read_exit(ctr_id)
    assert code == 0 and abs(ctime - time.time()) < 60
    assert "hello" in _lines(bundle)
    assert oci.wait_pid_gone(res.conmon_pid, 5)
    rt.delete(ctr_id)
    assert rt.state(ctr_id) is None
    rt.remove_conmon_files(ctr_id, bundle, run_dir)
    assert not os.path.exists(rt.exit_file(ctr_id))
    for name in ("attach", "ctl", "winsz", "oom"):
        assert not os.path.exists(os.path.join(bundle, name))


@pytest.mark.parametrize("kind", RUNTIMES)
def test_exit_code(h, kind):
    rt = h.runtime(kind)
    ctr_id, bundle, _unused, _unused = h.create(rt, ["sh", "-c", "echo out; echo err >&2; exit 7"])
    rt.start(ctr_id)
    assert rt.wait_exit(ctr_id, 10) == 7
    got = read_k8s_log(os.path.join(bundle, "ctr.log"))
    assert {(r["stream"], r["line"]) for r in got} == {("stdout", "out"), ("stderr", "err")}


@pytest.mark.parametrize("kind", RUNTIMES)
def test_detached_running_and_stop_escalates_to_sigkill(h, kind):
    rt = h.runtime(kind)
    ctr_id, _unused, _unused, res = h.create(rt, ["sh", "-c", "trap '' TERM; echo ready; sleep 100 & wait"])
    rt.start(ctr_id)
    assert oci.pid_alive(res.pid)
    st = rt.state(ctr_id)
    assert st["status"] == "running" and st["pid"] == res.pid
    assert rt.wait_exit(ctr_id, 0.2) is None  # still running: no exit file
    t0 = time.monotonic()
    code = rt.stop(ctr_id, res.pid, signal=15, timeout=1)
    took = time.monotonic() - t0
    assert code == 137
    assert 1.0 <= took < 4.0
    assert not oci.pid_alive(res.pid)
    assert rt.state(ctr_id)["status"] == "stopped"


@pytest.mark.parametrize("kind", RUNTIMES)
def test_stop_honoured_sigterm_is_fast(h, kind):
    rt = h.runtime(kind)
    ctr_id, _unused, _unused, res = h.create(rt, ["sh", "-c", "trap 'exit 3' TERM; sleep 100 & wait"])
    rt.start(ctr_id)
    time.sleep(0.05)  # let sh install its trap
    t0 = time.monotonic()
    assert rt.stop(ctr_id, res.pid, timeout=10) == 3
    assert time.monotonic() - t0 < 2.0


def test_stop_of_exited_container_returns_its_code(h):
    rt = h.runtime()
    ctr_id, _unused, _unused, res = h.create(rt, ["sh", "-c", "exit 5"])
    rt.start(ctr_id)
    assert rt.wait_exit(ctr_id, 10) == 5
    assert rt.stop(ctr_id, res.pid, timeout=1) == 5


def test_kill_with_signal(h):
    rt = h.runtime()
    ctr_id, _unused, _unused, res = h.create(rt, ["sleep", "100"])
    rt.start(ctr_id)
    rt.kill(ctr_id, signal.SIGKILL)
    assert rt.wait_exit(ctr_id, 5) == 137
    assert oci.wait_pid_gone(res.pid, 5)
    with pytest.raises(CtrStateInvalid):
        rt.kill(ctr_id, signal.SIGTERM)


@pytest.mark.parametrize("kind", RUNTIMES)
def test_failing_create_leaves_nothing(h, kind):
    rt = h.runtime(kind)
    ctr_id, bundle, run_dir = h.bundle(["/no/such/binary"])
    h.made.append((rt, ctr_id, run_dir))
    with pytest.raises(OCIRuntimeError) as ei:
        rt.create(ctr_id, name="bad", bundle=bundle, run_dir=run_dir, log_path=os.path.join(bundle, "ctr.log"))
    msg = str(ei.value)
    assert "/no/such/binary" in msg and ctr_id in msg and kind in msg
    assert ei.value.hint
    assert rt.state(ctr_id) is None
    assert not os.path.isdir(os.path.join(rt.runtime_root, ctr_id))
    assert not os.path.exists(rt.exit_file(ctr_id))
    for name in ("attach", "ctl", "winsz"):
        assert not os.path.exists(os.path.join(bundle, name))
    assert not os.path.exists(os.path.join(run_dir, "conmon.pid"))
    assert not _conmons_of(ctr_id)


def _conmons_of(ctr_id):
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit() and oci.is_conmon(int(p), ctr_id):
            with open("/proc/%s/stat" % p) as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(p))
    return found


def test_create_without_config_json(h):
    rt = h.runtime()
    bundle = os.path.join(h.base, "empty-bundle")
    os.makedirs(bundle, exist_ok=True)
    h.dirs.append(bundle)
    with pytest.raises(OCIRuntimeError, match="no config.json"):
        rt.create("x" * 64, name="x", bundle=bundle, run_dir=os.path.join(bundle, "run"),
                  log_path=os.path.join(bundle, "ctr.log"))


def test_rlimit_failure_has_hint(h):
    hard = subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True, text=True, check=True).stdout.strip()
    if hard == "unlimited":
        pytest.skip("no hard nofile limit")
    rt = h.runtime()
    ctr_id, bundle, run_dir = h.bundle(["true"])
    h.made.append((rt, ctr_id, run_dir))
    cfg = os.path.join(bundle, "config.json")
    with open(cfg) as f:
        spec = json.load(f)
    spec["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": int(hard) * 64, "soft": int(hard) * 64}]
    with open(cfg, "w") as f:
        json.dump(spec, f)
    try:
        rt.create(ctr_id, name="rl", bundle=bundle, run_dir=run_dir, log_path=os.path.join(bundle, "ctr.log"))
    except OCIRuntimeError as e:
        assert "rlimit" in str(e)
        assert "CAP_SYS_RESOURCE" in e.hint
    else:
        pytest.skip("this host allows raising rlimits (CAP_SYS_RESOURCE present)")


def test_exit_command_gets_its_args(h):
    rt = h.runtime()
    marker = os.path.join(h.base, "marker-%s" % uuid.uuid4().hex[:8])
    h.dirs.append(marker)
    ctr_id = h.create(rt, ["sh", "-c", "exit 4"], exit_command="/bin/sh",
                      exit_command_args=["-c", 'echo "$@" > %s.tmp && mv %s.tmp %s' % (marker, marker, marker),
                                         "sh", "container", "cleanup", "with space"])[0]
    rt.start(ctr_id)
    assert rt.wait_exit(ctr_id, 10) == 4
    deadline = time.monotonic() + 10
    while not os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    with open(marker) as f:
        assert f.read() == "container cleanup with space\n"


def test_conmon_command_line_is_podmans(h):
    rt = oci.OCIRuntime("runc", RUNC, conmon_path=CONMON, runtime_root="/run/R", exit_dir="/run/E",
                        runtime_args=["--debug"], no_pivot=True)
    argv = rt.conmon_args("ID", name="N", bundle="/B", run_dir="/RD", log_path="/B/ctr.log",
                          exit_command="/x", exit_command_args=["a", "b"], tty=True, log_size_max=1000)
    assert argv[:17] == [CONMON, "--api-version", "1", "-c", "ID", "-u", "ID", "-r", RUNC, "-b", "/B",
                         "-p", "/RD/pidfile", "-n", "N", "--exit-dir", "/run/E"]
    joined = " ".join(argv)
    for part in ("--full-attach", "-l k8s-file:/B/ctr.log", "--log-level warning",
                 "--conmon-pidfile /RD/conmon.pid", "--runtime-arg --root --runtime-arg /run/R --runtime-arg --debug",
                 "--runtime-arg --log-format=json --runtime-arg --log --runtime-arg=/RD/oci-log",
                 "--log-size-max 1000", "--no-pivot", " -t ", "--exit-command /x --exit-command-arg a "
                 "--exit-command-arg b"):
        assert part in joined, part
    assert " -s " not in joined and "--systemd-cgroup" not in joined
    # cgroups: disabled: podman tells the runtime's create only, after the runtime's own arguments
    argv = rt.conmon_args("ID", name="N", bundle="/B", run_dir="/RD", log_path="/L",
                          runtime_args=["--cgroup-manager=disabled"])
    assert "--runtime-arg --debug --runtime-arg --cgroup-manager=disabled" in " ".join(argv)
    debug = oci.OCIRuntime("runc", RUNC, conmon_path=CONMON, runtime_root="/run/R", exit_dir="/run/E",
                           log_level="debug")
    assert "--log-format=json" not in debug.conmon_args("ID", name="N", bundle="/B", run_dir="/RD", log_path="/L")


def test_conmon_setup_hook_sees_waiting_conmon(h):
    rt = h.runtime()
    seen = []

    def hook(pid):
        # conmon blocks on the start pipe: the runtime has not been asked to create anything yet
        assert rt.state(ctr_id_box[0]) is None
        seen.append((pid, (wait_argv(pid, bool) or [""])[0]))

    ctr_id_box = []
    orig_bundle = h.bundle

    def bundle_and_remember(*a, **kw):
        out = orig_bundle(*a, **kw)
        ctr_id_box.append(out[0])
        return out

    h.bundle = bundle_and_remember
    ctr_id = h.create(rt, ["true"], conmon_setup=hook)[0]
    assert len(seen) == 1 and os.path.basename(seen[0][1]) == "conmon"
    rt.start(ctr_id)
    assert rt.wait_exit(ctr_id, 10) == 0


def test_tty_output_reaches_the_log(h):
    rt = h.runtime()
    ctr_id, bundle, _unused, _unused = h.create(rt, ["echo", "tty-hello"], tty=True)
    rt.start(ctr_id)
    assert rt.wait_exit(ctr_id, 10) == 0
    assert any("tty-hello" in line for line in _lines(bundle))


# --- long bundle paths and attach ------------------------------------------------------------

@pytest.mark.parametrize("kind", RUNTIMES)
def test_long_bundle_path_and_attach(h, kind):
    rt = h.runtime(kind)
    # like <static>/storage/containers/<64-hex>/userdata, but longer than sun_path (108)
    parent = os.path.join(h.base, "var", "lib", "libpod-engine", "storage", "containers")
    ctr_id, bundle, run_dir = h.bundle(["sh", "-c", "echo to-out; echo to-err >&2"], parent=parent)
    assert len(os.path.join(bundle, "attach")) > 108
    h.made.append((rt, ctr_id, run_dir))
    rt.create(ctr_id, name="long", bundle=bundle, run_dir=run_dir, log_path=os.path.join(bundle, "ctr.log"))
    sock = oci.connect_attach(bundle)
    try:
        rt.start(ctr_id)
        frames = []
        sock.settimeout(10)
        while True:
            data = sock.recv(8193)
            if not data:
                break
            frames.append((data[0], data[1:]))
    finally:
        sock.close()
    assert (2, b"to-out\n") in frames and (3, b"to-err\n") in frames
    assert rt.wait_exit(ctr_id, 10) == 0


# --- crun in a private mount namespace ----------------------------------------------------------

def _unified_mounted(pid="self"):
    return any(e.point == "/sys/fs/cgroup/unified" for e in mounts.mount_table("/proc/%s/mountinfo" % pid))


@pytest.mark.skipif(not CRUN or not cgroups.crun_needs_private_mount_ns(), reason="needs crun on a hybrid host")
def test_crun_private_mount_ns_keeps_host_mounts(h):
    rt = h.runtime("crun")
    assert rt.private_mount_ns
    ctr_id, bundle, _unused, res = h.create(rt, ["sleep", "100"])
    rt.start(ctr_id)
    assert rt.state(ctr_id)["status"] == "running"
    # conmon lives in its own mount namespace without the unified mount; the host keeps it
    assert cgroups.mount_ns_id(str(res.conmon_pid)) != cgroups.mount_ns_id()
    assert not _unified_mounted(res.conmon_pid)
    assert _unified_mounted()
    assert cgroups.crun_needs_private_mount_ns()
    assert rt.stop(ctr_id, res.pid, timeout=0) == 137
    rt.delete(ctr_id)
    assert rt.state(ctr_id) is None
    assert _unified_mounted()


@pytest.mark.skipif(not CRUN or not cgroups.crun_needs_private_mount_ns(), reason="needs crun on a hybrid host")
def test_crun_without_private_ns_fails_with_hint(h):
    rt = oci.OCIRuntime("crun", CRUN, conmon_path=CONMON, runtime_root=os.path.join(h.base, "root-crun-plain"),
                        exit_dir=os.path.join(h.base, "exits"))
    ctr_id, bundle, run_dir = h.bundle(["true"])
    h.made.append((rt, ctr_id, run_dir))
    with pytest.raises(OCIRuntimeError) as ei:
        rt.create(ctr_id, name="plain", bundle=bundle, run_dir=run_dir, log_path=os.path.join(bundle, "ctr.log"))
    assert "hybrid" in str(ei.value) and "private_mount_ns" in ei.value.hint


@pytest.mark.skipif(not CRUN or not cgroups.crun_needs_private_mount_ns(), reason="needs crun on a hybrid host")
def test_exit_command_returns_to_host_mount_ns(h):
    """conmon's exit command inherits the private namespace; restore_host_mount_ns leaves it."""
    rt = h.runtime("crun")
    out = os.path.join(h.base, "nsreport-%s" % uuid.uuid4().hex[:8])
    h.dirs.append(out)
    script = (
        "import sys, os, json; sys.path.insert(0, %r); sys.path.insert(0, %r)\n"
        "import tests.conftest\n"
        "from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import driver as oci\n"
        "from ansible_collections.libpod.engine.plugins.module_utils.engine.host import cgroups, mounts\n"
        "before = cgroups.mount_ns_id()\n"
        "switched = oci.restore_host_mount_ns()\n"
        "unified = any(e.point == '/sys/fs/cgroup/unified' for e in mounts.mount_table())\n"
        "json.dump({'before': before, 'after': cgroups.mount_ns_id(), 'switched': switched,"
        " 'unified': unified, 'args': sys.argv[1:]}, open(%r + '.tmp', 'w'))\n"
        "os.rename(%r + '.tmp', %r)\n" % (REPO, os.path.join(REPO, ".build", "collections"), out, out, out)
    )
    ctr_id = h.create(rt, ["true"], exit_command=sys.executable,
                      exit_command_args=["-c", script, "cleanup", "ID"])[0]
    rt.start(ctr_id)
    assert rt.wait_exit(ctr_id, 10) == 0
    deadline = time.monotonic() + 15
    while not os.path.exists(out) and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(out) as f:
        rep = json.load(f)
    host = cgroups.mount_ns_id()
    assert rep["before"] != host
    assert rep["switched"] is True and rep["after"] == host and rep["unified"] is True
    assert rep["args"] == ["cleanup", "ID"]


# --- unknown containers, exit files -----------------------------------------------------------------

@pytest.mark.parametrize("kind", RUNTIMES)
def test_unknown_container_is_not_an_error(h, kind):
    rt = h.runtime(kind)
    ctr_id = uuid.uuid4().hex * 2
    rt.delete(ctr_id)
    rt.delete(ctr_id, force=False)
    assert rt.state(ctr_id) is None
    with pytest.raises(CtrStateInvalid):
        rt.kill(ctr_id, 15)
    with pytest.raises(OCIRuntimeError):
        rt.start(ctr_id)


def test_exit_file_helpers(h):
    rt = h.runtime()
    ctr_id = uuid.uuid4().hex * 2
    assert rt.read_exit(ctr_id) is None
    t0 = time.monotonic()
    assert rt.wait_exit(ctr_id, 0.2) is None
    assert time.monotonic() - t0 >= 0.2
    path = rt.exit_file(ctr_id)
    try:
        with open(path, "w") as f:
            f.write("garbage")
        with pytest.raises(OCIRuntimeError, match="not an exit code"):
            rt.read_exit(ctr_id)
        with open(path, "w") as f:
            f.write("-1")
        assert rt.read_exit(ctr_id)[0] == -1
    finally:
        os.unlink(path)


def test_wait_exit_wakes_on_write(h):
    rt = h.runtime()
    ctr_id = uuid.uuid4().hex * 2
    path = rt.exit_file(ctr_id)
    writer = subprocess.Popen(["sh", "-c", "sleep 0.2; printf 42 > %s.x && mv %s.x %s" % (path, path, path)])
    try:
        t0 = time.monotonic()
        assert rt.wait_exit(ctr_id, 5) == 42
        assert time.monotonic() - t0 < 1.0
    finally:
        writer.wait()
        os.unlink(path)


# --- discovery ---------------------------------------------------------------------------------

def test_find_conmon_and_version():
    path, version = oci.find_conmon(["/nonexistent/conmon", CONMON])
    assert path == CONMON
    assert tuple(int(x) for x in version.split(".")) >= oci.CONMON_MIN_VERSION


def test_find_conmon_reports_every_candidate(tmp_path, monkeypatch):
    old = tmp_path / "old-conmon"
    old.write_text("#!/bin/sh\necho 'conmon version 1.9.0'\n")
    old.chmod(0o755)
    notexec = tmp_path / "plain"
    notexec.write_text("")
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho boom >&2; exit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ConmonNotFound) as ei:
        oci.find_conmon(["/nonexistent/conmon", str(old), str(notexec), str(broken)])
    msg = str(ei.value)
    assert "/nonexistent/conmon: does not exist" in msg
    assert "1.9.0 is older than the minimum 2.0.1" in msg
    assert "plain: not an executable file" in msg
    assert "boom" in msg and "rc 3" in msg
    assert "conmon_path" in ei.value.hint


def test_find_conmon_falls_back_to_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(CONMON))
    assert oci.find_conmon(["/nonexistent/conmon"])[0] == CONMON


def test_find_runtime(tmp_path, monkeypatch):
    assert oci.find_runtime("runc", ["/nonexistent/runc", RUNC]) == RUNC
    monkeypatch.setenv("PATH", os.path.dirname(RUNC))
    assert oci.find_runtime("runc", ["/nonexistent/runc"]) == RUNC
    assert oci.find_runtime("no-such-runtime", ["/nonexistent"]) is None
    assert oci.find_runtime(RUNC, []) == RUNC
    d = tmp_path / "dir"
    d.mkdir()
    assert oci.find_runtime("nothing", [str(d)]) is None  # a directory is not a runtime


def test_runtime_version_and_probe():
    assert oci.runtime_version(RUNC).startswith("runc version")
    probe = oci.probe_runtime(RUNC)
    assert probe.usable and not probe.private_mount_ns and probe.version.startswith("runc")
    assert not oci.probe_runtime("/nonexistent/runc").usable
    if CRUN:
        auto = oci.probe_runtime(CRUN)
        assert auto.usable and auto.version.startswith("crun")
        assert auto.private_mount_ns == cgroups.crun_needs_private_mount_ns()
        if cgroups.crun_needs_private_mount_ns():
            plain = oci.probe_runtime(CRUN, private_mount_ns=False)
            assert not plain.usable and "hybrid" in plain.reason
