"""Engines for SQLite (WAL, the embedded default) and PostgreSQL (psycopg 3, production)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's own busy handler is the only gate there
    fcntl = None  # type: ignore[assignment]

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

__all__ = ["Engines", "make_engine", "make_engines"]

#: Milliseconds a SQLite writer waits for another writer before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str, **kw: Any) -> sa.Engine:
    """An engine with the pragmas and transaction handling each database needs."""
    if url.startswith("sqlite"):
        kw.setdefault("connect_args", {})["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
        engine = sa.create_engine(url, **kw)
        _configure_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip on every checkout. A dropped connection fails its request with a
    # retryable 503 instead, and SQLAlchemy then invalidates the pool so the next request reconnects.
    kw.setdefault("pool_recycle", 1800)
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 10)
    return sa.create_engine(url, **kw)


class WriteGate:
    """Lets one write transaction at a time into a SQLite file, across threads and processes.

    SQLite admits one writer; the others wait in its busy handler, which sleeps in growing steps
    (1, 2, 5 … 100 ms) and so turns a short queue into a long tail. Here writers queue on a thread lock and
    an flock(2) on a file beside the database instead, and are woken the moment the writer before them ends.
    """

    def __init__(self, db_path: str) -> None:
        self._path = db_path + ".write-lock"
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            if self._fd is None or self._pid != os.getpid():  # a forked child opens its own description
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)  # type: ignore[arg-type]
        finally:
            self._thread_lock.release()


@dataclass
class Engines:
    """The engine writes go through and the one reads go through (the same one on PostgreSQL)."""

    write: sa.Engine
    read: sa.Engine
    write_gate: WriteGate | None = None

    def dispose(self) -> None:
        self.write.dispose()
        if self.read is not self.write:
            self.read.dispose()


def make_engines(url: str) -> Engines:
    """On SQLite one process holds one write connection: SQLite admits one writer anyway, and threads waiting
    for the pool's connection queue fairly, where threads waiting on SQLite's lock sleep in growing steps
    (1, 2, 5 … 100 ms) and pile up a long tail. Reads have their own pool and, in WAL mode, never wait."""
    if url.startswith("sqlite"):
        write = make_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=30)
        read = make_engine(url, poolclass=QueuePool, pool_size=8, max_overflow=8).execution_options(
            fairdesk_readonly=True)
        database = sa.make_url(url).database
        gate = WriteGate(database) if fcntl is not None and database and database != ":memory:" else None
        return Engines(write=write, read=read, write_gate=gate)
    engine = make_engine(url)
    return Engines(write=engine, read=engine)


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over BEGIN from pysqlite so that writers can ask for BEGIN IMMEDIATE below.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
        # last commits, never corrupt the file (https://sqlite.org/pragma.html#pragma_synchronous).
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A write transaction takes the write lock up front: a deferred one that later upgrades can fail
        # with SQLITE_BUSY at once, without waiting, when another process writes meanwhile.
        if conn.get_execution_options().get("fairdesk_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
