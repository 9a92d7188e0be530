"""Card profiles: the cards the virtual terminal can "read", as checked data.

A profile is everything the simulated issuer needs to decide a transaction
(status, expiry, PIN outcome, balance, limit) plus what a real terminal reports
about the card it read (PAN, entry mode, sequence number, organisation). The
profiles live in a versioned TOML file (``simulator/data/cards.toml`` by default)
checked entry by entry when it is loaded, so a typo fails at start-up with the
file and card named, not in the middle of a test run.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from terminal.card_data import luhn_valid, mask_pan
from terminal.errors import ConfigError

__all__ = [
    "CARDS_FILE_VERSION",
    "CardBook",
    "CardProfile",
    "CardStatus",
    "PinOutcome",
    "UnknownCardError",
    "load_cards",
]

CARDS_FILE_VERSION = 1


class CardStatus(enum.StrEnum):
    """What the issuer knows about the card, independent of this transaction."""

    ACTIVE = "active"
    LOST = "lost"
    STOLEN = "stolen"


class PinOutcome(enum.StrEnum):
    """Whether the cardholder's PIN verifies: the simulator has no real PIN block."""

    OK = "ok"
    WRONG = "wrong"


@dataclass(frozen=True)
class CardProfile:
    """One test card. Money is integer fen; ``limit`` ``None`` means no per-card limit.

    ``repr`` masks the PAN so that a profile can be logged or shown in a test
    failure without printing a card number.
    """

    name: str
    pan: str
    expiry: str
    balance: int
    limit: int | None = None
    status: CardStatus = CardStatus.ACTIVE
    pin: PinOutcome = PinOutcome.OK
    entry_mode: str = "051"
    card_sequence: str = "001"
    organisation: str = "CUP"

    @property
    def masked_pan(self) -> str:
        """First 6 and last 4 digits: the only form of the PAN that may be stored or logged."""
        return mask_pan(self.pan)

    def __repr__(self) -> str:
        return (
            f"CardProfile(name={self.name!r}, pan={self.masked_pan!r}, expiry={self.expiry!r}, "
            f"balance={self.balance}, limit={self.limit}, status={self.status.value!r}, "
            f"pin={self.pin.value!r})"
        )


class UnknownCardError(ConfigError):
    """A card profile name that the card book does not hold; ``known`` lists the ones it does."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown card profile {name!r}; known: {', '.join(known)}")


class CardBook:
    """The loaded profiles, in file order; looked up by name, iterated as profiles.

    Read-only: balances live in the ledger. ``book["expired"]`` raises
    :class:`UnknownCardError` listing the known names, so a typo in a test or a
    ``sim://?card=`` option says at once what would have worked.
    """

    def __init__(self, profiles: Iterable[CardProfile], source: str = "<memory>") -> None:
        self.source = source
        self._profiles: dict[str, CardProfile] = {}
        seen_pans: dict[str, str] = {}
        for profile in profiles:
            if profile.name in self._profiles:
                raise ConfigError(f"{source}: card {profile.name!r} is defined twice")
            if profile.pan in seen_pans:
                raise ConfigError(
                    f"{source}: card {profile.name!r} has the same PAN as "
                    f"{seen_pans[profile.pan]!r} ({profile.masked_pan})"
                )
            seen_pans[profile.pan] = profile.name
            self._profiles[profile.name] = profile

    def __getitem__(self, name: str) -> CardProfile:
        try:
            return self._profiles[name]
        except KeyError:
            raise UnknownCardError(name, self.names()) from None

    def __contains__(self, name: object) -> bool:
        return name in self._profiles

    def __iter__(self) -> Iterator[CardProfile]:
        return iter(self._profiles.values())

    def __len__(self) -> int:
        return len(self._profiles)

    def names(self) -> list[str]:
        """Profile names in file order, e.g. for a CLI's ``--card`` choices."""
        return list(self._profiles)


def load_cards(path: Path | None = None) -> CardBook:
    """The card book in ``path``, or the packaged ``simulator/data/cards.toml``.

    Every entry is checked now (types, Luhn, expiry, known keys); the first bad
    one raises :class:`ConfigError` naming the file and the card.
    """
    if path is None:
        resource = resources.files("simulator") / "data" / "cards.toml"
        source = str(resource)
        text = resource.read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read card file {source}: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot parse card file {source}: {exc}") from exc
    return parse_cards(data, source)


