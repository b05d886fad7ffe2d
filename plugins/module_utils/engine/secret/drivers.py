# SPDX-License-Identifier: GPL-3.0-or-later
"""Where secret data lives: podman's two drivers, ``file`` and ``shell``.

* file: one JSON map ``{id: base64(data)}`` in ``<secrets>/filedriver/secretsdata.json``
  (podman's layout: the directory 0700, the file 0600, both root's). Every write replaces the
  file atomically.
* shell: four user commands run by ``/bin/sh -c`` with ``SECRET_ID`` in the environment, as
  podman's shell driver: ``store`` reads the data on stdin, ``lookup`` prints it, ``delete``
  forgets it, ``list`` prints the IDs it holds (one a line).
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
from typing import Dict, List, Mapping, Optional

from ..base.errors import InvalidArg, NoSuchSecret, SecretDriverError
from ..host.files import write_atomic

DRIVERS = ("file", "shell")
SHELL_COMMANDS = ("list", "lookup", "store", "delete")
#: how long one shell driver command may run
SHELL_TIMEOUT = 60.0


def private_dir(path: str) -> str:
    """Create ``path`` (and parents) and make it root-only (0700), whatever umask or a previous mode."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


class FileDriver:
    """podman's file driver: all data in one 0600 JSON file."""

    name = "file"

    def __init__(self, root: str):
        self.dir = os.path.join(root, "filedriver")
        self.path = os.path.join(self.dir, "secretsdata.json")

    def _load(self) -> Dict[str, str]:
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SecretDriverError("secret file driver: cannot read %s: %s" % (self.path, exc),
                                    hint="restore the file from a backup, or remove it and create the secrets again")

    def _save(self, data: Mapping[str, str]) -> None:
        private_dir(self.dir)
        try:
            write_atomic(self.path, json.dumps(data, sort_keys=True), mode=0o600, fsync=True)
        except OSError as exc:
            raise SecretDriverError("secret file driver: cannot write %s: %s" % (self.path, exc.strerror or exc))

    def store(self, sid: str, data: bytes) -> None:
        all_ = self._load()
        all_[sid] = base64.b64encode(data).decode("ascii")
        self._save(all_)

    def lookup(self, sid: str) -> bytes:
        value = self._load().get(sid)
        if value is None:
            raise NoSuchSecret("secret %s: no data in the file driver's store %s" % (sid[:12], self.path),
                               hint="set the secret again with libpod.engine.secret")
        return base64.b64decode(value)

    def delete(self, sid: str) -> None:
        all_ = self._load()
        if all_.pop(sid, None) is not None:
            self._save(all_)

    def list(self) -> List[str]:
        return sorted(self._load())


def validate_shell_options(opts: Mapping[str, str]) -> Dict[str, str]:
    """driver_opts of the shell driver: lookup, store and delete are needed, list is optional."""
    unknown = sorted(set(opts) - set(SHELL_COMMANDS))
    if unknown:
        raise InvalidArg("secret parameter driver_opts: unknown key(s) %s for driver shell" % ", ".join(unknown),
                         hint="the shell driver takes %s" % ", ".join(SHELL_COMMANDS))
    missing = [k for k in ("lookup", "store", "delete") if not opts.get(k)]
    if missing:
        raise InvalidArg("secret parameter driver_opts: driver shell needs the command(s) %s" % ", ".join(missing),
                         hint="give driver_opts: {store: ..., lookup: ..., delete: ...} (and optionally list); "
                              "each runs by /bin/sh -c with SECRET_ID set")
    return {k: str(v) for k, v in opts.items()}


class ShellDriver:
    """podman's shell driver: the user's commands keep the data."""

    name = "shell"

    def __init__(self, opts: Mapping[str, str]):
        self.opts = validate_shell_options(opts)

    def _run(self, what: str, sid: str, stdin: Optional[bytes] = None) -> bytes:
        cmd = self.opts.get(what)
        if not cmd:
            raise SecretDriverError("secret shell driver: no %s command in driver_opts" % what)
        env = dict(os.environ, SECRET_ID=sid)
        try:
            proc = subprocess.run(["/bin/sh", "-c", cmd], input=stdin or b"", capture_output=True, env=env,
                                  timeout=SHELL_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SecretDriverError("secret shell driver: %s command failed: %s" % (what, exc))
        if proc.returncode != 0:
            # stderr only: stdout of lookup is the secret itself
            err = proc.stderr.decode("utf-8", "replace").strip()[-500:]
            raise SecretDriverError("secret shell driver: %s command exited with %d%s"
                                    % (what, proc.returncode, (": " + err) if err else ""),
                                    hint="check the %s command in driver_opts" % what)
        return proc.stdout

    def store(self, sid: str, data: bytes) -> None:
        self._run("store", sid, data)

    def lookup(self, sid: str) -> bytes:
        return self._run("lookup", sid)

    def delete(self, sid: str) -> None:
        self._run("delete", sid)

    def list(self) -> List[str]:
        return [line.strip() for line in self._run("list", "").decode().splitlines() if line.strip()]


def driver_for(name: str, opts: Mapping[str, str], root: str):
    if name == "file":
        if opts:
            raise InvalidArg("secret parameter driver_opts: driver file takes no options (got %s)"
                             % ", ".join(sorted(opts)), hint="remove driver_opts, or use driver: shell")
        return FileDriver(root)
    if name == "shell":
        return ShellDriver(opts)
    raise InvalidArg("secret parameter driver: unknown driver %r" % (name,), hint="use one of: %s" % ", ".join(DRIVERS))
