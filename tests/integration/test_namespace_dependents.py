# SPDX-License-Identifier: GPL-3.0-or-later
"""A container whose namespaces others join (network/pid: container:NAME), recreated or removed alone.

Before: recreating ``web`` left ``app`` running in the old, torn-down network namespace (no
interface but lo, no longer web's), and removing ``web`` alone left ``app`` joined to nothing.
podman refuses the removal ("has dependent containers which must be removed before it").
"""
from __future__ import annotations


def _ns(name: str, step: str) -> list:
    """Tasks reading the network namespace of ``name`` from inside it (registered as ns_<step>_<name>)."""
    return [{"name": "ns %s %s" % (step, name), "libpod.engine.container_exec": {
        "name": name, "command": ["ls", "-l", "/proc/self/ns/net"]}}]


def _ino(task) -> str:
    """net:[INODE] from ls -l's "... -> net:[INODE]"."""
    return task["stdout"].rsplit("->", 1)[1].strip()


def test_recreate_restarts_joiners_and_removal_is_refused(playbook, busybox_archive):
    img = "oci-archive:" + busybox_archive
    web = {"name": "web", "image": img, "command": ["sleep", "1000"], "env": {"V": "1"}}
    app = {"name": "app", "image": img, "command": ["sleep", "1000"],
           "network": "container:web", "pid": "container:web"}
    web2 = dict(web, env={"V": "2"})
    res = playbook([
        {"name": "web", "libpod.engine.container": web},
        {"name": "app", "libpod.engine.container": app},
        {"name": "info1", "libpod.engine.container_info": {"name": ["web", "app"]}},
        *_ns("web", 1), *_ns("app", 1),
        {"name": "web changed (check)", "libpod.engine.container": web2, "check_mode": True},
        {"name": "web changed", "libpod.engine.container": web2},
        {"name": "info2", "libpod.engine.container_info": {"name": ["web", "app"]}},
        *_ns("web", 2), *_ns("app", 2),
        {"name": "app unchanged", "libpod.engine.container": app},
        {"name": "remove web alone", "libpod.engine.container": {"name": "web", "state": "absent"},
         "ignore_errors": True},
        {"name": "remove web with its dependents", "libpod.engine.container": {
            "name": "web", "state": "absent", "delete_depend": True}},
    ], timeout=240)
    t = {x.name: x for x in res.tasks}
    assert not res.tasks[-1].failed, res.log
    w1, a1 = t["info1"]["containers"]
    assert _ino(t["ns 1 web"]) == _ino(t["ns 1 app"]), res.log
    why = "app: it joins the namespaces of web (network, pid), which is recreated"
    assert t["web changed (check)"]["actions"] == ["recreate web: env changed", "start web", "restart " + why]
    assert t["web changed"]["actions"] == ["recreated web: env changed", "started web", "restarted " + why]
    w2, a2 = t["info2"]["containers"]
    assert w2["Id"] != w1["Id"] and a2["Id"] == a1["Id"]
    assert a2["State"]["Running"] and a2["State"]["Pid"] != a1["State"]["Pid"]
    # the new web's namespace (inode numbers of freed namespaces are reused: no compare with the old one)
    assert _ino(t["ns 2 web"]) == _ino(t["ns 2 app"]), res.log
    assert not t["app unchanged"].changed
    refused = t["remove web alone"]
    assert refused.failed and "container web has dependent containers which must be removed before it: app" \
        in refused.msg and "delete_depend: true" in refused.msg, refused.result
    assert t["remove web with its dependents"]["actions"] == [
        "removed app (delete_depend: it depends on web)", "removed web"]
