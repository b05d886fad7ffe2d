# SPDX-License-Identifier: GPL-3.0-or-later
"""containers.podman parity, issue 23: the pod options that were still missing (network_alias, ip, ip6,
mac_address, no_hosts, hosts_file on the infra; pid, uts, share_parent, gpus), the pod states killed,
paused, unpaused, and the volume states mounted / unmounted.

One playbook, one engine root: per pod apply / re-apply unchanged / check mode of a change / change / re-apply,
the effective values read inside a member (address, MAC, /etc/hosts, host name, PID 1) and on the host (the
member's cgroup); the run states with their check mode and their idempotency; refusals naming the parameter.
"""
from __future__ import annotations

import ipaddress
import socket

from .helpers import probe_values

PROBE = ("echo mac=$(cat /sys/class/net/eth0/address) hostname=$(hostname) pid1=$(cat /proc/1/comm)"
         " base=$(grep -c basehost /etc/hosts 2>&1) hosts=$(cat /etc/hosts 2>&1 | tr '\\n' ' ')")


def _pod(name, step, opts, state="started", **kw):
    task = {"name": "%s %s" % (name, step), "register": "p",
            "libpod.engine.pod": dict({"timeout": 0}, **opts, name=name, state=state)}
    task.update(kw)
    return task


def _member(name):
    return {"name": name + " member", "libpod.engine.container": {
        "name": name + "-m", "image": "{{ img }}", "command": ["sleep", "1000"], "pod": name, "timeout": 0}}


def _probe(name, step):
    return [{"name": "%s probe %s" % (name, step),
             "libpod.engine.container_exec": {"name": name + "-m", "command": ["sh", "-c", PROBE]}},
            {"libpod.engine.container_info": {"name": ["{{ p.pod.InfraContainerId }}", name + "-m"]},
             "register": "i"},
            {"name": "%s infra %s" % (name, step), "ansible.builtin.debug": {"var": "i.containers[0]"}},
            {"name": "%s cgroup %s" % (name, step), "changed_when": False,
             "ansible.builtin.shell": "cat /proc/{{ i.containers[1].State.Pid }}/cgroup | grep -w memory"}]


def _siblings(name):
    """A second member: the pod's running members name each other in /etc/hosts (podman's one hosts file of
    the pod), at the infra's address; a stopped member's line goes."""
    def hosts(ctr, step):
        return {"name": "%s hosts %s" % (ctr, step),
                "libpod.engine.container_exec": {"name": ctr, "command": ["cat", "/etc/hosts"]}}
    second = dict(_member(name)["libpod.engine.container"], name=name + "-m2")
    return [{"libpod.engine.container": second}, hosts(name + "-m", "up"), hosts(name + "-m2", "up"),
            {"libpod.engine.container": dict(second, state="stopped")}, hosts(name + "-m", "down"),
            {"libpod.engine.container": {"name": name + "-m2", "state": "absent"}}]


def _member_hosts_refused(name):
    """A member's own add_host or hosts_file in a pod with no_hosts (its entries would go nowhere, its file
    unused): refused, in check mode too, before anything is created."""
    steps = []
    for suffix, own in (("hosts", {"add_host": ["db:10.0.0.1"]}), ("hf", {"hosts_file": "image"})):
        ctr = dict(_member(name)["libpod.engine.container"], name="%s-%s" % (name, suffix), **own)
        steps += [{"name": "%s %s refused check" % (name, suffix), "libpod.engine.container": ctr, "check_mode": True,
                   "ignore_errors": True},
                  {"name": "%s %s refused" % (name, suffix), "libpod.engine.container": ctr, "ignore_errors": True},
                  {"name": "%s %s refused info" % (name, suffix),
                   "libpod.engine.container_info": {"name": [ctr["name"]]}}]
    return steps


def _pod_hosts_refused(name, opts, hosts_file):
    """The other way round: a member with its own add_host (accepted: it joins the pod's /etc/hosts), then
    the pod changed to no_hosts, which would recreate the member into it without them: refused, nothing changes;
    the same for a member with its own hosts_file (accepted: it wins over the pod's)."""
    ctr = dict(_member(name)["libpod.engine.container"], name=name + "-hosts", add_host=["db:10.0.0.1"])
    own = dict(_member(name)["libpod.engine.container"], name=name + "-hf", hosts_file=hosts_file)
    nohosts = dict(opts, no_hosts=True)
    return [{"name": "%s hosts member" % name, "libpod.engine.container": ctr},
            _pod(name, "nohosts refused check", nohosts, check_mode=True, ignore_errors=True),
            _pod(name, "nohosts refused", nohosts, ignore_errors=True),
            _pod(name, "after nohosts refused", opts),
            {"libpod.engine.container": {"name": ctr["name"], "state": "absent", "timeout": 0}},
            {"name": "%s hf member" % name, "libpod.engine.container": own},
            _pod(name, "hf nohosts refused check", nohosts, check_mode=True, ignore_errors=True),
            _pod(name, "hf nohosts refused", nohosts, ignore_errors=True),
            _pod(name, "after hf nohosts refused", opts)]


