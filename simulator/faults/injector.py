"""Faults on the simulator's byte path: a manipulator between the transport and the device.

:class:`FaultInjector` is itself a :class:`~terminal.devices.SimulatedDevice`
(``feed`` / ``poll`` / ``read_output`` / ``next_deadline``) wrapped around the
real one, like the manipulator pymodbus's ``NullModem`` takes: ``sim://``, the
pty and the TCP server drive it without knowing, and the simulated terminal
behind it stays clean. It cuts each direction's bytes into link units (frames,
ACK, NAK), tells which exchange they belong to and lets the scenario's faults
act on them at their point: lose, hold back, garble, duplicate, rewrite, NAK,
cut the line, switch the terminal off and on again.

Exchanges are counted as the terminal's duplicate filter tells a resend from a
new message: a request frame starts the next exchange unless its DATA equals
the last request's and it comes within the link's duplicate window
(``ack_timeout × max_sends`` after the last copy; the scenario may set its
own). A POS that resends the same refund or retries the same reversal after a
restart, long after that window, is a new exchange, so a fault pinned to an
exchange with ``times = 0`` strikes its link resends and not the recovery.

Every wait is on the injected clock, so with a :class:`~terminal.clock.FakeClock`
a scenario full of minute-long timeouts runs in milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.faults.scenario import Fault, FaultKind, Point, Scenario, ScenarioError
from terminal.clock import Clock, MonotonicClock
from terminal.devices import SimulatedDevice
from terminal.errors import ProtocolError
from terminal.link import ACK, NAK, STX, LinkTimers, encode_frame
from terminal.protocol import Message, decode, encode

__all__ = ["FaultEvent", "FaultInjector"]

log = logging.getLogger("simulator.faults")

#: Seconds a part of a frame may wait for the rest before it is passed on as it is.
_PARTIAL_LIMIT = 0.2
_DEFAULT_RESPONSE_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """A fault that fired: when (clock time), what, where, in which exchange."""

    t: float
    kind: FaultKind
    point: Point
    exchange: int
    mti: str | None


class FaultInjector:
    """``device`` with the faults of ``scenario`` on its byte path.

    ``restart`` builds the terminal again after a power cycle (from its
    persisted books: the same settings, the same ledger file) and is required
    when the scenario power-cycles; ``printer`` (a virtual printer, anything
    with ``set_conditions``) is what ``paper_out`` acts on. ``response_timeout``
    is the POS's, which a ``late_response`` without ``seconds`` exceeds by 1 s
    (default: the device's ``settings.link.response_timeout``, else 60 s).
    ``duplicate_window`` is the scenario's, else the device's link timers'
    (``settings.link.duplicate_window``), else the link's default.
    """

    def __init__(
        self,
        device: SimulatedDevice,
        scenario: Scenario,
        *,
        clock: Clock | None = None,
        restart: Callable[[], SimulatedDevice] | None = None,
        printer: Any = None,
        dialect: str = "cup",
        response_timeout: float | None = None,
    ) -> None:
        if scenario.needs_restart and restart is None:
            raise ScenarioError(
                f"{scenario.source}: a power cycle needs a way to restart the terminal"
            )
        self._device: SimulatedDevice | None = device
        self.scenario = scenario
        self.clock: Clock = clock or getattr(device, "clock", None) or MonotonicClock()
        self._restart = restart
        self._printer = printer
        self._dialect = dialect
        self._response_timeout = response_timeout or _device_response_timeout(device)
        #: Seconds within which identical request DATA is a resend of the same exchange.
        self.duplicate_window = scenario.duplicate_window or _device_duplicate_window(device)
        #: Every fault that fired, in order.
        self.events: list[FaultEvent] = []
        #: How many times the terminal was switched off and on again.
        self.restarts = 0
        self._hits = [0] * len(scenario.faults)
        self._in = _Splitter()
        self._out = _Splitter()
        self._to_device: list[tuple[float, int, bytes]] = []
        self._to_pos: list[tuple[float, int, bytes]] = []
        self._seq = 0
        self._exchange = 0
        self._mti: str | None = None
        self._request: bytes | None = None
        self._request_at = 0.0  # when the last copy of ``_request`` arrived
        self._response: bytes | None = None
        self._dead_until: float | None = None
        self._off_until: float | None = None

    # -- the device interface -------------------------------------------------------

    @property
    def device(self) -> SimulatedDevice | None:
        """The terminal behind the faults; ``None`` while it is switched off."""
        return self._device

    @property
    def exchange(self) -> int:
        """How many exchanges the POS has begun (link resends within the window not counted)."""
        return self._exchange

    def feed(self, data: bytes, at: float | None = None) -> None:
        """Bytes from the POS, arrived at clock time ``at`` (default now).

        What passes untouched reaches the terminal with its arrival stamp; what
        a fault held back arrives when it is released.
        """
        now = self.clock.now()
        at = now if at is None else at
        if self._line_dead(at) or self._device is None:
            return
        for kind, unit in self._in.push(data, at):
            self._incoming(kind, unit, at)
        self._deliver(now, at)

    def poll(self) -> None:
        now = self.clock.now()
        if self._off_until is not None and now >= self._off_until:
            self._power_on()
        if self._device is None:
            return
        stale = self._in.stale(now, _PARTIAL_LIMIT)
        if stale:
            self._queue(self._to_device, now, stale)
        self._deliver(now)
        self._device.poll()

    def read_output(self) -> bytes:
        now = self.clock.now()
        if self._device is not None:
            for kind, unit in self._out.push(self._device.read_output(), now):
                self._outgoing(kind, unit, now)
        out = self._take_due(self._to_pos, now)
        if self._line_dead(now):
            return b""
        return out

    def next_deadline(self) -> float | None:
        candidates: list[float | None] = [self._off_until]
        if self._device is not None:
            candidates.append(self._device.next_deadline())
            candidates.append(self._in.deadline(_PARTIAL_LIMIT))
        candidates += [due for due, _, _ in self._to_device[:1] + self._to_pos[:1]]
        present = [c for c in candidates if c is not None]
        return min(present) if present else None

    def disconnected(self) -> None:
        """The POS went away: pass it on, and forget what was held back for it."""
        self._to_pos.clear()
        notify = getattr(self._device, "disconnected", None)
        if callable(notify):
            notify()

    def __getattr__(self, name: str) -> Any:
        # present_card, ledger, settings...: the terminal's own, for tests and demos.
        device = self.__dict__.get("_device")
        if device is None:
            raise AttributeError(f"{name!r}: the simulated terminal is switched off")
        return getattr(device, name)

    # -- the two directions -----------------------------------------------------------

    def _incoming(self, kind: str, unit: bytes, now: float) -> None:
        if kind == "frame":
            data = unit[3:-2]
            if data != self._request or now > self._request_at + self.duplicate_window:
                self._exchange += 1
                self._request, self._response = data, None
                self._mti = self._mti_of(data)
            self._request_at = now
            point = Point.REQUEST
        elif kind in ("ack", "nak") and self._response is not None:
            point = Point.POS_ACK
        else:
            self._queue(self._to_device, now, unit)
            return
        for delay, piece in self._strike(point, unit, now):
            self._queue(self._to_device, now + delay, piece)

    def _outgoing(self, kind: str, unit: bytes, now: float) -> None:
        if kind == "frame":
            self._response = unit[3:-2]
            point = Point.RESPONSE
        elif kind in ("ack", "nak"):
            point = Point.ACK
        else:
            self._queue(self._to_pos, now, unit)
            return
        for delay, piece in self._strike(point, unit, now):
            self._queue(self._to_pos, now + delay, piece)

    def _strike(self, point: Point, unit: bytes, now: float) -> list[tuple[float, bytes]]:
        """``unit`` after every fault due at ``point``: pieces to pass on, with their delay."""
        pieces: list[tuple[float, bytes]] = [(0.0, unit)]
        for index, fault in enumerate(self.scenario.faults):
            if fault.point is not point or not fault.matches(self._exchange, self._mti):
                continue
            if fault.times and self._hits[index] >= fault.times:
                continue
            self._hits[index] += 1
            self.events.append(FaultEvent(now, fault.kind, point, self._exchange, self._mti))
            log.info("fault %s at %s of exchange %d", fault.kind.value, point.value,
                     self._exchange)
            pieces = self._apply(fault, pieces, now)
            if not pieces:
                break
        return pieces

    def _apply(
        self, fault: Fault, pieces: list[tuple[float, bytes]], now: float
    ) -> list[tuple[float, bytes]]:
        kind = fault.kind
        if kind in (FaultKind.DROP, FaultKind.NO_ACK):
            return []
        if kind is FaultKind.DELAY:
            return [(d + (fault.seconds or 0.0), u) for d, u in pieces]
        if kind is FaultKind.LATE_RESPONSE:
            late = fault.seconds if fault.seconds is not None else self._response_timeout + 1.0
            return [(d + late, u) for d, u in pieces]
        if kind is FaultKind.GARBLE:
            return [(d, _garble(u, fault.offset)) for d, u in pieces]
        if kind is FaultKind.NAK_STORM:
            self._queue(self._to_pos, now, bytes([NAK]))
            return []
        if kind is FaultKind.DUPLICATE_RESPONSE:
            again = fault.seconds or 0.0
            return [*pieces, *((d + again, u) for d, u in pieces)]
        if kind is FaultKind.OTHER_TRACE:
            return [(d, self._rewrite(u, _other_trace)) for d, u in pieces]
        if kind is FaultKind.BAD_MAC:
            return [(d, self._rewrite(u, _bad_mac)) for d, u in pieces]
        if kind is FaultKind.DISCONNECT:
            self._dead_until = now + (fault.seconds or 0.0)
            self._to_device.clear()
            self._to_pos.clear()
            self.disconnected()
            return []
        if kind is FaultKind.POWER_CYCLE:
            self._power_off(now, fault.seconds or 0.0)
            return []
        if kind is FaultKind.PAPER_OUT:
            if self._printer is None:
                log.warning("paper_out fault, but no printer was given to the injector")
            else:
                self._printer.set_conditions(paper_out=True)
            return pieces
        raise AssertionError(f"unhandled fault kind {kind}")  # the enum is closed

    # -- power ----------------------------------------------------------------------------

    def _power_off(self, now: float, seconds: float) -> None:
        device, self._device = self._device, None
        self._off_until = now + seconds
        self._to_device.clear()
        self._to_pos.clear()
        self._in = _Splitter()
        self._out = _Splitter()
        _close(device)
        log.info("terminal switched off for %.1f s", seconds)

    def _power_on(self) -> None:
        assert self._restart is not None  # checked in __init__
        self._device = self._restart()
        self._off_until = None
        self.restarts += 1
        log.info("terminal switched on again (restart %d)", self.restarts)

    # -- helpers ----------------------------------------------------------------------------

    def _line_dead(self, now: float) -> bool:
        if self._dead_until is None:
            return False
        if now >= self._dead_until:
            self._dead_until = None
            return False
        return True

    def _queue(self, queue: list[tuple[float, int, bytes]], due: float, data: bytes) -> None:
        self._seq += 1
        queue.append((due, self._seq, data))
        queue.sort()

    def _deliver(self, now: float, at: float | None = None) -> None:
        data = self._take_due(self._to_device, now)
        if data and self._device is not None:
            self._device.feed(data, at)

    @staticmethod
    def _take_due(queue: list[tuple[float, int, bytes]], now: float) -> bytes:
        out = bytearray()
        while queue and queue[0][0] <= now:
            out += queue.pop(0)[2]
        return bytes(out)

    def _mti_of(self, data: bytes) -> str | None:
        try:
            return decode(data, self._dialect).mti
        except ProtocolError:
            return None

    def _rewrite(self, unit: bytes, change: Callable[[Message], Message]) -> bytes:
        try:
            message = decode(unit[3:-2], self._dialect)
            return encode_frame(encode(change(message), self._dialect))
        except ProtocolError as exc:
            log.warning("response not rewritten, it does not decode: field %s", exc.field)
            return unit


class _Splitter:
    """Cuts a byte stream into link units: whole frames, ACK, NAK, other bytes.

    A frame is complete when its length field says so; a part of one is kept
    until the rest comes, or passed on as it is once it went stale.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._since: float | None = None

    def push(self, data: bytes, now: float) -> list[tuple[str, bytes]]:
        buffer = self._buffer
        buffer += data
        units: list[tuple[str, bytes]] = []
        while buffer:
            first = buffer[0]
            if first in (ACK, NAK):
                units.append(("ack" if first == ACK else "nak", bytes(buffer[:1])))
                del buffer[:1]
            elif first != STX:
                end = 1
                while end < len(buffer) and buffer[end] not in (STX, ACK, NAK):
                    end += 1
                units.append(("other", bytes(buffer[:end])))
                del buffer[:end]
            elif len(buffer) < 3:
                break
            elif not (_is_bcd(buffer[1]) and _is_bcd(buffer[2])):
                units.append(("other", bytes(buffer[:1])))
                del buffer[:1]
            else:
                size = 5 + _bcd(buffer[1]) * 100 + _bcd(buffer[2])
                if len(buffer) < size:
                    break
                units.append(("frame", bytes(buffer[:size])))
                del buffer[:size]
        if not buffer:
            self._since = None
        elif self._since is None or data:
            self._since = now
        return units

    def stale(self, now: float, limit: float) -> bytes:
        """The partial frame held, if it waited ``limit`` seconds for its rest (then dropped)."""
        if self._since is None or now - self._since < limit:
            return b""
        data = bytes(self._buffer)
        self._buffer.clear()
        self._since = None
        return data

    def deadline(self, limit: float) -> float | None:
        return None if self._since is None else self._since + limit


def _is_bcd(byte: int) -> bool:
    return (byte >> 4) <= 9 and (byte & 0x0F) <= 9


def _bcd(byte: int) -> int:
    return (byte >> 4) * 10 + (byte & 0x0F)


def _garble(unit: bytes, offset: int | None) -> bytes:
    at = len(unit) // 2 if offset is None else min(offset, len(unit) - 1)
    changed = bytearray(unit)
    changed[at] ^= 0xFF
    return bytes(changed)


def _other_trace(message: Message) -> Message:
    trace = message.get(11)
    if not isinstance(trace, str) or not trace.isdigit():
        return message
    return message.with_fields({11: f"{(int(trace) + 1) % 1_000_000:06d}"})


def _bad_mac(message: Message) -> Message:
    mac = message.get(64)
    bad = bytes(b ^ 0xFF for b in mac) if isinstance(mac, bytes) and mac else b"\xa5" * 8
    return message.with_fields({64: bad})


def _device_response_timeout(device: Any) -> float:
    link = getattr(getattr(device, "settings", None), "link", None)
    return float(getattr(link, "response_timeout", _DEFAULT_RESPONSE_TIMEOUT))


def _device_duplicate_window(device: Any) -> float:
    link = getattr(getattr(device, "settings", None), "link", None)
    return link.duplicate_window if isinstance(link, LinkTimers) else LinkTimers().duplicate_window


def _close(device: Any) -> None:
    """Let go of the books (a SQLite ledger, its lock) as a power cut would."""
    for owner in (device, getattr(device, "ledger", None)):
        close = getattr(owner, "close", None)
        if callable(close):
            close()
            return
