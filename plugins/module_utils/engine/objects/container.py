# SPDX-License-Identifier: GPL-3.0-or-later
"""Containers and their lifecycle, after libpod's container_api.go / container_internal.go.

A container is a DB record with an immutable config (what was declared) and a
mutable state. Every operation takes the container's numbered lock, re-reads the
record, syncs it with conmon's exit file, acts, and saves the state in a DB
transaction. A failed start undoes what it did (runtime container, network,
mounts), so the next run sees a consistent container.
"""
from __future__ import annotations

import os
import shutil
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ..base import faults
from ..base.clock import rfc3339_nano
from ..base.errors import CtrStateInvalid, EngineError, InvalidArg, NetworkError, NoSuchContainer, wrap
from ..base.names import generate_name, new_id, validate_name
from ..base.netmodes import USERMODE_NETWORKS, status_ips
from ..base.status import (  # noqa: F401 - re-exported: callers know them as container states
    CONFIGURED,
    CREATED,
    EXITED,
    HEALTH_MONITOR_PID,
    PAUSED,
    REMOVING,
    RUNNING,
    STOPPED,
    STOPPING,
    display_status,
)
from ..host import cgroups
from ..host.files import write_atomic
from ..host.interpreter import missing_interpreter
from ..host.proc import exe_of, exited_or_settled, pid_alive
from ..oci.specvalues import effective_stop_signal, host_bounding_caps
from ..secret import usage as secret_usage
from ..store.state import Record
from .locked import LockedObject
from .restart import next_delay_ms, pod_restart_policy

#: _LAZY: the user namespace code (objects/userns.py and its parsers), the resource limits
#: (oci/resources.py) and the pod hooks (objects/podjoin.py) are imported by the functions that use
#: them (start, create, update, remove): syncing and inspecting a container, all a no-op task does,
#: needs none of them (issue 20).


def initial_state() -> Dict[str, Any]:
    return {"status": CONFIGURED, "pid": 0, "conmon_pid": 0, "exit_code": 0, "oom_killed": False,
            "started_at": "", "finished_at": "", "restart_count": 0, "stopped_by_user": False,
            "restart_policy_match": False, "mounted": False, "mountpoint": "", "netns": "",
            "network_status": None, "volumes_mounted": []}


def pending_exit(rt, ctr_id: str, oci_runtime: Optional[str], st: Mapping[str, Any]) -> Optional[Tuple[int, float]]:
    """The exit a sync folds into a container's state ``st``: conmon's exit file, or (-1, now) when
    conmon and the container are gone without one (killed, host crash); None when the state stands.
    Read without the lock by a stack's no-op check (reconcile/container_unchanged.py)."""
    status = st.get("status")
    if status not in (RUNNING, PAUSED, STOPPING, CREATED):
        return None
    got = rt.read_exit(ctr_id, oci_runtime)
    if got is not None:
        return got
    if status == CREATED or not st.get("conmon_pid") or pid_alive(st["conmon_pid"]):
        return None
    if st.get("pid") and pid_alive(st["pid"]):
        return None  # conmon died but the process lives: it is still running
    return -1, time.time()


