"""Configurations of the TLS stack: reading, linting and repairing them.

Half of the failures users bring are configuration: a hand-made config.h with no key exchange or no
client role, test entropy on a device, an ESP-IDF output buffer that no longer holds the client
certificate, record buffers that do not fit the device's RAM. This package reads mbedTLS headers,
ESP-IDF sdkconfig files and Zephyr prj.conf files into one model (the mbedTLS macros the build sees),
lints that model with rules kept as data, and turns fixes into the lines a user pastes.

Layers: ``reader`` (and ``header``, ``kconfig``) read; ``effective`` answers conditions; ``lint`` and
``checks`` judge; ``targets`` and ``fragment`` write changes; ``recommend`` ties a log, a configuration
and a server together. Nothing here prints.
"""

from __future__ import annotations

from tlsdiag.config.lint import LintResult, lint
from tlsdiag.config.reader import read_config
from tlsdiag.config.recommend import Recommendation, recommend

__all__ = ["LintResult", "Recommendation", "lint", "read_config", "recommend"]
