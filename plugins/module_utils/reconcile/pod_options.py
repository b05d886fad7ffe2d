# SPDX-License-Identifier: GPL-3.0-or-later
"""The pod module's options, declared once (names as containers.podman's podman_pod).

As for containers, an omitted option means its default and normalises to the same declared
value as the default written out. Labels are stored without touching the pod; ``cpus`` and
``memory`` (the pod cgroup's limits) are changed in place; every other change recreates
the pod, and its containers are recreated into the new pod with their own specs.
"""
from __future__ import annotations

from typing import Any, List, Optional

from ..engine.objects.pod import DEFAULT_SHARE, parse_share
from ..engine.parse import values as parse
from .container_options import _add_host, _argv, _network, _publish
from .options import CONFIG, IN_PLACE, NOT_COMPARED, Option, OptionTable

STATES = ("created", "started", "stopped", "restarted", "absent")
DEFAULT_NETWORK = {"mode": "bridge", "networks": []}


def _infra_command(value: Any, ctx: Any) -> Optional[List[str]]:
    return _argv(value, "infra_command") or None


OPTIONS = OptionTable([
    # identity and action flags (never compared)
    Option("name", update=NOT_COMPARED),
    Option("state", choices=STATES, arg_default="created", update=NOT_COMPARED),
    Option("recreate", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("force", type="bool", arg_default=False, update=NOT_COMPARED),
    Option("timeout", type="int", update=NOT_COMPARED),
    Option("definition", type="raw", update=NOT_COMPARED),
    # podman CLI and unit-file parameters: accepted, ignored with a warning (container_params.ignored_warnings)
    Option("executable", update=NOT_COMPARED),
    Option("debug", type="bool", update=NOT_COMPARED),
    Option("generate_systemd", type="dict", update=NOT_COMPARED),
    Option("quadlet_dir", type="path", update=NOT_COMPARED),
    Option("quadlet_filename", update=NOT_COMPARED),
    Option("quadlet_file_mode", type="raw", update=NOT_COMPARED),
    Option("quadlet_options", type="list", elements="str", update=NOT_COMPARED),
    # the infra container
    Option("infra", type="bool", default=True),
    Option("infra_image"),
    Option("infra_command", type="raw", normalise=_infra_command),
    Option("infra_name"),
    Option("infra_conmon_pidfile", type="path"),
    Option("share", type="raw", default=list(DEFAULT_SHARE), normalise=lambda v, c: parse_share(v, "share")),
    # what the infra holds for the whole pod
    Option("publish", type="list", elements="raw", aliases=("ports", "published", "published_ports"), default=[],
           normalise=_publish),
    Option("network", type="raw", aliases=("net",), default=dict(DEFAULT_NETWORK), normalise=_network),
    Option("hostname", normalise=lambda v, c: parse.parse_hostname(v, "hostname")),
    Option("add_host", type="raw", aliases=("etc_hosts",), default=[], normalise=_add_host),
    Option("dns", type="list", elements="str", aliases=("dns_servers",), default=[],
           normalise=lambda v, c: parse.parse_dns_servers(v, "dns")),
    Option("dns_search", type="list", elements="str", default=[],
           normalise=lambda v, c: parse.parse_dns_search(v, "dns_search")),
    Option("dns_option", type="list", elements="str", aliases=("dns_opt",), default=[],
           normalise=lambda v, c: parse.parse_dns_options(v, "dns_option")),
    # stored only / applied in place
    Option("label", type="dict", aliases=("labels",), default={}, update=CONFIG, config="labels",
           normalise=lambda v, c: parse.parse_labels(v, "label")),
    Option("cpus", type="raw", update=IN_PLACE, normalise=lambda v, c: parse.parse_cpus(v, "cpus") or None),
    Option("memory", type="raw", update=IN_PLACE, normalise=lambda v, c: parse.parse_size(v, "memory") or None),
])

#: options that describe the pod itself (a ``definition`` replaces all of them)
SPEC_OPTIONS = tuple(o.name for o in OPTIONS.compared())
