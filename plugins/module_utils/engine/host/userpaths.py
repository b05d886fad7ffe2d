# SPDX-License-Identifier: GPL-3.0-or-later
"""Rootless detection and the per-user engine paths (podman's rootless defaults, engine-named).

A module run by an unprivileged user (``become_user``, an SSH login) gets an engine root of its
own, as podman's does:

* static dir (DB, graph root, volumes): ``$XDG_DATA_HOME/libpod-engine`` (``~/.local/share/...``);
* tmp dir (locks, exit files, run root, pause.pid): ``$XDG_RUNTIME_DIR/libpod-engine``;
* user containers.conf: ``$XDG_CONFIG_HOME/libpod-engine/containers.conf`` (``~/.config/...``),
  read on top of the system files.

``XDG_RUNTIME_DIR`` is often unset under ``become`` (su/sudo start no login session). As podman's
GetRootlessRuntimeDir: ``/run/user/UID`` when it exists, is owned by the user and is mode 0700;
else a per-user dir below /tmp (``/tmp/libpod-engine-UID``, created 0700 and checked with
host/ownership.py's rule so that a name another user took first is refused), with a warning.

Rootless is also detected inside the engine's own user namespace (host/userns.py), where the
process is uid 0: /proc/self/uid_map then maps uid 0 onto the user's host uid.
"""
from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional

from .ownership import ensure_safe_dir

UID_MAP = "/proc/self/uid_map"
ENGINE_DIR_NAME = "libpod-engine"
#: the host-wide registry of roots as root (roots.py); a rootless user's lives in its runtime dir
ROOT_REGISTRY_DIR = "/run/libpod-engine"


def host_uid_of_ns_root(uid_map_text: str) -> Optional[int]:
    """The outside uid that uid 0 of the reading process's user namespace maps to, or None when the
    map is the initial namespace's identity map (``0 0 4294967295``) or maps no uid 0."""
    for line in uid_map_text.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        inside, outside, count = (int(p) for p in parts)
        if inside == 0:
            return None if (outside, count) == (0, 4294967295) else outside
    return None


def rootless_uid(euid: Optional[int] = None, uid_map: str = UID_MAP) -> Optional[int]:
    """The host uid of an unprivileged caller (None when the engine runs as real root).

    Non-zero euid: that uid. Euid 0 inside a user namespace whose uid 0 is a non-root host uid
    (the engine's own namespace, joined by host/userns.py): that host uid."""
    euid = os.geteuid() if euid is None else euid
    if euid != 0:
        return euid
    try:
        with open(uid_map, encoding="ascii") as f:
            outside = host_uid_of_ns_root(f.read())
    except OSError:
        return None
    return outside if outside else None


@dataclass
class UserDirs:
    """Where one rootless user's engine lives (see module doc)."""

    uid: int
    home: str
    data_home: str
    config_home: str
    runtime_dir: str
    warnings: List[str] = field(default_factory=list)

    @property
    def static_dir(self) -> str:
        return os.path.join(self.data_home, ENGINE_DIR_NAME)

    @property
    def tmp_dir(self) -> str:
        return os.path.join(self.runtime_dir, ENGINE_DIR_NAME)

    @property
    def registry_dir(self) -> str:
        """The roots registry of this user's roots (root's is /run/libpod-engine)."""
        return os.path.join(self.runtime_dir, ENGINE_DIR_NAME + "-roots")

    @property
    def config_file(self) -> str:
        return os.path.join(self.config_home, ENGINE_DIR_NAME, "containers.conf")

    @property
    def pause_pid_file(self) -> str:
        return os.path.join(self.tmp_dir, "pause.pid")

    def defaults(self) -> Dict[str, str]:
        """containers.conf [engine] defaults that differ from root's."""
        return {"static_dir": self.static_dir, "tmp_dir": self.tmp_dir,
                "volume_path": os.path.join(self.static_dir, "volumes")}


def _owned_private_dir(path: str, owner: int) -> bool:
    """podman's test for /run/user/UID: a directory of the user, mode 0700."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == owner and stat.S_IMODE(st.st_mode) == 0o700


def runtime_dir(uid: int, env: Mapping[str, str], warnings: List[str], *, run_user: str = "/run/user",
                tmp: str = "/tmp", self_uid: Optional[int] = None, create: bool = True) -> str:
    """$XDG_RUNTIME_DIR, else /run/user/UID (exists, the user's, 0700), else a checked dir below /tmp.

    ``self_uid``: how the user's files appear to this process (its euid: 0 inside its user namespace)."""
    given = env.get("XDG_RUNTIME_DIR", "")
    if given and os.path.isabs(given):
        return os.path.normpath(given)
    owner = os.geteuid() if self_uid is None else self_uid
    candidate = os.path.join(run_user, str(uid))
    if _owned_private_dir(candidate, owner):
        return candidate
    fallback = os.path.join(tmp, "%s-%d" % (ENGINE_DIR_NAME, uid))
    if create:
        ensure_safe_dir(fallback, "rootless runtime dir (XDG_RUNTIME_DIR unset)")
    warnings.append("XDG_RUNTIME_DIR is not set and %s is not a directory of uid %d (mode 0700): the rootless "
                    "engine keeps its run files in %s, which a reboot may not clear; run the task in a login "
                    "session (loginctl enable-linger) or set XDG_RUNTIME_DIR in the task's environment"
                    % (candidate, uid, fallback))
    return fallback


def _xdg(env: Mapping[str, str], key: str, home: str, default: str) -> str:
    value = env.get(key, "")
    return os.path.normpath(value) if value and os.path.isabs(value) else os.path.join(home, default)


def user_dirs(uid: int, env: Optional[Mapping[str, str]] = None, create: bool = True) -> UserDirs:
    """The rootless paths of ``uid`` from ``env`` (default os.environ); HOME falls back to passwd."""
    env = os.environ if env is None else env
    try:
        pw_home = pwd.getpwuid(uid).pw_dir
    except KeyError:
        pw_home = ""
    home = os.path.normpath(env.get("HOME", "") or pw_home or "/")
    warnings: List[str] = []
    run = runtime_dir(uid, env, warnings, create=create)
    return UserDirs(uid=uid, home=home, data_home=_xdg(env, "XDG_DATA_HOME", home, ".local/share"),
                    config_home=_xdg(env, "XDG_CONFIG_HOME", home, ".config"), runtime_dir=run,
                    warnings=warnings)


_CACHED: Dict[int, UserDirs] = {}


def current(env: Optional[Mapping[str, str]] = None) -> Optional[UserDirs]:
    """This process's rootless paths (None as root); cached per process for os.environ."""
    uid = rootless_uid()
    if uid is None:
        return None
    if env is not None and env is not os.environ:
        return user_dirs(uid, env)
    if uid not in _CACHED:
        dirs = user_dirs(uid)
        # as podman's SetXdgRuntimeDir: children (conmon, its exit command) see the same dir
        os.environ["XDG_RUNTIME_DIR"] = dirs.runtime_dir
        _CACHED[uid] = dirs
    return _CACHED[uid]


def registry_dir() -> str:
    """The roots registry folder for this process (root: /run/libpod-engine)."""
    dirs = current()
    return ROOT_REGISTRY_DIR if dirs is None else dirs.registry_dir
