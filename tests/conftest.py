"""Suite-wide isolation: no test reads the developer's config, key or state files."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("terminal-home")
    monkeypatch.setenv("TERMINAL_CONFIG", str(home / "config.toml"))
    monkeypatch.delenv("TERMINAL_PORT", raising=False)
    monkeypatch.delenv("TERMINAL_TOKEN_KEY_FILE", raising=False)
    return home


# -- bring-up: the same tests against a real device ------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--port",
        default=None,
        help="run the device tests against this pyserial URL (a real terminal) "
        "instead of the embedded simulator; simulator-only tests are skipped",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--port"):
        return
    skip = pytest.mark.skip(reason="needs the simulator; --port points at a real device")
    for item in items:
        if "hardware" not in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def device_port(request: pytest.FixtureRequest) -> list[str]:
    """CLI arguments choosing the device: none (``sim://``) or ``--port URL``."""
    url = request.config.getoption("--port")
    return ["--port", url] if url else []
