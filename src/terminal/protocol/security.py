"""Working keys and MACs: field 62 of the sign-on response and field 64 of money messages.

Everything cryptographic goes through the ``cryptography`` package's TripleDES
(single DES is TripleDES with the key repeated); nothing here implements DES.
The layouts and the MAC block are the CUP POS forms as commonly implemented
(``docs/protocol.md``, "Keys and MAC"):

- a check value is the first 4 bytes of the clear key encrypting 8 zero bytes;
- field 62 is PIN key + check value, MAC key + check value (+ track key + check
  value): 24 bytes with single-length keys (sign-on 60.3 ``001``), 40 or 60
  bytes with double-length keys (``003``), every key encrypted under the
  terminal master key with (triple-)DES ECB;
- the MAC block (MAB) is the message from the MTI up to the field before 64:
  the encoded message without TPDU and header, and without the 8 MAC bytes.

Key material never appears in a ``repr`` or an error message.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from terminal.errors import ProtocolError
from terminal.protocol.codec import encode
from terminal.protocol.dialects import get_dialect
from terminal.protocol.message import Message

__all__ = [
    "MAC_FIELD",
    "TEST_MASTER_KEY",
    "KeyCheckError",
    "MacAlgorithm",
    "WorkingKeys",
    "check_value",
    "compute_mac",
    "decrypt_key",
    "encrypt_key",
    "mac_block",
    "pack_working_keys",
    "parse_master_key",
    "sign",
    "unpack_working_keys",
    "verify",
]

MAC_FIELD = 64
#: The simulator's terminal master key, published so that the embedded simulator
#: and a host with no configured key agree. A real terminal is loaded with its own
#: key; against it this one fails the sign-on's check values, never silently.
TEST_MASTER_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
_BLOCK = 8
_CHECK = 4


class MacAlgorithm(enum.StrEnum):
    """The MAC algorithms field 64 may use; the name is the config value."""

    CUP_ECB = "cup-ecb"  # the CUP POS "ECB" algorithm (default)
    X9_9 = "x9.9"  # ANSI X9.9 / ISO 9797-1 algorithm 1: DES CBC-MAC, zero IV
    X9_19 = "x9.19"  # ANSI X9.19 retail MAC / ISO 9797-1 algorithm 3


class KeyCheckError(ProtocolError):
    """Field 62 is malformed or a working key does not match its check value."""


@dataclass(frozen=True)
class WorkingKeys:
    """The session keys a sign-on delivers, in clear: held in memory only."""

    pin_key: bytes = field(repr=False)
    mac_key: bytes = field(repr=False)
    track_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("pin_key", "mac_key", "track_key"):
            value = getattr(self, name)
            if value is not None and len(value) not in (8, 16):
                raise ValueError(f"{name} must be 8 or 16 bytes")

    @classmethod
    def generate(cls, *, double_length: bool = True, track_key: bool = False) -> WorkingKeys:
        """Fresh random keys, as an acquirer hands out at each sign-on."""
        size = 16 if double_length else 8
        track = secrets.token_bytes(size) if track_key else None
        return cls(secrets.token_bytes(size), secrets.token_bytes(size), track)


def parse_master_key(text: str) -> bytes:
    """A master key from config: 16, 32 or 48 hex digits. The error never quotes it."""
    try:
        key = bytes.fromhex(text)
    except (TypeError, ValueError):
        raise ValueError("the master key must be hex digits") from None
    if len(key) not in (8, 16, 24):
        raise ValueError("the master key must be 16, 32 or 48 hex digits")
    return key


def check_value(key: bytes) -> bytes:
    """The first 4 bytes of ``key`` encrypting 8 zero bytes."""
    return _ecb(key, bytes(_BLOCK), encrypt=True)[:_CHECK]


def encrypt_key(master_key: bytes, key: bytes) -> bytes:
    return _ecb(master_key, key, encrypt=True)


def decrypt_key(master_key: bytes, encrypted: bytes) -> bytes:
    return _ecb(master_key, encrypted, encrypt=False)


def pack_working_keys(master_key: bytes, keys: WorkingKeys) -> bytes:
    """Field 62 for a sign-on response: each key under the master key, then its check value."""
    parts = [keys.pin_key, keys.mac_key] + ([keys.track_key] if keys.track_key else [])
    sizes = {len(part) for part in parts}
    if len(sizes) != 1:
        raise ValueError("working keys in one field 62 must have one length")
    return b"".join(encrypt_key(master_key, part) + check_value(part) for part in parts)


def unpack_working_keys(master_key: bytes, field62: bytes) -> WorkingKeys:
    """The clear working keys from field 62, each checked against its check value.

    Raises :class:`KeyCheckError` naming the key that fails (never its bytes).
    """
    layouts = {24: 8, 36: 8, 40: 16, 60: 16}
    if not isinstance(field62, bytes | bytearray) or len(field62) not in layouts:
        size = len(field62) if isinstance(field62, bytes | bytearray) else type(field62).__name__
        raise KeyCheckError(
            f"working keys are 24, 36, 40 or 60 bytes, got {size}", field="62"
        )
    size = layouts[len(field62)]
    step = size + _CHECK
    clear: list[bytes] = []
    for index, name in enumerate(("PIN key", "MAC key", "track key")):
        chunk = field62[index * step : (index + 1) * step]
        if not chunk:
            break
        key = decrypt_key(master_key, bytes(chunk[:size]))
        if not hmac.compare_digest(check_value(key), bytes(chunk[size:])):
            raise KeyCheckError(
                f"{name} does not match its check value (wrong master key?)", field="62"
            )
        clear.append(key)
    return WorkingKeys(clear[0], clear[1], clear[2] if len(clear) > 2 else None)


def compute_mac(algorithm: MacAlgorithm | str, key: bytes, block: bytes) -> bytes:
    """The 8-byte MAC of ``block`` (the MAB) under ``key``.

    ``cup-ecb`` and ``x9.9`` use a single-length key (the left half of a
    double-length one); ``x9.19`` uses both halves (a single-length key there
    degenerates to X9.9, as the standard says).
    """
    algorithm = MacAlgorithm(algorithm)
    padded = bytes(block) + bytes(-len(block) % _BLOCK)
    left = key[:_BLOCK]
    if algorithm is MacAlgorithm.X9_9:
        return _cbc_last(left, padded)
    if algorithm is MacAlgorithm.X9_19:
        right = key[_BLOCK : 2 * _BLOCK] or left
        last = _cbc_last(left, padded)
        return _ecb(left, _ecb(right, last, encrypt=False), encrypt=True)
    # CUP ECB: XOR the blocks, hex, encrypt the first 8 characters, XOR with the
    # last 8, encrypt again, hex, and the first 8 characters are the MAC.
    folded = bytes(_BLOCK)
    for start in range(0, len(padded), _BLOCK):
        folded = _xor(folded, padded[start : start + _BLOCK])
    text = folded.hex().upper().encode("ascii")
    first = _ecb(left, text[:_BLOCK], encrypt=True)
    second = _ecb(left, _xor(first, text[_BLOCK:]), encrypt=True)
    return second.hex().upper().encode("ascii")[:_BLOCK]


def mac_block(data: bytes, dialect: str = "cup") -> bytes:
    """The MAB of an encoded message whose last field is 64: MTI .. the field before 64."""
    table = get_dialect(dialect)
    start = table.envelope_size - table.mti_size
    if len(data) < start + table.mti_size + _BLOCK:
        raise ProtocolError("message too short to carry a MAC", field=str(MAC_FIELD))
    return data[start:-_BLOCK]


def sign(
    message: Message, key: bytes, algorithm: MacAlgorithm | str, dialect: str = "cup"
) -> tuple[Message, bytes]:
    """``message`` with its MAC in field 64, and its encoded bytes."""
    placeholder = encode(message.with_fields({MAC_FIELD: bytes(_BLOCK)}), dialect)
    value = compute_mac(algorithm, key, mac_block(placeholder, dialect))
    signed = message.with_fields({MAC_FIELD: value})
    return signed, placeholder[:-_BLOCK] + value


def verify(data: bytes, key: bytes, algorithm: MacAlgorithm | str, dialect: str = "cup") -> bool:
    """Whether the last 8 bytes of ``data`` (field 64) are the MAC of the rest."""
    expected = compute_mac(algorithm, key, mac_block(data, dialect))
    return hmac.compare_digest(expected, data[-_BLOCK:])


# -- the one cipher ------------------------------------------------------------


def _cipher_key(key: bytes) -> bytes:
    if len(key) == 8:
        return key * 3
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    raise ValueError("a DES key is 8, 16 or 24 bytes")


def _ecb(key: bytes, data: bytes, *, encrypt: bool) -> bytes:
    if len(data) % _BLOCK:
        raise ValueError("DES data must be whole 8-byte blocks")
    cipher = Cipher(TripleDES(_cipher_key(key)), modes.ECB())
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


def _cbc_last(key: bytes, data: bytes) -> bytes:
    worker = Cipher(TripleDES(_cipher_key(key)), modes.CBC(bytes(_BLOCK))).encryptor()
    return (worker.update(data) + worker.finalize())[-_BLOCK:]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))
