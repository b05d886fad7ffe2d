# SPDX-License-Identifier: GPL-3.0-or-later
"""Network setup + teardown per container: runs bench/net_setup.py (a colleague's bench, used
as is) in a subprocess and turns its printed figures into rows."""
from __future__ import annotations

import os
import re
import subprocess
from typing import Any, Dict

from common import BENCH, PYTHON, Section

_FIG = re.compile(r"^\s+(setup\+teardown|setup|teardown)\s+median\s+([\d.]+) ms\s+min\s+([\d.]+)\s+max\s+([\d.]+)")
_HEAD = re.compile(r"^(\S.*?)\s+N=(\d+)\s*$")


def parse(text: str) -> Dict[str, Any]:
    """net_setup.py's output -> {"rows": [(label, {n, median, min, max})], "notes": [...]}."""
    rows, notes = [], []
    label, n = None, 0
    for line in text.splitlines():
        head = _HEAD.match(line)
        if head:
            label, n = head.group(1).strip(), int(head.group(2))
            continue
        fig = _FIG.match(line)
        if fig and label:
            rows.append(("%s: %s" % (label, fig.group(1)),
                         {"n": n, "median": float(fig.group(2)), "min": float(fig.group(3)),
                          "max": float(fig.group(4))}))
            continue
        if line.strip() and not line.startswith(" "):
            notes.append(line.strip())
        elif "sum of medians" in line:
            notes.append("%s: %s" % (label, line.strip()))
    return {"rows": rows, "notes": notes}


def run(quick: bool = False) -> Dict[str, Any]:
    n = 5 if quick else 20
    sec = Section("net", "Network setup + teardown per container (bench/net_setup.py)")
    script = os.path.join(BENCH, "net_setup.py")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run([PYTHON, script, str(n)], capture_output=True, text=True, timeout=600, check=False,
                          env=env)
    sec.data["output"] = proc.stdout[-6000:]
    if proc.returncode != 0:
        sec.note("net_setup.py failed (rc=%d): %s" % (proc.returncode, (proc.stderr or proc.stdout).strip()[-600:]))
        return sec.close()
    got = parse(proc.stdout)
    for label, fig in got["rows"]:
        sec.row(label, fig)
    for note in got["notes"]:
        sec.note(note)
    return sec.close()


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    print(json.dumps(run(ap.parse_args().quick), indent=1))
