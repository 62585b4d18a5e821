"""Technicians, their certificates and their leave."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from fairdesk.adapters.db import tables as t
from fairdesk.adapters.db.base import CoreRepository
from fairdesk.domain.workforce import Certification, Leave, Technician

__all__ = ["TechnicianRepository"]

_TECH_COLUMNS = ("user_id", "brand_id", "outlet_id", "shifts", "weekdays", "holidays_off", "home_latitude",
                 "home_longitude", "max_visits_per_day", "active", "created_at")


def _technician(row: sa.Row[Any]) -> Technician:
    return Technician(**{c: getattr(row, c) for c in _TECH_COLUMNS})


def _certification(row: Any) -> Certification:
    return Certification(row.technician_id, row.brand_id, row.product_line, row.level, row.valid_from,
                         row.valid_to, row.number, row.id)


class TechnicianRepository(CoreRepository):
    def add(self, tech: Technician) -> None:
        self._x(sa.insert(t.technicians).values({c: getattr(tech, c) for c in _TECH_COLUMNS}))

    def update(self, tech: Technician) -> None:
        values = {c: getattr(tech, c) for c in _TECH_COLUMNS if c not in ("user_id", "brand_id", "created_at")}
        self._x(sa.update(t.technicians).where(t.technicians.c.user_id == tech.user_id).values(values))

    def get(self, brand_id: int, user_id: int) -> Technician | None:
        c = t.technicians.c
        row = self._x(sa.select(t.technicians).where(c.user_id == user_id, c.brand_id == brand_id)).one_or_none()
        return _technician(row) if row else None

    def many(self, brand_id: int, *, outlet_ids: Iterable[int] | None = None,
             user_ids: Iterable[int] | None = None) -> list[Technician]:
        c = t.technicians.c
        q = sa.select(t.technicians).where(c.brand_id == brand_id)
        if outlet_ids is not None:
            q = q.where(c.outlet_id.in_(list(outlet_ids)))
        if user_ids is not None:
            q = q.where(c.user_id.in_(list(user_ids)))
        return [_technician(r) for r in self._x(q.order_by(c.user_id))]

    def names(self, user_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """user id → (username, display name)."""
        c = t.users.c
        rows = self._x(sa.select(c.id, c.username, c.display_name).where(c.id.in_(list(user_ids))))
        return {r.id: (r.username, r.display_name) for r in rows}

    def add_certification(self, cert: Certification, at: datetime) -> int:
        return int(self._x(sa.insert(t.certifications).values(
            brand_id=cert.brand_id, technician_id=cert.technician_id, product_line=cert.product_line,
            level=cert.level, valid_from=cert.valid_from, valid_to=cert.valid_to, number=cert.number,
            created_at=at).returning(t.certifications.c.id)).scalar_one())

    def certifications(self, technician_ids: Iterable[int]) -> dict[int, list[Certification]]:
        c = t.certifications.c
        out: dict[int, list[Certification]] = {}
        for row in self._x(sa.select(t.certifications).where(c.technician_id.in_(list(technician_ids)))
                           .order_by(c.technician_id, c.valid_from)):
            out.setdefault(row.technician_id, []).append(_certification(row))
        return out

    def eligible(self, brand_id: int, outlet_ids: Sequence[int], product_line: str, first_day: date,
                 last_day: date) -> list[tuple[Technician, list[Certification]]]:
        """Active technicians of these outlets holding a certificate for the line valid on some day of the
        range, with those certificates (one query)."""
        tc, cc = t.technicians.c, t.certifications.c
        q = (sa.select(t.technicians, cc.id.label("cert_id"), cc.level, cc.valid_from, cc.valid_to, cc.number,
                       cc.product_line)
             .join(t.certifications, cc.technician_id == tc.user_id)
             .where(tc.brand_id == brand_id, tc.outlet_id.in_(list(outlet_ids)), tc.active.is_(True),
                    cc.product_line == product_line, cc.valid_from <= last_day, cc.valid_to >= first_day)
             .order_by(tc.user_id))
        found: dict[int, tuple[Technician, list[Certification]]] = {}
        for r in self._x(q):
            entry = found.get(r.user_id)
            if entry is None:
                entry = found[r.user_id] = (_technician(r), [])
            entry[1].append(Certification(r.user_id, brand_id, r.product_line, r.level, r.valid_from, r.valid_to,
                                          r.number, r.cert_id))
        return list(found.values())

    def add_leave(self, brand_id: int, leave: Leave) -> int:
        return int(self._x(sa.insert(t.technician_leave).values(
            brand_id=brand_id, technician_id=leave.technician_id, starts_at=leave.starts_at, ends_at=leave.ends_at,
            reason=leave.reason).returning(t.technician_leave.c.id)).scalar_one())

    def leave(self, technician_ids: Iterable[int], start: datetime, end: datetime) -> dict[int, list[Leave]]:
        c = t.technician_leave.c
        out: dict[int, list[Leave]] = {}
        for r in self._x(sa.select(t.technician_leave).where(
                c.technician_id.in_(list(technician_ids)), c.ends_at > start, c.starts_at < end)):
            out.setdefault(r.technician_id, []).append(Leave(r.technician_id, r.starts_at, r.ends_at, r.reason))
        return out
