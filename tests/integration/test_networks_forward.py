# SPDX-License-Identifier: GPL-3.0-or-later
"""A host whose FORWARD chain has policy drop (iptables-nft's ``table ip filter``) still forwards our
containers' traffic: the engine inserts accept rules tagged with its root and network, and removes
exactly those when the networks go away.

The "host" is a network namespace of this test (the real host's firewall is never touched): the
playbook runs inside it (its own sysfs view of /sys/class/net in a private mount namespace), in one
run with a block/always that removes everything again.
"""
from __future__ import annotations

import ipaddress
import os
import subprocess

from .helpers import run_playbook

HOST_CHAIN = """table ip filter {
    chain FORWARD {
        type filter hook forward priority 0; policy drop;
        counter comment "the host's own rule"
    }
}
"""
# a sysfs of the namespace on /sys (its /sys/class/net), with the host's cgroup tree kept under it
ENTER = ('mkdir -p "$0" && mount --rbind /sys/fs/cgroup "$0" && mount -t sysfs sysfs /sys '
         '&& mount --rbind "$0" /sys/fs/cgroup && exec "$@"')


def _forward_chain(ns: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "chain", "ip", "filter", "FORWARD"],
                          capture_output=True, text=True, check=True).stdout


def test_forward_policy_drop_gets_accept_rules(engine_env, busybox_archive, tmp_path):
    prefix = engine_env.paths["bridge_prefix"]
    ns = "%s-fw" % prefix
    base = ipaddress.IPv4Network(engine_env.paths["default_subnet"])
    sub_a = ipaddress.IPv4Network((int(base.network_address) + 70 * 256, 24))
    sub_b = ipaddress.IPv4Network((int(base.network_address) + 71 * 256, 24))
    srv_ip = str(sub_b.network_address + 10)
    img = "oci-archive:" + busybox_archive
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=HOST_CHAIN, text=True, check=True)
        get = "printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 3 %s 8080 | grep -q '200 OK' && echo served" % srv_ip
        wget = {"name": "fwcli", "command": ["sh", "-c", get]}
        # the first one also waits for httpd to listen
        wget_wait = {"name": "fwcli", "command": ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do %s && exit 0; "
                                                              "sleep 0.5; done; exit 1" % get]}
        ours = ("nft -a list chain ip filter FORWARD | sed -n 's/.*libpod-engine.*# handle //p' | "
                "while read h; do nft delete rule ip filter FORWARD handle $h; done")
        tasks = [{"name": "all", "block": [
            {"name": "net a", "libpod.engine.network": {"name": "fwa", "subnet": str(sub_a)}},
            {"name": "net b", "libpod.engine.network": {"name": "fwb", "subnet": str(sub_b)}},
            {"name": "srv", "libpod.engine.container": {
                "name": "fwsrv", "image": img, "network": [{"name": "fwb", "ip": srv_ip}],
                "command": ["httpd", "-f", "-p", "8080", "-h", "/etc"]}},
            {"name": "cli", "libpod.engine.container": {"name": "fwcli", "image": img, "network": ["fwa"],
                                                        "command": ["sleep", "1000"]}},
            {"name": "rules", "ansible.builtin.command": "nft list chain ip filter FORWARD"},
            {"name": "through", "libpod.engine.container_exec": wget_wait},
            {"name": "drop ours", "ansible.builtin.shell": ours},
            {"name": "dropped", "libpod.engine.container_exec": wget, "failed_when": False},
            {"name": "cli2", "libpod.engine.container": {"name": "fwcli2", "image": img, "network": ["fwa"],
                                                         "command": ["sleep", "1000"]}},
            {"name": "through again", "libpod.engine.container_exec": wget},
        ], "always": [
            {"name": "rm", "libpod.engine.container": {"name": "{{ item }}", "state": "absent"},
             "loop": ["fwcli", "fwcli2", "fwsrv"]},
            {"name": "rm nets", "libpod.engine.network": {"name": "{{ item }}", "state": "absent"},
             "loop": ["fwa", "fwb"]},
        ]}]
        cgroups = str(tmp_path / "cgroup")
        res = run_playbook(engine_env, tasks, prefix=["nsenter", "--net=/run/netns/" + ns, "unshare", "--mount",
                                                      "--propagation", "slave", "sh", "-c", ENTER, cgroups])
        assert res.ok, res.log
        assert "served" in res.task("through")["stdout"], res.task("through").result
        rules = res.task("rules")["stdout"]
        comment = "libpod-engine root="
        # three per network (fwa: the client's way out, fwb: the server's replies), all before the host's rule
        assert rules.count(comment) == 6 and "network=fwa" in rules and "network=fwb" in rules, rules
        assert rules.index("the host's own rule") > rules.rindex(comment), rules
        assert "ip saddr %s accept" % sub_a in rules and "ct state established,related accept" in rules, rules
        assert res.task("dropped")["rc"] != 0, res.task("dropped").result  # proof: the policy drops without them
        assert "served" in res.task("through again")["stdout"]
        after = _forward_chain(ns)
        assert comment not in after and "the host's own rule" in after and "policy drop" in after, after
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
        assert not os.path.exists("/run/netns/" + ns)
