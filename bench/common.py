# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared plumbing of the benchmark suite (figures only, never assertions on time).

* ``BenchRoot``: an isolated engine root (static dir under /tmp, tmp dir /run/lpe-bench-<random>,
  its own bridge prefix and subnet) with a containers.conf, the environment for ansible-playbook
  and a cleanup that removes containers, networks, mounts, netns and conmon processes and then
  checks that nothing is left.
* ``summary()``: median / min / max of N samples, in milliseconds.
* ``run_playbook()``: one ansible-playbook run with the ``lpe_bench_timing`` callback, which
  records when each loop item finished (per-item figures from one run).
"""
from __future__ import annotations

import ipaddress
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Dict, Iterable, List, Optional

from _params import IMAGE

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
BUILD = os.path.join(REPO, ".build", "collections")
LINK = os.path.join(BUILD, "ansible_collections", "libpod", "engine")
CALLBACK_DIR = os.path.join(BENCH, "callback_plugins")
PKG = "ansible_collections.libpod.engine.plugins.module_utils"
PYTHON = sys.executable


def ensure_collection_link() -> None:
    """The repo as ansible_collections.libpod.engine (what tests/conftest.py does)."""
    if not os.path.islink(LINK) and not os.path.isdir(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        try:
            os.symlink(REPO, LINK)
        except FileExistsError:
            pass
    if BUILD not in sys.path:
        sys.path.insert(0, BUILD)


ensure_collection_link()


# -- figures -----------------------------------------------------------------------------------
def summary(seconds: Iterable[float]) -> Dict[str, Any]:
    """median/min/max in ms of samples given in seconds; n = number of samples."""
    vals = [float(v) for v in seconds]
    if not vals:
        return {"n": 0, "median": None, "min": None, "max": None}
    return {"n": len(vals), "median": round(statistics.median(vals) * 1e3, 2),
            "min": round(min(vals) * 1e3, 2), "max": round(max(vals) * 1e3, 2)}


def fmt(s: Optional[Dict[str, Any]], unit: str = "ms") -> str:
    """'12.3 ms (10.1–15.0, N=20)' for a summary()."""
    if not s or s.get("median") is None:
        return "–"
    if unit == "s":
        return "%.2f s (%.2f–%.2f, N=%d)" % (s["median"] / 1e3, s["min"] / 1e3, s["max"] / 1e3, s["n"])
    return "%.1f ms (%.1f–%.1f, N=%d)" % (s["median"], s["min"], s["max"], s["n"])


def children_cpu() -> float:
    """CPU seconds (user + sys) of this process's waited-for children so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def loadavg() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


class Section:
    """Collects one section's figures, with the load average at its start and end."""

    def __init__(self, name: str, title: str):
        self.name = name
        self.title = title
        self.data: Dict[str, Any] = {"title": title, "load_start": loadavg(), "rows": [], "notes": []}
        self._t0 = time.monotonic()

    def row(self, label: str, fig: Optional[Dict[str, Any]], **extra: Any) -> None:
        entry = {"label": label, "ms": fig}
        entry.update(extra)
        self.data["rows"].append(entry)
        print("  %-58s %s%s" % (label, fmt(fig), "".join("  %s=%s" % kv for kv in extra.items())), flush=True)

    def note(self, text: str) -> None:
        self.data["notes"].append(text)
        print("  note: " + text, flush=True)

    def cleanup(self, broot: BenchRoot) -> None:
        """Remove the section's engine root and record what had to be cleaned (nothing, normally)."""
        left = broot.cleanup()
        self.data["leftovers"] = left
        if left:
            self.note("cleanup: %s" % left)

    def close(self) -> Dict[str, Any]:
        self.data["load_end"] = loadavg()
        self.data["seconds"] = round(time.monotonic() - self._t0, 1)
        return self.data


# -- isolated engine root ------------------------------------------------------------------------
def _host_routes() -> List[ipaddress.IPv4Network]:
    out = []
    try:
        text = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True,
                              check=False, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return out
    for line in text.splitlines():
        tok = line.split()
        if not tok:
            continue
        dest = tok[1] if tok[0] in ("local", "broadcast", "unreachable", "blackhole", "prohibit") else tok[0]
        if dest == "default":
            continue
        try:
            out.append(ipaddress.IPv4Network(dest, strict=False))
        except ValueError:
            continue
    return out


