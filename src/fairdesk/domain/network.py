"""Service outlets, the divisions they cover, and the rules that route an address to them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.regions import DivisionTable, Level
from fairdesk.domain.workforce import WorkPattern

__all__ = ["CoverageGap", "Outlet", "RankedOutlet", "coverage_gaps", "haversine_km", "rank_outlets"]


@dataclass(eq=False)
class Outlet:
    """A service outlet of a brand: where it is, how to reach it, and the divisions it covers."""

    brand_id: int
    code: str
    name: str
    address: str
    created_at: datetime
    adcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    hotline: str = ""
    opening_hours: str = ""
    active: bool = True
    id: int | None = None
    #: The outlet's working week on the technicians' model (None: hours not set, visits are not limited by them).
    open_shifts: str | None = None
    open_weekdays: str = "1-7"
    closed_on_holidays: bool = False

    def week(self) -> WorkPattern | None:
        """When the outlet is open, as a working week (None when its hours are not set)."""
        if not self.open_shifts:
            return None
        return WorkPattern.parse(self.open_shifts, self.open_weekdays, self.closed_on_holidays)

    def __post_init__(self) -> None:
        if not self.code or len(self.code) > 32 or not self.code.replace("-", "").isalnum():
            raise InvalidInput("outlet.invalid_code", "an outlet code is 1-32 letters, digits or dashes",
                               field="code")
        if (self.latitude is None) != (self.longitude is None):
            raise InvalidInput("outlet.coordinates", "give both latitude and longitude, or neither")
        if self.latitude is not None and not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):  # type: ignore[operator]
            raise InvalidInput("outlet.coordinates", "coordinates out of range")


@dataclass(frozen=True)
class RankedOutlet:
    """An outlet that covers an address, with why it ranks where it does."""

    outlet_id: int
    matched_code: str  # the most specific of its coverage codes on the address's chain
    specificity: int  # level of that code: 4 township … 1 province
    distance_km: float | None
    load: int


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(h))


def rank_outlets(chain: Iterable[str], coverage: Mapping[int, set[str]], table: DivisionTable,
                 *, where: tuple[float, float] | None = None,
                 positions: Mapping[int, tuple[float, float]] | None = None,
                 load: Mapping[int, int] | None = None) -> list[RankedOutlet]:
    """Outlets covering a division chain: the most specific coverage first (an outlet naming the county beats
    one naming the whole province), then the nearest where both have coordinates, then the least loaded."""
    chain = list(chain)
    ranked = []
    for outlet_id, codes in coverage.items():
        on_chain = [c for c in chain if c in codes]
        if not on_chain:
            continue
        best = max(on_chain, key=lambda c: table.by_code[c].level)
        pos = (positions or {}).get(outlet_id)
        distance = haversine_km(where, pos) if where and pos else None
        ranked.append(RankedOutlet(outlet_id, best, int(table.by_code[best].level), distance,
                                   (load or {}).get(outlet_id, 0)))
    ranked.sort(key=lambda r: (-r.specificity, r.distance_km if r.distance_km is not None else math.inf,
                               r.load, r.outlet_id))
    return ranked


@dataclass
class CoverageGap:
    """One province's coverage: counties fully covered, partly covered (some townships), and not at all."""

    province_code: str
    province: str
    counties: int = 0
    covered: int = 0
    partial: list[tuple[str, str]] = field(default_factory=list)
    uncovered: list[tuple[str, str]] = field(default_factory=list)
    covered_codes: list[str] = field(default_factory=list)


def coverage_gaps(codes: set[str], table: DivisionTable, province: str | None = None) -> list[CoverageGap]:
    """Per province, the county-level divisions no outlet covers (or covers only in part)."""
    partly = {table.by_code[c].parent for c in codes if c in table.by_code and table.by_code[c].level is Level.TOWNSHIP}
    with_counties = {d.parent for d in table.by_code.values() if d.level is Level.COUNTY}
    report: dict[str, CoverageGap] = {}
    for d in table.by_code.values():
        # County-level units: counties, and cities without counties (中山, 东莞, 儋州, 嘉峪关).
        if not (d.level is Level.COUNTY or (d.level is Level.PREFECTURE and d.code not in with_counties)):
            continue
        chain = table.chain(d.code)
        prov = chain[0]
        if province and prov != province:
            continue
        gap = report.setdefault(prov, CoverageGap(prov, table.by_code[prov].name))
        gap.counties += 1
        if any(c in codes for c in chain):
            gap.covered += 1
            gap.covered_codes.append(d.code)
        elif d.code in partly:
            gap.partial.append((d.code, d.name))
        else:
            gap.uncovered.append((d.code, d.name))
    return sorted(report.values(), key=lambda g: g.province_code)
