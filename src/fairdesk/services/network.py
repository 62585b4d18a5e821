"""The service network: outlets, the areas they cover (imported from a published list), routing, gaps."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from fairdesk.domain.errors import Conflict, InvalidInput, NotFound
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.network import CoverageGap, Outlet, RankedOutlet, coverage_gaps, rank_outlets
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.regions import DivisionTable, Resolution, Resolver
from fairdesk.domain.text import clean_text
from fairdesk.domain.workforce import WorkPattern
from fairdesk.services import evidence
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork

__all__ = [
    "AreaImportReport",
    "CreateOutlet",
    "Route",
    "add_outlet_closure",
    "coverage_of",
    "create_outlet",
    "import_areas",
    "network_gaps",
    "route_address",
    "set_outlet_hours",
    "split_area_list",
]

#: Below this confidence a resolved name is not imported: it is listed for a person to check.
IMPORT_MIN_CONFIDENCE = 0.9
MAX_AREA_NAMES = 20_000


@dataclass(frozen=True)
class CreateOutlet:
    actor: Actor
    code: str
    name: str
    address: str
    hotline: str = ""
    opening_hours: str = ""
    latitude: float | None = None
    longitude: float | None = None


def create_outlet(cmd: CreateOutlet, uow: UnitOfWork, clock: Clock, resolver: Resolver) -> Outlet:
    """Open an outlet; its address is resolved to a division (it need not be decidable)."""
    require_role(cmd.actor, Role.MANAGER, what="manage outlets")
    resolution = resolver.resolve(cmd.address)
    outlet = Outlet(brand_id=cmd.actor.brand_id, code=cmd.code, name=cmd.name.strip(), address=cmd.address.strip(),
                    created_at=clock.now(), adcode=resolution.adcode, latitude=cmd.latitude,
                    longitude=cmd.longitude, hotline=cmd.hotline, opening_hours=cmd.opening_hours)
    if not outlet.name or not outlet.address:
        raise InvalidInput("input.empty", "an outlet needs a name and an address")
    with uow:
        if uow.outlets.by_code(cmd.actor.brand_id, cmd.code):
            raise Conflict("outlet.exists", f"outlet {cmd.code!r} exists")
        uow.outlets.add(outlet)
        uow.commit()
    return outlet


def _outlet(uow: UnitOfWork, actor: Actor, code: str) -> Outlet:
    outlet = uow.outlets.by_code(actor.brand_id, code)
    if outlet is None:
        raise NotFound("outlet.not_found", f"no outlet {code!r}", field="outlet")
    return outlet


def set_outlet_hours(actor: Actor, code: str, shifts: str, weekdays: str, closed_on_holidays: bool,
                     uow: UnitOfWork, clock: Clock) -> dict[str, object]:
    """The outlet's week (``08:30-12:00,13:30-18:00`` on ``1-6``, statutory holidays closed or not); visits are
    offered only inside it. An empty ``shifts`` clears the hours (no limit)."""
    require_role(actor, Role.MANAGER, Role.DISPATCHER, what="set an outlet's hours")
    week = WorkPattern.parse(shifts, weekdays, closed_on_holidays) if shifts.strip() else None
    with uow:
        outlet = _outlet(uow, actor, code)
        text = ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in week.shifts) if week else None
        days = ",".join(str(d) for d in sorted(week.weekdays)) if week else "1-7"
        uow.outlets.set_week(actor.brand_id, outlet.id, text, days, bool(week and closed_on_holidays))
        evidence.record(uow, actor.brand_id, EvidenceKind.OUTLET_HOURS, f"outlet:{code}", None,
                        {"shifts": text, "weekdays": days, "closed_on_holidays": bool(week and closed_on_holidays),
                         "by": actor.describe()}, clock)
        uow.commit()
    return {"outlet": code, "shifts": text, "weekdays": days, "closed_on_holidays": bool(week and closed_on_holidays)}


def add_outlet_closure(actor: Actor, code: str, day: date, reason: str, uow: UnitOfWork, clock: Clock) -> None:
    """A day the outlet is closed: no visit of its technicians is offered that day (booked ones are listed on
    the board for rebooking)."""
    require_role(actor, Role.MANAGER, Role.DISPATCHER, what="close an outlet for a day")
    reason = clean_text(reason, "reason", 200, required=True)
    with uow:
        outlet = _outlet(uow, actor, code)
        uow.outlets.add_closure(actor.brand_id, outlet.id, day, reason)
        evidence.record(uow, actor.brand_id, EvidenceKind.OUTLET_CLOSED, f"outlet:{code}", None,
                        {"day": day.isoformat(), "reason": reason, "by": actor.describe()}, clock)
        uow.commit()


def split_area_list(text: str) -> list[str]:
    """A published coverage list: names separated by 、 or new lines (also ，,; and tabs)."""
    return [n.strip() for n in re.split(r"[、\n\r,，;；\t]+", text) if n.strip()]


@dataclass
class AreaImportReport:
    """What an import did with every name: resolved, duplicate, ambiguous, unknown, or held for review."""

    total: int = 0
    resolved: list[tuple[str, str, str]] = field(default_factory=list)  # name, adcode, full name
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # name, adcode it repeats
    ambiguous: list[tuple[str, list[str]]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    review: list[tuple[str, str, str, float]] = field(default_factory=list)  # name, adcode, level, confidence
    imported: int = 0  # new coverage codes stored (on a dry run: that would be stored)

    @property
    def refused(self) -> int:
        return len(self.ambiguous) + len(self.unknown) + len(self.review)

    def as_dict(self) -> dict[str, object]:
        return {"total": self.total, "imported": self.imported, "refused": self.refused,
                "resolved": [{"name": n, "adcode": c, "division": d} for n, c, d in self.resolved],
                "duplicates": [{"name": n, "adcode": c} for n, c in self.duplicates],
                "ambiguous": [{"name": n, "candidates": c} for n, c in self.ambiguous],
                "unknown": self.unknown,
                "review": [{"name": n, "adcode": c, "level": lv, "confidence": cf} for n, c, lv, cf in self.review]}


def _full_name(r: Resolution) -> str:
    return "".join(x for x in (r.province, r.city, r.county, r.township) if x)


def import_areas(actor: Actor, outlet_code: str, text: str, uow: UnitOfWork, resolver: Resolver,
                 *, dry_run: bool = False) -> AreaImportReport:
    """Import a coverage list for an outlet. Only names resolved with confidence are imported (at any level:
    北京市 covers all of Beijing); ambiguous, unknown and doubtful names are listed and left out, never guessed."""
    require_role(actor, Role.MANAGER, what="import service areas")
    names = split_area_list(text)
    if not names:
        raise InvalidInput("network.empty_area_list", "the file names no places")
    if len(names) > MAX_AREA_NAMES:
        raise InvalidInput("network.area_list_too_long", f"at most {MAX_AREA_NAMES} names per import")
    report = AreaImportReport(total=len(names))
    seen: dict[str, str] = {}
    repeated = Counter(names)
    for name in dict.fromkeys(names):
        r = resolver.resolve(name)
        if r.adcode is None:
            (report.ambiguous.append((name, [f"{c['adcode']} {c['name']}" for c in r.candidates]))
             if r.candidates else report.unknown.append(name))
        elif r.confidence < IMPORT_MIN_CONFIDENCE:  # coverage may be any level; doubt is what holds a name back
            report.review.append((name, r.adcode, r.level or "", r.confidence))
        elif r.adcode in seen:
            report.duplicates.append((name, r.adcode))
        else:
            seen[r.adcode] = name
            report.resolved.append((name, r.adcode, _full_name(r)))
        if repeated[name] > 1:
            report.duplicates.append((name, r.adcode or ""))
    with uow:
        outlet = uow.outlets.by_code(actor.brand_id, outlet_code)
        if outlet is None:
            raise NotFound("outlet.not_found", f"no outlet {outlet_code!r}")
        if dry_run:
            report.imported = len(set(seen) - uow.outlets.coverage_codes(actor.brand_id, outlet.id))
        else:
            report.imported = uow.outlets.add_coverage(actor.brand_id, outlet.id, seen)
            uow.commit()
    return report


@dataclass
class Route:
    """Where an address lands and which outlets serve it, best first."""

    resolution: Resolution
    outlets: list[tuple[RankedOutlet, Outlet]]


def route_address(uow: UnitOfWork, actor: Actor, address: str, resolver: Resolver,
                  where: tuple[float, float] | None = None) -> Route:
    """The brand's outlets covering an address, most specific coverage first, then distance, then load."""
    resolution = resolver.resolve(address)
    if resolution.adcode is None:
        return Route(resolution, [])
    chain = resolver.table.chain(resolution.adcode)
    with uow:
        coverage = uow.outlets.coverage_on_chain(actor.brand_id, chain)
        outlets = uow.outlets.by_ids(actor.brand_id, coverage)
    positions = {i: (o.latitude, o.longitude) for i, o in outlets.items() if o.latitude is not None}
    # Load counts the outlet's open tickets once tickets are assigned to outlets (dispatch); zero until then.
    ranked = rank_outlets(chain, coverage, resolver.table, where=where, positions=positions)  # type: ignore[arg-type]
    return Route(resolution, [(r, outlets[r.outlet_id]) for r in ranked])


def coverage_of(uow: UnitOfWork, brand_id: int, adcode: str, table: DivisionTable) -> dict[int, set[str]]:
    """The brand's active outlets covering a division, with the codes by which they do (in an open unit of
    work). Known only down to a county (or a city without counties, like 中山), outlets covering part of it
    are the nearest there are."""
    coverage = uow.outlets.coverage_on_chain(brand_id, table.chain(adcode))
    if not coverage:
        parts_of = [d.code for d in table.children(adcode)]
        coverage = uow.outlets.coverage_on_chain(brand_id, parts_of) if parts_of else {}
    return coverage


def network_gaps(uow: UnitOfWork, actor: Actor, resolver: Resolver, province: str | None = None) -> list[CoverageGap]:
    """Per province, the counties none of the brand's outlets covers."""
    if not actor.is_staff:
        raise NotFound("not_found", "no such report")
    if province is not None:
        found = resolver.resolve(province)
        if found.level != "province":
            raise InvalidInput("network.not_a_province", f"{province!r} is not a province", field="province")
        province = found.adcode
    with uow:
        codes = uow.outlets.coverage_codes(actor.brand_id)
    return coverage_gaps(codes, resolver.table, province)
