# SPDX-License-Identifier: GPL-3.0-or-later
"""User networks (libpod.engine.network / network_info) and containers on several of them.

One engine root, few playbook runs: two user networks and an internal one, a container on both
user networks (long form with an alias and a static IP), connect/disconnect in place keeping the
PID, a network recreated under running containers, removal refused while in use and forced, and
nothing of ours left on the host afterwards (links, nft chains).
"""
from __future__ import annotations

import ipaddress
import json
import os
import subprocess

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argvs

from .helpers import run_playbook


def _links(prefix: str) -> set:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout
    return {ln.split(":")[1].strip().split("@")[0] for ln in out.splitlines() if ": %s" % prefix in ln}


def _our_chains(prefix: str) -> list:
    out = subprocess.run(["nft", "list", "table", "ip", "libpod_engine"], capture_output=True, text=True,
                         check=False).stdout
    return [ln.split()[1] for ln in out.splitlines() if ln.strip().startswith("chain n_%s" % prefix)]


def _nets(task) -> dict:
    return task["container"]["NetworkSettings"]["Networks"]


def test_networks_end_to_end(engine_env, busybox_archive):
    prefix = engine_env.paths["bridge_prefix"]
    base = ipaddress.IPv4Network(engine_env.paths["default_subnet"])
    back_subnet = ipaddress.IPv4Network((int(base.network_address) + 40 * 256, 24))
    static = str(back_subnet.network_address + 77)
    img = "oci-archive:" + busybox_archive
    back = {"name": "back", "subnet": str(back_subnet), "gateway": str(back_subnet.network_address + 1),
            "ip_range": str(ipaddress.IPv4Network((int(back_subnet.network_address) + 128, 25))),
            "labels": {"tier": "db"}, "options": {"mtu": 1400}}
    c1_nets = ["front", {"name": "back", "aliases": ["db"], "ip": static}]
    c1 = {"name": "c1", "image": img, "state": "started", "cap_add": ["NET_RAW"], "network": c1_nets,
          "command": ["sleep", "1000"]}
    c2 = {"name": "c2", "image": img, "state": "started", "network": ["front"], "command": ["sleep", "1000"]}
    c4 = {"name": "c4", "image": img, "state": "started", "network": ["back"], "command": ["sleep", "1000"]}
    c3 = {"name": "c3", "image": img, "state": "started", "network": ["priv"], "command": ["sleep", "1000"]}
    res = run_playbook(engine_env, [
        {"name": "front", "libpod.engine.network": {"name": "front", "labels": {"app": "x"}}},
        {"name": "back", "libpod.engine.network": back},
        {"name": "priv", "libpod.engine.network": {"name": "priv", "internal": True}},
        {"name": "back again", "libpod.engine.network": back},
        {"name": "c1", "libpod.engine.container": c1},
        {"name": "c2", "libpod.engine.container": c2},
        {"name": "c3", "libpod.engine.container": c3},
        {"name": "c4", "libpod.engine.container": c4},
        # names and aliases through aardvark-dns, each network answering for its own members only
        {"name": "dns c1", "libpod.engine.container_exec": {"name": "c1", "command": [
            "sh", "-c", "ping -c1 -W2 c2 >/dev/null && ping -c1 -W2 %s >/dev/null && echo ping-ok; nslookup c4 %s; "
            "nslookup c2" % (back["gateway"], back["gateway"])]}},
        {"name": "dns c2", "libpod.engine.container_exec": {"name": "c2", "command": [
            "sh", "-c", "nslookup c1; nslookup db || echo db-not-on-front; cat /etc/resolv.conf"]}},
        {"name": "dns c4", "libpod.engine.container_exec": {
            "name": "c4", "command": ["sh", "-c", "nslookup db; cat /sys/class/net/eth0/mtu"]}},
        {"name": "c1 again", "libpod.engine.container": c1},
        {"name": "info", "libpod.engine.network_info": {"name": ["back", "nope"]}},
        {"name": "routes", "libpod.engine.container_exec": {"name": "c3", "command": "cat /proc/net/route"}},
    ])
    assert res.ok, res.log
    assert res.task("front").changed and res.task("back").changed and res.task("priv").changed
    assert not res.task("back again").changed
    assert not res.task("c1 again").changed
    info = res.task("info")
    assert info["missing"] == ["nope"]
    net = info["networks"][0]
    assert set(net) >= {"name", "id", "driver", "network_interface", "created", "subnets", "ipv6_enabled",
                        "internal", "dns_enabled", "labels", "options", "ipam_options"}
    assert net["subnets"][0]["subnet"] == str(back_subnet) and net["labels"] == {"tier": "db"}
    assert net["options"] == {"mtu": "1400"} and net["network_interface"].startswith(prefix)
    front_subnet = ipaddress.IPv4Network(res.task("front")["network"]["subnets"][0]["subnet"])
    assert not front_subnet.overlaps(base) and not front_subnet.overlaps(back_subnet)
    nets = _nets(res.task("c1"))
    assert set(nets) == {"front", "back"}
    assert nets["back"]["IPAddress"] == static and "db" in nets["back"]["Aliases"]
    assert ipaddress.IPv4Address(nets["front"]["IPAddress"]) in front_subnet
    # internal: no default route (destination 00000000) inside the container
    routes = res.task("routes")["stdout"].splitlines()[1:]
    assert routes and not any(ln.split()[1] == "00000000" for ln in routes), routes
    pid = res.task("c1")["container"]["State"]["Pid"]
    c2_front = _nets(res.task("c2"))["front"]["IPAddress"]
    c4_back = _nets(res.task("c4"))["back"]["IPAddress"]
    out = res.task("dns c1")["stdout"]
    assert "ping-ok" in out and c4_back in out and c2_front in out, out
    out = res.task("dns c2")["stdout"]
    front_gw = res.task("front")["network"]["subnets"][0]["gateway"]
    assert nets["front"]["IPAddress"] in out and static not in out and "db-not-on-front" in out, out
    assert "nameserver %s" % front_gw in out and "search dns.podman" in out, out
    assert static in res.task("dns c4")["stdout"] and "1400" in res.task("dns c4")["stdout_lines"], res.task("dns c4")
    aardvark = os.path.join(engine_env.paths["tmp_dir"], "aardvark")
    with open(os.path.join(aardvark, "back")) as fh:
        back_lines = fh.read().splitlines()
    assert back_lines[0] == back["gateway"]
    assert "%s %s  c1,db" % (res.task("c1")["container"]["Id"], static) in back_lines, back_lines

    # in place: leave back, join it again; the network is recreated under running containers
    c1_front_only = dict(c1, network=["front"])
    res = run_playbook(engine_env, [
        {"name": "leave", "libpod.engine.container": c1_front_only},
        {"name": "join", "libpod.engine.container": c1},
        {"name": "relabel", "libpod.engine.network": dict(back, labels={"tier": "data"})},
        {"name": "c1 after", "libpod.engine.container_info": {"name": ["c1"]}},
        {"name": "in use", "libpod.engine.network": {"name": "back", "state": "absent"}, "ignore_errors": True},
        {"name": "forced", "libpod.engine.network": {"name": "back", "state": "absent", "force": True}},
        {"name": "forced again", "libpod.engine.network": {"name": "back", "state": "absent", "force": True}},
    ])
    assert res.task("leave")["actions"] == ["updated c1 in place: network"], res.task("leave")["actions"]
    assert set(_nets(res.task("leave"))) == {"front"}
    assert res.task("join")["actions"] == ["updated c1 in place: network"]
    assert _nets(res.task("join"))["back"]["IPAddress"] == static
    assert res.task("join")["container"]["State"]["Pid"] == pid
    assert res.task("relabel")["actions"] == ["recreated network back: labels changed",
                                              "reconnected container(s) c1, c4 to network back"]
    after = res.task("c1 after")["containers"][0]
    assert after["State"]["Pid"] == pid and after["NetworkSettings"]["Networks"]["back"]["IPAddress"] == static
    assert res.task("in use").failed and "c1" in res.task("in use").msg
    assert res.task("forced")["actions"] == ["disconnected container(s) c1, c4 from network back",
                                             "removed network back"]
    assert not res.task("forced again").changed
    assert res.ok or res.task("in use").failed, res.log

    # a static IP is kept across a recreate; then everything goes
    res = run_playbook(engine_env, [
        {"name": "back", "libpod.engine.network": back},
        {"name": "c1 env", "libpod.engine.container": dict(c1, env={"X": "1"})},
        {"name": "rm", "libpod.engine.container": {"name": "{{ item }}", "state": "absent"},
         "loop": ["c1", "c2", "c3", "c4"]},
        {"name": "nets gone", "libpod.engine.network": {"name": "{{ item }}", "state": "absent"},
         "loop": ["front", "back", "priv"]},
        {"name": "none", "libpod.engine.network_info": {}},
    ])
    assert res.ok, res.log
    assert res.task("c1 env")["actions"][0].startswith("recreated c1")
    assert _nets(res.task("c1 env"))["back"]["IPAddress"] == static
    assert res.task("none")["networks"] == []
    assert _links(prefix) == set()
    assert _our_chains(prefix) == []
    assert not os.path.isdir(aardvark) or os.listdir(aardvark) == []
    with open(os.path.join(engine_env.paths["tmp_dir"], "events", "events.log")) as fh:
        events = [json.loads(ln) for ln in fh if '"network"' in ln]
    seen = {(e["Status"], e["Name"]) for e in events if e["Type"] == "network"}
    assert {("create", "back"), ("connect", "back"), ("disconnect", "back"), ("remove", "back")} <= seen, seen
    assert not [pid for pid, args in argvs() if aardvark in " ".join(args)]
