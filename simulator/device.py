"""The simulated terminal as a device: bytes from the POS in, bytes for the POS out.

:class:`SimulatedTerminal` stacks the same link state machine the POS host uses
(:class:`~terminal.link.LinkEndpoint`: frames, ACK/NAK, resends; the byte path of
:class:`~simulator.linked.LinkedDevice`), the ``cup`` codec and the
:class:`~simulator.host.VirtualTerminal`. It does no I/O and never
sleeps, like a pymodbus framer: a transport (``sim://``, a pty, a TCP server)
calls :meth:`feed` with what the POS wrote, writes out :meth:`read_output`, and
calls :meth:`poll` at :meth:`next_deadline`. With a :class:`~terminal.clock.FakeClock`
a test drives every timer (resends, ``response_delay``) without sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from simulator.cards import CardBook
from simulator.config import SimulatorSettings
from simulator.host import VirtualTerminal
from simulator.ledger import Ledger
from simulator.linked import LinkedDevice
from terminal.clock import Clock
from terminal.errors import ProtocolError
from terminal.protocol import decode, encode
from terminal.protocol.message import Message, Tpdu
from terminal.protocol.response_codes import Rc

__all__ = ["SimulatedTerminal", "decode_failure"]

log = logging.getLogger("simulator")

DIALECT = "cup"
# TPDU (5) + header (6, BCD) + MTI (2, BCD): what can be read of a message whose
# fields fail to decode, enough to address a format-error (30) response.
_ENVELOPE = 13


class SimulatedTerminal(LinkedDevice):
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
        super().__init__(self.settings.link, clock)
        self.terminal = VirtualTerminal(self.settings, cards=cards, ledger=ledger)
        self.ledger = self.terminal.ledger
        self._wall_time = wall_time

    def present_card(self, name: str) -> None:
        """The card the next financial exchange reads (see :meth:`VirtualTerminal.present_card`)."""
        self.terminal.present_card(name)

    # -- helpers ---------------------------------------------------------------

    def _answer(self, data: bytes) -> list[tuple[float, bytes]]:
        response = self._response(data)
        return [] if response is None else [(self.settings.response_delay, response)]

    def _response(self, data: bytes) -> bytes | None:
        try:
            request = decode(data, dialect=DIALECT)
        except ProtocolError as exc:
            request = _envelope_of(data, exc)
            if request is None:
                log.warning(
                    "request dropped, not even its MTI could be read: %s", decode_failure(exc)
                )
                return None
            log.warning(
                "request %s does not decode (%s): answering 30", request.mti, decode_failure(exc)
            )
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


def decode_failure(error: ProtocolError) -> str:
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
