"""The trace file: one JSON object per line, a header and then one record per link event.

Why JSON lines: a technician can read one with any editor, a partial file (the
POS crashed mid-exchange) is still readable up to its last whole line, and each
record is appended and flushed as it happens. The header names the format and
its version, checked when the file is read. Each record is what crossed the
wire at time ``t`` (seconds since the recording started) in direction ``dir``
(``"tx"`` from the POS host to the terminal, ``"rx"`` back):

* ``{"kind": "frame", "hex": DATA}`` a good frame's DATA, card data masked;
* ``{"kind": "ack"}`` / ``{"kind": "nak"}`` the single link bytes;
* ``{"kind": "bad", "reason": ...}`` a broken frame (its bytes are not kept:
  they cannot be masked reliably);
* ``{"kind": "noise", "bytes": N}`` stray bytes outside any frame, counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from terminal.errors import ConfigError

__all__ = [
    "FORMAT",
    "VERSION",
    "TraceError",
    "TraceFile",
    "TraceRecord",
    "TraceWriter",
    "read_trace",
]

FORMAT = "terminal-trace"
VERSION = 1

Direction = Literal["tx", "rx"]
_KINDS = ("frame", "ack", "nak", "bad", "noise")


class TraceError(ConfigError):
    """A trace file that is not one, of an unknown version, or broken at a line."""


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One link event: when, which way, what (``data`` only for frames, masked)."""

    t: float
    direction: Direction
    kind: str
    data: bytes = b""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"t": round(self.t, 6), "dir": self.direction, "kind": self.kind}
        if self.kind == "frame":
            record["hex"] = self.data.hex().upper()
        elif self.kind == "bad":
            record["reason"] = self.detail
        elif self.kind == "noise":
            record["bytes"] = int(self.detail or 0)
        return record


@dataclass(frozen=True, slots=True)
class TraceFile:
    """A whole trace: its header facts and its records in order."""

    started: str
    port: str
    dialect: str
    records: tuple[TraceRecord, ...]

    def frames(self) -> Iterator[TraceRecord]:
        return (r for r in self.records if r.kind == "frame")


class TraceWriter:
    """Appends records to a trace file, flushing each line as it is written."""

    def __init__(self, path: Path, *, port: str, dialect: str = "cup") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("w", encoding="utf-8")
        header = {
            "format": FORMAT,
            "version": VERSION,
            "started": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "port": _port_for_file(port),
            "dialect": dialect,
        }
        self._write(header)

    def write(self, record: TraceRecord) -> None:
        self._write(record.to_json())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def _write(self, obj: dict[str, Any]) -> None:
        self._file.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self._file.flush()


def read_trace(path: Path) -> TraceFile:
    """Read and check a trace file; :class:`TraceError` names the line that is wrong."""
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except OSError as exc:
        raise TraceError(f"cannot read trace {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise TraceError(f"{path} is not a trace file (not UTF-8 text)") from exc
    if not lines:
        raise TraceError(f"{path} is empty, not a trace file")
    header = _parse(path, 1, lines[0])
    if header.get("format") != FORMAT:
        raise TraceError(f"{path}:1: not a {FORMAT} file")
    if header.get("version") != VERSION:
        raise TraceError(
            f"{path}:1: trace version {header.get('version')!r}, this program reads {VERSION}"
        )
    records = []
    for number, line in enumerate(lines[1:], start=2):
        if line.strip():
            records.append(_record(path, number, _parse(path, number, line)))
    return TraceFile(
        started=str(header.get("started", "")),
        port=str(header.get("port", "")),
        dialect=str(header.get("dialect", "cup")),
        records=tuple(records),
    )


def _parse(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TraceError(f"{path}:{number}: not JSON ({exc.msg})") from exc
    if not isinstance(obj, dict):
        raise TraceError(f"{path}:{number}: expected a JSON object")
    return obj


def _record(path: Path, number: int, obj: dict[str, Any]) -> TraceRecord:
    where = f"{path}:{number}"
    t, direction, kind = obj.get("t"), obj.get("dir"), obj.get("kind")
    if isinstance(t, bool) or not isinstance(t, int | float) or t < 0:
        raise TraceError(f"{where}: 't' must be seconds, not {t!r}")
    if direction not in ("tx", "rx"):
        raise TraceError(f"{where}: 'dir' must be 'tx' or 'rx', not {direction!r}")
    if kind not in _KINDS:
        raise TraceError(f"{where}: 'kind' must be one of {', '.join(_KINDS)}, not {kind!r}")
    data, detail = b"", ""
    if kind == "frame":
        try:
            data = bytes.fromhex(str(obj.get("hex", "")))
        except ValueError as exc:
            raise TraceError(f"{where}: 'hex' is not hex") from exc
    elif kind == "bad":
        detail = str(obj.get("reason", ""))
    elif kind == "noise":
        detail = str(obj.get("bytes", 0))
    return TraceRecord(float(t), direction, kind, data, detail)


def _port_for_file(port: str) -> str:
    """The port URL without its query string (a ``sim://`` option may name a card)."""
    return port.partition("?")[0]
