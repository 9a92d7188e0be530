"""The byte path every simulated terminal shares: the link in front, answers queued behind.

:class:`LinkedDevice` is what :class:`~simulator.device.SimulatedTerminal` (the
virtual acquirer) and :class:`~simulator.replay.ReplayTerminal` (a recording)
have in common, so that the two cannot drift apart on the link: the same
:class:`~terminal.link.LinkEndpoint` the POS host uses (frames, ACK/NAK,
resends), each complete request handed to :meth:`LinkedDevice._answer`, the
answers queued with their due times and sent one at a time, each after the
previous one was ACKed. It does no I/O and never sleeps: a transport
(``sim://``, a pty, a TCP server) calls :meth:`feed` with what the POS wrote,
writes out :meth:`read_output`, and calls :meth:`poll` at :meth:`next_deadline`
(the :class:`~terminal.devices.SimulatedDevice` protocol).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable

from terminal.clock import Clock, MonotonicClock
from terminal.link import LinkEndpoint, LinkTimers, SendState

__all__ = ["LinkedDevice"]

log = logging.getLogger("simulator")


class LinkedDevice:
    """A device behind a link endpoint; a subclass says what to answer (:meth:`_answer`)."""

    def __init__(self, timers: LinkTimers, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or MonotonicClock()
        self.link = LinkEndpoint(timers, self.clock)
        self._timers = timers
        # Encoded answers waiting for their delay to pass, with their due time.
        self._due: deque[tuple[float, bytes]] = deque()
        self._in_flight = False

    def feed(self, data: bytes, at: float | None = None) -> None:
        """Take bytes the POS wrote, arrived at clock time ``at`` (default now): ACK/NAK
        them, answer complete requests."""
        self.link.feed(data, at)
        self._run()

    def poll(self) -> None:
        """Run the timers: link resends and NAKs, delayed answers coming due."""
        self.link.poll()
        self._run()

    def read_output(self) -> bytes:
        """The bytes to give the POS now (ACK, NAK, answer frames), drained."""
        return self.link.data_to_write()

    def next_deadline(self) -> float | None:
        """Clock time at which :meth:`poll` next has work; ``None`` when nothing waits."""
        deadlines = [self.link.next_deadline()]
        # A due answer waits while the link still awaits the ACK of the previous one;
        # the link's own deadline wakes us then, so do not report a time already past.
        if self._due and self.link.send_state is not SendState.WAITING_ACK:
            deadlines.append(self._due[0][0])
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def disconnected(self) -> None:
        """The POS went away (a TCP client closed or was replaced): forget its exchange.

        Like a terminal whose cable is unplugged mid-exchange: the answer being
        sent or resent, answers still waiting for their delay and a
        half-received frame are dropped, so none of them reach the next POS.
        What a subclass booked or played stays so.
        """
        if self._in_flight or self._due:
            log.info(
                "POS disconnected: %d undelivered response(s) dropped",
                len(self._due) + self._in_flight,
            )
        stats = self.link.stats
        self.link = LinkEndpoint(self._timers, self.clock)
        self.link.stats = stats
        self._due.clear()
        self._in_flight = False

    # -- for subclasses ------------------------------------------------------------

    def _answer(self, data: bytes) -> Iterable[tuple[float, bytes]]:
        """The frames' DATA to send for the request ``data``, each with its delay (seconds
        after now); nothing for a request left unanswered."""
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------

    def _run(self) -> None:
        self._note_send_outcome()
        while (data := self.link.pop_message()) is not None:
            answers = list(self._answer(data))
            now = self.clock.now()
            self._due.extend((now + delay, answer) for delay, answer in answers)
        self._send_due()

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
