# SPDX-License-Identifier: GPL-3.0-or-later
"""Bench (not a test): NetworkManager.setup + teardown per container, median of N.

Run as root from the repo:  /root/venv/bin/python bench/net_setup.py [N]

Loop mode (setup, teardown, setup, ...) overlaps each setup with the kernel's
asynchronous destruction of the previous netns and veth (both need the rtnl lock);
batch mode (N setups, then N teardowns) does not. Both are printed; on a loaded host
either can come out higher. Uses its own bridge (lpeb1), subnet
(10.213.254.0/24), nft table (lpe_bench) and a temp dir, and removes all of them at the
end. Target: within 2x of the 13 ms that raw pyroute2 needs for netns + veth + bridge +
address + route (substrate.md §4).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, ".build", "collections")
LINK = os.path.join(BUILD, "ansible_collections", "libpod", "engine")
if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    try:
        os.symlink(REPO, LINK)
    except FileExistsError:
        pass
sys.path.insert(0, BUILD)

from ansible_collections.libpod.engine.plugins.module_utils.engine.network import manager as network  # noqa: E402
from ansible_collections.libpod.engine.plugins.module_utils.engine.store.state import State  # noqa: E402

BRIDGE, SUBNET, TABLE, NET = "lpeb1", "10.213.254.0/24", "lpe_bench", "bench"


def ms(values):
    return "median %6.2f ms  min %6.2f  max %6.2f" % (statistics.median(values) * 1e3, min(values) * 1e3,
                                                      max(values) * 1e3)


def run(nm, n, publish):
    setup, teardown, total = [], [], []
    for i in range(n):
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        pub = [p % (20000 + i) if "%" in p else p for p in publish]
        t0 = time.perf_counter()
        nm.setup(cid, networks=[NET], publish=pub)
        t1 = time.perf_counter()
        nm.teardown(cid)
        t2 = time.perf_counter()
        setup.append(t1 - t0)
        teardown.append(t2 - t1)
        total.append(t2 - t0)
    return setup, teardown, total


def run_batch(nm, n):
    """n setups, then n teardowns: no async netns cleanup of a previous container in between."""
    ids = [uuid.uuid4().hex + uuid.uuid4().hex for _i in range(n)]
    setup, teardown = [], []
    try:
        for i, cid in enumerate(ids):
            t0 = time.perf_counter()
            nm.setup(cid, networks=[NET], publish=["127.0.0.1:%d:80" % (21000 + i)])
            setup.append(time.perf_counter() - t0)
    finally:
        for cid in ids:
            t0 = time.perf_counter()
            nm.teardown(cid)
            teardown.append(time.perf_counter() - t0)
    return setup, teardown


def main():
    if os.geteuid() != 0:
        sys.exit("run as root")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    if os.path.exists("/sys/class/net/" + BRIDGE):
        sys.exit("%s exists already; is another bench running?" % BRIDGE)
    tmp = tempfile.mkdtemp(prefix="lpe-bench-")
    state = State(os.path.join(tmp, "state.db"))
    state.tune()
    t = time.perf_counter()
    nm = network.NetworkManager(state, tmp_dir=tmp, bridge_prefix="lpeb", nft_table=TABLE, manage_ip_forward=False)
    nm.ensure_network(NET, subnet=SUBNET, bridge=BRIDGE)
    print("manager + network record: %.2f ms (pyroute2 not imported yet: %s)"
          % ((time.perf_counter() - t) * 1e3, "pyroute2" not in sys.modules))
    try:
        t = time.perf_counter()
        warm = uuid.uuid4().hex * 2  # first setup: pyroute2 import, bridge creation, libnftables load
        nm.setup(warm, networks=[NET], publish=[])
        nm.teardown(warm)
        print("first setup+teardown (cold: imports, bridge): %.1f ms" % ((time.perf_counter() - t) * 1e3))
        print("nft backend: %s" % nm.nft.using)
        for label, publish in (("no ports", []), ("1 port (127.0.0.1)", ["127.0.0.1:%d:80"]),
                               ("3 ports (0.0.0.0 + random)", ["%d:80", "8443", "53/udp"])):
            s, d, tot = run(nm, n, publish)
            print("%-28s N=%d" % (label, n))
            print("   setup            %s" % ms(s))
            print("   teardown         %s" % ms(d))
            print("   setup+teardown   %s" % ms(tot))
        time.sleep(0.5)
        s, d = run_batch(nm, n)
        print("%-28s N=%d" % ("batch: N setups, N teardowns", n))
        print("   setup            %s" % ms(s))
        print("   teardown         %s" % ms(d))
        print("   sum of medians   %6.2f ms" % ((statistics.median(s) + statistics.median(d)) * 1e3))
    finally:
        nm.remove_network(NET)
        nm.nft.run("add table ip %s\ndelete table ip %s\n" % (TABLE, TABLE), what="bench cleanup")
        nm.close()
        state.close()
        network.remove_netns_dir(os.path.join(tmp, "netns"))
        shutil.rmtree(tmp, ignore_errors=True)
    time.sleep(0.3)
    left = subprocess.run("ip -br link | grep -c '^lpeb' || true", shell=True, check=False,
                          capture_output=True, text=True)
    print("leftover lpeb* links after 0.3 s: %s" % left.stdout.strip())


if __name__ == "__main__":
    main()
