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
DEVICE_TESTS = ("tests/bringup/test_device_link.py", "tests/bringup/test_device_transactions.py")
UNIT_TESTS = ("tests/link/test_link_timers.py", "tests/link/test_link_frame.py")


def test_with_port_unit_tests_still_run_and_device_tests_talk_to_that_port(
    tmp_path: Path,
) -> None:
    device = SimulatedTerminal()
    files = (*DEVICE_TESTS, *UNIT_TESTS)
    with TcpSimulator(device) as served:
        # Twice against the same terminal, as a bring-up is run again: the POS's journal
        # persists (pytest's cache), so its traces go on and none is answered 94.
        runs = []
        for run in range(2):
            report = tmp_path / f"report-{run}.xml"
            completed = _pytest(
                *files, "--port", served.url, f"--junitxml={report}",
                "-o", f"cache_dir={tmp_path / 'cache'}", cache=True,
            )
            assert completed.returncode == 0, completed.stdout[-3000:]
            runs.append(_counts(report))
    device_tests = _collected(*files, "-m", "hardware")
    assert device_tests >= 4
    for counts in runs:
        assert counts["tests"] - device_tests >= 10  # unit tests ran too
        assert counts == {"tests": counts["tests"], "skipped": 0, "failures": 0, "errors": 0}
    # The device tests' frames reached the terminal behind --port, not an embedded sim://.
    assert device.link.stats.frames_received >= 2 * device_tests
    assert device.link.stats.naks_sent >= 2


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


def _pytest(
    *args: str, env_path: Path | None = None, cache: bool = False
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if env_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(env_path), env.get("PYTHONPATH", "")])
    options = [] if cache else ["-p", "no:cacheprovider"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *options, *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )


def _counts(report: Path) -> dict[str, int]:
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    return {key: int(suite.get(key, "0")) for key in ("tests", "skipped", "failures", "errors")}


def _collected(*args: str) -> int:
    completed = _pytest("--collect-only", *args)
    return sum(1 for line in completed.stdout.splitlines() if "::" in line)
