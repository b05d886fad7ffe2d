# SPDX-License-Identifier: GPL-3.0-or-later
"""One requirements list: requirements.txt is the source; everything else that names the managed
node's Python libraries (README, the guide, the module docs' requirements, the host role, the
execution environment) must agree with it. bindep.txt is the one list of system packages.

A requirement whose comment lines above it say "optional" is optional at run time (zstandard:
only zstd-compressed layers need it): the texts must call it optional, the host role need not
install it.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from typing import List

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@dataclass
class Req:
    name: str
    line: str  # as written, without the environment marker
    marker: str  # e.g. python_version < "3.11"
    optional: bool


def _read(*parts: str) -> str:
    with open(os.path.join(REPO, *parts), encoding="utf-8") as f:
        return f.read()


def requirements() -> List[Req]:
    reqs, comments = [], []
    for raw in _read("requirements.txt").splitlines():
        line = raw.strip()
        if not line:
            comments = []
        elif line.startswith("#"):
            comments.append(line)
        else:
            spec, _unused, marker = line.partition(";")
            name = re.match(r"[A-Za-z0-9_.-]+", spec).group(0)
            reqs.append(Req(name, spec.strip(), marker.strip(), any("optional" in c for c in comments)))
            comments = []
    return reqs


def _section(text: str, heading: str) -> str:
    """The text of a markdown section, up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    text = re.sub(r"^```.*?^```$", "", text, flags=re.S | re.M)  # a "# comment" in a code block is no heading
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1:]
    nxt = re.search(r"^#{1,%d} " % level, rest, re.M)
    return rest[:nxt.start()] if nxt else rest


def test_requirements_parse():
    names = [r.name for r in requirements()]
    assert {"jsonschema", "ruamel.yaml", "tomlkit", "tomli", "zstandard"} <= set(names), names
    assert [r.name for r in requirements() if r.optional] == ["zstandard"]


def test_execution_environment_reads_the_two_lists():
    ee = yaml.safe_load(_read("meta", "execution-environment.yml"))
    assert ee["dependencies"]["python"] == "requirements.txt"
    assert ee["dependencies"]["system"] == "bindep.txt"


def _names_all(text: str, where: str) -> None:
    for r in requirements():
        assert r.name in text, "%s does not name %s (requirements.txt: %s)" % (where, r.name, r.line)
        if r.marker:
            assert "3.11" in text, "%s does not say when %s is needed (%s)" % (where, r.name, r.marker)
        lines = [ln for ln in re.split(r"\n\s*[-*] |;", text) if r.name in ln]
        if r.optional:
            assert any("optional" in ln for ln in lines), "%s must call %s optional" % (where, r.name)


def test_readme_names_every_library():
    text = _section(_read("README.md"), "## Requirements")
    _names_all(text, "README.md (Requirements)")
    assert "requirements.txt" in text and "bindep.txt" in text


def test_guide_names_every_library():
    text = _section(_read("docs", "index.md"), "### On managed nodes: the `libpod.engine.host` role")
    _names_all(text, "docs/index.md (the host role)")


def test_module_docs_name_every_library():
    fragment = yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', _read("plugins", "doc_fragments", "engine.py"),
                                        re.S).group(1))
    _names_all("\n- ".join(fragment["requirements"]), "the requirements of plugins/doc_fragments/engine.py")
    known = {r.name for r in requirements()}
    for path in sorted(glob.glob(os.path.join(REPO, "plugins", "modules", "*.py"))):
        doc = yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', _read(path), re.S).group(1))
        # a module that opens the engine (login/logout only touch auth.json)
        if re.search(r"\b(run_reconcile|run_info|run_named_info|open_runtime)\b", _read(path)):
            assert "libpod.engine.engine" in doc.get("extends_documentation_fragment", []), path
        for entry in doc.get("requirements", []):
            for word in re.findall(r"\b[a-z][a-z0-9_.]*[a-z0-9]\b", entry):
                if word in {"ruamel.yaml"} or word in known:
                    assert word in known, "%s: %s is not in requirements.txt" % (path, word)


def test_host_role_installs_the_required_libraries():
    defaults = yaml.safe_load(_read("roles", "host", "defaults", "main.yml"))
    required = [r for r in requirements() if not r.optional and not r.marker]
    assert defaults["host_pip_packages"] == [r.line for r in required]
    mins = {r.name: re.search(r">=\s*([0-9.]+)", r.line).group(1) for r in required}
    assert defaults["host_python_min_versions"] == mins
    for family in ("Debian", "RedHat"):
        packages = yaml.safe_load(_read("roles", "host", "vars", family + ".yml"))["host__python_packages"]
        missing = {r.name for r in requirements() if not r.optional} - set(packages)
        assert not missing, "roles/host/vars/%s.yml has no package for %s" % (family, sorted(missing))


def test_bindep_packages_parse_and_cover_the_host_role():
    names = set()
    for raw in _read("bindep.txt").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            names.add(line.split()[0])
    debian = yaml.safe_load(_read("roles", "host", "vars", "Debian.yml"))["host__packages"]
    assert set(debian) <= names, sorted(set(debian) - names)
