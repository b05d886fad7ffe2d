# SPDX-License-Identifier: GPL-3.0-or-later
"""containers.conf files as parsed by an earlier task, so that a warm task reads JSON, not TOML.

Loading the TOML parser and parsing one small file costs ~2 ms of every task on a host that has a
containers.conf (issue 20); the same file is parsed again by every task. Here a file's parsed tables
are kept in one JSON file in this user's engine run directory (root: /run/libpod-engine, a tmpfs,
so the cache does not outlive a reboot). An entry is used only while the file's device, inode, size,
mtime and ctime are all unchanged: any write to the file changes its ctime. The cache is read and
written only in a directory and as a file that this user owns and nobody else can write; anything
else (missing, foreign, unreadable, damaged) means "parse the file", never an error. A file whose
tables do not fit JSON (TOML dates) is parsed every time.
"""
from __future__ import annotations

import json
import os
import stat
from typing import Any, Dict, List, Optional

from ..host.files import write_atomic

CACHE_NAME = "config-parsed.json"
#: files kept: a host's own files plus those of test and bench roots (LIBPOD_ENGINE_CONF)
MAX_ENTRIES = 16


def file_key(st: os.stat_result) -> List[int]:
    """What must be unchanged for a cached parse of a file to stand."""
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _private(st: os.stat_result, kind: int) -> bool:
    return stat.S_IFMT(st.st_mode) == kind and st.st_uid == os.geteuid() and not st.st_mode & 0o022


class ParsedFiles:
    """The cache in ``folder``: ``get`` before parsing a file, ``put`` after, ``save`` once at the end."""

    def __init__(self, folder: str):
        self.folder = folder
        self.path = os.path.join(folder, CACHE_NAME)
        self._entries: Optional[Dict[str, Any]] = None
        self._dirty = False

    def _usable_dir(self) -> bool:
        try:
            return _private(os.lstat(self.folder), stat.S_IFDIR)
        except OSError:
            return False

    def _load(self) -> Dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            if self._usable_dir():
                try:
                    fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                except OSError:
                    return self._entries
                try:
                    if _private(os.fstat(fd), stat.S_IFREG):
                        with os.fdopen(fd, "rb", closefd=False) as f:
                            data = json.loads(f.read())
                        if isinstance(data, dict) and isinstance(data.get("files"), dict):
                            self._entries = data["files"]
                except (OSError, ValueError):
                    pass  # damaged: parse the files, and the next save replaces it
                finally:
                    os.close(fd)
        return self._entries

    def get(self, path: str, st: os.stat_result) -> Optional[Dict[str, Any]]:
        """The tables of ``path`` parsed while it had the stat ``st``, or None."""
        entry = self._load().get(path)
        if isinstance(entry, dict) and entry.get("key") == file_key(st) and isinstance(entry.get("data"), dict):
            return entry["data"]
        return None

    def put(self, path: str, st: os.stat_result, data: Dict[str, Any]) -> None:
        """Keep the tables of ``path`` (read while it had the stat ``st``), if they fit JSON."""
        try:
            json.dumps(data)
        except (TypeError, ValueError):
            return  # TOML dates: parsed every time
        entries = self._load()
        entries.pop(path, None)
        entries[path] = {"key": file_key(st), "data": data}
        while len(entries) > MAX_ENTRIES:
            entries.pop(next(iter(entries)))  # the oldest
        self._dirty = True

    def save(self) -> None:
        """Write what ``put`` added (nothing when nothing did, or when the directory is not ours)."""
        if not self._dirty or not self._usable_dir():
            return
        try:
            write_atomic(self.path, json.dumps({"files": self._entries}), mode=0o600)
        except OSError:
            pass  # a cache, nothing more
        self._dirty = False
