"""The journal's storage: a small interface and its SQLite implementation.

Why write before sending: a request the terminal received whole may have
moved money even if nothing ever comes back, so :meth:`Journal.begin` records
it as *pending* (with the full request: everything needed to reverse, resend or
refer to it) in the same database transaction that draws its trace and reads
the batch; only once that is committed does its frame's last byte go out (the
rest of the frame may already be on the line: a frame without its LRC is
nothing a terminal acts on). The response completes the row. A crash in
between leaves a pending row, never a sale nobody knows about. The
trace and batch counters live here, so two cash-register processes (or two
runs of the CLI) never share a trace.

``JournalStore`` is what the host needs of any backend; :class:`Journal` is
the SQLite one (WAL, ``synchronous=FULL``, schema versioned:
:mod:`terminal.database`). Card data is kept only as masked number and token.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from terminal.card_data import ProtectedPan
from terminal.database import open_database, transaction
from terminal.errors import TerminalError
from terminal.journal import grants, saf
from terminal.journal.chain import CODE_COLUMNS, FUNCTIONS
from terminal.journal.entry import EntryState, JournalEntry
from terminal.journal.schema import MIGRATIONS
from terminal.protocol.catalogue import Kind
from terminal.protocol.json_shape import message_to_json
from terminal.protocol.message import Message

__all__ = [
    "MAX_BATCH",
    "MAX_TRACE",
    "GrantUsed",
    "Journal",
    "JournalError",
    "JournalStore",
    "OriginalNotFound",
    "open_journal",
]

MAX_TRACE = 999_999
MAX_BATCH = 999_999
_DIALECT = "cup"

#: Builds the request once its trace and batch are drawn (6 digits each).
RequestBuilder = Callable[[str, str], Message]
#: Told the request once it is built, before its row is written (see :meth:`Journal.begin`).
RequestHook = Callable[[Message], None]


class JournalError(TerminalError):
    """The journal cannot do what was asked (a reference that finds nothing, a bad state)."""


class GrantUsed(JournalError):
    """A supervisor's authorisation was spent by another transaction in the meantime."""


class OriginalNotFound(JournalError):
    """A void, refund, completion or reversal names an original the journal does not have."""


class JournalStore(Protocol):
    """What the host needs of a journal backend (SQLite today, a server database later)."""

    def begin(
        self, lane: str, kind: Kind, build: RequestBuilder, *, now: datetime,
        amount_fen: int | None = None, trace: str | None = None,
        original: JournalEntry | None = None, reason: str | None = None,
        operator: str | None = None, supervisor: str | None = None,
        refund_reason: str | None = None, refund_note: str | None = None,
        simulated: bool | None = None, on_request: RequestHook | None = None,
        grant: int | None = None,
    ) -> tuple[JournalEntry, Message]: ...

    def complete(
        self, entry_id: int, *, now: datetime, response_code: str, rrn: str | None,
        auth_code: str | None, local_date: str | None, local_time: str | None,
        card: ProtectedPan | None, card_organisation: str | None = None,
        simulated: bool | None = None,
    ) -> None: ...

    def mark(
        self, entry_id: int, state: EntryState, reason: str | None = None, *,
        simulated: bool | None = None,
    ) -> None: ...

    def get(self, entry_id: int) -> JournalEntry: ...

    def batch(self, lane: str) -> str: ...

    def set_batch(self, lane: str, batch: str) -> None: ...

    def find_original(
        self, lane: str, kinds: Iterable[Kind], *, rrn: str | None = None,
        trace: str | None = None, date: str | None = None,
    ) -> JournalEntry: ...

    def find_by_trace(self, lane: str, trace: str) -> JournalEntry: ...

    def batch_entries(self, lane: str, batch: str) -> list[JournalEntry]: ...

    def save_keys(self, lane: str, packed: bytes, *, now: datetime) -> None: ...

    def load_keys(self, lane: str) -> bytes | None: ...

    def forget_keys(self, lane: str) -> None: ...


def open_journal(path: Path | str) -> Journal:
    """The journal at ``path`` (created, or migrated to the current schema)."""
    return Journal(path)


