"""Windows shop PCs: ``terminal``, its CLI and ``simulator`` load without POSIX-only modules.

Two proofs. The source check reads every module's imports (AST) and refuses a
POSIX-only one that runs when the module loads. The run check starts a Python
in which those modules cannot be imported at all (a meta-path finder refuses
them, and pyserial's own POSIX backend, which needs them on Linux, is replaced
by a stub as ``serialwin32`` would be on Windows), imports every package and
runs a sale on ``sim://`` with the simulator's books in a file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from package_imports import ROOT, imports, modules

from simulator import Ledger

POSIX_ONLY = frozenset({"fcntl", "termios", "pty", "tty"})


def test_no_posix_only_module_is_imported_when_a_module_loads() -> None:
    offending = [
        f"{found.module}:{found.line} imports {found.target}"
        for module, path in modules()
        for found in imports(module, path)
        if found.at_load and found.target.split(".")[0] in POSIX_ONLY
    ]
    assert not offending


def test_cli_and_simulator_work_where_posix_modules_do_not_exist(tmp_path: Path) -> None:
    ledger = tmp_path / "books.sqlite"
    completed = subprocess.run(
        [sys.executable, "-c", _BLOCKED_RUN, str(ledger)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout.splitlines()[-1])
    assert report["sale_exit_code"] == 0, completed.stderr
    assert report["refused"] == sorted(POSIX_ONLY)  # the finder really was in the way
    assert report["posix_modules_loaded"] == []
    books = Ledger(ledger)
    try:
        assert [entry.amount for entry in books.entries()] == [1234]
    finally:
        books.close()


_BLOCKED_RUN = textwrap.dedent(
    """
    import contextlib, importlib.abc, importlib.machinery, io, json, sys
    BLOCKED = {"fcntl", "termios", "pty", "tty"}
    refused = set()

    class RefusePosix(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                refused.add(name.partition(".")[0])
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            if name == "serial.serialposix":
                return importlib.machinery.ModuleSpec(name, StubBackend())
            return None

    class StubBackend(importlib.abc.Loader):
        # pyserial's serial/__init__ picks its backend by os.name; on Windows it is
        # serialwin32. Here a SerialBase subclass that opens nothing stands in.
        def create_module(self, spec):
            return None

        def exec_module(self, module):
            from serial.serialutil import SerialBase, SerialException

            class Serial(SerialBase):
                def open(self):
                    raise SerialException("no serial ports in this test")

            module.Serial = module.PosixPollSerial = module.VTIMESerial = Serial

    for name in list(sys.modules):
        if name.partition(".")[0] in BLOCKED:
            del sys.modules[name]
    sys.meta_path.insert(0, RefusePosix())
    for name in BLOCKED:  # prove the finder is in the way before relying on it
        with contextlib.suppress(ImportError):
            __import__(name)

    import terminal, terminal.cli.app, terminal.transport.protocol_sim  # noqa: E401
    import simulator, simulator.serve, simulator.factory  # noqa: E401
    from terminal.cli.app import main

    sys.argv = ["terminal", "sale", "12.34", "--json", "--port", "sim://?ledger=" + sys.argv[1]]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code
    print(json.dumps({
        "sale_exit_code": code,
        "refused": sorted(refused),
        "posix_modules_loaded": sorted(BLOCKED & set(sys.modules)),
    }))
    """
)
