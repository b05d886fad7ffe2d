# SPDX-License-Identifier: GPL-3.0-or-later
"""conmon + OCI runtime (runc/crun) driver: libpod's oci_conmon_common.go / _linux.go.

A container is created by spawning conmon, which runs ``runtime create`` and stays behind
as the container's monitor: it owns the container's stdio, writes the k8s-file log,
serves the attach socket, writes the exit file and runs the exit command. Everything
else (start, kill, delete, state) is a direct runtime call, as in podman.

Things this machine taught us (shared/reference/substrate.md):
* ``runc create`` hands its stdio to the container, so its output is never captured
  through a pipe we wait on; here only conmon runs it.
* crun 1.8 refuses hybrid cgroup hosts; with ``private_mount_ns`` every crun (and conmon)
  process runs in a mount namespace without /sys/fs/cgroup/unified. conmon, and so the
  exit command it runs, stay in that namespace: the exit command must call
  :func:`restore_host_mount_ns` before it touches mounts.
* rlimits above the hard limit fail (no CAP_SYS_RESOURCE): messages carry a hint.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import re
import select
import shutil
import signal as _signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ..base.errors import ConmonNotFound, CtrStateInvalid, OCIRuntimeError, OCIRuntimeNotFound
from ..host import cgroups
from ..host.libc import libc as host_libc
from ..host.proc import is_conmon, kill_wait, pid_alive, read_int, wait_pid_gone
from .execrun import ExecResult, run_exec
from .exitfile import read_exit

log = logging.getLogger(__name__)

#: podman's minimum conmon (pkg/config: _conmonMinMajorVersion etc.)
CONMON_MIN_VERSION = (2, 0, 1)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: podman's ContainerCreateTimeout
CREATE_TIMEOUT = 240.0
#: podman's killContainerTimeout: how long SIGKILL may take
KILL_TIMEOUT = 5.0
#: env var set for conmon (and inherited by its exit command) naming the mount namespace
#: the engine ran in, when conmon was moved into a private one
HOST_MNTNS_ENV = "LIBPOD_ENGINE_HOST_MNTNS"

#: files conmon leaves in the bundle directory
CONMON_BUNDLE_FILES = ("attach", "ctl", "winsz", "oom")

_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")

# (substrings that must all be in the runtime's message, hint)
_HINTS = (
    (("error setting rlimit",), "this host lacks CAP_SYS_RESOURCE: keep RLIMIT_NOFILE/NPROC at or below "
                                "the hard limits (ulimit -Hn / -Hu; 1024 is safe)"),
    (("hybrid mode not supported",), "crun cannot run on a cgroup v1+v2 hybrid host: run it with "
                                     "private_mount_ns=True, or use runc"),
    (("executable file not found",), "check the command and the PATH in the container's environment"),
    (("exec", "no such file or directory"), "check that the command exists in the container's root filesystem"),
    (("exec", "permission denied"), "check the command's file mode and the user the container runs as"),
)


def _hint(msg: str) -> Optional[str]:
    low = msg.lower()
    for needles, hint in _HINTS:
        if all(n in low for n in needles):
            return hint
    return None


def _parse_version(text: str) -> Optional[Tuple[int, int, int]]:
    m = _VERSION_RE.search(text)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _is_executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _probe_version(path: str, timeout: float = 10.0) -> str:
    """stdout of ``path --version`` (raises OSError / CalledProcessError / TimeoutExpired)."""
    out = subprocess.run([path, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=timeout, check=True)
    return out.stdout.decode("utf-8", "replace").strip()


def find_conmon(paths: Sequence[str]) -> Tuple[str, str]:
    """(path, version) of the first usable conmon, as podman's FindConmon.

    Each configured path is probed with ``--version`` and must be >= 2.0.1; then $PATH.
    The error lists every candidate and why it was rejected.
    """
    tried: List[str] = []
    candidates = [p for p in paths if p]
    on_path = shutil.which("conmon")
    if on_path and on_path not in candidates:
        candidates.append(on_path)
    for path in candidates:
        if not os.path.exists(path):
            tried.append("%s: does not exist" % path)
            continue
        if not _is_executable_file(path):
            tried.append("%s: not an executable file" % path)
            continue
        try:
            out = _probe_version(path)
        except subprocess.CalledProcessError as e:
            tried.append("%s: --version failed (rc %d): %s" % (path, e.returncode,
                                                               e.stderr.decode("utf-8", "replace").strip()))
            continue
        except (OSError, subprocess.SubprocessError) as e:
            tried.append("%s: --version failed: %s" % (path, e))
            continue
        ver = _parse_version(out)
        if ver is None:
            tried.append("%s: cannot read a version from %r" % (path, out[:80]))
            continue
        if ver < CONMON_MIN_VERSION:
            tried.append("%s: version %s is older than the minimum %s"
                         % (path, ".".join(map(str, ver)), ".".join(map(str, CONMON_MIN_VERSION))))
            continue
        return path, "%d.%d.%d" % ver
    if not candidates:
        tried.append("no conmon_path configured and none in $PATH")
    raise ConmonNotFound(
        "could not find a working conmon binary: %s" % "; ".join(tried),
        hint="install conmon >= %d.%d.%d, or set [engine] conmon_path in containers.conf" % CONMON_MIN_VERSION)


def find_runtime(name: str, paths: Sequence[str]) -> Optional[str]:
    """First existing executable regular file of ``paths``, else ``name`` on $PATH.

    ``name`` may itself be an absolute path.
    """
    if os.path.isabs(name):
        return name if _is_executable_file(name) else None
    for path in paths:
        if path and _is_executable_file(path):
            return path
    return shutil.which(name)


def runtime_version(path: str) -> str:
    """The runtime's own ``--version`` text (all lines), for info output."""
    try:
        return _probe_version(path)
    except FileNotFoundError:
        raise OCIRuntimeNotFound("OCI runtime %s not found" % path, hint="install it or fix [engine.runtimes]")
    except subprocess.CalledProcessError as e:
        raise OCIRuntimeError("%s --version failed (rc %d): %s" % (
            path, e.returncode, e.stderr.decode("utf-8", "replace").strip()))
    except (OSError, subprocess.SubprocessError) as e:
        raise OCIRuntimeError("%s --version failed: %s" % (path, e))


