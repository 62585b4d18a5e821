"""The imported yearly arrangements: drafts, applied versions and their days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from fairdesk.adapters.db import tables as t
from fairdesk.adapters.db.base import CoreRepository
from fairdesk.domain.calendars import Arrangement, DayKind, Entry, Version

__all__ = ["CalendarRepository"]

_APPLIED = sa.select(t.calendar_versions.c.id, t.calendar_versions.c.year, t.calendar_versions.c.digest,
                     t.calendar_versions.c.effective_from).where(
    t.calendar_versions.c.applied_at.is_not(None)).order_by(t.calendar_versions.c.id)


class CalendarRepository(CoreRepository):
    _marker: tuple[tuple[Any, ...], ...] | None = None

    def marker(self) -> tuple[tuple[Any, ...], ...]:
        """What identifies the applied versions (id, year, digest, effective from): one small read, kept for
        the rest of this unit of work, so a calendar built from it can be reused while it is unchanged."""
        if self._marker is None:
            self._marker = tuple(tuple(r) for r in self._x(_APPLIED))
        return self._marker

    def _arrangements(self, ids: Sequence[int]) -> dict[int, Arrangement]:
        c, v = t.calendar_days.c, t.calendar_versions.c
        entries: dict[int, list[Entry]] = {i: [] for i in ids}
        years = dict(self._x(sa.select(v.id, v.year).where(v.id.in_(ids))).all()) if ids else {}
        if ids:
            for r in self._x(sa.select(c.version_id, c.day, c.kind, c.festival).where(c.version_id.in_(ids))):
                entries[r.version_id].append(Entry(r.day, DayKind(r.kind), r.festival))
        return {i: Arrangement(int(years[i]), tuple(entries[i])) for i in ids if i in years}

    def applied(self) -> list[Version]:
        v = t.calendar_versions.c
        rows = self._x(sa.select(t.calendar_versions).where(v.applied_at.is_not(None)).order_by(v.id)).all()
        found = self._arrangements([r.id for r in rows])
        return [Version(r.id, found[r.id], r.number, r.effective_from, r.applied_by or "", r.applied_at)
                for r in rows]

    def add_draft(self, arrangement: Arrangement, filename: str, created_by: str, at: datetime) -> int:
        version_id = int(self._x(sa.insert(t.calendar_versions).values(
            year=arrangement.year, digest=arrangement.digest, filename=filename[:200], created_by=created_by[:100],
            created_at=at).returning(t.calendar_versions.c.id)).scalar_one())
        self._x(sa.insert(t.calendar_days), [{"version_id": version_id, "day": e.day, "kind": e.kind.value,
                                              "festival": e.festival} for e in arrangement.entries])
        return version_id

    def draft(self, version_id: int, *, for_update: bool = False) -> tuple[Any, Arrangement] | None:
        """A version (draft or applied) with its days."""
        q = sa.select(t.calendar_versions).where(t.calendar_versions.c.id == version_id)
        row = self._x(q.with_for_update() if for_update and self._pg else q).first()
        if row is None:
            return None
        return row, self._arrangements([row.id])[row.id]

    def apply(self, version_id: int, year: int, applied_by: str, at: datetime, effective_from: date) -> int:
        """Make a draft the year's newest version; returns its number within the year."""
        v = t.calendar_versions.c
        last = self._x(sa.select(sa.func.coalesce(sa.func.max(v.number), 0)).where(v.year == year)).scalar_one()
        number = int(last) + 1
        self._x(sa.update(t.calendar_versions).where(v.id == version_id, v.applied_at.is_(None)).values(
            number=number, applied_by=applied_by[:100], applied_at=at, effective_from=effective_from))
        self._marker = None
        return number

    def history(self, year: int) -> Sequence[Any]:
        v = t.calendar_versions.c
        return self._x(sa.select(t.calendar_versions).where(v.year == year, v.applied_at.is_not(None))
                       .order_by(v.number.desc())).all()