def _free_subnet() -> str:
    """A /24 in 10.213.232.0/21 that no host route uses (bench/net_setup.py uses 10.213.254.0/24)."""
    used = _host_routes()
    cands = list(range(232, 240))
    start = int(uuid.uuid4().hex[:4], 16) % len(cands)
    for i in range(len(cands)):
        net = ipaddress.IPv4Network("10.213.%d.0/24" % cands[(start + i) % len(cands)])
        if not any(net.overlaps(u) for u in used):
            return str(net)
    raise RuntimeError("no free /24 in 10.213.232.0/21 for the bench network")


def _mounts_under(dirs: List[str]) -> List[str]:
    # imported here like the engine everywhere in bench (not at the import of common.py)
    from ansible_collections.libpod.engine.tests.helpers.mounts import mounts_below

    return mounts_below(dirs)


def _procs_mentioning(needles: List[str]) -> List[tuple]:
    """(pid, command line as ps shows it) of the other processes naming one of ``needles``."""
    # imported here like the engine everywhere in bench (not at the import of common.py)
    from ansible_collections.libpod.engine.plugins.module_utils.engine.host.proc import argvs, printable

    out = []
    me = os.getpid()
    for pid, args in argvs():
        cmd = " ".join(args)
        if pid != me and any(n in cmd for n in needles):
            out.append((pid, printable(cmd)))
    return out


