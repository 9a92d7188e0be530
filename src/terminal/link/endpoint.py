"""The link protocol as a sans-IO state machine, shared by both ends of the cable.

:class:`LinkEndpoint` does no I/O and never sleeps: the owner feeds it the bytes
read from the wire, writes out what :meth:`LinkEndpoint.data_to_write` returns,
and calls :meth:`LinkEndpoint.poll` when :meth:`LinkEndpoint.next_deadline` comes.
The POS host (through :class:`~terminal.link.serial_link.SerialLink`) and the
simulated terminal drive the same object, so both speak exactly the same link.

Sending: one frame at a time. It is resent on NAK or when no ACK comes within
``ack_timeout``, ``max_sends`` sends in all; then the send has FAILED and the
message is in doubt (the peer may have got it and only the ACK was lost). Each
NAK answers one send that was written: a NAK read while a resend is still queued
(not yet drained by :meth:`LinkEndpoint.data_to_write`) is ignored, so a burst
of NAKs costs one resend, and every send written gets its full ``ack_timeout``.
A good new frame from the peer while we await the ACK (its response, whose ACK
was lost on the way) proves our frame arrived: it counts as the ACK. Nothing
that arrived before our frame went out answers it: an ACK, a NAK or a frame
begun earlier is a backlog (say, ACKs for a flood of requests nobody read),
counted in ``stats.stray_answers`` and never taken for our ACK.

Holding the last byte: :meth:`LinkEndpoint.send` with ``hold_last_byte`` hands
out all of the frame but its LRC, and the LRC only after :meth:`LinkEndpoint.release`.
A frame without its LRC is nothing the peer can act on, so the owner may put
the frame's bytes on the line *before* it is allowed to send the message (the
host journals a request durably before it may reach the terminal): the line
carries the bytes while the owner does that work. If the owner may not send
after all, :meth:`LinkEndpoint.withdraw` ends the frame with a wrong LRC, which
the peer NAKs and drops: the message was never sent. The ACK timer starts with
the LRC.

Receiving: a good frame is ACKed and queued for :meth:`LinkEndpoint.pop_message`;
a bad one (LRC, length, ETX, inter-byte gap) is NAKed. Bytes carry their arrival
time (:meth:`LinkEndpoint.feed`), so an owner that was busy elsewhere and reads
late does not see its own delay as a gap in the peer's frame. A frame with the same
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
    ETX,
    NAK,
    STX,
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
    implicit_acks: int = 0  # sends taken as ACKed because the peer's next frame came
    bad_frames: int = 0
    noise_bytes: int = 0  # stray bytes outside a frame
    discarded_bytes: int = 0  # rest of frames whose length was broken
    withdrawn: int = 0  # frames ended with a wrong LRC on purpose: never sent
    # ACK/NAK received when no written frame of ours awaited one (including a
    # NAK read while its resend is still queued, i.e. one of a burst, and any
    # answer that arrived before our frame went out)
    stray_answers: int = 0
    # good messages received but never asked for, dropped before a new request
    stale_messages: int = 0


class LinkEndpoint:
    """One end of the serial link, with no I/O of its own (see the module docstring).

    All times come from ``clock`` (a :class:`~terminal.clock.FakeClock` in tests).

    Duplicate filter. The link frame has no sequence number, so a resend cannot
    be told from a new message by its bytes. A good frame is treated as a
    duplicate (ACKed again, counted in ``stats.duplicates_dropped``, not
    delivered) exactly when both hold:

    * its DATA equals the DATA of the last frame delivered to :meth:`pop_message`;
    * it arrives no later than ``ack_timeout * max_sends``
      (:attr:`LinkTimers.duplicate_window`) after our last ACK of that frame
      (every ACK, including the one sent for a duplicate, restarts this
      window; any other good frame in between is delivered and replaces the
      frame compared against).

    Why that window: the peer resends a frame only because it missed our ACK,
    and it stops after ``max_sends`` sends spaced ``ack_timeout`` apart, so while
    it may still be resending, identical bytes are most likely a resend and
    must not reach the application twice (a request executed twice). Past the
    window the peer has given up on that send, so identical bytes can only be a
    new message and are delivered. The cost: two genuinely identical messages
    within the window are collapsed into one; the layers above make successive
    messages differ (trace number, time) so this does not happen in practice.
    A duplicate never counts as the implicit ACK of a frame we are sending.
    """

    def __init__(self, timers: LinkTimers | None = None, clock: Clock | None = None) -> None:
        self.timers = timers or LinkTimers()
        self.clock: Clock = clock or MonotonicClock()
        self.stats = LinkStats()
        self._decoder = FrameDecoder(self.timers.inter_byte_timeout)
        self._inbox: deque[bytes] = deque()
        self._state = SendState.IDLE
        self._out = bytearray()  # ACK/NAK bytes to write
        self._frame = b""  # the frame being sent, kept for resends
        self._frame_unwritten = False  # a send queued but not yet handed to data_to_write()
        self._holding = False  # the frame's last byte waits for release()
        self._written_ahead = 0  # bytes of the frame handed out before its last one
        self._sends = 0
        self._seen: list[str] = []
        self._ack_deadline: float | None = None
        self._written_at: float | None = None  # when the current send last went out
        self._last_delivered: bytes | None = None
        self._duplicate_window_end = 0.0

    # -- public API ----------------------------------------------------------

    def feed(self, data: bytes, at: float | None = None, *, since: float | None = None) -> None:
        """Take bytes from the wire that arrived at clock time ``at`` (default: now).

        An owner that reads in one thread and handles in another passes the
        reader's stamp, so that the time it spent elsewhere is not taken for a
        gap in the peer's frame, nor a byte that came before our frame went
        out for the answer to it. An owner that cannot know the arrival (a
        blocking read that returns what piled up) passes the read time as
        ``at`` and the last time it saw its input empty as ``since``: see
        :meth:`terminal.link.frame.FrameDecoder.feed`.
        """
        if not data:
            return
        at = self.clock.now() if at is None else at
        self._handle(self._decoder.feed(data, at, since=since), at)

    def poll(self) -> None:
        """Run the timers: a stalled incoming frame is NAKed, an unanswered send resent.

        After the last send goes unanswered for ``ack_timeout`` the send is FAILED.
        Safe to call at any time; it does nothing when no timer has run out.
        """
        now = self.clock.now()
        self._handle(self._decoder.check_timeout(now), now)
        deadline = self._ack_deadline_if_waiting()
        if deadline is not None and now >= deadline:
            self._seen.append("no answer")
            log.debug("no ACK within %.3f s (send %d)", self.timers.ack_timeout, self._sends)
            self._retry_or_fail()

    def send(self, data: bytes, *, hold_last_byte: bool = False) -> None:
        """Start sending one message; follow it with :attr:`send_state`.

        With ``hold_last_byte`` the frame's last byte (its LRC) is not handed out
        until :meth:`release`; :meth:`withdraw` spoils it instead (see the module
        docstring). Raises :class:`LinkError` while a previous message still
        awaits its ACK (the link carries one frame at a time), and
        :class:`~terminal.link.frame.FrameError` if ``data`` is too long to frame.
        """
        if self._state is SendState.WAITING_ACK:
            raise LinkError("a frame is already awaiting its ACK; one send at a time")
        frame = encode_frame(data)
        self._frame = frame
        self._sends = 0
        self._seen = []
        self._written_at = None
        self._holding = hold_last_byte
        self._written_ahead = 0
        self._state = SendState.WAITING_ACK
        self._transmit()

    @property
    def holding(self) -> bool:
        """True while a frame's last byte is held back (:meth:`send` ``hold_last_byte``)."""
        return self._holding and self._state is SendState.WAITING_ACK

    @property
    def held_data(self) -> bytes:
        """The DATA of the frame whose last byte is held (to send it again whole)."""
        return self._frame[3:-2]

    def release(self) -> None:
        """Let the held last byte go: the frame is complete once it is written, and its
        ACK timer starts then. Does nothing unless a byte is held."""
        if self.holding:
            self._holding = False

    def withdraw(self) -> None:
        """Do not send the message whose last byte is held: end what was handed out of
        its frame with a wrong LRC (the peer NAKs it and acts on nothing), or drop the
        frame if none of it was. The send is then IDLE, not FAILED: nothing was sent, so
        nothing is in doubt. Does nothing unless a byte is held.

        The wrong byte is never STX, ETX, ACK or NAK, so a peer that reads it as
        anything but the LRC still takes it for no more than noise.
        """
        if not self.holding:
            return
        if self._written_ahead:
            right = self._frame[-1]
            wrong = right ^ 0xFF
            if wrong in (STX, ETX, ACK, NAK):
                wrong = right ^ 0x80
            self._out.append(wrong)
        self._holding = False
        self._written_ahead = 0
        self._frame_unwritten = False
        self._ack_deadline = None
        self._state = SendState.IDLE
        self.stats.frames_sent -= 1
        self.stats.withdrawn += 1
        log.debug("frame withdrawn before its last byte: never sent")

    def abort(self) -> None:
        """Give up the message being sent: it is FAILED (in doubt), a new send may start.

        For the owner when its I/O fails mid-send (a port write or read raised):
        the endpoint must not stay WAITING_ACK for a frame nobody drives any more.
        A send still queued is dropped; ACK/NAK bytes owed to the peer are kept.
        Does nothing unless a message awaits its ACK.
        """
        if self._state is not SendState.WAITING_ACK:
            return
        self._state = SendState.FAILED
        self._ack_deadline = None
        self._frame_unwritten = False
        self._holding = False
        self._written_ahead = 0
        log.debug("send aborted by the owner after %d send(s)", self._sends)

    def data_to_write(self) -> bytes:
        """The bytes to put on the wire now (ACK, NAK, then a frame or resend), drained.

        The ACK timer of a frame starts when it is drained here, i.e. when the
        owner writes it, so a late write does not eat into the peer's time.
        """
        out = bytes(self._out)
        self._out.clear()
        if self._frame_unwritten and self._state is SendState.WAITING_ACK:
            if self._holding:
                # All but the last byte; the frame stays unwritten (no ACK timer yet).
                out += self._frame[self._written_ahead:-1]
                self._written_ahead = len(self._frame) - 1
                return out
            self._written_at = self.clock.now()
            self._ack_deadline = self._written_at + self.timers.ack_timeout
            out += self._frame[self._written_ahead:]
            self._written_ahead = 0
        self._frame_unwritten = False
        return out

    def pop_message(self) -> bytes | None:
        """The next good, de-duplicated message received (DATA only), oldest first."""
        return self._inbox.popleft() if self._inbox else None

    def discard_messages(self) -> int:
        """Drop the messages received and not popped; how many (``stats.stale_messages``).

        For an owner about to send a new request: whatever came before it (a
        late answer to an earlier, abandoned request) is not its answer.
        The frames were ACKed when they came, so the peer does not resend them.
        Never delivered, they are no longer what the duplicate filter compares
        against: the same request sent again (a refund resent, a reversal
        retried) gets the same answer again, byte for byte, and that answer is
        the new request's, not a resend of the copy dropped here.
        """
        count = len(self._inbox)
        self._inbox.clear()
        self.stats.stale_messages += count
        if count:
            self._last_delivered = None  # the newest frame received was among them
            log.debug("%d message(s) received before the new request dropped", count)
        return count

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
        if self._state is not SendState.WAITING_ACK or self._holding:
            return None
        return self._ack_deadline

    def _transmit(self) -> None:
        self._sends += 1
        self.stats.frames_sent += 1
        if self._sends > 1:
            self.stats.resends += 1
        self._frame_unwritten = True
        self._ack_deadline = self.clock.now() + self.timers.ack_timeout
        log.debug(
            "frame out: %d data bytes, send %d/%d",
            len(self._frame) - 5,
            self._sends,
            self.timers.max_sends,
        )

    def _answer_can_be_ours(self, arrived: float | None) -> bool:
        """True if an ACK (or the peer's frame) that arrived at ``arrived`` answers our frame.

        It can once a send was written, and only if it arrived after that: the
        peer cannot answer bytes it has not seen. While a resend is queued, only
        if the send before it timed out (a late ACK); not if the peer NAKed it.
        """
        if self._state is not SendState.WAITING_ACK or self._written_at is None:
            return False
        if arrived is not None and arrived < self._written_at:
            return False
        if not self._frame_unwritten:
            return True
        return self._sends > 1 and self._seen[-1] == "no answer"

    def _delivered(self) -> None:
        """Our frame is known to have arrived: stop the timer, drop a resend still queued."""
        if self._frame_unwritten:  # a resend queued, not written: no longer needed
            self._frame_unwritten = False
            self._seen.pop()  # that send was answered after all
            self._sends -= 1
            self.stats.frames_sent -= 1
            self.stats.resends -= 1
        self._state = SendState.DELIVERED
        self._ack_deadline = None

    def _retry_or_fail(self) -> None:
        if self._sends < self.timers.max_sends:
            self._transmit()
        else:
            self._state = SendState.FAILED
            self._ack_deadline = None
            log.debug("send failed after %d sends (%s)", self._sends, ", ".join(self._seen))

    def _handle(self, events: list[LinkEvent], at: float) -> None:
        self.stats.noise_bytes = self._decoder.noise_bytes
        self.stats.discarded_bytes = self._decoder.discarded_bytes
        for event in events:
            if isinstance(event, FrameReceived):
                self._on_frame(event.data, at if event.started_at is None else event.started_at)
            elif isinstance(event, BadFrame):
                self.stats.bad_frames += 1
                self.stats.naks_sent += 1
                self._out.append(NAK)
                log.debug("NAK sent: %s (%s)", event.reason, event.field)
            elif isinstance(event, AckReceived):
                self._on_ack(at)
            elif isinstance(event, NakReceived):
                self._on_nak(at)

    def _on_frame(self, data: bytes, started_at: float) -> None:
        now = self.clock.now()
        self.stats.frames_received += 1
        self.stats.acks_sent += 1
        self._out.append(ACK)
        if data == self._last_delivered and started_at <= self._duplicate_window_end:
            self.stats.duplicates_dropped += 1
            log.debug("duplicate frame (%d data bytes) ACKed again, not delivered", len(data))
        else:
            self._inbox.append(data)
            self._last_delivered = data
            log.debug("frame in: %d data bytes, ACK sent", len(data))
            if self._answer_can_be_ours(started_at):
                # The peer answered our frame, so it got it: its ACK was lost.
                self.stats.implicit_acks += 1
                self._delivered()
                log.debug("frame in while awaiting ACK: taken as ACK (send %d)", self._sends)
        self._duplicate_window_end = now + self.timers.duplicate_window

    def _on_ack(self, at: float) -> None:
        # An ACK read while a resend is queued still answers the send before it.
        if self._answer_can_be_ours(at):
            self.stats.acks_received += 1
            self._delivered()
            log.debug("ACK received (send %d)", self._sends)
        else:
            self.stats.stray_answers += 1
            log.debug("stray ACK ignored (state %s)", self._state.value)

    def _on_nak(self, at: float) -> None:
        # A NAK answers the send last written; while its resend is still queued
        # (a burst of NAKs in one read) there is nothing written for it to answer,
        # and one that arrived before the send went out cannot be about it.
        if (
            self._state is SendState.WAITING_ACK
            and not self._frame_unwritten
            and self._written_at is not None
            and at >= self._written_at
        ):
            self.stats.naks_received += 1
            self._seen.append("NAK")
            log.debug("NAK received (send %d)", self._sends)
            self._retry_or_fail()
        else:
            self.stats.stray_answers += 1
            queued = ", resend still queued" if self._frame_unwritten else ""
            log.debug("stray NAK ignored (state %s%s)", self._state.value, queued)
