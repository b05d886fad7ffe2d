# SPDX-License-Identifier: GPL-3.0-or-later
"""conmon's exit file: the one reader (the driver's wait, and a container's sync).

Apart from the driver so that syncing a running container (every task on it) does not import
the driver and its exec/attach code (~3 ms of a no-op task, issue 20).
"""
from __future__ import annotations

import os
from typing import Optional, Tuple

from ..base.errors import OCIRuntimeError


def read_exit(exit_dir: str, ctr_id: str) -> Optional[Tuple[int, float]]:
    """(exit code, ctime of the exit file = libpod's FinishedTime), None if not written yet."""
    path = os.path.join(exit_dir, ctr_id)
    try:
        with open(path, "rb") as f:
            text = f.read().strip()
            ctime = os.fstat(f.fileno()).st_ctime
    except FileNotFoundError:
        return None
    if not text:
        return None  # conmon is still writing it
    try:
        return int(text), ctime
    except ValueError:
        raise OCIRuntimeError("container %s: exit file %s holds %r, not an exit code" % (ctr_id, path, text[:40]))
