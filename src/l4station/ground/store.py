"""The archive: one table per packet type (engineering values keyed by sample time), the ingest
batches, data gaps and alerts, in SQLite (default: embedded, write-ahead log) or PostgreSQL
(operations), through one code path.

Both back ends speak the same SQL (``INSERT ... ON CONFLICT DO NOTHING`` makes every write
idempotent); the differences are the driver, its placeholder and how a writer takes the archive's
single write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL a transaction advisory lock), so that
batches commit in the order of their numbers and readers can follow them incrementally.
Every batch is one transaction: committed data survive a crash of the writer.

A reader asks for the archive read-only in the URL:

>>> read_only("sqlite:///ops.db?mode=ro"), read_only("sqlite:///ops.db")
(True, False)
"""
from __future__ import annotations

import itertools
import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import numpy as np

from l4station.constants import DAY_US
from l4station.ground import packets

WRITE_LOCK_KEY = 0x4C3453   # "L4S": PostgreSQL advisory lock id for the single writer


class ArchiveError(ValueError):
    """A database URL or archive that cannot be used, said in one line."""


# Which archived samples are fit to forecast and verify with (SQL conditions):
FEED_GOOD = "quality = 0 AND active = 1"      # a feed row of normal quality from the active spacecraft
STATION_GOOD = "quality <= 1"                  # the station's own samples, good or degraded