def runtime_kind(path: str) -> str:
    """"runc", "crun" or the basename: decided by name only (no process spawned)."""
    return os.path.basename(path)


@dataclass
class RuntimeProbe:
    """Whether an OCI runtime can run containers here, and how."""

    path: str
    usable: bool
    version: str = ""
    private_mount_ns: bool = False
    reason: str = ""


def probe_runtime(path: str, private_mount_ns: Optional[bool] = None) -> RuntimeProbe:
    """Cheap usability check (one ``--version`` spawn, no container).

    ``private_mount_ns=None`` decides it: True for crun on a hybrid host whose unified
    hierarchy has controllers. When True, the ``--version`` call runs through the same
    private-namespace preexec that containers use, so a host where unshare/umount are not
    allowed is caught here instead of at the first container start.
    """
    if not _is_executable_file(path):
        return RuntimeProbe(path, False, reason="not an executable file")
    needs = runtime_kind(path) == "crun" and cgroups.crun_needs_private_mount_ns()
    if private_mount_ns is None:
        private_mount_ns = needs
    try:
        out = subprocess.run([path, "--version"], check=False, stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=10, preexec_fn=cgroups.private_cgroup_mount_ns() if private_mount_ns else None)
    except subprocess.SubprocessError as e:
        return RuntimeProbe(path, False, private_mount_ns=private_mount_ns,
                            reason="cannot run it in a private mount namespace: %s" % e)
    except OSError as e:
        return RuntimeProbe(path, False, private_mount_ns=private_mount_ns, reason=str(e))
    version = out.stdout.decode("utf-8", "replace").strip()
    if out.returncode != 0:
        return RuntimeProbe(path, False, version, private_mount_ns,
                            "--version failed: %s" % out.stderr.decode("utf-8", "replace").strip())
    if version.startswith("crun") and needs and not private_mount_ns:
        return RuntimeProbe(path, False, version, False,
                            "crun refuses cgroup v1+v2 hybrid hosts (unified/cgroup.controllers is not empty); "
                            "it needs private_mount_ns=True")
    return RuntimeProbe(path, True, version, private_mount_ns)


