"""Where the pytest form of the suite finds the POS's config, keys and journal.

``terminal bringup`` gets these from the command line's own rules
(``terminal.cli.paths``); the pytest form (``pytest --pyargs terminal.bringup``)
must not import the CLI, which imports this package (no two packages import
each other), so it follows the same rules here: ``--terminal-config``, else
``$TERMINAL_CONFIG``, else the per-user config file if there is one; the token
key from ``$TERMINAL_TOKEN_KEY_FILE`` or the data directory; the journal in the
data directory (``$TERMINAL_DATA_DIR`` relocates it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from terminal.card_data import load_token_key
from terminal.config import load_config
from terminal.paths import data_paths
from terminal.protocol.security import TEST_MASTER_KEY, MacAlgorithm, parse_master_key
from terminal.transactions.client import Security

__all__ = ["config_for", "security_for", "token_key_for"]


def config_for(option: str | None) -> dict[str, Any]:
    """The checked config: the option's file, ``$TERMINAL_CONFIG``'s, the user's, or ``{}``."""
    if option:
        return load_config(Path(option))
    from_env = os.environ.get("TERMINAL_CONFIG")
    if from_env:
        return load_config(Path(from_env))
    default = Path(typer.get_app_dir("terminal")) / "config.toml"
    return load_config(default) if default.is_file() else {}


def security_for(config: Mapping[str, Any]) -> Security:
    """``[security]`` (already checked by :func:`load_config`) as the client's Security."""
    section = config.get("security", {})
    return Security(
        parse_master_key(section.get("master_key", TEST_MASTER_KEY.hex())),
        MacAlgorithm(section.get("mac_algorithm", MacAlgorithm.CUP_ECB.value)),
    )


def token_key_for() -> bytes:
    explicit = os.environ.get("TERMINAL_TOKEN_KEY_FILE")
    return load_token_key(Path(explicit) if explicit else data_paths().token_key)
