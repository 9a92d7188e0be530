"""The link protocol as a sans-IO state machine, shared by both ends of the cable.

:class:`LinkEndpoint` does no I/O and never sleeps: the owner feeds it the bytes
read from the wire, writes out what :meth:`LinkEndpoint.data_to_write` returns,
and calls :meth:`LinkEndpoint.poll` when :meth:`LinkEndpoint.next_deadline` comes.
The POS host (through :class:`~terminal.link.serial_link.SerialLink`) and the
simulated terminal drive the same object, so both speak exactly the same link.

Sending: one frame at a time. It is resent on NAK or when no ACK comes within
``ack_timeout``, ``max_sends`` sends in all; then the send has FAILED and the
message is in doubt (the peer may have got it and only the ACK was lost).

Receiving: a good frame is ACKed and queued for :meth:`LinkEndpoint.pop_message`;
a bad one (LRC, length, ETX, inter-byte gap) is NAKed. A frame with the same
DATA as the one last delivered, arriving again within the sender's retry window
(``ack_timeout * max_sends`` after our last ACK of it), is the sender resending
because it missed our ACK: it is ACKed again but not delivered twice.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from dataclasses import dataclass

from terminal.clock import Clock, MonotonicClock
from terminal.errors import LinkError
from terminal.link.frame import (
    ACK,
    NAK,
    AckReceived,
    BadFrame,
    FrameDecoder,
    FrameReceived,
    LinkEvent,
    NakReceived,
    encode_frame,
)
from terminal.link.timers import LinkTimers

__all__ = ["LinkEndpoint", "LinkStats", "SendFailed", "SendState"]

log = logging.getLogger("terminal.link")


class SendState(enum.Enum):
    """Where the message last given to :meth:`LinkEndpoint.send` stands."""

    IDLE = "idle"  # nothing sent yet
    WAITING_ACK = "waiting_ack"  # on the wire, awaiting ACK (resends included)
    DELIVERED = "delivered"  # the peer ACKed it
    FAILED = "failed"  # max_sends sends without an ACK: in doubt


class SendFailed(LinkError):
    """No ACK after the last send: the message is in doubt.

    ``sends`` is how many times the frame went out and ``seen`` what each send
    got back (``"NAK"`` or ``"no answer"``), in order.
    """

    def __init__(self, message: str, *, sends: int, seen: tuple[str, ...]) -> None:
        super().__init__(message)
        self.sends = sends
        self.seen = seen


@dataclass
class LinkStats:
    """Counters of what happened on the link, for logs, the CLI and tests."""

    frames_sent: int = 0  # first sends and resends
    resends: int = 0
    acks_received: int = 0
    naks_received: int = 0
    frames_received: int = 0  # good frames, duplicates included
    acks_sent: int = 0
    naks_sent: int = 0
    duplicates_dropped: int = 0
    bad_frames: int = 0
    noise_bytes: int = 0  # stray bytes outside a frame
    discarded_bytes: int = 0  # rest of frames whose length was broken
    stray_answers: int = 0  # ACK/NAK received when no frame of ours awaited one


class LinkEndpoint:
    """One end of the serial link, with no I/O of its own (see the module docstring).

    All times come from ``clock`` (a :class:`~terminal.clock.FakeClock` in tests).
    """

    def __init__(self, timers: LinkTimers | None = None, clock: Clock | None = None) -> None:
        self.timers = timers or LinkTimers()
        self.clock: Clock = clock or MonotonicClock()
        self.stats = LinkStats()
        self._decoder = FrameDecoder(self.timers.inter_byte_timeout)
        self._out = bytearray()
        self._inbox: deque[bytes] = deque()
        self._state = SendState.IDLE
        self._frame = b""  # the frame being sent, kept for resends
        self._frame_unwritten = False  # queued but not yet handed to data_to_write()
        self._sends = 0
        self._seen: list[str] = []
        self._ack_deadline: float | None = None
        self._last_delivered: bytes | None = None
        self._duplicate_window_end = 0.0

    # -- public API ----------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Take bytes read from the wire, as read at ``clock.now()``."""
        if not data:
            return
        self._handle(self._decoder.feed(data, self.clock.now()))

    def poll(self) -> None:
        """Run the timers: a stalled incoming frame is NAKed, an unanswered send resent.

        After the last send goes unanswered for ``ack_timeout`` the send is FAILED.
        Safe to call at any time; it does nothing when no timer has run out.
        """
        now = self.clock.now()
        self._handle(self._decoder.check_timeout(now))
        if (
            self._state is SendState.WAITING_ACK
            and self._ack_deadline is not None
            and now >= self._ack_deadline
        ):
            self._seen.append("no answer")
            log.debug("no ACK within %.3f s (send %d)", self.timers.ack_timeout, self._sends)
            self._retry_or_fail()

    def send(self, data: bytes) -> None:
        """Start sending one message; follow it with :attr:`send_state`.

        Raises :class:`LinkError` while a previous message still awaits its ACK
        (the link carries one frame at a time), and
        :class:`~terminal.link.frame.FrameError` if ``data`` is too long to frame.
        """
        if self._state is SendState.WAITING_ACK:
            raise LinkError("a frame is already awaiting its ACK; one send at a time")
        frame = encode_frame(data)
        self._frame = frame
        self._sends = 0
        self._seen = []
        self._state = SendState.WAITING_ACK
        self._transmit()

    def data_to_write(self) -> bytes:
        """The bytes to put on the wire now (frames, resends, ACK, NAK), drained.

        The ACK timer of a frame starts when it is drained here, i.e. when the
        owner writes it, so a late write does not eat into the peer's time.
        """
        if self._frame_unwritten and self._state is SendState.WAITING_ACK:
            self._ack_deadline = self.clock.now() + self.timers.ack_timeout
        self._frame_unwritten = False
        out = bytes(self._out)
        self._out.clear()
        return out

    def pop_message(self) -> bytes | None:
        """The next good, de-duplicated message received (DATA only), oldest first."""
        return self._inbox.popleft() if self._inbox else None

    @property
    def send_state(self) -> SendState:
        """Where the last message given to :meth:`send` stands."""
        return self._state

    @property
    def sends(self) -> int:
        """How many times the current (or last) message went out, first send included."""
        return self._sends

    @property
    def seen(self) -> tuple[str, ...]:
        """What each unsuccessful send of the current message got: ``"NAK"``/``"no answer"``."""
        return tuple(self._seen)

    @property
    def receiving(self) -> bool:
        """True while part of an incoming frame has been read and the rest is awaited."""
        return self._decoder.in_frame

    def next_deadline(self) -> float | None:
        """The clock time at which :meth:`poll` next has work; None when no timer runs."""
        candidates = (self._decoder.deadline(), self._ack_deadline_if_waiting())
        deadlines = [d for d in candidates if d is not None]
        return min(deadlines) if deadlines else None

    def failure(self) -> SendFailed:
        """The error describing why the last send FAILED (for the owner to raise)."""
        seen = ", ".join(self._seen) or "nothing"
        return SendFailed(
            f"no ACK after {self._sends} send(s) of a {len(self._frame)}-byte frame "
            f"(seen: {seen}); the message is in doubt",
            sends=self._sends,
            seen=tuple(self._seen),
        )

    # -- helpers ---------------------------------------------------------------

    def _ack_deadline_if_waiting(self) -> float | None:
        return self._ack_deadline if self._state is SendState.WAITING_ACK else None

    def _transmit(self) -> None:
        self._sends += 1
        self.stats.frames_sent += 1
        if self._sends > 1:
            self.stats.resends += 1
        self._out += self._frame
        self._frame_unwritten = True
        self._ack_deadline = self.clock.now() + self.timers.ack_timeout
        log.debug(
            "frame out: %d data bytes, send %d/%d",
            len(self._frame) - 5,
            self._sends,
            self.timers.max_sends,
        )

    def _retry_or_fail(self) -> None:
        if self._sends < self.timers.max_sends:
            self._transmit()
        else:
            self._state = SendState.FAILED
            self._ack_deadline = None
            log.debug("send failed after %d sends (%s)", self._sends, ", ".join(self._seen))

    def _handle(self, events: list[LinkEvent]) -> None:
        self.stats.noise_bytes = self._decoder.noise_bytes
        self.stats.discarded_bytes = self._decoder.discarded_bytes
        for event in events:
            if isinstance(event, FrameReceived):
                self._on_frame(event.data)
            elif isinstance(event, BadFrame):
                self.stats.bad_frames += 1
                self.stats.naks_sent += 1
                self._out.append(NAK)
                log.debug("NAK sent: %s (%s)", event.reason, event.field)
            elif isinstance(event, AckReceived):
                self._on_ack()
            elif isinstance(event, NakReceived):
                self._on_nak()

    def _on_frame(self, data: bytes) -> None:
        now = self.clock.now()
        self.stats.frames_received += 1
        self.stats.acks_sent += 1
        self._out.append(ACK)
        if data == self._last_delivered and now <= self._duplicate_window_end:
            self.stats.duplicates_dropped += 1
            log.debug("duplicate frame (%d data bytes) ACKed again, not delivered", len(data))
        else:
            self._inbox.append(data)
            self._last_delivered = data
            log.debug("frame in: %d data bytes, ACK sent", len(data))
        self._duplicate_window_end = now + self.timers.ack_timeout * self.timers.max_sends

    def _on_ack(self) -> None:
        if self._state is SendState.WAITING_ACK:
            self.stats.acks_received += 1
            self._state = SendState.DELIVERED
            self._ack_deadline = None
            log.debug("ACK received (send %d)", self._sends)
        else:
            self.stats.stray_answers += 1
            log.debug("stray ACK ignored (state %s)", self._state.value)

    def _on_nak(self) -> None:
        if self._state is SendState.WAITING_ACK:
            self.stats.naks_received += 1
            self._seen.append("NAK")
            log.debug("NAK received (send %d)", self._sends)
            self._retry_or_fail()
        else:
            self.stats.stray_answers += 1
            log.debug("stray NAK ignored (state %s)", self._state.value)
