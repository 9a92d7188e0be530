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
