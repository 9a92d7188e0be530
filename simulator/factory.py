"""The ``sim://`` device: a :class:`~simulator.device.SimulatedTerminal` built from URL options.

Registered in ``pyproject.toml`` under the ``terminal.devices`` entry points
(``sim = "simulator.factory:build_device"``), which is how the ``sim://``
handler in ``terminal.transport`` finds it without importing this package
(see :mod:`terminal.devices`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simulator.config import SimulatorSettings
from simulator.device import SimulatedTerminal
from terminal.clock import Clock
from terminal.config import load_config
from terminal.errors import ConfigError

__all__ = ["build_device"]


def build_device(options: Mapping[str, str], *, clock: Clock) -> SimulatedTerminal:
    """The simulated terminal for a ``sim://`` URL's (already checked) options.

    ``card``, ``delay`` and ``ledger`` override the ``[simulator]`` table of
    the config file; ``config`` names that file. Raises
    :class:`~terminal.errors.ConfigError` for a config file that does not exist
    or is broken, and the simulator's own errors for a bad card name.
    """
    overrides: dict[str, Any] = {}
    if "card" in options:
        overrides["default_card"] = options["card"]
    if "delay" in options:
        overrides["response_delay"] = float(options["delay"])
    if "ledger" in options:
        overrides["ledger_file"] = Path(options["ledger"])
    config_file = Path(options["config"]) if "config" in options else None
    if config_file is not None and not config_file.exists():
        raise ConfigError(f"sim:// config file {config_file} does not exist")
    settings = SimulatorSettings.from_config(load_config(config_file), **overrides)
    return SimulatedTerminal(settings, clock=clock)
