"""The virtual terminal's settings, from the same config file as the POS side.

Tables read: ``[terminal]`` for who the terminal is (ids, TPDU, header: the POS
host and the simulator must agree, so they share the table), ``[link]`` for the
timers (the same :class:`~terminal.link.LinkTimers`), and ``[simulator]``::

    [simulator]
    card = "approved"            # profile read when none is presented
    acquirer_id = "00010000"     # field 32
    cards_file = "my-cards.toml" # default: the packaged simulator/data/cards.toml
    ledger_file = "books.sqlite3"  # SQLite books; default: in memory (the CLI: the data dir)
    batch = 1                    # batch number (60.2) to start from
    require_sign_on = false      # true: financial requests before 0800 sign-on get A0
    response_delay = 0.0         # seconds between ACKing a request and responding
    require_mac = false          # true: a money request without field 64 gets A0
    refund_window_days = 180     # a refund more than this many days after its original: 12
    completion_tolerance_percent = 15  # a completion may exceed its pre-auth by this much

    [security]                   # shared with the POS host: both ends must agree
    master_key = "..."           # hex; default: the published test key (TEST_MASTER_KEY)
    mac_algorithm = "cup-ecb"    # or "x9.9", "x9.19"

Every default works with no file at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from terminal.config import TerminalSettings, load_config
from terminal.errors import ConfigError
from terminal.link import LinkTimers
from terminal.protocol.security import TEST_MASTER_KEY, MacAlgorithm, parse_master_key

__all__ = ["MAX_BATCH", "SimulatorSettings", "load_settings"]

MAX_BATCH = 999_999

# [simulator] key -> SimulatorSettings field (the file says "card", as does sim://?card=).
_SIMULATOR_KEYS = {
    "card": "default_card",
    "acquirer_id": "acquirer_id",
    "cards_file": "cards_file",
    "ledger_file": "ledger_file",
    "batch": "batch",
    "require_sign_on": "require_sign_on",
    "response_delay": "response_delay",
    "require_mac": "require_mac",
    "refund_window_days": "refund_window_days",
    "completion_tolerance_percent": "completion_tolerance_percent",
}
# [security] keys the simulator shares with the POS host.
_SECURITY_KEYS = ("master_key", "mac_algorithm")
_TERMINAL_KEYS = ("terminal_id", "merchant_id", "tpdu", "header")
_DEFAULTS = TerminalSettings()


@dataclass(frozen=True)
class SimulatorSettings:
    """Everything the virtual terminal is configured with; checked when built."""

    terminal_id: str = _DEFAULTS.terminal_id
    merchant_id: str = _DEFAULTS.merchant_id
    acquirer_id: str = "00010000"
    tpdu: str = _DEFAULTS.tpdu
    header: str = _DEFAULTS.header
    default_card: str = "approved"
    cards_file: Path | None = None
    ledger_file: Path | None = None
    batch: int = 1
    require_sign_on: bool = False
    response_delay: float = 0.0
    require_mac: bool = False
    refund_window_days: int = 180
    completion_tolerance_percent: int = 15
    master_key: str = TEST_MASTER_KEY.hex().upper()
    mac_algorithm: str = MacAlgorithm.CUP_ECB.value
    link: LinkTimers = field(default_factory=LinkTimers)

    def __post_init__(self) -> None:
        # The identity fields follow the POS side's rules exactly: reuse its checks.
        TerminalSettings(
            terminal_id=self.terminal_id,
            merchant_id=self.merchant_id,
            tpdu=self.tpdu,
            header=self.header,
        )
        acquirer = self.acquirer_id
        if not isinstance(acquirer, str) or not acquirer.isdigit() or not 1 <= len(acquirer) <= 11:
            raise ConfigError(f"[simulator] acquirer_id must be 1 to 11 digits, got {acquirer!r}")
        if not isinstance(self.default_card, str) or not self.default_card:
            raise ConfigError(f"[simulator] card must be a profile name, got {self.default_card!r}")
        batch = self.batch
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
            raise ConfigError(
                f"[simulator] batch must be a whole number 1-{MAX_BATCH}, got {batch!r}"
            )
        if not isinstance(self.require_sign_on, bool):
            raise ConfigError(
                f"[simulator] require_sign_on must be true or false, got {self.require_sign_on!r}"
            )
        delay = self.response_delay
        if (
            isinstance(delay, bool)
            or not isinstance(delay, int | float)
            or not math.isfinite(delay)
            or delay < 0
        ):
            raise ConfigError(f"[simulator] response_delay must be seconds >= 0, got {delay!r}")
        object.__setattr__(self, "response_delay", float(delay))
        if not isinstance(self.require_mac, bool):
            raise ConfigError(
                f"[simulator] require_mac must be true or false, got {self.require_mac!r}"
            )
        for name, top in (("refund_window_days", 100_000), ("completion_tolerance_percent", 100)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise ConfigError(
                    f"[simulator] {name} must be a whole number 0-{top}, got {value!r}"
                )
        try:
            parse_master_key(self.master_key)
        except ValueError as exc:
            raise ConfigError(f"[security] {exc}") from None
        try:
            MacAlgorithm(self.mac_algorithm)
        except ValueError:
            known = ", ".join(a.value for a in MacAlgorithm)
            raise ConfigError(
                f"[security] mac_algorithm must be one of {known}, got {self.mac_algorithm!r}"
            ) from None
        for name in ("cards_file", "ledger_file"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                if not isinstance(value, str) or not value:
                    raise ConfigError(f"[simulator] {name} must be a path, got {value!r}")
                object.__setattr__(self, name, Path(value).expanduser())
        if not isinstance(self.link, LinkTimers):
            raise ConfigError(f"link must be LinkTimers, got {type(self.link).__name__}")

    @property
    def master_key_bytes(self) -> bytes:
        return parse_master_key(self.master_key)

    @property
    def batch_number(self) -> str:
        """The starting batch as field 60.2 carries it (6 digits)."""
        return f"{self.batch:06d}"

    @classmethod
    def from_config(cls, config: dict[str, Any], **overrides: Any) -> SimulatorSettings:
        """Settings from a parsed config file, then the non-None keyword ``overrides``
        (field names, e.g. ``default_card="expired"``)."""
        values: dict[str, Any] = {}
        terminal = config.get("terminal", {})
        if not isinstance(terminal, dict):
            raise ConfigError("[terminal] must be a table")
        # The POS side owns [terminal] and rejects unknown keys there; we take our four.
        TerminalSettings.from_config(config)
        values.update({key: terminal[key] for key in _TERMINAL_KEYS if key in terminal})

        section = config.get("simulator", {})
        if not isinstance(section, dict):
            raise ConfigError("[simulator] must be a table")
        unknown = set(section) - set(_SIMULATOR_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown [simulator] keys: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(_SIMULATOR_KEYS))})"
            )
        values.update({_SIMULATOR_KEYS[key]: value for key, value in section.items()})
        security = config.get("security", {})
        if not isinstance(security, dict):
            raise ConfigError("[security] must be a table")
        values.update({key: security[key] for key in _SECURITY_KEYS if key in security})
        values["link"] = LinkTimers.from_config(config)

        known = {f.name for f in fields(cls)}
        bad = set(overrides) - known
        if bad:
            raise TypeError(f"unknown SimulatorSettings fields: {', '.join(sorted(bad))}")
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


def load_settings(path: Path | None = None, **overrides: Any) -> SimulatorSettings:
    """Settings from the config file (``terminal.config.load_config``) and ``overrides``."""
    return SimulatorSettings.from_config(load_config(path), **overrides)
