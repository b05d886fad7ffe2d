# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """Options shared by every libpod.engine module."""

    DOCUMENTATION = r"""
options:
  engine_options:
    description:
      - containers.conf settings for this task only, as a dict of sections, each a dict of keys and values
        (see EXAMPLES), like podman's global flags C(--root), C(--runroot) or C(--tmpdir).
      - They win over the configuration files. A path given here that differs from the one
        recorded in the engine's database on first use fails, naming both values.
      - Keys and types are those of the engine's containers.conf (see the M(libpod.engine.runtime_info)
        return value C(config_files) and the user guide).
    type: dict
# Descriptions of the attributes every module documents; each module gives its own support (and details).
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
requirements:
  - conmon >= 2.0.1 and an OCI runtime (runc or crun) on the managed node
  - Python >= 3.9 on the managed node with jsonschema, ruamel.yaml and tomlkit (and tomli before
    Python 3.11), as listed in the collection's requirements.txt
  - zstandard on the managed node is optional; only zstd-compressed image layers need it
notes:
  - The engine keeps its state in C(/var/lib/libpod-engine) and C(/run/libpod-engine) by default,
    apart from any podman installation on the same host.
"""

    ACTIONGROUP = r"""
attributes:
  action_group:
    description: Use C(group/libpod.engine.all) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - libpod.engine.all
"""
