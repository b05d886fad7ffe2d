# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure parsers and normalisers for user-facing values (sizes, signals, caps, mounts ...).

Modules and reconcile share them so that "512m" and 536870912 normalise to the same
declared value (stable idempotency), and so that every bad value fails early, before
any object is touched, with an InvalidArg that names the parameter, the value and the
expected form. Nothing here touches the filesystem except ``parse_env_file`` (reads
the file it is given) and ``known_capabilities`` (reads the kernel's last cap once).
"""
from __future__ import annotations

import math
import os
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..base.errors import InvalidArg
from ..base.lazyre import lazy_compile

__all__ = [
    "RLIM_INFINITY", "CPU_PERIOD", "ALL_CAPABILITIES", "RLIMIT_NAMES", "SIGNALS",
    "parse_size", "format_size", "parse_signal", "parse_stop_signal", "format_signal",
    "known_capabilities", "normalize_capability", "normalize_capabilities",
    "parse_ulimit", "parse_ulimits", "format_ulimit", "parse_cpus", "cpus_to_quota",
    "parse_restart_policy", "format_restart_policy", "parse_env", "parse_labels",
    "parse_sysctls", "parse_env_text", "parse_env_file", "parse_add_host", "env_digest", "env_file_record",
    "parse_tmpfs", "parse_tmpfs_list", "format_tmpfs", "parse_volume", "format_volume",
    "parse_mount", "format_mount", "parse_octal_mode", "reject_control", "parse_hostname",
    "parse_dns_search", "parse_dns_options", "parse_dns_servers",
]

#: OCI rlimits are uint64; "unlimited" is all bits set (RLIM_INFINITY on Linux).
RLIM_INFINITY = 2**64 - 1
#: CFS period podman uses for --cpus (100 ms).
CPU_PERIOD = 100000
#: The kernel refuses a CFS quota below 1 ms.
_MIN_CPU_QUOTA = 1000


def _bad(param: str, value: Any, why: str, expected: Optional[str] = None) -> InvalidArg:
    """One message shape for every parse error: parameter, offending value, reason, form."""
    shown = value if isinstance(value, str) else repr(value)
    if isinstance(shown, str) and len(shown) > 200:
        shown = shown[:200] + "..."
    return InvalidArg("invalid %s %r: %s" % (param, shown, why),
                      hint=("expected %s" % expected) if expected else None)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- sizes

_SIZE_RE = lazy_compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_SIZE_FORM = "a byte count or a number with a binary unit b, k, m, g, t (e.g. 512m, 1g, 16M, 1.5g)"


def parse_size(value: Any, param: str = "size") -> int:
    """Size in bytes from an int or "512m"/"1g"/"16M"/"64kb" (binary units, as podman's RAMInBytes)."""
    if _is_int(value):
        if value < 0:
            raise _bad(param, value, "must not be negative", _SIZE_FORM)
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if not isinstance(value, str):
        raise _bad(param, value, "not a size", _SIZE_FORM)
    m = _SIZE_RE.fullmatch(value)
    # "ki"/"kib" are fine, a lone "i"/"ib" without a unit letter is not
    if not m or (m.group(3).lower().startswith("i") and not m.group(2)):
        raise _bad(param, value, "not a size", _SIZE_FORM)
    number, unit = m.group(1), m.group(2).lower()
    mult = _SIZE_UNITS[unit]
    if "." in number:
        whole, frac = number.split(".")
        # exact arithmetic: 1.5g must be 1610612736, not a float rounding of it
        result = int(whole) * mult + (int(frac) * mult) // (10 ** len(frac))
    else:
        result = int(number) * mult
    if result >= 2**63:
        raise _bad(param, value, "too large", _SIZE_FORM)
    return result


def format_size(n: int) -> str:
    """Shortest exact "512m"-style spelling of a byte count (inverse of parse_size)."""
    if not _is_int(n) or n < 0:
        raise _bad("size", n, "not a byte count", "a non-negative integer")
    for unit in ("p", "t", "g", "m", "k"):
        mult = _SIZE_UNITS[unit]
        if n and n % mult == 0:
            return "%d%s" % (n // mult, unit)
    return str(n)


# --------------------------------------------------------------------------- signals

#: Linux signal numbers (x86/arm generic ABI), names without the SIG prefix.
SIGNALS: Dict[str, int] = {
    "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7,
    "FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14,
    "TERM": 15, "STKFLT": 16, "CHLD": 17, "CLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20,
    "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27,
    "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31, "UNUSED": 31,
}
_SIGRTMIN, _SIGRTMAX = 34, 64
# canonical name per number (first spelling wins: IOT->ABRT, CLD->CHLD ...)
_SIGNAL_NAMES: Dict[int, str] = {}
for _name, _num in SIGNALS.items():
    _SIGNAL_NAMES.setdefault(_num, _name)
_SIGNAL_FORM = "a signal name (TERM, SIGTERM, sigkill, RTMIN+3) or number 1-64"


def parse_signal(value: Any, param: str = "signal") -> int:
    """Signal number from 15, "15", "TERM", "SIGTERM", "sigterm", "RTMIN+2", "SIGRTMAX-1"."""
    if _is_int(value):
        num = value
    elif isinstance(value, str):
        text = value.strip().upper()
        if text.isascii() and text.isdigit():  # "²".isdigit() is true, int("²") fails
            num = int(text)
        else:
            if text.startswith("SIG"):
                text = text[3:]
            m = re.fullmatch(r"RT(MIN|MAX)([+-]\d{1,2})?", text)
            if m:
                base = _SIGRTMIN if m.group(1) == "MIN" else _SIGRTMAX
                num = base + int(m.group(2) or 0)
                if not _SIGRTMIN <= num <= _SIGRTMAX:
                    raise _bad(param, value, "real-time signal out of range", _SIGNAL_FORM)
            elif text in SIGNALS:
                num = SIGNALS[text]
            else:
                raise _bad(param, value, "unknown signal", _SIGNAL_FORM)
    else:
        raise _bad(param, value, "not a signal", _SIGNAL_FORM)
    if not 1 <= num <= _SIGRTMAX:
        raise _bad(param, value, "signal number out of range", _SIGNAL_FORM)
    return num


def parse_stop_signal(value: Any, param: str = "stop_signal") -> int:
    """The container's stop signal (same forms as parse_signal)."""
    return parse_signal(value, param)


def format_signal(num: int) -> str:
    """"SIGTERM" / "SIGRTMIN+3" for a signal number (inverse of parse_signal)."""
    if not _is_int(num) or not 1 <= num <= _SIGRTMAX:
        raise _bad("signal", num, "signal number out of range", _SIGNAL_FORM)
    if num in _SIGNAL_NAMES:
        return "SIG" + _SIGNAL_NAMES[num]
    if num < _SIGRTMIN:  # 32, 33: used by libc, no name
        return str(num)
    off = num - _SIGRTMIN
    return "SIGRTMIN+%d" % off if off else "SIGRTMIN"


# --------------------------------------------------------------------------- capabilities

#: Capability names by bit number (linux/capability.h up to 6.x).
ALL_CAPABILITIES: Tuple[str, ...] = tuple("CAP_" + n for n in (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
    "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
    "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
    "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
    "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
    "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
))
_known_caps_cache: Optional[Tuple[str, ...]] = None


def known_capabilities() -> Tuple[str, ...]:
    """Capabilities this kernel knows (bits 0..cap_last_cap), read once per process."""
    global _known_caps_cache
    if _known_caps_cache is None:
        last = len(ALL_CAPABILITIES) - 1
        try:
            with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as f:
                last = min(int(f.read().strip()), last)
        except (OSError, ValueError):
            pass
        _known_caps_cache = ALL_CAPABILITIES[: last + 1]
    return _known_caps_cache


_CAP_FORM = "a capability name such as NET_ADMIN or CAP_NET_ADMIN (case-insensitive), or ALL"


def normalize_capability(value: Any, param: str = "cap_add") -> str:
    """"net_admin"/"CAP_NET_ADMIN" → "CAP_NET_ADMIN"; "all" → "ALL"; unknown → InvalidArg."""
    if not isinstance(value, str):
        raise _bad(param, value, "not a capability name", _CAP_FORM)
    text = value.strip().upper()
    if text == "ALL":
        return "ALL"
    if not text.startswith("CAP_"):
        text = "CAP_" + text
    if text not in ALL_CAPABILITIES:
        raise _bad(param, value, "unknown capability", _CAP_FORM)
    if text not in known_capabilities():
        raise _bad(param, value, "capability not supported by this kernel",
                   "one of " + ", ".join(known_capabilities()))
    return text


def normalize_capabilities(values: Any, param: str = "cap_add") -> List[str]:
    """List (or comma-separated string) of capabilities, normalised and de-duplicated, order kept."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    if not isinstance(values, (list, tuple)):
        raise _bad(param, values, "not a list of capabilities", _CAP_FORM)
    out: List[str] = []
    for v in values:
        cap = normalize_capability(v, param)
        if cap not in out:
            out.append(cap)
    return out


# --------------------------------------------------------------------------- ulimits

#: podman's --ulimit names → OCI rlimit types.
RLIMIT_NAMES: Dict[str, str] = {n: "RLIMIT_" + n.upper() for n in (
    "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
    "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack",
)}
_ULIMIT_FORM = "name=soft[:hard] (e.g. nofile=1024:2048, nproc=512; -1 = unlimited), name one of " + \
    ", ".join(sorted(RLIMIT_NAMES))


def _rlimit_type(name: Any, param: str, value: Any) -> str:
    if not isinstance(name, str):
        raise _bad(param, value, "missing limit name", _ULIMIT_FORM)
    key = name.strip().lower()
    if key.startswith("rlimit_"):
        key = key[len("rlimit_"):]
    if key not in RLIMIT_NAMES:
        raise _bad(param, value, "unknown limit %r" % name, _ULIMIT_FORM)
    return RLIMIT_NAMES[key]


def _rlimit_value(v: Any, param: str, value: Any) -> int:
    if _is_int(v):
        n = v
    elif isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
        n = int(v)
    else:
        raise _bad(param, value, "limit %r is not an integer" % (v,), _ULIMIT_FORM)
    if n == -1:
        return RLIM_INFINITY
    if n < 0 or n > RLIM_INFINITY:
        raise _bad(param, value, "limit %r out of range" % (v,), _ULIMIT_FORM)
    return n


def parse_ulimit(value: Any, param: str = "ulimits") -> Dict[str, Any]:
    """"nofile=1024:2048" (or a {type|name, soft, hard} dict) → {type: RLIMIT_NOFILE, soft, hard}."""
    if isinstance(value, Mapping):
        rtype = _rlimit_type(value.get("type", value.get("name")), param, value)
        if "soft" not in value and "hard" not in value:
            raise _bad(param, value, "soft or hard limit required", _ULIMIT_FORM)
        soft = _rlimit_value(value.get("soft", value.get("hard")), param, value)
        hard = _rlimit_value(value.get("hard", value.get("soft")), param, value)
    elif isinstance(value, str):
        name, sep, limits = value.partition("=")
        if not sep or not limits.strip():
            raise _bad(param, value, "missing '=' and limits", _ULIMIT_FORM)
        rtype = _rlimit_type(name, param, value)
        parts = limits.split(":")
        if len(parts) > 2:
            raise _bad(param, value, "too many ':'", _ULIMIT_FORM)
        soft = _rlimit_value(parts[0], param, value)
        hard = _rlimit_value(parts[1], param, value) if len(parts) == 2 else soft
    else:
        raise _bad(param, value, "not a ulimit", _ULIMIT_FORM)
    if soft > hard:
        raise _bad(param, value, "soft limit %d is above the hard limit %d" % (soft, hard), _ULIMIT_FORM)
    return {"type": rtype, "soft": soft, "hard": hard}


def parse_ulimits(values: Any, param: str = "ulimits") -> List[Dict[str, Any]]:
    """A list of ulimits; the same limit twice is an error (which one should win?)."""
    if values is None:
        return []
    if isinstance(values, (str, Mapping)):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise _bad(param, values, "not a list of ulimits", _ULIMIT_FORM)
    out: List[Dict[str, Any]] = []
    seen = set()
    for v in values:
        rl = parse_ulimit(v, param)
        if rl["type"] in seen:
            raise _bad(param, v, "%s given more than once" % rl["type"], _ULIMIT_FORM)
        seen.add(rl["type"])
        out.append(rl)
    return out


def format_ulimit(rl: Mapping[str, Any]) -> str:
    """"nofile=1024:2048" for an rlimit dict (inverse of parse_ulimit)."""
    def num(n: int) -> str:
        return "-1" if n == RLIM_INFINITY else str(n)
    name = str(rl["type"])[len("RLIMIT_"):].lower()
    return "%s=%s:%s" % (name, num(rl["soft"]), num(rl["hard"]))


# --------------------------------------------------------------------------- cpus

_CPUS_FORM = "a number of CPUs, at least 0.01 (e.g. 0.5, 2), or 0 for no limit"


def parse_cpus(value: Any, param: str = "cpus") -> float:
    """Number of CPUs as a float (2 and "2.0" both give 2.0, so they compare equal); 0 = no limit."""
    if isinstance(value, bool):
        raise _bad(param, value, "not a number", _CPUS_FORM)
    if isinstance(value, (int, float)):
        cpus = float(value)
    elif isinstance(value, str):
        try:
            cpus = float(value.strip())
        except ValueError:
            raise _bad(param, value, "not a number", _CPUS_FORM)
    else:
        raise _bad(param, value, "not a number", _CPUS_FORM)
    if not math.isfinite(cpus) or cpus < 0:
        raise _bad(param, value, "must be a positive finite number", _CPUS_FORM)
    if cpus == 0:
        return 0.0  # podman: --cpus 0 means no limit
    if cpus > 1_000_000:  # first: cpus * CPU_PERIOD overflows to inf near the float maximum
        raise _bad(param, value, "too large", _CPUS_FORM)
    if round(cpus * CPU_PERIOD) < _MIN_CPU_QUOTA:
        raise _bad(param, value, "below the kernel's minimum CFS quota", _CPUS_FORM)
    return cpus


def cpus_to_quota(cpus: float, period: int = CPU_PERIOD) -> Tuple[int, int]:
    """(quota, period) in microseconds for a CPU count, as podman's --cpus (period 100000)."""
    return int(round(cpus * period)), period


# --------------------------------------------------------------------------- restart policy

RESTART_POLICIES = ("no", "always", "on-failure", "unless-stopped")
_RESTART_FORM = "one of no, always, unless-stopped, on-failure or on-failure:N (N >= 0 retries)"


def parse_restart_policy(value: Any, param: str = "restart_policy") -> Dict[str, Any]:
    """"on-failure:3" → {name: on-failure, max_retries: 3}; retries only with on-failure (as podman)."""
    if value is None or value == "":
        return {"name": "no", "max_retries": 0}
    if isinstance(value, Mapping):
        name = value.get("name")
        retries: Any = value.get("max_retries", 0)
        if retries is None:
            retries = 0
    elif isinstance(value, str):
        name, sep, rest = value.strip().partition(":")
        retries = rest if sep else 0
        if sep and not rest.strip():
            raise _bad(param, value, "missing retry count after ':'", _RESTART_FORM)
    else:
        raise _bad(param, value, "not a restart policy", _RESTART_FORM)
    if not isinstance(name, str) or name.strip().lower() not in RESTART_POLICIES + ("none",):
        raise _bad(param, value, "unknown policy", _RESTART_FORM)
    name = name.strip().lower()
    if name == "none":
        name = "no"
    if isinstance(retries, str):
        if not re.fullmatch(r"\s*-?\d+\s*", retries):
            raise _bad(param, value, "retry count is not an integer", _RESTART_FORM)
        retries = int(retries)
    if not _is_int(retries):
        raise _bad(param, value, "retry count is not an integer", _RESTART_FORM)
    if retries < 0:
        raise _bad(param, value, "retry count must not be negative", _RESTART_FORM)
    if retries and name != "on-failure":
        raise _bad(param, value, "a retry count can only be given with the on-failure policy",
                   _RESTART_FORM)
    return {"name": name, "max_retries": retries}


def format_restart_policy(policy: Mapping[str, Any]) -> str:
    """"on-failure:3" / "always" (inverse of parse_restart_policy)."""
    if policy["name"] == "on-failure" and policy.get("max_retries"):
        return "on-failure:%d" % policy["max_retries"]
    return str(policy["name"])


# --------------------------------------------------------------------------- key=value maps

def _scalar_str(v: Any) -> Optional[str]:
    """YAML scalars as strings: True → "true" (YAML's yes/no), 1 → "1"; other types → None."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, str)):
        return str(v)
    return None


_ENV_KEY_BAD = lazy_compile(r"[=\x00]")


def _parse_kv(value: Any, param: str, *, bare: str, key_re: Optional[re.Pattern] = None,
              form: str, booleans: bool = True) -> Dict[str, str]:
    """Shared body of env/labels/sysctl: a dict or a list of "k=v" strings → ordered dict.

    bare: what a list item without '=' means: "empty" (value ""), or "error".
    booleans: whether a YAML boolean value is taken (as "true"/"false") or refused.
    """
    if value is None:
        return {}
    items: List[Tuple[Any, Any]]
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, (list, tuple)):
        items = []
        for entry in value:
            if not isinstance(entry, str):
                raise _bad(param, entry, "list items must be strings", form)
            k, sep, v = entry.partition("=")
            if not sep:
                if bare == "error":
                    raise _bad(param, entry, "missing '='", form)
                v = ""
            items.append((k, v))
    else:
        raise _bad(param, value, "not a dict or a list", form)
    out: Dict[str, str] = {}
    for k, v in items:
        if not isinstance(k, str) or not k or _ENV_KEY_BAD.search(k) or k != k.strip():
            raise _bad(param, k, "invalid key", form)
        if key_re is not None and not key_re.fullmatch(k):
            raise _bad(param, k, "invalid key", form)
        if isinstance(v, bool) and not booleans:
            raise InvalidArg("invalid %s %s: the value is a YAML boolean (yes/no/true/false/on/off), not a string"
                             % (param, k), hint='quote it to pass it as text: %s: "%s"' % (k, "true" if v else "false"))
        s = "" if v is None else _scalar_str(v)
        if s is None or "\x00" in s:
            raise _bad(param, "%s=%r" % (k, v), "value must be a string or number", form)
        out[k] = s
    return out


def parse_env(value: Any, param: str = "env") -> Dict[str, str]:
    """Environment from {"K": "v"} or ["K=v"]; later entries win; "K" alone is an error.

    podman would import a bare "K" from its own environment; a playbook's declared spec
    must not depend on the module process's environment, so we refuse it.
    """
    return _parse_kv(value, param, bare="error", booleans=False,
                     form='a dict {KEY: value} or a list of "KEY=value" strings ("KEY=" for empty)')


def parse_labels(value: Any, param: str = "labels") -> Dict[str, str]:
    """Labels (or annotations) from a dict or ["k=v"]; "k" alone means an empty value."""
    return _parse_kv(value, param, bare="empty",
                     form='a dict {key: value} or a list of "key=value" strings')


_SYSCTL_KEY = lazy_compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$")


def parse_sysctls(value: Any, param: str = "sysctl") -> Dict[str, str]:
    """Sysctls from a dict or ["net.ipv4.ip_forward=1"]; "net/ipv4/x" is spelt with dots."""
    raw = _parse_kv(value, param, bare="error", key_re=_SYSCTL_KEY,
                    form='a dict {name: value} or a list of "name=value" (e.g. net.ipv4.ip_forward=1)')
    return {k.replace("/", "."): v for k, v in raw.items()}


_ENV_FILE_KEY = lazy_compile(r"^[^\s=]+$")


def parse_env_text(text: str, param: str = "env_file", origin: str = "<text>") -> Dict[str, str]:
    """KEY=VALUE lines (docker/podman env-file): '#' comments and blank lines skipped, value verbatim.

    A line with only KEY takes the value from this process's environment and is skipped
    when unset, as podman does.
    """
    out: Dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, val = stripped.partition("=")
        if not _ENV_FILE_KEY.fullmatch(key) or "\x00" in val:
            raise _bad(param, "%s:%d: %s" % (origin, lineno, line), "invalid variable name",
                       "KEY=VALUE lines (no spaces in KEY), '#' comments")
        if not sep:
            if key in os.environ:
                out[key] = os.environ[key]
            continue
        out[key] = val
    return out


def parse_env_file(path: Any, param: str = "env_file") -> Dict[str, str]:
    """Read one env file (see parse_env_text); unreadable file → InvalidArg."""
    if not isinstance(path, str) or not path:
        raise _bad(param, path, "not a file path", "the path of a KEY=VALUE file")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(16 * 1024 * 1024)
    except (OSError, UnicodeDecodeError) as e:
        raise _bad(param, path, "cannot read: %s" % e, "the path of a readable UTF-8 KEY=VALUE file")
    return parse_env_text(text, param, path)


def env_digest(env: Mapping[str, str]) -> str:
    """sha256 of a set of variables, independent of order, comments and quoting in the file."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(dict(env), sort_keys=True).encode("utf-8")).hexdigest()


def env_file_record(env: Mapping[str, str], path: str) -> Dict[str, Any]:
    """What is declared and shown for an env file: its path, the variable names and a hash of
    the values, never the values (they are often secrets: results and diffs get logged)."""
    return {"path": path, "keys": sorted(env), "sha256": env_digest(env)}


# --------------------------------------------------------------------------- /etc file values
# hostname, dns, dns_search and dns_option are written as lines of /etc/hostname, /etc/hosts
# and resolv.conf: a control character in one of them would add lines (issue: line injection).

_CONTROL = lazy_compile(r"[\x00-\x1f\x7f]")
_LABEL = lazy_compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_SEARCH_LABEL = lazy_compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_DNS_OPTION = lazy_compile(r"[A-Za-z][A-Za-z0-9_-]*(:[0-9]{1,5})?")
_SCOPE_ID = lazy_compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
#: Linux's HOST_NAME_MAX (sethostname refuses more)
HOSTNAME_MAX = 64


def reject_control(value: Any, param: str) -> str:
    """A string without control characters (newline, tab, NUL, DEL...), else a clear error."""
    if not isinstance(value, str):
        raise _bad(param, value, "not a string")
    if _CONTROL.search(value):
        raise _bad(param, value, "contains a control character (newline, tab, NUL...)",
                   "printable text on one line")
    return value


def parse_hostname(value: Any, param: str = "hostname") -> str:
    """An RFC 1123 host name (dot-separated labels of letters, digits and inner '-'), at most 64 characters."""
    name = reject_control(value, param)
    form = "an RFC 1123 host name such as web-1 or web-1.example.com (at most %d characters)" % HOSTNAME_MAX
    if not name or len(name) > HOSTNAME_MAX:
        raise _bad(param, value, "empty or longer than %d characters" % HOSTNAME_MAX, form)
    if not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise _bad(param, value, "not a valid host name", form)
    return name


def parse_dns_search(value: Any, param: str = "dns_search") -> List[str]:
    """Search domains for resolv.conf; ``["."]`` (no search list) passes as is."""
    out = []
    form = "domain names such as example.com, or [\".\"] for no search list"
    for item in value if isinstance(value, (list, tuple)) else [value]:
        domain = reject_control(item, param)
        if domain == "." and len(value) == 1:
            out.append(domain)
            continue
        labels = domain[:-1].split(".") if domain.endswith(".") else domain.split(".")
        if len(domain) > 253 or not all(_SEARCH_LABEL.fullmatch(label) for label in labels):
            raise _bad(param, item, "not a domain name", form)
        out.append(domain)
    return out


def parse_dns_options(value: Any, param: str = "dns_option") -> List[str]:
    """resolv.conf options: ``name`` or ``name:number`` (ndots:2, edns0, timeout:1...)."""
    out = []
    for item in value if isinstance(value, (list, tuple)) else [value]:
        opt = reject_control(item, param)
        if not _DNS_OPTION.fullmatch(opt):
            raise _bad(param, item, "not a resolver option", "NAME or NAME:NUMBER, one per item (ndots:2, edns0)")
        out.append(opt)
    return out


def parse_dns_servers(value: Any, param: str = "dns") -> List[str]:
    """Name server IP addresses; an IPv6 scope id must be an interface name."""
    import ipaddress

    out = []
    for item in value if isinstance(value, (list, tuple)) else [value]:
        ip = reject_control(item, param)
        addr, pct, scope = ip.partition("%")
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            raise _bad(param, item, "not an IP address", "IPv4 or IPv6 addresses (fe80::1%eth0 for a scope)")
        if pct and (":" not in addr or not _SCOPE_ID.fullmatch(scope)):
            raise _bad(param, item, "invalid scope id", "an IPv6 address with an interface name: fe80::1%eth0")
        out.append(ip)
    return out


_HOSTNAME_RE = lazy_compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.\-]*[A-Za-z0-9_])?$")
_ADD_HOST_FORM = 'name:ip (e.g. db.local:10.0.0.5, v6:fd00::1, gw:host-gateway)'


def parse_add_host(value: Any, param: str = "add_host") -> Tuple[str, str]:
    """"name:ip" → (name, ip); IPv6 keeps its colons (split at the first); ip may be host-gateway."""
    import ipaddress

    if not isinstance(value, str):
        raise _bad(param, value, "not a string", _ADD_HOST_FORM)
    reject_control(value, param)
    name, sep, ip = value.partition(":")
    name, ip = name.strip(), ip.strip()
    if not sep or not _HOSTNAME_RE.fullmatch(name):
        raise _bad(param, value, "invalid host name", _ADD_HOST_FORM)
    if ip != "host-gateway":
        try:
            ip = str(ipaddress.ip_address(ip.strip("[]")))
        except ValueError:
            raise _bad(param, value, "invalid IP address", _ADD_HOST_FORM)
    return name, ip


# --------------------------------------------------------------------------- mounts

_PROPAGATIONS = ("shared", "rshared", "slave", "rslave", "private", "rprivate",
                 "unbindable", "runbindable")
# options that exclude each other (one of a group at most)
_CONFLICTS: Tuple[Tuple[str, ...], ...] = (
    ("ro", "rw"), ("exec", "noexec"), ("suid", "nosuid"), ("dev", "nodev"), _PROPAGATIONS,
    ("z", "Z"), ("copy", "nocopy"), ("bind", "rbind"), ("tmpcopyup", "notmpcopyup"),
    ("atime", "noatime", "relatime", "strictatime"),
)
_BIND_OPTS = frozenset(("ro", "rw", "z", "Z", "U", "copy", "nocopy", "exec", "noexec", "suid",
                        "nosuid", "dev", "nodev", "bind", "rbind", "atime", "noatime", "relatime",
                        "strictatime", "nodiratime") + _PROPAGATIONS)
_TMPFS_FLAGS = frozenset(("ro", "rw", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "U",
                          "tmpcopyup", "notmpcopyup", "atime", "noatime", "relatime",
                          "strictatime", "nodiratime") + _PROPAGATIONS)
_TMPFS_KEYS = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks")
_DEVPTS_KEYS = ("uid", "gid", "mode", "max")
_VOLUME_NAME = lazy_compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_VOLUME_FORM = ("SOURCE:DEST[:OPTIONS] or DEST (anonymous volume); SOURCE an absolute host path "
                "or a volume name; OPTIONS comma-separated from ro, rw, z, Z, U, copy, nocopy, "
                "[r]shared, [r]slave, [r]private, [r]unbindable, exec, noexec, suid, nosuid, dev, nodev, "
                "bind, rbind")
_TMPFS_FORM = ("DEST[:OPTIONS], OPTIONS comma-separated from size=SIZE, mode=OCTAL, uid=N, gid=N, "
               "nr_inodes=N, ro, rw, exec, noexec, suid, nosuid, dev, nodev, U, tmpcopyup, notmpcopyup, "
               "[r]shared, [r]slave, [r]private")
_MOUNT_FORM = ("type=bind|volume|tmpfs|devpts,source=SRC,target=DEST[,ro][,bind-propagation=P]"
               "[,relabel=shared|private][,U][,volume-nocopy][,tmpfs-size=SIZE][,tmpfs-mode=OCTAL]"
               "[,uid=|gid=|mode=|max= (devpts)]")


def _check_conflicts(opts: Sequence[str], param: str, value: Any, form: str) -> None:
    for group in _CONFLICTS:
        found = [o for o in opts if o in group]
        if len(set(found)) > 1:
            raise _bad(param, value, "conflicting options %s" % ", ".join(sorted(set(found))), form)


def _dedupe(opts: Iterable[str]) -> List[str]:
    out: List[str] = []
    for o in opts:
        if o not in out:
            out.append(o)
    return out


def _container_path(path: Any, param: str, value: Any, form: str) -> str:
    """An absolute, normalised destination inside the container (never "/" itself)."""
    if not isinstance(path, str) or not path.startswith("/") or "\x00" in path:
        raise _bad(param, value, "destination must be an absolute path", form)
    norm = os.path.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    if norm == "/":
        raise _bad(param, value, "cannot mount over the container's root", form)
    return norm


def _host_path(path: str, param: str, value: Any, form: str) -> str:
    if "\x00" in path or not path.startswith("/"):
        raise _bad(param, value, "host path must be absolute", form)
    norm = os.path.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm


def parse_octal_mode(value: Any, param: str = "mode") -> int:
    """"1777"/"0755"/0o755 → int; at most 0o7777."""
    if _is_int(value):
        mode = value
    elif isinstance(value, str) and re.fullmatch(r"0?[0-7]{1,4}", value.strip()):
        mode = int(value.strip(), 8)
    else:
        raise _bad(param, value, "not an octal mode", "an octal mode such as 1777 or 0755")
    if not 0 <= mode <= 0o7777:
        raise _bad(param, value, "mode out of range", "an octal mode such as 1777 or 0755")
    return mode


def _tmpfs_options(parts: Sequence[str], param: str, value: Any) -> List[str]:
    """Validate tmpfs options; size in bytes (or N%), mode as 4-digit octal."""
    out: List[str] = []
    for raw in parts:
        o = raw.strip()
        if not o:
            continue
        key, sep, val = o.partition("=")
        if sep:
            if key not in _TMPFS_KEYS:
                raise _bad(param, value, "unknown tmpfs option %r" % o, _TMPFS_FORM)
            if key == "size":
                pct = re.fullmatch(r"\d{1,3}%", val.strip())
                val = val.strip() if pct else str(parse_size(val, param + " size"))
            elif key == "mode":
                val = "%o" % parse_octal_mode(val, param + " mode")
            elif not re.fullmatch(r"\d+", val):
                raise _bad(param, value, "%s must be a non-negative integer" % key, _TMPFS_FORM)
            else:
                val = str(int(val))
            # one value per key; a second one is an error rather than a silent override
            if any(x.startswith(key + "=") for x in out):
                raise _bad(param, value, "%s given more than once" % key, _TMPFS_FORM)
            out.append("%s=%s" % (key, val))
        elif o in _TMPFS_FLAGS:
            out.append(o)
        else:
            raise _bad(param, value, "unknown tmpfs option %r" % o, _TMPFS_FORM)
    out = _dedupe(out)
    _check_conflicts(out, param, value, _TMPFS_FORM)
    return out


def parse_tmpfs(value: Any, param: str = "tmpfs") -> Dict[str, Any]:
    """"/run:size=64m,mode=1777" → {type: tmpfs, source: tmpfs, destination, options}."""
    if not isinstance(value, str):
        raise _bad(param, value, "not a string", _TMPFS_FORM)
    dest, _unused, opts = value.partition(":")
    dst = _container_path(dest.strip(), param, value, _TMPFS_FORM)
    return {"type": "tmpfs", "source": "tmpfs", "destination": dst,
            "options": _tmpfs_options(opts.split(",") if opts else [], param, value)}


def parse_tmpfs_list(value: Any, param: str = "tmpfs") -> List[Dict[str, Any]]:
    """A list of tmpfs strings, or a dict {dest: "opts"} (the podman Ansible module's shape)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = ["%s:%s" % (k, v or "") if v else str(k) for k, v in value.items()]
    elif isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise _bad(param, value, "not a list", _TMPFS_FORM)
    return [parse_tmpfs(v, param) for v in value]


def format_tmpfs(mount: Mapping[str, Any]) -> str:
    """"/dest:opt,opt" (inverse of parse_tmpfs)."""
    opts = ",".join(mount.get("options") or [])
    return "%s:%s" % (mount["destination"], opts) if opts else str(mount["destination"])


def _bind_options(parts: Sequence[str], param: str, value: Any, form: str) -> List[str]:
    out: List[str] = []
    for raw in parts:
        o = raw.strip()
        if not o:
            continue
        if o not in _BIND_OPTS:
            raise _bad(param, value, "unknown option %r" % o, form)
        out.append(o)
    out = _dedupe(out)
    _check_conflicts(out, param, value, form)
    return out


def _source_kind(src: str, param: str, value: Any, form: str) -> Tuple[str, str]:
    if src.startswith("/"):
        return "bind", _host_path(src, param, value, form)
    if _VOLUME_NAME.fullmatch(src):
        return "volume", src
    raise _bad(param, value, "source %r is neither an absolute path nor a volume name" % src,
               form + " (relative host paths are not accepted: make them absolute)")


def parse_volume(value: Any, param: str = "volumes") -> Dict[str, Any]:
    """"src:dst[:opts]" → {type: bind|volume, source, destination, options}.

    An absolute source is a bind mount, a name is a named volume, a lone "/dst" an anonymous
    volume (source ""). copy/nocopy only make sense for volumes.
    """
    if not isinstance(value, str) or not value.strip():
        raise _bad(param, value, "not a string", _VOLUME_FORM)
    parts = value.split(":")
    if len(parts) > 3:
        raise _bad(param, value, "too many ':'", _VOLUME_FORM)
    if len(parts) == 1:
        kind, src = "volume", ""
        dst = _container_path(parts[0], param, value, _VOLUME_FORM)
        opts: List[str] = []
    else:
        kind, src = _source_kind(parts[0], param, value, _VOLUME_FORM)
        dst = _container_path(parts[1], param, value, _VOLUME_FORM)
        opts = _bind_options(parts[2].split(",") if len(parts) == 3 else [], param, value, _VOLUME_FORM)
    if kind == "bind" and ("copy" in opts or "nocopy" in opts):
        raise _bad(param, value, "copy/nocopy apply to named volumes only", _VOLUME_FORM)
    return {"type": kind, "source": src, "destination": dst, "options": opts}


def format_volume(mount: Mapping[str, Any]) -> str:
    """"src:dst[:opts]" (inverse of parse_volume for bind and volume mounts)."""
    opts = ",".join(mount.get("options") or [])
    if not mount.get("source"):
        if opts:
            raise _bad("volumes", dict(mount), "an anonymous volume cannot carry options here",
                       "use the mount form")
        return str(mount["destination"])
    text = "%s:%s" % (mount["source"], mount["destination"])
    return text + (":" + opts if opts else "")


_TRUE = ("", "true", "1", "yes")
_FALSE = ("false", "0", "no")


def _flag(val: Optional[str], param: str, value: Any) -> bool:
    v = "" if val is None else val.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise _bad(param, value, "%r is not a boolean" % val, _MOUNT_FORM)


def parse_mount(value: Any, param: str = "mounts") -> Dict[str, Any]:
    """"type=bind,source=/a,target=/b,ro" (or a dict of the same keys) → mount dict."""
    if isinstance(value, Mapping):
        items: List[Tuple[str, Optional[str]]] = []
        for k, v in value.items():
            if k == "options":
                olist = v.split(",") if isinstance(v, str) else v
                if not isinstance(olist, (list, tuple)):
                    raise _bad(param, value, "options must be a list", _MOUNT_FORM)
                items.extend(("opt", str(o)) for o in olist)
            elif isinstance(v, bool):
                items.append((str(k), "true" if v else "false"))
            elif v is None:
                continue
            else:
                items.append((str(k), str(v)))
    elif isinstance(value, str):
        items = []
        for field in value.split(","):
            if not field.strip():
                continue
            k, sep, v = field.partition("=")
            items.append((k.strip(), v if sep else None))
    else:
        raise _bad(param, value, "not a mount string or dict", _MOUNT_FORM)

    mtype = src = dst = None
    # one ordered list (flags and key=value), so the declared order survives a round trip
    flags: List[str] = []
    kv = flags
    for k, v in items:
        key = k.lower() if k not in ("U", "Z") else k
        if key == "type":
            mtype = (v or "").strip()
        elif key in ("source", "src"):
            src = v
        elif key in ("target", "destination", "dst"):
            dst = v
        elif key in ("ro", "readonly"):
            flags.append("ro" if _flag(v, param, value) else "rw")
        elif key == "rw":
            flags.append("rw" if _flag(v, param, value) else "ro")
        elif key == "bind-propagation":
            if v not in _PROPAGATIONS:
                raise _bad(param, value, "bad bind-propagation %r" % v, _MOUNT_FORM)
            flags.append(v)
        elif key == "relabel":
            if v not in ("shared", "private"):
                raise _bad(param, value, "relabel must be shared or private", _MOUNT_FORM)
            flags.append("z" if v == "shared" else "Z")
        elif key in ("U", "u", "chown"):
            if _flag(v, param, value):
                flags.append("U")
        elif key in ("volume-nocopy", "nocopy"):
            flags.append("nocopy" if _flag(v, param, value) else "copy")
        elif key == "bind-nonrecursive":
            flags.append("bind" if _flag(v, param, value) else "rbind")
        elif key in ("tmpfs-size", "tmpfs-mode"):
            kv.append("%s=%s" % (key[len("tmpfs-"):], v))
        elif (key in _TMPFS_KEYS or key in _DEVPTS_KEYS) and v is not None:
            kv.append("%s=%s" % (key, v))
        elif key == "consistency":
            continue  # docker compatibility: ignored, as podman does
        elif key == "opt" or (v is None and (key in _BIND_OPTS or key in _TMPFS_FLAGS)):
            if key == "opt" and v is not None and "=" in v:
                kv.append(v)
            else:
                flags.append(v if key == "opt" else key)
        else:
            raise _bad(param, value, "unknown mount key %r" % k, _MOUNT_FORM)

    if mtype not in ("bind", "volume", "tmpfs", "devpts"):
        raise _bad(param, value, "type must be bind, volume, tmpfs or devpts", _MOUNT_FORM)
    if dst is None:
        raise _bad(param, value, "target is required", _MOUNT_FORM)
    dest = _container_path(dst, param, value, _MOUNT_FORM)
    if mtype == "devpts":
        return _devpts_mount(src, flags, dest, param, value)
    if mtype == "tmpfs":
        if src not in (None, "", "tmpfs"):
            raise _bad(param, value, "tmpfs mounts take no source", _MOUNT_FORM)
        opts = _tmpfs_options(flags, param, value)
        return {"type": "tmpfs", "source": "tmpfs", "destination": dest, "options": opts}
    if any("=" in o for o in flags):
        raise _bad(param, value, "tmpfs options on a %s mount" % mtype, _MOUNT_FORM)
    opts = _bind_options(flags, param, value, _MOUNT_FORM)
    if mtype == "bind":
        if not src:
            raise _bad(param, value, "a bind mount needs a source", _MOUNT_FORM)
        source = _host_path(src, param, value, _MOUNT_FORM)
        if "copy" in opts or "nocopy" in opts:
            raise _bad(param, value, "volume-nocopy applies to volumes only", _MOUNT_FORM)
    else:
        source = src or ""
        if source.startswith("/"):
            # the container layer may hand us a resolved volume path
            source = _host_path(source, param, value, _MOUNT_FORM)
        elif source and not _VOLUME_NAME.fullmatch(source):
            raise _bad(param, value, "invalid volume name %r" % source, _MOUNT_FORM)
    return {"type": mtype, "source": source, "destination": dest, "options": opts}


def _devpts_mount(src: Optional[str], options: List[str], dest: str, param: str, value: Any) -> Dict[str, Any]:
    """podman's type=devpts: a new devpts instance; only uid, gid, mode and max are options."""
    if src not in (None, "", "devpts"):
        raise _bad(param, value, "devpts mounts take no source", _MOUNT_FORM)
    if any(o.partition("=")[0] not in _DEVPTS_KEYS or "=" not in o for o in options):
        raise _bad(param, value, "devpts mounts take uid, gid, mode, max", _MOUNT_FORM)
    return {"type": "devpts", "source": "devpts", "destination": dest, "options": list(options)}


def format_mount(mount: Mapping[str, Any]) -> str:
    """"type=..,source=..,target=..,opt,..." (inverse of parse_mount)."""
    fields = ["type=%s" % mount["type"]]
    if mount["type"] not in ("tmpfs", "devpts") and mount.get("source"):
        fields.append("source=%s" % mount["source"])
    fields.append("target=%s" % mount["destination"])
    fields.extend(mount.get("options") or [])
    return ",".join(fields)
