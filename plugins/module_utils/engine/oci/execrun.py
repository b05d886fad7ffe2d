# SPDX-License-Identifier: GPL-3.0-or-later
"""Running one exec session: ``runtime exec --process FILE`` with its output read through pipes.

Why not conmon's exec mode: it would give the same namespaces/cgroup/seccomp (it runs the
same ``runtime exec``), but needs an attach socket and exit-file dance to return output;
the runtime alone, waited on here with a timeout, gives the same guarantees. crun runs in
the private mount namespace (the driver's preexec_fn), as for every other crun call.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from ..base.errors import OCIRuntimeError, OCIRuntimeNotFound
from ..host.proc import pid_alive, read_int


@dataclass
class ExecResult:
    """What one exec session gave: exit code (None when detached), output, the process id."""

    rc: Optional[int]
    stdout: bytes = b""
    stderr: bytes = b""
    pid: int = 0


#: podman's exit codes when the command cannot be run (define.ExecErrorCode*)
RC_CANNOT_INVOKE = 126
RC_NOT_FOUND = 127


def _log_errors(path: str) -> List[str]:
    """error-level messages of the runtime's JSON log."""
    out = []
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return out
    for ln in lines:
        try:
            rec = json.loads(ln)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("level") in ("error", "fatal", "panic") and rec.get("msg"):
            out.append(str(rec["msg"]).strip())
    return out


def _classify(msgs: List[str]) -> Optional[int]:
    """126/127 for "the command could not be started", None for other runtime failures."""
    low = " ".join(msgs).lower()
    if not low:
        return None
    if "not found" in low or "no such file" in low:
        return RC_NOT_FOUND
    if "permission denied" in low or "exec format error" in low or "is a directory" in low:
        return RC_CANNOT_INVOKE
    return None


def _read_until_exit(p: subprocess.Popen, deadline: Optional[float]) -> Dict[int, bytearray]:
    """stdout/stderr until the runtime exits (then what is buffered); raises TimeoutError."""
    bufs = {p.stdout.fileno(): bytearray(), p.stderr.fileno(): bytearray()}
    open_fds = list(bufs)
    while open_fds:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise TimeoutError
        if p.poll() is not None:
            break
        wait = 0.2 if left is None else min(0.2, left)
        try:
            ready, _unused, _unused = select.select(open_fds, [], [], wait)
        except InterruptedError:
            continue
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                bufs[fd] += chunk
            else:
                open_fds.remove(fd)
    if not open_fds:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            p.wait(timeout=left)
        except subprocess.TimeoutExpired:
            raise TimeoutError
    # the runtime exited: take what the process wrote, without waiting for background children
    for fd in open_fds:
        os.set_blocking(fd, False)
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            bufs[fd] += chunk
    return bufs


def run_exec(oci, ctr_id: str, process: Mapping[str, Any], *, run_dir: str, timeout: Optional[float],
             detach: bool) -> ExecResult:
    """See OCIRuntime.exec."""
    sid = uuid.uuid4().hex[:16]
    proc_file = os.path.join(run_dir, "exec-%s.json" % sid)
    pid_file = os.path.join(run_dir, "exec-%s.pid" % sid)
    log_file = os.path.join(run_dir, "exec-%s.log" % sid)
    fd = os.open(proc_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(dict(process), f)
    log_args = ["--log-format=json", "--log", log_file] if oci.supports_json else []
    cmd = oci._cmd(*log_args, "exec", "--process", proc_file, "--pid-file", pid_file,
                   *(["--detach"] if detach else []), ctr_id)
    out = subprocess.DEVNULL if detach else subprocess.PIPE
    deadline = None if not timeout else time.monotonic() + timeout
    try:
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=oci.env,
                                 preexec_fn=oci.preexec_fn)  # noqa: PLW1509 - no threads here
        except FileNotFoundError:
            raise OCIRuntimeNotFound("exec in container %s: OCI runtime %s not found" % (ctr_id, oci.path))
        except subprocess.SubprocessError as e:
            raise OCIRuntimeError("exec in container %s: cannot enter a private mount namespace for %s: %s"
                                  % (ctr_id, oci.name, e), hint="use runc, or give the engine CAP_SYS_ADMIN")
        try:
            if detach:
                try:
                    p.wait(timeout=None if deadline is None else max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise TimeoutError
                stdout, stderr = b"", b""
            else:
                bufs = _read_until_exit(p, deadline)
                stdout, stderr = bytes(bufs[p.stdout.fileno()]), bytes(bufs[p.stderr.fileno()])
        except TimeoutError:
            _kill_session(p, pid_file)
            raise OCIRuntimeError("exec in container %s: the command did not finish within %s s and was killed"
                                  % (ctr_id, timeout), hint="raise timeout, or run it with detach")
        finally:
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    stream.close()
        rc = p.returncode
        pid = read_int(pid_file) or 0
        errors = _log_errors(log_file) if rc != 0 else []
        # the runtime's own error (rc 1 or 255, or no process started) - not the command's exit code
        if errors and not (pid and not detach and rc not in (255, 1)):
            code = _classify(errors)
            if code is None:
                hint = None
                if "setns process" in errors[-1] and oci.name == "runc":
                    hint = ("if the container has a uidmap and bridge or container networking: runc 1.1 cannot "
                            "enter a user namespace that does not own the network namespace; use network: none or host")
                raise OCIRuntimeError("exec in container %s: %s: %s" % (ctr_id, oci.name, errors[-1]), hint=hint)
            if errors[-1].encode() not in stderr:
                stderr += ("%s: %s\n" % (oci.name, errors[-1])).encode()
            return ExecResult(code, stdout, stderr, pid)
        if detach:
            if rc != 0:
                raise OCIRuntimeError("exec in container %s: %s exec --detach failed (rc %d)" % (ctr_id, oci.name, rc))
            return ExecResult(None, b"", b"", pid)
        return ExecResult(rc, stdout, stderr, pid)
    finally:
        for path in (proc_file, pid_file, log_file):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def _kill_session(p: subprocess.Popen, pid_file: str) -> None:
    """SIGKILL the exec'd process (the runtime then exits with it), then the runtime itself."""
    pid = read_int(pid_file)
    if pid and pid_alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
