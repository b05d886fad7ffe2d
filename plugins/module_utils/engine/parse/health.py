# SPDX-License-Identifier: GPL-3.0-or-later
"""Healthcheck definitions: the user's options and the image's HEALTHCHECK, as podman reads them.

Pure parsing (no I/O). The result is the normalised ``healthcheck`` dict stored in a
container's config: ``test`` (argv; None = disabled), ``interval``/``timeout``/``start_period``
in seconds, ``retries``, ``on_failure``. Durations in image configs are nanoseconds.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional

from ..base.errors import InvalidArg
from ..base.lazyre import lazy_compile

#: podman's defaults (define.DefaultHealthCheck*)
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_START_PERIOD = 0.0
ON_FAILURE = ("none", "kill", "restart", "stop")

_PART = lazy_compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(value: Any, param: str) -> float:
    """Seconds of a Go duration (``30s``, ``1m30s``) or a plain number of seconds."""
    if isinstance(value, bool):
        raise InvalidArg("%s: expected a duration such as 30s or 1m, got %r" % (param, value))
    if isinstance(value, (int, float)):
        secs = float(value)
    else:
        text = str(value).strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            secs = float(text)
        elif text and _PART.sub("", text) == "":
            secs = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
        else:
            raise InvalidArg("%s: %r is not a duration" % (param, value), hint="use e.g. 30s, 1m30s or 500ms")
    if secs < 0:
        raise InvalidArg("%s: must not be negative, got %r" % (param, value))
    return secs


def healthcheck_argv(test: Any, param: str = "healthcheck") -> Optional[List[str]]:
    """The command of a healthcheck test; None when disabled (``NONE``).

    A string is run by ``/bin/sh -c`` (podman's CMD-SHELL); a list may start with
    ``CMD`` (argv as is), ``CMD-SHELL`` (one shell string) or ``NONE``.
    """
    if test is None:
        return None
    if isinstance(test, str):
        text = test.strip()
        if not text:
            raise InvalidArg("%s: the test command is empty" % param, hint="give a command, or NONE to disable")
        if text.upper() == "NONE":
            return None
        return ["/bin/sh", "-c", text]
    if not isinstance(test, (list, tuple)) or not test:
        raise InvalidArg("%s: expected a command string or list, got %r" % (param, test))
    items = [str(t) for t in test]
    head = items[0].upper()
    if head == "NONE":
        return None
    if head == "CMD":
        if len(items) < 2:
            raise InvalidArg("%s: CMD needs a command after it" % param)
        return items[1:]
    if head == "CMD-SHELL":
        if len(items) != 2:
            raise InvalidArg("%s: CMD-SHELL takes exactly one shell string" % param)
        return ["/bin/sh", "-c", items[1]]
    return items


def from_image(image_config: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """The image's HEALTHCHECK (OCI/Docker config ``Healthcheck``), normalised; None if it has none."""
    hc = (image_config or {}).get("Healthcheck") or (image_config or {}).get("HealthCheck")
    if not hc:
        return None
    argv = healthcheck_argv(hc.get("Test"), "image HEALTHCHECK")
    if argv is None:
        return None

    def ns(key: str, default: float) -> float:
        v = hc.get(key)
        return float(v) / 1e9 if v else default

    return {"test": argv, "interval": ns("Interval", DEFAULT_INTERVAL), "timeout": ns("Timeout", DEFAULT_TIMEOUT),
            "start_period": ns("StartPeriod", DEFAULT_START_PERIOD),
            "retries": int(hc.get("Retries") or DEFAULT_RETRIES), "on_failure": "none"}


def resolve(options: Mapping[str, Any], image_config: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """The effective healthcheck of a container: user options over the image's HEALTHCHECK.

    ``options`` keys (module option names): healthcheck, healthcheck_interval, healthcheck_timeout,
    healthcheck_retries, healthcheck_start_period, healthcheck_on_failure. ``healthcheck: NONE``
    disables the image's. None: no healthcheck.
    """
    base = from_image(image_config)
    test = options.get("healthcheck")
    if test is not None:
        argv = healthcheck_argv(test)
        if argv is None:
            return None
        base = dict(base or {"interval": DEFAULT_INTERVAL, "timeout": DEFAULT_TIMEOUT,
                             "start_period": DEFAULT_START_PERIOD, "retries": DEFAULT_RETRIES, "on_failure": "none"},
                    test=argv)
    if base is None:
        for key in ("healthcheck_interval", "healthcheck_timeout", "healthcheck_retries", "healthcheck_start_period"):
            if options.get(key) is not None:
                raise InvalidArg("%s: set without a healthcheck (and the image defines none)" % key,
                                 hint="add healthcheck: <command>")
        return None
    out = dict(base)
    for key, name in (("interval", "healthcheck_interval"), ("timeout", "healthcheck_timeout"),
                      ("start_period", "healthcheck_start_period")):
        if options.get(name) is not None:
            out[key] = parse_duration(options[name], name)
    if out["interval"] <= 0:
        raise InvalidArg("healthcheck_interval: must be more than 0", hint="e.g. 30s")
    if out["timeout"] <= 0:
        raise InvalidArg("healthcheck_timeout: must be more than 0", hint="e.g. 30s")
    if options.get("healthcheck_retries") is not None:
        retries = options["healthcheck_retries"]
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 1:
            raise InvalidArg("healthcheck_retries: must be 1 or more, got %r" % (retries,))
        out["retries"] = retries
    on_failure = options.get("healthcheck_on_failure")
    if on_failure is not None:
        if on_failure not in ON_FAILURE:
            raise InvalidArg("healthcheck_on_failure: %r is not one of %s" % (on_failure, ", ".join(ON_FAILURE)))
        out["on_failure"] = on_failure
    return out
