"""Printer profiles: paper width, how Chinese is encoded, whether ``FS &`` is needed.

Data in ``printer_profiles.toml``, checked when loaded. A shop picks one in the
config (``[printer] profile = "cn-80"``) or in a printer URL (``?profile=``).
"""

from __future__ import annotations

import codecs
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from terminal.errors import ConfigError

__all__ = ["DEFAULT_PROFILE", "PrinterProfile", "load_profiles", "printer_profile"]

DEFAULT_PROFILE = "cn-58"
_ENCODINGS = ("gb18030", "gbk")


@dataclass(frozen=True, slots=True)
class PrinterProfile:
    name: str
    description: str
    columns: int
    dots: int
    encoding: str
    chinese_mode: bool
    escpos_profile: str
    cut: str

    @property
    def paper_mm(self) -> int:
        return 58 if self.columns <= 32 else 80


@cache
def load_profiles() -> dict[str, PrinterProfile]:
    """Every packaged profile by name; a malformed table is a :class:`ConfigError`."""
    text = resources.files("terminal.receipts").joinpath("printer_profiles.toml").read_text("utf-8")
    profiles = {}
    for name, table in tomllib.loads(text).items():
        try:
            profile = PrinterProfile(name=name, **table)
        except TypeError as exc:
            raise ConfigError(f"printer profile {name}: {exc}") from exc
        if profile.encoding not in _ENCODINGS:
            raise ConfigError(f"printer profile {name}: encoding must be one of {_ENCODINGS}")
        codecs.lookup(profile.encoding)
        if profile.columns not in (32, 48) or profile.dots != profile.columns * 12:
            raise ConfigError(f"printer profile {name}: 32 columns on 384 dots or 48 on 576")
        if profile.cut not in ("full", "partial"):
            raise ConfigError(f"printer profile {name}: cut is full or partial")
        profiles[name] = profile
    return profiles


def printer_profile(name: str | None) -> PrinterProfile:
    """The profile called ``name`` (the default when None)."""
    profiles = load_profiles()
    try:
        return profiles[name or DEFAULT_PROFILE]
    except KeyError:
        raise ConfigError(
            f"unknown printer profile {name!r}; known: {', '.join(sorted(profiles))}"
        ) from None
