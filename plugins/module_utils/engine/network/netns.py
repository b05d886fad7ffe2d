# SPDX-License-Identifier: GPL-3.0-or-later
"""A container's network namespace file: made and removed apart from the network manager, so that
a ``network: none`` container (a netns with only ``lo``) is started and cleaned up without the
manager and its imports (issue 20: ~8 ms of CPU per start, ~35 ms per removal)."""
from __future__ import annotations

import ctypes
import os
import socket
import threading
from typing import Any, Dict, List, Mapping, Optional

from ..base.errors import NetworkError
from ..host.files import remove_file
from ..host.libc import errno_error, libc
from ..host.mounts import CLONE_NEWNET, MNT_DETACH, MS_BIND, MS_REC, MS_SHARED, is_mount_point


def netns_dir(tmp_dir: str) -> str:
    """Where the root's netns files are bind-mounted (``<tmp_dir>/netns/<ctr id>``)."""
    return os.path.join(tmp_dir, "netns")


def is_nsfs(path: str) -> bool:
    """True if ``path`` is a bind mount of a namespace (same st_dev as /proc/self/ns/net)."""
    try:
        return os.stat(path).st_dev == os.stat("/proc/self/ns/net").st_dev
    except OSError:
        return False


def in_thread(fn, *args):
    """Run fn in a throwaway thread (its namespace changes die with it); re-raise its error."""
    box: List[Any] = []

    def run():
        try:
            box.append((True, fn(*args)))
        except BaseException as err:  # noqa: BLE001 - handed back to the caller
            box.append((False, err))

    t = threading.Thread(target=run, name="lpe-netns")
    t.start()
    t.join()
    ok, value = box[0]
    if not ok:
        raise value
    return value


def make_netns(path: str) -> socket.socket:
    """In a thread: new netns, a netlink socket inside it, bind-mounted at ``path``."""
    lib = libc()
    if lib.unshare(CLONE_NEWNET) != 0:
        raise errno_error("unshare(CLONE_NEWNET)")
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)  # NETLINK_ROUTE, bound to the new ns
    try:
        _loopback_up()
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444)
        os.close(fd)
        if lib.mount(b"/proc/thread-self/ns/net", path.encode(), b"none", MS_BIND, None) != 0:
            err = errno_error("bind mount of the new netns on %s" % path)
            os.unlink(path)
            raise err
        # IPv6 on (a dual-stack network needs it), no DAD/autoconf on the container's interfaces
        # (as netavark); ignore if the kernel has no IPv6
        for key, val in (("all/disable_ipv6", "0"), ("default/disable_ipv6", "0"), ("default/accept_dad", "0"),
                         ("default/autoconf", "0")):
            try:
                with open("/proc/sys/net/ipv6/conf/" + key, "w") as fh:
                    fh.write(val)
            except OSError:
                pass
    except BaseException:
        sock.close()
        raise
    return sock


def _loopback_up() -> None:
    """``ip link set lo up`` in the calling thread's netns with two ioctls (no netlink socket)."""
    import fcntl  # noqa: PLC0415
    import struct  # noqa: PLC0415

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, siocgifflags, req))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def share_netns_dir(path: str) -> None:
    """Make the netns dir a shared bind mount (once per boot), as podman does for /run/netns.

    A mount namespace created while a netns is mounted (runc before pivot_root, any
    ``unshare -m``) gets a copy of that mount; with shared propagation our unmount
    reaches the copy too, so the netns, its veth and its (released) address die.
    """
    os.makedirs(path, mode=0o755, exist_ok=True)
    d = path.encode()
    lib = libc()
    if not is_mount_point(path) and lib.mount(d, d, b"none", MS_BIND | MS_REC, None) != 0:
        raise NetworkError("cannot bind-mount %s onto itself: %s" % (path, os.strerror(ctypes.get_errno())))
    if lib.mount(b"none", d, None, MS_SHARED | MS_REC, None) != 0:
        raise NetworkError("cannot make %s a shared mount: %s" % (path, os.strerror(ctypes.get_errno())))


def setup_lo_only(tmp_dir: str, ctr_id: str) -> Optional[Dict[str, Any]]:
    """Network mode none for a container with nothing left of an earlier setup: its own netns with
    ``lo`` up, the status the manager's ``setup_none`` returns. None when a netns file of the
    container is already there (the manager's setup checks, repairs or redoes it)."""
    path = os.path.join(netns_dir(tmp_dir), ctr_id)
    if os.path.lexists(path):
        return None
    from . import portholder  # noqa: PLC0415 - at a start only: a removal imports this module too

    portholder.release(tmp_dir, ctr_id)  # as the manager: no ports, so no holder may stay
    share_netns_dir(netns_dir(tmp_dir))
    try:
        in_thread(make_netns, path).close()
    except (OSError, ValueError) as err:
        raise NetworkError("container %s: network setup failed: %s" % (ctr_id[:12], err),
                           hint="see the message; the partial setup was removed")
    return {"netns": path, "networks": {}, "ports": [], "hostname": "", "aliases": []}


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
