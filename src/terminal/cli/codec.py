"""``terminal decode`` and ``terminal encode``: ISO 8583 hex <-> the JSON shape.

For looking at captured traffic and for scripting test messages. Exit code 0
on success, 2 on bad input of any kind (bad hex or JSON, a protocol error, a
bad frame, JSON nested too deeply to read), with the reason on stderr. Card
data is masked in the output and in error texts unless ``--reveal``
(:mod:`terminal.cli.redact`).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, NoReturn

import typer

from terminal.cli.failures import EXIT_USAGE, Failure
from terminal.cli.options import JsonOption, VerboseOption
from terminal.cli.output import out, out_json
from terminal.cli.redact import accept_masked, describe_error, mask_message_json
from terminal.digest_text import parse_hex
from terminal.errors import ProtocolError, TerminalError
from terminal.protocol import (
    DIALECTS,
    add_length_prefix,
    decode,
    encode,
    get_dialect,
    message_from_json,
    message_to_json,
    strip_length_prefix,
)

__all__ = ["register"]


DialectOption = Annotated[
    str, typer.Option("--dialect", help=f"Message dialect: {' | '.join(DIALECTS)}.")
]
RevealOption = Annotated[
    bool,
    typer.Option(
        "--reveal",
        help="Show card data in clear (PAN, tracks, PIN block, chip card number): "
        "for a developer with a test card.",
    ),
]
LengthPrefixOption = Annotated[
    bool,
    typer.Option("--length-prefix", help="A 2-byte big-endian length precedes the message."),
]


def register(app: typer.Typer) -> None:
    """Add ``decode`` and ``encode`` to ``app``."""
    app.command("decode")(decode_command)
    app.command("encode")(encode_command)


def decode_command(
    hex_input: Annotated[str, typer.Argument(metavar="HEX|-", help="Hex bytes, or - for stdin.")],
    dialect: DialectOption = "cup",
    length_prefix: LengthPrefixOption = False,
    frame: Annotated[
        bool,
        typer.Option("--frame", help="The input is a serial frame: STX LEN DATA ETX LRC."),
    ] = False,
    reveal: RevealOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
) -> None:
    """Decode one message from hex and print it as JSON (card data masked; see --reveal)."""
    _check_dialect(dialect)
    text = sys.stdin.read() if hex_input == "-" else hex_input
    try:
        data = parse_hex(text)  # plain, spaced, or colon hex as trace files keep it
    except ValueError as error:
        _fail(f"not hex: {error}")
    envelope_size: int | None = None
    try:
        if frame:
            data = _unframe(data)
        if length_prefix:
            data = strip_length_prefix(data)
        envelope_size = get_dialect(dialect).envelope_size
        message = decode(data, dialect)
        shown: dict[str, Any] = message_to_json(message, dialect)
    except ProtocolError as error:
        _fail(describe_error(error, data, envelope_size=envelope_size, reveal=reveal), reveal)
    except TerminalError as error:
        _fail(f"{type(error).__name__}: {error}", reveal)
    except RecursionError:  # pragma: no cover - TLV nesting is bounded by the codec
        _fail("the message is nested too deeply to show")
    out_json(shown if reveal else mask_message_json(shown))


def encode_command(
    json_input: Annotated[
        str, typer.Argument(metavar="JSON|-", help="The message as JSON, or - for stdin.")
    ],
    dialect: DialectOption = "cup",
    length_prefix: LengthPrefixOption = False,
    reveal: RevealOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
) -> None:
    """Encode one message given as JSON (the shape ``decode`` prints, card data masked
    or in clear; a masked digit becomes 0) and print hex."""
    _check_dialect(dialect)
    text = sys.stdin.read() if json_input == "-" else json_input
    try:
        obj = json.loads(text)
    except ValueError as error:
        _fail(f"not JSON: {error}")
    except RecursionError:
        _fail("not JSON this tool reads: nested too deeply")
    try:
        data = encode(message_from_json(accept_masked(obj), dialect), dialect)
        if length_prefix:
            data = add_length_prefix(data)
    except ProtocolError as error:
        _fail(describe_error(error, reveal=reveal), reveal)
    except TerminalError as error:
        _fail(f"{type(error).__name__}: {error}", reveal)
    except RecursionError:  # pragma: no cover - field 55 nesting is bounded
        _fail("the message is nested too deeply to encode")
    if as_json:
        out_json({"hex": data.hex()})
    else:
        out(data.hex())


def _unframe(data: bytes) -> bytes:
    try:
        from terminal.link.frame import decode_frame
    except ImportError:
        _fail("--frame needs terminal.link.frame, which is not installed in this build")
    return decode_frame(data)


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        _fail(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")


def _fail(reason: str, reveal: bool = False) -> NoReturn:
    raise Failure(reason, EXIT_USAGE, clear=reveal)
