"""Visits and the technician slots they hold.

A visit claims its technician's 30-minute slots by inserting rows whose primary key is (technician, slot) with
``ON CONFLICT DO NOTHING``; fewer rows inserted than asked means someone else holds the time — so two bookings of
one technician can never overlap, whichever process makes them, on either database, without table locks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from fairdesk.adapters.db import tables as t
from fairdesk.adapters.db.base import CoreRepository
from fairdesk.domain.dispatch import ACTIVE, Unscheduled, Visit, VisitFacts, VisitStatus

__all__ = ["VisitRepository"]

_SAVED = ("technician_id", "outlet_id", "starts_at", "ends_at", "override_reason", "updated_at", "checked_in_at",
          "checked_out_at", "work_done", "closing_reason")
_ACTIVE = [s.value for s in ACTIVE]


def _visit(row: sa.Row[Any]) -> Visit:
    return Visit(row.brand_id, row.ticket_id, row.technician_id, row.outlet_id, row.starts_at, row.ends_at,
                 row.booked_by, row.created_at, row.updated_at, VisitStatus(row.status), json.loads(row.score),
                 row.override_reason, row.checked_in_at, row.checked_out_at, row.work_done, row.closing_reason,
                 row.id)


def _values(visit: Visit) -> dict[str, Any]:
    return {**{c: getattr(visit, c) for c in _SAVED}, "status": visit.status.value, "score": json.dumps(visit.score)}


class VisitRepository(CoreRepository):
    def add(self, visit: Visit) -> Visit:
        visit.id = int(self._x(sa.insert(t.visits).values(
            brand_id=visit.brand_id, ticket_id=visit.ticket_id, booked_by=visit.booked_by,
            created_at=visit.created_at, **_values(visit)).returning(t.visits.c.id)).scalar_one())
        return visit

    def get(self, brand_id: int, visit_id: int, *, for_update: bool = False) -> Visit | None:
        c = t.visits.c
        q = sa.select(t.visits).where(c.id == visit_id, c.brand_id == brand_id)
        row = self._x(q.with_for_update() if for_update and self._pg else q).one_or_none()
        return _visit(row) if row is not None else None

    def delete(self, visit: Visit) -> None:
        """Only for a visit this transaction just added and could not give slots to."""
        self._x(sa.delete(t.visits).where(t.visits.c.id == visit.id))

    def save(self, visit: Visit) -> None:
        self._x(sa.update(t.visits).where(t.visits.c.id == visit.id).values(**_values(visit)))

    def active_for_ticket(self, ticket_id: int) -> Visit | None:
        c = t.visits.c
        row = self._x(sa.select(t.visits).where(c.ticket_id == ticket_id, c.status.in_(_ACTIVE))
                      .order_by(c.id.desc()).limit(1)).one_or_none()
        return _visit(row) if row is not None else None

    def unscheduled(self, brand_id: int, categories: Sequence[str], statuses: Sequence[str], limit: int
                    ) -> list[Unscheduled]:
        """Open requests that need a visit and have none booked, oldest first (the dispatcher's queue)."""
        k, a = t.tickets.c, t.visits.c
        booked = sa.select(a.id).where(a.ticket_id == k.id, a.status.in_(_ACTIVE)).exists()
        return [Unscheduled(*r) for r in self._x(
            sa.select(k.id, k.number, k.subject, k.priority, k.status, k.created_at).where(
                k.brand_id == brand_id, k.category.in_(list(categories)), k.status.in_(list(statuses)), ~booked)
            .order_by(k.created_at, k.id).limit(limit))]

    def for_ticket(self, ticket_id: int) -> list[Visit]:
        c = t.visits.c
        return [_visit(r) for r in self._x(sa.select(t.visits).where(c.ticket_id == ticket_id).order_by(c.id))]

    def between(self, brand_id: int, start: datetime, end: datetime, *, technician_ids: Iterable[int] | None = None,
                statuses: Iterable[VisitStatus] | None = None) -> list[Visit]:
        c = t.visits.c
        q = sa.select(t.visits).where(c.starts_at < end, c.ends_at > start)
        # Technicians are already the brand's: by them the (technician, start) index is used, not the brand's
        # whole calendar.
        q = q.where(c.technician_id.in_(list(technician_ids))) if technician_ids is not None else q.where(
            c.brand_id == brand_id)
        if statuses is not None:
            q = q.where(c.status.in_([s.value for s in statuses]))
        return [_visit(r) for r in self._x(q.order_by(c.starts_at, c.id))]

    def visit_facts(self, ticket_id: int) -> VisitFacts | None:
        """The unit's product and line and the visit address of a ticket, in one read."""
        tk, u, p, a = t.tickets.c, t.units.c, t.products.c, t.customer_addresses.c
        row = self._x(sa.select(p.id, p.product_line, a.id, a.text, a.adcode)
                      .select_from(t.tickets).join(t.units, u.id == tk.unit_id).join(t.products, p.id == u.product_id)
                      .outerjoin(t.customer_addresses, (a.id == tk.address_id) & (a.customer_id == tk.customer_id))
                      .where(tk.id == ticket_id)).one_or_none()
        return VisitFacts(*row) if row is not None else None

    def claim_slots(self, visit: Visit) -> bool:
        """Take every slot of the visit's window for its technician, or none: True when all were free."""
        slots = visit.slots
        stmt = self._insert(t.technician_slots).values(
            [{"technician_id": visit.technician_id, "slot_at": s, "visit_id": visit.id} for s in slots]
        ).on_conflict_do_nothing().returning(t.technician_slots.c.slot_at)
        if len(self._x(stmt).all()) == len(slots):  # rowcount is not reliable for multi-row inserts
            return True
        self.release_slots(visit)
        return False

    def release_slots(self, visit: Visit) -> None:
        self._x(sa.delete(t.technician_slots).where(t.technician_slots.c.visit_id == visit.id))

    def ticket_numbers(self, ticket_ids: Iterable[int]) -> dict[int, str]:
        c = t.tickets.c
        return dict(self._x(sa.select(c.id, c.number).where(c.id.in_(list(ticket_ids)))).all())  # type: ignore[arg-type]
