"""The host's own counters: the next trace number and the terminal's current batch.

Kept in a small JSON file beside the config so that two sales from two runs of
the CLI never reuse a trace (a terminal answers a reused trace with 94, or
worse, replays the earlier answer). Updates take an exclusive lock (``filelock``,
on any OS) and replace the file atomically, so two cash-register processes on one PC and a
power cut mid-write both leave a valid counter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock

from terminal.files import replace_atomically

__all__ = ["MAX_TRACE", "HostState"]

MAX_TRACE = 999_999
_DEFAULT = {"last_trace": 0, "batch": "000001"}

# filelock logs every acquire and release at DEBUG with the lock object's id(), a
# 15-digit number that is Luhn-valid one time in ten: under -vv it would put
# card-number look-alikes into a shop's logs (and trip the scans that look for
# them) while telling an operator nothing.
logging.getLogger("filelock").setLevel(logging.INFO)


class HostState:
    """Trace and batch, persisted at ``path`` (in memory only when ``path`` is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, Any] = dict(_DEFAULT)

    @classmethod
    def default(cls) -> HostState:
        from terminal.config import config_path

        return cls(config_path().with_name("host-state.json"))

    def next_trace(self) -> str:
        """The next system trace audit number, 6 digits, 000001..999999 then wrapping."""
        with self._locked() as state:
            trace = state["last_trace"] % MAX_TRACE + 1
            state["last_trace"] = trace
        return f"{trace:06d}"

    @property
    def batch(self) -> str:
        with self._locked() as state:
            return str(state["batch"])

    def set_batch(self, batch: str) -> None:
        if not (len(batch) == 6 and batch.isdigit()):
            raise ValueError(f"a batch number is 6 digits, got {batch!r}")
        with self._locked() as state:
            state["batch"] = batch

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        if self.path is None:
            yield self._memory
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_suffix(".lock")
        with FileLock(lock_path):
            state = self._read()
            before = dict(state)
            yield state
            if state != before:
                self._write(state)

    def _read(self) -> dict[str, Any]:
        assert self.path is not None
        try:
            loaded = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return dict(_DEFAULT)
        except (OSError, ValueError) as exc:
            from terminal.errors import ConfigError

            raise ConfigError(f"host state file {self.path} is unreadable: {exc}") from exc
        return {**_DEFAULT, **loaded}

    def _write(self, state: dict[str, Any]) -> None:
        assert self.path is not None
        replace_atomically(self.path, json.dumps(state))
