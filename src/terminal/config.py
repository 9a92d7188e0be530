"""Configuration: one TOML file, checked whole against one schema when it is loaded.

Every table and key the file may hold is declared once, in :data:`SCHEMA`: its
type, an example and the rule its value follows. :func:`load_config` checks the
whole file against it and refuses a bad one at start-up with the file, the key,
what was expected and an example, so that a typo never surfaces halfway through
a payment. The settings classes built from the file (:class:`TerminalSettings`,
:class:`SerialSettings`, ``LinkTimers``, the simulator's settings) run the same
checks on values given in code.

Library code takes a path or a parsed config as an argument; it reads no
environment variable and looks for no file by itself. The command line decides
which file (``--config``, ``$TERMINAL_CONFIG``, the platform's directory) and
which port (``--port``, ``$TERMINAL_PORT``, the file, ``sim://``).

The file (``terminal config-path`` prints where it is looked for)::

    [terminal]
    port = "/dev/ttyUSB0"        # any pyserial URL; sim:// when absent
    terminal_id = "10008060"
    merchant_id = "898100000000001"
    tpdu = "6000060000"
    header = "603200320002"
    merchant_name = "银联演示商户"   # printed on receipts

    [serial]                       # a real serial line: CUP terminals use 9600 8N1
    baudrate = 9600
    bytesize = 8
    parity = "N"
    stopbits = 1

    [link]                         # seconds
    ack_timeout = 1.0
    inter_byte_timeout = 0.2
    response_timeout = 60.0
    max_sends = 3

    [simulator]                    # read by the simulator (see simulator.config)
    card = "approved"

    [security]                     # shared by the POS host and the simulator
    mac_algorithm = "cup-ecb"

    [printer]                      # the receipt printer (see terminal.cli.printing)
    url = "virtual://"

    [refunds]                      # the host's refund rules (terminal.transactions.rules)
    window_days = 180              # a refund more than this many days after its original

    [recovery]                     # reversals and resends left without an answer
    max_attempts = 5               # sends before the entry is flagged for the operator
    retry_seconds = 30.0           # wait between two sends of the same entry

    [operators]
    default_operator = "cashier1"  # --operator when none is given
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from terminal.card_data import holds_card_number
from terminal.errors import ConfigError

__all__ = [
    "DEFAULT_PORT",
    "SCHEMA",
    "Key",
    "SerialSettings",
    "TerminalSettings",
    "check_table",
    "load_config",
]

DEFAULT_PORT = "sim://"

# Serial line values pyserial accepts, and the ones CUP terminals use by default.
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
BYTESIZES = (5, 6, 7, 8)
PARITIES = ("N", "E", "O", "M", "S")
STOPBITS = (1, 1.5, 2)
# terminal.protocol.security.MacAlgorithm's values (a test keeps the two equal), named
# here so that reading a config file does not load the cryptography stack.
MAC_ALGORITHMS = ("cup-ecb", "x9.9", "x9.19")


@dataclass(frozen=True)
class Key:
    """One key of the config file: the TOML type it takes, an example, and its rule.

    ``rule`` returns why a value of the right type is still wrong (``None`` when
    it is fine); the message is completed with the file, the key and the example.
    """

    expected: str
    types: tuple[type, ...]
    example: str
    rule: Callable[[Any], str | None] | None = None
    secret: bool = False  # never shown back in an error (a key)


def _text(
    example: str, rule: Callable[[Any], str | None] | None = None, *, secret: bool = False
) -> Key:
    return Key("text (in quotes)", (str,), f'"{example}"', rule, secret)


def _whole(example: str, rule: Callable[[Any], str | None] | None = None) -> Key:
    return Key("a whole number", (int,), example, rule)


def _number(example: str, rule: Callable[[Any], str | None] | None = None) -> Key:
    return Key("a number", (int, float), example, rule)


def _flag(example: str) -> Key:
    return Key("true or false", (bool,), example)


def _length(size: int) -> Callable[[Any], str | None]:
    return lambda value: None if len(value) == size else f"must be {size} characters"


def _digits(low: int, high: int) -> Callable[[Any], str | None]:
    def rule(value: str) -> str | None:
        if value.isascii() and value.isdigit() and low <= len(value) <= high:
            return None
        return f"must be {low} digits" if low == high else f"must be {low} to {high} digits"

    return rule


def _hex_bytes(size: int) -> Callable[[Any], str | None]:
    def rule(value: str) -> str | None:
        try:
            if value.isascii() and len(bytes.fromhex(value)) == size:
                return None
        except ValueError:
            pass
        return f"must be {2 * size} hex digits"

    return rule


def _not_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _typed_text(value: str) -> str | None:
    """Words a person writes into the file that end up on every slip or in the journal."""
    if holds_card_number(value):
        return "must not hold a card number"
    return _not_empty(value)


def _port(value: str) -> str | None:
    # An empty port would fall back to the simulator: a shop must never sell against
    # it by accident, so say it here rather than choose for the user.
    return None if value.strip() else "must name a port (leave the key out to use sim://)"


def _cup_only(value: str) -> str | None:
    if value == "cup":
        return None
    return "must be cup: transactions use the cup dialect; iso87ascii is for decode/encode"


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], str | None]:
    return lambda value: None if value in choices else (
        f"must be one of {', '.join(str(c) for c in choices)}"
    )


def _seconds(value: float) -> str | None:
    return None if math.isfinite(value) and value > 0 else "must be a positive number of seconds"


def _at_least(low: int, high: int | None = None) -> Callable[[Any], str | None]:
    def rule(value: int) -> str | None:
        if value >= low and (high is None or value <= high):
            return None
        return f"must be at least {low}" if high is None else f"must be {low} to {high}"

    return rule


def _key_hex(value: str) -> str | None:
    try:
        if value.isascii() and len(bytes.fromhex(value)) in (8, 16, 24):
            return None
    except ValueError:
        pass
    return "must be 16, 32 or 48 hex digits"


def _not_negative(value: float) -> str | None:
    return None if math.isfinite(value) and value >= 0 else "must be seconds >= 0"


#: Every table and key of the config file. The only place the file's shape is declared.
SCHEMA: Mapping[str, Mapping[str, Key]] = {
    "terminal": {
        "port": _text("/dev/ttyUSB0", _port),
        "dialect": _text("cup", _cup_only),
        "terminal_id": _text("10008060", _length(8)),
        "merchant_id": _text("898100000000001", _length(15)),
        "tpdu": _text("6000060000", _hex_bytes(5)),
        "header": _text("603200320002", _digits(12, 12)),
        "merchant_name": _text("银联演示商户", _typed_text),
    },
    "serial": {
        "baudrate": _whole("9600", _one_of(BAUDRATES)),
        "bytesize": _whole("8", _one_of(BYTESIZES)),
        "parity": _text("N", _one_of(PARITIES)),
        "stopbits": _number("1", _one_of(STOPBITS)),
    },
    "link": {
        "ack_timeout": _number("1.0", _seconds),
        "inter_byte_timeout": _number("0.2", _seconds),
        "response_timeout": _number("60.0", _seconds),
        "max_sends": _whole("3", _at_least(1)),
    },
    "simulator": {
        "card": _text("approved", _not_empty),
        "acquirer_id": _text("00010000", _digits(1, 11)),
        "cards_file": _text("my-cards.toml", _not_empty),
        "ledger_file": _text("ledger.json", _not_empty),
        "batch": _whole("1", _at_least(1, 999_999)),
        "require_sign_on": _flag("false"),
        "response_delay": _number("0.0", _not_negative),
        "require_mac": _flag("false"),
        "refund_window_days": _whole("180", _at_least(0, 100_000)),
        "completion_tolerance_percent": _whole("15", _at_least(0, 100)),
    },
    "security": {
        "master_key": _text("0123456789ABCDEFFEDCBA9876543210", _key_hex, secret=True),
        "mac_algorithm": _text("cup-ecb", _one_of(MAC_ALGORITHMS)),
    },
    "printer": {
        "url": _text("serial:///dev/ttyUSB1?baudrate=19200", _not_empty),
        "profile": _text("cn-80", _not_empty),
    },
    "refunds": {
        "window_days": _whole("180", _at_least(0, 100_000)),
    },
    "recovery": {
        "max_attempts": _whole("5", _at_least(1, 1000)),
        "retry_seconds": _number("30.0", _not_negative),
    },
    "operators": {
        "default_operator": _text("cashier1", _typed_text),
    },
}


def check_table(table: str, values: Mapping[str, Any], source: str = "settings") -> None:
    """Check ``values`` against :data:`SCHEMA` ``[table]``; raise :class:`ConfigError` if bad.

    ``source`` says where the values came from (the config file's path, or
    "settings" for values given in code) and starts the message.
    """
    keys = SCHEMA[table]
    unknown = sorted(set(values) - set(keys))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)} in [{table}] (known: {', '.join(keys)})"
        )
    for name, value in values.items():
        key = keys[name]
        # bool is an int in Python, never in TOML: true is not a baud rate.
        right_type = isinstance(value, key.types) and (
            bool in key.types or not isinstance(value, bool)
        )
        problem = None if right_type else f"must be {key.expected}"
        if problem is None and key.rule is not None:
            problem = key.rule(value)
        if problem is not None:
            # A secret, or a card number typed where it does not belong, is not repeated.
            hidden = key.secret or (isinstance(value, str) and holds_card_number(value))
            got = f"{len(value)} characters" if hidden and right_type else _shown(value)
            raise ConfigError(
                f"{source}: [{table}] {name} {problem}, e.g. {name} = {key.example}; got {got}"
            )


def load_config(path: Path | None) -> dict[str, Any]:
    """The parsed and checked config file at ``path``; ``{}`` (all defaults) for None.

    A file that does not exist, cannot be read or parsed, or holds a key of the
    wrong type or value is a :class:`ConfigError` naming the file: a shop must
    not run with half a configuration, or against the simulator, by accident.
    """
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except NotADirectoryError:
        raise ConfigError(
            f"config file {path} cannot exist: part of its path is a file, not a directory"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    check_config(data, f"config file {path}")
    return data


def check_config(data: Mapping[str, Any], source: str) -> None:
    """Check a whole parsed config against :data:`SCHEMA` (see :func:`load_config`)."""
    unknown = sorted(set(data) - set(SCHEMA))
    if unknown:
        raise ConfigError(
            f"{source}: unknown table{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)} (known: {', '.join(f'[{t}]' for t in SCHEMA)})"
        )
    for table, values in data.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{table}] must be a table, got {_shown(values)}")
        check_table(table, values, source)


def _shown(value: Any) -> str:
    kind = {bool: "true/false", int: "a whole number", float: "a number", str: "text"}.get(
        type(value), type(value).__name__
    )
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({kind})"


@dataclass(frozen=True)
class TerminalSettings:
    """Who this terminal is on the network; the POS side and the simulator share it."""

    port: str = DEFAULT_PORT
    dialect: str = "cup"
    terminal_id: str = "10008060"
    merchant_id: str = "898100000000001"
    tpdu: str = "6000060000"
    header: str = "603200320002"
    merchant_name: str = "银联演示商户"

    def __post_init__(self) -> None:
        check_table("terminal", {f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> TerminalSettings:
        """Settings from the ``[terminal]`` table, then non-None ``overrides``."""
        section = dict(config.get("terminal", {}))
        section.update({k: v for k, v in overrides.items() if v is not None})
        check_table("terminal", section)
        return cls(**section)


@dataclass(frozen=True)
class SerialSettings:
    """How a real serial line is driven: CUP terminals use 9600 baud, 8 data bits,
    no parity, 1 stop bit (8N1). Ignored by ``sim://`` and TCP ports."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1

    def __post_init__(self) -> None:
        check_table("serial", {f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> SerialSettings:
        """Settings from the ``[serial]`` table, then non-None ``overrides``."""
        section = dict(config.get("serial", {}))
        section.update({k: v for k, v in overrides.items() if v is not None})
        check_table("serial", section)
        return cls(**section)

    def as_port_options(self) -> dict[str, Any]:
        """Keyword arguments for ``serial.serial_for_url`` / ``open_port``."""
        return {
            "baudrate": self.baudrate,
            "bytesize": self.bytesize,
            "parity": self.parity,
            "stopbits": self.stopbits,
        }
