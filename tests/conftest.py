"""Suite-wide isolation: no test reads the developer's config, key or state files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("terminal-home")
    # A config file named by $TERMINAL_CONFIG must exist: an empty one means all defaults.
    (home / "config.toml").write_text("# every setting at its default\n", encoding="utf-8")
    monkeypatch.setenv("TERMINAL_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("TERMINAL_DATA_DIR", str(home / "data"))
    monkeypatch.delenv("TERMINAL_PORT", raising=False)
    monkeypatch.delenv("TERMINAL_TOKEN_KEY_FILE", raising=False)
    return home


# -- bring-up: the device tests against a real device ---------------------------
#
# A *device test* talks to "the terminal" through the ``device_port`` (CLI arguments) or
# ``device_url`` (a pyserial URL) fixture and is marked ``hardware`` (the mark is added
# for it). Without ``--port`` the device is the embedded simulator (``sim://``); with
# ``--port URL`` the same tests run against that port. Every other test (unit tests,
# tests of the simulator itself) runs unchanged either way: none is skipped.

DEVICE_FIXTURES = ("device_port", "device_url")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--port",
        default=None,
        help="run the device tests (those using the device_port or device_url fixture, "
        "marked 'hardware') against this pyserial URL instead of the embedded simulator; "
        "all other tests run as usual",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every device test ``hardware``; refuse a ``hardware`` test that uses no device.

    A test marked ``hardware`` that never asks for the device would pass against the
    simulator while claiming to have tested the real terminal.
    """
    for item in items:
        uses_device = any(name in getattr(item, "fixturenames", ()) for name in DEVICE_FIXTURES)
        if uses_device:
            item.add_marker(pytest.mark.hardware)
        elif item.get_closest_marker("hardware") is not None:
            raise pytest.UsageError(
                f"{item.nodeid} is marked hardware but uses no device: "
                f"ask for one of the fixtures {', '.join(DEVICE_FIXTURES)}"
            )


@pytest.fixture(scope="session")
def _device_host_data(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path | None:
    """With ``--port``: the POS's data directory (journal, keys) shared by every device test.

    A real terminal remembers the traces it has seen, so a POS whose journal
    started afresh in each test would send trace 000001 again and be answered 94
    (duplicate). The directory lives in pytest's cache, one per port, so that the
    next bring-up run goes on counting too. With the cache off (``-p
    no:cacheprovider``) it lasts for this run only, and a terminal that remembers
    an earlier run's traces will answer some of them 94.
    """
    url = request.config.getoption("--port")
    if not url:
        return None
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("terminal-bringup")
    return Path(cache.mkdir("terminal-bringup-" + re.sub(r"[^A-Za-z0-9]+", "-", url).strip("-")))


@pytest.fixture
def device_url(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _device_host_data: Path | None
) -> str:
    """The device's pyserial URL: ``--port`` if given, else the embedded simulator."""
    if _device_host_data is not None:
        monkeypatch.setenv("TERMINAL_DATA_DIR", str(_device_host_data))
    return request.config.getoption("--port") or "sim://"


@pytest.fixture
def device_port(device_url: str) -> list[str]:
    """CLI arguments choosing the device: none (``sim://``, the default) or ``--port URL``."""
    return [] if device_url == "sim://" else ["--port", device_url]


# -- test ids: no card numbers in node ids (nor in .pytest_cache, which keeps them) --------

_CARD_LIKE = re.compile(r"[0-9]{13,}")


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """An id with every run of 13+ digits replaced by ``pan<length>``; None leaves pytest's own.

    Why: pytest writes every node id to ``.pytest_cache``; a test card number there
    is a card number on disk. Tests that parametrise over profiles name them instead.
    """
    if isinstance(val, bytes | bytearray):
        text = bytes(val).decode("ascii", "backslashreplace")
    elif isinstance(val, str):
        text = val
    else:
        return None
    if not _CARD_LIKE.search(text):
        return None
    return _CARD_LIKE.sub(lambda m: f"pan{len(m.group())}", text)
