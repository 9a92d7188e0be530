"""Tamper evidence: every write to the journal's money and authority tables is chained.

Rows of ``entries`` change (pending, then approved), so a hash kept *in* a row
cannot chain them. Instead every insert, update and delete of a chained table
appends one record to ``chain`` (written by SQLite triggers in the same
transaction as the change, so no code path can skip it): the row's full
content as JSON, the previous record's hash, and the SHA-256 over both. A row
is trustworthy when the chain is unbroken and its last record equals the row
as it is now.

:func:`verify` therefore finds

* an *edited* row: its content differs from its last chain record;
* an *inserted* row: a row that has no chain record at all;
* a *deleted* row: a chain record whose row is gone;
* an edited, inserted or deleted *chain record*: its hash, or its link to the
  previous one, does not hold.

What it cannot find alone is the newest rows *and* their records cut off the
end together; :attr:`Verification.head` (the last hash) is printed so that a
shop can note it elsewhere (end-of-day report) and compare.

Digests (card tokens, password salts and hashes, the chain's own hashes) are
stored as raw bytes since schema version 4 (hex text let card-data scanners
read card numbers into them: :mod:`terminal.digest_text`). A record's JSON
shows a digest column as colon hex (``AB:CD:…``); its hash is taken, as it
always was, over the record with each digest written as plain lowercase hex and
over the previous hash as lowercase hex. So the hashes of records written
before version 4 still hold after the migration rewrote how their digests are
shown, and a head noted before the upgrade is still the head.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from terminal.digest_text import colon_hex

__all__ = [
    "CHAINED_COLUMNS",
    "CODE_COLUMNS",
    "DIGEST_COLUMNS",
    "ENTRIES_COLUMNS_V2",
    "FUNCTIONS",
    "HASH_FUNCTION",
    "Problem",
    "Verification",
    "chain_hash",
    "digest_content",
    "digest_shown",
    "digest_stored",
    "row_json_sql",
    "trigger_statements",
    "verify",
]

#: The SQL function the triggers call; registered on every journal connection.
HASH_FUNCTION = "journal_chain_hash"
#: SQL functions of the digests (triggers, the version 4 migration): see :data:`FUNCTIONS`.
SHOWN_FUNCTION = "journal_digest_shown"
STORED_FUNCTION = "journal_digest_stored"
CONTENT_FUNCTION = "journal_digest_content"

#: The columns holding a digest (raw bytes), per chained table.
DIGEST_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "entries": ("card_token",),
    "operators": ("salt", "password_hash"),
}
#: Numeric codes of ``entries`` kept as integers since schema version 6 (their digits side by
#: side in the file read as card numbers), with the width they are written in: a record's
#: JSON shows them as before, zero-padded text, so records written earlier still match.
CODE_COLUMNS: Mapping[str, int] = {
    "mti": 4, "trace": 6, "batch": 6, "local_date": 4, "local_time": 6,
    "original_trace": 6, "original_batch": 6, "original_date": 4,
}
_DIGEST_NAMES = "|".join(name for names in DIGEST_COLUMNS.values() for name in names)
#: A digest column in a record's JSON (``json_object`` writes no spaces; a key inside a
#: string value, as in ``request``, has its quotes escaped and is not matched).
_SHOWN = re.compile(rf'(?<=[{{,])"({_DIGEST_NAMES})":"([0-9A-F]{{2}}(?::[0-9A-F]{{2}})*)"')
#: How a digest column that holds a value starts in a record's JSON, and the value.
_DIGEST_KEYS = tuple(
    f'"{name}":"' for names in DIGEST_COLUMNS.values() for name in names
)
_HEX_VALUE = re.compile(r'([0-9A-F]{2}(?::[0-9A-F]{2})*)"')
_PLAIN = re.compile(rf'(?<=[{{,])"({_DIGEST_NAMES})":"((?:[0-9a-f]{{2}})+)"')

#: The chained columns of ``entries`` at schema version 2 (what its migration's triggers
#: hold: a journal upgraded from version 1 runs them before the later columns exist).
ENTRIES_COLUMNS_V2: tuple[str, ...] = (
    "id", "lane", "kind", "state", "mti", "trace", "batch", "amount_fen", "request",
    "created_at", "completed_at", "response_code", "rrn", "auth_code", "local_date",
    "local_time", "card_masked", "card_token", "original_id", "original_rrn",
    "original_trace", "original_batch", "original_date", "reason", "operator",
    "supervisor", "refund_reason", "refund_note", "alarm",
)

#: The columns each chained table's records hold, in this order (the current schema).
#: A migration that adds a column to one of these tables recreates its triggers.
CHAINED_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "entries": (*ENTRIES_COLUMNS_V2, "simulated", "card_organisation"),  # version 3
    "operators": (
        "id", "lane", "name", "role", "salt", "password_hash", "failures", "locked", "removed",
        "created_at", "updated_at",
    ),
    "audit": (
        "id", "lane", "at", "operator", "action", "authorised_by", "outcome", "detail",
        "entry_id",
    ),
    "saf": (
        "id", "lane", "entry_id", "action", "request", "state", "attempts", "next_at",
        "last_error", "updated_at", "owner",
    ),
}


def chain_hash(
    prev: bytes | str | None, table: str, op: str, row_id: Any, content: str | None
) -> bytes:
    """SHA-256 over the previous hash and one record; what the triggers store (32 bytes).

    Taken over the same text as before digests were stored as bytes: ``prev`` as
    lowercase hex, ``content`` with its digests as lowercase hex (a ``str`` ``prev``
    is such hex already: a journal being migrated from version 3 or older).
    """
    previous = prev.hex() if isinstance(prev, bytes) else (prev or "")
    digest = hashlib.sha256()
    for part in (previous, table, op, str(row_id), _hashed_content(content or "")):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.digest()


def digest_shown(value: Any) -> Any:
    """A stored digest as a record's JSON shows it (colon hex); other values as they are
    (text: a journal older than version 4 being migrated)."""
    return colon_hex(value) if isinstance(value, bytes) else value


def digest_stored(value: Any) -> Any:
    """A digest as version 4 stores it: hex text (older versions) becomes bytes."""
    return bytes.fromhex(value) if isinstance(value, str) else value


def digest_content(content: str | None) -> str | None:
    """A record written before version 4 with its digests shown as version 4 shows them."""
    if content is None:
        return None
    return _PLAIN.sub(lambda m: f'"{m[1]}":"{colon_hex(bytes.fromhex(m[2]))}"', content)


def _hashed_content(content: str) -> str:
    """``content`` with each digest as plain lowercase hex (what its hash is taken over).

    Every write runs this in SQLite's trigger while the cashier waits, so the digest
    keys are found with plain text search (C speed) and the value pattern is only
    tried where one stands, not at every position of a row's JSON.
    """
    found = sorted(
        (at, key) for key in _DIGEST_KEYS
        for at in _occurrences(content, key)
        if at > 0 and content[at - 1] in "{,"
    )
    if not found:
        return content
    pieces: list[str] = []
    done = 0
    for at, key in found:
        start = at + len(key)
        value = _HEX_VALUE.match(content, start)
        if value is None:
            continue
        pieces += (content[done:start], value[1].replace(":", "").lower(), '"')
        done = value.end()
    pieces.append(content[done:])
    return "".join(pieces)


def _occurrences(text: str, key: str) -> list[int]:
    places = []
    at = text.find(key)
    while at != -1:
        places.append(at)
        at = text.find(key, at + len(key))
    return places


#: Every SQL function a journal connection registers, by name.
FUNCTIONS: Mapping[str, Any] = {
    HASH_FUNCTION: chain_hash,
    SHOWN_FUNCTION: digest_shown,
    STORED_FUNCTION: digest_stored,
    CONTENT_FUNCTION: digest_content,
}


def row_json_sql(table: str, alias: str, columns: tuple[str, ...] | None = None) -> str:
    """``json_object(...)`` over ``table``'s chained columns (``columns``: those of an older
    schema version, for its migration) of row ``alias`` (NEW, OLD, t); digests as colon hex."""
    names = columns or CHAINED_COLUMNS[table]
    return f"json_object({', '.join(_json_pair(table, alias, name) for name in names)})"


def _json_pair(table: str, alias: str, name: str) -> str:
    value = f"{alias}.{name}"
    if name in DIGEST_COLUMNS.get(table, ()):
        return f"'{name}', {SHOWN_FUNCTION}({value})"
    if table == "entries" and name in CODE_COLUMNS:
        padded = f"printf('%0{CODE_COLUMNS[name]}d', {value})"
        return f"'{name}', CASE typeof({value}) WHEN 'integer' THEN {padded} ELSE {value} END"
    return f"'{name}', {value}"


def trigger_statements(table: str, columns: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The three triggers that append ``table``'s inserts, updates and deletes to ``chain``
    (holding ``columns``, by default the current schema's chained columns)."""
    statements = []
    for op, alias in (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD")):
        content = row_json_sql(table, alias, columns)
        statements.append(
            f"""CREATE TRIGGER {table}_chain_{op} AFTER {op.upper()} ON {table} BEGIN
                INSERT INTO chain (lane, tbl, row_id, op, content, prev_hash, hash)
                SELECT {alias}.lane, '{table}', {alias}.id, '{op}', c.content, p.h,
                       {HASH_FUNCTION}(p.h, '{table}', '{op}', {alias}.id, c.content)
                FROM (SELECT {content} AS content) AS c,
                     (SELECT COALESCE((SELECT hash FROM chain ORDER BY seq DESC LIMIT 1), X'')
                      AS h) AS p;
            END"""
        )
    return tuple(statements)


@dataclass(frozen=True)
class Problem:
    """One thing :func:`verify` found: which row (``table:id``, or ``chain:seq``) and what."""

    row: str
    problem: str

    def to_dict(self) -> dict[str, str]:
        return {"row": self.row, "problem": self.problem}


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`: ok when no problem was found."""

    records: int
    rows: int
    head: bytes
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "records": self.records, "rows": self.rows,
            "head": colon_hex(self.head),
            "problems": [p.to_dict() for p in self.problems],
        }


def verify(connection: sqlite3.Connection) -> Verification:
    """Check the triggers, the chain, then every chained row against its last record."""
    problems: list[Problem] = []
    triggers = connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    present = {row[0] for row in triggers}
    for table in CHAINED_COLUMNS:
        for op in ("insert", "update", "delete"):
            if f"{table}_chain_{op}" not in present:
                problems.append(Problem(
                    "schema", f"trigger {table}_chain_{op} is missing: writes go unchained"
                ))
    last: dict[tuple[str, str], tuple[str, str | None]] = {}  # (tbl, id) -> (op, content)
    prev = b""
    count = 0
    for seq, table, row_id, op, content, prev_hash, stored in connection.execute(
        "SELECT seq, tbl, row_id, op, content, prev_hash, hash FROM chain ORDER BY seq"
    ):
        count += 1
        where = f"{table}:{row_id}"
        if (prev_hash or b"") != prev:
            problems.append(Problem(
                where, f"chain record {seq} does not follow the one before it: a record"
                " before it was deleted, or this one inserted",
            ))
        if chain_hash(prev_hash, table, op, row_id, content) != stored:
            problems.append(Problem(where, f"chain record {seq} was edited or forged"))
        prev = stored
        last[(table, str(row_id))] = (op, content)
    rows = 0
    seen: set[tuple[str, str]] = set()
    for table in CHAINED_COLUMNS:
        for row_id, content in connection.execute(
            f"SELECT t.id, {row_json_sql(table, 't')} FROM {table} AS t ORDER BY t.id"
        ):
            rows += 1
            key = (table, str(row_id))
            seen.add(key)
            record = last.get(key)
            if record is None or record[0] == "delete":
                problems.append(Problem(f"{table}:{row_id}", "inserted outside the journal"))
            elif record[1] != content:
                problems.append(
                    Problem(f"{table}:{row_id}", f"edited: {_changed(record[1], content)}")
                )
    for (table, row_id), (op, _) in last.items():
        if op != "delete" and (table, row_id) not in seen:
            problems.append(Problem(f"{table}:{row_id}", "deleted"))
    return Verification(count, rows, prev, problems)


def _changed(recorded: str | None, current: str) -> str:
    """Which columns differ (names only: the values may be card data or hashes)."""
    before = json.loads(recorded or "{}")
    after = json.loads(current)
    names = sorted(k for k in after if before.get(k) != after.get(k))
    return ", ".join(names) if names else "content differs"
