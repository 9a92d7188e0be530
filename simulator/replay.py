"""A recorded session played back as the device, so a field problem reproduces on a laptop.

:class:`ReplayTerminal` is a :class:`~simulator.linked.LinkedDevice` like
:class:`~simulator.device.SimulatedTerminal`, with the same link state machine,
but its answers come from a trace file (:mod:`terminal.trace`) instead of the
virtual acquirer: the n-th request the POS sends gets the frames the terminal
sent after the n-th request of the recording, after the same delay.

Fields a recorded response echoed from its request (trace 11, terminal and
merchant ids 41/42, processing code 3, amount 4) are set to the live request's
values, because the POS has moved its trace counter on since the recording;
a recorded response that did *not* echo its request (the field problem may be
exactly that: an answer for another trace) is played back as it was.
Every replayed response also carries the simulator's mark (field 59,
:mod:`terminal.protocol.identity`), under its MAC: a replay is a simulated
device, and a field session replayed on a laptop moves no money, however real
the recording was, so the host's results, journal and slips must say so.

Working keys and MACs (:mod:`simulator.resign`): the recorded keys are under
the field terminal's master key and the recorded MACs cover card data the
trace holds masked, so by default the replay re-keys each sign-on under this
host's master key and re-signs every MAC'd response over the bytes it sends.
A response whose MAC failed in the field (the trace's verdict ``bad``) keeps
its recorded MAC and fails again. With ``keep_macs`` fields 62 and 64 are
played as recorded, so every MAC'd response fails here. Card data stays
masked either way: the replay never reconstructs a card number.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from simulator.config import SimulatorSettings
from simulator.linked import LinkedDevice
from simulator.resign import BAD, Resigner
from terminal.clock import Clock
from terminal.errors import ProtocolError
from terminal.link import LinkTimers
from terminal.protocol import Message, decode, encode
from terminal.protocol.identity import SIMULATOR_FIELD, with_simulator_mark
from terminal.trace import TraceFile

__all__ = ["ECHOED_FIELDS", "Answer", "Exchange", "ReplayTerminal", "exchanges_of"]

log = logging.getLogger("simulator.replay")

#: Fields a response takes from its request when it answers that request.
ECHOED_FIELDS = (3, 4, 11, 41, 42)


@dataclass(frozen=True, slots=True)
class Answer:
    """A frame the terminal sent: seconds after the request, its DATA, the MAC verdict."""

    delay: float
    data: bytes
    mac: str = ""


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request the POS sent and what the terminal answered."""

    request: bytes
    responses: tuple[Answer, ...]


def exchanges_of(trace: TraceFile) -> list[Exchange]:
    """The recorded exchanges: each POS frame with the terminal frames up to the next one."""
    result: list[Exchange] = []
    request: bytes | None = None
    sent_at = 0.0
    answers: list[Answer] = []
    for record in trace.frames():
        if record.direction == "tx":
            if request is not None:
                result.append(Exchange(request, tuple(answers)))
            request, sent_at, answers = record.data, record.t, []
        elif request is None:
            log.info("terminal frame before any request in the trace: not replayed")
        else:
            answers.append(Answer(max(0.0, record.t - sent_at), record.data, record.mac))
    if request is not None:
        result.append(Exchange(request, tuple(answers)))
    return result


