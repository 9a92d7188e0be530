"""Transports: how the POS host's bytes reach a terminal, all behind ``serial.SerialBase``.

A real terminal is a serial port (``/dev/ttyUSB0``, ``COM3``), a pty or TCP
bridge is a pyserial URL (``/dev/pts/5``, ``socket://127.0.0.1:5000``), and the
in-process simulator is ``sim://`` (:mod:`terminal.transport.protocol_sim`).
The layers above get a port from :func:`open_port` and never ask which it is.

This package's ``__init__`` is imported by pyserial before it imports
``protocol_sim``; it must only import what cannot fail.
"""

from __future__ import annotations

import re
import socket
import urllib.parse
from typing import Any

import serial

from terminal.errors import ConfigError, LinkError

__all__ = [
    "DEFAULT_BAUDRATE",
    "DEFAULT_TIMEOUT",
    "PortUnavailable",
    "open_port",
]

#: CUP terminals on a serial cable: 9600 baud, 8 data bits, no parity, 1 stop bit.
DEFAULT_BAUDRATE = 9600
#: A read never blocks for ever by default; the link sets its own timers per read.
DEFAULT_TIMEOUT = 1.0


class PortUnavailable(LinkError):
    """A port could not be opened: no such device, no permission, bad URL, busy.

    ``url`` is what was asked for and ``reason`` what the OS (or pyserial) said,
    so that the CLI can tell a shop "COM3: access denied" rather than a traceback.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot open port {url}: {reason}")


def open_port(
    url: str,
    *,
    baudrate: int = DEFAULT_BAUDRATE,
    bytesize: int = serial.EIGHTBITS,
    parity: str = serial.PARITY_NONE,
    stopbits: float = serial.STOPBITS_ONE,
    timeout: float | None = DEFAULT_TIMEOUT,
    **options: Any,
) -> serial.SerialBase:
    """Open the terminal's port ``url`` and return it open.

    Any pyserial URL works; the caller (the command line) decides which one,
    from its option, the environment or the config file: this function reads
    neither. ``options`` go to the port class as they are (for example
    ``clock=`` or ``simulator=`` for ``sim://``, ``rtscts=True`` for a cable
    that needs it). The serial settings only matter on a real serial line.

    Raises :class:`~terminal.errors.ConfigError` for a URL that is wrong in
    itself (empty, unknown scheme, a ``socket://`` without a usable port, a bad
    ``sim://`` option) and :class:`PortUnavailable` (a
    :class:`~terminal.errors.LinkError`) with the URL and the reason when a
    well-formed port cannot be opened.
    """
    if not url or not url.strip():
        raise ConfigError("the port is empty: give a device or URL, e.g. /dev/ttyUSB0 or COM3")
    if url.lower().startswith("socket://"):
        _check_socket_url(url)
    # serial_for_url consults the URL handler list, which holds "terminal.transport"
    # because importing the terminal package put it there (this module is part of it).
    try:
        port = serial.serial_for_url(
            url,
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout=timeout,
            **options,
        )
    except ValueError as exc:
        # pyserial's "protocol 'x' not known", a bad baud rate: a mistake in the
        # settings, not a device that failed to answer.
        raise ConfigError(f"cannot open {url!r}: {exc}") from exc
    except serial.SerialException as exc:
        if url.startswith("sim://"):
            # The in-process simulator has no wire to fail: a refusal is a bad option,
            # card name or config file.
            raise ConfigError(f"cannot open {url!r}: {exc}") from exc
        raise PortUnavailable(url, _reason(exc)) from exc
    except OSError as exc:
        raise PortUnavailable(url, _reason(exc)) from exc
    _send_small_writes_at_once(port)
    return port


def _send_small_writes_at_once(port: serial.SerialBase) -> None:
    """Turn Nagle's algorithm off on a ``socket://`` port (pyserial leaves it on).

    The link writes small pieces: an ACK byte, a frame's last byte once the journal
    has committed the request (:meth:`terminal.link.SerialLink.start`). With Nagle on,
    a small write waits until the bridge has acknowledged the previous one, up to
    its delayed-ACK time (40 ms on Linux), on every exchange. pyserial keeps the
    socket in ``_socket``; any other port has none and is left as it is.
    """
    sock = getattr(port, "_socket", None)
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # a socket that already failed: its first write will say so
            raise PortUnavailable(port.port or "socket://", _reason(exc)) from exc


def _check_socket_url(url: str) -> None:
    """Refuse a ``socket://`` URL pyserial would only half understand, in our own words.

    pyserial reports a missing or out-of-range port as a comparison with None or
    a logging-level list; a shop needs "the port must be 1-65535".
    """
    parts = urllib.parse.urlsplit(url)
    example = "e.g. socket://192.168.1.20:5000"
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname:
        raise ConfigError(f"{url!r} names no host: a socket:// URL is host:port, {example}")
    if port is None:
        raise ConfigError(f"{url!r} names no TCP port: a socket:// URL is host:port, {example}")
    if not 1 <= port <= 65535:
        raise ConfigError(f"{url!r}: the TCP port must be a number 1-65535, {example}")
    for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if name != "logging":
            raise ConfigError(f"{url!r}: unknown socket:// option {name!r} (known: logging)")


def _reason(exc: BaseException) -> str:
    """The OS's words for why ("No such file or directory", "Connection refused").

    pyserial nests the OS error in its own text, path and all; the URL is
    already in :class:`PortUnavailable`'s message, so keep only the reason.
    """
    text = str(exc)
    found = _ERRNO_TEXT.findall(text)
    if found:
        return found[-1].strip()
    return text or type(exc).__name__


_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^:\[]+)")
