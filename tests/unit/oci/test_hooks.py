# SPDX-License-Identifier: GPL-3.0-or-later
"""OCI hooks from [engine] hooks_dir (issue 14 item 11): parsing, matching, injection."""
from __future__ import annotations

import json

import pytest

from ansible_collections.libpod.engine.plugins.module_utils.engine.base.errors import ConfigError
from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import hooks


def _write(d, name, doc):
    d.mkdir(exist_ok=True)
    (d / name).write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return str(d / name)


def _hook(when, stages=("prestart",), path="/bin/true", **extra):
    return {"version": "1.0.0", "hook": dict({"path": path}, **extra), "when": when, "stages": list(stages)}


def _spec(args=("/bin/sh",), annotations=None):
    return {"process": {"args": list(args)}, "annotations": dict(annotations or {})}


def test_matching_hooks_are_injected_in_file_name_order(tmp_path):
    d = tmp_path / "hooks.d"
    _write(d, "20-always.json", _hook({"always": True}, stages=["createRuntime", "poststop"], args=["true", "x"]))
    _write(d, "10-annot.json", _hook({"annotations": {"^com\\.example\\.trace$": "^on$"}}))
    _write(d, "30-cmd.json", _hook({"commands": ["/httpd$"]}, path="/bin/echo"))
    _write(d, "40-binds.json", _hook({"hasBindMounts": True}, path="/bin/sh"))
    _write(d, "README", "not a hook")
    spec = _spec(annotations={"com.example.trace": "on"})
    used = hooks.add_hooks(spec, [str(d)], has_bind_mounts=False)
    assert [u.rsplit("/", 1)[1] for u in used] == ["10-annot.json", "20-always.json"]
    assert spec["hooks"]["prestart"] == [{"path": "/bin/true"}]
    assert spec["hooks"]["createRuntime"] == [{"path": "/bin/true", "args": ["true", "x"]}]
    spec = _spec(args=["/usr/sbin/httpd"])
    used = hooks.add_hooks(spec, [str(d)], has_bind_mounts=True)
    assert [u.rsplit("/", 1)[1] for u in used] == ["20-always.json", "30-cmd.json", "40-binds.json"]
    assert spec["hooks"]["prestart"] == [{"path": "/bin/echo"}, {"path": "/bin/sh"}]


def test_a_later_directory_replaces_a_file_of_the_same_name(tmp_path):
    _write(tmp_path / "a", "h.json", _hook({"always": True}, path="/bin/true"))
    _write(tmp_path / "b", "h.json", _hook({"always": True}, path="/bin/echo"))
    spec = _spec()
    hooks.add_hooks(spec, [str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "missing")],
                    has_bind_mounts=False)
    assert spec["hooks"] == {"prestart": [{"path": "/bin/echo"}]}


def test_no_hooks_dir_no_hooks():
    spec = _spec()
    assert hooks.add_hooks(spec, [], has_bind_mounts=True) == [] and "hooks" not in spec


@pytest.mark.parametrize("doc,why", [
    ("{", "invalid JSON"),
    ({"version": "0.1.0", "hook": "/bin/true", "stage": ["prestart"]}, "version '0.1.0' is not supported"),
    (_hook({"always": True}, path="bin/true"), "absolute path"),
    (_hook({"always": True}, path="/nonexistent/hook"), "does not exist"),
    (_hook({"always": True}, stages=["prestrat"]), "stages must list"),
    (_hook({}), "sets no condition"),
    (_hook({"commands": ["("]}), "invalid command regular expression"),
    (_hook({"always": True}, timeout=0), "timeout must be a positive integer"),
])
def test_bad_hook_files_are_named(tmp_path, doc, why):
    path = _write(tmp_path / "d", "bad.json", doc)
    with pytest.raises(ConfigError) as exc:
        hooks.add_hooks(_spec(), [str(tmp_path / "d")], has_bind_mounts=False)
    assert why in str(exc.value) and path in str(exc.value)
