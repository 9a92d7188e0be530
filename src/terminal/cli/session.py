"""Reading the ``[security]`` table into the client's :class:`Security` (CLI side).

The config schema (:mod:`terminal.config`) has already checked the values'
types and forms; this turns them into bytes and an enum, the default being the
simulator's published test key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from terminal.errors import ConfigError
from terminal.protocol.security import TEST_MASTER_KEY, MacAlgorithm, parse_master_key
from terminal.transactions.client import Security

__all__ = ["security_from_config"]


def security_from_config(config: Mapping[str, Any]) -> Security:
    """``[security] master_key`` (hex) and ``mac_algorithm``; the test key when none is set."""
    section = config.get("security", {})
    try:
        key = parse_master_key(section.get("master_key", TEST_MASTER_KEY.hex()))
    except ValueError as exc:
        raise ConfigError(f"[security] {exc}") from None
    try:
        algorithm = MacAlgorithm(section.get("mac_algorithm", MacAlgorithm.CUP_ECB.value))
    except ValueError:
        known = ", ".join(a.value for a in MacAlgorithm)
        raise ConfigError(f"[security] mac_algorithm must be one of {known}") from None
    return Security(key, algorithm)
