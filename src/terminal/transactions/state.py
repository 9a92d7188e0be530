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

from terminal.errors import ConfigError
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
    """Trace and batch, persisted at ``path`` (in memory only when ``path`` is None).

    The command line chooses the path (beside the config file). A file that
    cannot be read, or holds anything but the two counters, raises
    :class:`~terminal.errors.ConfigError` naming it: a guessed trace number
    could repeat one the terminal has already seen.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, Any] = dict(_DEFAULT)

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
        lock_path = self.path.with_suffix(".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(lock_path)
            lock.acquire()
        except OSError as exc:
            raise ConfigError(f"host state file {self.path} cannot be used: {_why(exc)}") from None
        try:
            state = self._read()
            before = dict(state)
            yield state
            if state != before:
                self._write(state)
        finally:
            lock.release()

    def _read(self) -> dict[str, Any]:
        assert self.path is not None
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return dict(_DEFAULT)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"host state file {self.path} cannot be read: {_why(exc)}") from None
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
            problem = "it is not JSON"
        else:
            problem = _problem(loaded)
        if problem is not None:
            raise ConfigError(
                f"host state file {self.path} is damaged: {problem}. Restore it from a backup, "
                f'or write {{"last_trace": N, "batch": "NNNNNN"}} with the last trace number '
                "and batch used, so that no trace number is used twice"
            )
        return {**_DEFAULT, **loaded}

    def _write(self, state: dict[str, Any]) -> None:
        assert self.path is not None
        try:
            replace_atomically(self.path, json.dumps(state))
        except OSError as exc:
            raise ConfigError(
                f"host state file {self.path} cannot be written: {_why(exc)}"
            ) from None


def _problem(loaded: Any) -> str | None:
    """Why ``loaded`` is not a state file's contents, or None when it is."""
    if not isinstance(loaded, dict):
        return f"it holds {type(loaded).__name__ if loaded is not None else 'null'}, not an object"
    unknown = sorted(set(loaded) - set(_DEFAULT))
    if unknown:
        return f"unknown key {', '.join(unknown)}"
    trace = loaded.get("last_trace", 0)
    if isinstance(trace, bool) or not isinstance(trace, int) or not 0 <= trace <= MAX_TRACE:
        return f"last_trace must be a whole number 0-{MAX_TRACE}, got {trace!r}"
    batch = loaded.get("batch", _DEFAULT["batch"])
    if not (isinstance(batch, str) and len(batch) == 6 and batch.isascii() and batch.isdigit()):
        return f"batch must be 6 digits in quotes, got {batch!r}"
    return None


def _why(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return "part of its path is a file, not a directory"
    if isinstance(exc, IsADirectoryError):
        return "it is a directory, not a file"
    return exc.strerror or str(exc)