def restore_host_mount_ns(env: Optional[Mapping[str, str]] = None) -> bool:
    """For the exit command: leave conmon's private mount namespace (if any).

    conmon passes its environment on to the exit command; when we moved conmon into a
    private namespace we recorded the engine's namespace in ``HOST_MNTNS_ENV``. Returns
    True if it switched. Must run before any thread is started (setns refuses otherwise).
    """
    ns = (os.environ if env is None else env).get(HOST_MNTNS_ENV)
    if not ns:
        return False
    try:
        return cgroups.enter_mount_ns_of(ns)
    except OSError as e:
        raise OCIRuntimeError("cannot return to the host mount namespace %s: %s" % (ns, e),
                              hint="run the cleanup with access to /proc and CAP_SYS_ADMIN")


def connect_attach(bundle: str) -> socket.socket:
    """Connect to conmon's attach socket (``<bundle>/attach``, SOCK_SEQPACKET).

    Goes through ``/proc/self/fd/<dirfd>/attach``: our bundle paths are longer than the
    108 bytes of sun_path (conmon 2.1.6 binds the same way, so long bundles work).
    Frames start with one byte: 1 stdin, 2 stdout, 3 stderr.
    """
    dfd = os.open(bundle, os.O_PATH | os.O_CLOEXEC)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        try:
            sock.connect("/proc/self/fd/%d/attach" % dfd)
        except OSError:
            sock.close()
            raise
        return sock
    finally:
        os.close(dfd)


# --- inotify (ctypes) ------------------------------------------------------------------------

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC


