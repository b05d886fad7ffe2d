# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: libpod.engine contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of libpod.engine.pod_info: every engine module's (plugins/plugin_utils/engine_action.py)."""
from __future__ import annotations

# pylint: disable-next=unused-import
from ansible_collections.libpod.engine.plugins.plugin_utils.engine_action import ActionModule  # noqa: F401
