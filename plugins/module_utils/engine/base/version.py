# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine's version: names the infra image and is reported by runtime_info."""
ENGINE_VERSION = "0.1.0"
