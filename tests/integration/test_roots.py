# SPDX-License-Identifier: GPL-3.0-or-later
"""Several engine roots on one host (issue 13): they never share paths, bridges, subnets or host
ports, and resetting one leaves the others' containers answering and their volumes full."""
from __future__ import annotations

import os
import socket

from .helpers import cleanup_engine_env, engine_paths, free_port, http_get, make_engine_env, run_playbook


def _web(img: str, port: int, text: str, name: str = "web") -> dict:
    """httpd serving a page written into the named volume ``site``."""
    cmd = "echo %s > /srv/index.html && exec httpd -f -p 80 -h /srv" % text
    return {"name": name, "libpod.engine.container": {
        "name": name, "image": img, "command": ["sh", "-c", cmd], "volume": ["site:/srv"],
        "publish": ["127.0.0.1:%d:80" % port]}}


def _page(port: int) -> str:
    return http_get("http://127.0.0.1:%d/index.html" % port)


def _site_file(env) -> str:
    return os.path.join(env.paths["volume_path"], "site", "_data", "index.html")


def _other_root(tmp_path, name: str, base=None, **keep) -> dict:
    """Paths of another root: fresh ones, with ``keep`` values taken over (``None`` = default)."""
    paths = engine_paths(str(tmp_path / name))
    paths.update(keep)
    return paths


def _container_info(env, name="web") -> dict:
    res = run_playbook(env, [{"name": "info", "libpod.engine.container_info": {"name": [name]}}])
    assert res.ok, res.log
    return res.task("info")["containers"][0]


def _ip(info: dict) -> str:
    nets = info["NetworkSettings"]["Networks"]
    return next(iter(nets.values()))["IPAddress"]


def test_paths_of_another_root_are_refused_and_info_creates_nothing(tmp_path, engine_env, busybox_archive):
    """Defect 1: a root that changes only static_dir/tmp_dir, with graph_root and volume_path set in
    containers.conf, must neither be created by an info module nor reset the first root's data."""
    a = engine_env
    img = "oci-archive:" + busybox_archive
    port = free_port()
    res = run_playbook(a, [_web(img, port, "root-a")])
    assert res.ok, res.log
    assert _page(port) == "root-a\n"
    paths = dict(a.paths, static_dir=str(tmp_path / "b" / "static"), tmp_dir=a.paths["tmp_dir"] + "-b")
    b = make_engine_env(tmp_path / "b", paths)
    try:
        res = run_playbook(b, [{"name": "ctrs", "libpod.engine.container_info": {}},
                               {"name": "vols", "libpod.engine.volume_info": {}},
                               {"name": "info", "libpod.engine.container_info": {}, "check_mode": True}])
        assert res.ok, res.log
        assert res.task("ctrs")["containers"] == []
        # nothing at all was created for a root that does not exist
        assert not os.path.exists(paths["static_dir"]), os.listdir(paths["static_dir"])
        assert not os.path.exists(paths["tmp_dir"])
        res = run_playbook(b, [{"name": "reset", "libpod.engine.system_reset": {"confirm": True},
                                "ignore_errors": True}])
        reset = res.task("reset")
        assert reset.failed, res.log
        assert a.paths["static_dir"] in reset.msg and paths["static_dir"] in reset.msg, reset.msg
        res = run_playbook(b, [{"name": "open", "libpod.engine.volume": {"name": "x"}, "ignore_errors": True}])
        assert res.task("open").failed, res.log
        assert a.paths["static_dir"] in res.task("open").msg, res.task("open").msg
        # the first root lost nothing and its container still answers
        assert os.path.isfile(_site_file(a))
        assert _page(port) == "root-a\n"
        assert _container_info(a)["State"]["Status"] == "running"
    finally:
        cleanup_engine_env(b)


def test_explicit_bridge_or_subnet_of_another_root_is_refused(tmp_path, engine_env, busybox_archive):
    """Defect 2: the same bridge_prefix (or the same subnet) set explicitly for two roots is refused
    naming the other root and the setting to change; the first root's container keeps answering."""
    a = engine_env
    img = "oci-archive:" + busybox_archive
    port = free_port()
    res = run_playbook(a, [_web(img, port, "root-a")])
    assert res.ok, res.log
    same_bridge = _other_root(tmp_path, "b", bridge_prefix=a.paths["bridge_prefix"])
    same_subnet = _other_root(tmp_path, "c", default_subnet=a.paths["default_subnet"])
    envs = [make_engine_env(tmp_path / "b", same_bridge), make_engine_env(tmp_path / "c", same_subnet)]
    try:
        for env, setting in zip(envs, ("bridge_prefix", "default_subnet")):
            res = run_playbook(env, [dict(_web(img, free_port(), "other"), ignore_errors=True)])
            t = res.tasks[0]
            assert t.failed, res.log
            assert a.paths["static_dir"] in t.msg and setting in t.msg, t.msg
            assert _page(port) == "root-a\n"
    finally:
        for env in envs:
            cleanup_engine_env(env)
    assert _page(port) == "root-a\n"


