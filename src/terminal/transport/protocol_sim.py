"""The ``sim://`` URL handler: pyserial's view of the in-process simulated terminal.

``serial.serial_for_url("sim://?card=expired")`` imports this module (``terminal``
appends ``"terminal.transport"`` to ``serial.protocol_handler_packages``) and
instantiates :class:`Serial`. Everything above the transport sees an ordinary
``serial.SerialBase``; the link layer, the CLI and the tests run their real code
paths against a stateful device instead of a wire.

The device runs in the caller's thread: there is no background thread, so
reading is what drives it. :meth:`Serial.read` runs the device's timers
(``poll``) at the times it asks for (``next_deadline``) until enough bytes came
out or the port's timeout ran out. That keeps the simulator deterministic and
lets tests pass a fake clock (``serial_for_url("sim://", clock=FakeClock())``)
so that a 60-second response timer costs no real time.

URL options (query string, each at most once)::

    card=NAME       the card the terminal reads when a transaction needs one
    delay=SECONDS   how long the terminal "thinks" before it answers
    ledger=PATH     the SQLite file the simulated acquirer keeps its books in
    config=PATH     the TOML config file to read instead of the default one

Keep this module's top-level imports to the standard library, pyserial and
``terminal`` core modules: pyserial swallows an ImportError raised while it
imports a handler and reports "protocol 'sim' not known" instead. The device is
built when a port is opened, by the factory installed under the
``terminal.devices`` entry points (:mod:`terminal.devices`; the simulator
registers ``sim``): this module never imports the simulator, and a factory that
is missing or fails is reported as a ``SerialException`` that says so.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from serial.serialutil import PortNotOpenError, SerialBase, SerialException, to_bytes

from terminal.clock import Clock, MonotonicClock
from terminal.devices import DeviceUnavailable, SimulatedDevice, device_factory

__all__ = ["KNOWN_OPTIONS", "Serial", "parse_sim_url"]

#: URL option -> what it sets; the order is the one error messages list them in.
KNOWN_OPTIONS: Mapping[str, str] = {
    "card": "the card presented when a transaction needs one",
    "delay": "seconds the terminal waits before it answers",
    "ledger": "path of the simulated host's ledger file",
    "config": "path of the TOML config file to read",
}

_SCHEME = "sim"
# The shortest wait the read loop asks for: a deadline a hair away from "now"
# must still move a fake clock past it, and a real wait must not spin.
_MIN_WAIT = 1e-4
# How long one blocking wait lasts when neither the caller's timeout nor the
# device sets a limit: another thread may act on the device directly
# (``port.simulator.present_card``) without waking us, so look again this often.
_IDLE_WAIT = 0.05


def parse_sim_url(url: str) -> dict[str, str]:
    """The options of a ``sim://`` URL, checked: known names, each given once, not empty.

    Why refuse unknown options rather than ignore them: ``sim://?cards=expired``
    silently running with the approving card is a test that passes for the
    wrong reason.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != _SCHEME:
        raise SerialException(f"expected a URL of the form {_form()}, got {url!r}")
    if parts.netloc or parts.path not in ("", "/"):
        raise SerialException(
            f"a sim:// URL takes no host or path, only options: {_form()}, got {url!r}"
        )
    try:
        pairs = urllib.parse.parse_qsl(
            parts.query, keep_blank_values=True, strict_parsing=bool(parts.query)
        )
    except ValueError as exc:
        raise SerialException(f"cannot parse the options of {url!r}: {exc}") from None
    options: dict[str, str] = {}
    unknown = sorted({name for name, _ in pairs if name not in KNOWN_OPTIONS})
    if unknown:
        raise SerialException(
            f"unknown sim:// option{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)} in {url!r}; known options: {', '.join(KNOWN_OPTIONS)}"
        )
    for name, value in pairs:
        if name in options:
            raise SerialException(f"sim:// option {name!r} given more than once in {url!r}")
        if not value:
            raise SerialException(f"sim:// option {name!r} needs a value in {url!r}")
        options[name] = value
    if "delay" in options:
        try:
            delay = float(options["delay"])
        except ValueError:
            delay = -1.0
        if not delay >= 0:  # also refuses nan
            raise SerialException(
                f"sim:// option delay must be a number of seconds >= 0, got {options['delay']!r}"
            )
    return options


