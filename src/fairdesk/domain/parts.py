"""Original spare parts: the catalogue, where stock lies, and the append-only ledger of its movements.

Every change of stock is a movement. What a location has on hand and what of it is reserved are *derived*
from the ledger (``derive``); the database keeps a balance per (location, part) updated in the same
transaction as each movement, so reads stay one row whatever the ledger's length, and ``verify`` recomputes
the one from the other.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from fairdesk.domain.errors import InvalidInput

__all__ = [
    "MAX_QUANTITY",
    "Effect",
    "LocationKind",
    "MovementKind",
    "Part",
    "StockLocation",
    "derive",
    "effects",
    "validate_quantity",
    "validate_sku",
]

MAX_QUANTITY = 1_000_000
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_LOCATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


class MovementKind(StrEnum):
    RECEIVE = "receive"  # into a location from a supplier or the factory
    TRANSFER = "transfer"  # from one location to another (warehouse → outlet → van)
    RESERVE = "reserve"  # set aside for a booked visit
    CONSUME = "consume"  # fitted at a visit (from its reservation, or straight from the van)
    RELEASE = "release"  # a reservation given back (visit cancelled, part not needed)
    RETURN = "return"  # back into stock (an unused part brought back, a part returned by a customer)
    SCRAP = "scrap"  # written off


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    OUTLET = "outlet"
    VAN = "van"


#: Which ends a movement has: (needs a from-location, needs a to-location).
ENDS = {
    MovementKind.RECEIVE: (False, True), MovementKind.RETURN: (False, True), MovementKind.TRANSFER: (True, True),
    MovementKind.RESERVE: (True, False), MovementKind.CONSUME: (True, False), MovementKind.RELEASE: (True, False),
    MovementKind.SCRAP: (True, False),
}


def validate_quantity(value: object, field: str = "qty") -> int:
    """A quantity is a whole number of pieces, 1 to a million: never negative, zero or fractional."""
    if isinstance(value, bool):
        raise InvalidInput("stock.quantity", "a quantity is a whole number of pieces", field=field)
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise InvalidInput("stock.quantity", f"{value!r} is not a whole, positive number of pieces", field=field)
        value = int(text)
    if isinstance(value, Decimal | float):
        if value != int(value):
            raise InvalidInput("stock.quantity", f"{value} is not a whole number of pieces", field=field)
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise InvalidInput("stock.quantity", f"a quantity is 1-{MAX_QUANTITY} pieces", field=field)
    return value


def validate_sku(sku: str) -> str:
    if not _SKU.match(sku):
        raise InvalidInput("part.sku", f"{sku!r} is not a part number (letters, digits, . _ -; up to 40)", field="sku")
    return sku


@dataclass(frozen=True)
class Part:
    """An original part in the brand's catalogue; ``serialized`` parts are tracked one by one."""

    id: int
    brand_id: int
    sku: str
    name: str
    serialized: bool
    unit_cost: Decimal
    models: tuple[str, ...] = ()  # product models it fits


@dataclass(frozen=True)
class StockLocation:
    id: int
    brand_id: int
    code: str
    name: str
    kind: LocationKind
    outlet_id: int | None = None
    technician_id: int | None = None

    @staticmethod
    def validate_code(code: str) -> str:
        if not _LOCATION.match(code):
            raise InvalidInput("stock.location_code", f"{code!r} is not a location code", field="code")
        return code


@dataclass(frozen=True)
class Effect:
    """What a movement does to one location's balance of one part."""

    location_id: int
    on_hand: int
    reserved: int


def effects(kind: MovementKind, qty: int, from_id: int | None, to_id: int | None, *,
            from_reservation: bool = False) -> list[Effect]:
    """The balance changes of one movement; the single rule both the live balances and ``derive`` follow."""
    need_from, need_to = ENDS[kind]
    if need_from != (from_id is not None) or need_to != (to_id is not None):
        ends = (("a from-location", need_from), ("a to-location", need_to))
        raise InvalidInput("stock.movement_ends", f"a {kind.value} needs " + " and ".join(n for n, f in ends if f))
    if kind is MovementKind.TRANSFER and from_id == to_id:
        raise InvalidInput("stock.same_location", "a transfer goes to another location", field="to")
    match kind:
        case MovementKind.RECEIVE | MovementKind.RETURN:
            return [Effect(to_id, qty, 0)]  # type: ignore[arg-type]
        case MovementKind.TRANSFER:
            return [Effect(from_id, -qty, 0), Effect(to_id, qty, 0)]  # type: ignore[arg-type]
        case MovementKind.RESERVE:
            return [Effect(from_id, 0, qty)]  # type: ignore[arg-type]
        case MovementKind.CONSUME:
            return [Effect(from_id, -qty, -qty if from_reservation else 0)]  # type: ignore[arg-type]
        case MovementKind.RELEASE:
            return [Effect(from_id, 0, -qty)]  # type: ignore[arg-type]
        case MovementKind.SCRAP:
            return [Effect(from_id, -qty, 0)]  # type: ignore[arg-type]
    raise AssertionError(kind)


def derive(movements: Iterable[tuple[MovementKind, int, int, int | None, int | None, bool]]
           ) -> dict[tuple[int, int], tuple[int, int]]:
    """(location, part) → (on hand, reserved), from (kind, part, qty, from, to, from_reservation) rows."""
    totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for kind, part_id, qty, from_id, to_id, from_reservation in movements:
        for e in effects(kind, qty, from_id, to_id, from_reservation=from_reservation):
            row = totals[(e.location_id, part_id)]
            row[0] += e.on_hand
            row[1] += e.reserved
    return {k: (v[0], v[1]) for k, v in totals.items()}
