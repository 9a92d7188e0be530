"""The virtual printer behind a pty (a serial printer) or a TCP port (a 9100 printer).

The serving loops are the virtual terminal's (:mod:`simulator.serve`): the
printer is a device of the same shape (``feed``/``poll``/``read_output``/
``next_deadline``). These classes only name the address the way a printer URL
does: ``serial:///dev/pts/5``, ``tcp://127.0.0.1:9100``.
"""

from __future__ import annotations

from simulator.serve import PtySimulator, TcpSimulator

__all__ = ["PtyPrinter", "TcpPrinter"]


class PtyPrinter(PtySimulator):
    """``with PtyPrinter(VirtualPrinter()) as p: open_printer(p.url)``."""

    _thread_name = "printer-pty"

    @property
    def url(self) -> str:
        return f"serial://{self.path}"

    def __enter__(self) -> PtyPrinter:
        self.start()
        return self


class TcpPrinter(TcpSimulator):
    """``with TcpPrinter(VirtualPrinter(), port=9100) as p: open_printer(p.url)``."""

    _thread_name = "printer-tcp"

    @property
    def url(self) -> str:
        return "tcp://" + super().url.removeprefix("socket://")

    def __enter__(self) -> TcpPrinter:
        self.start()
        return self
