# SPDX-License-Identifier: GPL-3.0-or-later
"""Network modes pasta and slirp4netns on real containers: a published port served from the host
through the tool, the host's loopback reachable only when the mode maps it, the tool stopped with
the container and started again with it, mode changes recreate, nothing left after removal."""
from __future__ import annotations

import http.server
import os
import signal
import socket
import threading
import time

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argvs

from .helpers import free_port, http_get, run_playbook

HAVE_TOOLS = os.access("/usr/bin/pasta", os.X_OK) and os.access("/usr/bin/slirp4netns", os.X_OK)
pytestmark = pytest.mark.skipif(not HAVE_TOOLS, reason="needs pasta (passt) and slirp4netns")


def _tools(netns_dir: str) -> list:
    """pids of pasta / slirp4netns processes working on a netns of this engine root."""
    return [pid for pid, args in argvs() if any(a.startswith(netns_dir) for a in args)]  # a zombie's args: []


def _refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def _probes(env, wait: float = 15.0) -> dict:
    """name -> the probe's answer (reach-ok / reach-no) of both containers, from their logs."""
    deadline = time.time() + wait
    while True:
        info = run_playbook(env, "- libpod.engine.container_info: {name: [wpasta, wslirp], log_lines: 5}\n")
        out = {c["Name"]: next((ln["line"] for ln in c.get("logs", []) if "reach-" in ln["line"]), "")
               for c in info.tasks[0]["containers"]}
        if all(out.values()) or time.time() > deadline:
            return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102 - no output in the test log
        pass


