"""The blocking link over a serial port: what the POS host's code calls.

:class:`SerialLink` drives a :class:`~terminal.link.endpoint.LinkEndpoint` over
any pyserial-like port (``read(size)``, ``write(data)``, a ``timeout``
attribute, ``in_waiting``), e.g. ``serial.serial_for_url("sim://")`` or a real
``/dev/ttyUSB0``. It knows nothing of what the port is.

Every deadline is taken from the injected clock. Each read blocks until a byte
comes or the next timer is due (``port.timeout`` set to the time left, at most
:data:`READ_SLICE`, so Ctrl-C is seen on every platform), and returns with the
first byte: the link never waits out a slice while bytes are waiting. A fake
port paired with a :class:`~terminal.clock.FakeClock` advances the clock by the
timeout instead of sleeping.

A request may go out in two steps (:meth:`SerialLink.start`, then
:meth:`SerialLink.finish`): all of its frame but the last byte first, so that
the line carries those bytes while the host journals the request; the last
byte only once the journal has committed it. A frame held longer than half the
inter-byte limit (the terminal may have dropped it as stalled by then) is
spoiled and sent again whole, so a slow disk costs a few milliseconds, never an
ACK timeout.

Two rules keep a busy or flooded line from fooling the host:

* Before each request, what is already waiting on the port is read and put
  aside: ACKs the terminal sent for earlier frames, late answers to abandoned
  requests. Only bytes read after our frame went out can be its ACK.
* A frame from the terminal is only called stalled when the port was seen
  empty for longer than the inter-byte limit. A pyserial read does not say
  when its bytes arrived; if this process was descheduled between two reads
  (a loaded PC) the rest of a frame may be waiting, and that is no gap.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Protocol

from terminal.clock import Clock
from terminal.errors import LinkError, LinkTimeout
from terminal.link.endpoint import LinkEndpoint, SendState
from terminal.link.timers import LinkTimers

__all__ = ["READ_SLICE", "SPOILED_NAK_WAIT", "SerialLink", "SerialPortLike"]

log = logging.getLogger("terminal.link")

#: Longest single blocking read, in seconds.
READ_SLICE = 0.05
#: How long a frame spoiled on purpose waits for the terminal's NAK before it is sent
#: again whole (the terminal NAKs a wrong LRC as soon as it reads it).
SPOILED_NAK_WAIT = 0.05


class SerialPortLike(Protocol):
    """The part of :class:`serial.Serial` the link uses."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...


