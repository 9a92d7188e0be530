"""Serve a simulated terminal on a pseudo-terminal or a TCP port, for a separate POS program.

``sim://`` runs the device inside the POS process; this module puts it at the
end of something another process can open: a pty slave (``/dev/pts/5``, opened
exactly like a USB serial adapter) or a TCP port (``socket://127.0.0.1:5000``
in pyserial terms). The device itself is the same transport-free object
(``feed`` / ``poll`` / ``read_output`` / ``next_deadline``); these loops only
move bytes and wake the device at its deadlines.

Reading has a thread of its own. It does nothing but wait for bytes, stamp each
chunk with the clock the moment its read returns, and queue it; the loop that
drives the device feeds every chunk with its stamp (``device.feed(data, at)``).
So however long the device takes over a request (booking it in its ledger, a
flood of them queued up), the POS's bytes are read as they come, and the
device judges the gaps inside a frame as they were on the wire, not as late as
the loop got round to them: a frame written in one go is never NAKed for an
"inter-byte timeout" that was the simulator's own stall.

The loops run in the calling thread until ``stop`` is set. :class:`PtySimulator`
and :class:`TcpSimulator` run them in a daemon thread for tests and demos and
stop, join and close everything on exit. A failure of the device (its ledger,
say) or of the reader ends the loop with that exception, in the calling thread.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import select
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import TracebackType

from simulator.timer_slack import tighten_timer_slack
from terminal.clock import Clock, MonotonicClock
from terminal.devices import SimulatedDevice

__all__ = [
    "PtySimulator",
    "SimulatedDevice",
    "TcpSimulator",
    "make_raw",
    "serve_pty",
    "serve_tcp",
]

log = logging.getLogger("simulator.serve")

# Longest time a loop (or its reader) sleeps in select() before it looks at
# ``stop`` again: the bound on how long stopping takes.
STOP_CHECK = 0.05
_READ_SIZE = 4096
# How long the loop sleeps on a deadline the device was already polled at and
# still reports: it has nothing to do then, and must not turn the loop into a spin.
_STUCK_WAIT = 0.001


def make_raw(fd: int) -> None:
    """Put a tty in raw mode: 8 data bits, no echo, no line editing, no CR/LF or XON/XOFF.

    Why all of it: a CUP frame is binary. ETX is 0x03 (Ctrl-C to a cooked tty),
    0x11/0x13 are XON/XOFF, 0x0D would become 0x0A, and an echo would hand the
    POS its own request back as if the terminal had sent it. This is
    ``cfmakeraw``; ``tty.setraw`` leaves IXOFF, INLCR and IGNCR alone.

    ``termios`` is imported here, not with the module: it does not exist on
    Windows, where the TCP server in this module must still load.
    """
    import termios

    attrs = termios.tcgetattr(fd)
    iflag, oflag, cflag, lflag = attrs[0], attrs[1], attrs[2], attrs[3]
    iflag &= ~(
        termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR
        | termios.IGNCR | termios.ICRNL | termios.IXON | termios.IXOFF | termios.IXANY
        | termios.INPCK
    )
    oflag &= ~termios.OPOST
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    cflag &= ~(termios.CSIZE | termios.PARENB)
    cflag |= termios.CS8
    attrs[0], attrs[1], attrs[2], attrs[3] = iflag, oflag, cflag, lflag
    cc = list(attrs[6])
    cc[termios.VMIN] = 1
    cc[termios.VTIME] = 0
    attrs[6] = cc
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def serve_pty(
    device: SimulatedDevice,
    *,
    stop: threading.Event,
    on_ready: Callable[[str], None],
    clock: Clock | None = None,
) -> None:
    """Run ``device`` behind a new pty until ``stop`` is set; ``on_ready(slave_path)``.

    The slave is made raw before its path is published, so no POS program can
    open it in cooked mode first. This loop keeps its own slave descriptor
    open for its whole life: the POS may close and reopen the path (each
    ``terminal sale`` is a new process) without the master seeing a hang-up.
    ``clock`` must be the device's clock (it stamps arrivals and converts
    deadlines into waits).
    """
    clock = clock or MonotonicClock()
    tighten_timer_slack()  # before the reader thread starts: it inherits the setting
    master, slave = os.openpty()
    try:
        make_raw(slave)
        os.set_blocking(master, False)
        path = os.ttyname(slave)
        with _Inbox() as inbox, _reading("pty", _PtyReader(master, inbox, clock)):
            log.info("simulated terminal on %s", path)
            on_ready(path)
            pending = b""
            waits = _Waits(device, clock)
            while not stop.is_set():
                while items := inbox.take():  # all of it: see _Inbox.take
                    for item in items:
                        if isinstance(item, _Chunk):
                            device.feed(item.data, item.at)
                device.poll()
                pending += device.read_output()
                if pending:
                    pending = pending[_write_some(master, pending) :]
                writers = [master] if pending else []
                select.select([inbox], writers, [], waits.next())
    finally:
        os.close(master)
        os.close(slave)


def serve_tcp(
    device: SimulatedDevice,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    stop: threading.Event,
    on_ready: Callable[[str], None],
    clock: Clock | None = None,
) -> None:
    """Run ``device`` behind a TCP port until ``stop`` is set; ``on_ready("socket://h:p")``.

    One POS connection at a time, as on a serial cable, and a new connection
    replaces the current one, like plugging the cable into another POS: the
    old socket is closed and whatever was still to be sent to it is dropped
    (a device with a ``disconnected()`` method is told, on every disconnect).
    So a POS that gave up without closing (or is merely idle) never keeps the
    next one waiting in the backlog, and no stale request queued behind it is
    answered later. Only the current client's bytes reach the device, in the
    order they came: what the old client sent before the newcomer was accepted
    still belongs to its exchange. Port 0 picks a free port; the URL given to
    ``on_ready`` has the real one. What the device sends while no POS is
    connected is dropped, as on an unplugged cable.
    """
    clock = clock or MonotonicClock()
    tighten_timer_slack()  # before the reader thread starts: it inherits the setting
    listener = socket.create_server((host, port), backlog=4)
    try:
        listener.setblocking(False)
        bound_host, bound_port = listener.getsockname()[:2]
        url = f"socket://{_url_host(bound_host)}:{bound_port}"
        with _Inbox() as inbox:
            reader = _TcpReader(listener, inbox, clock)
            connection = _Connection(device)
            waits = _Waits(device, clock)
            try:
                with _reading("tcp", reader):
                    log.info("simulated terminal on %s", url)
                    on_ready(url)
                    while not stop.is_set():
                        while items := inbox.take():  # all of it: see _Inbox.take
                            for item in items:
                                connection.handle(item)
                        device.poll()
                        connection.send(device.read_output())
                        writers = connection.writers()
                        select.select([inbox], writers, [], waits.next())
            finally:
                # The reader has stopped: close every socket it ever handed over.
                leftovers = [
                    i.client for i in inbox.leftovers() if isinstance(i, _Connected | _Gone)
                ]
                for client in (connection.client, reader.client, *leftovers):
                    if client is not None:
                        client.close()
    finally:
        listener.close()


class _Connection:
    """The TCP loop's side of the current POS connection: what goes out, and to whom."""

    def __init__(self, device: SimulatedDevice) -> None:
        self.device = device
        self.client: socket.socket | None = None
        self.pending = b""

    def handle(self, item: _Item) -> None:
        """Apply one thing the reader saw, in the order it saw them."""
        if isinstance(item, _Chunk):
            if item.source is self.client:
                self.device.feed(item.data, item.at)
        elif isinstance(item, _Connected):
            if self.client is not None:
                log.info("new POS connection replaces the current one")
                self._forget()
            self.client = item.client
        elif isinstance(item, _Gone):
            if item.client is self.client:
                log.info("POS disconnected")
                self._forget()
            item.client.close()

    def send(self, out: bytes) -> None:
        """Queue ``out`` for the POS and send what the socket takes now."""
        if self.client is None:
            if out:
                log.debug("no POS connected; dropped %d bytes", len(out))
            return
        self.pending += out
        if not self.pending:
            return
        try:
            self.pending = self.pending[self.client.send(self.pending) :]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as exc:
            log.info("POS connection lost while sending: %s", exc)
            # Ends the reader's recv too, which then reports the socket _Gone (closed then).
            _shutdown(self.client)
            self._forget()

    def writers(self) -> list[socket.socket]:
        return [self.client] if self.client is not None and self.pending else []

    def _forget(self) -> None:
        """Drop the current POS: unsent bytes go, and the device is told, if it asks to be.

        ``SimulatedTerminal.disconnected`` drops what it was still sending (or
        resending) to that POS, so none of it reaches the next connection.
        """
        if self.pending:
            log.debug("dropped %d bytes for the POS that went away", len(self.pending))
        self.client, self.pending = None, b""
        disconnected = getattr(self.device, "disconnected", None)
        if callable(disconnected):
            disconnected()


