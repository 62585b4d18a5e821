"""Repositories for the field: technicians and their certificates and leave, visits and the slots they hold,
parts, stock locations, balances, serial numbers, reservations and the stock ledger.

Two rules keep concurrent writers honest on both databases without table locks:
- a visit claims its technician's 30-minute slots by inserting rows whose primary key is (technician, slot)
  with ``ON CONFLICT DO NOTHING``; fewer rows inserted than asked means someone else holds the time;
- a balance changes only by a conditional ``UPDATE … WHERE`` the result stays within 0 ≤ reserved ≤ on hand;
  no row changed means the stock is not there. PostgreSQL re-checks the condition after a concurrent
  writer commits, SQLite runs one writer at a time, so the last part is never reserved twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from fairdesk.adapters.db import tables as t
from fairdesk.adapters.db.work import _Core
from fairdesk.domain.parts import LocationKind, MovementKind, Part, StockLocation
from fairdesk.domain.workforce import Certification, Leave, Technician

__all__ = ["AppointmentRepository", "StockRepository", "TechnicianRepository"]

_TECH_COLUMNS = ("user_id", "brand_id", "outlet_id", "shifts", "weekdays", "holidays_off", "home_latitude",
                 "home_longitude", "max_visits_per_day", "active", "created_at")
ACTIVE_VISIT = ("booked", "on_site")


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _technician(row: Any) -> Technician:
    return Technician(**{c: getattr(row, c) for c in _TECH_COLUMNS})


def _certification(row: Any) -> Certification:
    return Certification(row.technician_id, row.brand_id, row.product_line, row.level, row.valid_from,
                         row.valid_to, row.number, row.id)


class TechnicianRepository(_Core):
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

    def eligible(self, brand_id: int, outlet_ids: Sequence[int], product_line: str, first_day: Any,
                 last_day: Any) -> list[tuple[Technician, list[Certification]]]:
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


class AppointmentRepository(_Core):
    def add(self, values: dict[str, Any]) -> int:
        return int(self._x(sa.insert(t.appointments).values(**values).returning(t.appointments.c.id)).scalar_one())

    def get(self, brand_id: int, appointment_id: int, *, for_update: bool = False) -> Any:
        c = t.appointments.c
        q = sa.select(t.appointments).where(c.id == appointment_id, c.brand_id == brand_id)
        return self._x(q.with_for_update() if for_update and self._pg else q).one_or_none()

    def delete(self, appointment_id: int) -> None:
        """Only for a row this transaction just added and could not give slots to."""
        self._x(sa.delete(t.appointments).where(t.appointments.c.id == appointment_id))

    def update(self, appointment_id: int, **values: Any) -> None:
        self._x(sa.update(t.appointments).where(t.appointments.c.id == appointment_id).values(**values))

    def active_for_ticket(self, ticket_id: int) -> Any:
        c = t.appointments.c
        return self._x(sa.select(t.appointments).where(c.ticket_id == ticket_id, c.status.in_(ACTIVE_VISIT))
                       .order_by(c.id.desc()).limit(1)).one_or_none()

    def unscheduled(self, brand_id: int, categories: Sequence[str], statuses: Sequence[str], limit: int
                    ) -> Sequence[Any]:
        """Open requests that need a visit and have none booked, oldest first (the dispatcher's queue)."""
        k, a = t.tickets.c, t.appointments.c
        booked = sa.select(a.id).where(a.ticket_id == k.id, a.status.in_(ACTIVE_VISIT)).exists()
        return self._x(sa.select(k.id, k.number, k.subject, k.priority, k.status, k.created_at).where(
            k.brand_id == brand_id, k.category.in_(list(categories)), k.status.in_(list(statuses)), ~booked)
            .order_by(k.created_at, k.id).limit(limit)).all()

    def for_ticket(self, ticket_id: int) -> Sequence[Any]:
        c = t.appointments.c
        return self._x(sa.select(t.appointments).where(c.ticket_id == ticket_id).order_by(c.id)).all()

    def between(self, brand_id: int, start: datetime, end: datetime, *, technician_ids: Iterable[int] | None = None,
                statuses: Sequence[str] | None = None) -> Sequence[Any]:
        c = t.appointments.c
        q = sa.select(t.appointments).where(c.starts_at < end, c.ends_at > start)
        # Technicians are already the brand's: by them the (technician, start) index is used, not the brand's
        # whole calendar.
        q = q.where(c.technician_id.in_(list(technician_ids))) if technician_ids is not None else q.where(
            c.brand_id == brand_id)
        if statuses is not None:
            q = q.where(c.status.in_(list(statuses)))
        return self._x(q.order_by(c.starts_at, c.id)).all()

    def visit_facts(self, ticket_id: int) -> Any:
        """The unit's product and line and the visit address of a ticket, in one read."""
        tk, u, p, a = t.tickets.c, t.units.c, t.products.c, t.customer_addresses.c
        return self._x(sa.select(p.id.label("product_id"), p.product_line, a.id.label("address_id"), a.text, a.adcode)
                       .select_from(t.tickets).join(t.units, u.id == tk.unit_id).join(t.products, p.id == u.product_id)
                       .outerjoin(t.customer_addresses, (a.id == tk.address_id) & (a.customer_id == tk.customer_id))
                       .where(tk.id == ticket_id)).one_or_none()

    def claim_slots(self, technician_id: int, appointment_id: int, slots: Sequence[datetime]) -> bool:
        """Take every slot for the visit, or none: True when all were free."""
        insert = _insert(self.session.get_bind().dialect.name)
        stmt = insert(t.technician_slots).values(
            [{"technician_id": technician_id, "slot_at": s, "appointment_id": appointment_id} for s in slots]
        ).on_conflict_do_nothing().returning(t.technician_slots.c.slot_at)
        if len(self._x(stmt).all()) == len(slots):  # rowcount is not reliable for multi-row inserts
            return True
        self.release_slots(appointment_id)
        return False

    def release_slots(self, appointment_id: int) -> None:
        self._x(sa.delete(t.technician_slots).where(t.technician_slots.c.appointment_id == appointment_id))

    def ticket_numbers(self, ticket_ids: Iterable[int]) -> dict[int, str]:
        c = t.tickets.c
        return dict(self._x(sa.select(c.id, c.number).where(c.id.in_(list(ticket_ids)))).all())


def _part(row: Any, models: tuple[str, ...] = ()) -> Part:
    return Part(row.id, row.brand_id, row.sku, row.name, row.serialized, row.unit_cost, models)


def _location(row: Any) -> StockLocation:
    return StockLocation(row.id, row.brand_id, row.code, row.name, LocationKind(row.kind), row.outlet_id,
                         row.technician_id)


class StockRepository(_Core):
    # --- catalogue and locations
    def add_part(self, brand_id: int, sku: str, name: str, serialized: bool, unit_cost: Decimal,
                 product_ids: Iterable[int], at: datetime) -> int:
        part_id = int(self._x(sa.insert(t.parts).values(
            brand_id=brand_id, sku=sku, name=name, serialized=serialized, unit_cost=unit_cost, active=True,
            created_at=at).returning(t.parts.c.id)).scalar_one())
        rows = [{"part_id": part_id, "product_id": p} for p in sorted(set(product_ids))]
        if rows:
            self._x(sa.insert(t.part_models), rows)
        return part_id

    def part(self, brand_id: int, *, sku: str | None = None, part_id: int | None = None) -> Part | None:
        c = t.parts.c
        q = sa.select(t.parts).where(c.brand_id == brand_id)
        q = q.where(c.sku == sku) if sku is not None else q.where(c.id == part_id)
        row = self._x(q).one_or_none()
        return _part(row, self.models_of([row.id]).get(row.id, ())) if row else None

    def parts(self, brand_id: int, skus: Iterable[str] | None = None) -> list[Part]:
        c = t.parts.c
        q = sa.select(t.parts).where(c.brand_id == brand_id)
        if skus is not None:
            q = q.where(c.sku.in_(list(skus)))
        rows = self._x(q.order_by(c.sku)).all()
        models = self.models_of([r.id for r in rows])
        return [_part(r, models.get(r.id, ())) for r in rows]

    def models_of(self, part_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        pm, pc = t.part_models.c, t.products.c
        out: dict[int, list[str]] = {}
        for part_id, model in self._x(sa.select(pm.part_id, pc.model).join(t.products, pc.id == pm.product_id)
                                      .where(pm.part_id.in_(list(part_ids))).order_by(pc.model)):
            out.setdefault(part_id, []).append(model)
        return {k: tuple(v) for k, v in out.items()}

    def fits(self, part_id: int, product_id: int) -> bool:
        c = t.part_models.c
        return self._x(sa.select(c.part_id).where(c.part_id == part_id, c.product_id == product_id)).first() is not None

    def add_location(self, brand_id: int, code: str, name: str, kind: LocationKind, outlet_id: int | None,
                     technician_id: int | None, at: datetime) -> int:
        return int(self._x(sa.insert(t.stock_locations).values(
            brand_id=brand_id, code=code, name=name, kind=kind.value, outlet_id=outlet_id,
            technician_id=technician_id, created_at=at).returning(t.stock_locations.c.id)).scalar_one())

    def location(self, brand_id: int, *, code: str | None = None, location_id: int | None = None
                 ) -> StockLocation | None:
        c = t.stock_locations.c
        q = sa.select(t.stock_locations).where(c.brand_id == brand_id)
        q = q.where(c.code == code) if code is not None else q.where(c.id == location_id)
        row = self._x(q).one_or_none()
        return _location(row) if row else None

    def locations(self, brand_id: int, *, kind: LocationKind | None = None, outlet_ids: Iterable[int] | None = None,
                  technician_ids: Iterable[int] | None = None) -> list[StockLocation]:
        c = t.stock_locations.c
        q = sa.select(t.stock_locations).where(c.brand_id == brand_id)
        if kind is not None:
            q = q.where(c.kind == kind.value)
        if outlet_ids is not None:
            q = q.where(c.outlet_id.in_(list(outlet_ids)))
        if technician_ids is not None:
            q = q.where(c.technician_id.in_(list(technician_ids)))
        return [_location(r) for r in self._x(q.order_by(c.code))]

    # --- balances
    def change(self, brand_id: int, location_id: int, part_id: int, on_hand: int, reserved: int) -> bool:
        """Apply a balance change if it keeps 0 ≤ reserved ≤ on hand; False (nothing changed) otherwise."""
        c = t.stock_balances.c
        if on_hand > 0 and reserved == 0:  # stock arriving: the row may not exist yet
            insert = _insert(self.session.get_bind().dialect.name)
            stmt = insert(t.stock_balances).values(location_id=location_id, part_id=part_id, brand_id=brand_id,
                                                   on_hand=on_hand, reserved=0)
            self._x(stmt.on_conflict_do_update(index_elements=["location_id", "part_id"],
                                               set_={"on_hand": c.on_hand + on_hand}))
            return True
        result = self._x(sa.update(t.stock_balances).where(
            c.location_id == location_id, c.part_id == part_id,
            c.on_hand + on_hand >= 0, c.reserved + reserved >= 0, c.reserved + reserved <= c.on_hand + on_hand,
        ).values(on_hand=c.on_hand + on_hand, reserved=c.reserved + reserved))
        return result.rowcount == 1

    def balances(self, brand_id: int, *, location_ids: Iterable[int] | None = None,
                 part_ids: Iterable[int] | None = None) -> Sequence[Any]:
        b, p, loc = t.stock_balances.c, t.parts.c, t.stock_locations.c
        q = (sa.select(b.location_id, loc.code.label("location"), loc.name.label("location_name"), loc.kind,
                       b.part_id, p.sku, p.name, b.on_hand,
                       b.reserved, (b.on_hand - b.reserved).label("available"), b.reorder_point, b.reorder_qty)
             .join(t.parts, p.id == b.part_id).join(t.stock_locations, loc.id == b.location_id)
             .where(b.brand_id == brand_id))
        if location_ids is not None:
            q = q.where(b.location_id.in_(list(location_ids)))
        if part_ids is not None:
            q = q.where(b.part_id.in_(list(part_ids)))
        return self._x(q.order_by(loc.code, p.sku)).all()

    def available(self, part_id: int, location_ids: Sequence[int]) -> dict[int, int]:
        b = t.stock_balances.c
        return dict(self._x(sa.select(b.location_id, b.on_hand - b.reserved).where(
            b.part_id == part_id, b.location_id.in_(list(location_ids)))).all())

    def set_reorder(self, brand_id: int, location_id: int, part_id: int, point: int, qty: int) -> None:
        insert = _insert(self.session.get_bind().dialect.name)
        self._x(insert(t.stock_balances).values(location_id=location_id, part_id=part_id, brand_id=brand_id,
                                                on_hand=0, reserved=0, reorder_point=point, reorder_qty=qty)
                .on_conflict_do_update(index_elements=["location_id", "part_id"],
                                       set_={"reorder_point": point, "reorder_qty": qty}))

    def below_reorder(self, brand_id: int) -> Sequence[Any]:
        b, p, loc = t.stock_balances.c, t.parts.c, t.stock_locations.c
        return self._x(sa.select(loc.code.label("location"), loc.name.label("location_name"), loc.kind, p.sku, p.name,
                                 b.on_hand, b.reserved,
                                 (b.on_hand - b.reserved).label("available"), b.reorder_point, b.reorder_qty)
                       .join(t.parts, p.id == b.part_id).join(t.stock_locations, loc.id == b.location_id)
                       .where(b.brand_id == brand_id, b.reorder_point > 0,
                              b.on_hand - b.reserved <= b.reorder_point)
                       .order_by(loc.code, p.sku)).all()

    # --- the ledger
    def record(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._x(sa.insert(t.stock_movements), list(rows))

    def ledger(self, brand_id: int, *, part_id: int | None = None, location_id: int | None = None,
               before_id: int | None = None, limit: int = 100) -> Sequence[Any]:
        m, p = t.stock_movements.c, t.parts.c
        fr, to = t.stock_locations.alias("fr"), t.stock_locations.alias("to")
        q = (sa.select(m.id, m.at, m.kind, p.sku, m.qty, m.serial, fr.c.code.label("from_location"),
                       to.c.code.label("to_location"), m.from_reservation, m.ticket_id, m.actor, m.note)
             .join(t.parts, p.id == m.part_id).outerjoin(fr, fr.c.id == m.from_location_id)
             .outerjoin(to, to.c.id == m.to_location_id).where(m.brand_id == brand_id))
        if part_id is not None:
            q = q.where(m.part_id == part_id)
        if location_id is not None:
            q = q.where(sa.or_(m.from_location_id == location_id, m.to_location_id == location_id))
        if before_id is not None:
            q = q.where(m.id < before_id)
        return self._x(q.order_by(m.id.desc()).limit(limit)).all()

    def movements(self, brand_id: int) -> Iterable[tuple[MovementKind, int, int, int | None, int | None, bool]]:
        """Every movement of the brand, streamed in order (for ``verify``)."""
        m = t.stock_movements.c
        result = self.session.connection().execution_options(stream_results=True, yield_per=5000).execute(
            sa.select(m.kind, m.part_id, m.qty, m.from_location_id, m.to_location_id, m.from_reservation)
            .where(m.brand_id == brand_id).order_by(m.id))
        for r in result:
            yield MovementKind(r.kind), r.part_id, r.qty, r.from_location_id, r.to_location_id, r.from_reservation

    def all_balances(self, brand_id: int) -> dict[tuple[int, int], tuple[int, int]]:
        b = t.stock_balances.c
        return {(r.location_id, r.part_id): (r.on_hand, r.reserved) for r in self._x(
            sa.select(b.location_id, b.part_id, b.on_hand, b.reserved).where(b.brand_id == brand_id))}

    # --- serial numbers
    def add_serials(self, brand_id: int, part_id: int, location_id: int, serials: Sequence[str]) -> None:
        self._x(sa.insert(t.serial_items), [{"brand_id": brand_id, "part_id": part_id, "serial": s,
                                             "location_id": location_id, "status": "in_stock"} for s in serials])

    def serials(self, brand_id: int, part_id: int, serials: Sequence[str]) -> dict[str, Any]:
        c = t.serial_items.c
        return {r.serial: r for r in self._x(sa.select(t.serial_items).where(
            c.brand_id == brand_id, c.part_id == part_id, c.serial.in_(list(serials))))}

    def serials_at(self, location_id: int, part_id: int | None = None, status: str = "in_stock") -> Sequence[Any]:
        c = t.serial_items.c
        q = sa.select(t.serial_items).where(c.location_id == location_id, c.status == status)
        if part_id is not None:
            q = q.where(c.part_id == part_id)
        return self._x(q.order_by(c.serial)).all()

    def take_serial(self, location_id: int, part_id: int) -> Any:
        """One in-stock serial of the part at the location, locked (others' locked rows skipped)."""
        c = t.serial_items.c
        return self._x(self._claimable(sa.select(t.serial_items).where(
            c.location_id == location_id, c.part_id == part_id, c.status == "in_stock").order_by(c.serial).limit(1))
        ).one_or_none()

    def move_serial(self, item_id: int, *, status: str, location_id: int | None, expect: str) -> bool:
        c = t.serial_items.c
        return self._x(sa.update(t.serial_items).where(c.id == item_id, c.status == expect)
                       .values(status=status, location_id=location_id)).rowcount == 1

    # --- reservations
    def reserve(self, values: dict[str, Any]) -> int:
        return int(self._x(sa.insert(t.reservations).values(**values).returning(t.reservations.c.id)).scalar_one())

    def held(self, appointment_id: int) -> Sequence[Any]:
        r, p, si = t.reservations.c, t.parts.c, t.serial_items.c
        return self._x(sa.select(t.reservations, p.sku, si.serial).join(t.parts, p.id == r.part_id)
                       .outerjoin(t.serial_items, si.id == r.serial_item_id)
                       .where(r.appointment_id == appointment_id, r.status == "held").order_by(r.id)).all()

    def for_appointment(self, appointment_id: int) -> Sequence[Any]:
        return self.for_appointments([appointment_id]).get(appointment_id, [])

    def for_appointments(self, appointment_ids: Sequence[int]) -> dict[int, list[Any]]:
        """The reservations of several visits in one query, by visit."""
        if not appointment_ids:
            return {}
        r, p, loc, si = t.reservations.c, t.parts.c, t.stock_locations.c, t.serial_items.c
        rows = self._x(sa.select(r.appointment_id, r.id, p.sku, p.name, r.qty, r.status, loc.code.label("location"),
                                 loc.name.label("location_name"), si.serial)
                       .join(t.parts, p.id == r.part_id).join(t.stock_locations, loc.id == r.location_id)
                       .outerjoin(t.serial_items, si.id == r.serial_item_id)
                       .where(r.appointment_id.in_(list(appointment_ids))).order_by(r.id)).all()
        out: dict[int, list[Any]] = {}
        for row in rows:
            out.setdefault(row.appointment_id, []).append(row)
        return out

    def close_reservation(self, reservation_id: int, status: str, at: datetime) -> None:
        self._x(sa.update(t.reservations).where(t.reservations.c.id == reservation_id)
                .values(status=status, closed_at=at))