def test_default_network_settings_get_a_free_bridge_and_subnet(tmp_path, busybox_archive):
    """Defect 2: two roots with only their paths changed (bridge_prefix and default_subnet left at
    their defaults) get different bridges and subnets, with a warning; removing one root's last
    container leaves the other root's bridge (and its published port) alone."""
    img = "oci-archive:" + busybox_archive
    envs = [make_engine_env(tmp_path / n, _other_root(tmp_path, n, bridge_prefix=None, default_subnet=None))
            for n in ("a", "b")]
    ports = [free_port(), free_port()]
    try:
        infos, warnings = [], []
        for env, port, text in zip(envs, ports, ("root-a", "root-b")):
            res = run_playbook(env, [_web(img, port, text)])
            assert res.ok, res.log
            assert _page(port) == text + "\n"
            infos.append(_container_info(env))
            warnings.append(" ".join(res.tasks[0].get("warnings") or []))
        nets = [next(iter(i["NetworkSettings"]["Networks"].values())) for i in infos]
        assert _ip(infos[0]) != _ip(infos[1])
        assert nets[0]["Gateway"] != nets[1]["Gateway"], nets
        # the second root was told that it moved off the first root's bridge and subnet
        assert "instead" in warnings[1] and "engine root" in warnings[1], warnings
        res = run_playbook(envs[1], [{"name": "rm", "libpod.engine.container": {"name": "web", "state": "absent"}}])
        assert res.ok, res.log
        assert _page(ports[0]) == "root-a\n"
    finally:
        for env in envs:
            cleanup_engine_env(env)


def test_published_port_is_reserved_host_wide(tmp_path, engine_env, busybox_archive):
    """Defect 3: a port one root publishes cannot be published by another root nor bound by another
    program while the container lives; it is released when the container stops."""
    a = engine_env
    img = "oci-archive:" + busybox_archive
    port = free_port()
    res = run_playbook(a, [_web(img, port, "root-a")])
    assert res.ok, res.log
    b = make_engine_env(tmp_path / "b")
    try:
        res = run_playbook(b, [dict(_web(img, port, "root-b", name="thief"), ignore_errors=True),
                               {"name": "info", "libpod.engine.container_info": {"name": ["thief"]}}])
        t = res.tasks[0]
        assert t.failed, res.log
        assert "web" in t.msg and a.paths["static_dir"] in t.msg, t.msg
        status = res.task("info")["containers"]
        assert not status or status[0]["State"]["Status"] != "running", status
        assert _page(port) == "root-a\n"
        with socket.socket() as s:   # another program cannot take it either
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                s.listen(1)
                raise AssertionError("port %d could be bound while published" % port)
            except OSError:
                pass
        res = run_playbook(a, [{"name": "stop", "libpod.engine.container": {"name": "web", "state": "stopped"}}])
        assert res.ok, res.log
        with socket.socket() as s:   # released on stop
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(1)
    finally:
        cleanup_engine_env(b)


def test_reset_of_one_of_three_roots_leaves_the_others_intact(tmp_path, busybox_archive):
    img = "oci-archive:" + busybox_archive
    envs = [make_engine_env(tmp_path / n) for n in ("a", "b", "c")]
    ports = [free_port() for _e in envs]
    try:
        for env, port, text in zip(envs, ports, ("root-a", "root-b", "root-c")):
            res = run_playbook(env, [_web(img, port, text)])
            assert res.ok, res.log
        res = run_playbook(envs[1], [{"name": "reset", "libpod.engine.system_reset": {"confirm": True}}])
        assert res.ok, res.log
        assert not os.path.exists(envs[1].paths["static_dir"])
        for i in (0, 2):
            assert _page(ports[i]) == ("root-a\n", "", "root-c\n")[i]
            assert os.path.isfile(_site_file(envs[i]))
            assert _container_info(envs[i])["State"]["Status"] == "running"
    finally:
        for env in envs:
            cleanup_engine_env(env)
