"""Library code reads no environment variable and finds no config file: the CLI resolves.

``docs/architecture.md`` promises it; ``sim://``, ``open_port``, ``card_data``
and ``state`` once broke it (the last two imported typer to find a path).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import serial

from terminal.transport import open_port

SRC = Path(__file__).resolve().parents[2] / "src" / "terminal"
LIBRARY = sorted(p for p in SRC.rglob("*.py") if "cli" not in p.relative_to(SRC).parts)


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            found.append(f"line {node.lineno}: os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
            alias.name in ("environ", "getenv") for alias in node.names
        ):
            found.append(f"line {node.lineno}: from os import environ/getenv")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""
            ]
            if any(name.split(".")[0] in ("typer", "click") for name in names):
                found.append(f"line {node.lineno}: imports {', '.join(names)}")
    return found


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(SRC)))
def test_library_module_reads_no_environment_and_imports_no_cli_toolkit(path):
    assert _offences(path) == []


def test_the_scan_sees_the_modules_that_once_broke_the_rule():
    names = {str(p.relative_to(SRC)) for p in LIBRARY}
    assert {"card_data.py", "paths.py", "config.py",
            "transport/__init__.py", "transport/protocol_sim.py"} <= names
    assert _offences(SRC / "cli" / "paths.py")  # the CLI does read them: the scan can see it


def test_sim_url_ignores_the_environment_and_the_default_config_file(monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[terminal]\nport = "loop://"\n[simulator]\ncard = "expired"\n')
    monkeypatch.setenv("TERMINAL_CONFIG", str(config))
    monkeypatch.setenv("TERMINAL_PORT", "loop://")
    with open_port("sim://") as port:
        assert type(port).__module__ == "terminal.transport.protocol_sim"
        assert port.simulator.settings.default_card == "approved"  # not the file's "expired"
    assert "terminal.transport" in serial.protocol_handler_packages
