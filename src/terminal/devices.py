"""Simulated devices: what a transport drives, and how a URL scheme finds one.

A transport that carries bytes to a simulated terminal (``sim://`` inside the
POS process, the pty and TCP servers in ``simulator.serve``) needs only four
things of the device: take the bytes the POS wrote, run its timers, give the
bytes it wants to send, and say when its timers next need running. That is
:class:`SimulatedDevice`, defined here, in a module that imports nothing of
either side, so that both depend on it and not on each other.

How ``sim://`` gets a device without importing the package that makes one: a
package announces a factory under the entry-point group ``terminal.devices``,
named for the URL scheme (``sim = "simulator.factory:build_device"`` in
``pyproject.toml``), and :func:`device_factory` loads it when a port is opened.
The simulator may then import the link and protocol layers freely; the
transport never imports the simulator, so no cycle can form. There is no
registry to mutate: a test that wants its own device passes it (or a factory)
to the port directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

from terminal.clock import Clock
from terminal.errors import ConfigError

__all__ = [
    "ENTRY_POINT_GROUP",
    "DeviceFactory",
    "DeviceUnavailable",
    "SimulatedDevice",
    "device_factory",
]

#: The entry-point group a device package registers its factories under.
ENTRY_POINT_GROUP = "terminal.devices"


@runtime_checkable
class SimulatedDevice(Protocol):
    """A device with no I/O of its own: bytes in, timers polled, bytes out.

    ``feed(data, at)`` takes bytes that arrived at clock time ``at`` (``None``:
    now). A transport that reads in one thread and feeds in another passes the
    reader's stamp, so a device that judges the gaps between bytes (a link's
    inter-byte timer) judges them as they were on the wire, however long the
    transport took to hand them over. A device may also have
    ``disconnected()``, called when its POS goes away.
    """

    def feed(self, data: bytes, at: float | None = None) -> Any: ...

    def poll(self) -> Any: ...

    def read_output(self) -> bytes: ...

    def next_deadline(self) -> float | None: ...


class DeviceFactory(Protocol):
    """Builds a device from the options of its URL (``sim://?card=expired``).

    Raises :class:`~terminal.errors.TerminalError` (or ``OSError``,
    ``ValueError``) with a reason a person can act on when it cannot.
    """

    def __call__(self, options: Mapping[str, str], *, clock: Clock) -> SimulatedDevice: ...


class DeviceUnavailable(ConfigError):
    """No package provides a device for the scheme, or the one that does failed to load."""


def device_factory(scheme: str) -> DeviceFactory:
    """The factory registered for ``scheme`` under :data:`ENTRY_POINT_GROUP`.

    Raises :class:`DeviceUnavailable` when none is installed (say, the package
    was put on ``sys.path`` without being installed, so its entry points are
    unknown) or when importing it fails, with the reason.
    """
    found = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == scheme]
    if not found:
        raise DeviceUnavailable(
            f"no simulated device is installed for {scheme}://: a package must register one "
            f"under the {ENTRY_POINT_GROUP!r} entry points (pip install the simulator)"
        )
    entry = found[0]
    try:
        factory = entry.load()
    except Exception as exc:  # an import error deep in the device package, say
        raise DeviceUnavailable(
            f"the {scheme}:// device {entry.value} failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if not callable(factory):
        raise DeviceUnavailable(f"the {scheme}:// device {entry.value} is not callable")
    return factory
