"""What the benchmark scripts share: a fresh database of either kind, a free port."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN = os.environ.get("FAIRDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fresh_database(kind: str, tmp: Path, name: str) -> str:
    """An empty database called ``name``: a new SQLite file in ``tmp``, or a PostgreSQL database recreated."""
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp / name}.db{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{tmp / f'{name}.db'}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
