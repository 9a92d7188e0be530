"""Layering the code promises: no two packages import each other.

A "package" here is one of ``terminal``'s subpackages or top-level modules
(``terminal.transport``, ``terminal.link``, ``terminal.devices`` …) or the
``simulator``. Every import counts, including one inside a function: the
``sim://`` handler once imported the simulator lazily, and the simulator the
handler's device protocol, which tied the two together all the same.
"""

from __future__ import annotations

import re
from collections import defaultdict
from importlib import metadata

import pytest
import serial
from package_imports import imports, modules

from simulator import SimulatedTerminal
from terminal.devices import ENTRY_POINT_GROUP, DeviceUnavailable, device_factory


def test_no_two_packages_import_each_other() -> None:
    graph = _package_graph()
    cycles = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    assert not cycles, "packages that import each other: " + "; ".join(
        " <-> ".join(group) + f" ({_evidence(group)})" for group in cycles
    )


def test_transport_never_names_the_simulator() -> None:
    offending = [
        f"{found.module}:{found.line} imports {found.target}"
        for module, path in modules()
        if module.startswith("terminal.transport")
        for found in imports(module, path)
        if found.target.split(".")[0] == "simulator"
    ]
    assert not offending


def test_sim_device_is_found_through_the_installed_entry_point() -> None:
    names = {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert names.get("sim") == "simulator.factory:build_device"
    port = serial.serial_for_url("sim://?card=expired", timeout=0)
    try:
        assert isinstance(port.simulator, SimulatedTerminal)
        assert port.simulator.settings.default_card == "expired"
    finally:
        port.close()


def test_sim_port_without_an_installed_device_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # A checkout on sys.path but never pip-installed has no entry points.
    monkeypatch.setattr(metadata, "entry_points", lambda **_: [])
    with pytest.raises(serial.SerialException, match="no simulated device is installed for sim"):
        serial.serial_for_url("sim://", timeout=0)


def test_device_factory_reports_a_device_that_fails_to_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = metadata.EntryPoint("sim", "simulator.no_such_module:build", ENTRY_POINT_GROUP)
    monkeypatch.setattr(metadata, "entry_points", lambda **_: [broken])
    with pytest.raises(DeviceUnavailable, match=re.escape("no_such_module:build failed to load")):
        device_factory("sim")


# -- helpers -----------------------------------------------------------------


def _package_of(module: str, known: set[str]) -> str | None:
    """The package node a dotted name belongs to, or None if it is not ours."""
    while module and module not in known:
        module = module.rpartition(".")[0]
    if not module:
        return None
    parts = module.split(".")
    if parts[0] == "simulator":
        return "simulator"
    return ".".join(parts[:2])


def _edges() -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) -> where, for every import between two packages."""
    found = list(modules())
    known = {name for name, _ in found}
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, path in found:
        source = _package_of(module, known)
        for item in imports(module, path):
            target = _package_of(item.target, known)
            if source and target and target != source:
                edges[(source, target)].append(f"{item.module}:{item.line}")
    return edges


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in _edges():
        graph[source].add(target)
        graph.setdefault(target, set())
    return graph


def _evidence(group: list[str]) -> str:
    edges = _edges()
    return ", ".join(
        f"{a} -> {b} at {edges[(a, b)][0]}" for a in group for b in group if (a, b) in edges
    )


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of packages that can each reach all the others."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            groups.append(group)

    for node in list(graph):
        if node not in index:
            visit(node)
    return groups