class BenchRoot:
    """One isolated engine root; ``cleanup()`` removes it and returns what was left over."""

    def __init__(self, label: str = "bench"):
        tag = uuid.uuid4().hex[:8]
        self.root = tempfile.mkdtemp(prefix="lpe-bench-%s-" % label, dir="/tmp")
        self.static_dir = os.path.join(self.root, "static")
        run_parent = "/run" if os.access("/run", os.W_OK) else self.root
        self.tmp_dir = os.path.join(run_parent, "lpe-bench-%s" % tag)
        self.graph_root = os.path.join(self.static_dir, "storage")
        self.volume_path = os.path.join(self.static_dir, "volumes")
        # own bridge names and subnet: runs beside the tests and other bench runs
        self.bridge_prefix = "lpb" + tag[:3]
        self.subnet = _free_subnet()
        self.network = "lpebench"
        self.conf = os.path.join(self.root, "containers.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write("# written by bench/common.py\n[engine]\n"
                    "static_dir = %s\ntmp_dir = %s\nvolume_path = %s\n\n[storage]\ngraph_root = %s\n\n"
                    "[network]\ndefault_network = %s\ndefault_subnet = %s\nbridge_prefix = %s\n"
                    % tuple(json.dumps(v) for v in (self.static_dir, self.tmp_dir, self.volume_path,
                                                    self.graph_root, self.network, self.subnet,
                                                    self.bridge_prefix)))
        self.ansible_cfg = os.path.join(self.root, "ansible.cfg")
        open(self.ansible_cfg, "w", encoding="utf-8").close()
        self.runs = 0
        self.cleaned = False

    @property
    def roots(self) -> List[str]:
        return [self.root, self.tmp_dir]

    def env(self, **extra: str) -> Dict[str, str]:
        """Environment for engine subprocesses and ansible-playbook."""
        env = dict(os.environ)
        env.update({
            "LIBPOD_ENGINE_CONF": self.conf,
            "PYTHONPATH": BUILD,
            "ANSIBLE_CONFIG": self.ansible_cfg,
            "ANSIBLE_COLLECTIONS_PATH": BUILD,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR,
            "ANSIBLE_CALLBACKS_ENABLED": "lpe_bench_timing",
            "ANSIBLE_PYTHON_INTERPRETER": PYTHON,
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.root, "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": os.path.join(self.root, "ansible-remote-tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        })
        # a normal host caches bytecode; this session's environment may say otherwise
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(extra)
        return env

    def activate(self) -> None:
        """Make Runtime.open() in this process use this root."""
        os.environ["LIBPOD_ENGINE_CONF"] = self.conf

    def open(self):
        from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
        from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions

        return open_runtime(OpenOptions(env={"LIBPOD_ENGINE_CONF": self.conf}))

    # -- cleanup ----------------------------------------------------------------------------
    _REMOVE = (
        "import json, os, sys\n"
        "from %s.engine.runtime import OpenOptions\n"
        "from %s.engine.ops.session import open_runtime\n"
        "from %s.engine.objects.container import find_container\n"
        "rt = open_runtime(OpenOptions())\n"
        "errs = []\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    c = find_container(rt, name)\n"
        "    try:\n"
        "        if c is not None:\n"
        "            c.remove(force=True, timeout=0)\n"
        "    except Exception as e:\n"
        "        errs.append('container %%s: %%s' %% (name, e))\n"
        "if not sys.argv[2:]:\n"
        "    rt.shutdown()\n"
        "    print(json.dumps(errs))\n"
        "    sys.exit(0)\n"
        "if rt.has_networking():\n"
        "    net = rt.network\n"
        "    for n in net.list_networks():\n"
        "        try:\n"
        "            net.remove_network(n['name'], force=True)\n"
        "        except Exception as e:\n"
        "            errs.append('network %%s: %%s' %% (n['name'], e))\n"
        "if os.path.isdir(os.path.join(rt.tmp_dir, 'netns')):\n"
        "    from %s.engine.network.manager import remove_netns_dir\n"
        "    remove_netns_dir(os.path.join(rt.tmp_dir, 'netns'))\n"
        "rt.shutdown()\n"
        "print(json.dumps(errs))\n"
    ) % (PKG, PKG, PKG, PKG)

    def _engine_teardown(self, problems: List[str]) -> None:
        """Remove containers (in up to 8 parallel processes: a stop can take seconds), then networks,
        through the engine. No cleanup_orphans(): it would also touch the nft chains of other
        engine roots that share the nft table."""
        db = os.path.join(self.static_dir, "state.db")
        if not os.path.exists(db):
            return
        import sqlite3

        conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=60)
        try:
            names = [r[0] for r in conn.execute("SELECT name FROM containers ORDER BY name")]
        finally:
            conn.close()
        groups = [names[i::8] for i in range(min(8, len(names)))]
        procs = [subprocess.Popen([PYTHON, "-c", self._REMOVE, json.dumps(g)], env=self.env(), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for g in groups]
        procs.append(None)  # then networks, after every container is gone
        for proc in procs:
            if proc is None:
                proc = subprocess.Popen([PYTHON, "-c", self._REMOVE, "[]", "networks"], env=self.env(), text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = proc.communicate(timeout=900)
            if proc.returncode != 0:
                problems.append("engine teardown failed: %s" % err.strip()[-800:])
                continue
            try:
                problems.extend(json.loads(out.strip().splitlines()[-1]))
            except (ValueError, IndexError):
                pass

    def leftovers(self) -> List[str]:
        """What of this root is still on the host (mounts, processes, links, runtime containers)."""
        out = ["mount %s" % m for m in _mounts_under(self.roots)]
        out += ["process %d: %s" % (pid, cmd[:160]) for pid, cmd in _procs_mentioning(self.roots)]
        if os.path.isdir("/sys/class/net"):
            out += ["link %s" % n for n in os.listdir("/sys/class/net") if n.startswith(self.bridge_prefix)]
        out += ["dir %s" % d for d in self.roots if os.path.exists(d)]
        return out

    def cleanup(self) -> List[str]:
        """Tear down through the engine, then a safety net; returns what the net had to remove."""
        if self.cleaned:
            return []
        self.cleaned = True
        problems: List[str] = []
        try:
            self._engine_teardown(problems)
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append("engine teardown: %s" % exc)
        # exit commands (conmon -> engine cleanup) still running: give them a moment
        deadline = time.monotonic() + 10
        while _procs_mentioning(self.roots) and time.monotonic() < deadline:
            time.sleep(0.1)
        forced: List[str] = []
        runtime_dir = os.path.join(self.tmp_dir, "runtime")
        if os.path.isdir(runtime_dir):
            for name in sorted(os.listdir(runtime_dir)):
                binary = shutil.which(name)
                if not binary:
                    continue
                state_root = os.path.join(runtime_dir, name)
                ids = subprocess.run([binary, "--root", state_root, "list", "-q"], capture_output=True,
                                     text=True, check=False, timeout=30).stdout.split()
                for cid in ids:
                    forced.append("%s container %s" % (name, cid))
                    subprocess.run([binary, "--root", state_root, "delete", "--force", cid],
                                   capture_output=True, check=False, timeout=30)
        for pid, cmd in _procs_mentioning(self.roots):  # started for this root only (by pid)
            forced.append("process %d: %s" % (pid, cmd[:160]))
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for point in _mounts_under(self.roots):
            forced.append("mount %s" % point)
            subprocess.run(["umount", "-l", point], capture_output=True, check=False, timeout=30)
        if os.path.isdir("/sys/class/net"):
            for link in os.listdir("/sys/class/net"):
                if link.startswith(self.bridge_prefix):
                    forced.append("link %s" % link)
                    subprocess.run(["ip", "link", "del", link], capture_output=True, check=False, timeout=30)
        if not _mounts_under(self.roots):
            from ansible_collections.libpod.engine.plugins.module_utils.engine.host import roots as engine_roots

            root_id = engine_roots.RootId.of(self.static_dir)  # (resolved while the directory exists)
            for path in self.roots:
                shutil.rmtree(path, ignore_errors=True)
            engine_roots.forget_root(root_id)  # out of the host's roots registry, as system_reset does
        left = self.leftovers()
        return problems + ["removed by the safety net: " + f for f in forced] + ["STILL THERE: " + x for x in left]


# -- images ------------------------------------------------------------------------------------
def busybox_archive(workdir: str) -> str:
    """oci-archive of a busybox-static image built locally (tests/helpers/images.py)."""
    from ansible_collections.libpod.engine.tests.helpers.images import busybox_image, write_oci_archive

    img = busybox_image(workdir, config={"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                                         "WorkingDir": "/"})
    return write_oci_archive(os.path.join(workdir, "busybox.tar"), [(img, IMAGE)])


def import_image(rt, archive: str) -> str:
    img = rt.images.pull("oci-archive:" + archive)
    return img.id


# -- ansible-playbook ----------------------------------------------------------------------------
def playbook_bin() -> str:
    exe = os.path.join(os.path.dirname(PYTHON), "ansible-playbook")
    return exe if os.access(exe, os.X_OK) else (shutil.which("ansible-playbook") or "ansible-playbook")


def ansible_available() -> bool:
    return os.access(playbook_bin(), os.X_OK) or shutil.which("ansible-playbook") is not None


def run_playbook(broot: BenchRoot, tasks_yaml: str, *, timeout: int = 1200,
                 env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """Run one play on localhost; returns wall seconds, rc, per-item timings from the callback.
    ``env``: more environment (e.g. another checkout's PYTHONPATH/ANSIBLE_COLLECTIONS_PATH)."""
    broot.runs += 1
    workdir = os.path.join(broot.root, "runs")
    os.makedirs(workdir, exist_ok=True)
    stem = os.path.join(workdir, "run%03d" % broot.runs)
    with open(stem + ".yml", "w", encoding="utf-8") as f:
        f.write("- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n")
        for line in tasks_yaml.strip("\n").splitlines():
            f.write("    " + line + "\n")
    timing_file = stem + ".timing.json"
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run([playbook_bin(), "-i", "localhost,", stem + ".yml"],
                          env=broot.env(LPE_BENCH_TIMING_FILE=timing_file, **(env or {})), cwd=broot.root,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - t0
    cpu = children_cpu() - cpu0
    timing: Dict[str, Any] = {"tasks": []}
    if os.path.exists(timing_file):
        with open(timing_file, encoding="utf-8") as f:
            timing = json.load(f)
    return {"rc": proc.returncode, "wall": wall, "cpu": cpu, "tasks": timing.get("tasks", []),
            "stdout": proc.stdout[-4000:], "stderr": proc.stderr[-4000:]}


def item_durations(task: Dict[str, Any]) -> List[float]:
    """Seconds per loop item: from the task start (first item) or the previous item's end."""
    out, prev = [], task["start"]
    for item in task["items"]:
        out.append(item["t"] - prev)
        prev = item["t"]
    return out


def worker(broot: BenchRoot, *args: str, timeout: int = 900) -> Dict[str, Any]:
    """Run bench/_worker.py in a fresh interpreter (as a module process would be); its JSON."""
    cpu0 = children_cpu()
    proc = subprocess.run([PYTHON, os.path.join(BENCH, "_worker.py"), *args], env=broot.env(),
                          capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError("worker %s failed: %s" % (" ".join(args), proc.stderr.strip()[-2000:]))
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["cpu"] = children_cpu() - cpu0
    return out
