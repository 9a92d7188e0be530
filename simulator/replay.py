"""A recorded session played back as the device, so a field problem reproduces on a laptop.

:class:`ReplayTerminal` is a :class:`~simulator.linked.LinkedDevice` like
:class:`~simulator.device.SimulatedTerminal`, with the same link state machine,
but its answers come from a trace file (:mod:`terminal.trace`) instead of the
virtual acquirer.

Which recorded answer (:mod:`simulator.recording`): a live request gets the
frames the terminal sent after the earliest recorded request not yet played
*of the same kind* (same MTI, processing code 3, 60.1 message type and
catalogue row), after the same delay. The developer's POS need not send the
recorded sequence: an echo test, a balance enquiry or a retry the field
session did not have takes nothing from the sale after it, and recorded
exchanges of other kinds wait in order for later requests. A live request whose
kind the recording holds no more of gets no answer (the host times out, as
against a silent terminal), never another kind's answer; so does a request that
does not decode, which no recorded answer can be said to fit. Each is logged
as a warning naming its kind and what the recording still holds, and counted
(:attr:`ReplayTerminal.unanswered`); :meth:`ReplayTerminal.final_report` says
by kind what was not played and what got no answer.

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
A live sign-on is answered by the replay itself, with fresh keys, unless the
recording's first unplayed exchange that is a sign-on or a money message is a
sign-on (that one is played). A response whose MAC failed in the field (the
trace's verdict ``bad``) keeps its recorded MAC and fails again. With
``keep_macs`` fields 62 and 64 are played as recorded, so every MAC'd response
fails here, and the replay answers nothing by itself. Card data stays masked
either way: the replay never reconstructs a card number.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime

from simulator.config import SimulatorSettings
from simulator.device import decode_failure
from simulator.linked import LinkedDevice
from simulator.recording import (
    UNDECODED,
    Answer,
    Exchange,
    Recording,
    RequestKind,
    counted,
    decoded,
    exchanges_of,
)
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
        self._recording = Recording(exchanges_of(trace), self.dialect)
        #: Live requests that got no answer, by kind in plain words.
        self.unanswered_kinds: Counter[str] = Counter()
        #: Live requests the replay answered itself, outside the recording (keys).
        self.own_answers = 0
        #: The replay's key office; ``None`` when MACs are played as recorded.
        self.resigner: Resigner | None = None
        if not keep_macs and self.dialect == "cup":
            self.resigner = Resigner(
                self.settings, batch=_first_batch(self._recording), wall_time=wall_time
            )
        elif not keep_macs:
            log.warning("a %s trace: MACs are played as recorded", self.dialect)

    @property
    def remaining(self) -> int:
        """Recorded exchanges not yet played."""
        return len(self._recording)

    @property
    def unanswered(self) -> int:
        """Live requests that got no answer (no recorded exchange of their kind left, or
        they did not decode)."""
        return self.unanswered_kinds.total()

    def unplayed(self) -> Counter[str]:
        """Recorded exchanges not yet played, by kind in plain words, in recorded order."""
        return self._recording.held()

    def summary(self) -> str:
        """What the replay holds and does with keys and MACs, said plainly for its operator."""
        bad = sum(a.mac == BAD for e in self._recording.exchanges() for a in e.responses)
        held = counted(self.unplayed())
        head = f"{self.remaining} recorded exchange(s)" + (f" ({held})" if held else "")
        head += ", each live request answered from the next recorded one of its kind"
        if self.resigner is None:
            return (f"{head}; working keys and MACs played as recorded: a MAC'd response "
                    "will not verify here; every answer is marked as the simulator's")
        kept = f"; {bad} whose MAC failed in the field keep it failing" if bad else ""
        return (f"{head}; working keys re-issued under this host's master key and response "
                f"MACs re-signed over the bytes sent{kept}; card data stays masked; every "
                "answer is marked as the simulator's: no money moves")

    def final_report(self) -> str:
        """What was played and what was not, by kind, for the operator when the replay ends."""
        total = self._recording.total
        if self.remaining:
            played = (f"{self.remaining} of {total} recorded exchange(s) not played: "
                      f"{counted(self.unplayed())}")
        else:
            played = f"all {total} recorded exchange(s) played"
        if self.unanswered:
            answered = (f"{self.unanswered} live request(s) got no answer: "
                        f"{counted(self.unanswered_kinds)}")
        else:
            answered = "no live request went unanswered"
        own = (f"; {self.own_answers} answered by the replay itself (working keys)"
               if self.own_answers else "")
        return f"{played}; {answered}{own}"

    # -- the answers ---------------------------------------------------------------

    def _answer(self, data: bytes) -> list[tuple[float, bytes]]:
        try:
            live = decode(data, self.dialect)
        except ProtocolError as exc:
            self.unanswered_kinds[UNDECODED] += 1
            log.warning("a request that does not decode (%s) has no answer: no recorded one "
                        "can be said to be of its kind", decode_failure(exc))
            return []
        kind = RequestKind.of(live)
        if self.resigner is not None:
            own = self.resigner.own_answer(
                live, next_recorded=self._recording.next_bearing_on_keys(kind)
            )
            if own is not None:
                self.own_answers += 1
                return [(0.0, self.resigner.seal(own))]
        taken = self._recording.take(kind)
        if taken is None:
            self.unanswered_kinds[kind.words] += 1
            held = counted(self.unplayed())
            log.warning(
                "%s has no recorded answer left: no answer; the recording %s", kind,
                f"still holds {held}" if held else "is played out",
            )
            return []
        exchange, recorded = taken
        return [
            (answer.delay if self.keep_timing else 0.0, self._replayed(recorded, answer, live))
            for answer in exchange.responses
        ]

    def _replayed(self, recorded: Message, answer: Answer, live: Message) -> bytes:
        """The recorded ``answer`` (to ``recorded``) fitted to the ``live`` request, keys and
        MAC sealed."""
        response = decoded(answer.data, self.dialect)
        if response is None:
            return answer.data
        patched = _echoing(recorded, response, live)
        patched = patched.with_fields(
            {SIMULATOR_FIELD: with_simulator_mark(patched.get(SIMULATOR_FIELD))}
        )
        try:
            if self.resigner is None:
                return encode(patched, self.dialect)
            return self.resigner.seal(self.resigner.rekey(live, patched), answer.mac)
        except ProtocolError:
            return answer.data


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


def _first_batch(recording: Recording) -> int | None:
    """The batch of the recording's first request that names one (60.2), as a number.

    The replay's own sign-on answers with it, so a host that signs on with the
    replay outside the recording carries on in the recorded batch.
    """
    for request in recording.requests():
        field60 = request.get(60)
        batch = field60.get("batch") if isinstance(field60, Mapping) else None
        if isinstance(batch, str) and batch.isdigit() and int(batch) > 0:
            return int(batch)
    return None
