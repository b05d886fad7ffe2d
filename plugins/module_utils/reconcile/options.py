# SPDX-License-Identifier: GPL-3.0-or-later
"""Options declared once: argument spec, normalisation, comparison and diff.

After community.docker's module_container: every option of a module is one
``Option`` row. The same table builds the Ansible argument spec, turns task
parameters into the *declared spec* (normalised, every omitted option filled
with its default, so "omitted" always means the same thing), and compares two
declared specs. The declared spec is stored with the object on creation, so a
re-run compares declared with declared, exactly: case preserved, lists in
order, dicts as dicts. No guessing from inspect output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..engine.base.errors import InvalidArg

# How a changed option reaches an existing object.
RECREATE = "recreate"    # remove and create again
IN_PLACE = "in_place"    # applied to the live object (e.g. runc update) and stored
CONFIG = "config"        # stored only: takes effect on the next start/stop (e.g. stop_timeout)
NOT_COMPARED = "action"  # an action flag, never part of the declared spec (state, recreate, ...)
SAME_NAME = "="          # Option.config: the config field has the option's name


def identity(value: Any, ctx: Any = None) -> Any:
    return value


@dataclass(frozen=True)
class Option:
    """One module option: its Ansible shape and how it is compared."""

    name: str
    type: str = "str"
    elements: Optional[str] = None
    aliases: Tuple[str, ...] = ()
    choices: Optional[Tuple[Any, ...]] = None
    default: Any = None             # declared value when the task omits the option
    arg_default: Any = None         # default in the argument spec (action flags only)
    normalise: Callable[[Any, Any], Any] = identity
    #: what is compared of a declared value (default: all of it)
    compare_key: Callable[[Any], Any] = identity
    #: what a result or a diff shows of a declared value (default: all of it)
    shown: Callable[[Any], Any] = identity
    update: str = RECREATE
    no_log: Optional[bool] = None  # False: says so in the argspec (names that look secret but are not)
    required: bool = False
    #: the config record field this option fills: SAME_NAME (the option's name), another field's
    #: name, or None (not copied as is: computed from several options, or not stored)
    config: Optional[str] = SAME_NAME

    @property
    def config_field(self) -> Optional[str]:
        if self.update == NOT_COMPARED:
            return None
        return self.name if self.config == SAME_NAME else self.config

    def argspec(self) -> Dict[str, Any]:
        spec: Dict[str, Any] = {"type": self.type}
        if self.elements:
            spec["elements"] = self.elements
        if self.aliases:
            spec["aliases"] = list(self.aliases)
        if self.choices is not None:
            spec["choices"] = list(self.choices)
        if self.arg_default is not None:
            spec["default"] = self.arg_default
        if self.no_log is not None:
            spec["no_log"] = self.no_log
        if self.required:
            spec["required"] = True
        return spec


class OptionTable:
    """The rows of one module, with the operations reconcile needs."""

    def __init__(self, options: Iterable[Option]):
        self.options = list(options)
        self.by_name = {o.name: o for o in self.options}
        self._compared = [o for o in self.options if o.update != NOT_COMPARED]
        #: the compared options whose comparison key is not the value itself (differences' fast path)
        self._keyed = [o for o in self._compared if o.compare_key is not identity]

    def argument_spec(self) -> Dict[str, Any]:
        return {o.name: o.argspec() for o in self.options}

    def config_values(self, declared: Mapping[str, Any]) -> Dict[str, Any]:
        """The config record fields the rows fill directly from a declared spec."""
        return {o.config_field: declared[o.name] for o in self.compared() if o.config_field}

    def compared(self) -> List[Option]:
        return list(self._compared)

    def declared(self, params: Mapping[str, Any], ctx: Any = None) -> Dict[str, Any]:
        """Task parameters -> declared spec (normalised; omitted = default)."""
        out: Dict[str, Any] = {}
        for opt in self._compared:
            raw = params.get(opt.name)
            try:
                out[opt.name] = opt.default if raw is None else opt.normalise(raw, ctx)
            except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError) as exc:
                # a value of an unexpected shape (a raw option, or a caller without an argument spec)
                raise InvalidArg("invalid %s %s: %s" % (opt.name, repr(raw)[:80], exc),
                                 hint="see the module documentation for the forms %s accepts" % opt.name)
        return out

    def differences(self, before: Mapping[str, Any], after: Mapping[str, Any],
                    only: Optional[Sequence[str]] = None) -> List[str]:
        """Names of the options whose declared values differ (in table order).

        An option missing from ``before`` (an object created by an older engine that
        did not know it) counts as its default.

        Equal specs (the no-op: one C-level dict comparison) only need the options with their own
        comparison key looked at, which can tell equal values apart (``0`` and ``False``); for every
        other option an equal value is an equal comparison (a no-op stack of 500 containers, cProfile:
        0.13 s -> 0.014 s).
        """
        names = []
        for opt in self._keyed if before == after else self._compared:
            if only is not None and opt.name not in only:
                continue
            old, new = before.get(opt.name, opt.default), after.get(opt.name, opt.default)
            if old is not new and opt.compare_key(old) != opt.compare_key(new):  # the same object: equal keys
                names.append(opt.name)
        return names

    def needs_recreate(self, names: Iterable[str]) -> List[str]:
        return [n for n in names if self.by_name[n].update == RECREATE]

    def diff(self, before: Mapping[str, Any], after: Mapping[str, Any],
             names: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        """Ansible diff of exactly the changed options, as structured dicts."""
        names = list(names)
        return {"before": {n: self.by_name[n].shown(before.get(n, self.by_name[n].default)) for n in names},
                "after": {n: self.by_name[n].shown(after.get(n)) for n in names}}

    def shown(self, declared: Mapping[str, Any]) -> Dict[str, Any]:
        """A declared spec as results show it (nothing an option keeps out of logs)."""
        return {k: self.by_name[k].shown(v) if k in self.by_name else v for k, v in declared.items()}


def reasons(names: Sequence[str]) -> str:
    """'env, image changed' for an action string."""
    return "%s changed" % ", ".join(names)
