"""Where the command line finds its files and its port: options, then environment, then defaults.

Only the command line resolves these; the library takes the results as
arguments. The rules, which a shop relies on never to end at the simulator by
accident:

* the config file is ``--config``, else ``$TERMINAL_CONFIG``, else
  ``config.toml`` in the platform's per-user config directory. A file named by
  an option or the environment must exist; only the default one may be absent.
* the port is ``--port``, else ``$TERMINAL_PORT``, else ``port`` in the config
  file, else ``sim://``. An empty one, anywhere, is an error, never ``sim://``.
* the journal (trace and batch counters included), the token key and the
  embedded simulator's books live in the data directory (:mod:`terminal.paths`:
  ``$TERMINAL_DATA_DIR``, else the platform's; ``$TERMINAL_TOKEN_KEY_FILE``
  moves the key alone).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import typer

from terminal.config import DEFAULT_PORT, load_config
from terminal.errors import ConfigError
from terminal.paths import DataPaths

__all__ = [
    "CONFIG_ENV",
    "DATA_DIR_ENV",
    "PORT_ENV",
    "TOKEN_KEY_ENV",
    "ConfigChoice",
    "choose_config",
    "data_dir",
    "data_paths",
    "default_config_path",
    "is_simulator",
    "resolve_port",
]

DATA_DIR_ENV = "TERMINAL_DATA_DIR"
CONFIG_ENV = "TERMINAL_CONFIG"
PORT_ENV = "TERMINAL_PORT"
TOKEN_KEY_ENV = "TERMINAL_TOKEN_KEY_FILE"
APP_NAME = "terminal"


def data_dir() -> Path:
    """``$TERMINAL_DATA_DIR``, else the platform's per-user data directory for ``terminal``.

    It relocates all the host's data at once, e.g. to a shop PC's backed-up disk or,
    in tests, to a temporary directory.
    """
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def data_paths() -> DataPaths:
    """The journal, token key and simulator books under :func:`data_dir`."""
    return DataPaths(data_dir())


def default_config_path() -> Path:
    """The platform's per-user config file (``~/.config/terminal/config.toml`` on Linux)."""
    return Path(typer.get_app_dir(APP_NAME)) / "config.toml"


@dataclass(frozen=True)
class ConfigChoice:
    """The config file in force: its path, whether it was asked for, and its checked contents."""

    path: Path
    explicit: bool
    data: dict[str, Any]

    @property
    def loaded(self) -> Path | None:
        """The path when a file was read, None when the defaults are in force."""
        return self.path if self.explicit or _exists(self.path) else None

    @property
    def token_key_file(self) -> Path:
        """The key card tokens are made with."""
        explicit = os.environ.get(TOKEN_KEY_ENV)
        if explicit is not None:
            if not explicit.strip():
                raise ConfigError(
                    f"${TOKEN_KEY_ENV} is set but empty: name the key file or unset it"
                )
            return Path(explicit)
        return data_paths().token_key


def choose_config(option: Path | None) -> ConfigChoice:
    """Find, read and check the config file (see the module's rules)."""
    if option is not None:
        if not str(option).strip():
            raise ConfigError("--config is empty: name the config file")
        return ConfigChoice(option, True, load_config(option))
    from_env = os.environ.get(CONFIG_ENV)
    if from_env is not None:
        if not from_env.strip():
            raise ConfigError(f"${CONFIG_ENV} is set but empty: name the config file or unset it")
        path = Path(from_env)
        return ConfigChoice(path, True, load_config(path))
    path = default_config_path()
    return ConfigChoice(path, False, load_config(path) if _exists(path) else {})


def resolve_port(option: str | None, config: dict[str, Any]) -> str:
    """The port URL: ``--port``, else ``$TERMINAL_PORT``, else the file, else ``sim://``."""
    if option is not None:
        if not option.strip():
            raise ConfigError("--port is empty: give a device or URL, e.g. /dev/ttyUSB0 or COM3")
        return option
    from_env = os.environ.get(PORT_ENV)
    if from_env is not None:
        if not from_env.strip():
            raise ConfigError(
                f"${PORT_ENV} is set but empty: give a device or URL, or unset it"
            )
        return from_env
    # The schema refuses an empty ``port`` in the file.
    return str(config.get("terminal", {}).get("port") or DEFAULT_PORT)


def is_simulator(url: str) -> bool:
    """True for the in-process simulator, where no money moves."""
    return url.strip().lower().startswith("sim:")


def _exists(path: Path) -> bool:
    """False only when nothing is there; any other trouble is for ``load_config`` to name."""
    try:
        path.stat()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True