def _inotify_dir(path: str) -> int:
    """An inotify fd watching ``path`` for finished files, or -1 if inotify is unavailable."""
    try:
        libc = host_libc()
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    except (OSError, AttributeError):
        return -1
    if fd < 0:
        return -1
    if libc.inotify_add_watch(fd, os.fsencode(path), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0:
        os.close(fd)
        return -1
    return fd


# --- the driver -----------------------------------------------------------------------------

@dataclass
class CreateResult:
    """What conmon reported for a created container."""

    pid: int
    conmon_pid: int
    #: wall time of conmon spawn -> pid received, seconds (for benchmarks)
    elapsed: float = field(default=0.0, compare=False)


class OCIRuntime:
    """One OCI runtime (runc or crun) driven through conmon, as libpod's ConmonOCIRuntime."""

    def __init__(self, name: str, path: str, *, conmon_path: str, runtime_root: str, exit_dir: str,
                 conmon_env: Optional[Union[Mapping[str, str], Iterable[str]]] = None,
                 private_mount_ns: bool = False, no_pivot: bool = False, runtime_args: Sequence[str] = (),
                 log_level: str = "warning", supports_json: bool = True):
        self.name = name
        self.path = path
        self.conmon_path = conmon_path
        self.runtime_root = runtime_root
        self.exit_dir = exit_dir
        self.private_mount_ns = private_mount_ns
        self.no_pivot = no_pivot
        self.runtime_args = list(runtime_args)
        self.log_level = log_level or "warning"
        self.supports_json = supports_json
        env: Dict[str, str] = {}
        if conmon_env is None:
            env["PATH"] = DEFAULT_PATH
        elif isinstance(conmon_env, Mapping):
            env.update(conmon_env)
        else:
            for item in conmon_env:
                k, _unused, v = item.partition("=")
                env[k] = v
        env.setdefault("PATH", DEFAULT_PATH)
        self.env = env
        self._preexec: Optional[Callable[[], None]] = None
        self._dirs_made = False

    # -- helpers ------------------------------------------------------------------------
    def __repr__(self) -> str:
        return "OCIRuntime(%r, %r%s)" % (self.name, self.path, ", private_mount_ns" if self.private_mount_ns else "")

    @property
    def preexec_fn(self) -> Optional[Callable[[], None]]:
        """The function every process of this runtime starts with (None: nothing special)."""
        if self.private_mount_ns and self._preexec is None:
            self._preexec = cgroups.private_cgroup_mount_ns()
        return self._preexec

    def _ensure_dirs(self) -> None:
        if not self._dirs_made:
            os.makedirs(self.runtime_root, mode=0o700, exist_ok=True)
            os.makedirs(self.exit_dir, mode=0o700, exist_ok=True)
            self._dirs_made = True

    def _cmd(self, *args: str) -> List[str]:
        return [self.path, "--root", self.runtime_root, *self.runtime_args, *args]

    def _run(self, what: str, ctr_id: str, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """Run a direct runtime command (never ``create``: see the module docstring)."""
        cmd = self._cmd(*args)
        try:
            return subprocess.run(cmd, check=False, stdin=subprocess.DEVNULL, capture_output=True, env=self.env,
                                  timeout=timeout, preexec_fn=self.preexec_fn)
        except FileNotFoundError:
            raise OCIRuntimeNotFound("%s container %s: OCI runtime %s not found" % (what, ctr_id, self.path),
                                     hint="install %s or fix [engine.runtimes] in containers.conf" % self.name)
        except subprocess.TimeoutExpired:
            raise OCIRuntimeError("%s container %s: `%s` did not finish within %.0f s"
                                  % (what, ctr_id, " ".join(cmd), timeout))
        except subprocess.SubprocessError as e:  # the preexec_fn failed
            raise OCIRuntimeError("%s container %s: cannot enter a private mount namespace for %s: %s"
                                  % (what, ctr_id, self.name, e),
                                  hint="the engine needs CAP_SYS_ADMIN to run crun on a hybrid cgroup host; "
                                       "use runc instead")
        except OSError as e:
            raise OCIRuntimeError("%s container %s: cannot run %s: %s" % (what, ctr_id, self.path, e))

    @staticmethod
    def _stderr(res: subprocess.CompletedProcess) -> str:
        text = (res.stderr or b"").decode("utf-8", "replace").strip()
        if not text:
            text = (res.stdout or b"").decode("utf-8", "replace").strip()
        return text or "exit status %d" % res.returncode

    def _unknown(self, ctr_id: str, msg: str) -> bool:
        """Does the runtime's error mean "no such container"?"""
        if "does not exist" in msg:
            return True
        return not os.path.isdir(os.path.join(self.runtime_root, ctr_id))

    def _error(self, what: str, ctr_id: str, msg: str) -> OCIRuntimeError:
        return OCIRuntimeError("%s container %s: %s: %s" % (what, ctr_id, self.name, msg), hint=_hint(msg))

    # -- create -------------------------------------------------------------------------
    def conmon_args(self, ctr_id: str, *, name: str, bundle: str, run_dir: str, log_path: str,
                    exit_command: Optional[str] = None, exit_command_args: Sequence[str] = (),
                    tty: bool = False, stdin: bool = False, log_size_max: Optional[int] = None,
                    log_driver: str = "k8s-file", log_tag: Optional[str] = None,
                    runtime_args: Sequence[str] = ()) -> List[str]:
        """conmon's command line, in podman 4's order (libpod-reference §2.4)."""
        log = "k8s-file:" + log_path if log_driver == "k8s-file" else log_driver
        args = [self.conmon_path, "--api-version", "1", "-c", ctr_id, "-u", ctr_id, "-r", self.path,
                "-b", bundle, "-p", os.path.join(run_dir, "pidfile"), "-n", name,
                "--exit-dir", self.exit_dir, "--full-attach",
                "-l", log, "--log-level", self.log_level,
                "--conmon-pidfile", os.path.join(run_dir, "conmon.pid"),
                "--runtime-arg", "--root", "--runtime-arg", self.runtime_root]
        for a in list(self.runtime_args) + list(runtime_args):
            args += ["--runtime-arg", a]
        if self.supports_json and self.log_level != "debug":
            args += ["--runtime-arg", "--log-format=json", "--runtime-arg", "--log",
                     "--runtime-arg=" + os.path.join(run_dir, "oci-log")]
        if log_size_max and log_size_max > 0:
            args += ["--log-size-max", str(int(log_size_max))]
        if log_tag:
            args += ["--log-tag", log_tag]
        if self.no_pivot:
            args.append("--no-pivot")
        if tty:
            args.append("-t")
        elif stdin:
            args.append("-i")
        if exit_command:
            args += ["--exit-command", exit_command]
            for a in exit_command_args:
                args += ["--exit-command-arg", a]
        return args

    def create(self, ctr_id: str, *, name: str, bundle: str, run_dir: str, log_path: str,
               exit_command: Optional[str] = None, exit_command_args: Sequence[str] = (), tty: bool = False,
               stdin: bool = False, log_size_max: Optional[int] = None, timeout: float = CREATE_TIMEOUT,
               conmon_setup: Optional[Callable[[int], None]] = None, log_driver: str = "k8s-file",
               log_tag: Optional[str] = None, runtime_args: Sequence[str] = ()) -> CreateResult:
        """Spawn conmon, which runs ``runtime create``; return the container and conmon pids.

        ``conmon_setup(pid)`` runs while conmon waits on its start pipe (the moment podman
        moves conmon into a cgroup). On failure nothing is left: the runtime container is
        deleted, conmon is gone, and the error carries the runtime's own message (from the
        oci-log JSON when there is one).
        """
        t0 = time.monotonic()
        if not os.path.isfile(os.path.join(bundle, "config.json")):
            raise OCIRuntimeError("creating container %s: no config.json in bundle %s" % (ctr_id, bundle),
                                  hint="write the OCI spec before creating the container")
        if not _is_executable_file(self.conmon_path):
            raise ConmonNotFound("creating container %s: conmon %s is not an executable file"
                                 % (ctr_id, self.conmon_path), hint="install conmon or set [engine] conmon_path")
        self._ensure_dirs()
        os.makedirs(run_dir, mode=0o700, exist_ok=True)
        os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
        pidfile = os.path.join(run_dir, "pidfile")
        conmon_pidfile = os.path.join(run_dir, "conmon.pid")
        oci_log = os.path.join(run_dir, "oci-log")
        for stale in (pidfile, conmon_pidfile, oci_log, self.exit_file(ctr_id), os.path.join(bundle, "oom")):
            _unlink(stale)

        argv = self.conmon_args(ctr_id, name=name, bundle=bundle, run_dir=run_dir, log_path=log_path,
                                exit_command=exit_command, exit_command_args=exit_command_args, tty=tty,
                                stdin=stdin, log_size_max=log_size_max, log_driver=log_driver, log_tag=log_tag,
                                runtime_args=runtime_args)
        env = dict(self.env)
        if self.private_mount_ns:
            env[HOST_MNTNS_ENV] = cgroups.mount_ns_id()
        # conmon's stderr goes to a file: a pipe could be held open by the daemonised conmon
        with tempfile.TemporaryFile(prefix="conmon-") as errf:
            return self._spawn_conmon(ctr_id, argv, env=env, bundle=bundle, errf=errf, conmon_pidfile=conmon_pidfile,
                                      oci_log=oci_log, conmon_setup=conmon_setup, t0=t0, timeout=timeout)

    def _spawn_conmon(self, ctr_id: str, argv: List[str], *, env: Dict[str, str], bundle: str, errf: BinaryIO,
                      conmon_pidfile: str, oci_log: str, conmon_setup: Optional[Callable[[int], None]],
                      t0: float, timeout: float) -> CreateResult:
        deadline = t0 + timeout
        sync_r, sync_w = os.pipe2(os.O_CLOEXEC)    # conmon -> us: {"data": pid}
        start_r, start_w = os.pipe2(os.O_CLOEXEC)  # us -> conmon: go
        env = dict(env, _OCI_SYNCPIPE=str(sync_w), _OCI_STARTPIPE=str(start_r))
        proc = None
        try:
            try:
                proc = subprocess.Popen(argv, env=env, pass_fds=(sync_w, start_r), cwd=bundle,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf,
                                        preexec_fn=self.preexec_fn)  # noqa: PLW1509 - no threads here
            except subprocess.SubprocessError as e:
                raise OCIRuntimeError("creating container %s: cannot start conmon in a private mount namespace: %s"
                                      % (ctr_id, e), hint="the engine needs CAP_SYS_ADMIN to run crun on a hybrid "
                                                          "cgroup host; use runc instead")
            except OSError as e:
                raise ConmonNotFound("creating container %s: cannot run conmon %s: %s" % (ctr_id, self.conmon_path, e))
            finally:
                os.close(sync_w)
                os.close(start_r)
            if conmon_setup is not None:
                conmon_setup(proc.pid)
            os.write(start_w, b"\0")
            os.close(start_w)
            start_w = -1
            # the process we started forks the real conmon, writes --conmon-pidfile, exits 0
            try:
                rc = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise OCIRuntimeError("creating container %s: conmon did not detach within %.0f s" % (ctr_id, timeout))
            if rc != 0:
                raise OCIRuntimeError("creating container %s: conmon failed (rc %d): %s"
                                      % (ctr_id, rc, _read_all(errf) or "no message"))
            line = _read_line(sync_r, deadline=deadline)
            if line is None:
                raise OCIRuntimeError("creating container %s: timed out after %.0f s waiting for %s create"
                                      % (ctr_id, timeout, self.name))
            if not line:
                msg = _oci_log_msg(oci_log) or _read_all(errf) or "conmon exited without reporting a pid"
                raise self._error("creating", ctr_id, msg)
            try:
                data = json.loads(line)
                pid = int(data["data"])
            except (ValueError, KeyError, TypeError):
                raise OCIRuntimeError("creating container %s: unexpected message from conmon: %r" % (ctr_id, line))
            if pid < 0:
                msg = _oci_log_msg(oci_log) or str(data.get("message") or "").strip() or _read_all(errf)
                raise self._error("creating", ctr_id, msg or "the runtime failed without a message")
            conmon_pid = read_int(conmon_pidfile)
            if conmon_pid is None:
                raise OCIRuntimeError("creating container %s: conmon wrote no pid to %s" % (ctr_id, conmon_pidfile))
            return CreateResult(pid, conmon_pid, time.monotonic() - t0)
        except BaseException:
            self._cleanup_failed_create(ctr_id, proc, bundle, conmon_pidfile)
            raise
        finally:
            os.close(sync_r)
            if start_w >= 0:
                os.close(start_w)

    def _cleanup_failed_create(self, ctr_id: str, proc: Optional[subprocess.Popen], bundle: str,
                               conmon_pidfile: str) -> None:
        """After a failed create: runtime delete --force, conmon gone, its files removed."""
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        conmon_pid = read_int(conmon_pidfile)
        if conmon_pid and pid_alive(conmon_pid) and is_conmon(conmon_pid, ctr_id):
            kill_wait(conmon_pid, 2.0)
        try:
            self.delete(ctr_id, force=True)
        except OCIRuntimeError as e:
            log.warning("cleaning up after a failed create of %s: %s", ctr_id, e)
        self.remove_cgroup(bundle)
        run_dir = os.path.dirname(conmon_pidfile)
        self.remove_conmon_files(ctr_id, bundle, run_dir)
        for name in ("pidfile", "conmon.pid"):
            _unlink(os.path.join(run_dir, name))

    # -- direct runtime calls -----------------------------------------------------------
    def start(self, ctr_id: str) -> None:
        """``runtime start``: the container's process execs its command."""
        res = self._run("starting", ctr_id, "start", ctr_id)
        if res.returncode != 0:
            raise self._error("starting", ctr_id, self._stderr(res))

    def kill(self, ctr_id: str, signal: int, all_procs: bool = False) -> None:
        """``runtime kill [--all] ID SIG``. CtrStateInvalid when the container is not running."""
        args = ["kill"] + (["--all"] if all_procs else []) + [ctr_id, str(int(signal))]
        res = self._run("killing", ctr_id, *args)
        if res.returncode == 0:
            return
        msg = self._stderr(res)
        st = self.state(ctr_id)
        if st is None or st.get("status") == "stopped":
            raise CtrStateInvalid("cannot send signal %d to container %s: it is not running (%s)"
                                  % (signal, ctr_id, msg))
        raise self._error("killing", ctr_id, msg)

    def delete(self, ctr_id: str, force: bool = True) -> None:
        """``runtime delete [--force]``; an unknown container is not an error."""
        res = self._run("deleting", ctr_id, *(["delete", "--force"] if force else ["delete"]), ctr_id)
        if res.returncode == 0:
            return
        msg = self._stderr(res)
        if self._unknown(ctr_id, msg):
            return
        raise self._error("deleting", ctr_id, msg)

    def state(self, ctr_id: str) -> Optional[dict]:
        """``runtime state`` JSON (status: creating/created/running/paused/stopped), None if unknown."""
        res = self._run("inspecting", ctr_id, "state", ctr_id)
        if res.returncode != 0:
            msg = self._stderr(res)
            if self._unknown(ctr_id, msg):
                return None
            raise self._error("inspecting", ctr_id, msg)
        try:
            return json.loads(res.stdout)
        except ValueError:
            raise OCIRuntimeError("inspecting container %s: %s state printed no JSON: %r"
                                  % (ctr_id, self.name, res.stdout[:200]))

    def update(self, ctr_id: str, resources: Mapping[str, Any]) -> None:
        """``runtime update --resources FILE``: change a live container's cgroup limits (podman update)."""
        import tempfile  # noqa: PLC0415

        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="resources-") as f:
            json.dump(dict(resources), f)
            f.flush()
            res = self._run("updating", ctr_id, "update", "--resources", f.name, ctr_id)
        if res.returncode != 0:
            raise self._error("updating", ctr_id, self._stderr(res))

    def pause(self, ctr_id: str) -> None:
        res = self._run("pausing", ctr_id, "pause", ctr_id)
        if res.returncode != 0:
            raise self._error("pausing", ctr_id, self._stderr(res))

    def resume(self, ctr_id: str) -> None:
        res = self._run("resuming", ctr_id, "resume", ctr_id)
        if res.returncode != 0:
            raise self._error("resuming", ctr_id, self._stderr(res))

    # -- exec ---------------------------------------------------------------------------
    def exec(self, ctr_id: str, process: Mapping[str, Any], *, run_dir: str, timeout: Optional[float] = None,
             detach: bool = False) -> ExecResult:
        """``runtime exec --process FILE ID``: run one process in the container (podman exec).

        The runtime joins the container's namespaces, cgroup and seccomp filter; ``process``
        carries the capabilities (see oci/execproc.py). Output is read through pipes until
        the runtime exits (a background child holding the pipes does not hang us). With
        ``detach`` the runtime returns once the process started (stdio on /dev/null).
        ``timeout`` (s): the process is killed and OCIRuntimeError raised. A command that
        cannot be run gives rc 126/127 as podman exec does.
        """
        os.makedirs(run_dir, mode=0o700, exist_ok=True)
        return run_exec(self, ctr_id, process, run_dir=run_dir, timeout=timeout, detach=detach)

    # -- exit files ---------------------------------------------------------------------
    def exit_file(self, ctr_id: str) -> str:
        return os.path.join(self.exit_dir, ctr_id)

    def read_exit(self, ctr_id: str) -> Optional[Tuple[int, float]]:
        """(exit code, ctime of the exit file = libpod's FinishedTime), None if not written yet."""
        return read_exit(self.exit_dir, ctr_id)

    def wait_exit(self, ctr_id: str, timeout: float) -> Optional[int]:
        """Wait for conmon's exit file; the exit code, or None after ``timeout`` seconds."""
        got = self.read_exit(ctr_id)
        if got is not None or timeout <= 0:
            return None if got is None else got[0]
        self._ensure_dirs()
        deadline = time.monotonic() + timeout
        fd = _inotify_dir(self.exit_dir)
        try:
            step = 0.005
            while True:
                got = self.read_exit(ctr_id)  # (again, after the watch exists: no lost wakeup)
                if got is not None:
                    return got[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if fd >= 0:
                    try:
                        ready, _unused, _unused = select.select([fd], [], [], left)
                    except InterruptedError:
                        continue
                    if ready:
                        try:
                            os.read(fd, 65536)
                        except BlockingIOError:
                            pass
                else:
                    time.sleep(min(step, left))
                    step = min(step * 2, 0.1)
        finally:
            if fd >= 0:
                os.close(fd)

    # -- stop ---------------------------------------------------------------------------
    def stop(self, ctr_id: str, pid: int, *, signal: int = 15, timeout: float = 10,
             all_procs: bool = False, on_kill: Optional[Callable[[], None]] = None) -> Optional[int]:
        """podman's StopContainer: ``signal``, wait ``timeout`` s, then SIGKILL (+5 s).

        Returns the exit code from the exit file (None if conmon wrote none within 5 s).
        ``on_kill`` is called when the process outlived ``timeout`` and gets SIGKILL.
        Raises OCIRuntimeError if the process survives SIGKILL.
        """
        if not pid:
            st = self.state(ctr_id)
            pid = int(st.get("pid") or 0) if st else 0
        if pid and pid_alive(pid):
            gone = False
            if timeout > 0:
                try:
                    self.kill(ctr_id, signal, all_procs)
                    gone = wait_pid_gone(pid, timeout)
                except CtrStateInvalid:
                    gone = True
                if not gone:
                    log.warning("StopSignal %d failed to stop container %s in %s seconds, resorting to SIGKILL",
                                signal, ctr_id, timeout)
                    if on_kill is not None:
                        on_kill()
            if not gone:
                try:
                    self.kill(ctr_id, _signal.SIGKILL, all_procs)
                except CtrStateInvalid:
                    pass
                if not wait_pid_gone(pid, KILL_TIMEOUT):
                    raise OCIRuntimeError("container %s (pid %d) did not die within %.0f s of SIGKILL"
                                          % (ctr_id, pid, KILL_TIMEOUT),
                                          hint="the process may be stuck in the kernel (D state)")
        return self.wait_exit(ctr_id, KILL_TIMEOUT)

    # -- files --------------------------------------------------------------------------
    def remove_conmon_files(self, ctr_id: str, bundle: str, run_dir: str) -> None:
        """removeConmonFiles: exit file, attach socket, ctl/winsz FIFOs, oom marker (missing is fine)."""
        _unlink(self.exit_file(ctr_id))
        for name in CONMON_BUNDLE_FILES:
            _unlink(os.path.join(bundle, name))
        _unlink(os.path.join(run_dir, "oci-log"))

    @staticmethod
    def remove_cgroup(bundle: str) -> bool:
        """rmdir the container's cgroup (linux.cgroupsPath of the bundle's config.json) in every
        hierarchy: a runtime whose create failed or was killed half-way can leave it behind, and
        its delete does not know the container then. True if there was one and it is gone (a
        cgroup that still holds processes stays)."""
        try:
            with open(os.path.join(bundle, "config.json"), "rb") as f:
                spec = json.loads(f.read(MAX_SPEC_BYTES))
            path = spec["linux"]["cgroupsPath"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if not isinstance(path, str) or not path.strip("/"):
            return False
        there = [m for m in cgroups.cgroup_mounts() if os.path.isdir(os.path.join(m, path.strip("/")))]
        return bool(there) and not cgroups.remove_cgroup(path)


#: config.json is ours (0600 in the bundle); larger is not one we wrote
MAX_SPEC_BYTES = 16 << 20


# --- small helpers --------------------------------------------------------------------------

def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        shutil.rmtree(path, ignore_errors=True)


def _read_all(f: BinaryIO) -> str:
    f.seek(0)
    text = f.read().decode("utf-8", "replace")
    # conmon warns about oom_score_adj on hosts without CAP_SYS_RESOURCE: noise, not the cause
    lines = [ln for ln in text.splitlines() if ln.strip() and "oom_score_adj" not in ln]
    return "\n".join(lines).strip()


def _read_line(fd: int, deadline: float) -> Optional[str]:
    """One line from the sync pipe: the text, "" on EOF, None on timeout.

    conmon keeps its end open, so never wait for EOF after the newline.
    """
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            ready, _unused, _unused = select.select([fd], [], [], left)
        except InterruptedError:
            continue
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            raise
        if not chunk:
            break
        buf += chunk
    return buf.decode("utf-8", "replace").strip()


def _oci_log_msg(path: str) -> str:
    """The last error ``msg`` of the runtime's JSON log (--log-format=json --log PATH)."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    best = ""
    for ln in lines:
        try:
            rec = json.loads(ln)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("msg") and rec.get("level") in ("error", "fatal", "panic", None):
            best = str(rec["msg"]).strip()
    return best
