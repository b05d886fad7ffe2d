# SPDX-License-Identifier: GPL-3.0-or-later
"""Network row (issue 16): create a network, start a container on it, get a DNS answer for its
name, against the peer (containers.podman driving podman 4: netavark + aardvark-dns) in one run.

    /opt/libpod-engine/venv/bin/python bench/bench_network.py [--rounds 3]

Per round, interleaved, one ansible-playbook run per side with the same three tasks:
``network`` (a bridge network with DNS), ``container`` (busybox ``sleep`` on it), and an exec of
``nslookup NAME`` inside it answered by that network's aardvark-dns; then a second run removes
the container and the network (timed separately). Ansible's floor (3 x ping) runs in the same
round. Figures are the wall time of whole ansible-playbook runs; the report gives medians and
the ratios ours/peer. Figures only: nothing asserts on time.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List

from bench_peer import IMAGE, Peer, _play, _run, _versions, ensure_peer_venv, med
from common import BENCH, BenchRoot, busybox_archive, loadavg, playbook_bin

NET, CTR = "lpebenchnet", "lpebenchdns"


def _ours(archive: str, subnet: str) -> Dict[str, str]:
    up = """
- libpod.engine.network: {name: %(net)s, subnet: "%(subnet)s"}
- libpod.engine.container:
    name: %(ctr)s
    image: oci-archive:%(archive)s
    command: [sleep, "1000"]
    network: [%(net)s]
- libpod.engine.container_exec:
    name: %(ctr)s
    command: [sh, -c, "nslookup %(ctr)s"]
""" % {"net": NET, "ctr": CTR, "archive": archive, "subnet": subnet}
    down = """
- libpod.engine.container: {name: %(ctr)s, state: absent, timeout: 0}
- libpod.engine.network: {name: %(net)s, state: absent}
""" % {"net": NET, "ctr": CTR}
    return {"up": up, "down": down}


def _peer(subnet: str) -> Dict[str, str]:
    up = """
- containers.podman.podman_network: {name: %(net)s, subnet: "%(subnet)s"}
- containers.podman.podman_container:
    name: %(ctr)s
    image: %(image)s
    command: [sleep, "1000"]
    network: [%(net)s]
    state: started
- containers.podman.podman_container_exec:
    name: %(ctr)s
    command: sh -c "nslookup %(ctr)s"
""" % {"net": NET, "ctr": CTR, "image": IMAGE, "subnet": subnet}
    down = """
- containers.podman.podman_container: {name: %(ctr)s, state: absent, delete_time: 0}
- containers.podman.podman_network: {name: %(net)s, state: absent}
""" % {"net": NET, "ctr": CTR}
    return {"up": up, "down": down}


def run(rounds: int = 3) -> Dict[str, Any]:
    peer_exe = ensure_peer_venv()
    ours_exe = playbook_bin()
    b = BenchRoot("net")
    peer = None
    samples: Dict[str, List[float]] = {}
    notes: List[str] = []
    try:
        archive = busybox_archive(b.root)
        peer = Peer(b.root, archive)
        with open(peer.conf, "a", encoding="utf-8") as f:  # the peer's conf ends in [engine]
            # CONTAINERS_CONF replaces Debian's /usr/share/containers/containers.conf, which names
            # /usr/lib/podman (netavark, aardvark-dns) as the helper directory
            f.write('helper_binaries_dir = ["/usr/lib/podman"]\n[network]\nnetwork_backend = "netavark"\n')
        plays = os.path.join(b.root, "plays")
        os.makedirs(plays, exist_ok=True)
        files = {"floor": _play(os.path.join(plays, "floor.yml"), "- ansible.builtin.ping:\n  loop: [1, 2, 3]\n")}
        for side, tasks in (("ours", _ours(archive, "10.251.7.0/24")), ("peer", _peer("10.251.8.0/24"))):
            for key, text in tasks.items():
                files["%s-%s" % (side, key)] = _play(os.path.join(plays, "%s-%s.yml" % (side, key)), text)
        for r in range(rounds):
            print("round %d (load %s)" % (r + 1, loadavg()), flush=True)
            runs = [("floor", ours_exe, b.env(), b.root)]
            runs += [("ours-" + k, ours_exe, b.env(), b.root) for k in ("up", "down")]
            runs += [("peer-" + k, peer_exe, peer.env, peer.root) for k in ("up", "down")]
            for label, exe, env, cwd in runs:
                res = _run(exe, files[label], env, cwd)
                if res["rc"] != 0:
                    notes.append("%s failed rc=%s: %s" % (label, res["rc"], res["tail"]))
                    print("  %s FAILED rc=%s\n%s" % (label, res["rc"], res["tail"]), flush=True)
                    continue
                samples.setdefault(label, []).append(res["wall"])
                print("  %-10s %6.2f s  %s" % (label, res["wall"], res["recap"]), flush=True)
    finally:
        left = peer.cleanup() if peer else []
        left += b.cleanup()
    return {"rounds": rounds, "samples": samples, "notes": notes, "leftovers": left, "versions": _versions(peer_exe)}


def markdown(res: Dict[str, Any]) -> str:
    m = {k: med(v) for k, v in res["samples"].items()}
    lines = ["## Network row (issue 16): network + container on it + DNS answer, ours vs the peer", "",
             "Medians of %d rounds, whole ansible-playbook runs (start-up included); floor = 3 x ping." % res["rounds"],
             "", "| step | ours | peer | ours / peer |", "|---|---|---|---|"]
    for key, what in (("up", "create network, start container, nslookup"), ("down", "remove container and network")):
        o, p = m.get("ours-" + key), m.get("peer-" + key)
        ratio = "%.2f" % (o / p) if o and p else "n/a"
        lines.append("| %s | %s | %s | %s |" % (what, "%.2f s" % o if o else "failed", "%.2f s" % p if p else "failed",
                                                ratio))
    if m.get("floor"):
        lines += ["", "Floor (3 x ping): %.2f s." % m["floor"]]
    lines += ["", "Versions: %s." % json.dumps(res["versions"], sort_keys=True)]
    if res["notes"]:
        lines += ["", "Failures: %d (see the run's output)." % len(res["notes"])]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(BENCH, "out"))
    args = ap.parse_args(argv)
    res = run(args.rounds)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "network.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    text = markdown(res)
    with open(os.path.join(args.out, "network.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print(text)
    return 1 if res["notes"] or res["leftovers"] else 0


if __name__ == "__main__":
    sys.exit(main())