class SerialLink:
    """Send and receive whole messages over a serial port, one frame at a time.

    Not thread-safe: one caller drives it. Frames that arrive while it waits for
    an ACK (a response right behind the ACK, in the same read) are ACKed and kept
    for the next :meth:`receive`.
    """

    def __init__(
        self,
        port: SerialPortLike | Any,
        timers: LinkTimers | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.port = port
        self.endpoint = LinkEndpoint(timers, clock)
        self.timers = self.endpoint.timers
        self.clock = self.endpoint.clock
        self._closed = False
        self._held_since = 0.0  # when start() wrote the frame whose last byte is held
        # The last time the port was seen with nothing waiting: bytes read since
        # arrived after it (the earliest arrival a late read can vouch for).
        self._seen_empty_at = float("-inf")

    def send(self, data: bytes) -> None:
        """Frame ``data``, write it and wait for the ACK, resending on NAK or silence.

        Returns once the peer ACKed. Raises :class:`~terminal.link.endpoint.SendFailed`
        (a :class:`LinkError`) after ``max_sends`` sends without an ACK; its message
        says how many sends went out and what each got back. The message is then
        in doubt: the peer may have received it and only the ACK was lost.

        A port that fails meanwhile raises :class:`LinkError` (the cause chained);
        whatever interrupts the send (that, or ``KeyboardInterrupt``) leaves the
        message FAILED, in doubt, and the link ready for the next :meth:`send`.

        First, whatever is already waiting on the port is read (frames in it
        are ACKed so the terminal stops resending them) and dropped with any
        message not yet received: none of it can answer this request.
        """
        self._discard_stale()
        self.endpoint.send(data)
        self._await_ack()

    def start(self, data: bytes) -> None:
        """Write the frame of ``data`` but its last byte; :meth:`finish` sends the rest
        and waits for the ACK, :meth:`withdraw` makes sure it is never sent.

        For a caller that may send ``data`` only after something else is done
        (the host's journal commits the request first): a frame without its LRC
        is nothing the terminal can act on, and its bytes travel meanwhile.
        What is waiting on the port is put aside first, as by :meth:`send`.
        A port that fails raises :class:`LinkError`: then nothing was sent.
        """
        self._discard_stale()
        self.endpoint.send(data, hold_last_byte=True)
        self._held_since = self.clock.now()
        try:
            self._flush()
        except BaseException:
            self.endpoint.abort()
            raise

    def finish(self) -> None:
        """Send the last byte of the frame :meth:`start` began and wait for the ACK, as
        :meth:`send` does (same errors: after this the message may be in doubt).

        Held longer than half the inter-byte limit, the frame may have been dropped
        by the terminal as stalled: it is spoiled (:meth:`withdraw`) and sent again
        whole instead, as a first send.
        """
        endpoint = self.endpoint
        if not endpoint.holding:
            raise LinkError("no frame was started: start() comes before finish()")
        held = self.clock.now() - self._held_since
        if held <= self.timers.inter_byte_timeout / 2:
            endpoint.release()
            self._await_ack()
            return
        log.info("frame held %.0f ms waiting for the journal: sent again whole", held * 1000)
        data = endpoint.held_data
        self.withdraw()
        # The terminal NAKs the spoiled frame at once; read that NAK now, or it would
        # be taken for the answer to the frame sent next.
        settled = self.clock.now() + min(SPOILED_NAK_WAIT, self.timers.ack_timeout / 2)
        while self.clock.now() < settled:
            self._pump(until=settled)
        self.send(data)

    def withdraw(self) -> None:
        """Make sure the frame :meth:`start` began is never sent: its last byte is
        replaced by a wrong one, which the terminal NAKs. Never raises: it is called
        while something else has gone wrong, and a port that cannot take the byte
        leaves the terminal to drop the unfinished frame after its inter-byte limit."""
        self.endpoint.withdraw()
        try:
            self._flush()
        except LinkError as exc:
            log.warning("withdrawing an unfinished frame: %s", exc)

    def _await_ack(self) -> None:
        endpoint = self.endpoint
        try:
            self._flush()
            while endpoint.send_state is SendState.WAITING_ACK:
                self._pump(until=None)
        except BaseException:
            endpoint.abort()
            raise
        if endpoint.send_state is SendState.FAILED:
            raise endpoint.failure()

    def receive(self, timeout: float | None = None) -> bytes:
        """The next message received (already ACKed), DATA only.

        Waits at most ``timeout`` seconds (default ``timers.response_timeout``),
        then raises :class:`LinkTimeout`. A message that arrived earlier (for
        instance right behind an ACK) is returned at once.
        """
        wait = self.timers.response_timeout if timeout is None else timeout
        deadline = self.clock.now() + wait
        pumped = False
        while True:
            message = self.endpoint.pop_message()
            if message is not None:
                self._flush()
                return message
            if pumped and self.clock.now() >= deadline:
                partly = " (part of a frame arrived)" if self.endpoint.receiving else ""
                raise LinkTimeout(f"no message within {wait:g} s{partly}")
            self._pump(until=deadline)
            pumped = True

    def exchange(self, request: bytes, timeout: float | None = None) -> bytes:
        """Send ``request`` and return the next message received (the response)."""
        self.send(request)
        return self.receive(timeout)

    def close(self) -> None:
        """Close the port; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        close = getattr(self.port, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> SerialLink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------

    def _discard_stale(self) -> None:
        """Read what is waiting now, ACK the frames in it, drop them and unread messages."""
        try:
            waiting = self.port.in_waiting
            while waiting > 0:
                chunk = self.port.read(waiting)
                if not chunk:
                    break
                waiting -= len(chunk)
                self.endpoint.feed(chunk, self.clock.now(), since=self._seen_empty_at)
        except Exception as exc:
            raise LinkError(f"reading the port failed: {_describe(exc)}") from exc
        dropped = self.endpoint.discard_messages()
        if dropped:
            log.info("%d earlier message(s) dropped before a new request", dropped)
        self._flush()

    def _pump(self, until: float | None) -> None:
        """One read (blocking until a byte comes, at most the time to the next deadline,
        at most :data:`READ_SLICE`), then the timers, then write whatever the endpoint has.

        A read that blocked returns as soon as the first byte is in; the rest
        of what has come by then is taken in the same step (``in_waiting``), so
        a frame's tail is fed, ACKed and answered without another trip round
        the loop.
        """
        now = self.clock.now()
        limits = [d for d in (self.endpoint.next_deadline(), until) if d is not None]
        wait = READ_SLICE
        if limits:
            wait = max(0.0, min(wait, min(limits) - now))
        try:
            if self.port.timeout != wait:  # pyserial reconfigures the tty on every set
                self.port.timeout = wait
            waiting = self.port.in_waiting
            if waiting:
                chunk = self.port.read(waiting)
            else:
                self._seen_empty_at = now
                chunk = self.port.read(1)
                if chunk:
                    more = self.port.in_waiting
                    if more:
                        chunk += self.port.read(more)
        except Exception as exc:  # serial.SerialException is an OSError; any is the port's
            raise LinkError(f"reading the port failed: {_describe(exc)}") from exc
        if chunk:
            log.debug("read %d bytes", len(chunk))
            self.endpoint.feed(chunk, self.clock.now(), since=self._seen_empty_at)
        self.endpoint.poll()
        self._flush()

    def _flush(self) -> None:
        out = self.endpoint.data_to_write()
        if not out:
            return
        try:
            self.port.write(out)
        except Exception as exc:
            raise LinkError(f"writing the port failed: {_describe(exc)}") from exc


def _describe(exc: Exception) -> str:
    """``exc`` for a message; names the type when it is not an OSError, for a bug's sake."""
    return str(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
