# SPDX-License-Identifier: GPL-3.0-or-later
"""Network mode names that every layer knows (the option table, the container object, the spec).

Not in records.py, whose record classes cost ~5 ms to build at import: a no-op task does
not import them (issue 20).
"""
from __future__ import annotations

#: network modes served by a user-mode networking tool (engine/network/usermode.py); here so that
#: the option table and the container object know them without importing the network package
USERMODE_NETWORKS = ("pasta", "slirp4netns")
