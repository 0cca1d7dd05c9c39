"""The archive: one table per packet type (engineering values keyed by sample time), the ingest
batches, data gaps and alerts, in SQLite (default: embedded, write-ahead log) or PostgreSQL
(operations), through one code path.

Both back ends speak the same SQL (``INSERT ... ON CONFLICT DO NOTHING`` makes every write
idempotent); the differences are the driver, its placeholder and how a writer takes the archive's
single write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL a transaction advisory lock), so that
batches commit in the order of their numbers and readers can follow them incrementally.
Every batch is one transaction: committed data survive a crash of the writer.
"""
from __future__ import annotations

import itertools
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from l4station.ground import packets

WRITE_LOCK_KEY = 0x4C3453   # "L4S": PostgreSQL advisory lock id for the single writer
DAY_US = 86_400_000_000


class ArchiveError(ValueError):
    """A database URL or archive that cannot be used, said in one line."""


@dataclass(frozen=True)
class Gap:
    name: str           # packet type
    start_us: int       # last sample before the gap
    stop_us: int        # first sample after it
    missing: int        # packets missing (from the cadence and the sequence count)


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
    return tables


class Archive:
    """An open archive at ``url``: ``sqlite:///path/to/file.db`` or ``postgresql://user@host/db``."""

    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        parsed = urlparse(url)
        if parsed.scheme == "sqlite":
            path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
            if not path:
                raise ArchiveError(f"bad database URL {url!r}: write sqlite:///path/to/archive.db")
            if not create and not Path(path).exists():
                raise ArchiveError(f"no archive at {path}: ingest some data first (l4station ingest FILE --db {url})")
            if not Path(path).parent.exists():
                raise ArchiveError(f"folder {Path(path).parent} does not exist: create it or choose another path")
            self.dialect = "sqlite"
            self.connection = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")   # WAL: durable across a process crash
        elif parsed.scheme in ("postgresql", "postgres"):
            import psycopg
            try:
                self.connection = psycopg.connect(url, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError as error:
                first = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
                raise ArchiveError(f"cannot connect to {url}: {first}") from None
            self.dialect = "postgresql"
        else:
            raise ArchiveError(f"bad database URL {url!r}: use sqlite:///path.db or postgresql://user@host/dbname")
        if create:
            with self.transaction() as cursor:
                for statement in _tables().values():
                    cursor.execute(statement)
                serial = "INTEGER PRIMARY KEY" if self.dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
                cursor.execute(f"CREATE TABLE IF NOT EXISTS batches (id {serial}, source TEXT NOT NULL, "
                               "received_us BIGINT NOT NULL, summary TEXT)")

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

    def replace_gaps(self, cursor, name: str, start_us: int, stop_us: int, gaps: list[Gap]) -> None:
        """Make the gap records of one packet type within [start, stop] these."""
        cursor.execute(self.sql("DELETE FROM gaps WHERE packet = ? AND stop_us >= ? AND start_us <= ?"),
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

    def extent(self, name: str) -> tuple[int, int] | None:
        """First and last sample times of a packet type, or None if it has none."""
        row = self.query(f"SELECT MIN(t_us), MAX(t_us) FROM {name}")[0]
        return None if row[0] is None else (int(row[0]), int(row[1]))

    def latest_batch(self) -> int:
        return int(self.query("SELECT COALESCE(MAX(id), 0) FROM batches")[0][0])

    def gaps(self, name: str, start_us: int, stop_us: int) -> list[Gap]:
        rows = self.query("SELECT packet, start_us, stop_us, missing FROM gaps WHERE packet = ? AND stop_us >= ? "
                          "AND start_us < ? ORDER BY start_us", (name, start_us, stop_us))
        return [Gap(*row) for row in rows]
