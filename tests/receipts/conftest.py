"""Receipt tests: a private data directory and printer setting for each test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TERMINAL_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("TERMINAL_PRINTER", raising=False)
