"""Named subfields of a numeric field (CUP 48, 60 and 61), split and joined by a layout.

Peers often send only the first subfields (60 is ``n..17`` but an echo test
carries 11 digits), so a short value fills the subfields in order and the last
one may be partial. A layout that is not ``partial`` splits only a value of all
its digits and keeps any other as its digit string: CUP 48 holds a settlement's
totals in a 0500 and 0510 but a record count (n4) in a batch-upload end, which
no totals subfield names. Joining puts them back in table order, so a decoded
value re-encodes to the same digits.

Why split at all where nothing reads a part: a message's JSON (the journal's
record of a request, ``terminal decode``) shows each subfield as its own short
string, where the whole field would stand as one run of digits that card-number
scanners read card numbers into (62 digits of settlement totals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from terminal.protocol.errors import DialectError

__all__ = ["SubfieldError", "SubfieldLayout"]


class SubfieldError(ValueError):
    """Why :meth:`SubfieldLayout.join` refused a value; ``name`` is the subfield at
    fault (``""`` when the problem is the set of names as a whole)."""

    def __init__(self, reason: str, name: str = "") -> None:
        super().__init__(reason)
        self.name = name


@dataclass(frozen=True, slots=True)
class SubfieldLayout:
    """Ordered ``(name, digits)`` pairs, e.g. ``(("message_type", 2), ("batch", 6))``;
    ``partial``: whether a value shorter than :attr:`total` fills the subfields in order
    (else it stays its digit string, and a dict to join names every subfield)."""

    parts: tuple[tuple[str, int], ...]
    partial: bool = True

    def __post_init__(self) -> None:
        names = [name for name, _ in self.parts]
        if not self.parts or len(set(names)) != len(names):
            raise DialectError(f"subfield names must be present and unique: {names}")
        for name, size in self.parts:
            if not (isinstance(name, str) and name and isinstance(size, int) and size > 0):
                raise DialectError(f"bad subfield {name!r}: {size!r}")
        if not isinstance(self.partial, bool):
            raise DialectError(f"partial must be a bool, got {self.partial!r}")

    @property
    def total(self) -> int:
        """Digits of the whole layout."""
        return sum(size for _, size in self.parts)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.parts)

    def split(self, digits: str) -> dict[str, str] | str:
        """Digits -> ``{name: digits}`` in layout order; the last may be partial. A layout
        that is not ``partial`` gives ``digits`` back unless they fill it exactly."""
        if not self.partial and len(digits) != self.total:
            return digits
        result: dict[str, str] = {}
        start = 0
        for name, size in self.parts:
            if start >= len(digits):
                break
            result[name] = digits[start : start + size]
            start += size
        return result

    def join(self, values: Mapping[str, str]) -> str:
        """``{name: digits}`` -> digits. Raises :class:`SubfieldError` (a
        ``ValueError``) with a reason when the names are unknown, out of order, leave
        a gap (or, not ``partial``, leave any subfield out), or a part is not ASCII
        digits, too long, or (not last, or not ``partial``) short; the codec
        turns that into an :class:`EncodeValueError` naming the subfield
        (``"60.batch"``).
        """
        unknown = [name for name in values if name not in self.names]
        if unknown:
            raise SubfieldError(
                f"unknown subfield(s) {unknown}; known: {list(self.names)}",
                unknown[0] if isinstance(unknown[0], str) else "",
            )
        present = [name for name, _ in self.parts if name in values]
        expected = list(self.names[: len(present) if self.partial else None])
        if present != expected:
            rule = "fill the layout in order without gaps" if self.partial else "all be given"
            raise SubfieldError(
                f"subfields must {rule}: got {present}, expected {expected}",
                next(name for name in expected if name not in values),
            )
        pieces = []
        for index, (name, size) in enumerate(self.parts[: len(present)]):
            value = values[name]
            if not isinstance(value, str):
                raise SubfieldError(
                    f"subfield {name} must be a str, got {type(value).__name__}", name
                )
            last = index == len(present) - 1 and self.partial
            if len(value) > size or (not last and len(value) != size) or not value:
                need = f"1..{size}" if last else str(size)
                raise SubfieldError(
                    f"subfield {name} must be {need} digits, got {len(value)}", name
                )
            if not (value.isdigit() and value.isascii()):
                raise SubfieldError(f"subfield {name} {value!r} is not digits only", name)
            pieces.append(value)
        return "".join(pieces)