class ReplayTerminal(LinkedDevice):
    """Answers the POS from a recording (see the module docstring); transport-free.

    ``settings`` are this host's simulator settings: the master key and MAC
    algorithm the replay issues keys and MACs with, and (unless ``timers`` is
    given) the link timers.
    """

    def __init__(
        self,
        trace: TraceFile,
        *,
        settings: SimulatorSettings | None = None,
        timers: LinkTimers | None = None,
        clock: Clock | None = None,
        keep_timing: bool = True,
        keep_macs: bool = False,
        wall_time: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.settings = settings or SimulatorSettings()
        super().__init__(timers or self.settings.link, clock)
        self.dialect = trace.dialect
        self.keep_timing = keep_timing
        self._script = deque(exchanges_of(trace))
        #: Requests received after the recording ran out (answered with silence).
        self.unanswered = 0
        #: The replay's key office; ``None`` when MACs are played as recorded.
        self.resigner: Resigner | None = None
        if not keep_macs and self.dialect == "cup":
            self.resigner = Resigner(self.settings, batch=_first_batch(self._script, self.dialect),
                                     wall_time=wall_time)
        elif not keep_macs:
            log.warning("a %s trace: MACs are played as recorded", self.dialect)

    @property
    def remaining(self) -> int:
        """Recorded exchanges not yet played."""
        return len(self._script)

    def summary(self) -> str:
        """What the replay does with keys and MACs, said plainly for its operator."""
        bad = sum(a.mac == BAD for e in self._script for a in e.responses)
        head = f"{len(self._script)} recorded exchange(s)"
        if self.resigner is None:
            return (f"{head}; working keys and MACs played as recorded: a MAC'd response "
                    "will not verify here; every answer is marked as the simulator's")
        kept = f"; {bad} whose MAC failed in the field keep it failing" if bad else ""
        return (f"{head}; working keys re-issued under this host's master key and response "
                f"MACs re-signed over the bytes sent{kept}; card data stays masked; every "
                "answer is marked as the simulator's: no money moves")

    # -- the answers ---------------------------------------------------------------

    def _answer(self, data: bytes) -> list[tuple[float, bytes]]:
        live = _decoded(data, self.dialect)
        if self.resigner is not None and live is not None:
            own = self.resigner.own_answer(live, next_recorded=self._next_request())
            if own is not None:
                return [(0.0, self.resigner.seal(own))]
        if not self._script:
            self.unanswered += 1
            log.warning("request beyond the end of the recording: no answer")
            return []
        exchange = self._script.popleft()
        return [
            (answer.delay if self.keep_timing else 0.0,
             self._replayed(exchange.request, answer, live))
            for answer in exchange.responses
        ]

    def _replayed(self, recorded_request: bytes, answer: Answer, live: Message | None) -> bytes:
        """The recorded ``answer`` fitted to the ``live`` request, keys and MAC sealed."""
        old = _decoded(recorded_request, self.dialect)
        response = _decoded(answer.data, self.dialect)
        if old is None or response is None or live is None:
            return answer.data
        if old.mti != live.mti:
            log.warning("live request %s where the recording has %s", live.mti, old.mti)
        patched = _echoing(old, response, live)
        patched = patched.with_fields(
            {SIMULATOR_FIELD: with_simulator_mark(patched.get(SIMULATOR_FIELD))}
        )
        try:
            if self.resigner is None:
                return encode(patched, self.dialect)
            return self.resigner.seal(self.resigner.rekey(live, patched), answer.mac)
        except ProtocolError:
            return answer.data

    def _next_request(self) -> Message | None:
        return _decoded(self._script[0].request, self.dialect) if self._script else None


def _echoing(old: Message, response: Message, live: Message) -> Message:
    """``response`` (to ``old``) with what it echoed of ``old`` taken from ``live`` instead."""
    updates = {
        n: live[n]
        for n in ECHOED_FIELDS
        if n in response and n in old and n in live and response[n] == old[n]
    }
    changes = {}
    if (
        response.tpdu is not None
        and old.tpdu is not None
        and live.tpdu is not None
        and response.tpdu == old.tpdu.reply()
    ):
        changes["tpdu"] = live.tpdu.reply()
    return response.with_fields(updates, **changes)


def _decoded(data: bytes, dialect: str) -> Message | None:
    try:
        return decode(data, dialect)
    except ProtocolError:
        return None


def _first_batch(script: deque[Exchange], dialect: str) -> int | None:
    """The batch of the recording's first request that names one (60.2), as a number.

    The replay's own sign-on answers with it, so a host that signs on with the
    replay outside the recording carries on in the recorded batch.
    """
    for exchange in script:
        request = _decoded(exchange.request, dialect)
        field60 = request.get(60) if request is not None else None
        batch = field60.get("batch") if isinstance(field60, Mapping) else None
        if isinstance(batch, str) and batch.isdigit() and int(batch) > 0:
            return int(batch)
    return None
