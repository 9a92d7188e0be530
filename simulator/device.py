"""The simulated terminal as a device: bytes from the POS in, bytes for the POS out.

:class:`SimulatedTerminal` stacks the same link state machine the POS host uses
(:class:`~terminal.link.LinkEndpoint`: frames, ACK/NAK, resends), the ``cup``
codec and the :class:`~simulator.host.VirtualTerminal`. It does no I/O and never
sleeps, like a pymodbus framer: a transport (``sim://``, a pty, a TCP server)
calls :meth:`feed` with what the POS wrote, writes out :meth:`read_output`, and
calls :meth:`poll` at :meth:`next_deadline`. With a :class:`~terminal.clock.FakeClock`
a test drives every timer (resends, ``response_delay``) without sleeping.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from simulator.cards import CardBook
from simulator.config import SimulatorSettings
from simulator.host import VirtualTerminal
from simulator.ledger import Ledger
from terminal.clock import Clock, MonotonicClock
from terminal.errors import ProtocolError
from terminal.link import LinkEndpoint, SendState
from terminal.protocol import decode, encode
from terminal.protocol.message import Message, Tpdu
from terminal.protocol.response_codes import Rc

__all__ = ["SimulatedTerminal"]

log = logging.getLogger("simulator")

DIALECT = "cup"
# TPDU (5) + header (6, BCD) + MTI (2, BCD): what can be read of a message whose
# fields fail to decode, enough to address a format-error (30) response.
_ENVELOPE = 13


class SimulatedTerminal:
    """A CUP terminal on the far end of the serial cable, transport-free.

    ``terminal`` (the :class:`VirtualTerminal`), ``ledger`` and ``settings`` are
    public for tests and demos; ``wall_time`` supplies the date and time put in
    responses (fields 12, 13, 15, RRN) and used for expiry checks, separately
    from ``clock``, which only measures intervals.
    """

    def __init__(
        self,
        settings: SimulatorSettings | None = None,
        *,
        clock: Clock | None = None,
        cards: CardBook | None = None,
        ledger: Ledger | None = None,
        wall_time: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.settings = settings or SimulatorSettings()
        self.clock: Clock = clock or MonotonicClock()
        self.terminal = VirtualTerminal(self.settings, cards=cards, ledger=ledger)
        self.ledger = self.terminal.ledger
        self.link = LinkEndpoint(self.settings.link, self.clock)
        self._wall_time = wall_time
        # Encoded responses waiting for response_delay to pass, with their due time.
        self._due: deque[tuple[float, bytes]] = deque()
        self._in_flight = False

    def feed(self, data: bytes, at: float | None = None) -> None:
        """Take bytes the POS wrote, arrived at clock time ``at`` (default now): ACK/NAK
        them, answer complete requests."""
        self.link.feed(data, at)
        self._run()

    def poll(self) -> None:
        """Run the timers: link resends and NAKs, delayed responses coming due."""
        self.link.poll()
        self._run()

    def read_output(self) -> bytes:
        """The bytes to give the POS now (ACK, NAK, response frames), drained."""
        return self.link.data_to_write()

    def next_deadline(self) -> float | None:
        """Clock time at which :meth:`poll` next has work; ``None`` when nothing waits."""
        deadlines = [self.link.next_deadline()]
        # A due response waits while the link still awaits the ACK of the previous one;
        # the link's own deadline wakes us then, so do not report a time already past.
        if self._due and self.link.send_state is not SendState.WAITING_ACK:
            deadlines.append(self._due[0][0])
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def disconnected(self) -> None:
        """The POS went away (a TCP client closed or was replaced): forget its exchange.

        Like a terminal whose cable is unplugged mid-exchange: the response being
        sent or resent, responses still waiting for ``response_delay`` and a
        half-received frame are dropped, so none of them reach the next POS.
        What was booked stays booked (that POS holds the exchange in doubt).
        """
        if self._in_flight or self._due:
            log.info(
                "POS disconnected: %d undelivered response(s) dropped",
                len(self._due) + self._in_flight,
            )
        stats = self.link.stats
        self.link = LinkEndpoint(self.settings.link, self.clock)
        self.link.stats = stats
        self._due.clear()
        self._in_flight = False

    def present_card(self, name: str) -> None:
        """The card the next financial exchange reads (see :meth:`VirtualTerminal.present_card`)."""
        self.terminal.present_card(name)

    # -- helpers ---------------------------------------------------------------

    def _run(self) -> None:
        self._note_send_outcome()
        while (data := self.link.pop_message()) is not None:
            response = self._answer(data)
            if response is not None:
                self._due.append((self.clock.now() + self.settings.response_delay, response))
        self._send_due()

    def _answer(self, data: bytes) -> bytes | None:
        try:
            request = decode(data, dialect=DIALECT)
        except ProtocolError as exc:
            request = _envelope_of(data, exc)
            if request is None:
                log.warning("request dropped, not even its MTI could be read: %s", _where(exc))
                return None
            log.warning("request %s does not decode (%s): answering 30", request.mti, _where(exc))
            response = self.terminal.reject(request, self._wall_time(), Rc.FORMAT_ERROR)
        else:
            response = self.terminal.handle(request, self._wall_time(), raw=data)
        try:
            return encode(response, dialect=DIALECT)
        except ProtocolError as exc:
            # An encoding reason may quote the value (field 2 is the card number): not logged.
            log.error(
                "response %s cannot be encoded, nothing sent: field %s, %s",
                response.mti,
                exc.field,
                type(exc).__name__,
            )
            return None

    def _send_due(self) -> None:
        if not self._due or self.link.send_state is SendState.WAITING_ACK:
            return
        due, data = self._due[0]
        if due > self.clock.now():
            return
        self._due.popleft()
        self.link.send(data)
        self._in_flight = True

    def _note_send_outcome(self) -> None:
        if not self._in_flight or self.link.send_state is SendState.WAITING_ACK:
            return
        self._in_flight = False
        if self.link.send_state is SendState.FAILED:
            log.warning("response not delivered: %s", self.link.failure())


def _where(error: ProtocolError) -> str:
    """Where and why a request failed to decode, safe to log.

    Only ``field``, ``offset`` and ``reason``: ``str(error)`` carries a hex
    window of the input, and ``window`` / ``decoded`` the bytes and values
    themselves, which around field 2 or 35 (plain BCD) spell the card number.
    """
    where = f"field {error.field}" if error.field is not None else "message"
    at = f", byte offset {error.offset}" if error.offset is not None else ""
    return f"{where}{at}: {error.reason}"


def _envelope_of(data: bytes, error: ProtocolError) -> Message | None:
    """TPDU, header, MTI and the fields decoded before ``error``, or ``None`` if unreadable."""
    if len(data) < _ENVELOPE:
        return None
    header, mti = data[5:11].hex(), data[11:13].hex()
    if not (header.isdigit() and mti.isdigit()):
        return None
    fields = {k: v for k, v in error.decoded.items() if isinstance(k, int)}
    try:
        return Message(mti, fields, Tpdu.from_bytes(data[:5]), header)
    except ValueError:
        return None
