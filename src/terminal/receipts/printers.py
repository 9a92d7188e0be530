"""Receipt printers from a URL: serial, USB, network, file, and the virtual printer.

=============================================  ===========================================
``serial:///dev/ttyUSB0?baudrate=19200``       a serial printer (also ``serial://COM3``);
                                               ``bytesize``, ``parity``, ``stopbits`` too
``tcp://192.0.2.7:9100``                       a network printer (raw port 9100)
``usb://0x0416:0x5011``                        a USB printer by vendor:product (pyusb + libusb)
``file:///dev/usb/lp0``                        a device file or a plain file; write only
``virtual://``                                 the virtual printer, in this process
=============================================  ===========================================

Each takes ``profile=`` (:mod:`terminal.receipts.profiles`, default ``cn-58``) and
``timeout=`` (seconds to wait for a status reply). Underneath each is a
python-escpos printer; serial has a small class of its own, because
python-escpos's ``Serial`` opens ``serial.Serial()`` directly and so knows no
pyserial URL options and no read timeout apart from the write one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import File, Network

from terminal.clock import MonotonicClock
from terminal.devices import device_factory
from terminal.errors import ConfigError, TerminalError
from terminal.receipts.document import Document
from terminal.receipts.escpos_writer import write_document
from terminal.receipts.profiles import PrinterProfile, printer_profile
from terminal.receipts.status import PrinterState, PrinterStatus, query_status

__all__ = ["DEFAULT_PRINTER", "Printer", "PrinterError", "open_printer"]

DEFAULT_PRINTER = "virtual://"
CLEAR_BUFFERS = bytes([0x10, 0x14, 8, 1, 3, 20, 1, 6, 2, 8])  # DLE DC4 8: clear buffers
PAPER_SENSOR_STATUS = b"\x1dr\x01"  # GS r 1: answered only after everything before it

_COMMON = {"profile", "timeout"}
_SERIAL = {"baudrate", "bytesize", "parity", "stopbits", "xonxoff", "rtscts", "dsrdtr"}
_VIRTUAL = {"state", "paper_lines"}


class PrinterError(TerminalError):
    """The printer cannot be reached or written to."""


@dataclass
class Printer:
    """An open receipt printer: its python-escpos object, profile and how to read status."""

    url: str
    escpos: Escpos
    profile: PrinterProfile
    status_timeout: float
    can_answer: bool = True
    virtual: Any = None  # the simulator.printer.VirtualPrinter behind virtual://
    options: dict[str, str] = field(default_factory=dict)

    def status(self) -> PrinterStatus:
        """``DLE EOT 1..4`` asked now; a printer that cannot answer is "unknown"."""
        if not self.can_answer:
            return PrinterStatus(PrinterState.UNKNOWN, None, (None, None, None, None),
                                 f"{self.url.split(':', 1)[0]} printers cannot answer")
        try:
            return query_status(self._send, self._receive, timeout=self.status_timeout)
        except PrinterError as exc:
            return PrinterStatus(PrinterState.UNKNOWN, None, (None, None, None, None), str(exc))

    def print_document(self, document: Document) -> None:
        """Send ``document`` and its cut; :class:`PrinterError` when the bytes cannot go."""
        try:
            write_document(self.escpos, document, self.profile)
        except (OSError, DeviceNotFoundError) as exc:
            raise PrinterError(f"cannot write to {self.url}: {exc}") from exc

    def confirm_printed(self, timeout: float) -> bool:
        """Whether everything sent so far (the cut included) has been printed.

        ``GS r 1`` is not a real-time command: the printer answers it in turn, after
        the data before it, so its reply means the slip is out and cut. A printer
        that stopped (paper out, cover open) holds it unanswered. A status byte
        (bit 4 set) arriving meanwhile is passed over: ``GS r``'s reply has bit 4 clear.
        """
        if not self.can_answer:
            return False
        self._send(PAPER_SENSOR_STATUS)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._receive()
            if any(byte & 0x90 == 0 for byte in got):
                return True
            if not got and self.virtual is not None:
                return False  # in-process: an answer would be here already
        return False

    def clear_buffers(self) -> None:
        """Drop what the printer still holds of an interrupted receipt (``DLE DC4 8``),
        so that the reprint is not followed by the rest of the first attempt."""
        self._send(CLEAR_BUFFERS)

    def close(self) -> None:
        self.escpos.close()

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, data: bytes) -> None:
        try:
            self.escpos._raw(data)
        except (OSError, DeviceNotFoundError) as exc:
            raise PrinterError(f"cannot write to {self.url}: {exc}") from exc

    def _receive(self) -> bytes:
        try:
            return self.escpos._read() or b""
        except NotImplementedError:
            return b""


def open_printer(url: str) -> Printer:
    """The printer at ``url``; :class:`ConfigError` for a URL we cannot read,
    :class:`PrinterError` for one we cannot reach."""
    url = url.strip()
    if not url:
        raise ConfigError("the printer URL is empty")
    if "://" not in url:  # /dev/ttyUSB0, COM3
        url = f"serial://{url}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    opener = _OPENERS.get(scheme)
    if opener is None:
        raise ConfigError(
            f"printer URL {url!r}: scheme must be one of {', '.join(sorted(_OPENERS))}"
        )
    allowed = _COMMON | {"serial": _SERIAL, "virtual": _VIRTUAL}.get(scheme, set())
    unknown = set(options) - allowed
    if unknown:
        raise ConfigError(f"printer URL {url!r}: unknown option {', '.join(sorted(unknown))}")
    profile = printer_profile(options.get("profile"))
    timeout = _number(options, "timeout", 1.0, url)
    try:
        return opener(url, parts, options, profile, timeout)
    except DeviceNotFoundError as exc:
        raise PrinterError(f"printer {url} not reachable: {exc}") from exc


def _number(options: dict[str, str], name: str, default: float, url: str) -> float:
    try:
        return float(options.get(name, default))
    except ValueError:
        raise ConfigError(f"printer URL {url!r}: {name} must be a number") from None


def _open_serial(url, parts, options, profile, timeout) -> Printer:
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise ConfigError(f"printer URL {url!r}: name the port, serial:///dev/ttyUSB0")
    settings: dict[str, Any] = {"timeout": min(timeout, 0.2)}
    for name in ("baudrate", "bytesize", "stopbits"):
        if name in options:
            settings[name] = _number(options, name, 0, url)
            settings[name] = int(settings[name]) if name != "stopbits" else settings[name]
    if "parity" in options:
        settings["parity"] = options["parity"].upper()[:1]
    for name in ("xonxoff", "rtscts", "dsrdtr"):
        if name in options:
            settings[name] = options[name].lower() in ("1", "true", "yes", "on")
    printer = _UrlSerial(path, settings, profile=profile.escpos_profile)
    printer.open()
    return Printer(url, printer, profile, timeout)


def _open_tcp(url, parts, options, profile, timeout) -> Printer:
    if not parts.hostname:
        raise ConfigError(f"printer URL {url!r}: name the host, tcp://host:9100")
    try:
        port = parts.port or 9100
    except ValueError:
        raise ConfigError(f"printer URL {url!r}: the port must be 1 to 65535") from None
    printer = _Network(parts.hostname, port, timeout=max(timeout, 3.0),
                       profile=profile.escpos_profile)
    printer.read_timeout = min(timeout, 0.5)
    printer.open()
    return Printer(url, printer, profile, timeout)


def _open_file(url, parts, options, profile, timeout) -> Printer:
    path = unquote(parts.path)
    if not path:
        raise ConfigError(f"printer URL {url!r}: name the file, file:///path")
    printer = File(path, profile=profile.escpos_profile)
    printer.open()
    return Printer(url, printer, profile, timeout, can_answer=False)


def _open_usb(url, parts, options, profile, timeout) -> Printer:
    try:
        vendor, product = (int(x, 16) for x in parts.netloc.split(":"))
    except ValueError:
        raise ConfigError(f"printer URL {url!r}: usb://VENDOR:PRODUCT in hex") from None
    from escpos.printer import Usb

    if not Usb.is_usable():
        raise PrinterError("USB printers need pyusb and libusb: pip install pyusb")
    import usb.core

    printer = Usb(vendor, product, profile=profile.escpos_profile)
    try:
        printer.open()
    except usb.core.NoBackendError:
        raise PrinterError(
            "USB printers need libusb (Debian: apt install libusb-1.0-0; Windows: the "
            "libusb DLL beside Python)"
        ) from None
    return Printer(url, printer, profile, timeout)


def _open_virtual(url, parts, options, profile, timeout) -> Printer:
    # Found through the terminal.devices entry point: receipts never imports the simulator.
    factory = device_factory("virtual")
    device = factory({**options, "dots": str(profile.dots), "encoding": profile.encoding},
                     clock=MonotonicClock())
    printer = _InProcess(device, profile=profile.escpos_profile)
    # In-process replies are there at once; no need to wait long for silence.
    return Printer(url, printer, profile, min(timeout, 0.05), virtual=device, options=options)


_OPENERS = {
    "serial": _open_serial,
    "tcp": _open_tcp,
    "file": _open_file,
    "usb": _open_usb,
    "virtual": _open_virtual,
}


class _UrlSerial(Escpos):
    """A serial printer through ``serial.serial_for_url`` with a short read timeout."""

    def __init__(self, port: str, settings: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.port = port
        self.settings = settings

    def open(self) -> None:
        import serial

        try:
            self.device = serial.serial_for_url(self.port, **self.settings)
        except (serial.SerialException, ValueError) as exc:
            raise DeviceNotFoundError(f"cannot open serial printer {self.port}: {exc}") from exc

    def _raw(self, msg: bytes) -> None:
        self.device.write(msg)
        self.device.flush()

    def _read(self) -> bytes:
        return self.device.read(16)

    def close(self) -> None:
        if self._device:
            self._device.close()
        self._device = False


class _Network(Network):
    """python-escpos's ``Network`` with a read timeout apart from the connect timeout."""

    read_timeout = 0.5

    def open(self, raise_not_found: bool = True) -> None:
        super().open(raise_not_found)
        if self._device:
            self._device.settimeout(self.read_timeout)

    def _read(self) -> bytes:
        try:
            return self.device.recv(16)
        except TimeoutError:
            return b""


class _InProcess(Escpos):
    """python-escpos talking to a :class:`simulator.printer.VirtualPrinter` in memory."""

    def __init__(self, device: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._device = device

    def _raw(self, msg: bytes) -> None:
        self._device.feed(msg)

    def _read(self) -> bytes:
        return self._device.read_output()

    def close(self) -> None:
        """The device lives as long as the :class:`Printer` holding it."""
