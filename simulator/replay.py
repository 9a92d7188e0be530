"""A recorded session played back as the device, so a field problem reproduces on a laptop.

:class:`ReplayTerminal` is a :class:`~terminal.devices.SimulatedDevice` like
:class:`~simulator.device.SimulatedTerminal`, with the same link state machine,
but its answers come from a trace file (:mod:`terminal.trace`) instead of the
virtual acquirer: the n-th request the POS sends gets the frames the terminal
sent after the n-th request of the recording, after the same delay.

Fields a recorded response echoed from its request (trace 11, terminal and
merchant ids 41/42, processing code 3, amount 4) are set to the live request's
values, because the POS has moved its trace counter on since the recording;
a recorded response that did *not* echo its request (the field problem may be
exactly that: an answer for another trace) is played back as it was. The
card data in a trace is masked, so a response MAC computed over the original
does not verify; a recording of a MAC'd exchange replays as a MAC failure.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

from terminal.clock import Clock, MonotonicClock
from terminal.errors import ProtocolError
from terminal.link import LinkEndpoint, LinkTimers, SendState
from terminal.protocol import decode, encode
from terminal.trace import TraceFile

__all__ = ["ECHOED_FIELDS", "Exchange", "ReplayTerminal", "exchanges_of"]

log = logging.getLogger("simulator.replay")

#: Fields a response takes from its request when it answers that request.
ECHOED_FIELDS = (3, 4, 11, 41, 42)


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request the POS sent and what the terminal answered, with each answer's delay."""

    request: bytes
    responses: tuple[tuple[float, bytes], ...]


def exchanges_of(trace: TraceFile) -> list[Exchange]:
    """The recorded exchanges: each POS frame with the terminal frames up to the next one."""
    result: list[Exchange] = []
    request: bytes | None = None
    sent_at = 0.0
    answers: list[tuple[float, bytes]] = []
    for record in trace.frames():
        if record.direction == "tx":
            if request is not None:
                result.append(Exchange(request, tuple(answers)))
            request, sent_at, answers = record.data, record.t, []
        elif request is None:
            log.info("terminal frame before any request in the trace: not replayed")
        else:
            answers.append((max(0.0, record.t - sent_at), record.data))
    if request is not None:
        result.append(Exchange(request, tuple(answers)))
    return result


class ReplayTerminal:
    """Answers the POS from a recording (see the module docstring); transport-free."""

    def __init__(
        self,
        trace: TraceFile,
        *,
        timers: LinkTimers | None = None,
        clock: Clock | None = None,
        keep_timing: bool = True,
    ) -> None:
        self.clock: Clock = clock or MonotonicClock()
        self.timers = timers or LinkTimers()
        self.link = LinkEndpoint(self.timers, self.clock)
        self.dialect = trace.dialect
        self.keep_timing = keep_timing
        self._script = deque(exchanges_of(trace))
        self._due: deque[tuple[float, bytes]] = deque()
        #: Requests received after the recording ran out (answered with silence).
        self.unanswered = 0

    @property
    def remaining(self) -> int:
        """Recorded exchanges not yet played."""
        return len(self._script)

    def feed(self, data: bytes, at: float | None = None) -> None:
        self.link.feed(data, at)
        self._run()

    def poll(self) -> None:
        self.link.poll()
        self._run()

    def read_output(self) -> bytes:
        return self.link.data_to_write()

    def next_deadline(self) -> float | None:
        deadlines = [self.link.next_deadline()]
        if self._due and self.link.send_state is not SendState.WAITING_ACK:
            deadlines.append(self._due[0][0])
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def disconnected(self) -> None:
        stats = self.link.stats
        self.link = LinkEndpoint(self.timers, self.clock)
        self.link.stats = stats
        self._due.clear()

    # -- helpers -------------------------------------------------------------------

    def _run(self) -> None:
        while (request := self.link.pop_message()) is not None:
            if not self._script:
                self.unanswered += 1
                log.warning("request beyond the end of the recording: no answer")
                continue
            exchange = self._script.popleft()
            now = self.clock.now()
            for delay, response in exchange.responses:
                at = now + (delay if self.keep_timing else 0.0)
                self._due.append((at, self._patched(exchange.request, response, request)))
        if (
            self._due
            and self.link.send_state is not SendState.WAITING_ACK
            and self._due[0][0] <= self.clock.now()
        ):
            self.link.send(self._due.popleft()[1])

    def _patched(self, recorded_request: bytes, response: bytes, live: bytes) -> bytes:
        try:
            old = decode(recorded_request, self.dialect)
            answer = decode(response, self.dialect)
            new = decode(live, self.dialect)
        except ProtocolError:
            return response
        if old.mti != new.mti:
            log.warning("live request %s where the recording has %s", new.mti, old.mti)
        updates = {
            n: new[n]
            for n in ECHOED_FIELDS
            if n in answer and n in old and n in new and answer[n] == old[n]
        }
        changes = {}
        if (
            answer.tpdu is not None
            and old.tpdu is not None
            and new.tpdu is not None
            and answer.tpdu == old.tpdu.reply()
        ):
            changes["tpdu"] = new.tpdu.reply()
        try:
            return encode(answer.with_fields(updates, **changes), self.dialect)
        except ProtocolError:
            return response
