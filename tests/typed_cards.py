"""Card numbers as staff type them, made at run time, and the check that one went nowhere.

The numbers are built from a prefix and a check digit found with the leak scanner's
own Luhn test (:mod:`tests.leaks.scanner`, not :mod:`terminal.card_data`, which is
what the tests check), so that no full card number stands in the repository for a
scanner to report, and a wrong Luhn check in the detector cannot agree with itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.leaks.scanner import luhn_valid, scan_bytes, scan_paths

__all__ = ["card_number", "failing_luhn", "leaked", "typed_forms"]


def card_number(prefix: str, length: int = 16) -> str:
    """``prefix`` filled with 1s to ``length`` - 1 digits, then the check digit that makes it
    pass the Luhn test."""
    body = prefix + "1" * (length - 1 - len(prefix))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def failing_luhn(number: str) -> str:
    """``number`` with its last digit changed so that the Luhn test fails."""
    return number[:-1] + next(d for d in "0123456789" if not luhn_valid(number[:-1] + d))


def typed_forms(number: str) -> dict[str, str]:
    """``number`` as people type it: plain, in groups of four split by spaces, by dashes."""
    groups = [number[i:i + 4] for i in range(0, len(number), 4)]
    return {"plain": number, "spaced": " ".join(groups), "dashed": "-".join(groups)}


def leaked(number: str, texts: Iterable[str | bytes], roots: Iterable[Path]) -> list[str]:
    """Where ``number`` (in any of its typed forms, or read by the leak scanner) shows up:
    in ``texts`` (outputs, log text) or in any file under ``roots``, read raw (a journal's
    SQLite file and its write-ahead log included). Empty when it went nowhere; what is
    found is said by form and place, never the number itself."""
    forms = {kind: form.encode("utf-8") for kind, form in typed_forms(number).items()}
    found = []
    for index, text in enumerate(texts):
        data = text.encode("utf-8") if isinstance(text, str) else text
        found += [f"text {index}: {kind}" for kind, form in forms.items() if form in data]
        found += [str(finding) for finding in scan_bytes(data, f"text {index}")]
    for root in roots:
        files = [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            data = path.read_bytes()
            found += [f"{path}: {kind}" for kind, form in forms.items() if form in data]
        found += [str(finding) for finding in scan_paths(files).findings]
    return found
