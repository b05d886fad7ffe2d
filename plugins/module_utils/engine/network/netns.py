# SPDX-License-Identifier: GPL-3.0-or-later
"""Removing a container's network namespace file: apart from the network manager so that the
cleanup of a ``network: none`` container (a netns with only ``lo``) needs neither the manager nor
its imports (~35 ms per removal)."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from ..host.files import remove_file
from ..host.libc import libc
from ..host.mounts import MNT_DETACH


def remove_netns(path: str) -> bool:
    """Unmount (lazily) and delete a netns file; True if something was there."""
    unmounted = libc().umount2(path.encode(), MNT_DETACH) == 0
    return remove_file(path) or unmounted


def lo_only(status: Optional[Mapping[str, Any]]) -> bool:
    """A network status of mode none as setup saved it: its own netns with ``lo`` only, no
    network, no published port and no pasta/slirp4netns process, so no address lease, port holder,
    tool or nft chain to undo."""
    return (isinstance(status, Mapping) and bool(status.get("netns")) and not status.get("joined")
            and status.get("networks") == {} and not status.get("ports") and not status.get("usermode"))