def iso(t_us: int) -> str:
    """An archive time (Unix microseconds) as ISO UTC to the second, e.g. 2026-05-01T12:00:00Z."""
    return str(np.datetime64(int(t_us) // 1_000_000, "s")) + "Z"


def first_line(error: Exception, empty: str = "") -> str:
    """The first line of a driver's message (PostgreSQL's run to several), or ``empty``."""
    text = str(error).strip()
    return text.splitlines()[0] if text else (empty or type(error).__name__)


@dataclass(frozen=True)
class Gap:
    name: str           # packet type
    start_us: int       # last sample before the gap
    stop_us: int        # first sample after it
    missing: int        # packets missing (from the cadence and the sequence count)


def _columns() -> dict[str, list[str]]:
    """Column names of every table of the archive (as made by _tables and the batches table)."""
    columns = {p.name: ["t_us", "seq", "received_us", "batch", *(f.name for f in p.fields)]
               for p in packets.dictionary().values()}
    return columns | {"gaps": ["packet", "start_us", "stop_us", "missing"],
                      "alerts": ["kind", "parameter", "level", "start_us", "stop_us", "value", "message"],
                      "batches": ["id", "source", "received_us", "summary"]} | {
        name: [column for column, _ in spec] for name, spec in OTHER_TABLES.items()}


FEED_KEY = ["source", "spacecraft", "t_us"]
OTHER_TABLES: dict[str, list[tuple[str, str]]] = {
    # observations from other vantage points (feeds): one row per source, spacecraft and sample time
    "feed_wind": [("source", "TEXT NOT NULL"), ("spacecraft", "TEXT NOT NULL"), ("t_us", "BIGINT NOT NULL"),
                  ("point", "TEXT NOT NULL"),
                  ("speed", "DOUBLE PRECISION"), ("density", "DOUBLE PRECISION"), ("temperature", "DOUBLE PRECISION"),
                  ("quality", "INTEGER"), ("active", "INTEGER"), ("received_us", "BIGINT NOT NULL"),
                  ("batch", "BIGINT NOT NULL")],
    "feed_mag": [("source", "TEXT NOT NULL"), ("spacecraft", "TEXT NOT NULL"), ("t_us", "BIGINT NOT NULL"),
                  ("point", "TEXT NOT NULL"),
                 ("bt", "DOUBLE PRECISION"), ("bx_gsm", "DOUBLE PRECISION"), ("by_gsm", "DOUBLE PRECISION"),
                 ("bz_gsm", "DOUBLE PRECISION"), ("quality", "INTEGER"), ("active", "INTEGER"),
                 ("received_us", "BIGINT NOT NULL"), ("batch", "BIGINT NOT NULL")],
    # CME analyses entered by forecasters (DONKI-style)
    "cmes": [("id", "TEXT NOT NULL"), ("time21_5_us", "BIGINT NOT NULL"), ("latitude", "DOUBLE PRECISION NOT NULL"),
             ("longitude", "DOUBLE PRECISION NOT NULL"), ("half_angle", "DOUBLE PRECISION NOT NULL"),
             ("speed", "DOUBLE PRECISION NOT NULL"), ("type", "TEXT NOT NULL"), ("received_us", "BIGINT NOT NULL")],
    # forecast runs and their hourly values per target
    "forecast_runs": [("run_id", "TEXT NOT NULL"), ("issue_us", "BIGINT NOT NULL"), ("model_version", "TEXT NOT NULL"),
                      ("inputs_key", "TEXT NOT NULL"), ("inputs", "TEXT NOT NULL"), ("flags", "TEXT NOT NULL"),
                      ("cmes", "TEXT NOT NULL"), ("band_scale", "TEXT")],
    # watches and warnings in SWPC's message form
    "watches": [("serial", "BIGINT NOT NULL"), ("product_id", "TEXT NOT NULL"), ("key", "TEXT NOT NULL"),
                ("issue_us", "BIGINT NOT NULL"), ("start_us", "BIGINT NOT NULL"), ("stop_us", "BIGINT NOT NULL"),
                ("status", "TEXT NOT NULL"), ("refers", "BIGINT"), ("message", "TEXT NOT NULL")],
    "forecast_values": [("run_id", "TEXT NOT NULL"), ("target", "TEXT NOT NULL"), ("t_us", "BIGINT NOT NULL"),
                        ("vr", "DOUBLE PRECISION"), ("vr_p10", "DOUBLE PRECISION"), ("vr_p90", "DOUBLE PRECISION"),
                        ("vr_p50", "DOUBLE PRECISION")],
    # the archive's alert policy (alerts.SETTINGS), so that every writer raises the same alerts
    "settings": [("name", "TEXT NOT NULL"), ("value", "TEXT NOT NULL")],
    # files delivered whole by CFDP (l4station.comms.dtn.cfdp); BYTES is BLOB or BYTEA by dialect
    "files": [("name", "TEXT NOT NULL"), ("received_us", "BIGINT NOT NULL"), ("octets", "BIGINT NOT NULL"),
              ("crc32", "TEXT NOT NULL"), ("source", "TEXT NOT NULL"), ("content", "BYTES NOT NULL")],
}
# Columns added after a table's first release (nullable): an older archive gains them when it is
# opened for writing, and reads them as NULL (see Archive.has) until then.
ADDED_COLUMNS = {"forecast_values": ["vr_p50"], "forecast_runs": ["band_scale"]}
OTHER_KEYS = {"feed_wind": FEED_KEY, "feed_mag": FEED_KEY, "cmes": ["id"], "forecast_runs": ["run_id"],
              "forecast_values": ["run_id", "target", "t_us"], "watches": ["serial"], "settings": ["name"],
              "files": ["name"]}
COMPLETABLE = {"feed_wind": ["speed", "density", "temperature", "quality", "active"],
               "feed_mag": ["bt", "bx_gsm", "by_gsm", "bz_gsm", "quality", "active"]}
OTHER_INDEXES = {"forecast_runs_issue": "forecast_runs (issue_us)", "forecast_runs_inputs": "forecast_runs (inputs_key)",
                 "feed_wind_time": "feed_wind (t_us)", "feed_wind_batch": "feed_wind (batch)",
                 "feed_mag_time": "feed_mag (t_us)", "feed_mag_batch": "feed_mag (batch)"}


def _tables() -> dict[str, str]:
    """CREATE TABLE statements (portable SQL) for every table of the archive."""
    tables = {}
    for p in packets.dictionary().values():
        fields = ", ".join(f"{f.name} DOUBLE PRECISION" for f in p.fields)
        tables[p.name] = (f"CREATE TABLE IF NOT EXISTS {p.name} (t_us BIGINT PRIMARY KEY, seq INTEGER NOT NULL, "
                          f"received_us BIGINT NOT NULL, batch BIGINT NOT NULL, {fields})")
        # readers follow the archive by batch number: which days did the latest batches touch?
        tables[f"{p.name}_batch"] = f"CREATE INDEX IF NOT EXISTS {p.name}_batch ON {p.name} (batch)"
    tables["gaps"] = ("CREATE TABLE IF NOT EXISTS gaps (packet TEXT NOT NULL, start_us BIGINT NOT NULL, "
                      "stop_us BIGINT NOT NULL, missing INTEGER NOT NULL, PRIMARY KEY (packet, start_us))")
    tables["alerts"] = ("CREATE TABLE IF NOT EXISTS alerts (kind TEXT NOT NULL, parameter TEXT NOT NULL, "
                        "level TEXT NOT NULL, start_us BIGINT NOT NULL, stop_us BIGINT, value DOUBLE PRECISION, "
                        "message TEXT NOT NULL, PRIMARY KEY (kind, parameter, level, start_us))")
    for name, spec in OTHER_TABLES.items():
        columns = ", ".join(f"{column} {kind}" for column, kind in spec)
        tables[name] = f"CREATE TABLE IF NOT EXISTS {name} ({columns}, PRIMARY KEY ({', '.join(OTHER_KEYS[name])}))"
    for index, target in OTHER_INDEXES.items():
        tables[index] = f"CREATE INDEX IF NOT EXISTS {index} ON {target}"
    return tables


SQLITE_MODES = ("ro", "rw", "rwc")    # SQLite URI modes: read-only, read-write, read-write-create


def _sqlite_target(url: str) -> tuple[str, str]:
    """(file path, SQLite open mode) of ``sqlite:///path.db[?mode=ro|rw|rwc]``."""
    rest = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
    path, _, query = rest.partition("?")
    if not path:
        raise ArchiveError(f"bad database URL {url!r}: write sqlite:///path/to/archive.db")
    params = parse_qs(query, keep_blank_values=True) if query else {}
    if set(params) - {"mode"}:
        raise ArchiveError(f"unsupported parameter {sorted(set(params) - {'mode'})[0]!r} in {url!r}: "
                           "SQLite archives take only ?mode=ro, rw or rwc")
    if len(params.get("mode", [])) > 1:
        raise ArchiveError(f"mode given {len(params['mode'])} times in {url!r}: give ?mode=ro, rw or rwc once")
    mode = params.get("mode", ["rwc"])[-1]
    if mode not in SQLITE_MODES:
        raise ArchiveError(f"bad mode {mode!r} in {url!r}: use ?mode=ro, rw or rwc")
    return path, mode


def read_only(url: str) -> bool:
    """True if ``url`` asks for the archive read-only (``sqlite:///path.db?mode=ro``)."""
    return url.startswith("sqlite:///") and _sqlite_target(url)[1] == "ro"


def _check_sqlite_file(url: str, path: str, mode: str, create: bool) -> bool:
    """Refuse, in one line, a file that cannot serve as the archive; True if it exists already."""
    file = Path(path)
    try:
        status = file.stat()
    except FileNotFoundError:
        status = None
    except OSError as error:      # name too long, a path through a regular file, ...
        raise ArchiveError(f"cannot open the archive {path}: {error.strerror}; choose another path") from None
    if status is not None and file.is_dir():
        raise ArchiveError(f"{path} is a folder: give the archive's file, e.g. sqlite:///{file / 'archive.db'}")
    if status is None:
        if not create or mode != "rwc":
            raise ArchiveError(f"no archive at {path}: ingest some data first (l4station ingest FILE --db {url})")
        if not file.parent.exists():
            raise ArchiveError(f"folder {file.parent} does not exist: create it or choose another path")
        if not file.parent.is_dir():
            raise ArchiveError(f"{file.parent} is not a folder: choose another path")
    if create:
        if mode == "ro":
            raise ArchiveError(f"{url} opens the archive read-only (mode=ro), and writing needs it writable: "
                               "drop ?mode=ro")
        target = file if status is not None else file.parent
        if not os.access(target, os.W_OK):
            what = "archive" if status is not None else "folder"
            raise ArchiveError(f"the {what} {target} is read-only: choose a writable --db or change its permissions")
    return status is not None


def _create_file(path: str) -> bool:
    """Create the archive's empty file (SQLite starts a database in it); True if this call made it,
    False if another process did in the meantime."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        return True
    except FileExistsError:
        return False
    except OSError as error:
        raise ArchiveError(f"cannot create the archive {path}: {error.strerror}; choose another path") from None


class Archive:
    """An open archive at ``url``: ``sqlite:///path/to/file.db`` (``?mode=ro`` to read only) or
    ``postgresql://user@host/db``. ``create`` makes the schema (a writer); a reader needs an archive."""

    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        self.path: Path | None = None      # SQLite file
        self.new = False                   # the SQLite file did not exist before this open
        try:
            parsed = urlparse(url)
        except ValueError as error:        # e.g. postgresql://[bad: an unclosed IPv6 bracket
            raise ArchiveError(f"bad database URL {url!r}: {error}") from None
        if parsed.scheme == "sqlite":
            path, mode = _sqlite_target(url)
            if not _check_sqlite_file(url, path, mode, create):
                self.new = _create_file(path)     # False if another process made it first
            self.path = Path(path)
            self.dialect = "sqlite"
            self.driver_error: type[Exception] = sqlite3.Error
            try:
                self.connection = sqlite3.connect(f"file:{quote(path)}?mode={mode}", uri=True, timeout=60,
                                                  isolation_level=None, check_same_thread=False)
            except sqlite3.Error as error:
                self.discard()
                raise ArchiveError(f"cannot open the archive {path}: {error}") from None
        elif parsed.scheme in ("postgresql", "postgres"):
            import psycopg
            self.driver_error = psycopg.Error
            try:
                self.connection = psycopg.connect(url, autocommit=True, connect_timeout=10)
            except psycopg.Error as error:
                raise ArchiveError(f"cannot connect to {url}: {first_line(error, 'no answer')}") from None
            self.dialect = "postgresql"
        else:
            raise ArchiveError(f"bad database URL {url!r}: use sqlite:///path.db or postgresql://user@host/dbname")
        try:
            if self.dialect == "sqlite":
                self.connection.execute("PRAGMA synchronous=NORMAL")   # per connection; WAL: durable across a crash
            self._check_schema()
            if create:
                self._create_schema()
        except self.driver_error as error:
            self.discard()
            raise ArchiveError(f"cannot use {self.path or url} as an archive: {first_line(error)}") from None
        except ArchiveError:
            self.discard()
            raise

    def _check_schema(self) -> None:
        """Refuse a database whose tables of our names lack our columns (it is something else)."""
        if self.dialect == "sqlite":
            held = {row[0] for row in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if held and "batches" not in held:
                raise ArchiveError(f"{self.path} is not an l4station archive: it holds other tables "
                                   f"({', '.join(sorted(held)[:3])}{', ...' if len(held) > 3 else ''}); give another --db")
            columns = {name: {row[1] for row in self.query(f"PRAGMA table_info('{name}')")}
                       for name in _columns() if name in held}
        else:
            columns = {}
            for table, column in self.query("SELECT table_name, column_name FROM information_schema.columns "
                                            "WHERE table_schema = current_schema()"):
                columns.setdefault(table, set()).add(column)
        for name, wanted in _columns().items():
            wanted = [c for c in wanted if c not in ADDED_COLUMNS.get(name, ())]
            if name in columns and not set(wanted) <= columns[name]:
                missing = ", ".join(c for c in wanted if c not in columns[name])
                raise ArchiveError(f"{self.path or self.url} is not an l4station archive: its table {name!r} lacks "
                                   f"{missing}; give another --db")

    def _create_schema(self) -> None:
        if self.dialect == "sqlite":
            self._wal()

        with self.transaction() as cursor:
            for statement in _tables().values():
                cursor.execute(statement.replace(" BYTES ", " BLOB " if self.dialect == "sqlite" else " BYTEA "))
            serial = "INTEGER PRIMARY KEY" if self.dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
            cursor.execute(f"CREATE TABLE IF NOT EXISTS batches (id {serial}, source TEXT NOT NULL, "
                           "received_us BIGINT NOT NULL, summary TEXT)")
            for name, added in ADDED_COLUMNS.items():        # inside the write lock: another writer may add them too
                kinds = dict(OTHER_TABLES[name])
                if self.dialect == "sqlite":
                    cursor.execute(f"PRAGMA table_info('{name}')")
                    held = {row[1] for row in cursor.fetchall()}
                    statements = [f"ALTER TABLE {name} ADD COLUMN {c} {kinds[c]}" for c in added if c not in held]
                else:
                    statements = [f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {c} {kinds[c]}" for c in added]
                for statement in statements:
                    cursor.execute(statement)

    def setting(self, name: str, default: str, cursor=None) -> str:
        """The archive's stored value of setting ``name``, else ``default`` (also for an older
        archive opened read-only, which has no settings yet)."""
        if cursor is None and not self.has("settings"):
            return default
        statement = self.sql("SELECT value FROM settings WHERE name = ?")
        if cursor is None:
            rows = self.query(statement, (name,))
        else:
            cursor.execute(statement, (name,))
            rows = cursor.fetchall()
        return rows[0][0] if rows else default

    def set_setting(self, name: str, value: str) -> None:
        """Store setting ``name`` for every later writer of the archive."""
        with self.transaction() as cursor:
            cursor.execute(self.sql("DELETE FROM settings WHERE name = ?"), (name,))
            cursor.execute(self.sql("INSERT INTO settings (name, value) VALUES (?, ?)"), (name, value))

    def put_file(self, name: str, content: bytes, received_us: int, source: str) -> None:
        """Keep a file delivered whole (a later delivery of the same name replaces it)."""
        import zlib
        with self.transaction() as cursor:
            cursor.execute(self.sql("DELETE FROM files WHERE name = ?"), (name,))
            cursor.execute(self.sql("INSERT INTO files (name, received_us, octets, crc32, source, content) "
                                    "VALUES (?, ?, ?, ?, ?, ?)"),
                           (name, int(received_us), len(content), f"{zlib.crc32(content):08x}", source, bytes(content)))

    def file_list(self) -> list[dict]:
        """The files delivered, newest first, without their content."""
        if not self.has("files"):
            return []
        rows = self.query("SELECT name, received_us, octets, crc32, source FROM files ORDER BY received_us DESC, name")
        return [dict(zip(("name", "received_us", "octets", "crc32", "source"), row)) for row in rows]

    def file_content(self, name: str) -> bytes | None:
        """A delivered file's content, or None."""
        if not self.has("files"):
            return None
        rows = self.query(self.sql("SELECT content FROM files WHERE name = ?"), (name,))
        return bytes(rows[0][0]) if rows else None

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether the archive holds ``table`` (and its ``column``) now: an archive written by an
        older version and opened read-only lacks tables of OTHER_TABLES or ADDED_COLUMNS until a
        writer opens it, which may happen while a reader runs (so this asks the database)."""
        if self.dialect == "sqlite":
            names = {row[1] for row in self.query(f"PRAGMA table_info('{table}')")}
        else:
            names = {row[0] for row in self.query("SELECT column_name FROM information_schema.columns "
                                                  "WHERE table_schema = current_schema() AND table_name = ?", (table,))}
        return bool(names) and (column is None or column in names)

    def _wal(self, patience_s: float = 60.0) -> None:
        """Put the SQLite file in WAL mode (kept in the file: readers follow writers). Changing the
        mode needs the file to itself and SQLite does not wait for that, so wait here while
        another process holds it (two writers starting on a new archive)."""
        deadline = time.monotonic() + patience_s
        while True:
            try:
                self.connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _holds_nothing(self) -> bool:
        """Whether the SQLite file holds no ingested batch (so removing it loses nothing); a file
        that cannot be read now (another writer holds it) counts as holding something."""
        try:
            with sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True, timeout=1.0) as check:
                return check.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 0
        except sqlite3.Error as error:
            return "no such table" in str(error)

    def discard(self) -> None:
        """Close, and remove the SQLite archive if this open created it and nothing was stored
        in it since (a failed first ingest leaves no file behind; another writer's data stay)."""
        connection = getattr(self, "connection", None)
        if connection is not None:
            connection.close()
        if self.new and self.path is not None and self._holds_nothing():
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def sql(self, statement: str) -> str:
        """The statement with the driver's placeholder (written with ``?``)."""
        return statement if self.dialect == "sqlite" else statement.replace("?", "%s")

    @contextmanager
    def transaction(self, write: bool = True):
        """A cursor inside one transaction; writers hold the archive's single write lock."""
        cursor = self.connection.cursor()
        if self.dialect == "sqlite":
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        else:
            cursor.execute("BEGIN")
            if write:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    def query(self, statement: str, parameters: tuple = ()) -> list[tuple]:
        cursor = self.connection.cursor()
        cursor.execute(self.sql(statement), parameters)
        return cursor.fetchall()

    # ---- writing -----------------------------------------------------------------------------

    def new_batch(self, cursor, source: str, received_us: int) -> int:
        cursor.execute(self.sql("INSERT INTO batches (source, received_us) VALUES (?, ?) RETURNING id"),
                       (source, received_us))
        return int(cursor.fetchone()[0])

    def insert(self, cursor, name: str, columns: dict[str, np.ndarray], received_us, batch: int) -> int:
        """Insert samples of one packet type (one per time; existing times are kept). Returns the
        number of rows added."""
        fields = [f.name for f in packets.dictionary()[name].fields]
        n = len(columns["t_us"])
        if n == 0:
            return 0
        received = np.broadcast_to(np.asarray(received_us, dtype=np.int64), (n,))
        values = [columns["t_us"].tolist(), columns["seq"].tolist(), received.tolist(), [batch] * n]
        values += [np.where(np.isnan(columns[f]), None, columns[f]).tolist() for f in fields]
        names = ["t_us", "seq", "received_us", "batch", *fields]
        rows = list(zip(*values))
        if self.dialect == "sqlite":
            before = self.connection.total_changes
            cursor.executemany(f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                               "ON CONFLICT (t_us) DO NOTHING", rows)
            return self.connection.total_changes - before
        # PostgreSQL: COPY into a scratch table, then the same conflict-free INSERT (ingest 47k -> 86k packets/s)
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS incoming_{name} (LIKE {name}) ON COMMIT DELETE ROWS")
        with cursor.copy(f"COPY incoming_{name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO {name} SELECT * FROM incoming_{name} ON CONFLICT (t_us) DO NOTHING")
        added = cursor.rowcount
        cursor.execute(f"TRUNCATE incoming_{name}")
        return added

    def insert_rows(self, cursor, table: str, rows: list[tuple]) -> int:
        """Insert whole rows (every column of ``table`` in order) unless their key is stored already;
        a stored value is never altered (feed rows may have missing values supplied). Returns the
        number of rows added or completed."""
        if not rows:
            return 0
        names = [column for column, _ in OTHER_TABLES[table]]
        statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        if table in COMPLETABLE:      # a missing value may be supplied later; a stored one stays
            key, missing = OTHER_KEYS[table], COMPLETABLE[table]
            # a completed row counts as received (and batched) when its value came
            statement += (f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
                          + ", ".join(f"{c} = COALESCE({table}.{c}, excluded.{c})" for c in missing)
                          + ", received_us = excluded.received_us, batch = excluded.batch"
                          + " WHERE " + " OR ".join(f"({table}.{c} IS NULL AND excluded.{c} IS NOT NULL)"
                                                    for c in missing))
        else:
            statement += "ON CONFLICT DO NOTHING"
        if self.dialect == "sqlite":
            before = self.connection.total_changes
            cursor.executemany(statement, rows)
            return self.connection.total_changes - before
        added = 0
        for row in rows:                   # rowcount of one statement: PostgreSQL's executemany does not sum it
            cursor.execute(self.sql(statement), row)
            added += cursor.rowcount
        return added

    def replace_gaps(self, cursor, name: str, start_us: int, stop_us: int, gaps: list[Gap]) -> None:
        """Make the gap records of one packet type between the samples at start and stop these
        (a gap that ends at start or begins at stop lies outside and stays)."""
        cursor.execute(self.sql("DELETE FROM gaps WHERE packet = ? AND stop_us > ? AND start_us < ?"),
                       (name, start_us, stop_us))
        if gaps:
            cursor.executemany(self.sql("INSERT INTO gaps (packet, start_us, stop_us, missing) VALUES (?, ?, ?, ?) "
                                        "ON CONFLICT DO NOTHING"),
                               [(g.name, g.start_us, g.stop_us, g.missing) for g in gaps])

    def finish_batch(self, cursor, batch: int, summary: dict) -> None:
        cursor.execute(self.sql("UPDATE batches SET summary = ? WHERE id = ?"), (json.dumps(summary), batch))

    # ---- reading -----------------------------------------------------------------------------

    def neighbours(self, cursor, name: str, start_us: int, stop_us: int) -> tuple[int, int]:
        """Times of the archived samples just before start and just after stop (or the bounds)."""
        cursor.execute(self.sql(f"SELECT MAX(t_us) FROM {name} WHERE t_us < ?"), (start_us,))
        before = cursor.fetchone()[0]
        cursor.execute(self.sql(f"SELECT MIN(t_us) FROM {name} WHERE t_us > ?"), (stop_us,))
        after = cursor.fetchone()[0]
        return (start_us if before is None else int(before)), (stop_us if after is None else int(after))

    def columns(self, name: str, start_us: int, stop_us: int, fields: list[str] | None = None,
                cursor=None) -> dict[str, np.ndarray]:
        """Samples of one packet type with start <= t < stop, as arrays (t_us, then fields; NaN
        for missing values), in time order."""
        return self._select(name, "t_us >= ? AND t_us < ?", (start_us, stop_us), fields, cursor)

    def columns_of_batches(self, name: str, after: int, upto: int) -> dict[str, np.ndarray]:
        """Samples of one packet type first stored by batches after < batch <= upto."""
        return self._select(name, "batch > ? AND batch <= ?", (after, upto), None, None)

    def days_of_batches(self, name: str, after: int, upto: int) -> dict[int, int]:
        """UTC days (days since 1970-01-01) that batches after < batch <= upto added samples of
        one packet type to, with the number of samples each (an index range: cost follows the
        new rows, not the archive)."""
        rows = self.query(f"SELECT t_us / {DAY_US}, COUNT(*) FROM {name} WHERE batch > ? AND batch <= ? GROUP BY 1",
                          (after, upto))
        return {int(day): int(n) for day, n in rows}

    def count(self, name: str, upto: int) -> int:
        """Number of samples of one packet type stored by batches up to ``upto``."""
        return int(self.query(f"SELECT COUNT(*) FROM {name} WHERE batch <= ?", (upto,))[0][0])

    def has_samples(self, name: str, start_us: int, stop_us: int) -> bool:
        """Whether any sample of one packet type has start <= t < stop."""
        return bool(self.query(f"SELECT 1 FROM {name} WHERE t_us >= ? AND t_us < ? LIMIT 1", (start_us, stop_us)))

    def _select(self, name: str, where: str, parameters: tuple, fields: list[str] | None, cursor) -> dict[str, np.ndarray]:
        fields = [f.name for f in packets.dictionary()[name].fields] if fields is None else fields
        cur = cursor or self.connection.cursor()
        cur.execute(self.sql(f"SELECT t_us, {', '.join(fields)} FROM {name} WHERE {where} ORDER BY t_us"), parameters)
        # straight from the rows into one array (no list of rows: reads 20 % faster); None -> NaN,
        # and Unix microseconds are exact in float64
        table = np.fromiter(itertools.chain.from_iterable(cur), dtype=float).reshape(-1, len(fields) + 1)
        if not len(table):
            return {"t_us": np.zeros(0, np.int64)} | {f: np.zeros(0) for f in fields}
        return {"t_us": table[:, 0].astype(np.int64)} | {f: table[:, k + 1] for k, f in enumerate(fields)}

    def extent(self, name: str, cursor=None) -> tuple[int, int] | None:
        """First and last sample times of a packet type, or None if it has none: two index look-ups
        (SQLite reads the whole table for MIN and MAX in one SELECT)."""
        cur = cursor or self.connection.cursor()
        cur.execute(f"SELECT (SELECT MIN(t_us) FROM {name}), (SELECT MAX(t_us) FROM {name})")
        row = cur.fetchone()
        return None if row[0] is None else (int(row[0]), int(row[1]))

    def latest_batch(self) -> int:
        return int(self.query("SELECT COALESCE(MAX(id), 0) FROM batches")[0][0])

    def gaps(self, name: str, start_us: int, stop_us: int) -> list[Gap]:
        rows = self.query("SELECT packet, start_us, stop_us, missing FROM gaps WHERE packet = ? AND stop_us >= ? "
                          "AND start_us < ? ORDER BY start_us", (name, start_us, stop_us))
        return [Gap(*row) for row in rows]
