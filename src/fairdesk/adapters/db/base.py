"""What every Core-level repository shares: statements run on the unit of work's connection."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["CoreRepository"]


class CoreRepository:
    """A repository that speaks SQLAlchemy Core on its unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _x(self, stmt: sa.Executable, params: object = None) -> sa.CursorResult[Any]:
        return self.session.connection().execute(stmt, params)  # type: ignore[arg-type]

    @property
    def _pg(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    @property
    def _insert(self) -> Any:
        """The dialect's INSERT, which knows ``ON CONFLICT``."""
        return postgresql.insert if self._pg else sqlite.insert

    def _claimable(self, stmt: sa.Select[Any]) -> sa.Select[Any]:
        """Rows one worker takes while others skip them (PostgreSQL); SQLite has one writer at a time anyway."""
        return stmt.with_for_update(skip_locked=True) if self._pg else stmt
