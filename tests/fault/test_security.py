# SPDX-License-Identifier: GPL-3.0-or-later
"""Security defaults, checked from inside real containers (a probe script prints what it sees):
effective and bounding capabilities (podman's 11 by default), no_new_privileges (off by default,
on when containers.conf says so), seccomp filtering, masked /proc and /sys paths, read-only /sys
and /proc/sys, no host interfaces and no host mounts. And only what was asked changes it: cap_add
and cap_drop, privileged, network host.
"""
from __future__ import annotations

import os
import time

from .leaks import find_leaks
from .report import REPORT
from .scenario import containers, module_steps, run_module

PROBE = r"""
grep -E '^(CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t' | sed 's/:/=/'
echo "kcore=$(cat /proc/kcore 2>/dev/null | wc -c)"
echo "keys=$(cat /proc/keys 2>/dev/null | wc -c)"
echo "firmware=$(ls -A /sys/firmware 2>/dev/null | wc -l)"
if touch /sys/probe 2>/dev/null; then echo sys_writable=1; else echo sys_writable=0; fi
if (echo x > /proc/sys/kernel/domainname) 2>/dev/null; then echo procsys_writable=1; else echo procsys_writable=0; fi
echo "sys_mount=$(awk '$5 == "/sys" {print $6}' /proc/self/mountinfo | cut -d, -f1)"
echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ',')"
echo "mountpoints=$(awk '{print $5}' /proc/self/mountinfo | sort -u | tr '\n' ',')"
if [ -e /HOSTMARK ]; then echo hostroot=1; else echo hostroot=0; fi
echo done=1
"""

# capability numbers (linux/capability.h)
CAPS = {"CHOWN": 0, "DAC_OVERRIDE": 1, "FOWNER": 3, "FSETID": 4, "KILL": 5, "SETGID": 6, "SETUID": 7,
        "SETPCAP": 8, "NET_BIND_SERVICE": 10, "NET_ADMIN": 12, "NET_RAW": 13, "SYS_CHROOT": 18, "SETFCAP": 31}
DEFAULT = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP", "SETGID",
           "SETPCAP", "SETUID", "SYS_CHROOT"]
ALLOWED_MOUNTPOINTS = {"/", "/proc", "/dev", "/dev/pts", "/dev/mqueue", "/dev/shm", "/sys", "/etc/hosts",
                       "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv", "/data"}


def mask(names) -> int:
    return sum(1 << CAPS[n] for n in names)


def _probe(env, image, name, **params):
    spec = {"name": name, "image": image, "command": ["sh", "-c", PROBE], "state": "started"}
    spec.update(params)
    module_steps(env, [("container", spec)])
    deadline = time.time() + 30
    while containers(env)[name]["state"]["status"] not in ("exited", "stopped") and time.time() < deadline:
        time.sleep(0.1)
    res = run_module(env, "container_info", {"name": [name], "log_lines": 100})
    assert not res.failed, res
    out = {}
    for entry in res.result["containers"][0].get("logs") or []:
        key, _unused, value = entry["line"].partition("=")
        out[key.strip()] = value.strip()
    assert out.get("done") == "1", out
    return out


def _caps(out, key) -> int:
    return int(out[key], 16)


def test_security_defaults_from_inside(engine_env, image):
    host_mark = "/HOSTMARK"
    created_mark = not os.path.exists(host_mark)
    if created_mark:
        open(host_mark, "w").close()
    try:
        problems = []
        d = _probe(engine_env, image, "default")
        for key in ("CapEff", "CapPrm", "CapBnd"):
            if _caps(d, key) != mask(DEFAULT):
                problems.append("default %s %s, expected %x (podman's 11)" % (key, d[key], mask(DEFAULT)))
        expect = {"NoNewPrivs": "0", "Seccomp": "2", "kcore": "0", "keys": "0", "firmware": "0",
                  "sys_writable": "0", "procsys_writable": "0", "sys_mount": "ro", "hostroot": "0"}
        for key, want in expect.items():
            if d.get(key) != want:
                problems.append("default %s=%s, expected %s" % (key, d.get(key), want))
        if set(filter(None, d["ifaces"].split(","))) != {"lo", "eth0"}:
            problems.append("default container sees interfaces %s (lo, eth0 expected)" % d["ifaces"])
        extra = [m for m in filter(None, d["mountpoints"].split(","))
                 if m not in ALLOWED_MOUNTPOINTS and not m.startswith(("/proc/", "/sys/", "/dev/"))]
        if extra:
            problems.append("default container has host mounts %s" % extra)

        asked = _probe(engine_env, image, "asked", cap_add=["NET_ADMIN"], cap_drop=["CHOWN", "KILL"],
                       network="none")
        want = mask([c for c in DEFAULT if c not in ("CHOWN", "KILL")] + ["NET_ADMIN"])
        if _caps(asked, "CapEff") != want:
            problems.append("cap_add NET_ADMIN, cap_drop CHOWN,KILL: CapEff %s, expected %x" % (asked["CapEff"], want))
        if set(filter(None, asked["ifaces"].split(","))) != {"lo"}:
            problems.append("network none sees %s" % asked["ifaces"])

        priv = _probe(engine_env, image, "priv", privileged=True)
        if _caps(priv, "CapEff") & mask(["NET_ADMIN", "NET_RAW"]) != mask(["NET_ADMIN", "NET_RAW"]) or \
                priv.get("sys_mount") != "rw":
            problems.append("privileged: CapEff %s, /sys %s (all capabilities, rw expected)"
                            % (priv["CapEff"], priv.get("sys_mount")))

        hostnet = _probe(engine_env, image, "hostnet", network="host")
        host_ifaces = set(os.listdir("/sys/class/net"))
        if not set(filter(None, hostnet["ifaces"].split(","))) & (host_ifaces - {"lo"}):
            problems.append("network host sees %s, not the host's interfaces" % hostnet["ifaces"])

        with open(engine_env.conf, "a", encoding="utf-8") as f:
            f.write("\n[containers]\nno_new_privileges = true\n")
        nnp = _probe(engine_env, image, "nnp")
        if nnp.get("NoNewPrivs") != "1":
            problems.append("containers.conf no_new_privileges = true: NoNewPrivs=%s inside" % nnp.get("NoNewPrivs"))
    finally:
        if created_mark:
            os.unlink(host_mark)
    leaks = find_leaks(engine_env)
    REPORT.record("security defaults from inside a container", converged=not problems, leaked=len(leaks),
                  note="; ".join(problems + leaks))
    assert not problems and not leaks, problems + leaks
