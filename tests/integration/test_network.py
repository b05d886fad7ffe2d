# SPDX-License-Identifier: GPL-3.0-or-later
"""Container networking on real containers: bridge, /etc/hosts names, published ports, teardown."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time

from .helpers import free_port, http_get, poll_container, run_playbook


def _our_links(prefix: str) -> set:
    """Links named with this engine root's bridge prefix (bridges and veths)."""
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout
    return {ln.split(":")[1].strip().split("@")[0] for ln in out.splitlines() if ": %s" % prefix in ln}


def test_bridge_names_ports_and_clean_teardown(engine_env, busybox_archive, tmp_path):
    prefix = engine_env.paths["bridge_prefix"]
    assert _our_links(prefix) == set()
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("hello from the engine\n")
    port, port2 = free_port(), free_port()
    img = "oci-archive:" + busybox_archive
    web = {"name": "web", "image": img, "command": ["httpd", "-f", "-p", "80", "-h", "/srv"],
           "volume": ["%s:/srv:ro" % site], "publish": ["127.0.0.1:%d:80" % port]}
    # busybox ping opens a raw socket: NET_RAW is not among podman's default capabilities
    client = {"name": "client", "image": img, "state": "started", "cap_add": ["NET_RAW"],
              "command": ["sh", "-c", "wget -q -O - http://web/index.html; ping -c1 -W2 web >/dev/null && "
                          "echo ping-ok; exec sleep 1000"]}
    res = run_playbook(engine_env, [
        {"name": "web", "libpod.engine.container": web},
        {"name": "client", "libpod.engine.container": client},
    ])
    assert res.ok, res.log
    web_id, client_id = res.task("web")["container"]["Id"], res.task("client")["container"]["Id"]
    web_ip = res.task("web")["container"]["NetworkSettings"]["IPAddress"]
    client_ip = res.task("client")["container"]["NetworkSettings"]["IPAddress"]
    assert web_ip and client_ip and web_ip != client_ip
    # the host reads the page through the published loopback port
    assert http_get("http://127.0.0.1:%d/index.html" % port) == "hello from the engine\n"

    client = poll_container(lambda tasks: run_playbook(engine_env, tasks), "client",
                            "'ping-ok' in (c.logs | default([]) | map(attribute='line'))", seconds=10, delay=0.3,
                            log_lines=5)
    lines = [ln["line"] for ln in client.get("logs", [])]
    # by name (through /etc/hosts) and by IP
    assert "hello from the engine" in lines and "ping-ok" in lines, lines

    # web learnt about client when client started (in-place edit of its bind-mounted hosts file)
    with open("%s/storage/containers/%s/hosts" % (engine_env.paths["tmp_dir"],
                                                  res.task("web")["container"]["Id"])) as f:
        assert any(ln.startswith(client_ip) and "client" in ln for ln in f.read().splitlines())

    # publish changes in place: same process, new port serves, old one does not; re-run is a no-op
    pid = res.task("web")["container"]["State"]["Pid"]
    web2 = dict(web, publish=["127.0.0.1:%d:80" % port2])
    res = run_playbook(engine_env, [{"name": "change", "libpod.engine.container": web2, "diff": True},
                                    {"name": "again", "libpod.engine.container": web2}])
    assert res.ok, res.log
    change = res.task("change")
    assert change["actions"] == ["updated web in place: publish"], change["actions"]
    assert change["container"]["State"]["Pid"] == pid
    assert list(change["diff"]["after"]) == ["publish"]
    assert not res.task("again").changed
    assert http_get("http://127.0.0.1:%d/index.html" % port2) == "hello from the engine\n"
    try:
        http_get("http://127.0.0.1:%d/index.html" % port, timeout=1, wait=0)
        raise AssertionError("old port still published")
    except OSError:
        pass

    # a published port that is taken fails before anything starts
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    try:
        res = run_playbook(engine_env, [{"libpod.engine.container": {
            "name": "clash", "image": img, "command": ["sleep", "100"],
            "publish": ["127.0.0.1:%d:80" % taken]}, "ignore_errors": True}])
        task = res.tasks[0]
        assert task.failed and str(taken) in task.msg and "in use" in task.msg, task.msg
    finally:
        busy.close()

    # remove everything: no netns, link or nft rule of ours is left
    res = run_playbook(engine_env, [{"libpod.engine.container": {"name": n, "state": "absent", "timeout": 0}}
                                    for n in ("client", "web", "clash")])
    assert res.ok, res.log
    netns_dir = "%s/netns" % engine_env.paths["tmp_dir"]
    assert not os.path.isdir(netns_dir) or os.listdir(netns_dir) == []
    deadline = time.time() + 3  # the kernel deletes a veth shortly after its netns is gone
    while _our_links(prefix) and time.time() < deadline:
        time.sleep(0.1)
    assert _our_links(prefix) == set()
    rules = subprocess.run(["nft", "-j", "list", "ruleset"], capture_output=True, text=True, check=False).stdout
    ours = (prefix, web_id, client_id)  # the table is shared with other engine roots on this host
    chains = [o["chain"]["name"] for o in json.loads(rules)["nftables"] if "chain" in o
              and o["chain"]["table"] == "libpod_engine" and any(x in o["chain"]["name"] for x in ours)]
    assert chains == [], chains
