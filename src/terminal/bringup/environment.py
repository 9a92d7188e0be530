"""What the pytest form of the suite is pointed at, from its options only.

``terminal bringup`` resolves the POS's config file, keys and journal by the
command line's rules (``terminal.cli.paths``). The pytest form
(``pytest --pyargs terminal.bringup``) is library code that takes arguments: the
config file from ``--terminal-config`` (else the defaults), the journal and token
key from ``--terminal-data-dir`` (else an in-memory journal and a key for this
run only). It must not import the CLI either, which imports this package.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from terminal.card_data import load_token_key
from terminal.config import load_config
from terminal.journal import Journal, JournalStore
from terminal.paths import data_paths
from terminal.protocol.security import TEST_MASTER_KEY, MacAlgorithm, parse_master_key
from terminal.transactions.client import Security

__all__ = ["config_for", "journal_for", "security_for", "token_key_for"]


def config_for(path: str | None) -> dict[str, Any]:
    """The checked config file at ``path``; ``{}`` (every default) without one."""
    return load_config(Path(path)) if path else {}


def security_for(config: Mapping[str, Any]) -> Security:
    """``[security]`` (already checked by :func:`load_config`) as the client's Security."""
    section = config.get("security", {})
    return Security(
        parse_master_key(section.get("master_key", TEST_MASTER_KEY.hex())),
        MacAlgorithm(section.get("mac_algorithm", MacAlgorithm.CUP_ECB.value)),
    )


def journal_for(data_dir: str | None) -> JournalStore:
    """The POS's journal under ``data_dir``; in memory without one."""
    return Journal(data_paths(Path(data_dir)).journal) if data_dir else Journal(":memory:")


def token_key_for(data_dir: str | None) -> bytes:
    """The POS's token key under ``data_dir``; a key for this run only without one."""
    return load_token_key(data_paths(Path(data_dir)).token_key) if data_dir else (
        secrets.token_bytes(32)
    )
