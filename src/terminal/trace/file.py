"""The trace file: one JSON object per line, a header and then one record per link event.

Why JSON lines: a technician can read one with any editor, a partial file (the
POS crashed mid-exchange) is still readable up to its last whole line, and each
record is appended and flushed as it happens. The header names the format and
its version, checked when the file is read. Each record is what crossed the
wire at time ``t`` (seconds since the recording started) in direction ``dir``
(``"tx"`` from the POS host to the terminal, ``"rx"`` back). Each command
recorded into an existing trace file appends to it (one file, one session),
its ``t`` going on from the file's start:

* ``{"kind": "frame", "hex": DATA}`` a good frame's DATA, card data masked; a
  frame from the terminal that carries a MAC (field 64) also has ``"mac": "ok"``
  or ``"mac": "bad"``: whether that MAC verified on the recording host, judged
  over the clear bytes (a replay cannot judge it any more: the card data in
  ``hex`` is masked, and the keys were the recording host's);
* ``{"kind": "ack"}`` / ``{"kind": "nak"}`` the single link bytes;
* ``{"kind": "bad", "reason": ...}`` a broken frame (its bytes are not kept:
  they cannot be masked reliably);
* ``{"kind": "noise", "bytes": N}`` stray bytes outside any frame, counted.

DATA is hex with a colon between bytes (``60:00:06``; version 2), not plain
hex (version 1, still read): a frame's BCD fields and ASCII digits are all
decimal digits in plain hex, and the stretches between its letters pass a card
scanner's Luhn check often enough to flag a day's traces
(:mod:`terminal.digest_text`). A file being appended to keeps its header; its
records are read whichever way their hex is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from terminal.digest_text import colon_hex, parse_hex
from terminal.errors import ConfigError

__all__ = [
    "FORMAT",
    "MAC_VERDICTS",
    "VERSION",
    "TraceError",
    "TraceFile",
    "TraceRecord",
    "TraceWriter",
    "read_trace",
]

FORMAT = "terminal-trace"
VERSION = 2
#: The versions this program reads (1 wrote plain hex).
READS = (1, 2)

Direction = Literal["tx", "rx"]
_KINDS = ("frame", "ack", "nak", "bad", "noise")
#: A frame's MAC verdict: verified on the recording host, or not.
MAC_VERDICTS = ("ok", "bad")


class TraceError(ConfigError):
    """A trace file that is not one, of an unknown version, or broken at a line."""


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One link event: when, which way, what (``data`` only for frames, masked), and
    for a frame with a MAC whether it verified where it was recorded (``mac``:
    ``"ok"``, ``"bad"``, or ``""`` when nobody judged it)."""

    t: float
    direction: Direction
    kind: str
    data: bytes = b""
    detail: str = ""
    mac: str = ""

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"t": round(self.t, 6), "dir": self.direction, "kind": self.kind}
        if self.kind == "frame":
            record["hex"] = colon_hex(self.data)
            if self.mac:
                record["mac"] = self.mac
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
    """Appends records to a trace file, flushing each line as it is written.

    With ``append`` an existing trace file is carried on (its header checked:
    a file that is no trace of this version and dialect is refused, never
    written over) and :attr:`offset` says how far into it this writer starts;
    a missing or empty file is begun. Without, the file is begun afresh.
    """

    def __init__(
        self, path: Path, *, port: str, dialect: str = "cup", append: bool = False
    ) -> None:
        self.path = Path(path)
        #: Seconds from the file's start to this writer's: a recorder adds it to ``t``.
        self.offset = 0.0
        existing = _existing_header(self.path) if append else None
        if existing is not None:
            if existing.get("dialect", "cup") != dialect:
                raise TraceError(
                    f"{self.path} is a {existing.get('dialect')} trace; this command speaks "
                    f"{dialect}: record into another file"
                )
            self.offset = _seconds_since(existing.get("started"))
            self._file: IO[str] = self.path.open("a", encoding="utf-8")
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8")
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
    header = _header(path, lines[0])
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


def _header(path: Path, line: str) -> dict[str, Any]:
    header = _parse(path, 1, line)
    if header.get("format") != FORMAT:
        raise TraceError(f"{path}:1: not a {FORMAT} file")
    if header.get("version") not in READS:
        raise TraceError(
            f"{path}:1: trace version {header.get('version')!r}, this program reads"
            f" {' and '.join(map(str, READS))}"
        )
    return header


def _existing_header(path: Path) -> dict[str, Any] | None:
    """The header of the trace already at ``path``; ``None`` when there is none to carry on."""
    try:
        with path.open("rb") as file:
            first = file.readline()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TraceError(f"cannot read trace {path}: {exc.strerror or exc}") from exc
    if not first.strip():
        return None
    try:
        return _header(path, first.decode("utf-8"))
    except (UnicodeDecodeError, TraceError) as exc:
        raise TraceError(
            f"{path} is not a trace file, and a trace is never written over another file: "
            "record into another one"
        ) from exc


def _seconds_since(started: Any) -> float:
    """Seconds from a header's ``started`` to now; 0 when it cannot be read."""
    try:
        then = datetime.fromisoformat(str(started))
    except ValueError:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - then).total_seconds())


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
    data, detail, mac = b"", "", ""
    if kind == "frame":
        try:
            data = parse_hex(str(obj.get("hex", "")))
        except ValueError as exc:
            raise TraceError(f"{where}: 'hex' is not hex") from exc
        mac = obj.get("mac", "")
        if mac != "" and mac not in MAC_VERDICTS:
            raise TraceError(
                f"{where}: 'mac' must be one of {', '.join(MAC_VERDICTS)}, not {mac!r}"
            )
    elif kind == "bad":
        detail = str(obj.get("reason", ""))
    elif kind == "noise":
        detail = str(obj.get("bytes", 0))
    return TraceRecord(float(t), direction, kind, data, detail, mac)


def _port_for_file(port: str) -> str:
    """The port URL without its query string (a ``sim://`` option may name a card)."""
    return port.partition("?")[0]
