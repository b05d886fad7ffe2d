# SPDX-License-Identifier: GPL-3.0-or-later
"""libpod.engine core: a Python re-implementation of podman's libpod runtime.

No Ansible imports anywhere below this package: it is used by the modules, by the
tests, by bench/ and by the exit command conmon runs after a task has ended.
"""