class Journal:
    """The SQLite journal: one file, any number of processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self._db = open_database(
            path, MIGRATIONS, what="journal", functions=FUNCTIONS
        )

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection, for the journal's own modules (lookup, chain, operators,
        recovery): they read with it and write inside :func:`terminal.database.transaction`."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing an exchange --------------------------------------------------------

    def begin(
        self,
        lane: str,
        kind: Kind,
        build: RequestBuilder,
        *,
        now: datetime,
        amount_fen: int | None = None,
        trace: str | None = None,
        original: JournalEntry | None = None,
        reason: str | None = None,
        operator: str | None = None,
        supervisor: str | None = None,
        refund_reason: str | None = None,
        refund_note: str | None = None,
        simulated: bool | None = None,
        on_request: RequestHook | None = None,
        grant: int | None = None,
    ) -> tuple[JournalEntry, Message]:
        """Draw the trace (unless given: a reversal reuses its original's), read the batch,
        build the request and record it as pending, all in one transaction.

        The same transaction prepares what recovers the exchange if no valid
        answer comes (its reversal, or for a refund its resend: :mod:`.saf`), and
        records who ran it, who authorised it, for a refund why, and whether it goes to
        the simulator (a reprint says so from this, not from the lane's port of the day).

        ``on_request`` is called with the request as soon as it is built, inside the
        transaction, before the row is written: the host starts putting the frame on
        the line then, all but its last byte (:meth:`terminal.link.SerialLink.start`),
        which goes only after this returns, the row committed. If it raises, or the
        write fails after it, nothing is recorded and the caller withdraws the frame.

        ``grant``: the supervisor's authorisation (an audit row, :mod:`.grants`) this
        entry spends, in the same transaction: if another spent it first, nothing is
        recorded (:class:`GrantUsed`)."""
        with transaction(self._db):
            counters = self._counters(lane)
            if trace is None:
                drawn = counters.get("trace", 0) % MAX_TRACE + 1
                self._set(lane, "trace", drawn)
                trace = f"{drawn:06d}"
            batch = f"{counters.get('batch', 1):06d}"
            request = build(trace, batch)
            if on_request is not None:
                on_request(request)
            ref = original.as_original() if original is not None else None
            shape = _request_shape(request)
            created_at = now.isoformat()
            cursor = self._db.execute(
                "INSERT INTO entries (lane, kind, state, mti, trace, batch, amount_fen, request,"
                " created_at, original_id, original_rrn, original_trace, original_batch,"
                " original_date, reason, operator, supervisor, refund_reason, refund_note,"
                " simulated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    lane, kind.value, EntryState.PENDING.value, request.mti, trace, batch,
                    amount_fen, json.dumps(shape),
                    created_at, original.id if original is not None else None,
                    ref.rrn if ref else None, ref.trace if ref else None,
                    ref.batch if ref else None, ref.date if ref else None, reason,
                    operator, supervisor, refund_reason, refund_note,
                    None if simulated is None else int(simulated),
                ),
            )
            entry_id = cursor.lastrowid
            assert entry_id is not None
            saf.prepare(self._db, lane, entry_id, kind, request, now)
            if grant is not None and not grants.use(self._db, grant, entry_id):
                raise GrantUsed(f"authorisation {grant} was used by another transaction")
        # The row as written, not read back: the cashier waits for this.
        entry = JournalEntry(
            id=entry_id, lane=lane, kind=kind, state=EntryState.PENDING, mti=request.mti,
            trace=trace, batch=batch, amount_fen=amount_fen, request=shape,
            created_at=created_at, original_id=original.id if original is not None else None,
            original_rrn=ref.rrn if ref else None, original_trace=ref.trace if ref else None,
            original_batch=ref.batch if ref else None, original_date=ref.date if ref else None,
            reason=reason, operator=operator, supervisor=supervisor,
            refund_reason=refund_reason, refund_note=refund_note, simulated=simulated,
        )
        return entry, request

    def complete(
        self,
        entry_id: int,
        *,
        now: datetime,
        response_code: str,
        rrn: str | None,
        auth_code: str | None,
        local_date: str | None,
        local_time: str | None,
        card: ProtectedPan | None,
        card_organisation: str | None = None,
        simulated: bool | None = None,
    ) -> None:
        """Record the answer: approved or declined, with what the receipt and lookups need.

        The exchange was answered, so the same transaction settles its
        store-and-forward row (:func:`.saf.settle_answered`): one commit, one wait
        for the disk, while the cashier waits for the result.

        ``simulated`` is what the answer said of the device (the simulator marks each of
        its responses); ``None`` keeps what :meth:`begin` recorded."""
        state = EntryState.APPROVED if response_code == "00" else EntryState.DECLINED
        completed_at = now.isoformat()
        with transaction(self._db):
            self._db.execute(
                "UPDATE entries SET state = ?, completed_at = ?, response_code = ?, rrn = ?,"
                " auth_code = ?, local_date = ?, local_time = ?, card_masked = ?, card_token = ?,"
                " card_organisation = ?, simulated = COALESCE(?, simulated) WHERE id = ?",
                (
                    state.value, completed_at, response_code, rrn, auth_code, local_date,
                    local_time, card.masked if card else None, card.token if card else None,
                    card_organisation, None if simulated is None else int(simulated), entry_id,
                ),
            )
            saf.settle_answered(self._db, entry_id, completed_at)

    def mark(
        self, entry_id: int, state: EntryState, reason: str | None = None, *,
        simulated: bool | None = None,
    ) -> None:
        """Set an entry's state (in doubt, reversed), keeping the reason if one is given;
        ``simulated`` (when not None) records that the exchange went to the simulator,
        learned after the fact (the simulator approved its reversal)."""
        with transaction(self._db):
            self._db.execute(
                "UPDATE entries SET state = ?, reason = COALESCE(?, reason),"
                " simulated = COALESCE(?, simulated) WHERE id = ?",
                (state.value, reason, None if simulated is None else int(simulated), entry_id),
            )

    def set_alarm(self, entry_id: int, what: str) -> None:
        """Journal an alarm on an entry (an approval that cannot be right)."""
        with transaction(self._db):
            self._db.execute("UPDATE entries SET alarm = ? WHERE id = ?", (what[:200], entry_id))

    # -- reading ------------------------------------------------------------------------

    def get(self, entry_id: int) -> JournalEntry:
        row = self._db.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise JournalError(f"no journal entry {entry_id}")
        return _entry(row)

    def entries(self, lane: str | None = None) -> list[JournalEntry]:
        """Every entry (of ``lane``), oldest first."""
        if lane is None:
            rows = self._db.execute("SELECT * FROM entries ORDER BY id")
        else:
            rows = self._db.execute("SELECT * FROM entries WHERE lane = ? ORDER BY id", (lane,))
        return [_entry(row) for row in rows]

    def find_original(
        self,
        lane: str,
        kinds: Iterable[Kind],
        *,
        rrn: str | None = None,
        trace: str | None = None,
        date: str | None = None,
    ) -> JournalEntry:
        """The approved entry of one of ``kinds`` with this RRN, or this trace (and date).

        Raises :class:`OriginalNotFound` saying what was looked for, before
        anything is sent: a void or refund of a wrong reference never reaches
        the terminal.
        """
        names = [kind.value for kind in kinds]
        marks = ", ".join("?" for _ in names)
        if rrn:
            sql, args = "rrn = ?", [rrn]
            what = f"RRN {rrn}"
        elif trace:
            sql, args = "trace = ?", [f"{int(trace):06d}" if trace.isdigit() else trace]
            what = f"trace {args[0]}"
            if date:
                sql += " AND local_date = ?"
                args.append(date)
                what += f" of {date}"
        else:
            raise OriginalNotFound("name the original by its RRN, or by its trace (and date)")
        rows = self._db.execute(
            f"SELECT * FROM entries WHERE lane = ? AND {sql} AND kind IN ({marks})"
            " ORDER BY id DESC",
            [lane, *args, *names],
        ).fetchall()
        if not rows:
            raise OriginalNotFound(
                f"no {' or '.join(names)} with {what} in the journal of terminal {lane}"
            )
        approved = [row for row in rows if row["state"] == EntryState.APPROVED.value]
        if not approved:
            raise OriginalNotFound(
                f"the {rows[0]['kind']} with {what} was not approved ({rows[0]['state']})"
            )
        return _entry(approved[0])

    def find_by_trace(self, lane: str, trace: str) -> JournalEntry:
        """The newest entry with this trace (what ``terminal reverse --trace`` acts on)."""
        value = f"{int(trace):06d}" if trace.isdigit() else trace
        row = self._db.execute(
            "SELECT * FROM entries WHERE lane = ? AND trace = ? AND mti <> '0400'"
            " ORDER BY id DESC LIMIT 1",
            (lane, value),
        ).fetchone()
        if row is None:
            raise OriginalNotFound(f"no transaction with trace {value} in the journal")
        return _entry(row)

    def batch_entries(self, lane: str, batch: str) -> list[JournalEntry]:
        """The approved entries of ``batch``, oldest first (settlement and batch upload)."""
        rows = self._db.execute(
            "SELECT * FROM entries WHERE lane = ? AND batch = ? AND state = ? ORDER BY id",
            (lane, batch, EntryState.APPROVED.value),
        )
        return [_entry(row) for row in rows]

    def followers(self, original_id: int) -> list[JournalEntry]:
        """Entries that refer to ``original_id`` (its voids, refunds, completions)."""
        rows = self._db.execute(
            "SELECT * FROM entries WHERE original_id = ? ORDER BY id", (original_id,)
        )
        return [_entry(row) for row in rows]

    # -- counters -----------------------------------------------------------------------

    def batch(self, lane: str) -> str:
        row = self._db.execute(
            "SELECT value FROM counters WHERE lane = ? AND name = 'batch'", (lane,)
        ).fetchone()
        return f"{int(row[0]) if row else 1:06d}"

    def set_batch(self, lane: str, batch: str) -> None:
        """Take the terminal's batch (sign-on) or start the next one (settlement)."""
        if not (isinstance(batch, str) and len(batch) == 6 and batch.isdigit()):
            raise ValueError(f"a batch number is 6 digits, got {batch!r}")
        with transaction(self._db):
            self._set(lane, "batch", int(batch))

    def last_trace(self, lane: str) -> int:
        row = self._db.execute(
            "SELECT value FROM counters WHERE lane = ? AND name = 'trace'", (lane,)
        ).fetchone()
        return int(row[0]) if row else 0

    # -- session keys (as delivered: encrypted under the master key) --------------------

    def save_keys(self, lane: str, packed: bytes, *, now: datetime) -> None:
        """Keep the working keys as delivered (encrypted under the master key), as bytes:
        base64 text is digits often enough that, written beside the lane's 8 digits, a
        sign-on in about 100,000 read as a card number to a scanner."""
        with transaction(self._db):
            self._db.execute("DELETE FROM sessions WHERE lane = ?", (lane,))
            self._db.execute(
                "INSERT INTO sessions (lane, working_keys, signed_on_at) VALUES (?, ?, ?)",
                (lane, bytes(packed), now.isoformat()),
            )

    def load_keys(self, lane: str) -> bytes | None:
        """The working keys of ``lane``'s last sign-on (bytes; base64 text as versions before
        this one kept them is read too, until the next sign-on replaces it)."""
        row = self._db.execute(
            "SELECT working_keys FROM sessions WHERE lane = ?", (lane,)
        ).fetchone()
        if row is None:
            return None
        value = row[0]
        return bytes(value) if isinstance(value, bytes) else base64.b64decode(value)

    def forget_keys(self, lane: str) -> None:
        with transaction(self._db):
            self._db.execute("DELETE FROM sessions WHERE lane = ?", (lane,))

    # -- helpers --------------------------------------------------------------------------

    def _counters(self, lane: str) -> dict[str, int]:
        """The lane's trace and batch counters, read at once (what is not there yet, absent)."""
        rows = self._db.execute(
            "SELECT name, value FROM counters WHERE lane = ? AND name IN ('trace', 'batch')",
            (lane,),
        )
        return {name: int(value) for name, value in rows}

    def _set(self, lane: str, name: str, value: int) -> None:
        updated = self._db.execute(
            "UPDATE counters SET value = ? WHERE lane = ? AND name = ?", (value, lane, name)
        ).rowcount
        if not updated:
            self._db.execute(
                "INSERT INTO counters (lane, name, value) VALUES (?, ?, ?)", (lane, name, value)
            )


def codes_as_text(values: dict[str, Any]) -> dict[str, Any]:
    """An ``entries`` row's numeric codes (kept as integers since schema version 6) as the
    fixed-width digits the protocol gives them (``trace`` 46 -> ``000046``)."""
    for name, width in CODE_COLUMNS.items():
        if isinstance(values.get(name), int):
            values[name] = f"{values[name]:0{width}d}"
    return values


def _request_shape(request: Message) -> dict[str, Any]:
    """The request as kept (its JSON shape): without its MAC, which belongs to the
    session's keys and is computed afresh if the request is ever sent again."""
    return message_to_json(request.with_fields({64: None}), _DIALECT)


def _entry(row: sqlite3.Row) -> JournalEntry:
    values: dict[str, Any] = codes_as_text(dict(row))
    values["kind"] = Kind(values["kind"])
    values["state"] = EntryState(values["state"])
    values["request"] = json.loads(values["request"])
    if values["simulated"] is not None:
        values["simulated"] = bool(values["simulated"])
    return JournalEntry(**values)


