# SPDX-License-Identifier: GPL-3.0-or-later
"""results.json -> report.md (markdown tables) and report.png (matplotlib, when importable)."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

# peer baseline on this VM (shared/reference/peer-containers-podman.md §7, N = 20, wall / N)
PEER = {
    "ping": 230.0,
    "create": 630.0,
    "rerun": 460.0,
    "remove": 480.0,
    "podman run -d": 170.0,
    "podman inspect": 30.0,
    "podman rm -f -t 0": 130.0,
}
TARGETS = {"open": 30.0, "create+start": 65.0}


def _find(section: Optional[Dict[str, Any]], label: str) -> Optional[Dict[str, Any]]:
    if not section:
        return None
    for row in section.get("rows", []):
        if row["label"] == label:
            return row
    for row in section.get("rows", []):
        if row["label"].startswith(label):
            return row
    return None


def _having(section: Optional[Dict[str, Any]], part: str) -> Optional[Dict[str, Any]]:
    rows = [r for r in (section or {}).get("rows", []) if part in r["label"]]
    return rows[0] if rows else None


def _ms(row: Optional[Dict[str, Any]]) -> Optional[float]:
    return row["ms"]["median"] if row and row.get("ms") and row["ms"].get("median") is not None else None


def _cell(row: Optional[Dict[str, Any]]) -> str:
    if not row or not row.get("ms") or row["ms"].get("median") is None:
        return "–"
    s = row["ms"]
    return "%s (%s–%s, N=%d)" % (_num(s["median"]), _num(s["min"]), _num(s["max"]), s["n"])


def _num(v: float) -> str:
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def headline(res: Dict[str, Any]) -> List[Tuple[str, str, str, str]]:
    """(what, figure, target or baseline, reading) rows of the summary table."""
    secs = res["sections"]
    op, ct, no = secs.get("open"), secs.get("containers"), secs.get("noop")
    out: List[Tuple[str, str, str, str]] = []

    ping_row = _having(op, "ansible.builtin.ping: per item")
    ping = _ms(ping_row)
    ping_cpu = (ping_row or {}).get("cpu_ms_per_item")

    def add(what: str, row, ref: str, target: Optional[float] = None, per_task: bool = False) -> None:
        if row is None:
            return
        v = _ms(row)
        reading = ""
        if target is not None and v is not None:
            reading = "within" if v <= target else "over (%.1fx)" % (v / target)
        elif per_task and v is not None and ping:
            reading = "%.1fx this run's ping floor" % (v / ping)
            if row.get("cpu_ms_per_item") and ping_cpu:
                reading += "; CPU %d ms/item (ping %d)" % (row["cpu_ms_per_item"], ping_cpu)
        out.append((what, _cell(row), ref, reading))

    if op:
        add("Runtime.open() warm, empty DB (fresh process)", _find(op, "warm open, empty DB, fresh"),
            "< 30 ms", TARGETS["open"])
        for n in (1, 100, 1000):
            add("Runtime.open() warm, %d containers" % n, _find(op, "warm open, %d container(s) in the DB, fresh" % n),
                "< 30 ms, flat", TARGETS["open"])
        add("Runtime.open() cold (first ever)", _find(op, "cold open"), "–")
        add("open after reboot (refresh), 1000 containers", _find(op, "open after a reboot"), "–")
        add("import engine.runtime (in process)", _find(op, "import of engine.runtime"), "–")
        add("playbook: ansible.builtin.ping per item", _having(op, "ansible.builtin.ping: per item"),
            "peer: %.0f ms (wall/N)" % PEER["ping"])
        add("playbook: runtime_info per item", _having(op, "runtime_info: per item"), "ping floor", per_task=True)
    if ct:
        add("API create+start, network none, runc (not the default crun)",
            _find(ct, "API none/runc: create+start (detached"), "<= 65 ms", TARGETS["create+start"])
        for net in ("none", "bridge"):
            add("API create+start, network %s" % net, _find(ct, "API %s: create+start (detached" % net),
                "<= 65 ms", TARGETS["create+start"])
            add("API stop (timeout 0), network %s" % net, _find(ct, "API %s: stop" % net), "–")
            add("API remove, network %s" % net, _find(ct, "API %s: remove" % net), "–")
            add("fresh process create+start, network %s (whole process)" % net,
                _find(ct, "fresh process %s: whole process" % net), "podman run -d: %.0f ms" % PEER["podman run -d"])
        pod = ct.get("podman") or {}
        for net in ("none", "bridge"):
            p = pod.get(net) or {}
            pairs = (("run -d", "run", "API %s: create+start (detached" % net),
                     ("container inspect", "inspect", "API %s: inspect" % net),
                     ("rm -f -t 0", "rm", None))
            for cli, key, ours in pairs:
                if not p.get(key):
                    continue
                ours_ms = _ms(_find(ct, ours)) if ours else None
                if ours is None:
                    st, rm = _ms(_find(ct, "API %s: stop" % net)), _ms(_find(ct, "API %s: remove" % net))
                    ours_ms = st + rm if st is not None and rm is not None else None
                reading = ""
                if ours_ms and p[key]["median"]:
                    reading = "engine API / podman = %.3g" % (ours_ms / p[key]["median"])
                fresh = _ms(_find(ct, "fresh process %s: whole process (wall)" % net))
                if key == "run" and fresh and p[key]["median"]:
                    reading += "; engine fresh process / podman = %.3g" % (fresh / p[key]["median"])
                out.append(("podman %s, network %s" % (cli, net), _cell({"ms": p[key]}),
                            "peer table: %.0f ms" % PEER["podman " + cli.replace("container ", "")], reading))
        for net in ("bridge", "none"):
            for phase, key in (("create (state started)", "create"), ("no-op re-run", "rerun"),
                               ("remove (absent, timeout 0)", "remove")):
                rows = [r for r in ct["rows"] if r["label"].startswith("playbook %s," % net) and phase in r["label"]]
                add("playbook %s: %s, per item" % (net, phase), rows[0] if rows else None,
                    "peer (bridge): %.0f ms" % PEER[key], per_task=True)
    if ct:
        for key in ("none", "bridge", "none/runc"):
            r = _find(ct, "API %s: create+start / conmon + runtime" % key)
            if r and r.get("ratio") is not None:
                w = _find(ct, "API %s: create+start without that wait" % key)
                out.append(("API create+start / conmon + runtime alone, network %s" % key,
                            _cell(_find(ct, "API %s: create+start (detached" % key)), "ratio <= 1.3",
                            "ratio %.2f (conmon+runtime %s ms)%s" % (r["ratio"], _num(
                                _ms(_find(ct, "API %s: conmon + runtime alone" % key)) or 0),
                                "; %.2f without the early-exit wait" % w["ratio"] if w else "")))
    for name, ours, theirs, what in (("pull", "engine: pull", "podman pull", "pull of a ~100 MB image"),
                                     ("import", "engine: import", "podman load", "import of a ~100 MB oci-archive")):
        sec = secs.get(name)
        r = _find(sec, "ratio engine / podman")
        if r:
            out.append((what + " (engine)", _cell(_find(sec, ours)), "podman: %s" % _cell(_find(sec, theirs)),
                        "engine / podman = %s%s" % (r.get("ratio"), " (per pass %s)" % r["per_pass"]
                                                    if r.get("per_pass") else "")))
    st = secs.get("stack")
    if st:
        r = _find(st, "no-op stack: wall minus empty")
        if r:
            out.append(("no-op stack task over %s containers (state %s): wall minus empty playbook"
                        % (st.get("n"), st.get("state")), _cell(r), "< 1000 ms (issue 20)",
                        "per round %s s" % r.get("per_round", "")))
    if no:
        for size in no.get("sizes", []):
            add("no-op pass over %d containers, one process (per container)" % size,
                _find(no, "%d containers: no-op pass, one process (per container)" % size), "–")
        for size in no.get("sizes", []):
            add("no-op, %d containers, fresh process (whole)" % size,
                _find(no, "%d containers: fresh process: whole" % size), "–")
        for size in (1, 20):
            add("no-op playbook loop of %d, per item" % size, _find(no, "%d containers: playbook loop" % size),
                "peer re-run: %.0f ms" % PEER["rerun"], per_task=True)
    return out


def markdown(res: Dict[str, Any], png: Optional[str]) -> str:
    meta = res["meta"]
    lines = ["# libpod.engine benchmark report", ""]
    lines.append("Run %s → %s (%s s), `%s`." % (meta["started"], meta["finished"], meta["seconds"],
                                                " ".join(meta["argv"])))
    lines.append("")
    lines.append("**Figures only, no assertions.** Each row: median (min–max, N = samples). "
                 "Machine load is noted per section: other engineers' test runs share the 2 cores, so "
                 "figures move with the load (±30 % and more between runs; maxima are mostly load).")
    lines.append("")
    lines.append("| machine | |\n| --- | --- |")
    for k in ("host", "cores", "kernel", "python", "ansible_core", "conmon", "runc", "crun", "default_oci_runtime",
              "engine_commit", "load_start", "load_end", "other_processes_start", "bytecode"):
        if k in meta:
            lines.append("| %s | %s |" % (k, meta[k]))
    lines.append("")
    lines.append("## Summary")
    lines.append("")
    lines.append("| what | median (min–max, N) ms | target / baseline | reading |")
    lines.append("| --- | --- | --- | --- |")
    for what, fig, ref, reading in headline(res):
        lines.append("| %s | %s | %s | %s |" % (what, fig, ref, reading))
    lines.append("")
    if png:
        lines.append("![chart](%s)" % os.path.basename(png))
    else:
        lines.append("_No chart: matplotlib is not importable here (markdown only)._")
    lines.append("")
    for name, sec in res["sections"].items():
        lines.append("## %s" % sec.get("title", name))
        lines.append("")
        lines.append("Load average (1/5/15 min) at start %s, at end %s; %s s." % (
            sec.get("load_start"), sec.get("load_end"), sec.get("seconds")))
        lines.append("")
        if sec.get("rows"):
            lines.append("| figure | median ms | min | max | N | |")
            lines.append("| --- | ---: | ---: | ---: | ---: | --- |")
            for row in sec["rows"]:
                s = row.get("ms") or {}
                extra = ", ".join("%s=%s" % (k, v) for k, v in row.items() if k not in ("label", "ms"))
                if s.get("median") is None:
                    lines.append("| %s | – | – | – | 0 | %s |" % (row["label"], extra))
                else:
                    lines.append("| %s | %s | %s | %s | %d | %s |" % (row["label"], _num(s["median"]), _num(s["min"]),
                                                                      _num(s["max"]), s["n"], extra))
            lines.append("")
        for net, d in (sec.get("api") or {}).items():
            for op, rows in (d.get("phases") or {}).items():
                if not rows:
                    continue
                lines.append("Where the time goes: API %s, network %s (median per operation, inclusive phases):"
                             % (op, net))
                lines.append("")
                lines.append("| phase | median |")
                lines.append("| --- | ---: |")
                for r in rows:
                    lines.append("| %s | %s %s |" % (r["phase"], _num(r["median"]), r["unit"]))
                lines.append("")
        if sec.get("import_profile"):
            lines.append("What `import ...engine.runtime` spends (`python -X importtime`, median of 3; depth 1 = "
                         "imported by runtime.py, 2 = by those; cumulative includes children):")
            lines.append("")
            lines.append("| module | depth | self µs | cumulative µs |")
            lines.append("| --- | ---: | ---: | ---: |")
            for r in sec["import_profile"]:
                lines.append("| %s | %s | %d | %d |" % (r["module"].replace("ansible_collections.libpod.engine.", "…"),
                                                        r.get("depth", ""), r["self_us"], r["cumulative_us"]))
            lines.append("")
        if sec.get("podman") is None and name == "containers":
            lines.append("podman side by side: no figures (see notes).")
            lines.append("")
        for note in sec.get("notes", []):
            lines.append("- %s" % note)
        if "leftovers" in sec:
            lines.append("- cleanup: %s" % ("nothing left behind" if not sec["leftovers"]
                                            else "; ".join(sec["leftovers"])))
        lines.append("")
    return "\n".join(lines) + "\n"


def chart(res: Dict[str, Any], path: str) -> Optional[str]:
    """A 2x2 chart; None when matplotlib is not importable."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    secs = res["sections"]
    fig, axes = plt.subplots(2, 2, figsize=(15, 10))

    def bars(ax, rows: List[Tuple[str, Optional[Dict[str, Any]]]], title: str, ref: Optional[Tuple[float, str]] = None,
             log: bool = False) -> None:
        rows = [(lab, r) for lab, r in rows if r and r.get("ms") and r["ms"].get("median") is not None]
        if not rows:
            ax.set_visible(False)
            return
        labels = [lab for lab, _unused in rows]
        med = [r["ms"]["median"] for _unused, r in rows]
        lo = [max(0.0, m - r["ms"]["min"]) for m, (_unused, r) in zip(med, rows)]
        hi = [max(0.0, r["ms"]["max"] - m) for m, (_unused, r) in zip(med, rows)]
        y = list(range(len(rows)))
        ax.barh(y, med, xerr=[lo, hi], color="#4c72b0", ecolor="#999999", capsize=3)
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        if log:
            ax.set_xscale("log")
        for yi, m in zip(y, med):
            ax.text(m, yi, " %s" % _num(m), va="center", fontsize=7)
        if ref:
            ax.axvline(ref[0], color="#c44e52", linestyle="--", linewidth=1)
            ax.text(ref[0], -0.6, " " + ref[1], color="#c44e52", fontsize=8, va="bottom")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("ms (median, whiskers min–max)" + (", log scale" if log else ""), fontsize=8)

    op = secs.get("open")
    if op:
        bars(axes[0][0], [
            ("cold (first ever)", _find(op, "cold open")),
            ("warm, empty DB", _find(op, "warm open, empty DB, fresh")),
            ("warm, 1 container", _find(op, "warm open, 1 container(s) in the DB, fresh")),
            ("warm, 100 containers", _find(op, "warm open, 100 container(s) in the DB, fresh")),
            ("warm, 1000 containers", _find(op, "warm open, 1000 container(s) in the DB, fresh")),
            ("after reboot, 1000 (refresh)", _find(op, "open after a reboot")),
            ("import engine.runtime", _find(op, "import of engine.runtime")),
        ], "Runtime.open() in a fresh process", (TARGETS["open"], "target 30 ms"), log=True)
    else:
        axes[0][0].set_visible(False)
    ct = secs.get("containers")
    if ct:
        rows = []
        for net in ("none", "bridge", "none/runc"):
            for op_name in ("create+start (detached", "stop", "remove", "no-op"):
                rows.append(("%s: %s" % (net, op_name.partition(" (")[0]), _find(ct, "API %s: %s" % (net, op_name))))
        bars(axes[0][1], rows, "Containers through the engine API (one process)",
             (TARGETS["create+start"], "create+start target 65 ms"), log=True)
    else:
        axes[0][1].set_visible(False)
    rows = []
    if op:
        for r in op["rows"]:
            if r["label"].endswith("per item"):
                rows.append((r["label"].replace("playbook loop of ", "").replace(": per item", ""), r))
    if ct:
        for r in ct["rows"]:
            if r["label"].startswith("playbook ") and r["label"].endswith("per item"):
                rows.append((r["label"].replace("playbook ", "").replace(", per item", ""), r))
    no = secs.get("noop")
    if no:
        for r in no["rows"]:
            if "playbook loop" in r["label"]:
                rows.append(("no-op " + r["label"].replace(": playbook loop, per item", ""), r))
    bars(axes[1][0], rows, "Per task in an ansible-playbook loop", (PEER["ping"], "peer ping floor 230 ms"))
    if no and no.get("by_size"):
        ax = axes[1][1]
        sizes = [int(s) for s in no["by_size"]]
        inproc = [no["by_size"][str(s)]["in_process_per_item"]["median"] for s in sizes]
        fresh = [no["by_size"][str(s)]["fresh_wall"]["median"] / s for s in sizes]
        ax.plot(sizes, inproc, "o-", label="one process, runtime open (per container)")
        ax.plot(sizes, fresh, "s-", label="fresh process: import+open+pass, divided by N")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("containers", fontsize=8)
        ax.set_ylabel("ms per container", fontsize=8)
        ax.set_title("No-op reconcile per container vs number of containers", fontsize=10)
        ax.legend(fontsize=8)
        for s, v in zip(sizes, inproc):
            ax.text(s, v, " %s" % _num(v), fontsize=7)
    else:
        axes[1][1].set_visible(False)
    meta = res["meta"]
    fig.suptitle("libpod.engine bench, %s, load %s → %s (2 cores, shared)" % (
        meta["started"], meta.get("load_start"), meta.get("load_end")), fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write(res: Dict[str, Any], out_dir: str) -> Dict[str, Optional[str]]:
    os.makedirs(out_dir, exist_ok=True)
    png = chart(res, os.path.join(out_dir, "report.png"))
    res["meta"]["chart"] = bool(png)
    with open(os.path.join(out_dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, sort_keys=False)
    md = os.path.join(out_dir, "report.md")
    with open(md, "w", encoding="utf-8") as f:
        f.write(markdown(res, png))
        if res.get("peer"):  # run_all.py --peer: ours vs containers.podman vs the ping floor
            from bench_peer import markdown as peer_markdown  # noqa: PLC0415

            f.write("\n" + peer_markdown(res["peer"], res["peer"].get("argv", [])))
    return {"md": md, "png": png, "json": os.path.join(out_dir, "results.json")}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="re-render report.md / report.png from results.json")
    ap.add_argument("results", nargs="?", default=os.path.join(os.path.dirname(__file__), "out", "results.json"))
    a = ap.parse_args()
    with open(a.results, encoding="utf-8") as fh:
        print(write(json.load(fh), os.path.dirname(os.path.abspath(a.results))))
