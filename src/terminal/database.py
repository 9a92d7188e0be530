"""SQLite files kept the way money needs them: WAL, ``synchronous=FULL``, versioned schema.

Shared by the host's journal (:mod:`terminal.journal`) and the simulator's books
(:mod:`simulator.ledger`): each passes its own list of migrations. The schema
version is SQLite's ``user_version``; opening a file applies the migrations it
has not seen yet, each in its own transaction, and refuses a file written by a
newer version of the program rather than guessing at its tables. SQLite's own
file locking serialises writers across processes and platforms, so no
``fcntl`` (or any lock file) is needed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from terminal.errors import ConfigError

__all__ = ["BUSY_TIMEOUT_MS", "Migration", "open_database", "transaction"]

#: How long a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_MS = 30_000

#: One schema step: the SQL statements that take version ``n`` to ``n + 1``.
Migration = Sequence[str]


def open_database(
    path: Path | str,
    migrations: Sequence[Migration],
    *,
    what: str,
    functions: Mapping[str, Callable[..., object]] | None = None,
) -> sqlite3.Connection:
    """Open (creating if needed) the SQLite file at ``path`` and bring its schema up to date.

    ``what`` names the file in errors ("journal", "simulator books"). ``functions``
    are SQL functions (deterministic, by name) the schema's triggers call; they are
    registered before the migrations run. The
    connection is in autocommit mode: every write goes through
    :func:`transaction`. ``":memory:"`` gives a private in-memory database.
    """
    in_memory = str(path) == ":memory:"
    if not in_memory:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the directory of the {what} {path}: {exc}") from exc
    try:
        connection = sqlite3.connect(
            str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
        connection.row_factory = sqlite3.Row
        for name, function in (functions or {}).items():
            connection.create_function(name, -1, function, deterministic=True)
        if not in_memory:
            mode = _enter_wal_mode(connection)
            if str(mode).lower() != "wal":
                raise ConfigError(f"the {what} {path} cannot use WAL mode (got {mode})")
        connection.execute("PRAGMA synchronous=FULL")
        # Deleted and superseded content is overwritten with zeros, not left in free pages
        # (a migration that rewrites a table would otherwise leave its old rows readable).
        connection.execute("PRAGMA secure_delete=ON")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _migrate(connection, migrations, what=what, path=path)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"cannot open the {what} {path}: {exc}") from exc
    return connection


def _enter_wal_mode(connection: sqlite3.Connection) -> str:
    """``PRAGMA journal_mode=WAL``, retried while another process holds the file.

    Switching a file to WAL takes an exclusive lock, and SQLite answers "database
    is locked" at once, without its busy handler, when processes open a fresh
    file together (two lanes starting, or a CLI command beside the simulator):
    so the wait the busy timeout promises is kept here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return str(connection.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (``BEGIN IMMEDIATE``), committed or rolled back.

    Taking the write lock at the start means what is read inside cannot be
    changed by another process before the write that depends on it.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _migrate(
    connection: sqlite3.Connection, migrations: Sequence[Migration], *, what: str, path: object
) -> None:
    """Apply the migrations ``path`` has not seen, in one transaction.

    Foreign keys are off meanwhile and checked whole before the commit: SQLite's own
    recipe for a migration that rebuilds a table others refer to (create the new
    layout, copy, drop the old, rename), which with them on would drop the rows
    referring to it or fail. The pragma has no effect inside a transaction, hence here.
    """
    known = len(migrations)
    connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with transaction(connection):
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > known:
                raise ConfigError(
                    f"the {what} {path} has schema version {version}; this program knows "
                    f"up to {known}: use a newer version of terminal"
                )
            for number in range(version, known):
                for statement in migrations[number]:
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version={number + 1}")
            if version < known:
                broken = connection.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise ConfigError(
                        f"the {what} {path} cannot be brought to schema version {known}: "
                        f"{len(broken)} row(s) refer to rows that are not there "
                        f"(first: table {broken[0][0]}, row {broken[0][1]})"
                    )
    finally:
        connection.execute("PRAGMA foreign_keys=ON")
