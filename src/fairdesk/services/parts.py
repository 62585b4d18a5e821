"""Original parts: the catalogue, stock locations, movements through the ledger, reservations for visits,
stock reads, the replenishment report, and a check of the balances against the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fairdesk.domain.errors import Conflict, InvalidInput, NotFound
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.parts import (
    LocationKind,
    MovementKind,
    Part,
    StockLocation,
    derive,
    effects,
    validate_quantity,
    validate_sku,
)
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.text import clean_text
from fairdesk.services import evidence
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork

__all__ = [
    "Move",
    "add_location",
    "add_part",
    "catalogue",
    "consume",
    "ledger",
    "move_stock",
    "release",
    "reorder_report",
    "reserve",
    "set_reorder",
    "stock",
    "verify",
]

STOCK_ROLES = (Role.MANAGER, Role.DISPATCHER)
#: Manual movements; reserve, consume and release happen through visits.
MANUAL = frozenset({MovementKind.RECEIVE, MovementKind.TRANSFER, MovementKind.RETURN, MovementKind.SCRAP})
MAX_SERIAL = 64


def _money(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput("part.unit_cost", f"{value!r} is not an amount", field="unit_cost") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("part.unit_cost", "a cost is zero or more, in yuan with at most two decimals",
                           field="unit_cost")
    return amount


def add_part(actor: Actor, sku: str, name: str, uow: UnitOfWork, clock: Clock, *, serialized: bool = False,
             unit_cost: object = "0", models: Sequence[str] = ()) -> Part:
    """Add an original part; ``models`` are the product models it fits (none: it fits every model)."""
    require_role(actor, Role.MANAGER, what="edit the parts catalogue")
    validate_sku(sku)
    name = clean_text(name, "name", 200, required=True)
    cost = _money(unit_cost)
    with uow:
        if uow.stock.part(actor.brand_id, sku=sku):
            raise Conflict("part.exists", f"part {sku!r} exists")
        product_ids = []
        for model in dict.fromkeys(models):
            product = uow.products.by_model(actor.brand_id, model)
            if product is None:
                raise InvalidInput("part.unknown_model", f"no product model {model!r}", field="models")
            product_ids.append(product.id)
        uow.stock.add_part(actor.brand_id, sku, name, serialized, cost, product_ids, clock.now())
        part = uow.stock.part(actor.brand_id, sku=sku)
        uow.commit()
    return part  # type: ignore[no-any-return]


def add_location(actor: Actor, code: str, name: str, kind: LocationKind, uow: UnitOfWork, clock: Clock, *,
                 outlet_code: str | None = None, technician_id: int | None = None) -> StockLocation:
    """A place stock is kept: a warehouse, an outlet's store room, or a technician's van."""
    require_role(actor, Role.MANAGER, what="manage stock locations")
    StockLocation.validate_code(code)
    name = clean_text(name, "name", 100, required=True)
    if kind is LocationKind.VAN and technician_id is None:
        raise InvalidInput("stock.van_technician", "a van belongs to a technician", field="technician_id")
    if kind is LocationKind.OUTLET and outlet_code is None:
        raise InvalidInput("stock.outlet_required", "an outlet store names its outlet", field="outlet_code")
    with uow:
        if uow.stock.location(actor.brand_id, code=code):
            raise Conflict("stock.location_exists", f"location {code!r} exists")
        outlet_id = None
        if outlet_code is not None:
            outlet = uow.outlets.by_code(actor.brand_id, outlet_code)
            if outlet is None:
                raise NotFound("outlet.not_found", f"no outlet {outlet_code!r}")
            outlet_id = outlet.id
        if technician_id is not None and uow.technicians.get(actor.brand_id, technician_id) is None:
            raise NotFound("technician.not_found", f"no technician {technician_id}")
        location_id = uow.stock.add_location(actor.brand_id, code, name, kind, outlet_id, technician_id, clock.now())
        uow.commit()
    return StockLocation(location_id, actor.brand_id, code, name, kind, outlet_id, technician_id)


def _location(uow: UnitOfWork, brand_id: int, code: str | None, field: str) -> StockLocation | None:
    if code is None:
        return None
    found = uow.stock.location(brand_id, code=code)
    if found is None:
        raise NotFound("stock.location_not_found", f"no stock location {code!r}", field=field)
    return found  # type: ignore[no-any-return]


def _part(uow: UnitOfWork, brand_id: int, sku: str) -> Part:
    found = uow.stock.part(brand_id, sku=sku)
    if found is None:
        raise NotFound("part.not_found", f"no part {sku!r}", field="sku")
    return found  # type: ignore[no-any-return]


def serials_for(part: Part, qty: int, serials: Sequence[str]) -> list[str]:
    cleaned = [s.strip() for s in serials if s.strip()]
    if not part.serialized:
        if cleaned:
            raise InvalidInput("stock.not_serialized", f"{part.sku} is not tracked by serial number", field="serials")
        return []
    if len(cleaned) != qty or len(set(cleaned)) != qty:
        raise InvalidInput("stock.serials", f"{part.sku} is tracked one by one: give {qty} distinct serial numbers",
                           field="serials")
    if any(len(s) > MAX_SERIAL or not s.isprintable() for s in cleaned):
        raise InvalidInput("stock.serials", f"a serial number is 1-{MAX_SERIAL} printable characters", field="serials")
    return cleaned


def apply(uow: UnitOfWork, brand_id: int, kind: MovementKind, part: Part, qty: int, from_id: int | None,
          to_id: int | None, *, actor: str, at: datetime, from_reservation: bool = False,
          serials: Sequence[str] = (), ticket_id: int | None = None, reservation_id: int | None = None,
          note: str = "") -> None:
    """Change the balances for one movement and append it to the ledger, or refuse with nothing changed
    (the caller's transaction is rolled back on the error)."""
    for e in effects(kind, qty, from_id, to_id, from_reservation=from_reservation):
        if not uow.stock.change(brand_id, e.location_id, part.id, e.on_hand, e.reserved):
            what = "reserved" if e.on_hand == 0 and e.reserved < 0 else "available"
            raise Conflict("stock.insufficient", f"not enough {part.sku} {what} at that location for {qty}",
                           sku=part.sku)
    base = {"brand_id": brand_id, "at": at, "kind": kind.value, "part_id": part.id, "from_location_id": from_id,
            "to_location_id": to_id, "from_reservation": from_reservation, "reservation_id": reservation_id,
            "ticket_id": ticket_id, "actor": actor, "note": note}
    if serials:
        uow.stock.record([{**base, "qty": 1, "serial": s} for s in serials])
    else:
        uow.stock.record([{**base, "qty": qty, "serial": None}])


@dataclass(frozen=True)
class Move:
    actor: Actor
    kind: MovementKind
    sku: str
    qty: object
    from_location: str | None = None
    to_location: str | None = None
    serials: tuple[str, ...] = ()
    note: str = ""


def move_stock(cmd: Move, uow: UnitOfWork, clock: Clock) -> dict[str, Any]:
    """Receive, transfer, return or scrap stock; serial-numbered parts name each piece."""
    require_role(cmd.actor, *STOCK_ROLES, what="move stock")
    if cmd.kind not in MANUAL:
        raise InvalidInput("stock.movement_kind", "reserve, consume and release happen through visits", field="kind")
    qty = validate_quantity(cmd.qty)
    note = clean_text(cmd.note, "note", 500, required=False)
    brand_id, now = cmd.actor.brand_id, clock.now()
    with uow:
        part = _part(uow, brand_id, cmd.sku)
        serials = serials_for(part, qty, cmd.serials)
        src = _location(uow, brand_id, cmd.from_location, "from_location")
        dst = _location(uow, brand_id, cmd.to_location, "to_location")
        if serials:
            found = uow.stock.serials(brand_id, part.id, serials)
            for s in serials:
                item = found.get(s)
                if cmd.kind is MovementKind.RECEIVE and item is not None:
                    raise Conflict("stock.serial_exists", f"serial {s} of {part.sku} is already recorded")
                if cmd.kind in (MovementKind.TRANSFER, MovementKind.SCRAP) and (
                        item is None or item.status != "in_stock" or src is None or item.location_id != src.id):
                    raise Conflict("stock.serial_not_here", f"serial {s} of {part.sku} is not in stock there")
                if cmd.kind is MovementKind.RETURN and item is not None and item.status == "in_stock":
                    raise Conflict("stock.serial_in_stock", f"serial {s} of {part.sku} is already in stock")
        apply(uow, brand_id, cmd.kind, part, qty, src.id if src else None, dst.id if dst else None,
              actor=cmd.actor.describe(), at=now, serials=serials, note=note)
        if serials:
            found = uow.stock.serials(brand_id, part.id, serials)
            new = [s for s in serials if s not in found]
            if new:
                uow.stock.add_serials(brand_id, part.id, dst.id, new)  # type: ignore[union-attr]
            for item in found.values():
                if cmd.kind is MovementKind.SCRAP:
                    uow.stock.move_serial(item.id, status="scrapped", location_id=None, expect="in_stock")
                elif cmd.kind is MovementKind.TRANSFER:
                    uow.stock.move_serial(item.id, status="in_stock", location_id=dst.id, expect="in_stock")  # type: ignore[union-attr]
                else:  # a return of a piece that had left stock
                    uow.stock.move_serial(item.id, status="in_stock", location_id=dst.id, expect=item.status)  # type: ignore[union-attr]
        evidence.record(uow, brand_id, EvidenceKind(f"stock.{cmd.kind.value}"), f"part:{part.id}", None,
                        {"sku": part.sku, "qty": qty, "from": cmd.from_location, "to": cmd.to_location,
                         "serials": serials, "by": cmd.actor.describe()}, clock)
        uow.commit()
    return {"kind": cmd.kind.value, "sku": part.sku, "qty": qty, "from_location": cmd.from_location,
            "to_location": cmd.to_location, "serials": serials}


# --- reservations, in the visit's transaction ------------------------------------------------------------


def reserve(uow: UnitOfWork, brand_id: int, part: Part, qty: int, locations: Sequence[StockLocation], *,
            visit_id: int, ticket_id: int, actor: str, at: datetime) -> StockLocation:
    """Reserve ``qty`` of a part at the first of ``locations`` that has it available (the technician's van,
    then their outlet, then the warehouses). The balance update is conditional, so when two visits race for
    the last piece exactly one gets it; the other tries the next location, then fails with nothing held."""
    for loc in locations:
        try:
            apply(uow, brand_id, MovementKind.RESERVE, part, qty, loc.id, None, actor=actor, at=at,
                  ticket_id=ticket_id)
        except Conflict:
            continue
        # A plain part is one reservation of ``qty``; a serial-numbered part is one reservation per piece.
        items: list[Any] = [None] if not part.serialized else [uow.stock.take_serial(loc.id, part.id)
                                                               for _ in range(qty)]
        for item in items:
            if item is not None:
                uow.stock.move_serial(item.id, status="reserved", location_id=loc.id, expect="in_stock")
            uow.stock.reserve({"brand_id": brand_id, "visit_id": visit_id, "ticket_id": ticket_id,
                               "part_id": part.id, "location_id": loc.id, "qty": 1 if part.serialized else qty,
                               "serial_item_id": item.id if item is not None else None, "status": "held",
                               "created_at": at})
        return loc
    raise Conflict("stock.unavailable", f"no {qty} × {part.sku} available for this visit", sku=part.sku)


def release(uow: UnitOfWork, brand_id: int, visit_id: int, *, actor: str, at: datetime,
            keep: dict[int, int] | None = None) -> list[dict[str, Any]]:
    """Give back what a visit holds (all of it, or what is beyond ``keep``: part id → pieces still wanted)."""
    keep = dict(keep or {})
    out = []
    for r in uow.stock.held(visit_id):
        if keep.get(r.part_id, 0) >= r.qty:
            keep[r.part_id] -= r.qty
            continue
        part = uow.stock.part(brand_id, part_id=r.part_id)
        apply(uow, brand_id, MovementKind.RELEASE, part, r.qty, r.location_id, None, actor=actor, at=at,
              ticket_id=r.ticket_id, reservation_id=r.id)
        if r.serial_item_id is not None:
            uow.stock.move_serial(r.serial_item_id, status="in_stock", location_id=r.location_id, expect="reserved")
        uow.stock.close_reservation(r.id, "released", at)
        out.append({"sku": r.sku, "qty": r.qty})
    return out


def consume(uow: UnitOfWork, brand_id: int, visit_id: int, ticket_id: int, part: Part, qty: int,
            van: StockLocation | None, *, actor: str, at: datetime) -> None:
    """Record ``qty`` of a part fitted at a visit: from the visit's reservations first, the rest from the
    technician's van."""
    left = qty
    for r in uow.stock.held(visit_id):
        if left == 0:
            break
        if r.part_id != part.id or r.qty > left:
            continue
        if r.serial_item_id is not None:
            uow.stock.move_serial(r.serial_item_id, status="consumed", location_id=None, expect="reserved")
        apply(uow, brand_id, MovementKind.CONSUME, part, r.qty, r.location_id, None, actor=actor, at=at,
              from_reservation=True, ticket_id=ticket_id, reservation_id=r.id, serials=[r.serial] if r.serial else ())
        uow.stock.close_reservation(r.id, "consumed", at)
        left -= r.qty
    if left:
        if van is None:
            raise Conflict("stock.insufficient", f"{left} × {part.sku} beyond the reservation, and no van to take from")
        taken = []
        if part.serialized:
            for _ in range(left):
                item = uow.stock.take_serial(van.id, part.id)
                if item is None:
                    raise Conflict("stock.insufficient", f"no {part.sku} in the van")
                uow.stock.move_serial(item.id, status="consumed", location_id=None, expect="in_stock")
                taken.append(item.serial)
        apply(uow, brand_id, MovementKind.CONSUME, part, left, van.id, None, actor=actor, at=at,
              ticket_id=ticket_id, serials=taken)


# --- reads ---------------------------------------------------------------------------------------------------


def _staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise NotFound("not_found", "no such resource")


def catalogue(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    _staff(actor)
    with uow:
        return [{"id": p.id, "sku": p.sku, "name": p.name, "serialized": p.serialized, "unit_cost": str(p.unit_cost),
                 "models": list(p.models)} for p in uow.stock.parts(actor.brand_id)]


def stock(uow: UnitOfWork, actor: Actor, *, location: str | None = None, sku: str | None = None
          ) -> list[dict[str, Any]]:
    """On hand, reserved and available per location and part: one indexed read of the maintained balance."""
    _staff(actor)
    with uow:
        loc = _location(uow, actor.brand_id, location, "location")
        part = _part(uow, actor.brand_id, sku) if sku is not None else None
        rows = uow.stock.balances(actor.brand_id, location_ids=[loc.id] if loc else None,
                                  part_ids=[part.id] if part else None)
        return [{"location": r.location, "location_name": r.location_name, "kind": r.kind, "sku": r.sku,
                 "name": r.name, "on_hand": r.on_hand,
                 "reserved": r.reserved, "available": r.available, "reorder_point": r.reorder_point} for r in rows]


def ledger(uow: UnitOfWork, actor: Actor, *, sku: str | None = None, location: str | None = None,
           before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The movements, newest first, a page at a time."""
    _staff(actor)
    if not 1 <= limit <= 500:
        raise InvalidInput("input.limit", "limit is 1-500", field="limit")
    with uow:
        loc = _location(uow, actor.brand_id, location, "location")
        part = _part(uow, actor.brand_id, sku) if sku is not None else None
        rows = uow.stock.ledger(actor.brand_id, part_id=part.id if part else None,
                                location_id=loc.id if loc else None, before_id=before_id, limit=limit)
        return [dict(r._mapping) for r in rows]


def set_reorder(actor: Actor, location: str, sku: str, point: int, qty: int, uow: UnitOfWork) -> None:
    require_role(actor, *STOCK_ROLES, what="set reorder points")
    if not (0 <= point <= 1_000_000 and 0 <= qty <= 1_000_000):
        raise InvalidInput("stock.reorder", "reorder point and quantity are 0-1,000,000")
    with uow:
        loc = _location(uow, actor.brand_id, location, "location")
        part = _part(uow, actor.brand_id, sku)
        uow.stock.set_reorder(actor.brand_id, loc.id, part.id, point, qty)  # type: ignore[union-attr]
        uow.commit()


def reorder_report(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Every location and part at or below its reorder point, with the quantity to order: the reorder
    quantity, or enough to get back above the point if that is more."""
    _staff(actor)
    with uow:
        rows = uow.stock.below_reorder(actor.brand_id)
    return [{"location": r.location, "location_name": r.location_name, "kind": r.kind, "sku": r.sku,
             "name": r.name, "on_hand": r.on_hand,
             "reserved": r.reserved, "available": r.available, "reorder_point": r.reorder_point,
             "order": max(r.reorder_qty, r.reorder_point - r.available + 1)} for r in rows]


def verify(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """Recompute every balance from the ledger and compare with the maintained one."""
    _staff(actor)
    with uow:
        derived = derive(uow.stock.movements(actor.brand_id))
        kept = uow.stock.all_balances(actor.brand_id)
    mismatches = [{"location_id": k[0], "part_id": k[1], "ledger": derived.get(k, (0, 0)),
                   "balance": kept.get(k, (0, 0))}
                  for k in sorted(set(derived) | set(kept)) if derived.get(k, (0, 0)) != kept.get(k, (0, 0))]
    return {"balances": len(kept), "ok": not mismatches, "mismatches": mismatches}
