"""``make test PYTEST_ARGS="--port URL"``: device tests move to the port, nothing else changes.

pytest is run in a subprocess on a few test files with ``--port`` pointing at a
simulated terminal served on TCP by this test, standing in for the real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from simulator import SimulatedTerminal
from simulator.serve import TcpSimulator

ROOT = Path(__file__).resolve().parents[2]
DEVICE_TESTS = "tests/bringup/test_device_link.py"
UNIT_TESTS = ("tests/link/test_link_timers.py", "tests/link/test_link_frame.py")


def test_with_port_unit_tests_still_run_and_device_tests_talk_to_that_port(
    tmp_path: Path,
) -> None:
    device = SimulatedTerminal()
    with TcpSimulator(device) as served:
        report = tmp_path / "report.xml"
        completed = _pytest(
            DEVICE_TESTS, *UNIT_TESTS, "--port", served.url, f"--junitxml={report}"
        )
    assert completed.returncode == 0, completed.stdout[-3000:]
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    counts = {key: int(suite.get(key, "0")) for key in ("tests", "skipped", "failures", "errors")}
    device_tests = _collected(DEVICE_TESTS, *UNIT_TESTS, "-m", "hardware")
    assert device_tests >= 2 and counts["tests"] - device_tests >= 10  # both kinds ran
    assert counts == {"tests": counts["tests"], "skipped": 0, "failures": 0, "errors": 0}
    # The device tests' frames reached the terminal behind --port, not an embedded sim://.
    assert device.link.stats.frames_received >= 1
    assert device.link.stats.naks_sent >= 1


def test_a_hardware_mark_without_a_device_fixture_is_refused(tmp_path: Path) -> None:
    liar = tmp_path / "test_marked_without_device.py"
    liar.write_text(
        "import pytest\n\n@pytest.mark.hardware\ndef test_claims_hardware():\n    pass\n",
        encoding="utf-8",
    )
    # The suite's conftest, loaded as a plugin, judges a file outside the suite.
    completed = _pytest(
        str(liar), "--collect-only", "-p", "conftest", f"--rootdir={tmp_path}",
        env_path=ROOT / "tests",
    )
    assert completed.returncode != 0
    assert "is marked hardware but uses no device" in completed.stdout + completed.stderr


def _pytest(*args: str, env_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if env_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(env_path), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )


def _collected(*args: str) -> int:
    completed = _pytest("--collect-only", *args)
    return sum(1 for line in completed.stdout.splitlines() if "::" in line)
