"""Engines for SQLite (WAL, the embedded default) and PostgreSQL (psycopg 3, production)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

__all__ = ["make_engine"]

#: Milliseconds a SQLite writer waits for another writer before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str, **kw: Any) -> sa.Engine:
    """An engine with the pragmas and transaction handling each database needs."""
    if url.startswith("sqlite"):
        kw.setdefault("connect_args", {})["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
        engine = sa.create_engine(url, **kw)
        _configure_sqlite(engine)
        return engine
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 10)
    return sa.create_engine(url, **kw)


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