class Container(LockedObject):
    """One container of an open Runtime (libpod's *Container)."""

    KIND = "container"

    # -- identity and paths -------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self.rec.state.get("status", CONFIGURED)

    @property
    def ctr_dir(self) -> str:
        return os.path.join(self.rt.graph_root, "containers", self.id)

    @property
    def bundle(self) -> str:
        return os.path.join(self.ctr_dir, "userdata")

    @property
    def run_dir(self) -> str:
        return os.path.join(self.rt.run_root, "containers", self.id)

    @property
    def log_path(self) -> str:
        """log_opt path, else ctr.log in the bundle (podman's userdata/ctr.log)."""
        return (self.config.get("log") or {}).get("path") or os.path.join(self.bundle, "ctr.log")

    def oci(self):
        return self.rt.oci(self.config["oci_runtime"])

    def _event(self, status: str, **kw: Any) -> None:
        self.rt.event("container", status, id=self.id, name=self.name, image=self.config.get("image", ""), **kw)

    # -- sync (libpod syncContainer / checkExitFile) -------------------------------------------
    def sync(self) -> None:
        """Fold conmon's exit file (or a vanished process) into the state. Lock held."""
        st = self.state
        got = pending_exit(self.rt, self.id, self.config["oci_runtime"], st)
        if got is None:
            return
        code, finished = got
        was_running = st["status"] in (RUNNING, PAUSED, STOPPING)
        self._check_exit_python()
        st.update(status=STOPPED, pid=0, conmon_pid=0, exit_code=code, finished_at=rfc3339_nano(finished),
                  oom_killed=os.path.exists(os.path.join(self.bundle, "oom")))
        policy = pod_restart_policy(self)
        if was_running and policy.get("name", "no") != "no" and not st.get("stopped_by_user"):
            st["restart_policy_match"] = True
        self.rt.state.record_exit_code(self.id, code)
        self.save()
        self._event("died", exit_code=code)

    def _check_exit_python(self) -> None:
        """The exit command never ran when its interpreter is gone (a removed venv): say why the
        container stayed down without cleanup or restart policy."""
        python = self.state.get("exit_python") or ""
        if not missing_interpreter(python):
            return
        msg = ("container %s exited but its exit command could not run: its Python %s is gone (removed venv?), "
               "so no cleanup or restart policy ran; starting it again binds the exit command to %s"
               % (self.name, python, self.rt.exit_python()))
        self.rt.warnings.append(msg)
        self._event("cleanup-failed", attributes={"error": msg})

    # -- start ----------------------------------------------------------------------------------
    def start(self, _starting: Optional[List[str]] = None) -> bool:
        """Start (init + start); False when it already ran. The containers it ``requires`` are
        started first (each before its own lock is taken: no lock is held while another is)."""
        self._start_requirements(_starting or [])
        with self.locked():
            self.sync()
            return self._start_locked()

    def _start_requirements(self, starting: List[str]) -> None:
        for ref in self.config.get("requires") or []:
            other = find_container(self.rt, ref)
            if other is None:
                raise NoSuchContainer("container %s requires %s, which does not exist" % (self.name, ref),
                                      hint="create %s first, or drop it from requires" % ref)
            if other.id in starting + [self.id]:
                raise InvalidArg("requires: %s and %s require each other" % (self.name, other.name),
                                 hint="remove the cycle from requires")
            other.start(starting + [self.id])

    def _start_locked(self) -> bool:
        status = self.status
        if status == RUNNING:
            return False
        if status in (PAUSED, REMOVING, STOPPING):
            raise CtrStateInvalid("container %s is %s and cannot be started" % (self.name, status),
                                  hint="stop it first" if status != REMOVING else None)
        if status in (CREATED, STOPPED):
            self._cleanup_locked()
        self._init_and_start()
        return True

    def _init_and_start(self) -> None:
        undo: List[Tuple[str, Callable[[], None]]] = []
        st = self.state
        from .podjoin import member_join  # noqa: PLC0415 - see _LAZY

        faults.begin(self.rt.state, "container", self.id, "start")
        try:
            self._pod = member_join(self)
            rootfs = self._mount_rootfs(undo)
            faults.point("container.start.after_rootfs")
            mounts = self._mount_volumes(rootfs, undo)
            faults.point("container.start.after_volumes")
            netns, net_status, hosts_ips = self._setup_network(undo)
            faults.point("container.start.after_network")
            self._write_etc_files(hosts_ips, net_status)
            secret_mounts, secret_env = self._prepare_secrets(undo)
            etc_overrides = self._write_user_files(rootfs, mounts)
            etc_mounts = [{"type": "bind", "source": src, "destination": dst,
                           "options": ["rprivate", "ro", "nosuid", "noexec", "nodev"]}
                          for dst, src in sorted(etc_overrides.items())]
            spec = self._generate_spec(rootfs, mounts + secret_mounts + etc_mounts, netns, secret_env,
                                       etc_overrides=etc_overrides)
            from ..oci.hooks import add_hooks  # noqa: PLC0415 - only at start
            from ..oci.spec import write_config_json  # noqa: PLC0415

            add_hooks(spec, self.rt.cfg.get("engine", "hooks_dir"),
                      has_bind_mounts=any(m.get("type") in ("bind", "volume") for m in self.config.get("mounts") or []))

            write_config_json(self.bundle, spec)
            oci = self.oci()
            oci.remove_conmon_files(self.id, self.bundle, self.run_dir)
            undo.append(("cgroup", lambda: oci.remove_cgroup(self.bundle)))  # after the runtime's delete
            exit_argv = self._exit_command()
            st["exit_python"] = exit_argv[0]
            log = self.config.get("log") or {}
            res = oci.create(self.id, name=self.name, bundle=self.bundle, run_dir=self.run_dir,
                             log_path=self.log_path, exit_command=exit_argv[0],
                             exit_command_args=exit_argv[1], tty=bool(self.config.get("tty")),
                             stdin=bool(self.config.get("interactive")), log_size_max=self._log_size_max(),
                             log_driver=log.get("driver") or "k8s-file",
                             # cgroups: disabled, as podman: only the create is told (crun)
                             runtime_args=["--cgroup-manager=disabled"] if not self.has_cgroup() and
                             self.config.get("cgroups") == "disabled" else (),
                             # conmon takes a tag for journald only
                             log_tag=log.get("tag") if log.get("driver") == "journald" else None)
            self._write_pid_files(res.pid, res.conmon_pid)
            self._init_exe = exe_of(res.pid)  # the runtime's, until the start execs the command
            faults.point("container.start.after_conmon_create")
            undo.append(("runtime container", lambda: oci.delete(self.id, force=True)))
            st.update(status=CREATED, pid=res.pid, conmon_pid=res.conmon_pid, exit_code=0, oom_killed=False,
                      stopped_by_user=False, finished_at="", netns=netns or "", network_status=net_status,
                      stop_killed="")
            self.save()
            self._event("init")
            oci.start(self.id)
            faults.point("container.start.after_runtime_start")
            st.update(status=RUNNING, started_at=rfc3339_nano(), started_ts=time.time(), restart_policy_match=False,
                      restarting=False, restart_token="")
            self.save()
            self._announce_to_peers(True)
            self._event("start")
            self._start_health_monitor()
            faults.end(self.rt.state, "container", self.id)
        except BaseException as exc:
            errors = []
            for what, fn in reversed(undo):
                try:
                    fn()
                except Exception as undo_exc:  # keep undoing, report at the end
                    errors.append("%s: %s" % (what, undo_exc))
            st.update(status=EXITED if st.get("finished_at") else CONFIGURED, pid=0, conmon_pid=0, mounted=False,
                      mountpoint="", netns="", network_status=None, volumes_mounted=[])
            try:
                self.save()
                if not errors and isinstance(exc, EngineError):
                    faults.end(self.rt.state, "container", self.id)  # undone cleanly: nothing to repair
            except EngineError:
                pass
            if isinstance(exc, EngineError):
                if errors:
                    exc.msg += " (cleanup after the failure also failed: %s)" % "; ".join(errors)
                raise wrap(exc, "starting container %s" % self.name)
            raise

    def _write_pid_files(self, pid: int, conmon_pid: int) -> None:
        """pid_file and conmon_pidfile: the container's and conmon's PIDs where the task asked."""
        for path, value in ((self.config.get("pid_file"), pid), (self.config.get("conmon_pidfile"), conmon_pid)):
            if path:
                try:
                    write_atomic(path, "%d" % value, mode=0o644)
                except OSError as exc:
                    raise EngineError("cannot write %s: %s" % (path, exc.strerror or exc),
                                      hint="pid_file and conmon_pidfile need a writable directory")

    def _mount_rootfs(self, undo: List) -> str:
        from .userns import rootfs_layers  # noqa: PLC0415 - see _LAZY

        if self.config.get("rootfs"):
            from .rootfsdir import mount_root  # noqa: PLC0415 - only containers run from a directory

            rootfs = mount_root(self.rt, self.config, self.id)
        else:
            image = self.rt.images.get(self.config["image_id"])
            rootfs = self.rt.storage.mount(self.id, rootfs_layers(self.rt, self.config, image))
        undo.append(("rootfs", lambda: self.rt.storage.unmount(self.id)))
        self.state.update(mounted=True, mountpoint=rootfs)
        return rootfs

    def _mount_volumes(self, rootfs: str, undo: List) -> List[Dict[str, Any]]:
        """Named volumes -> host paths (mounted, copied up on first use); others as declared."""
        from .userns import mapped_root_owner  # noqa: PLC0415 - see _LAZY

        out = []
        mounted: List[str] = []
        root_owner = mapped_root_owner(self.config) if self.config.get("uidmap") else None
        own = self.config.get("mounts", [])
        for m in self._pod.all_mounts(own) if getattr(self, "_pod", None) is not None else own:
            if m["type"] != "volume":
                out.append(m)
                continue
            vol = m["source"]
            path = self.rt.volumes.mount(vol)
            mounted.append(vol)
            undo.append(("volume %s" % vol, lambda v=vol: self.rt.volumes.unmount(v)))
            if "nocopy" not in m.get("options", []):
                self.rt.volumes.copy_up(vol, m["destination"], root=rootfs, empty_owner=root_owner)
            elif root_owner:  # podman: a new volume belongs to the container's (mapped) root
                self.rt.volumes.fix_ownership(vol, *root_owner)
            opts = [o for o in m.get("options", []) if o not in ("copy", "nocopy")]
            out.append({"type": "bind", "source": path, "destination": m["destination"], "options": opts})
        self.state["volumes_mounted"] = mounted
        return out

    def _setup_network(self, undo: List) -> Tuple[Optional[str], Optional[Dict[str, Any]], List[str]]:
        net = self.config.get("network") or {"mode": "bridge", "networks": []}
        mode = net.get("mode", "bridge")
        if mode in ("host", "container"):
            return None, None, []
        if mode == "pod" and getattr(self, "_pod", None) is not None:
            if self._pod.shares_net:
                return self._pod.network()
            net = self._pod.own_network(net)  # the pod does not share its network: the member's own
            mode = net["mode"]
        if mode == "none":
            from ..network.netns import remove_netns, setup_lo_only  # noqa: PLC0415 - not the manager (~8 ms)

            status = setup_lo_only(self.rt.tmp_dir, self.id)
            if status is not None:
                undo.append(("network", lambda: remove_netns(status["netns"])))
                return status["netns"], status, []
        mgr = self.rt.network
        if mode == "none":
            status = mgr.setup_none(self.id)
        elif mode in USERMODE_NETWORKS:
            status = mgr.setup_usermode(self.id, mode, net.get("options") or [], self.config.get("publish", []))
        else:
            networks = net.get("networks") or [self.rt.cfg.get("network", "default_network")]
            status = mgr.setup(self.id, networks=networks, publish=self.config.get("publish", []),
                               hostname=self._hostname(), aliases=[self.name], attach=net.get("attach"))
        undo.append(("network", lambda: mgr.teardown(self.id, status)))
        return status.get("netns"), status, status_ips(status)

    def _my_networks(self) -> Dict[str, str]:
        """network name -> IP of this container (from its live network status)."""
        ns = self.state.get("network_status") or {}
        return {name: n.get("ip") for name, n in (ns.get("networks") or {}).items() if n.get("ip")}

    def _network_peers(self) -> List[Tuple[str, str, List[str]]]:
        """(id, ip, names) of running containers on a bridge network this container joins.

        Names resolve through /etc/hosts (no DNS server here): each container lists its
        peers, and peers are told when it starts and stops.
        """
        net = self.config.get("network") or {}
        if net.get("mode", "bridge") != "bridge":
            return []
        mine = {n for n in net.get("networks") or [self.rt.cfg.get("network", "default_network")]
                if not self._dns_served(n)}
        if not mine:
            return []
        out = []
        for rec in self.rt.state.list("container"):
            if rec.id == self.id or rec.state.get("status") != RUNNING:
                continue
            nets = (rec.state.get("network_status") or {}).get("networks") or {}
            for name in sorted(mine & set(nets)):
                if nets[name].get("ip"):
                    out.append((rec.id, nets[name]["ip"], [rec.name]))
                    break
        return out

    def _dns_served(self, name: str) -> bool:
        """Whether names on the network resolve through aardvark-dns (else through /etc/hosts peers,
        with a warning when the network has DNS enabled but aardvark-dns is not installed)."""
        if not self.rt.has_networking():
            return False
        mgr = self.rt.network
        if mgr.serves_dns(name):
            return True
        net = mgr.find(name)
        if net is not None and net.dns_enabled:
            msg = "aardvark-dns is not installed: names on network %s resolve through /etc/hosts only" % name
            if msg not in self.rt.warnings:
                self.rt.warnings.append(msg)
        return False

    def _release_idle_networks(self) -> None:
        """After removal: a bridge network no remaining container is configured for loses its
        bridge and rules (nothing of ours stays on the host once the last container is gone)."""
        net = self.config.get("network") or {}
        if net.get("mode", "bridge") != "bridge" or not self.rt.has_networking():
            return
        wanted = set()
        for rec in self.rt.state.list("container"):
            other = rec.config.get("network") or {}
            if other.get("mode", "bridge") == "bridge":
                wanted.update(other.get("networks") or [self.rt.cfg.get("network", "default_network")])
        for name in net.get("networks") or [self.rt.cfg.get("network", "default_network")]:
            if name not in wanted:
                self.rt.network.release_idle(name)

    def _announce_to_peers(self, up: bool) -> None:
        """Add (up) or drop this container's line in its running peers' /etc/hosts."""
        joined = (self.state.get("network_status") or {}).get("joined")
        if joined and self.config.get("pod"):
            self._announce_to_pod(joined, up)
            return
        mine = self._my_networks()
        if not mine:
            return
        self.rt.network.dns_sync(sorted(mine), lambda: self.rt.state.list("container"))
        for peer_id, _peer_ip, _names in self._network_peers():
            peer = self.rt.state.find("container", peer_id)
            if peer is None:
                continue
            peer_nets = (peer.state.get("network_status") or {}).get("networks") or {}
            ip = next((mine[n] for n in sorted(mine) if n in peer_nets), None)
            if ip is None:
                continue
            hosts = os.path.join(self.rt.run_root, "containers", peer_id, "hosts")
            from ..oci import etcfiles  # noqa: PLC0415 - /etc files only when a container starts or stops

            etcfiles.hosts_set_peer(hosts, self.id, ip if up else None, [self.name],
                                    warn=lambda m, who=peer.name: self.rt.warnings.append(
                                        "/etc/hosts of container %s: %s" % (who, m)))

    def _announce_to_pod(self, infra_id: str, up: bool) -> None:
        """A member sharing its pod's network: its line (at the infra's address) in the /etc/hosts of the
        pod's other running members, as podman's one hosts file of the pod lists every container of it."""
        infra = self.rt.state.find("container", infra_id)
        ips = status_ips(infra.state.get("network_status") or {}) if infra is not None else []
        if not ips:
            return
        ip = ips[0]
        from ..oci import etcfiles  # noqa: PLC0415 - /etc files only when a container starts or stops
        from .podjoin import pod_siblings  # noqa: PLC0415 - see _LAZY

        for sib_id, _ip, _names in pod_siblings(self.rt, self.config["pod"], infra_id, self.id, ip):
            etcfiles.hosts_set_peer(os.path.join(self.rt.run_root, "containers", sib_id, "hosts"), self.id,
                                    ip if up else None, [self.name],
                                    warn=lambda m: self.rt.warnings.append("/etc/hosts of pod %s: %s"
                                                                           % (self.config["pod"][:12], m)))

    def _log_size_max(self) -> Optional[int]:
        """The container's log max_size, else [containers] log_size_max (-1: no limit), as podman."""
        own = (self.config.get("log") or {}).get("max_size")
        return own if own is not None else self.rt.cfg.get("containers", "log_size_max")

    def _dns_defaults(self, cfg: Dict[str, Any]) -> Dict[str, List[str]]:
        """dns, dns_search, dns_option of the container, else [containers] dns_servers, dns_searches,
        dns_options (podman's defaults for containers that set none)."""
        conf = self.rt.cfg
        return {key: list(cfg.get(key) or conf.get("containers", conf_key) or [])
                for key, conf_key in (("dns", "dns_servers"), ("dns_search", "dns_searches"),
                                      ("dns_option", "dns_options"))}

    def _hostname(self) -> str:
        return self.config.get("hostname") or self.id[:12]

    def _write_etc_files(self, ips: List[str], net_status: Optional[Dict[str, Any]] = None) -> None:
        from ..oci import etcfiles  # noqa: PLC0415 - /etc files only when a container starts (not on a no-op)

        os.makedirs(self.run_dir, mode=0o700, exist_ok=True)
        cfg = self._pod.etc_config(self.config) if getattr(self, "_pod", None) is not None else self.config
        net_mode = (cfg.get("network") or {}).get("mode", "bridge")
        hostname = cfg.get("hostname") or self._hostname()
        etcfiles.write_run_file(self.run_dir, "hostname", etcfiles.hostname_content(hostname))
        peers = ["%s:%s" % (n, ip) for _pid, ip, names in self._network_peers() for n in names]
        etcfiles.write_run_file(self.run_dir, "hosts", etcfiles.hosts_content(
            hostname=hostname, name=self.name, ips=ips, add_hosts=list(cfg.get("add_host", [])) + peers,
            **self._hosts_base(cfg)))
        for sib_id, sib_ip, names in getattr(getattr(self, "_pod", None), "siblings", None) or []:
            # the pod's running members, marked as peers so that their stop drops the line again
            etcfiles.hosts_set_peer(os.path.join(self.run_dir, "hosts"), sib_id, sib_ip, names)
        dns = self._dns_defaults(cfg)
        pod = getattr(self, "_pod", None)
        if pod is not None and pod.shares_net:
            net_status = pod.infra_status  # the network's DNS servers are the infra's (podman: its resolv.conf)
        served = [n for n in ((net_status or {}).get("networks") or {}) if self._dns_served(n)]
        from ..network.dns import SEARCH_DOMAIN, dns_servers  # noqa: PLC0415 - networking only when a container starts

        network_dns = dns_servers(net_status or {}, served)
        if ((net_status or {}).get("usermode") or {}).get("mode") == "slirp4netns":
            # slirp4netns forwards DNS at .3 of its CIDR to the host's resolver (podman lists it first)
            import ipaddress  # noqa: PLC0415 - only for slirp4netns containers

            network_dns = [str(ipaddress.IPv4Address(net_status["usermode"]["gateway"]) + 1)]
        etcfiles.write_run_file(self.run_dir, "resolv.conf", etcfiles.resolv_conf_content(
            dns=dns["dns"], dns_search=dns["dns_search"], dns_option=dns["dns_option"],
            keep_local=net_mode == "host", network_dns=network_dns,
            network_search=[SEARCH_DOMAIN] if network_dns else []))
        etcfiles.write_run_file(self.run_dir, ".containerenv", etcfiles.containerenv_content(
            privileged=bool(cfg.get("privileged")), name=self.name, ctr_id=self.id, image=cfg.get("image", ""),
            image_id=cfg.get("image_id", "")))

    def _write_user_files(self, rootfs: str, mounts: List[Dict[str, Any]]) -> Dict[str, str]:
        """passwd (default true) / passwd_entry / group_entry / hostuser: the /etc/passwd and /etc/group
        entries podman adds; {container path: RunDir copy} to bind-mount when the rootfs is read-only."""
        from .userns import mapped_root_owner  # noqa: PLC0415 - see _LAZY

        cfg = self.config
        hostusers = [cfg["hostuser"]] if cfg.get("hostuser") else []
        if cfg.get("passwd") is False:  # podman --passwd=false: hostuser entries are not added either
            return {}
        from ..oci import userfiles  # noqa: PLC0415 - /etc files only when a container starts
        from ..oci.etcfiles import read_rootfs_file  # noqa: PLC0415

        img = self.image_config()
        destinations = [os.path.normpath(m["destination"]) for m in mounts]
        files = userfiles.additions(
            lambda path: read_rootfs_file(rootfs, path),
            user=cfg.get("user") or img.get("User") or None, workdir=cfg.get("workdir") or img.get("WorkingDir") or "/",
            passwd_entry=cfg.get("passwd_entry"), group_entry=cfg.get("group_entry"),
            host_users=hostusers, destinations=destinations)
        # a mount at /etc/passwd or /etc/group is the user's: left alone (as podman)
        if "/etc/passwd" in destinations:
            files.passwd = ""
        if "/etc/group" in destinations:
            files.group = ""
        return userfiles.apply(rootfs, self.run_dir, files, read_only=bool(cfg.get("read_only")),
                               owner=mapped_root_owner(cfg))

    def _exec_user(self, user: str):
        """An exec's user, looked up as the container sees /etc/passwd (with the copies a read-only
        container has bind-mounted over it: oci/userfiles.py)."""
        from ..oci.etcfiles import resolve_user  # noqa: PLC0415 - only for an exec with a user

        rootfs = self.state.get("mountpoint") or ""
        overrides = {"/etc/" + n: os.path.join(self.run_dir, n) for n in ("passwd", "group")
                     if self.config.get("read_only") and os.path.isfile(os.path.join(self.run_dir, n))}
        if not overrides:
            return resolve_user(rootfs, user)
        from ..oci.userfiles import reader  # noqa: PLC0415

        return resolve_user(rootfs, user, read_file=reader(rootfs, overrides))

    def _hosts_base(self, cfg: Mapping[str, Any]) -> Dict[str, Any]:
        """hosts_file: the base of /etc/hosts (a host file, the image's own, or none), else the host's."""
        base = cfg.get("hosts_file")
        if base == "none":
            return {"base_hosts": ""}
        if base == "image":
            from ..oci import etcfiles  # noqa: PLC0415 - /etc files only when a container starts (not on a no-op)

            return {"base_hosts": etcfiles.read_rootfs_file(self.state.get("mountpoint") or "", "/etc/hosts") or ""}
        if base:
            if not os.path.isfile(base):
                raise InvalidArg("hosts_file %s does not exist" % base, hint="an existing file, image, or none")
            return {"base_hosts_file": base}
        return {}

    def _prepare_secrets(self, undo: List) -> Tuple[List[Dict[str, Any]], Dict[str, str]]:
        """The container's secrets: bind mounts from a fresh tmpfs, and env values (engine/secret/usage.py)."""
        refs = self.config.get("secrets") or []
        if not refs:
            return [], {}
        undo.append(("secrets", lambda: secret_usage.release(self.rt.tmp_dir, self.id)))
        out = secret_usage.prepare(self.rt.secrets, self.rt.tmp_dir, self.id, refs)
        for name in sorted({r["name"] for r in refs}):
            sec = self.rt.secrets.find(name)
            if sec is not None:  # podman's secret "use" event: who used it, never the data
                self.rt.event("secret", "use", id=sec.id, name=sec.name,
                              attributes={"container": self.name, "containerID": self.id})
        return out

    def _generate_spec(self, rootfs: str, mounts: List[Dict[str, Any]], netns: Optional[str],
                       extra_env: Optional[Dict[str, str]] = None,
                       etc_overrides: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
        from ..oci.spec import SpecContext, generate_spec  # noqa: PLC0415
        from ..oci.spechost import default_seccomp_path  # noqa: PLC0415 - with the spec, only at init
        from ..parse.values import parse_size, parse_ulimits  # noqa: PLC0415

        rtc = self.rt.cfg
        cfg = dict(self.config)
        cfg["mounts"] = mounts
        if extra_env:  # env-type secrets: in the process's environment, never in the stored config
            cfg["env"] = dict(cfg.get("env") or {}, **extra_env)
        join: Dict[str, str] = {}
        net = cfg.get("network") or {}
        if net.get("mode") == "container":
            join["network"] = self._joined_namespace("network", net["container"], "net")
        elif net.get("mode") == "host":
            join["network"] = "host"
        for param in ("ipc", "pid", "uts"):  # container:NAME joins another container's namespace
            mode = cfg.get(param) or ""
            if mode.startswith("container:"):
                join[param] = self._joined_namespace(param, mode.split(":", 1)[1], param)
            elif mode.startswith("ns:"):  # a pod's pid / uts: ns:PATH (its infra joins that namespace)
                join[param] = mode[3:]
        env = dict(self.default_env(), **(cfg.get("host_env") or {}))  # env_host / http_proxy, below the image's
        sysctls = {}
        for item in rtc.get("containers", "default_sysctls"):
            k, _unused, v = item.partition("=")
            sysctls[k.strip()] = v.strip()
        ctx = SpecContext(
            config=cfg, rootfs=rootfs, run_dir=self.run_dir,
            image_config=self.image_config(),
            netns_path=netns, join_namespaces=join,
            default_capabilities=rtc.get("containers", "default_capabilities"),
            default_ulimits=parse_ulimits(rtc.get("containers", "default_ulimits"), "default_ulimits"),
            default_env=env, default_sysctls=sysctls,
            default_pids_limit=rtc.get("containers", "pids_limit"),
            default_shm_size=parse_size(rtc.get("containers", "shm_size"), "shm_size"),
            init_path=cfg.get("init_path") or self.rt.init_path(),
            seccomp_profile=rtc.get("containers", "seccomp_profile") or default_seccomp_path(),
            no_new_privileges=bool(rtc.get("containers", "no_new_privileges")),
            cgroups=self.has_cgroup(),
            etc_overrides=dict(etc_overrides or {}),
            no_cgroup_warning=self.no_cgroup_warning(),
            # CAP_SYS_RESOURCE of the user namespace does not lift the host's hard limits
            can_raise_rlimits=False if self.rt.rootless else None,
        )
        delegated = self.rt.rootless_cgroup
        if delegated is not None and delegated.parent:
            ctx.cgroup_parent = delegated.parent  # below the user's delegated cgroup v2 (a pod's wins)
        if getattr(self, "_pod", None) is not None:
            self._pod.apply_spec(ctx)
        spec = generate_spec(ctx)
        self.rt.warnings.extend(w for w in ctx.warnings if w not in self.rt.warnings)
        return spec

    def _joined_namespace(self, param: str, target: str, ns: str) -> str:
        """``/proc/PID/ns/NS`` of another running container (``param: container:TARGET``)."""
        other = get_container(self.rt, target)
        if other.id == self.id:
            raise InvalidArg("%s: container:%s is this container itself" % (param, target),
                             hint="name another, running container whose %s namespace to join" % param)
        with other.locked():
            other.sync()
            if other.status != RUNNING or not other.state.get("pid"):
                raise CtrStateInvalid("%s: container:%s is not running" % (param, other.name),
                                      hint="start %s first" % other.name)
            return "/proc/%d/ns/%s" % (other.state["pid"], ns)

    def stop_signal(self) -> int:
        """The declared stop signal, else the image's STOPSIGNAL, else SIGTERM (as podman)."""
        return effective_stop_signal(self.config, self.image_config())

    def image(self):
        """The container's image record (by ID), or None when it is no longer stored."""
        if not self.config.get("image_id"):
            return None  # rootfs: run from a directory
        try:
            return self.rt.images.resolve(self.config.get("image_id") or "")
        except EngineError:
            return None

    def image_config(self) -> Dict[str, Any]:
        """The image's config section (Env, Labels, StopSignal, ...); {} without an image."""
        img = self.image()
        return self.rt.images.image_config(img) if img is not None else {}

    def default_env(self) -> Dict[str, str]:
        """containers.conf [containers] env as a dict."""
        env = {}
        for item in self.rt.cfg.get("containers", "env"):
            k, _unused, v = item.partition("=")
            env[k] = v
        return env

    def _exit_command(self) -> Tuple[str, List[str]]:
        argv = self.rt.cli_command() + ["cleanup", self.id]
        return argv[0], argv[1:]

    # -- healthcheck ----------------------------------------------------------------------------
    def health_config(self) -> Optional[Dict[str, Any]]:
        """The effective healthcheck: the config's (options, normalised) or else the image's."""
        from ..parse.health import from_image  # noqa: PLC0415 - only containers with a healthcheck

        if self.config.get("healthcheck_set"):
            return self.config.get("healthcheck")  # None: disabled (healthcheck: NONE)
        return from_image(self.image_config())

    def _start_health_monitor(self) -> None:
        if self.health_config() is None:
            return
        from . import health, healthmon  # noqa: PLC0415 - only containers with a healthcheck

        self.state["health"] = health.initial()
        self.state[healthmon.PID_KEY] = healthmon.spawn(self)
        self.save()

    def _stop_health_monitor(self) -> None:
        if self.state.get(HEALTH_MONITOR_PID):
            from . import healthmon  # noqa: PLC0415 - only containers with a health monitor (~15 ms)

            healthmon.stop(self)

    def exited_early(self, grace: float = 0.2) -> Optional[int]:
        """Right after a start: the exit code if the container already exited, else None. It
        counts as running, without more waiting, as soon as its command runs and its processes
        all sleep waiting for something (a healthy service: a few ms); a process that keeps busy
        is given up to ``grace`` s. A restart policy that brought it back counts as running."""
        pid = self.state.get("pid") or 0
        exited = exited_or_settled(pid, grace, getattr(self, "_init_exe", "")) if pid else None
        if exited is False:
            return None
        # exited: conmon writes the exit file right after it reaps the process; still busy: read it
        self.oci().wait_exit(self.id, grace if exited or not pid else 0)
        with self.locked():
            self.sync()
            if self.status in (STOPPED, EXITED):
                return int(self.state.get("exit_code") or 0)
        return None

    # -- stop / cleanup -------------------------------------------------------------------------
    def stop(self, timeout: Optional[int] = None) -> bool:
        """Stop with the stop signal, then SIGKILL after ``timeout``; False if it was not running."""
        with self.locked():
            self.sync()
            return self._stop_locked(timeout)

    def _stop_locked(self, timeout: Optional[int] = None) -> bool:
        st = self.state
        if st["status"] not in (RUNNING, CREATED, STOPPING, PAUSED):
            # exited with a restart to come (backoff wait, or exit command not run yet): cancel it
            cancelled = bool(st.get("restarting") or (st["status"] == STOPPED and st.get("restart_policy_match")))
            if cancelled:
                st.update(restarting=False, restart_token="", restart_policy_match=False, stopped_by_user=True)
                self.save()
                self._event("stop")
            if st["status"] == STOPPED:
                self._cleanup_locked()
            return cancelled
        if timeout is None:
            timeout = self.config.get("stop_timeout")
        if timeout is None:
            timeout = self.rt.cfg.get("engine", "stop_timeout")
        was_paused = st["status"] == PAUSED
        faults.begin(self.rt.state, "container", self.id, "stop")
        st.update(status=STOPPING, stopped_by_user=True)
        self.save()
        oci = self.oci()
        if was_paused:
            oci.resume(self.id)
        # conmon outlives the exit file by its exit command, which waits for this lock: never
        # wait for conmon here (libpod releases the lock while it waits)
        sig = self.stop_signal()
        killed: List[bool] = []
        code = oci.stop(self.id, st.get("pid") or 0, signal=sig, timeout=timeout, on_kill=lambda: killed.append(True))
        # what the task reports: "killed after the stop timeout" (libpod logs it only)
        st["stop_killed"] = "stop signal %s ignored for %s s, killed with SIGKILL" % (sig, timeout) if killed else ""
        faults.point("container.stop.after_kill")
        got = oci.read_exit(self.id)
        finished = got[1] if got else time.time()
        st.update(status=STOPPED, pid=0, conmon_pid=0, exit_code=-1 if code is None else code,
                  finished_at=rfc3339_nano(finished), restart_policy_match=False)
        self.rt.state.record_exit_code(self.id, st["exit_code"])
        self.save()
        self._event("stop")
        self._cleanup_locked()
        faults.end(self.rt.state, "container", self.id)
        return True

    def _cleanup_locked(self) -> None:
        """cleanup(): delete the runtime container, tear down network, unmount. -> Exited."""
        st = self.state
        if st["status"] in (RUNNING, PAUSED):
            raise CtrStateInvalid("container %s is running; stop it before cleaning it up" % self.name)
        errors = []
        oci = self.oci()
        steps = [
            ("runtime container", lambda: oci.delete(self.id, force=True)),
            ("network", self._teardown_network),
            ("volumes", self._unmount_volumes),
            ("rootfs", lambda: self.rt.storage.unmount(self.id)),
            ("conmon files", lambda: oci.remove_conmon_files(self.id, self.bundle, self.run_dir)),
            ("secrets", lambda: secret_usage.release(self.rt.tmp_dir, self.id)),
            ("health monitor", self._stop_health_monitor),
        ]
        self._announce_to_peers(False)
        for what, fn in steps:
            try:
                fn()
            except EngineError as exc:
                errors.append("%s: %s" % (what, exc))
        if st["status"] in (STOPPED, STOPPING, CREATED):
            st["status"] = EXITED if st["status"] != CREATED else CONFIGURED
        st.update(pid=0, conmon_pid=0, mounted=False, mountpoint="", netns="", network_status=None)
        self.save()
        self._event("cleanup")
        if errors:
            raise EngineError("cleaning up container %s: %s" % (self.name, "; ".join(errors)))

    def _teardown_network(self) -> None:
        net = self.config.get("network") or {}
        if net.get("mode") in ("host", "container") or (self.state.get("network_status") or {}).get("joined"):
            return
        from ..network.netns import lo_only, remove_netns  # noqa: PLC0415 - only at cleanup (no-op budget)

        status = self.state.get("network_status")
        if lo_only(status):
            # mode none: only the netns file to remove (the manager's import costs more than this)
            try:
                remove_netns(status["netns"])
            except OSError as err:
                raise NetworkError("container %s: network teardown incomplete: cannot remove %s: %s"
                                   % (self.id[:12], status["netns"], err.strerror or err),
                                   hint="run the cleanup again") from err
        elif status or self.state.get("netns") or self.rt.has_networking():
            self.rt.network.teardown(self.id, status)

    def _unmount_volumes(self) -> None:
        """Unmount every volume; the ones that failed stay listed for the next cleanup."""
        failed, errors = [], []
        for vol in self.state.get("volumes_mounted") or []:
            try:
                self.rt.volumes.unmount(vol)
            except EngineError as exc:
                failed.append(vol)
                errors.append(str(exc))
        self.state["volumes_mounted"] = failed
        if errors:
            raise EngineError("; ".join(errors))

    def cleanup_after_exit(self, sleep: Callable[[float], None] = time.sleep) -> str:
        """What conmon's exit command runs: sync, restart policy (after a backoff), or clean up,
        then the removal of an ``auto_remove`` container that is not restarted."""
        done = self._cleanup_after_exit(sleep)
        if done == "cleaned" and self.config.get("auto_remove"):
            return self.remove_after_exit()
        return done

    def _cleanup_after_exit(self, sleep: Callable[[float], None] = time.sleep) -> str:
        """Sync, restart policy (after a backoff), or clean up.

        The backoff wait happens without the container's lock (``state: stopped`` or
        ``absent`` during the wait cancel the restart); returns what it did."""
        with self.locked():
            self.sync()
            st = self.state
            if st["status"] in (RUNNING, PAUSED, CREATED):
                return "running"
            if not (st.get("restart_policy_match") and self._restart_allowed()):
                st["restart_policy_match"] = False
                if st["status"] == STOPPED:
                    self._cleanup_locked()
                else:
                    self.save()
                return "cleaned"
            ran_for = time.time() - float(st.get("started_ts") or 0)
            delay_ms = next_delay_ms(int(st.get("restart_delay_ms") or 0), ran_for)
            import uuid  # noqa: PLC0415 - only a restart by policy needs it (a no-op task does not load it)

            token = uuid.uuid4().hex
            st.update(restart_count=int(st.get("restart_count") or 0) + 1, restart_policy_match=False,
                      restarting=True, restart_token=token, restart_delay_ms=delay_ms)
            if st["status"] == STOPPED:
                self._cleanup_locked()  # saves; network and mounts are free during the wait
            else:
                self.save()
            self._event("restart", attributes={"delay": "%dms" % delay_ms,
                                               "restartCount": str(st["restart_count"])})
        sleep(delay_ms / 1000.0)
        try:
            with self.locked():
                self.sync()
                st = self.state
                if not st.get("restarting") or st.get("restart_token") != token or \
                        st["status"] in (RUNNING, PAUSED, CREATED, STOPPING, REMOVING):
                    return "restart cancelled"
                st.update(restarting=False, restart_token="")
                self._start_locked()
                return "restarted"
        except NoSuchContainer:
            return "removed meanwhile"

    def remove_after_exit(self) -> str:
        """rm / auto_remove: the container is removed once it exited (its anonymous volumes too)."""
        try:
            self.remove(force=False)
        except NoSuchContainer:
            return "removed meanwhile"
        except CtrStateInvalid:
            return "running again"  # started again before the exit command got the lock
        return "removed"

    def _restart_allowed(self) -> bool:
        policy = pod_restart_policy(self)
        name = policy.get("name", "no")
        if name in ("always", "unless-stopped"):
            return True
        if name == "on-failure":
            if self.state.get("exit_code") == 0:
                return False
            retries = int(policy.get("max_retries") or 0)
            return retries == 0 or int(self.state.get("restart_count") or 0) < retries
        return False

    # -- restart / update / remove ----------------------------------------------------------------
    def restart(self, timeout: Optional[int] = None) -> str:
        """Stop (if running) and start; returns how the stop ended when it had to kill, else ""."""
        killed = ""
        with self.locked():
            self.sync()
            if self.status in (RUNNING, PAUSED, CREATED):
                self._stop_locked(timeout)
                killed = self.state.get("stop_killed") or ""
            self.state["restart_count"] = 0
            self._start_locked()
        return killed

    def update(self, changes: Dict[str, Any]) -> None:
        """Apply resource/policy changes to the stored config and, if running, to the live cgroup."""
        from ..oci.resources import IN_PLACE_KEYS, update_steps  # noqa: PLC0415 - see _LAZY

        with self.locked():
            self.sync()
            cfg = dict(self.config)
            cfg.update({k: v for k, v in changes.items() if k != "declared"})
            if "declared" in changes:
                cfg["declared"] = changes["declared"]
            if any(k in changes for k in IN_PLACE_KEYS):
                # validated (memory floor) before anything is written, running or not
                update_steps(self.config, cfg, default_pids_limit=self.rt.cfg.get("containers", "pids_limit"),
                             swap_accounting=True)
                if self.status in (RUNNING, PAUSED):
                    self._runtime_update(self.config, cfg)
            net = cfg.get("network") or {}
            # the tool it runs with (a rootless pod member in mode pod has the rootless default of its own)
            usermode = ((self.state.get("network_status") or {}).get("usermode") or {}).get("mode")
            if ("publish" in changes and self.status in (RUNNING, PAUSED) and self.state.get("network_status")
                    and (net.get("mode") in USERMODE_NETWORKS or usermode)):
                # pasta / slirp4netns bind the ports: the tool restarts on the live netns
                self.state["network_status"] = self.rt.network.setup_usermode(
                    self.id, usermode or net["mode"], net.get("options") or [], changes["publish"])
                self.save()
            elif "publish" in changes and self.status in (RUNNING, PAUSED) and self.state.get("network_status"):
                # new DNAT rules on the live network namespace: no restart needed
                status = self.rt.network.setup(
                    self.id, networks=net.get("networks") or [self.rt.cfg.get("network", "default_network")],
                    publish=changes["publish"], hostname=self._hostname(), aliases=[self.name],
                    attach=net.get("attach"))
                self.state["network_status"] = status
                self.save()
            if "network" in changes and self.status in (RUNNING, PAUSED) and self.state.get("network_status"):
                self._network_in_place(self.config.get("network") or {}, cfg["network"])
            self.rt.state.rewrite_config("container", self.id, cfg)
            self.rec.config = cfg
            self._event("update")

    def refresh_secrets(self, names: List[str], digests: Mapping[str, Optional[str]]) -> bool:
        """Swap the current data of the directory secrets ``names`` into the running container's tmpfs
        (engine/secret/usage.refresh) and record their new keyed hashes; no restart. True when files
        were rewritten (False: not running, the next start writes the data)."""
        with self.locked():
            self.sync()
            done = False
            if self.status in (RUNNING, PAUSED):
                done = secret_usage.refresh(self.rt.secrets, self.rt.tmp_dir, self.id,
                                            self.config.get("secrets") or [], names)
            cfg = dict(self.config)
            cfg["secret_digests"] = dict(cfg.get("secret_digests") or {}, **{n: digests.get(n) for n in names})
            self.rt.state.rewrite_config("container", self.id, cfg)
            self.rec.config = cfg
            for name in names:
                sec = self.rt.secrets.find(name)
                if sec is not None and done:
                    self.rt.event("secret", "use", id=sec.id, name=sec.name,
                                  attributes={"container": self.name, "containerID": self.id, "refreshed": "true"})
            return done

    def _network_in_place(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """Connect/disconnect the running container to/from the networks that changed (lock held);
        a network whose settings (address, aliases, MAC) changed is connected again."""
        default = self.rt.cfg.get("network", "default_network")
        from . import netattach  # noqa: PLC0415 - the network package only when networks change

        before = netattach.bridge_networks({"network": old}, default) or []
        after = netattach.bridge_networks({"network": new}, default) or []
        old_attach, new_attach = old.get("attach") or {}, new.get("attach") or {}
        for name in before:
            if name not in after or old_attach.get(name) != new_attach.get(name):
                netattach.disconnect_live(self, name)
        for name in after:
            if name not in before or old_attach.get(name) != new_attach.get(name):
                netattach.connect_live(self, name, settings=new_attach.get(name))

    def has_cgroup(self) -> bool:
        """False for cgroups: disabled, and for a rootless container on cgroup v1, or on v2 without a
        delegated cgroup (podman: no cgroup, limits ignored)."""
        if self.config.get("cgroups") == "disabled":
            return False
        delegated = self.rt.rootless_cgroup
        return delegated is None or bool(delegated.parent)

    def no_cgroup_warning(self) -> str:
        """Why the container has no cgroup: the warning given when it declares limits."""
        from ..oci.resources import NO_CGROUP_LIMITS, ROOTLESS_V1_LIMITS  # noqa: PLC0415 - see _LAZY

        if self.config.get("cgroups") == "disabled":
            return NO_CGROUP_LIMITS % self.name
        delegated = self.rt.rootless_cgroup
        return delegated.reason if delegated is not None and delegated.reason else ROOTLESS_V1_LIMITS

    def _runtime_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """Move the live cgroup from ``old`` to ``new`` limits: the create-time translation, in a safe order."""
        from ..oci.resources import update_steps  # noqa: PLC0415 - see _LAZY

        if not self.has_cgroup():  # the new limits are recorded; there is no cgroup to apply them to
            if self.no_cgroup_warning() not in self.rt.warnings:
                self.rt.warnings.append(self.no_cgroup_warning())
            return
        steps = update_steps(old, new, default_pids_limit=self.rt.cfg.get("containers", "pids_limit"),
                             swap_accounting=cgroups.swap_accounting())
        for resources in steps:
            self.oci().update(self.id, resources)

    def remove(self, force: bool = False, timeout: Optional[int] = None, volumes: bool = True) -> None:
        """removeContainer: stop (force), clean up, delete storage, DB record, lock; anonymous volumes."""
        from .podjoin import check_infra_removal  # noqa: PLC0415 - see _LAZY
        from .userns import release_mapped_root  # noqa: PLC0415 - see _LAZY

        with self.locked():
            if self.config.get("is_infra"):
                check_infra_removal(self)
            faults.begin(self.rt.state, "container", self.id, "remove", **faults.container_data(self.config))
            self.sync()
            if self.status in (RUNNING, PAUSED, CREATED, STOPPING):
                if not force:
                    raise CtrStateInvalid("container %s is %s" % (self.name, display_status(self.status)),
                                          hint="stop it first, or remove it with force")
                self._stop_locked(timeout)
            elif self.status == STOPPED:
                self._cleanup_locked()
            faults.point("container.remove.after_stop")
            self.state["status"] = REMOVING
            self.save()
            self.rt.storage.remove(self.id)
            shutil.rmtree(self.run_dir, ignore_errors=True)
            secret_usage.release(self.rt.tmp_dir, self.id)
            faults.point("container.remove.after_storage")
            with self.rt.state.tx():  # record and lock number in one transaction: a crash leaks neither
                self.rt.state.remove("container", self.rec)
                self.rt.locks.free(self.rec.lock_id)
            release_mapped_root(self.rt, self.config,  # the graph root may be shared by several namespaces
                                [r.config for r in self.rt.state.list("container", all_namespaces=True)])
            faults.point("container.remove.after_db_delete")
            if self.config.get("cidfile"):
                try:
                    os.unlink(self.config["cidfile"])
                except OSError:
                    pass  # removed by someone else: nothing to undo
            self._release_idle_networks()
            self._event("remove")
        if volumes:
            remove_anonymous_volumes(self.rt, self.config)
        faults.end(self.rt.state, "container", self.id)

    # -- exec -------------------------------------------------------------------------------------
    def exec(self, command: List[str], *, env: Optional[Dict[str, str]] = None, user: Optional[str] = None,
             workdir: Optional[str] = None, privileged: bool = False, detach: bool = False,
             timeout: Optional[float] = None, quiet: bool = False):
        """podman exec: run ``command`` in the running container with its process spec.

        The lock is held only to check the state and build the process (as libpod, which
        releases it while the session runs): a long exec never blocks stop or the exit command.
        """
        from ..oci.execproc import exec_process, read_bundle_process  # noqa: PLC0415 - only exec needs them

        with self.locked():
            self.sync()
            if self.status != RUNNING:
                raise CtrStateInvalid("cannot exec in container %s: it is %s, not running"
                                      % (self.name, display_status(self.status)),
                                      hint="start it first (state: started)")
            base = read_bundle_process(self.bundle)
            ruser = self._exec_user(user) if user not in (None, "") else None
            process = exec_process(base, command, env=env, user=ruser, cwd=workdir, privileged=privileged,
                                   all_caps=host_bounding_caps(), cap_add=self.config.get("cap_add") or [])
            oci = self.oci()
        attrs = {"execID": "", "command": " ".join(command)}
        res = oci.exec(self.id, process, run_dir=self.run_dir, timeout=timeout, detach=detach)
        if quiet:  # healthchecks: their own health_status events
            return res
        self._event("exec", attributes=dict(attrs, pid=str(res.pid)))
        if not detach:
            self._event("exec_died", exit_code=res.rc, attributes=dict(attrs, pid=str(res.pid)))
        return res

    # -- copy (podman cp) ---------------------------------------------------------------------------
    def copy_into(self, src: str, dest: str, **kw: Any) -> List[str]:
        """Host ``src`` -> ``dest`` in the container (running or not); see objects/copy.py."""
        from .copy import copy_into  # noqa: PLC0415 - only copies need it

        return copy_into(self, src, dest, **kw)

    def copy_out(self, src: str, dest: str, **kw: Any) -> List[str]:
        """``src`` in the container -> host ``dest``; see objects/copy.py."""
        from .copy import copy_out  # noqa: PLC0415 - only copies need it

        return copy_out(self, src, dest, **kw)

    # -- inspect ----------------------------------------------------------------------------------
    def logs(self, tail: int, since: Optional[float] = None) -> List[Dict[str, str]]:
        """The last ``tail`` lines of the container's k8s-file log (all with ``tail=None``); with
        ``since`` (epoch seconds) only lines logged at or after it, as podman logs --since."""
        from ..oci.logs import read_k8s_log, since_filter  # noqa: PLC0415 - only when logs are asked for

        if since is None:
            return read_k8s_log(self.log_path, tail=tail)
        lines = since_filter(read_k8s_log(self.log_path), since)
        return lines if tail is None else lines[-tail:] if tail > 0 else []

    def inspect(self) -> Dict[str, Any]:
        from .inspect import inspect_container  # noqa: PLC0415

        return inspect_container(self)


# -- runtime-level operations (libpod runtime_ctr.go) ------------------------------------------------
def get_container(rt, ref: str) -> Container:
    return Container(rt, rt.state.get("container", ref))


def find_container(rt, ref: str) -> Optional[Container]:
    rec = rt.state.find("container", ref)
    return Container(rt, rec) if rec else None


def list_containers(rt, pod_id: Optional[str] = None) -> List[Container]:
    return [Container(rt, r) for r in rt.state.list("container", pod_id=pod_id)]


def create_container(rt, config: Dict[str, Any], name: Optional[str] = None) -> Container:
    """newContainer + setupContainer: ID, name, lock, storage, DB record, create event.

    ``config`` is the normalised container config (docs/architecture.md); its named volumes
    must exist (the caller creates missing ones), its image must be in the store.
    """
    from .podjoin import pod_volume_names  # noqa: PLC0415 - see _LAZY
    from .userns import allocate_auto, check_runtime, own_upper, pod_member_maps, rootfs_layers  # noqa: PLC0415 - see _LAZY

    ctr_id = new_id()
    if name:
        validate_name(name, "name", "container")
    else:
        name = generate_name(lambda n: rt.state.lookup_name(n) is not None)
    cfg = dict(config, id=ctr_id, name=name)
    if cfg.get("oci_runtime") is None:
        cfg["oci_runtime"] = rt.default_runtime
    cfg = pod_member_maps(rt, cfg)  # a member of a pod with a user namespace: the infra's mappings
    # fail now, not at start: "requested OCI runtime X is not available", or one unsafe with a user namespace
    check_runtime(rt.oci(cfg["oci_runtime"]), cfg)
    if cfg.get("cgroups") == "disabled":
        from ..oci.spechost import check_no_cgroups  # noqa: PLC0415 - only for containers without a cgroup

        check_no_cgroups(cfg, cfg["oci_runtime"], rt.oci(cfg["oci_runtime"]).path,
                         rt.cfg.get("engine", "runtime_supports_nocgroups"))
    image = rt.images.get(cfg["image_id"]) if not cfg.get("rootfs") else None
    created = time.time()
    cfg["created_at"] = rfc3339_nano(created)
    faults.begin(rt.state, "container", ctr_id, "create", **faults.container_data(cfg))
    with rt.state.tx():
        cfg = allocate_auto(rt, cfg, image)  # in the transaction: no two containers get one block
        lock_id = rt.locks.allocate("container", ctr_id)
        rec = Record(id=ctr_id, name=name, namespace=rt.state.namespace, lock_id=lock_id, config=cfg,
                     state=initial_state(), created=created, pod_id=cfg.get("pod"))
        rt.state.add("container", rec)
        own = cfg.get("mounts", [])
        rt.state.set_container_volumes(ctr_id, [m["source"] for m in own if m["type"] == "volume"]
                                       + pod_volume_names(rt, cfg.get("pod"), own))
        faults.point("container.create.after_db_insert")
        # storage last in the transaction: if it fails, the DB rows roll back with it
        try:
            rt.storage.create(ctr_id, rootfs_layers(rt, cfg, image))
            fallback = rt.storage.fallback_reason and "graph driver vfs (full copies): " + rt.storage.fallback_reason
            if fallback and fallback not in rt.warnings:
                rt.warnings.append(fallback)
            own_upper(rt, ctr_id, cfg)
            os.makedirs(os.path.join(rt.graph_root, "containers", ctr_id, "userdata"), mode=0o700, exist_ok=True)
            faults.point("container.create.after_storage")
        except BaseException:
            rt.storage.remove(ctr_id)
            raise
    faults.point("container.create.after_commit")
    ctr = Container(rt, rec)
    if cfg.get("cidfile"):
        _write_cidfile(ctr, cfg["cidfile"])
    ctr._event("create")
    faults.end(rt.state, "container", ctr_id)
    return ctr


def _write_cidfile(ctr: Container, path: str) -> None:
    """cidfile: the new container's ID; an existing file is refused (as podman), the container removed."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(ctr.id)
    except OSError as exc:
        config = dict(ctr.config, cidfile=None)  # not ours: the removal must not unlink it
        ctr.rec.config = config
        ctr.remove(force=True)
        raise InvalidArg("cidfile %s: %s" % (path, exc.strerror or exc),
                         hint="remove the file, or choose another cidfile path")


#: the namespaces a container can join from another one (``<option>: container:NAME``)
JOINABLE_NAMESPACES = ("network", "ipc", "pid", "uts")


def joined_namespaces(config: Dict[str, Any]) -> Dict[str, str]:
    """namespace -> the container (name or ID) whose namespace ``config`` joins."""
    out = {}
    net = config.get("network") or {}
    if net.get("mode") == "container" and net.get("container"):
        out["network"] = net["container"]
    for kind in JOINABLE_NAMESPACES[1:]:
        mode = config.get(kind) or ""
        if mode.startswith("container:"):
            out[kind] = mode.split(":", 1)[1]
    return out


def namespace_joiners(rt, ctr: Container) -> List[Tuple[Container, List[str]]]:
    """(container, namespaces) of the containers that join namespaces of ``ctr``: recreating
    ``ctr`` leaves them in the old namespaces (or, for pid, kills them) until they restart."""
    out = []
    for other in list_containers(rt):
        if other.id == ctr.id:
            continue
        kinds = [k for k, target in joined_namespaces(other.config).items() if target in (ctr.id, ctr.name)]
        if kinds:
            out.append((other, kinds))
    return out


def dependents(rt, ctr: Container) -> List[Container]:
    """The containers that need ``ctr``: it is in their requires, or they join its namespaces."""
    out = []
    for other in list_containers(rt):
        if other.id == ctr.id:
            continue
        needs = set(other.config.get("requires") or [])
        joined = set(joined_namespaces(other.config).values())
        if (needs | joined) & {ctr.id, ctr.name}:
            out.append(other)
    return out


def remove_anonymous_volumes(rt, config: Mapping[str, Any]) -> None:
    """The anonymous volumes of a removed container (its ``config``) go with it; one still used by
    another container is kept, as podman does."""
    for m in config.get("mounts", []):
        if m["type"] == "volume" and m.get("anonymous"):
            try:
                rt.volumes.remove(m["source"])
            except EngineError:
                pass  # still used by another container: kept


def remove_orphan_storage(rt) -> List[str]:
    """Container dirs without a DB record (a process killed during create): removed."""
    known = {r.id for r in rt.state.list("container")}
    removed = []
    for ctr_id in rt.storage.list():
        if ctr_id not in known:
            rt.storage.remove(ctr_id)
            removed.append(ctr_id)
    return removed