def parse_cards(data: Mapping[str, Any], source: str = "<memory>") -> CardBook:
    """A card book from parsed TOML (``version`` and a ``card`` array of tables)."""
    version = data.get("version")
    if version != CARDS_FILE_VERSION:
        raise ConfigError(f"{source}: version must be {CARDS_FILE_VERSION}, got {version!r}")
    unknown_top = set(data) - {"version", "card"}
    if unknown_top:
        raise ConfigError(f"{source}: unknown keys {', '.join(sorted(unknown_top))}")
    entries = data.get("card")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: needs at least one [[card]] table")
    profiles = [_parse_card(entry, source, index) for index, entry in enumerate(entries, 1)]
    return CardBook(profiles, source)


_REQUIRED = ("name", "pan", "expiry", "balance")
_OPTIONAL = ("limit", "status", "pin", "entry_mode", "card_sequence", "organisation")


def _parse_card(entry: Any, source: str, index: int) -> CardProfile:
    if not isinstance(entry, dict):
        raise ConfigError(f"{source}: card #{index} is not a table")
    label = f"card #{index}"
    name = entry.get("name")
    if isinstance(name, str) and name:
        label = f"card {name!r}"

    def fail(reason: str) -> ConfigError:
        return ConfigError(f"{source}: {label}: {reason}")

    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise fail(f"missing {', '.join(missing)}")
    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise fail(f"unknown keys {', '.join(sorted(unknown))}")
    if not isinstance(name, str) or not name or name.strip() != name:
        raise fail(f"name must be a non-empty string without surrounding spaces, got {name!r}")

    pan = entry["pan"]
    if not isinstance(pan, str) or not pan.isdigit() or not 13 <= len(pan) <= 19:
        raise fail("pan must be a string of 13 to 19 digits")
    if not luhn_valid(pan):
        raise fail(f"pan {mask_pan(pan)} fails the Luhn check")

    expiry = entry["expiry"]
    if (
        not isinstance(expiry, str)
        or len(expiry) != 4
        or not expiry.isdigit()
        or not 1 <= int(expiry[2:]) <= 12
    ):
        raise fail(f"expiry must be YYMM (a string, month 01-12), got {expiry!r}")

    balance = _fen(entry["balance"], "balance", fail)
    limit = None if entry.get("limit") is None else _fen(entry["limit"], "limit", fail)

    try:
        status = CardStatus(entry.get("status", CardStatus.ACTIVE.value))
    except ValueError:
        raise fail(
            f"status must be one of {', '.join(s.value for s in CardStatus)}, "
            f"got {entry.get('status')!r}"
        ) from None
    try:
        pin = PinOutcome(entry.get("pin", PinOutcome.OK.value))
    except ValueError:
        raise fail(
            f"pin must be one of {', '.join(p.value for p in PinOutcome)}, got {entry.get('pin')!r}"
        ) from None

    entry_mode = _digits(entry.get("entry_mode", "051"), 3, "entry_mode", fail)
    card_sequence = _digits(entry.get("card_sequence", "001"), 3, "card_sequence", fail)
    organisation = entry.get("organisation", "CUP")
    if not isinstance(organisation, str) or not organisation:
        raise fail(f"organisation must be a non-empty string, got {organisation!r}")

    return CardProfile(
        name=name,
        pan=pan,
        expiry=expiry,
        balance=balance,
        limit=limit,
        status=status,
        pin=pin,
        entry_mode=entry_mode,
        card_sequence=card_sequence,
        organisation=organisation,
    )


def _fen(value: Any, key: str, fail: Callable[[str], ConfigError]) -> int:
    # bool is an int subclass and a float is never money: both are refused.
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(f"{key} must be an integer number of fen, got {value!r}")
    if value < 0:
        raise fail(f"{key} must not be negative, got {value}")
    return value


def _digits(value: Any, length: int, key: str, fail: Callable[[str], ConfigError]) -> str:
    if not isinstance(value, str) or len(value) != length or not value.isdigit():
        raise fail(f"{key} must be a string of {length} digits, got {value!r}")
    return value