def _pod_uts_refused(name):
    """A member with its own hostname in a pod that does not share UTS, then the pod changed to share it
    (the member's hostname would be the pod's): refused, in check mode too, the pod left as it is."""
    own, shared = {"share": "ipc,net"}, {"share": "ipc,net,uts"}
    ctr = dict(_member(name)["libpod.engine.container"], hostname="own", state="created")
    return [_pod(name, "apply", own, "created"), {"name": "%s member" % name, "libpod.engine.container": ctr},
            _pod(name, "uts refused check", shared, "created", check_mode=True, ignore_errors=True),
            _pod(name, "uts refused", shared, "created", ignore_errors=True),
            _pod(name, "after uts refused", own, "created")]


def _matrix(name, a, b, extra=()):
    return ([_pod(name, "apply", a), _member(name)] + _probe(name, "apply") + list(extra)
            + [_pod(name, "reapply", a), _pod(name, "check", b, check_mode=True, diff=True),
               _pod(name, "change", b, diff=True)] + _probe(name, "change") + [_pod(name, "rechange", b)])


def _states(name):
    """The run states of one started pod with a member, each with its check mode and a re-run."""
    steps = []
    wait = {"timeout": 10}  # killed: how long each container is waited for (0 would not wait)
    for state in ("paused", "unpaused", "paused", "started", "killed"):
        steps += [_pod(name, "%s check" % state, wait, state, check_mode=True),
                  _pod(name, state, wait, state), _pod(name, "%s again" % state, wait, state),
                  {"name": "%s info %s" % (name, state), "libpod.engine.pod_info": {"name": [name]}}]
    steps.append(_pod(name, "killed term", dict(wait, signal="TERM"), "killed"))
    return steps


def _volumes():
    """mounted / unmounted of a tmpfs (mount option) volume and of a plain local one: check mode, act, re-run."""
    tmpfs = {"name": "vt", "options": ["type=tmpfs", "device=tmpfs", "o=size=1m"]}
    grep = "grep -c ' {{ v.mount_point }} ' /proc/mounts || true"
    steps = [{"name": "vt mounted check", "libpod.engine.volume": dict(tmpfs, state="mounted"), "check_mode": True},
             {"name": "vt info check", "libpod.engine.volume_info": {"name": ["vt"]}}]
    for state in ("mounted", "unmounted"):
        if state == "unmounted":
            steps.append({"name": "vt unmounted check", "check_mode": True,
                          "libpod.engine.volume": {"name": "vt", "state": state}})
        steps += [{"name": "vt " + state, "libpod.engine.volume": dict(tmpfs, state=state), "register": "w"},
                  {"name": "vt %s again" % state, "libpod.engine.volume": dict(tmpfs, state=state)},
                  {"name": "vt mounts " + state, "ansible.builtin.shell": grep, "changed_when": False}]
        if state == "mounted":
            steps.insert(-2, {"ansible.builtin.set_fact": {"v": "{{ w }}"}})
    steps += [{"name": "vl mounted", "libpod.engine.volume": {"name": "vl", "state": "mounted"}},
              {"name": "vl mounted again", "libpod.engine.volume": {"name": "vl", "state": "mounted"}},
              {"name": "vl unmounted", "libpod.engine.volume": {"name": "vl", "state": "unmounted"}},
              {"name": "vmissing", "libpod.engine.volume": {"name": "vmissing", "state": "unmounted"},
               "ignore_errors": True}]
    return steps + [{"libpod.engine.volume": {"name": n, "state": "absent"}} for n in ("vt", "vl")]


REFUSED = [
    ({"pid": "host"}, "pid: host is the infra container's namespace"),
    ({"uts": "host", "hostname": "x"}, "hostname: the pod uses the host's UTS namespace"),
    ({"uts": "ns:/nonexistent/uts"}, "uts: /nonexistent/uts does not exist"),
    ({"pid": "container:x"}, "invalid pid"),
    ({"share_parent": False, "cpus": 1}, "cpus: the pod's limits live in the pod cgroup"),
    ({"no_hosts": True, "add_host": ["a:1.2.3.4"]}, "no_hosts: the pod's /etc/hosts is the image's"),
    ({"infra": False, "ip": "10.1.2.3"}, "belong to the pod's infra container"),
    ({"network": "host", "share": "net", "ip": "10.1.2.3"}, "ip need a bridge network"),
    ({"gpus": "all"}, "gpus: no CDI specs"),
    ({"state": "killed", "signal": "NOPE"}, "signal"),
]