def test_pasta_and_slirp4netns(engine_env, busybox_archive, tmp_path):
    netns_dir = os.path.join(engine_env.paths["tmp_dir"], "netns")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("served through the tool\n")
    (tmp_path / "host.html").write_text("host loopback\n")
    # a service on the host's loopback only: reachable from a container only through the tool's mapping
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                          lambda *a: _Quiet(*a, directory=str(tmp_path)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    host_port = srv.server_address[1]
    p_pasta, p_slirp = free_port(), free_port()
    img = "oci-archive:" + busybox_archive

    def web(name, network, port, gateway):
        # (busybox wget of this image crashes on some hosts: nc speaks the HTTP request instead; the
        # timeout: through Debian 12's pasta --map-gw, nc did not see the server's close)
        probe = ("printf 'GET /host.html HTTP/1.0\\r\\n\\r\\n' | timeout 4 nc -w 3 %s %d | grep -q 'host loopback' "
                 "&& echo reach-ok || echo reach-no; exec httpd -f -p 80 -h /srv" % (gateway, host_port))
        return {"name": name, "image": img, "network": network, "command": ["sh", "-c", probe],
                "volume": ["%s:/srv:ro" % site], "publish": ["127.0.0.1:%d:80" % port], "stop_signal": "KILL"}

    # pasta copies the host's addresses: the gateway is the host's default gateway
    with open("/proc/net/route") as f:
        gw = next(ln.split()[2] for ln in f.read().splitlines()[1:] if ln.split()[1] == "00000000")
    gw = socket.inet_ntoa(bytes.fromhex(gw)[::-1])
    pasta = web("wpasta", "pasta", p_pasta, gw)
    slirp = web("wslirp", "slirp4netns:mtu=1500", p_slirp, "10.0.2.2")
    tasks = [{"name": "pasta", "libpod.engine.container": pasta},
             {"name": "slirp", "libpod.engine.container": slirp},
             {"name": "pasta again", "libpod.engine.container": pasta},
             {"name": "slirp again", "libpod.engine.container": slirp}]
    try:
        res = run_playbook(engine_env, tasks)
        assert res.ok, res.log
        assert res.task("pasta").changed and res.task("slirp").changed
        assert not res.task("pasta again").changed and not res.task("slirp again").changed, res.log
        ctr = res.task("slirp")["container"]
        assert ctr["HostConfig"]["NetworkMode"] == "slirp4netns"
        assert ctr["NetworkSettings"]["IPAddress"] == "" and not ctr["NetworkSettings"]["Networks"]  # as podman 4
        assert ctr["NetworkSettings"]["SandboxKey"].startswith(netns_dir)
        assert ctr["NetworkSettings"]["Ports"]["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(p_slirp)}]
        assert res.task("pasta")["container"]["HostConfig"]["NetworkMode"] == "pasta"
        assert http_get("http://127.0.0.1:%d/index.html" % p_pasta, wait=30) == "served through the tool\n"
        assert http_get("http://127.0.0.1:%d/index.html" % p_slirp, wait=30) == "served through the tool\n"
        assert len(_tools(netns_dir)) == 2
        # podman's defaults: pasta --no-map-gw, slirp4netns --disable-host-loopback
        assert _probes(engine_env) == {"wpasta": "reach-no", "wslirp": "reach-no"}

        # stop: the tools go and the ports close; then the mode options change in check mode (with
        # diff): recreate announced, nothing touched
        pasta2 = dict(pasta, network="pasta:--map-gw")
        slirp2 = dict(slirp, network="slirp4netns:allow_host_loopback=true,mtu=1500")
        change = [{"name": "pasta", "libpod.engine.container": pasta2},
                  {"name": "slirp", "libpod.engine.container": slirp2}]
        res = run_playbook(engine_env, [{"libpod.engine.container": {"name": n, "state": "stopped"}}
                                        for n in ("wpasta", "wslirp")]
                           + [dict(t, check_mode=True, diff=True) for t in change])
        assert res.ok, res.log
        assert _tools(netns_dir) == []
        assert _refused(p_pasta) and _refused(p_slirp)
        assert res.task("pasta").changed and "recreate" in " ".join(res.task("pasta")["actions"])
        assert "network" in res.task("slirp")["diff"]["after"]
        assert _tools(netns_dir) == []
        # started again (same containers): served again; then recreated with the host's loopback
        # mapped; a re-run changes nothing
        served = [{"name": "get %d" % p,
                   "ansible.builtin.uri": {"url": "http://127.0.0.1:%d/index.html" % p, "return_content": True},
                   "register": "page", "until": "page.status == 200", "retries": 60, "delay": 0.5}
                  for p in (p_pasta, p_slirp)]
        res = run_playbook(engine_env, [{"name": "start pasta", "libpod.engine.container": pasta},
                                        {"name": "start slirp", "libpod.engine.container": slirp}] + served + change
                           + [{"name": "pasta again", "libpod.engine.container": pasta2},
                              {"name": "slirp again", "libpod.engine.container": slirp2}])
        assert res.ok, res.log
        assert res.task("start pasta")["actions"][0].startswith("started wpasta"), res.log
        assert res.task("get %d" % p_pasta)["content"] == "served through the tool\n"
        assert res.task("get %d" % p_slirp)["content"] == "served through the tool\n"
        assert not res.task("pasta again").changed and not res.task("slirp again").changed, res.log
        assert http_get("http://127.0.0.1:%d/index.html" % p_pasta, wait=30) == "served through the tool\n"
        assert http_get("http://127.0.0.1:%d/index.html" % p_slirp, wait=30) == "served through the tool\n"
        assert _probes(engine_env) == {"wpasta": "reach-ok", "wslirp": "reach-ok"}
        assert len(_tools(netns_dir)) == 2

        # kill -9 of conmon and the container: the next task cleans up (the old tool is stopped,
        # not leaked) and starts it again with a new tool
        state = res.task("pasta again")["container"]["State"]
        old_tools = set(_tools(netns_dir))
        for pid in (state["ConmonPid"], state["Pid"]):
            os.kill(pid, signal.SIGKILL)
        # and a publish change of the running slirp4netns container: in place (the tool restarts)
        p_new = free_port()
        slirp3 = dict(slirp2, publish=["127.0.0.1:%d:80" % p_new])
        get_new = dict(served[1], name="get new")
        get_new["ansible.builtin.uri"] = dict(get_new["ansible.builtin.uri"],
                                              url="http://127.0.0.1:%d/index.html" % p_new)
        res = run_playbook(engine_env, [{"name": "pasta", "libpod.engine.container": pasta2}, served[0],
                                        {"name": "publish", "libpod.engine.container": slirp3}, get_new])
        assert res.ok, res.log
        assert res.task("pasta").changed
        assert res.task("publish")["actions"] == ["updated wslirp in place: publish"], res.log
        assert res.task("get new")["content"] == "served through the tool\n"
        assert _refused(p_slirp)
        assert len(_tools(netns_dir)) == 2 and not old_tools & set(_tools(netns_dir))

        # remove: no tool, no port, no record left
        res = run_playbook(engine_env, [{"libpod.engine.container": {"name": n, "state": "absent"}}
                                        for n in ("wpasta", "wslirp")])
        assert res.ok, res.log
        assert _tools(netns_dir) == []
        assert _refused(p_pasta) and _refused(p_slirp) and _refused(p_new)
        assert not os.listdir(os.path.join(engine_env.paths["tmp_dir"], "usermode"))
    finally:
        srv.shutdown()
