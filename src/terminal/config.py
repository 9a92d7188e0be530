"""Configuration: a TOML file in the platform's config directory, then options.

Precedence, highest first: an explicit argument (CLI option), the environment
(``TERMINAL_PORT``, ``TERMINAL_CONFIG``), the config file, the defaults here.
The defaults make everything work with no file at all: the port is ``sim://``,
the in-process simulator.

The file (``terminal config-path`` prints where it is looked for)::

    [terminal]
    port = "/dev/ttyUSB0"        # any pyserial URL; sim:// when absent
    dialect = "cup"
    terminal_id = "10008060"
    merchant_id = "898100000000001"
    tpdu = "6000060000"
    header = "603200320002"
    merchant_name = "银联演示商户"   # printed on receipts

    [link]                         # seconds
    ack_timeout = 1.0
    inter_byte_timeout = 0.2
    response_timeout = 60.0
    max_sends = 3

    [simulator]                    # read by the simulator (see simulator.config)
    card = "approved"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from terminal.errors import ConfigError

__all__ = [
    "DEFAULT_PORT",
    "TerminalSettings",
    "config_path",
    "load_config",
    "resolve_port",
]

DEFAULT_PORT = "sim://"
APP_NAME = "terminal"


@dataclass(frozen=True)
class TerminalSettings:
    """Who this terminal is on the network; the POS side and the simulator share it."""

    port: str = DEFAULT_PORT
    dialect: str = "cup"
    terminal_id: str = "10008060"
    merchant_id: str = "898100000000001"
    tpdu: str = "6000060000"
    header: str = "603200320002"
    currency: str = "156"
    merchant_name: str = "银联演示商户"

    def __post_init__(self) -> None:
        if len(self.terminal_id) != 8:
            raise ConfigError(f"terminal_id must be 8 characters, got {self.terminal_id!r}")
        if len(self.merchant_id) != 15:
            raise ConfigError(f"merchant_id must be 15 characters, got {self.merchant_id!r}")
        try:
            if len(bytes.fromhex(self.tpdu)) != 5:
                raise ValueError
        except ValueError:
            raise ConfigError(f"tpdu must be 10 hex digits, got {self.tpdu!r}") from None
        if len(self.header) != 12 or not self.header.isdigit():
            raise ConfigError(f"header must be 12 digits, got {self.header!r}")

    @classmethod
    def from_config(cls, config: dict[str, Any], **overrides: Any) -> TerminalSettings:
        """Settings from the ``[terminal]`` table, then non-None ``overrides``."""
        section = dict(config.get("terminal", {}))
        known = {f.name for f in fields(cls)}
        unknown = set(section) - known
        if unknown:
            raise ConfigError(f"unknown [terminal] keys: {', '.join(sorted(unknown))}")
        section.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{k: str(v) for k, v in section.items()})


def config_path() -> Path:
    """Where the config file is looked for: ``$TERMINAL_CONFIG`` or the platform's
    per-user config directory (``~/.config/terminal/config.toml`` on Linux)."""
    explicit = os.environ.get("TERMINAL_CONFIG")
    if explicit:
        return Path(explicit)
    import typer  # deferred: only the CLI path needs it at import time

    return Path(typer.get_app_dir(APP_NAME)) / "config.toml"


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The parsed config file, or ``{}`` when there is none.

    A file that exists but cannot be read or parsed is an error, not silently
    ignored: a shop must not run against the simulator by accident.
    """
    path = path or config_path()
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc


def resolve_port(explicit: str | None, config: dict[str, Any] | None = None) -> str:
    """The port URL: the argument, else ``$TERMINAL_PORT``, else the file, else ``sim://``."""
    if explicit:
        return explicit
    from_env = os.environ.get("TERMINAL_PORT")
    if from_env:
        return from_env
    section = (config or {}).get("terminal", {})
    return str(section.get("port") or DEFAULT_PORT)
