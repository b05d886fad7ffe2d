"""What a module's AnsiballZ payload carries: the engine's loader and index, never its ~140 files nor the
pack itself, which the action plugin sends only to a node that asks for it (issue 20).

Ansible's controller parses every module_utils file a module reaches, once per module and
playbook run (``recursive_finder``); with the engine as files that was 0.8-1.5 s of CPU per
module. The modules reach engine/ and reconcile/ through packed_loader only; the node keeps one
bytecode copy of the complete engine per version (conmon's exit command runs the whole engine).
Built here with Ansible's own module builder, as the controller builds them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULES = os.path.join(REPO, "plugins", "modules")
UTILS = "ansible_collections/libpod/engine/plugins/module_utils/"
sys.path.insert(0, os.path.join(REPO, "scripts"))
import pack_engine  # noqa: E402  pylint: disable=wrong-import-position

BUILD = r"""
import base64, io, json, re, sys, zipfile
from ansible.executor import module_common
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, module_loader
from ansible.template import Templar

init_plugin_loader()
out = {}
for name in sys.argv[1:]:
    ctx = module_loader.find_plugin_with_context(name)
    if not ctx.resolved:
        out[name] = None
        continue
    built = module_common.modify_module(module_name=ctx.plugin_resolved_name, module_path=ctx.plugin_resolved_path,
                                        module_args={}, templar=Templar(loader=DataLoader()),
                                        task_vars={"ansible_python_interpreter": sys.executable})
    data = getattr(built, "b_module_data", None) or built[0]
    blob = re.search(rb"(UEsD[A-Za-z0-9+/=]+)", data).group(1)
    out[name] = zipfile.ZipFile(io.BytesIO(base64.b64decode(blob))).namelist()
print(json.dumps(out))
"""
NAMES = sorted(f[:-3] for f in os.listdir(MODULES) if f.endswith(".py"))


@pytest.fixture(scope="module")
def payloads():
    """{module: the files of its AnsiballZ payload}, built by Ansible's own builder in a fresh
    interpreter (this one has imported the collection as plain packages)."""
    proc = subprocess.run([sys.executable, "-c", BUILD] + ["libpod.engine." + n for n in NAMES],
                          capture_output=True, text=True, check=False, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", NAMES)
def test_module_carries_the_pack_and_no_engine_file(payloads, module):
    names = payloads["libpod.engine." + module]
    assert names is not None, "%s not found: set ANSIBLE_COLLECTIONS_PATH (as scripts/test.sh does)" % module
    ours = sorted(n[len(UTILS):] for n in names if n.startswith(UTILS))
    # not packed_sources.py: the action sends the pack to a node that asks for it (plugin_utils/engine_action.py)
    assert ours == ["__init__.py", "ansible_engine.py", "packed_build.py", "packed_index.py", "packed_loader.py"]


def test_the_pack_matches_the_sources():
    for path, text in pack_engine.rendered().items():
        with open(path, encoding="utf-8") as f:
            assert f.read() == text, "%s is out of date: run python3 scripts/pack_engine.py" % path


def test_the_pack_holds_every_engine_and_reconcile_file():
    from ansible_collections.libpod.engine.plugins.module_utils import packed_index  # pylint: disable=import-outside-toplevel

    on_disk = set(pack_engine.read_packages())
    assert set(packed_index.FILES) == on_disk
    assert {p.split("/")[0] for p in on_disk} == {"engine", "reconcile"}
    assert "engine/ops/cli.py" in on_disk  # the exit command's entry point
