"""The journal's schema, one list of migrations; SQL kept portable (no SQLite-only types).

Every table has ``lane`` (the terminal id), so that several lanes can one day
share one journal on a server database; the statements use only standard SQL
types and constraints so that a PostgreSQL backend can run them as they are
(``INTEGER PRIMARY KEY`` there becomes an identity column).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

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
)
SCHEMA_VERSION = len(MIGRATIONS)
