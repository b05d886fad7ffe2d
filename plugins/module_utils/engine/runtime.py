# SPDX-License-Identifier: GPL-3.0-or-later
"""The runtime, the engine's composition root: opened once per module process, in makeRuntime's order.

config -> conmon -> static dir -> state DB -> DB config merge + validation ->
namespace -> events -> tmp dir -> OCI runtimes table -> lock manager.

Like makeRuntime it runs no whole-engine operation: refresh after a reboot, journal repair,
reset, renumber and migrate are run one layer up, by ops.session.open_runtime (libpod's callers
in pkg/domain/infra do the same with Reset(), RenumberLocks(), Migrate()).

A module process pays this on every task, so everything that costs a process
spawn (conmon --version) is cached in the tmp dir, and images, storage, network
and volumes are built lazily on first use.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import shutil
import socket
import sys
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from .base.errors import (
    ConmonNotFound,
    DBConfigMismatch,
    EngineError,
    InvalidArg,
    OCIRuntimeNotFound,
    RuntimeStopped,
)
from .base.version import ENGINE_VERSION
from .config.loader import ENV_VAR as ENV_CONF
from .config.loader import SOURCE_DATABASE, SOURCE_DEFAULT, LoadedConfig, load_config
from .host import cgroups, interpreter, ownership, roots, userpaths
from .host.files import write_atomic
from .oci.exitfile import read_exit
from .parse.values import parse_size
from .store import ofd
from .store.dbopen import open_state
from .store.locks import LockManager
from .store.state import DBConfig, State

if TYPE_CHECKING:  # the events log is imported when first used (Runtime.events)
    from .store.events import Eventer

# podman 3+ findRuntime() order: the first installed one is the default.
RUNTIME_PREFERENCE = ("crun", "runc", "runj", "kata", "runsc")
ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass
class RuntimeEntry:
    """One usable OCI runtime of the [engine.runtimes] table."""

    name: str
    path: str
    private_mount_ns: bool = False   # crun on a hybrid cgroup host (see cgroups.py)
    supports_json: bool = True
    note: str = ""


@dataclass
class OpenOptions:
    """What a caller may ask of open() beyond config (libpod's RuntimeOptions)."""

    overrides: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    reset: bool = False
    renumber: bool = False
    migrate: bool = False
    migrate_runtime: Optional[str] = None
    env: Optional[Dict[str, str]] = None
    # check mode: create nothing (no dirs, no DB, no refresh); a missing DB reads as empty.
    # With reset: open as a reset does (a DB config mismatch is only a warning) but reset nothing,
    # so that the caller can plan it (admin.reset_plan).
    read_only: bool = False
    # False (info modules): a root whose DB does not exist yet is opened read-only, creating nothing
    create: bool = True
    # reset: stop timeout for running containers (None: each container's own)
    stop_timeout: Optional[int] = None


def _probe_cache_path(tmp_dir: str) -> str:
    return os.path.join(tmp_dir, "probe-cache.json")


def _stat_key(path: str) -> Optional[List[int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def graph_driver_default() -> str:
    try:
        with open("/proc/filesystems") as f:
            if any(line.split()[-1] == "overlay" for line in f if line.strip()):
                return "overlay"
    except OSError:
        pass
    return "vfs"


class Runtime:
    """An open engine runtime. Use ``Runtime.open()``; close with ``shutdown()``."""

    def __init__(self, cfg: LoadedConfig):
        self.cfg = cfg
        self.warnings: List[str] = list(cfg.warnings)
        self.valid = False
        self.refreshed = False
        self.repaired: List[str] = []
        self.read_only = False
        self._env: Optional[Dict[str, str]] = None
        self.state: State
        self.locks: LockManager
        self.conmon_path = ""
        self.conmon_version = ""
        self.runtimes: Dict[str, RuntimeEntry] = {}
        self.default_runtime = ""
        self.runtime_choice_reason = ""
        self.db_config: Optional[DBConfig] = None
        # what reset / renumber / migrate asked of open() did (admin.py results)
        self.admin_result: Optional[Dict[str, Any]] = None
        # why the state DB could not be used (set only when a reset opened without it)
        self.db_damaged = ""
        self._lazy: Dict[str, Any] = {}
        # rootless: the user's paths (host/userpaths.py) and the joined namespace (host/userns.py)
        self.user_dirs: Optional[userpaths.UserDirs] = None
        self.userns: Any = None  # host.userns.Joined (imported for rootless callers only)

    @property
    def rootless(self) -> bool:
        return self.user_dirs is not None

    @property
    def rootless_cgroup(self) -> Any:
        """Rootless only (None as root): host.cgdelegation.Delegation, where containers' cgroups go or
        why there are none."""
        if self.user_dirs is None:
            return None
        if "cgroup_delegation" not in self._lazy:
            from .host.cgdelegation import rootless_delegation  # noqa: PLC0415 - rootless only
            from .oci.resources import ROOTLESS_V1_LIMITS  # noqa: PLC0415 - rootless only

            # inside the engine's user namespace the user's files show as owned by our euid (0)
            self._lazy["cgroup_delegation"] = rootless_delegation(cgroups.cgroup_mode(), os.geteuid(),
                                                                  ROOTLESS_V1_LIMITS)
        return self._lazy["cgroup_delegation"]

    # -- paths ------------------------------------------------------------------------------
    @property
    def static_dir(self) -> str:
        return self.cfg.get("engine", "static_dir")

    @property
    def tmp_dir(self) -> str:
        return self.cfg.get("engine", "tmp_dir")

    @property
    def volume_path(self) -> str:
        return self.cfg.get("engine", "volume_path")

    @property
    def graph_root(self) -> str:
        return self.cfg.get("storage", "graph_root")

    @property
    def run_root(self) -> str:
        return self.cfg.get("storage", "run_root")

    @property
    def graph_driver(self) -> str:
        return self.cfg.get("storage", "graph_driver")

    @property
    def db_path(self) -> str:
        return os.path.join(self.static_dir, ofd.DB_FILE)

    @property
    def exit_dir(self) -> str:
        return os.path.join(self.tmp_dir, "exits")

    # -- open -------------------------------------------------------------------------------
    @classmethod
    def open(cls, options: Optional[OpenOptions] = None) -> Runtime:
        opts = options or OpenOptions()
        if opts.reset and opts.renumber:
            raise InvalidArg("cannot perform system reset and lock renumber at the same time",
                             hint="run the reset first, then renumber if still needed")
        rt = cls(load_config(opts.overrides, opts.env))
        rt._env = opts.env
        rt._open(opts)
        return rt

    def _open(self, opts: OpenOptions) -> None:
        # a root that does not exist yet is not created by a reader (info modules)
        self.read_only = opts.read_only or (not opts.create and not os.path.exists(self.db_path))
        self._check_path_owners()  # other users (host/ownership.py); other roots: below
        self._enter_user_namespace()
        if not self.read_only:
            if not os.path.exists(self.db_path):  # a new root: checked before anything is created
                roots.check_paths(self.root_id, self.owned_paths())
            os.makedirs(self.tmp_dir, mode=0o751, exist_ok=True)
        self._find_conmon()
        self._open_state(opts.reset)
        self._merge_db_config(opts.reset)
        self.events_path = (self.cfg.get("engine", "events_logfile_path")
                            or os.path.join(self.tmp_dir, "events", "events.log"))
        self._lazy["events_max_size"] = parse_size(self.cfg.get("engine", "events_logfile_max_size"),
                                                   "[engine] events_logfile_max_size")  # a bad size fails the open
        self._init_runtimes()
        self.locks = LockManager(self.state, os.path.join(self.tmp_dir, ofd.LOCK_FILE),
                                 self.cfg.get("engine", "num_locks"), create=not self.read_only)
        if not self.read_only:
            # the DB may have changed the paths: check again, then mark them as ours
            roots.claim_paths(self.root_id, self.owned_paths(), create=("graph_root", "volume_path"))
        self.valid = True

    def _enter_user_namespace(self) -> None:
        """Rootless: join the user's pause process (made when missing) before anything is opened, after
        the exact ownership checks of the engine's paths (inside the namespace root's files are 65534)."""
        self.user_dirs = userpaths.current(self._env)
        if self.user_dirs is None:
            return
        from .host import userns  # noqa: PLC0415 - rootless only: root's no-op path stays as it was

        pid_file = os.path.join(self.tmp_dir, "pause.pid")
        if os.geteuid() == 0:  # already inside (conmon's exit command): nothing to join
            pid = userns.read_pause_pid(pid_file)
            self.userns = userns.Joined(pid or 0, False, userns.current_map("uid"), userns.current_map("gid"))
            return
        self.userns = userns.ensure(pid_file, os.geteuid(), os.getegid(), create=not self.read_only)

    def _check_path_owners(self) -> None:
        """Refuse engine directories another user could replace (host/ownership.py has the rule), before
        creating anything. One below a shared sticky directory (/tmp) is created now, 0700, and checked
        again: a name another user took first is refused, never adopted."""
        for name, path in self.owned_paths().items():
            key = "[%s] %s" % ("storage" if name in ("graph_root", "run_root") else "engine", name)
            res = ownership.check_path(path, key)
            if res.shared and not res.complete and not self.read_only:
                ownership.ensure_safe_dir(path, key)

    def _open_state(self, resetting: bool) -> None:
        """The state DB, never a fresh one beside existing objects (store/dbopen.py)."""
        # objects below a path another live root owns are that root's, not lost ones of ours: they do
        # not make a missing DB an error (opening such a path read-write is refused by the roots check)
        mine = {key: ("" if self._owned_by_another(path) else path)
                for key, path in (("graph_root", self.graph_root), ("volume_path", self.volume_path))}
        opened = open_state(self.db_path, namespace=self.cfg.get("engine", "namespace"), graph_root=mine["graph_root"],
                            volume_path=mine["volume_path"], tmp_dir=self.tmp_dir, read_only=self.read_only,
                            resetting=resetting)
        self.state = opened.state
        self.warnings += opened.warnings
        self.db_damaged = opened.damaged

    def _owned_by_another(self, path: str) -> bool:
        owner = roots.marker_owner(path)
        return owner is not None and owner != self.root_id

    @property
    def root_id(self) -> roots.RootId:
        """This root's identity for the host-wide ownership checks (its static dir)."""
        return roots.RootId.of(self.static_dir)

    def owned_paths(self) -> Dict[str, str]:
        """The directories this root owns alone, by containers.conf key."""
        return {"static_dir": self.static_dir, "tmp_dir": self.tmp_dir, "graph_root": self.graph_root,
                "run_root": self.run_root, "volume_path": self.volume_path}

    def _probe_cache(self) -> Dict[str, Any]:
        if "probe" not in self._lazy:
            try:
                with open(_probe_cache_path(self.tmp_dir)) as f:
                    self._lazy["probe"] = json.load(f)
            except (OSError, ValueError):
                self._lazy["probe"] = {}
        return self._lazy["probe"]

    def _save_probe_cache(self) -> None:
        if not os.path.isdir(self.tmp_dir):
            return
        try:
            write_atomic(_probe_cache_path(self.tmp_dir), json.dumps(self._probe_cache()))
        except OSError:
            pass

    def _find_conmon(self) -> None:
        """FindConmon, with the result cached until one of the candidates changes.

        $PATH matters only when no configured path was usable: conmon's exit command runs with
        another $PATH than a task, and each exit made the next task probe conmon again."""
        paths = list(self.cfg.get("engine", "conmon_path"))
        key = [[p, _stat_key(p)] for p in paths]
        env_path = os.environ.get("PATH", "")
        cache = self._probe_cache().get("conmon")
        if cache and cache.get("key") == key and _stat_key(cache["path"]) == cache.get("stat") \
                and (cache["path"] in paths or cache.get("env_path") == env_path):
            self.conmon_path, self.conmon_version = cache["path"], cache["version"]
            return
        from .oci.driver import find_conmon  # noqa: PLC0415 - not needed on the warm path

        try:
            self.conmon_path, self.conmon_version = find_conmon(paths)
        except ConmonNotFound:
            raise
        except EngineError as exc:
            raise ConmonNotFound(str(exc))
        self._probe_cache()["conmon"] = {"key": key, "path": self.conmon_path, "version": self.conmon_version,
                                         "stat": _stat_key(self.conmon_path), "env_path": env_path}
        self._save_probe_cache()

    def _merge_db_config(self, resetting: bool) -> None:
        """mergeDBConfig + ValidateDBConfig."""
        driver = self.graph_driver or graph_driver_default()
        self.cfg.values["storage"]["graph_driver"] = driver
        ours = DBConfig(os=sys.platform, static_dir=self.static_dir, tmp_dir=self.tmp_dir,
                        graph_root=self.graph_root, run_root=self.run_root, graph_driver=driver,
                        volume_path=self.volume_path)
        stored = self.state.get_db_config()
        if stored is None:
            self.db_config = self.state.init_db_config(ours)
            stored = self.db_config
        self.db_config = stored
        mismatches = []
        for fname, label in DBConfig.LABELS.items():
            db_val, our_val = getattr(stored, fname), getattr(ours, fname)
            if not db_val or os.path.normpath(str(db_val)) == os.path.normpath(str(our_val)):
                continue
            if fname == "os":
                mismatches.append((label, db_val, our_val))
                continue
            section, key = _config_key(fname)
            if self.cfg.is_explicit(section, key):
                mismatches.append((label, db_val, our_val))
                continue
            self.warnings.append(
                "[%s] %s = %r (from %s) is overridden by %r from the database %s; the database value is used"
                % (section, key, our_val, self.cfg.source(section, key), db_val, self.db_path))
            self.cfg.set(section, key, db_val, SOURCE_DATABASE)
        if mismatches:
            label, db_val, our_val = mismatches[0]
            msg = 'database %s "%s" does not match our %s "%s": database configuration mismatch' % (
                label, db_val, label, our_val)
            if resetting:
                self.warnings.append("%s; runtime paths differ from those stored in the database, "
                                     "storage reset may not remove all files" % msg)
            else:
                raise DBConfigMismatch(msg, hint="use the path stored in %s, or reset the engine with "
                                                 "system_reset to start over with new paths" % self.db_path)

    def _init_runtimes(self) -> None:
        """Build the OCI runtimes table and pick the default, as newRuntimeFromConfig."""
        table = self.cfg.get("engine", "runtimes")
        supports_json = set(self.cfg.get("engine", "runtime_supports_json"))
        hybrid_crun = None
        for name, paths in table.items():
            path = _first_executable(paths) or shutil.which(name)
            if not path:
                continue  # libpod logs missing optional runtimes at debug level only
            entry = RuntimeEntry(name=name, path=path, supports_json=name in supports_json)
            if name == "crun" or os.path.basename(path) == "crun":
                if hybrid_crun is None:
                    hybrid_crun = cgroups.crun_needs_private_mount_ns()
                if hybrid_crun:
                    entry.private_mount_ns = True
                    entry.note = ("cgroup v1+v2 hybrid host: crun runs in a private mount namespace "
                                  "without /sys/fs/cgroup/unified")
            self.runtimes[name] = entry
        wanted = self.cfg.get("engine", "runtime")
        if wanted.startswith("/"):
            if not os.access(wanted, os.X_OK):
                raise OCIRuntimeNotFound('default OCI runtime "%s" not found: no executable at that path' % wanted,
                                         hint="install it or set [engine] runtime to one of: %s"
                                              % (", ".join(self.runtimes) or "none found"))
            base = os.path.basename(wanted)
            entry = RuntimeEntry(name=wanted, path=wanted, supports_json=base in supports_json)
            if base == "crun" and cgroups.crun_needs_private_mount_ns():
                entry.private_mount_ns = True
            self.runtimes[wanted] = entry
            self.default_runtime = wanted
            self.runtime_choice_reason = "[engine] runtime = %s (%s)" % (wanted, self.cfg.source("engine", "runtime"))
        elif wanted:
            if wanted not in self.runtimes:
                where = table.get(wanted)
                raise OCIRuntimeNotFound(
                    'default OCI runtime "%s" not found: %s' % (
                        wanted, "none of %s exists" % ", ".join(where) if where
                        else "it is not in the [engine.runtimes] table"),
                    hint="install %s or choose one of: %s" % (wanted, ", ".join(self.runtimes) or "none found"))
            self.default_runtime = wanted
            self.runtime_choice_reason = "[engine] runtime = %s (%s)" % (wanted, self.cfg.source("engine", "runtime"))
        else:
            found = [n for n in RUNTIME_PREFERENCE if n in self.runtimes]
            found += [n for n in self.runtimes if n not in found]
            if not found:
                raise OCIRuntimeNotFound("no OCI runtime has been configured: none of %s is installed"
                                         % ", ".join(table), hint="install runc or crun")
            self.default_runtime, self.runtime_choice_reason = choose_default_runtime(
                found, {n: e.private_mount_ns for n, e in self.runtimes.items()})
        if not self.runtimes:
            raise OCIRuntimeNotFound("no OCI runtime has been configured", hint="install runc or crun")

    @property
    def alive_path(self) -> str:
        """Written in the (tmpfs) tmp dir after a finished refresh: its absence means a fresh boot."""
        return os.path.join(self.tmp_dir, "alive")

    # -- lazily built parts -------------------------------------------------------------------
    def _runtime_entry(self, name: str):
        entry = self.runtimes.get(name)
        if entry is None:
            raise OCIRuntimeNotFound('requested OCI runtime %s is not available' % name,
                                     hint="install it, or migrate containers with runtime_config "
                                          "migrate_runtime")
        return entry

    def oci(self, name: Optional[str] = None):
        """The OCIRuntime driver for ``name`` (default runtime when None)."""
        name = name or self.default_runtime
        key = "oci:" + name
        if key not in self._lazy:
            entry = self._runtime_entry(name)
            from .oci.driver import OCIRuntime  # noqa: PLC0415

            self._lazy[key] = OCIRuntime(
                entry.name, entry.path, conmon_path=self.conmon_path,
                runtime_root=os.path.join(self.tmp_dir, "runtime", os.path.basename(entry.name)),
                exit_dir=self.exit_dir, conmon_env=self.conmon_env(),
                private_mount_ns=entry.private_mount_ns,
                no_pivot=self.cfg.get("engine", "no_pivot_root"),
                log_level=self.cfg.get("engine", "conmon_log_level"),
                supports_json=entry.supports_json)
        return self._lazy[key]

    def read_exit(self, ctr_id: str, runtime: Optional[str] = None) -> Optional[Tuple[int, float]]:
        """conmon's exit file of ``ctr_id`` as ``oci(runtime).read_exit`` reads it (the same
        error when that runtime is gone), without building the driver: a sync on every task
        would import it (issue 20)."""
        self._runtime_entry(runtime or self.default_runtime)
        return read_exit(self.exit_dir, ctr_id)

    @property
    def images(self):
        if "images" not in self._lazy:
            from .image.store import ImageStore  # noqa: PLC0415

            self._lazy["images"] = ImageStore(self.state, self.graph_root,
                                              pull_timeout=float(self.cfg.get("engine", "image_pull_timeout")),
                                              read_only=self.read_only)
        return self._lazy["images"]

    @property
    def storage(self):
        if "storage" not in self._lazy:
            from .storage.rootfs import RootfsStore  # noqa: PLC0415

            self._lazy["storage"] = RootfsStore(
                self.graph_root, self.graph_driver, run_root=self.run_root,
                mount_program=self.cfg.get("storage", "mount_program"),
                strict=self.graph_driver == "overlay" and self.cfg.is_explicit("storage", "graph_driver"))
        return self._lazy["storage"]

    @property
    def mapped_roots(self):
        """ID-shifted image copies for containers with a user namespace (storage/idmapped.py)."""
        if "mapped_roots" not in self._lazy:
            from .storage.idmapped import MappedRoots  # noqa: PLC0415 - only containers with a uidmap

            self._lazy["mapped_roots"] = MappedRoots(self.graph_root)
        return self._lazy["mapped_roots"]

    @property
    def network(self):
        """The network manager (imported only when a container needs it)."""
        if "network" not in self._lazy:
            from .network.manager import NetworkManager  # noqa: PLC0415

            self._lazy["network"] = NetworkManager(
                self.state, tmp_dir=self.tmp_dir,
                default_network=self.cfg.get("network", "default_network"),
                default_subnet=self.cfg.get("network", "default_subnet"),
                bridge_prefix=self.cfg.get("network", "bridge_prefix"),
                root=self.root_id, warn=self.warnings.append,
                nft_backend="none" if self.rootless else "auto",
                # left at their defaults, the default network moves off another root's bridge/subnet
                auto_bridge=self.cfg.source("network", "bridge_prefix") == SOURCE_DEFAULT,
                auto_subnet=self.cfg.source("network", "default_subnet") == SOURCE_DEFAULT,
                proxy_command=self.loopproxy_command)
        return self._lazy["network"]

    def has_networking(self) -> bool:
        """Whether any network state exists (so teardown paths can skip the network package)."""
        return "network" in self._lazy or bool(self.state.query("SELECT 1 FROM networks LIMIT 1"))

    @property
    def volumes(self):
        if "volumes" not in self._lazy:
            from .volume.manager import VolumeManager  # noqa: PLC0415

            self._lazy["volumes"] = VolumeManager(
                self.state, self.locks, volume_path=self.volume_path,
                plugins=self.cfg.get("engine", "volume_plugins"), namespace=self.state.namespace,
                plugin_timeout=float(self.cfg.get("engine", "volume_plugin_timeout")))
        return self._lazy["volumes"]

    @property
    def secrets(self):
        if "secrets" not in self._lazy:
            from .secret.manager import SecretManager  # noqa: PLC0415

            self._lazy["secrets"] = SecretManager(self.state, self.static_dir)
        return self._lazy["secrets"]

    def init_path(self) -> str:
        """catatonit for init: true (containers.conf init_path, else the usual places)."""
        for key in (("containers", "init_path"), ("engine", "init_path")):
            if self.cfg.get(*key):
                return self.cfg.get(*key)
        for cand in ("/usr/libexec/podman/catatonit", "/usr/bin/catatonit", "/usr/local/bin/catatonit"):
            if os.path.isfile(cand):
                return cand
        return shutil.which("catatonit") or "/usr/bin/catatonit"

    def conmon_env(self) -> Dict[str, str]:
        env = {}
        for item in self.cfg.get("engine", "conmon_env_vars"):
            k, _unused, v = item.partition("=")
            env[k] = v
        return env

    def ensure_open(self) -> None:
        if not self.valid:
            raise RuntimeStopped("the engine runtime has been shut down")

    @property
    def events(self) -> Eventer:
        """The events log (store/events.py Eventer), made when first used: a no-op task writes no
        event and does not load it (issue 20)."""
        if "events" not in self._lazy:
            from .store.events import Eventer  # noqa: PLC0415 - see the docstring

            self._lazy["events"] = Eventer(self.cfg.get("engine", "events_logger"), self.events_path,
                                           self._lazy["events_max_size"])
        return self._lazy["events"]

    def event(self, type_: str, status: str, **kw: Any) -> None:
        from .store.events import Event  # noqa: PLC0415 - see events

        self.events.write(Event(type=type_, status=status, **kw))

    # -- exit command (life after the task) -------------------------------------------------
    def engine_copy(self) -> str:
        """A copy of this engine package that outlives the Ansible task (for conmon's exit command)."""
        if "engine_copy" in self._lazy:
            return self._lazy["engine_copy"]
        dest_root = os.path.join(self.static_dir, "lib", engine_digest()[:16])
        dest = os.path.join(dest_root, "libpod_engine")
        created = False
        if os.path.isfile(os.path.join(dest_root, "run.py")):
            try:  # in use: another version's prune keeps it (host/enginecopies.py)
                os.utime(dest_root, follow_symlinks=False)
            except OSError:
                pass
        else:
            tmp = dest_root + ".tmp%d" % os.getpid()
            for name, data in engine_sources().items():
                target = os.path.join(tmp, "libpod_engine", *name.split("/"))
                os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
                with open(target, "wb") as f:
                    f.write(data)
            with open(os.path.join(tmp, "run.py"), "w") as f:
                f.write("import os, sys\nsys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
                        "from libpod_engine.ops.cli import main\nsys.exit(main(sys.argv[1:]))\n")
            try:
                os.rename(tmp, dest_root)
                created = True
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
        # conmon runs this copy as root long after the task: nobody else may have been able to replace it
        ownership.check_tree(dest_root, "the exit command's engine copy")
        ownership.check_path(sys.executable, "the exit command's Python interpreter",
                             hint="run the module with a Python that only root can replace "
                                  "(ansible_python_interpreter: /usr/bin/python3, or a venv owned by root)")
        self._lazy["engine_copy"] = dest
        if created:
            # deferred: only the task that writes a new copy (once per engine version) prunes
            from .host import enginecopies  # noqa: PLC0415

            removed = enginecopies.prune(os.path.dirname(dest_root), keep=os.path.basename(dest_root))
            if removed:
                try:
                    self.event("system", "prune", attributes={"engine_copies": " ".join(removed)})
                except OSError:
                    pass  # never fatal to the task
        return dest

    def exit_python(self) -> str:
        """The interpreter of the exit command: one that outlives venv changes when there is one.

        Not its realpath: a venv's bin/python must stay the venv's (its site-packages)."""
        if "exit_python" not in self._lazy:
            cache = self._probe_cache().setdefault("exit_python", {})
            before = json.dumps(cache, sort_keys=True)
            self._lazy["exit_python"] = interpreter.exit_interpreter(cache, _stat_key)
            if json.dumps(cache, sort_keys=True) != before:
                self._save_probe_cache()
        return self._lazy["exit_python"]

    def loopproxy_command(self) -> List[str]:
        """argv prefix of the userspace proxy for [::1] publishes (network/loopproxy.py): the
        engine copy's file, run by the exit command's interpreter (it outlives the task)."""
        return [self.exit_python(), "-I", os.path.join(self.engine_copy(), "network", "loopproxy.py")]

    def cli_command(self) -> List[str]:
        """argv prefix that runs the engine CLI with this runtime's paths."""
        run_py = os.path.join(os.path.dirname(self.engine_copy()), "run.py")
        argv = [self.exit_python(), "-I", run_py]
        # conmon's environment is ours to set and does not carry LIBPOD_ENGINE_CONF: name the
        # file, so that the exit command sees the same configuration (volume plugins, ...)
        conf = (self._env or os.environ).get(ENV_CONF)
        if conf:
            argv += ["--conf", os.path.abspath(conf)]
        for section, key in (("engine", "static_dir"), ("engine", "tmp_dir"), ("engine", "volume_path"),
                             ("storage", "graph_root"), ("storage", "run_root"), ("storage", "graph_driver"),
                             ("storage", "mount_program")):
            argv += ["--set", "%s.%s=%s" % (section, key, self.cfg.get(section, key))]
        return argv

    # -- info -------------------------------------------------------------------------------
    def runtime_version(self, entry: RuntimeEntry) -> str:
        cache = self._probe_cache().setdefault("runtimes", {})
        st = _stat_key(entry.path)
        hit = cache.get(entry.path)
        if hit and hit.get("stat") == st:
            return hit["version"]
        from .oci.driver import runtime_version  # noqa: PLC0415

        try:
            text = runtime_version(entry.path)
            # "runc version 1.1.5+ds1\ncommit: ..." / "crun version 1.8.1\n..." -> "1.1.5+ds1"
            first = text.splitlines()[0] if text else ""
            version = first.split("version", 1)[1].strip() if "version" in first else first
        except EngineError as exc:
            version = "unknown (%s)" % exc
        cache[entry.path] = {"stat": st, "version": version}
        self._save_probe_cache()
        return version

    def info(self) -> Dict[str, Any]:
        """Host, versions, paths, DB config and object counts (podman info)."""
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
        nproc = resource.getrlimit(resource.RLIMIT_NPROC)
        default = self.runtimes[self.default_runtime]
        counts = {k: self.state.count(k) for k in ("container", "pod", "volume")}
        counts["image"] = self.state.query("SELECT COUNT(*) FROM images")[0][0]
        counts["network"] = self.state.query("SELECT COUNT(*) FROM networks")[0][0]
        return {
            "version": ENGINE_VERSION,
            "host": {
                "hostname": socket.gethostname(),
                "kernel": platform.release(),
                "arch": platform.machine(),
                "os": sys.platform,
                "cgroup_mode": cgroups.cgroup_mode(),
                "cgroup_manager": self.cfg.get("engine", "cgroup_manager"),
                "rlimits": {"nofile": list(nofile), "nproc": list(nproc)},
                "python": sys.executable,
                "id_mappings": self._id_mappings(),
            },
            "conmon": {"path": self.conmon_path, "version": self.conmon_version},
            "oci_runtimes": {
                name: {"path": e.path, "version": self.runtime_version(e), "private_mount_ns": e.private_mount_ns,
                       "note": e.note}
                for name, e in sorted(self.runtimes.items())
            },
            "default_runtime": {"name": default.name, "path": default.path, "note": default.note},
            "oci_runtime_choice_reason": self.runtime_choice_reason,
            "store": {
                "static_dir": self.static_dir, "tmp_dir": self.tmp_dir, "volume_path": self.volume_path,
                "graph_root": self.graph_root, "run_root": self.run_root, "graph_driver": self.graph_driver,
                "overlay": self._overlay_info(),
                "db_path": self.db_path, "lock_type": "file", "num_locks": self.locks.num_locks,
                "locks_in_use": self.state.query("SELECT COUNT(*) FROM locks")[0][0],
                "events_logger": self.events.logger, "events_log": self.events.path,
            },
            "db_config": asdict(self.db_config) if self.db_config else None,
            "config_files": list(self.cfg.files),
            "namespace": self.state.namespace,
            "counts": counts,
            "refreshed": self.refreshed,
            "rootless": self.rootless,
            "rootless_user": self._rootless_info(),
        }

    def _overlay_info(self) -> Dict[str, str]:
        """Which overlay the root mounts new containers with: kind native or fuse-overlayfs ("" for vfs),
        the FUSE program, and why (forced by mount_program, or native overlay refused)."""
        store = self.storage
        if self.read_only:  # no probe mount in a root that does not exist (or in check mode)
            known = store.known_overlay()
            if known is None:
                return {"kind": "", "mount_program": "", "reason": "not probed yet: the root has not been used"}
            if store.requested_driver == "vfs" or not known.kind:
                return {"kind": "", "mount_program": "", "reason": known.reason}
            return {"kind": known.kind, "mount_program": known.program, "reason": known.reason}
        try:
            kind = store.overlay_kind
        except EngineError as exc:
            return {"kind": "", "mount_program": "", "reason": str(exc)}
        return {"kind": kind, "mount_program": store.overlay.program if kind else "",
                "reason": store.overlay.reason if kind else store.fallback_reason}

    def _rootless_info(self) -> Optional[Dict[str, Any]]:
        """The user's paths and the namespace it runs in (None as root)."""
        if self.user_dirs is None:
            return None
        d, ns = self.user_dirs, self.userns
        return {"uid": d.uid, "home": d.home, "runtime_dir": d.runtime_dir, "config_file": d.config_file,
                "pause_pid": ns.pause_pid if ns else None,
                "pause_pid_file": os.path.join(self.tmp_dir, "pause.pid"),
                "uidmap": ["%d:%d:%d" % m for m in ns.uid_map] if ns else [],
                "gidmap": ["%d:%d:%d" % m for m in ns.gid_map] if ns else [],
                "cgroup": asdict(self.rootless_cgroup)}

    def _id_mappings(self) -> Dict[str, List[str]]:
        """The subordinate ranges this user owns (podman info's host.idMappings), for user namespaces."""
        import pwd  # noqa: PLC0415 - info only

        from .host.subids import SUBGID_FILE, SUBUID_FILE, subid_ranges  # noqa: PLC0415 - info only
        from .parse.idmap import format_idmaps  # noqa: PLC0415 - info only
        uid = self.user_dirs.uid if self.user_dirs is not None else os.getuid()  # not 0 inside the userns
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = str(uid)
        return {"uidmap": format_idmaps(subid_ranges(name, uid, SUBUID_FILE)),
                "gidmap": format_idmaps(subid_ranges(name, uid, SUBGID_FILE))}

    def shutdown(self) -> None:
        """Shutdown(false): close the DB; never removes anything."""
        if not self.valid:
            return
        self.valid = False
        self.state.close()


def choose_default_runtime(found: List[str], private_mount_ns: Dict[str, bool]) -> Tuple[str, str]:
    """The default runtime when containers.conf names none, and why: libpod's preference order
    (crun first), except that crun needing a private mount namespace per spawn (cgroup v1+v2 hybrid
    host) is passed over for runc when runc is installed. Measured on such a host (issue 20,
    bench/out): crun in its private namespace is 1.1x slower than runc at create+start, 1.3x at
    stop and 1.1x at remove, because every crun call forks through unshare + umount first."""
    first = found[0]
    if first == "crun" and private_mount_ns.get("crun") and "runc" in found:
        return "runc", ("runc: crun needs a private mount namespace per call on this cgroup v1+v2 hybrid host, "
                        "which makes it slower than runc here; set [engine] runtime = \"crun\" to use it anyway")
    why = "first installed runtime in the preference order %s" % ", ".join(RUNTIME_PREFERENCE)
    if first == "crun" and private_mount_ns.get("crun"):
        why += " (runs in a private mount namespace per call: hybrid cgroup host, runc is not installed)"
    return first, "%s: %s" % (first, why)


def engine_digest() -> str:
    """sha256 over the engine's files (paths and contents): names the exit command's copy."""
    packed = getattr(__loader__, "engine_sha256", None)  # loaded from the pack: computed when packed
    if packed:
        return packed
    sources = engine_sources()
    h = hashlib.sha256()
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name] + b"\0")
    return h.hexdigest()


def engine_sources() -> Dict[str, bytes]:
    """The engine tree's .py files by relative path ("oci/driver.py"): from the pack the module
    carries (module_utils/packed_loader.py) or from the files of a checkout."""
    packed = getattr(__loader__, "engine_sources", None)
    if packed:
        return packed()
    if not os.path.isdir(ENGINE_DIR):
        raise EngineError("cannot locate the engine package to install its exit-command copy (%s)" % ENGINE_DIR)
    out: Dict[str, bytes] = {}
    for dirpath, dirnames, files in os.walk(ENGINE_DIR):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in files:
            if name.endswith(".py"):
                full = os.path.join(dirpath, name)
                with open(full, "rb") as f:
                    out[os.path.relpath(full, ENGINE_DIR).replace(os.sep, "/")] = f.read()
    return out


def _config_key(db_field: str):
    from .config.schema import DB_CONFIG_KEYS  # noqa: PLC0415

    return DB_CONFIG_KEYS[db_field]


def _first_executable(paths: List[str]) -> Optional[str]:
    for p in paths:
        try:
            if os.path.isfile(p) and os.access(p, os.X_OK):
                return p
        except OSError:
            continue
    return None