# -- reading, in a thread of its own ---------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class _Chunk:
    """Bytes read, stamped with the clock when the read returned; ``source`` for TCP."""

    data: bytes
    at: float
    source: socket.socket | None = None


@dataclass(frozen=True, slots=True)
class _Connected:
    """A POS connected; it replaces the current one."""

    client: socket.socket


@dataclass(frozen=True, slots=True)
class _Gone:
    """The reader stopped reading ``client`` (end of stream, error, or replaced by another)."""

    client: socket.socket


@dataclass(frozen=True, slots=True)
class _Failed:
    """The reader failed; the loop raises ``error``."""

    error: BaseException


_Item = _Chunk | _Connected | _Gone | _Failed


class _Inbox:
    """What the reader thread hands the loop, in order, and a socket that wakes the loop.

    ``select([inbox], ...)`` returns once something was put; :meth:`take`
    returns everything put so far and raises what the reader failed with.
    A socket pair rather than a pipe: ``select`` on Windows takes sockets only.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)

    def put(self, item: _Item) -> None:
        self._queue.put(item)
        # OSError: full of wake-ups already, so the loop is about to look anyway.
        with suppress(OSError):
            self._wake_write.send(b"\0")

    def take(self) -> list[_Item]:
        """Everything put so far, oldest first; raises the error of a failed reader.

        The loop takes until nothing is left before it runs the device's timers:
        bytes that came while it was feeding earlier ones (a slow booking) must be
        fed before ``poll`` judges that a frame has stalled or an ACK is overdue.
        """
        items = self.leftovers()
        for item in items:
            if isinstance(item, _Failed):
                raise item.error
        return items

    def leftovers(self) -> list[_Item]:
        """Everything put so far, failures included (for cleaning up)."""
        try:
            while self._wake_read.recv(_READ_SIZE):
                pass
        except OSError:  # nothing more to read (BlockingIOError) or closed
            pass
        items: list[_Item] = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items

    def fileno(self) -> int:
        return self._wake_read.fileno()

    def __enter__(self) -> _Inbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self._wake_read.close()
        self._wake_write.close()


class _Reader:
    """The body of a reader thread: :meth:`step` until halted; a failure goes to the loop."""

    def __init__(self, inbox: _Inbox, clock: Clock) -> None:
        self.inbox = inbox
        self.clock = clock

    def step(self) -> None:
        """Wait at most STOP_CHECK for something to read, and queue it, stamped."""
        raise NotImplementedError

    def run(self, halt: threading.Event) -> None:
        try:
            while not halt.is_set():
                self.step()
        except BaseException as exc:  # handed to the loop, which raises it
            self.inbox.put(_Failed(exc))


class _PtyReader(_Reader):
    """Reads the pty master as the POS's bytes come."""

    def __init__(self, master: int, inbox: _Inbox, clock: Clock) -> None:
        super().__init__(inbox, clock)
        self.master = master

    def step(self) -> None:
        ready, _, _ = select.select([self.master], [], [], STOP_CHECK)
        if ready:
            data = _read_some(self.master)
            if data:
                self.inbox.put(_Chunk(data, self.clock.now()))


