"""The journal's schema, one list of migrations; SQL kept portable (no SQLite-only types).

Every table has ``lane`` (the terminal id), so that several lanes can one day
share one journal on a server database; the statements use only standard SQL
types and constraints so that a PostgreSQL backend can run them as they are
(``INTEGER PRIMARY KEY`` there becomes an identity column).
"""

from __future__ import annotations

from terminal.journal.chain import (
    CHAINED_COLUMNS,
    CONTENT_FUNCTION,
    ENTRIES_COLUMNS_V2,
    STORED_FUNCTION,
    trigger_statements,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]


# The helpers below write statements of migrations already released: what they return
# for the arguments a migration gives them must never change (a journal migrated by an
# older release must end as one migrated by this one). A new layout is a new migration.

#: Every index since version 5, by name: what it is on.
_INDEXES = {
    "entries_rrn": "entries (rrn, kind)",
    "entries_trace": "entries (trace, local_date)",
    "entries_batch": "entries (batch, state)",
    "entries_original": "entries (original_id)",
    "entries_amount": "entries (amount_fen, created_at)",
    "entries_created": "entries (created_at)",
    "audit_at": "audit (at)",
    "saf_lane_state": "saf (lane, state)",
}


def _create_index(name: str) -> str:
    return f"CREATE INDEX {name} ON {_INDEXES[name]}"


def _rebuild(table: str, columns: str, *indexes: str) -> tuple[str, ...]:
    """SQLite's way to change a table's layout: the new one beside it, the rows copied by
    column name, the old one dropped and the new one renamed; then ``indexes`` (names in
    :data:`_INDEXES`) created again, in that order, since the table's went with the old."""
    names = [line.split()[0] for line in columns.strip().splitlines()
             if not line.strip().startswith(("UNIQUE", "PRIMARY", "FOREIGN"))]
    listed = ", ".join(names)
    return (
        f"CREATE TABLE {table}_new ({columns}\n        )",
        f"INSERT INTO {table}_new ({listed}) SELECT {listed} FROM {table} ORDER BY id",
        f"DROP TABLE {table}",
        f"ALTER TABLE {table}_new RENAME TO {table}",
        *(_create_index(name) for name in indexes),
    )


def _unchained(*statements: str) -> tuple[str, ...]:
    """``statements`` run with the chain's triggers set aside: every chained table's
    dropped before and created again after, so that what they change adds no records."""
    return (
        *(f"DROP TRIGGER {table}_chain_{op}" for table in CHAINED_COLUMNS
          for op in ("insert", "update", "delete")),
        *statements,
        *(statement for table in CHAINED_COLUMNS for statement in trigger_statements(table)),
    )


MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE counters (
            lane VARCHAR(8) NOT NULL,
            name VARCHAR(16) NOT NULL,
            value INTEGER NOT NULL,
            PRIMARY KEY (lane, name)
        )""",
        """CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            kind VARCHAR(24) NOT NULL,
            state VARCHAR(12) NOT NULL,
            mti CHAR(4) NOT NULL,
            trace CHAR(6) NOT NULL,
            batch CHAR(6) NOT NULL,
            amount_fen BIGINT,
            request TEXT NOT NULL,
            created_at VARCHAR(32) NOT NULL,
            completed_at VARCHAR(32),
            response_code VARCHAR(2),
            rrn VARCHAR(12),
            auth_code VARCHAR(6),
            local_date CHAR(4),
            local_time CHAR(6),
            card_masked VARCHAR(19),
            card_token VARCHAR(64),
            original_id INTEGER REFERENCES entries (id),
            original_rrn VARCHAR(12),
            original_trace CHAR(6),
            original_batch CHAR(6),
            original_date CHAR(4),
            reason VARCHAR(200)
        )""",
        "CREATE INDEX entries_lane_rrn ON entries (lane, rrn)",
        "CREATE INDEX entries_lane_trace ON entries (lane, trace, local_date)",
        "CREATE INDEX entries_lane_batch ON entries (lane, batch, state)",
        "CREATE INDEX entries_original ON entries (original_id)",
        """CREATE TABLE sessions (
            lane VARCHAR(8) NOT NULL PRIMARY KEY,
            working_keys VARCHAR(120) NOT NULL,
            signed_on_at VARCHAR(32) NOT NULL
        )""",
    ),
    # 2: who did it and why (operators, supervisors, refund reasons), the audit trail,
    # the store-and-forward queue of reversals and resends, and the hash chain over
    # all of them (:mod:`terminal.journal.chain`; triggers are SQLite's, the one
    # non-portable part: a server backend writes the same records from its own triggers).
    (
        "ALTER TABLE entries ADD COLUMN operator VARCHAR(16)",
        "ALTER TABLE entries ADD COLUMN supervisor VARCHAR(16)",
        "ALTER TABLE entries ADD COLUMN refund_reason VARCHAR(16)",
        "ALTER TABLE entries ADD COLUMN refund_note VARCHAR(200)",
        "ALTER TABLE entries ADD COLUMN alarm VARCHAR(200)",
        # "The customer lost the receipt": amount and day first, then the card's last 4.
        "CREATE INDEX entries_lane_amount ON entries (lane, amount_fen, created_at)",
        "CREATE INDEX entries_lane_created ON entries (lane, created_at)",
        """CREATE TABLE operators (
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            name VARCHAR(16) NOT NULL,
            role VARCHAR(12) NOT NULL,
            salt VARCHAR(64) NOT NULL,
            password_hash VARCHAR(128) NOT NULL,
            failures INTEGER NOT NULL,
            locked INTEGER NOT NULL,
            removed INTEGER NOT NULL,
            created_at VARCHAR(32) NOT NULL,
            updated_at VARCHAR(32) NOT NULL,
            UNIQUE (lane, name)
        )""",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            at VARCHAR(32) NOT NULL,
            operator VARCHAR(16),
            action VARCHAR(32) NOT NULL,
            authorised_by VARCHAR(16),
            outcome VARCHAR(32) NOT NULL,
            detail VARCHAR(400),
            entry_id INTEGER
        )""",
        "CREATE INDEX audit_lane_at ON audit (lane, at)",
        """CREATE TABLE saf (
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            entry_id INTEGER NOT NULL UNIQUE REFERENCES entries (id),
            action VARCHAR(12) NOT NULL,
            request TEXT NOT NULL,
            state VARCHAR(12) NOT NULL,
            attempts INTEGER NOT NULL,
            next_at VARCHAR(32),
            last_error VARCHAR(400),
            updated_at VARCHAR(32) NOT NULL,
            owner VARCHAR(80) NOT NULL
        )""",
        "CREATE INDEX saf_lane_state ON saf (lane, state)",
        """CREATE TABLE chain (
            seq INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            tbl VARCHAR(16) NOT NULL,
            row_id INTEGER NOT NULL,
            op VARCHAR(8) NOT NULL,
            content TEXT,
            prev_hash CHAR(64) NOT NULL,
            hash CHAR(64) NOT NULL
        )""",
        *trigger_statements("entries", ENTRIES_COLUMNS_V2),
        *trigger_statements("operators"),
        *trigger_statements("audit"),
        *trigger_statements("saf"),
        # Rows written before the chain existed become its first records (the update
        # trigger fires once per row, in order, each record linked to the one before).
        "UPDATE entries SET alarm = NULL",
    ),
    # 3: where the exchange went (1 the simulator, 0 a real acquirer, NULL written before
    # this version) and field 63's card organisation, so that a reprint says what the
    # first print said; the entries triggers are recreated to chain the new columns, and
    # every row is chained once more with them (as version 2 did).
    (
        "ALTER TABLE entries ADD COLUMN simulated SMALLINT",
        "ALTER TABLE entries ADD COLUMN card_organisation VARCHAR(63)",
        "DROP TRIGGER entries_chain_insert",
        "DROP TRIGGER entries_chain_update",
        "DROP TRIGGER entries_chain_delete",
        *trigger_statements("entries"),
        "UPDATE entries SET simulated = NULL",
    ),
    # 4: digests as bytes. Card tokens, password salts and hashes and the chain's hashes
    # were lowercase hex text, and a stretch of hex that is all digits reads as a card
    # number to the scanners acceptance runs over our files. SQLite keeps a BLOB as given
    # whatever a column's declared type, so the columns stay (a server backend declares
    # them BYTEA). The chain records keep their hashes: the triggers are set aside while
    # the values change form, every record's JSON shows its digests as colon hex from
    # now on, and a record's hash is still taken over the digests as lowercase hex
    # (:func:`terminal.journal.chain.chain_hash`). The whole step is one transaction.
    _unchained(
        f"UPDATE entries SET card_token = {STORED_FUNCTION}(card_token)"
        " WHERE typeof(card_token) = 'text'",
        f"UPDATE operators SET salt = {STORED_FUNCTION}(salt),"
        f" password_hash = {STORED_FUNCTION}(password_hash)",
        f"UPDATE chain SET content = {CONTENT_FUNCTION}(content),"
        f" prev_hash = {STORED_FUNCTION}(prev_hash), hash = {STORED_FUNCTION}(hash)",
    ),
    # 5: indexes whose entries do not read as card numbers. SQLite writes an index entry's
    # columns back to back, so lane + trace + date (18 digits), lane + batch (14) and
    # lane + day ("100080602026-11-28": 16, joined by dashes as scanners allow) stood in
    # the file as one number, a Luhn-valid one for one trace, batch or day in ten. Each
    # index now leads with the column it is searched by and keeps digit columns apart
    # (lookups filter the lane from the rows found: a journal holds few lanes).
    (
        "DROP INDEX entries_lane_rrn",
        "DROP INDEX entries_lane_trace",
        "DROP INDEX entries_lane_batch",
        "DROP INDEX entries_lane_amount",
        "DROP INDEX entries_lane_created",
        "DROP INDEX audit_lane_at",
        *(_create_index(name) for name in ("entries_rrn", "entries_trace", "entries_batch",
                                           "entries_amount", "entries_created", "audit_at")),
    ),
    # 6: rows whose columns do not read as card numbers. SQLite writes a row's columns
    # back to back: mti + trace + batch stood in the file as 16 digits (mti 0200,
    # trace 000049, batch 000001 with no gaps), a created_at's microseconds and a
    # completed_at's date as 14 (microseconds 924275, then the day 2026-11-28 joined
    # by dashes), lane + an audit row's day as 16; one row in ten passed the
    # Luhn check. The four chained tables are rebuilt in a column order that puts text
    # that is no digits (kind, state, request, action, role) or a number kept as one
    # (the codes of n format are now INTEGER: mti, trace, batch, dates and times) between
    # any two digit columns. The chain's records show the codes zero-padded as before
    # (:data:`terminal.journal.chain.CODE_COLUMNS`), so every record still matches its row
    # and nothing is re-chained. Foreign keys are checked after the rebuild
    # (:func:`terminal.database._migrate`).
    _unchained(
        *_rebuild("entries", """
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            kind VARCHAR(24) NOT NULL,
            rrn VARCHAR(12),
            state VARCHAR(12) NOT NULL,
            original_rrn VARCHAR(12),
            request TEXT NOT NULL,
            created_at VARCHAR(32) NOT NULL,
            mti SMALLINT NOT NULL,
            completed_at VARCHAR(32),
            local_date SMALLINT,
            response_code VARCHAR(2),
            auth_code VARCHAR(6),
            card_token BLOB,
            card_masked VARCHAR(19),
            card_organisation VARCHAR(63),
            trace INTEGER NOT NULL,
            batch INTEGER NOT NULL,
            amount_fen BIGINT,
            local_time INTEGER,
            original_id INTEGER REFERENCES entries (id),
            original_trace INTEGER,
            original_batch INTEGER,
            original_date SMALLINT,
            reason VARCHAR(200),
            refund_reason VARCHAR(16),
            operator VARCHAR(16),
            refund_note VARCHAR(200),
            supervisor VARCHAR(16),
            alarm VARCHAR(200),
            simulated SMALLINT""", "entries_rrn", "entries_trace", "entries_batch",
                  "entries_original", "entries_amount", "entries_created"),
        *_rebuild("operators", """
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            role VARCHAR(12) NOT NULL,
            created_at VARCHAR(32) NOT NULL,
            salt BLOB NOT NULL,
            name VARCHAR(16) NOT NULL,
            password_hash BLOB NOT NULL,
            updated_at VARCHAR(32) NOT NULL,
            failures INTEGER NOT NULL,
            locked INTEGER NOT NULL,
            removed INTEGER NOT NULL,
            UNIQUE (lane, name)"""),
        *_rebuild("audit", """
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            action VARCHAR(32) NOT NULL,
            at VARCHAR(32) NOT NULL,
            outcome VARCHAR(32) NOT NULL,
            operator VARCHAR(16),
            detail VARCHAR(400),
            authorised_by VARCHAR(16),
            entry_id INTEGER""", "audit_at"),
        *_rebuild("saf", """
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            action VARCHAR(12) NOT NULL,
            next_at VARCHAR(32),
            state VARCHAR(12) NOT NULL,
            updated_at VARCHAR(32) NOT NULL,
            request TEXT NOT NULL,
            last_error VARCHAR(400),
            owner VARCHAR(80) NOT NULL,
            entry_id INTEGER NOT NULL UNIQUE REFERENCES entries (id),
            attempts INTEGER NOT NULL""", "saf_lane_state"),
    ),
    # 7: the junctions version 6 left, found by an unanchored scanner and by all-digit
    # operator ids (cashier numbers). A NULL column takes no bytes in a row, and neither
    # does an integer 0 or 1, so the columns on either side of one meet: with no local
    # date, a completed_at's microseconds, the response code and the authorisation code
    # made 14 digits (20 with a card number's first six after them, no token between);
    # a void's operator and supervisor stood side by side (no refund note between), as
    # did an audit row's operator and authoriser (no detail); and the operators' unique
    # key wrote the lane and the name back to back (8 digits and a cashier number). Now
    # the codes stand after the local date and the trace, the operator and the supervisor
    # apart (the amount between), the audit's operator between two words, and operators
    # are unique by name, a colon and the lane. Old rows are copied as they are (and
    # still match their chain records: a record names its columns, their order is no
    # part of it); a settlement journaled before its field 48 was split keeps its 62
    # digits in its request and its two chain records, which cannot change without
    # rewriting the chain.
    _unchained(
        *_rebuild("entries", """
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            kind VARCHAR(24) NOT NULL,
            rrn VARCHAR(12),
            state VARCHAR(12) NOT NULL,
            original_rrn VARCHAR(12),
            request TEXT NOT NULL,
            created_at VARCHAR(32) NOT NULL,
            mti SMALLINT NOT NULL,
            completed_at VARCHAR(32),
            local_date SMALLINT,
            trace INTEGER NOT NULL,
            response_code VARCHAR(2),
            auth_code VARCHAR(6),
            card_token BLOB,
            card_masked VARCHAR(19),
            card_organisation VARCHAR(63),
            operator VARCHAR(16),
            amount_fen BIGINT,
            supervisor VARCHAR(16),
            batch INTEGER NOT NULL,
            local_time INTEGER,
            original_id INTEGER REFERENCES entries (id),
            original_trace INTEGER,
            original_batch INTEGER,
            original_date SMALLINT,
            reason VARCHAR(200),
            refund_reason VARCHAR(16),
            refund_note VARCHAR(200),
            alarm VARCHAR(200),
            simulated SMALLINT""", "entries_rrn", "entries_trace", "entries_batch",
                  "entries_original", "entries_amount", "entries_created"),
        *_rebuild("operators", """
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            role VARCHAR(12) NOT NULL,
            created_at VARCHAR(32) NOT NULL,
            salt BLOB NOT NULL,
            name VARCHAR(16) NOT NULL,
            password_hash BLOB NOT NULL,
            updated_at VARCHAR(32) NOT NULL,
            failures INTEGER NOT NULL,
            locked INTEGER NOT NULL,
            removed INTEGER NOT NULL"""),
        # A name holds no colon (terminal.operators), so this is (lane, name) unique.
        "CREATE UNIQUE INDEX operators_name_lane ON operators ((name || ':' || lane))",
        *_rebuild("audit", """
            id INTEGER PRIMARY KEY,
            lane VARCHAR(8) NOT NULL,
            action VARCHAR(32) NOT NULL,
            operator VARCHAR(16),
            outcome VARCHAR(32) NOT NULL,
            at VARCHAR(32) NOT NULL,
            detail VARCHAR(400),
            authorised_by VARCHAR(16),
            entry_id INTEGER""", "audit_at"),
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
