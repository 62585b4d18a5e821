"""Parts: the catalogue, stock locations, balances, serial numbers, reservations and the stock ledger.

A balance changes only by a conditional ``UPDATE … WHERE`` the result stays within 0 ≤ reserved ≤ on hand; no
row changed means the stock is not there. PostgreSQL re-checks the condition after a concurrent writer commits,
SQLite runs one writer at a time, so the last part is never reserved twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fairdesk.adapters.db import tables as t
from fairdesk.adapters.db.base import CoreRepository
from fairdesk.domain.parts import LocationKind, MovementKind, Part, StockLocation

__all__ = ["StockRepository"]


def _part(row: Any, models: tuple[str, ...] = ()) -> Part:
    return Part(row.id, row.brand_id, row.sku, row.name, row.serialized, row.unit_cost, models)


def _location(row: Any) -> StockLocation:
    return StockLocation(row.id, row.brand_id, row.code, row.name, LocationKind(row.kind), row.outlet_id,
                         row.technician_id)


class StockRepository(CoreRepository):
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
            insert = self._insert
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
        insert = self._insert
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

    def held(self, visit_id: int) -> Sequence[Any]:
        r, p, si = t.reservations.c, t.parts.c, t.serial_items.c
        return self._x(sa.select(t.reservations, p.sku, si.serial).join(t.parts, p.id == r.part_id)
                       .outerjoin(t.serial_items, si.id == r.serial_item_id)
                       .where(r.visit_id == visit_id, r.status == "held").order_by(r.id)).all()

    def for_visit(self, visit_id: int) -> Sequence[Any]:
        return self.for_visits([visit_id]).get(visit_id, [])

    def for_visits(self, visit_ids: Sequence[int]) -> dict[int, list[Any]]:
        """The reservations of several visits in one query, by visit."""
        if not visit_ids:
            return {}
        r, p, loc, si = t.reservations.c, t.parts.c, t.stock_locations.c, t.serial_items.c
        rows = self._x(sa.select(r.visit_id, r.id, p.sku, p.name, r.qty, r.status, loc.code.label("location"),
                                 loc.name.label("location_name"), si.serial)
                       .join(t.parts, p.id == r.part_id).join(t.stock_locations, loc.id == r.location_id)
                       .outerjoin(t.serial_items, si.id == r.serial_item_id)
                       .where(r.visit_id.in_(list(visit_ids))).order_by(r.id)).all()
        out: dict[int, list[Any]] = {}
        for row in rows:
            out.setdefault(row.visit_id, []).append(row)
        return out

    def close_reservation(self, reservation_id: int, status: str, at: datetime) -> None:
        self._x(sa.update(t.reservations).where(t.reservations.c.id == reservation_id)
                .values(status=status, closed_at=at))