class _TcpReader(_Reader):
    """Accepts POS connections and reads the current one; the newest replaces the old.

    It never closes a socket: the loop does, once it has taken the ``_Gone``.
    """

    def __init__(self, listener: socket.socket, inbox: _Inbox, clock: Clock) -> None:
        super().__init__(inbox, clock)
        self.listener = listener
        self.client: socket.socket | None = None

    def step(self) -> None:
        watched = [self.listener] if self.client is None else [self.client, self.listener]
        ready, _, _ = select.select(watched, [], [], STOP_CHECK)
        client = self.client
        # The current client first: what it sent came before the newcomer was noticed.
        if client is not None and client in ready:
            data: bytes | None
            try:
                data = client.recv(_READ_SIZE)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError as exc:
                log.info("POS connection lost: %s", exc)
                data = b""
            if data:
                self.inbox.put(_Chunk(data, self.clock.now(), client))
            elif data is not None:
                self.client = None
                self.inbox.put(_Gone(client))
        if self.listener in ready:
            newcomer = _accept(self.listener)
            if newcomer is not None:
                if self.client is not None:
                    self.inbox.put(_Gone(self.client))
                self.client = newcomer
                self.inbox.put(_Connected(newcomer))


@contextmanager
def _reading(name: str, reader: _Reader) -> Iterator[None]:
    """Run ``reader`` in a thread for the duration; stop and join it on the way out."""
    halt = threading.Event()
    thread = threading.Thread(
        target=reader.run, args=(halt,), name=f"simulator-{name}-reader", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        halt.set()
        thread.join()


class _Served:
    """Runs a serve loop in a daemon thread; the base of the two context managers."""

    _thread_name = "simulator"

    def __init__(self, device: SimulatedDevice, *, clock: Clock | None, ready_timeout: float):
        self.device = device
        self.clock = clock
        self.ready_timeout = ready_timeout
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._address: str | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def _serve(self, stop: threading.Event, on_ready: Callable[[str], None]) -> None:
        raise NotImplementedError

    def _on_ready(self, address: str) -> None:
        self._address = address
        self._ready.set()

    def _run(self) -> None:
        try:
            self._serve(self._stop, self._on_ready)
        except BaseException as exc:  # reported to the owner in __enter__/__exit__
            self._error = exc
        finally:
            self._ready.set()

    def start(self) -> str:
        """Start the loop and return the address once it is ready to be opened."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()
        if not self._ready.wait(self.ready_timeout):
            self.stop()
            raise TimeoutError(f"{self._thread_name} not ready within {self.ready_timeout}s")
        if self._error is not None or self._address is None:
            error, self._error = self._error, None
            self.stop()
            raise RuntimeError(f"{self._thread_name} failed to start: {error}") from error
        return self._address

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and wait for it; its descriptors are closed when this returns."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError(f"{self._thread_name} did not stop within {timeout}s")
        error, self._error = self._error, None
        if error is not None and self._address is not None:
            raise RuntimeError(f"{self._thread_name} loop failed") from error

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class PtySimulator(_Served):
    """``with PtySimulator(device) as sim: open(sim.path)`` — a device on a raw pty."""

    _thread_name = "simulator-pty"

    def __init__(
        self, device: SimulatedDevice, *, clock: Clock | None = None, ready_timeout: float = 5.0
    ) -> None:
        super().__init__(device, clock=clock, ready_timeout=ready_timeout)

    @property
    def path(self) -> str:
        """The pty slave path a POS program opens (``/dev/pts/N``)."""
        if self._address is None:
            raise RuntimeError("not started")
        return self._address

    def _serve(self, stop: threading.Event, on_ready: Callable[[str], None]) -> None:
        serve_pty(self.device, stop=stop, on_ready=on_ready, clock=self.clock)

    def __enter__(self) -> PtySimulator:
        self.start()
        return self


class TcpSimulator(_Served):
    """``with TcpSimulator(device) as sim: serial_for_url(sim.url)`` — a device on TCP."""

    _thread_name = "simulator-tcp"

    def __init__(
        self,
        device: SimulatedDevice,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Clock | None = None,
        ready_timeout: float = 5.0,
    ) -> None:
        super().__init__(device, clock=clock, ready_timeout=ready_timeout)
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """``socket://host:port`` with the port actually bound."""
        if self._address is None:
            raise RuntimeError("not started")
        return self._address

    def _serve(self, stop: threading.Event, on_ready: Callable[[str], None]) -> None:
        serve_tcp(self.device, self.host, self.port, stop=stop, on_ready=on_ready, clock=self.clock)

    def __enter__(self) -> TcpSimulator:
        self.start()
        return self


class _Waits:
    """How long the loop may sleep in select(): until the device's next deadline, exactly.

    Exactly, because the loop is what makes the device keep time: a paced line
    hands the last byte of a frame over at its deadline, and every millisecond
    the loop oversleeps is a millisecond added to the exchange. Bytes from the
    POS wake the loop anyway (the reader's inbox is in the select).

    A deadline already past gets one immediate look (it may have come due
    between the device's ``poll`` and this call). If the device still reports
    it after that look, it is not going to act on it now: the loop then sleeps
    :data:`_STUCK_WAIT` rather than spin.
    """

    def __init__(self, device: SimulatedDevice, clock: Clock) -> None:
        self.device = device
        self.clock = clock
        self._overdue: float | None = None  # a past deadline given its immediate look

    def next(self) -> float:
        """Seconds to sleep now, at most STOP_CHECK."""
        deadline = self.device.next_deadline()
        if deadline is None:
            self._overdue = None
            return STOP_CHECK
        left = deadline - self.clock.now()
        if left > 0:
            self._overdue = None
            return min(left, STOP_CHECK)
        if deadline == self._overdue:
            return _STUCK_WAIT
        self._overdue = deadline
        return 0.0


def _read_some(fd: int) -> bytes:
    try:
        return os.read(fd, _READ_SIZE)
    except BlockingIOError:
        return b""
    except OSError as exc:
        # EIO: no slave descriptor open. Ours stays open, so this is transient.
        if exc.errno == errno.EIO:
            return b""
        raise


def _write_some(fd: int, data: bytes) -> int:
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0


def _accept(listener: socket.socket) -> socket.socket | None:
    try:
        client, peer = listener.accept()
    except (BlockingIOError, InterruptedError):
        return None
    client.setblocking(False)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    log.info("POS connected from %s", peer)
    return client


def _shutdown(client: socket.socket) -> None:
    with suppress(OSError):  # already disconnected
        client.shutdown(socket.SHUT_RDWR)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