def test_pod_and_volume_parity(playbook, busybox_archive, engine_env, tmp_path):
    subnet = ipaddress.IPv4Network(engine_env.paths["default_subnet"])
    ip_a, ip_b = str(subnet.network_address + 77), str(subnet.network_address + 78)
    (tmp_path / "hosts-a").write_text("10.9.9.9 basehost\n")
    hosts_a = str(tmp_path / "hosts-a")
    net_a = {"ip": ip_a, "mac_address": "92:d0:c6:0a:29:33", "network_alias": ["pn-alias"], "hosts_file": hosts_a,
             "add_host": ["extra:10.1.1.1"]}
    net_b = {"ip": ip_b, "mac_address": "92:d0:c6:0a:29:34", "network_aliases": ["pn-alias", "pn-two"]}
    ns_a = {"uts": "host", "pid": "host", "share": "ipc,net,uts,pid"}
    ns_b = {"share_parent": False, "no_hosts": True, "pid": "private"}
    tasks = _matrix("pn", net_a, net_b, _siblings("pn")) + _pod_hosts_refused("pn", net_b, hosts_a)
    tasks += _matrix("pu", ns_a, ns_b) + _member_hosts_refused("pu") + _pod_uts_refused("ph")
    tasks += [_pod("pk", "create", {}), _member("pk")] + _states("pk")
    for i, (opts, _msg) in enumerate(REFUSED):
        tasks.append({"name": "r%d" % i, "libpod.engine.pod": dict({"state": "created"}, **opts, name="pr-refused"),
                      "ignore_errors": True})
    tasks.append({"name": "refused info", "libpod.engine.pod_info": {"name": ["pr-refused"]}})
    tasks += _volumes()
    for name in ("pn", "pu", "ph", "pk", "pr-refused"):
        tasks.append({"libpod.engine.pod": {"name": name, "state": "absent", "force": True, "timeout": 0}})
    res = playbook(tasks, extra_vars={"img": "oci-archive:" + busybox_archive}, timeout=600)
    assert res.ok, res.log
    by = {t.name: t for t in res.tasks}

    for name in ("pn", "pu"):
        apply, reapply, check = by[name + " apply"], by[name + " reapply"], by[name + " check"]
        change, rechange = by[name + " change"], by[name + " rechange"]
        assert apply.changed and not reapply.changed, (name, reapply["actions"])
        assert check.changed and check["pod"]["Id"] == apply["pod"]["Id"], name
        assert change.changed and change["pod"]["Id"] != apply["pod"]["Id"], (name, change["actions"])
        assert change["actions"][0].startswith("recreated pod %s: " % name), change["actions"]
        assert not rechange.changed, (name, rechange["actions"])

    # network settings of the infra, seen by the member sharing its network
    assert sorted(by["pn check"]["diff"]["after"]) == ["add_host", "hosts_file", "ip", "mac_address",
                                                       "network_alias"], by["pn check"]["diff"]
    pa, pb = (probe_values(by["pn probe %s" % s]["stdout"]) for s in ("apply", "change"))
    assert (pa["mac"], pb["mac"]) == ("92:d0:c6:0a:29:33", "92:d0:c6:0a:29:34"), (pa, pb)
    assert pa["base"] == "1" and pb["base"] == "0", (pa, pb)  # hosts_file: the base of the member's /etc/hosts
    assert ip_a in pa["hosts"] and "extra" in pa["hosts"] and ip_b in pb["hosts"], (pa, pb)
    ia, ib = (list(by["pn infra %s" % s]["i.containers[0]"]["NetworkSettings"]["Networks"].values())[0]
              for s in ("apply", "change"))
    assert (ia["IPAddress"], ib["IPAddress"]) == (ip_a, ip_b), (ia, ib)
    assert "pn-alias" in ia["Aliases"] and {"pn-alias", "pn-two"} <= set(ib["Aliases"]), (ia, ib)
    up, up2, down = (by["pn%s hosts %s" % k]["stdout"] for k in (("-m", "up"), ("-m2", "up"), ("-m", "down")))
    assert "%s\tpn-m2" % ip_a in up and "%s\tpn-m" % ip_a in up2 and "pn-m2" not in down, (up, up2, down)
    infra_cfg = by["pn apply"]["pod"]["InfraConfig"]
    assert (infra_cfg["StaticIP"], infra_cfg["HostsFile"]) == (ip_a, hosts_a), infra_cfg

    # pid / uts host: the member sees the host's name and PID 1; share_parent false: no pod cgroup above it
    ua, ub = (probe_values(by["pu probe %s" % s]["stdout"]) for s in ("apply", "change"))
    with open("/proc/1/comm") as f:
        host_pid1 = f.read().strip()
    assert (ua["hostname"], ua["pid1"]) == (socket.gethostname(), host_pid1), ua
    assert ub["hostname"] == "pu" and ub["pid1"] == "sleep", ub
    assert "No such file" in ub["hosts"] and "basehost" not in ub["hosts"], ub  # no_hosts: the image's (none)
    ca, cb = (by["pu cgroup %s" % s]["stdout"] for s in ("apply", "change"))
    assert by["pu apply"]["pod"]["Id"] in ca and by["pu change"]["pod"]["Id"] not in cb, (ca, cb)
    assert by["pu change"]["pod"]["CgroupPath"] == "" and by["pu change"]["pod"]["ShareParent"] is False
    # a member's add_host / hosts_file where the pod has no_hosts: refused naming it and the fix, nothing created
    for suffix, key in (("hosts", "add_host"), ("hf", "hosts_file")):
        for step in ("pu %s refused check" % suffix, "pu %s refused" % suffix):
            assert by[step].failed and "%s: container pu-%s joins pod pu, which has no_hosts" % (key, suffix) \
                in by[step].msg, by[step].result
            assert "drop no_hosts from the pod" in by[step].msg, by[step].msg
        info = by["pu %s refused info" % suffix]
        assert info["missing"] == ["pu-" + suffix], info.result
    assert by["pn hosts member"].changed and by["pn hf member"].changed
    for suffix, key in (("", "add_host: container pn-hosts"), ("hf ", "hosts_file: container pn-hf")):
        for step in ("pn %snohosts refused check" % suffix, "pn %snohosts refused" % suffix):
            assert by[step].failed and "%s joins pod pn, which has no_hosts" % key in by[step].msg, by[step].result
        after = by["pn after %snohosts refused" % suffix]
        assert not after.changed and after["pod"]["Id"] == by["pn rechange"]["pod"]["Id"], after.result
    # a pod recreated to share UTS with a member that has its own hostname: refused, the pod unchanged
    for step in ("ph uts refused check", "ph uts refused"):
        assert by[step].failed and "hostname: container ph-m shares the UTS namespace of pod ph" in by[step].msg, \
            by[step].result
    after = by["ph after uts refused"]
    assert not after.changed and after["pod"]["Id"] == by["ph apply"]["pod"]["Id"], after.result

    # states: each acts once, its check mode reports without acting, a re-run is no change
    for state, status, pod_state in (("paused", "paused", "Paused"), ("unpaused", "running", "Running"),
                                     ("started", "running", "Running"), ("killed", "exited", "Exited")):
        first, again = by["pk %s" % state], by["pk %s again" % state]
        assert first.changed and not again.changed, (state, first["actions"], again["actions"])
        assert by["pk info %s" % state]["pods"][0]["State"] == pod_state, (state, by["pk info %s" % state]["pods"])
        assert {c["State"] for c in by["pk info %s" % state]["pods"][0]["Containers"]} <= {status, "stopped"}, state
    assert by["pk paused check"].changed and by["pk paused"]["actions"][-1].startswith("paused pod pk")
    assert by["pk started check"].changed and by["pk started"]["actions"][0].startswith("unpaused pod pk")
    assert by["pk killed check"].changed and "with SIGKILL" in by["pk killed"]["actions"][0]
    assert not by["pk killed term"].changed  # nothing runs: no signal to send
    for i, (opts, msg) in enumerate(REFUSED):
        assert by["r%d" % i].failed and msg in by["r%d" % i].msg, (opts, by["r%d" % i].msg)
    assert by["refused info"]["missing"] == ["pr-refused"]

    # volumes: mounted takes one reference (a re-run is no change), unmounted drops it; check mode acts on nothing
    assert by["vt mounted check"].changed and by["vt info check"]["missing"] == ["vt"]
    mounted, again = by["vt mounted"], by["vt mounted again"]
    assert mounted.changed and not again.changed, (mounted["actions"], again["actions"])
    assert mounted["mount_point"] == again["mount_point"] == mounted["volume"]["Mountpoint"], mounted.result
    assert mounted["volume"]["MountCount"] == 1 and by["vt mounts mounted"]["stdout"] == "1"
    assert by["vt unmounted check"].changed and by["vt unmounted"].changed and not by["vt unmounted again"].changed
    assert by["vt mounts unmounted"]["stdout"] == "0" and by["vt unmounted"]["volume"]["MountCount"] == 0
    assert by["vl mounted"].changed and not by["vl mounted again"].changed and by["vl unmounted"].changed
    assert by["vl mounted"]["mount_point"].endswith("/vl/_data"), by["vl mounted"].result
    assert by["vmissing"].failed and "no such volume vmissing" in by["vmissing"].msg, by["vmissing"].msg
