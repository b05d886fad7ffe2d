# SPDX-License-Identifier: GPL-3.0-or-later
"""One error hierarchy for the whole engine, after libpod's define.Err*.

Callers add context the way runtime.go wraps errors (``wrap(err, "...")``); the
modules turn any EngineError into a fail_json whose message is ``str(err)``, so
messages must name the object, the parameter and, where there is one, the fix.
"""
from __future__ import annotations

from typing import Optional


class EngineError(Exception):
    """Base of every expected engine failure (never shown with a traceback)."""

    #: short machine-readable kind, returned to Ansible as ``error_kind``
    kind = "engine"

    def __init__(self, msg: str, *, hint: Optional[str] = None):
        super().__init__(msg)
        self.msg = msg
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return "%s (%s)" % (self.msg, self.hint)
        return self.msg


def wrap(err: EngineError, context: str) -> EngineError:
    """Prefix context onto an engine error, keeping its class (errors.Wrapf)."""
    err.msg = "%s: %s" % (context, err.msg)
    return err


class InvalidArg(EngineError):
    kind = "invalid_argument"


class ConfigError(EngineError):
    """A containers.conf file that cannot be used (bad TOML, type, section)."""

    kind = "config"


class DBConfigMismatch(EngineError):
    """ValidateDBConfig: a configured path differs from the one stored in the DB."""

    kind = "db_config_mismatch"


class RuntimeStopped(EngineError):
    kind = "runtime_stopped"


class NoSuchObject(EngineError):
    kind = "no_such_object"


class NoSuchContainer(NoSuchObject):
    kind = "no_such_container"


class NoSuchPod(NoSuchObject):
    kind = "no_such_pod"


class NoSuchVolume(NoSuchObject):
    kind = "no_such_volume"


class NoSuchImage(NoSuchObject):
    kind = "no_such_image"


class NoSuchNetwork(NoSuchObject):
    kind = "no_such_network"


class NoSuchSecret(NoSuchObject):
    kind = "no_such_secret"


class NameInUse(EngineError):
    kind = "name_in_use"


class LockExhausted(EngineError):
    """No free lock number left (libpod: allocation failed; exceeded num_locks)."""

    kind = "locks_exhausted"


class LockError(EngineError):
    kind = "lock"


class ConmonNotFound(EngineError):
    kind = "conmon_not_found"


class OCIRuntimeNotFound(EngineError):
    kind = "oci_runtime_not_found"


class OCIRuntimeError(EngineError):
    """The OCI runtime (or conmon) failed; msg carries its own stderr."""

    kind = "oci_runtime"


class CtrStateInvalid(EngineError):
    kind = "container_state_invalid"


class CtrInUse(EngineError):
    """Another object depends on the container/pod (e.g. pod members)."""

    kind = "in_use"


class VolumeInUse(CtrInUse):
    kind = "volume_in_use"


class SecretInUse(CtrInUse):
    """A secret that containers use cannot be removed (without force)."""

    kind = "secret_in_use"


class SecretDriverError(EngineError):
    """The secret driver (file store or shell commands) failed."""

    kind = "secret_driver"


class ImageError(EngineError):
    kind = "image"


class UnsafeLayer(ImageError):
    """A layer entry tries to leave the layer root (path traversal, link escape)."""

    kind = "unsafe_layer"


class ImageInUse(ImageError):
    """Containers use the image: removing it needs force (which removes them first)."""

    kind = "image_in_use"


class DigestMismatch(ImageError):
    kind = "digest_mismatch"


class RegistryError(ImageError):
    kind = "registry"


class StorageError(EngineError):
    kind = "storage"


class NetworkError(EngineError):
    kind = "network"


class PortInUse(NetworkError):
    kind = "port_in_use"


class VolumePluginError(EngineError):
    kind = "volume_plugin"


class PluginNoSuchVolume(VolumePluginError):
    """The plugin answered that it has no volume by that name (remove can proceed)."""

    kind = "volume_plugin_no_such_volume"


class StateDBError(EngineError):
    """The state DB (SQLite) failed; the message names the file, the hint the fix."""

    kind = "state_db"


class StateDBFull(StateDBError):
    """No space (or an I/O error) on the filesystem of the state DB."""

    kind = "state_db_full"


class StateDBCorrupt(StateDBError):
    """The state DB is damaged, not an SQLite file, or another program's DB."""

    kind = "state_db_corrupt"


class StateDBMissing(StateDBError):
    """The state DB is missing or empty although the engine's roots hold objects (never start over)."""

    kind = "state_db_missing"


class UnsafePath(EngineError):
    """An engine directory (or the exit command's copy) that another user could replace."""

    kind = "unsafe_path"


class RootConflict(EngineError):
    """A host-wide resource (path, bridge, subnet, port) belongs to another engine root."""

    kind = "root_conflict"
