# SPDX-License-Identifier: GPL-3.0-or-later
"""A device node's mode opened up for a test and put back, safe across concurrent test runs.

The rootless tests need /dev/net/tun and /dev/fuse usable by an unprivileged user (0666; this VM
keeps them 0600). Saving the mode at enter and restoring it at exit races when two runs overlap
(CI and a helper): B saves A's 0666 and, exiting last, leaves the device 0666. Here every run
takes one cross-process lock (flock on a file under /run) while it reads or changes the mode; the
FIRST holder records the original mode in a record file beside the lock, each holder adds its
process tag (pid.start-time, engine base.faults.owner_tag) to the record, and the LAST holder to
leave restores the recorded mode and deletes the record.

A run killed with SIGKILL leaves its tag in the record: tags of dead processes are dropped at the
next enter or exit, and the record's original mode is kept (never the current, opened-up mode),
so the next run ends at the true original; ``settle_stale`` (run at the end of every pytest
session) does the same when no run is left. /run is a tmpfs: a reboot resets both the device modes
and the records.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from typing import Iterator, List, Optional

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.faults import owner_tag, tag_alive
from ansible_collections.libpod.engine.plugins.module_utils.engine.host.files import remove_file, write_atomic

STATE_DIR = "/run/lpe-devmode"


class DeviceMode:
    """enter(): ``path`` gets ``mode`` (the original is recorded once); exit(): the last holder puts
    the original back. ``state_dir`` holds the lock and record (tests point it at a scratch dir)."""

    def __init__(self, path: str, mode: int, state_dir: str = STATE_DIR) -> None:
        self.path = path
        self.mode = mode
        key = os.path.realpath(path).strip("/").replace("/", "_")
        self.lock_path = os.path.join(state_dir, key + ".lock")
        self.record_path = os.path.join(state_dir, key + ".json")
        self.state_dir = state_dir

    @contextmanager
    def _locked(self) -> Iterator[None]:
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the flock

    def _read(self) -> Optional[dict]:
        try:
            with open(self.record_path, encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or not isinstance(record.get("mode"), int):
            return None
        holders = record.get("holders") if isinstance(record.get("holders"), list) else []
        record["holders"] = [t for t in holders if isinstance(t, str) and tag_alive(t)]  # drop killed runs
        return record

    def _write(self, original: int, holders: List[str]) -> None:
        doc = {"path": self.path, "mode": original, "holders": holders}
        write_atomic(self.record_path, json.dumps(doc), mode=0o600)

    def current(self) -> int:
        return os.stat(self.path).st_mode & 0o7777

    def enter(self) -> None:
        with self._locked():
            record = self._read()
            original = record["mode"] if record else self.current()
            holders = (record["holders"] if record else []) + [owner_tag()]
            self._write(original, holders)
            os.chmod(self.path, self.mode)

    def exit(self) -> None:
        with self._locked():
            record = self._read()
            if record is None:
                return  # nothing recorded: never entered (or the record was lost); leave the mode alone
            holders = list(record["holders"])
            tag = owner_tag()
            if tag in holders:
                holders.remove(tag)
            if holders:
                self._write(record["mode"], holders)
                return
            os.chmod(self.path, record["mode"])
            remove_file(self.record_path)

    def settle(self) -> bool:
        """Put the original mode back when every holder of the record is gone (killed runs)."""
        with self._locked():
            record = self._read()
            if record is None or record["holders"]:
                return False
            os.chmod(self.path, record["mode"])
            remove_file(self.record_path)
            return True


def settle_stale(state_dir: str = STATE_DIR) -> List[str]:
    """Every device whose record names only dead runs gets its original mode back; returns their paths."""
    try:
        names = sorted(n for n in os.listdir(state_dir) if n.endswith(".json"))
    except OSError:
        return []  # no run ever opened a device (or not root)
    done = []
    for name in names:
        try:
            with open(os.path.join(state_dir, name), encoding="utf-8") as f:
                path = json.load(f).get("path")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(path, str) and DeviceMode(path, 0, state_dir).settle():
            done.append(path)
    return done


@contextmanager
def device_mode(path: str, mode: int, state_dir: str = STATE_DIR) -> Iterator[None]:
    """``path`` at ``mode`` for the block; the original comes back when the last concurrent user leaves."""
    holder = DeviceMode(path, mode, state_dir)
    holder.enter()
    try:
        yield
    finally:
        holder.exit()
