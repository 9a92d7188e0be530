"""Every simulated device speaks the whole device protocol of ``terminal.devices``.

The pty and TCP servers call ``device.feed(data, at)`` with the reader's arrival
stamp; a device written with ``feed(self, data)`` would pass its own tests and
kill a server at the first byte. Found by reading the source: a class with
``feed``, ``poll``, ``read_output`` and ``next_deadline`` is a device.
"""

from __future__ import annotations

import ast

from package_imports import ROOT, modules

DEVICE_METHODS = {"feed", "poll", "read_output", "next_deadline"}


def test_every_device_feed_takes_the_arrival_time() -> None:
    paths = [path for _, path in modules()] + sorted((ROOT / "tests").rglob("*.py"))
    devices, wrong = [], []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            methods = {
                item.name: item for item in node.body if isinstance(item, ast.FunctionDef)
            }
            if not DEVICE_METHODS.issubset(methods):
                continue
            devices.append(node.name)
            arguments = methods["feed"].args
            names = [a.arg for a in arguments.args + arguments.kwonlyargs]
            if names[:3] != ["self", "data", "at"]:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}.feed{names}")
    # The scan found the devices at all (the simulator's and the replay's byte path).
    assert "LinkedDevice" in devices
    assert not wrong, "feed(self, data, at=None) expected: " + "; ".join(wrong)
