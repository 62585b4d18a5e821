"""Files kept with a record — a complaint's evidence, a request's photos — in tables of one shape
(``tables._files``): stored with their SHA-256, listed without their bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

__all__ = ["add", "listing", "one"]

Execute = Callable[[sa.Executable], Any]


def add(execute: Execute, table: sa.Table, owner_id: int, filename: str, content_type: str, data: bytes,
        sha256: str, at: datetime, by: str) -> int:
    return int(execute(sa.insert(table).values(
        {table.info["owner"]: owner_id, "filename": filename, "content_type": content_type, "size": len(data),
         "sha256": sha256, "data": data, "added_at": at, "added_by": by}).returning(table.c.id)).scalar_one())


def listing(execute: Execute, table: sa.Table, owner_id: int) -> Sequence[Any]:
    """The record's files without their bytes, oldest first."""
    c = table.c
    return execute(sa.select(c.id, c.filename, c.content_type, c.size, c.sha256, c.added_at, c.added_by)
                   .where(c[table.info["owner"]] == owner_id).order_by(c.id)).all()


def one(execute: Execute, table: sa.Table, owner_id: int, file_id: int) -> Any:
    c = table.c
    return execute(sa.select(table).where(c[table.info["owner"]] == owner_id, c.id == file_id)).first()