class Serial(SerialBase):
    """A ``SerialBase`` whose other end is a simulated payment terminal.

    Besides pyserial's own arguments it takes two keywords (they pass through
    ``serial.serial_for_url`` too):

    ``clock``
        the :class:`~terminal.clock.Clock` that both the port's read timeout and
        the device's timers use; the real monotonic clock by default.
    ``simulator``
        a device to use as it is instead of building one from the URL (then the
        URL may carry no options, since they would not apply).

    ``port.simulator`` is the device behind an open port, for tests and demos
    that act on it (``port.simulator.present_card("expired")``). Calls on it
    from another thread while a read is in progress should hold ``port.lock``.
    """

    BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)

    def __init__(
        self,
        *args: Any,
        clock: Clock | None = None,
        simulator: SimulatedDevice | None = None,
        **kwargs: Any,
    ) -> None:
        # Set before SerialBase.__init__: it calls open() when a port is given.
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.lock = threading.RLock()
        self.simulator: SimulatedDevice | None = None
        self._given_simulator = simulator
        self._rx = bytearray()
        self._wakeup = threading.Event()
        self._cancel_read = False
        super().__init__(*args, **kwargs)

    # -- opening and closing ------------------------------------------------

    def open(self) -> None:
        """Build the device from the URL's options and the config file.

        Raises ``SerialException`` for a bad URL, a config file that cannot be
        read, or a simulator that cannot be built, with the reason.
        """
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        options = parse_sim_url(self._port)
        if self._given_simulator is not None:
            if options:
                raise SerialException(
                    f"{self._port!r}: URL options do not apply when a simulator is passed in"
                )
            device = self._given_simulator
        else:
            device = _build_device(options, self.clock)
        self._reconfigure_port()
        with self.lock:
            self.simulator = device
            self._rx.clear()
            self._cancel_read = False
            self._wakeup.clear()
        self.is_open = True

    def close(self) -> None:
        """Close the port; a read blocked in another thread returns what it has."""
        self.is_open = False
        self._wakeup.set()

    def from_url(self, url: str) -> dict[str, str]:
        """Parse and check ``url``'s options (see :func:`parse_sim_url`)."""
        return parse_sim_url(url)

    def _reconfigure_port(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to configure: a simulated line has no baud rate. Accept what pyserial set."""

    # -- data ---------------------------------------------------------------

    @property
    def in_waiting(self) -> int:
        """Bytes the device has sent that have not been read (after running due timers)."""
        self._check_open()
        with self.lock:
            self._pump()
            return len(self._rx)

    @property
    def out_waiting(self) -> int:
        """Always 0: a write hands its bytes to the device at once."""
        self._check_open()
        return 0

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes, honouring ``timeout`` as a serial port does.

        ``timeout=None`` waits until ``size`` bytes came (or the port is closed or
        ``cancel_read`` is called from another thread); ``0`` returns what is
        there now; ``t > 0`` returns what arrived within ``t`` seconds of the
        clock. While waiting, the device's timers run at their deadlines.
        """
        self._check_open()
        if size <= 0:
            return b""
        timeout = self._timeout
        clock = self.clock
        end = None if timeout is None else clock.now() + timeout
        data = bytearray()
        self._cancel_read = False
        while True:
            with self.lock:
                self._pump()
                taken = self._rx[: size - len(data)]
                del self._rx[: len(taken)]
                deadline = self.simulator.next_deadline() if self.simulator else None
            data += taken
            if len(data) >= size or timeout == 0 or not self.is_open or self._cancel_read:
                break
            now = clock.now()
            if end is not None and now >= end:
                break
            wake_at = min((t for t in (end, deadline) if t is not None), default=None)
            self._wait(None if wake_at is None else max(wake_at - now, _MIN_WAIT))
        return bytes(data)

    def write(self, data: Any) -> int:
        """Hand ``data`` to the device, which may answer at once (an ACK) or later."""
        self._check_open()
        payload = to_bytes(data)
        with self.lock:
            assert self.simulator is not None
            self.simulator.feed(bytes(payload))
        self._wakeup.set()
        return len(payload)

    def flush(self) -> None:
        """Nothing is buffered on the way out."""
        self._check_open()

    def reset_input_buffer(self) -> None:
        """Drop what the device has sent and the POS has not read."""
        self._check_open()
        with self.lock:
            self._pump()
            self._rx.clear()

    def reset_output_buffer(self) -> None:
        """Nothing to drop: writes reach the device at once."""
        self._check_open()

    def cancel_read(self) -> None:
        """Make a read blocked in another thread return what it has."""
        self._cancel_read = True
        self._wakeup.set()

    # -- modem lines: a simulated cable is always connected -------------------

    def _update_break_state(self) -> None:
        """A break condition means nothing to the simulated terminal."""

    def _update_rts_state(self) -> None:
        """RTS is not used by the terminal; always clear to send."""

    def _update_dtr_state(self) -> None:
        """DTR is not used by the terminal; it is always ready."""

    @property
    def cts(self) -> bool:
        self._check_open()
        return True

    @property
    def dsr(self) -> bool:
        self._check_open()
        return True

    @property
    def ri(self) -> bool:
        self._check_open()
        return True

    @property
    def cd(self) -> bool:
        self._check_open()
        return True

    # -- helpers --------------------------------------------------------------

    def _check_open(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()

    def _pump(self) -> None:
        """Run the device's due timers and collect what it sends. Caller holds the lock."""
        device = self.simulator
        if device is None:
            return
        device.poll()
        out = device.read_output()
        if out:
            self._rx += out

    def _wait(self, seconds: float | None) -> None:
        """Let ``seconds`` of the clock pass, or wait for a wake-up when there is no limit.

        With the real clock a finite wait is cut short by a write or
        ``cancel_read`` from another thread. With an injected clock, a finite
        wait is ``clock.sleep`` (a fake clock jumps); only an unbounded wait
        blocks in real time, because only another thread can end it.
        """
        if seconds is None:
            self._wakeup.wait(_IDLE_WAIT)
        elif isinstance(self.clock, MonotonicClock):
            self._wakeup.wait(seconds)
        else:
            self.clock.sleep(seconds)
        self._wakeup.clear()


def _form() -> str:
    return "sim://[?" + "&".join(f"{name}=…" for name in KNOWN_OPTIONS) + "]"


def _build_device(options: Mapping[str, str], clock: Clock) -> SimulatedDevice:
    """The device the installed ``sim`` factory builds from ``options``.

    The factory is found through the ``terminal.devices`` entry points
    (:func:`terminal.devices.device_factory`), never imported by name: the
    simulator imports the layers below, and a transport importing it back would
    tie the two packages in a cycle. Every failure becomes a ``SerialException``
    naming the cause, because the caller asked for a port and pyserial callers
    catch ``SerialException``.
    """
    from terminal.errors import TerminalError

    try:
        factory = device_factory(_SCHEME)
    except DeviceUnavailable as exc:
        raise SerialException(str(exc)) from exc
    try:
        return factory(options, clock=clock)
    except (TerminalError, OSError, ValueError, KeyError) as exc:
        raise SerialException(f"cannot start the simulated terminal: {exc}") from exc
