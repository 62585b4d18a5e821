"""Technicians: where they work, what they are certified for and until when, when they work; the visit
windows a customer can choose from, and the published score that ranks technicians for a visit.

Time is cut into 30-minute slots. A visit window is a run of whole slots inside one of the technician's
shifts; a booked visit holds each of its slots in a table with a unique key (technician, slot), so two
bookings of one technician can never overlap, whichever process makes them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from fairdesk.domain.calendars import DayKind
from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.sla import Shift, parse_shifts
from fairdesk.domain.tickets import Priority

__all__ = [
    "DEFAULT_WINDOW_MIN",
    "SLOT_MIN",
    "WEIGHTS",
    "Candidate",
    "Certification",
    "DayKind",
    "Leave",
    "Technician",
    "Unfit",
    "Weights",
    "WorkPattern",
    "outlet_open",
    "parse_weekdays",
    "slots_of",
    "unfit",
    "unfit_in_window",
    "unfit_on_day",
]

SLOT_MIN = 30
DEFAULT_WINDOW_MIN = 120
MAX_WINDOW_MIN = 480
MAX_LEVEL = 3
MAX_VISITS = 20
_PRODUCT_LINE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def parse_weekdays(text: str) -> frozenset[int]:
    """``"1-5"``, ``"1,2,3,4,5,6"`` or ``"1-3,6"`` (ISO: 1 Monday … 7 Sunday) → the set of weekdays."""
    days: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        a, sep, b = part.partition("-")
        try:
            lo, hi = int(a), int(b) if sep else int(a)
        except ValueError:
            raise InvalidInput("technician.weekdays", f"{part!r} is not a weekday number or range like 1-5",
                               field="weekdays") from None
        if not 1 <= lo <= hi <= 7:
            raise InvalidInput("technician.weekdays", f"weekdays are 1 (Monday) to 7 (Sunday), got {part!r}",
                               field="weekdays")
        days.update(range(lo, hi + 1))
    if not days:
        raise InvalidInput("technician.weekdays", "name at least one working weekday", field="weekdays")
    return frozenset(days)


def _aligned(t: time) -> bool:
    return t.second == 0 and t.microsecond == 0 and t.minute % SLOT_MIN == 0


@dataclass(frozen=True)
class WorkPattern:
    """A technician's week: shifts on the given weekdays; with ``holidays_off`` statutory holidays are off
    and make-up working days are worked, as for any employee under the national arrangement."""

    shifts: tuple[Shift, ...]
    weekdays: frozenset[int]
    holidays_off: bool = True

    @classmethod
    def parse(cls, shifts: str, weekdays: str, holidays_off: bool = True) -> WorkPattern:
        parsed = parse_shifts(shifts)
        if not parsed:
            raise InvalidInput("technician.shifts", "name at least one shift like 09:00-18:00", field="shifts")
        ordered = sorted(parsed)
        for a, b in ordered:
            if not a < b:
                raise InvalidInput("calendar.shift_order", f"a shift must end after it starts ({a:%H:%M}-{b:%H:%M})",
                                   field="shifts")
            if not (_aligned(a) and _aligned(b)):
                raise InvalidInput("technician.shift_alignment",
                                   f"shifts start and end on the hour or half hour ({a:%H:%M}-{b:%H:%M})",
                                   field="shifts")
        for (_a0, a1), (b0, _b1) in itertools.pairwise(ordered):
            if b0 < a1:
                raise InvalidInput("calendar.shifts_overlap", "shifts overlap", field="shifts")
        return cls(tuple(ordered), parse_weekdays(weekdays), holidays_off)

    def works_on(self, day: date, kind: DayKind) -> bool:
        if self.holidays_off and kind is DayKind.HOLIDAY:
            return False
        if self.holidays_off and kind is DayKind.MAKEUP:
            return True
        return day.isoweekday() in self.weekdays

    def windows(self, day: date, kind: DayKind, tz: ZoneInfo, length_min: int = DEFAULT_WINDOW_MIN
                ) -> list[tuple[datetime, datetime]]:
        """The day's visit windows: back-to-back runs of ``length_min`` from the start of each shift; a
        remainder shorter than a window is not offered."""
        if not self.works_on(day, kind):
            return []
        out = []
        step = timedelta(minutes=length_min)
        for a, b in self.shifts:
            start, end = datetime.combine(day, a, tz), datetime.combine(day, b, tz)
            while start + step <= end:
                out.append((start, start + step))
                start += step
        return out

    def covers(self, day: date, kind: DayKind, tz: ZoneInfo, start: datetime, end: datetime) -> bool:
        """Whether a span lies inside one shift of a day the technician works."""
        if not self.works_on(day, kind):
            return False
        return any(datetime.combine(day, a, tz) <= start and end <= datetime.combine(day, b, tz)
                   for a, b in self.shifts)


def validate_window(start: datetime, end: datetime, now: datetime) -> None:
    """A window a visit may be booked in: aware, on the half-hour grid, 30 min to 8 h, not begun yet."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("dispatch.naive_time", "give window times with a UTC offset", field="starts_at")
    minutes = (end - start).total_seconds() / 60
    if not SLOT_MIN <= minutes <= MAX_WINDOW_MIN or minutes % SLOT_MIN:
        raise InvalidInput("dispatch.window_length",
                           f"a window is {SLOT_MIN}-{MAX_WINDOW_MIN} minutes in steps of {SLOT_MIN}", field="ends_at")
    if start.second or start.microsecond or start.minute % SLOT_MIN:
        raise InvalidInput("dispatch.window_alignment", "a window starts on the hour or half hour", field="starts_at")
    if start <= now:
        raise InvalidInput("dispatch.window_past", "that window has already begun; choose a later one",
                           field="starts_at")


def slots_of(start: datetime, end: datetime) -> list[datetime]:
    """The 30-minute slots a span occupies (their starts)."""
    out, at = [], start
    while at < end:
        out.append(at)
        at += timedelta(minutes=SLOT_MIN)
    return out


def validate_product_line(line: str) -> str:
    if not _PRODUCT_LINE.match(line):
        raise InvalidInput("certification.product_line", f"{line!r} is not a product line code", field="product_line")
    return line


@dataclass(eq=False)
class Technician:
    """A certified technician: a user of the brand with the technician role, working for one outlet."""

    user_id: int
    brand_id: int
    outlet_id: int
    shifts: str = "09:00-18:00"
    weekdays: str = "1-5"
    holidays_off: bool = True
    home_latitude: float | None = None
    home_longitude: float | None = None
    max_visits_per_day: int = 6
    active: bool = True
    created_at: datetime | None = None
    pattern: WorkPattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = WorkPattern.parse(self.shifts, self.weekdays, self.holidays_off)
        self.shifts = ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in self.pattern.shifts)
        self.weekdays = ",".join(str(d) for d in sorted(self.pattern.weekdays))
        if (self.home_latitude is None) != (self.home_longitude is None):
            raise InvalidInput("technician.home", "give both home latitude and longitude, or neither")
        if self.home_latitude is not None and not (
                -90 <= self.home_latitude <= 90 and -180 <= self.home_longitude <= 180):  # type: ignore[operator]
            raise InvalidInput("technician.home", "home coordinates out of range")
        if not 1 <= self.max_visits_per_day <= MAX_VISITS:
            raise InvalidInput("technician.max_visits", f"1-{MAX_VISITS} visits a day", field="max_visits_per_day")

    @property
    def home(self) -> tuple[float, float] | None:
        return (self.home_latitude, self.home_longitude) if self.home_latitude is not None else None  # type: ignore[return-value]


@dataclass(eq=False)
class Certification:
    """A certificate to work on one product line at a level (1 basic … 3 senior), valid for a period."""

    technician_id: int
    brand_id: int
    product_line: str
    level: int
    valid_from: date
    valid_to: date
    number: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        validate_product_line(self.product_line)
        if not 1 <= self.level <= MAX_LEVEL:
            raise InvalidInput("certification.level", f"a level is 1-{MAX_LEVEL}", field="level")
        if self.valid_to < self.valid_from:
            raise InvalidInput("certification.period", "a certificate must end on or after the day it starts",
                               field="valid_to")
        if len(self.number) > 64:
            raise InvalidInput("certification.number", "a certificate number is at most 64 characters",
                               field="number")

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to


@dataclass(frozen=True)
class Leave:
    technician_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str = ""

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and start < self.ends_at


# --- ranking ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """The published dispatch score: a cost, lowest first. Nothing about the customer's spending or plan is
    in it; the same request from any customer ranks technicians the same way."""

    per_km: float = 1.0  # travel, from the technician's home base (else their outlet) to the customer's division
    unknown_distance_km: float = 30.0  # counted when either end has no coordinates
    per_visit: float = 15.0  # each visit the technician already has that day (spreads the load)
    per_hour_wait: float = 1.0  # how long the customer waits for the window, times the priority's factor
    late: float = 200.0  # the window ends after the on-site SLA deadline …
    per_hour_late: float = 20.0  # … plus this per hour late
    preferred: float = 40.0  # taken off when the customer asked for this technician
    priority_factor: dict[str, float] = field(default_factory=lambda: {
        Priority.LOW.value: 0.5, Priority.NORMAL.value: 1.0, Priority.HIGH.value: 2.0, Priority.URGENT.value: 4.0})

    def as_dict(self) -> dict[str, object]:
        return {"per_km": self.per_km, "unknown_distance_km": self.unknown_distance_km, "per_visit": self.per_visit,
                "per_hour_wait": self.per_hour_wait, "late": self.late, "per_hour_late": self.per_hour_late,
                "preferred": self.preferred, "priority_factor": dict(self.priority_factor)}


WEIGHTS = Weights()


@dataclass(frozen=True)
class Candidate:
    """One technician in one window, with the cost that ranks them and each term of it."""

    technician_id: int
    outlet_id: int
    starts_at: datetime
    ends_at: datetime
    distance_km: float | None
    load: int
    preferred: bool
    cost: float
    terms: dict[str, float]

    @classmethod
    def score(cls, technician_id: int, outlet_id: int, window: tuple[datetime, datetime], *,
              distance_km: float | None, load: int, preferred: bool, priority: Priority, now: datetime,
              due_at: datetime | None, weights: Weights = WEIGHTS) -> Candidate:
        start, end = window
        terms = {
            "travel": weights.per_km * (weights.unknown_distance_km if distance_km is None else distance_km),
            "load": weights.per_visit * load,
            "wait": weights.per_hour_wait * weights.priority_factor[priority.value]
            * max(0.0, (start - now).total_seconds() / 3600),
        }
        if due_at is not None and end > due_at:
            terms["late"] = weights.late + weights.per_hour_late * (end - due_at).total_seconds() / 3600
        if preferred:
            terms["preferred"] = -weights.preferred
        return cls(technician_id, outlet_id, start, end, distance_km, load, preferred,
                   round(sum(terms.values()), 3), {k: round(v, 3) for k, v in terms.items()})

    def rank_key(self) -> tuple[float, datetime, int]:
        return (self.cost, self.starts_at, self.technician_id)


def outlet_open(week: WorkPattern | None, closed: Iterable[date], day: date, kind: DayKind, tz: ZoneInfo,
                start: datetime, end: datetime) -> bool:
    """A window the outlet can keep: not on one of its closure days, and inside its opening hours when it keeps
    any (a technician works for an outlet; no visit is promised when the outlet is shut)."""
    if day in closed:
        return False
    return week is None or week.covers(day, kind, tz, start, end)


# --- who can take a visit --------------------------------------------------------------------------------


class Unfit(StrEnum):
    """Why a technician cannot take a visit. The technician is checked first, then the day, then the window;
    the first check that fails is the reason given (an inactive technician is "inactive", whatever else)."""

    INACTIVE = "inactive"
    NO_CERTIFICATE = "no_certificate"  # none for the unit's product line
    CERTIFICATE_EXPIRED = "certificate_expired"  # one for the line, ended before the visit's day
    CERTIFICATE_NOT_YET_VALID = "certificate_not_yet_valid"  # one for the line, starting after it
    NOT_WORKING = "not_working"  # not a working day for them, or the window is outside their shifts
    ON_LEAVE = "on_leave"
    BUSY = "busy"  # another visit holds part of the window, or their day is full (daily limit)
    OUTLET_CLOSED = "outlet_closed"  # their outlet is closed that day, or outside its hours then


def unfit_on_day(tech: Technician, certificates: Iterable[Certification], product_line: str, day: date,
                 kind: DayKind, load: int) -> Unfit | None:
    """Why the technician can take no visit to a unit of the product line on the day (``load``: the visits
    they already have that day); None when some window of the day may still fit."""
    if not tech.active:
        return Unfit.INACTIVE
    held = [c for c in certificates if c.product_line == product_line]
    if not held:
        return Unfit.NO_CERTIFICATE
    if not any(c.valid_on(day) for c in held):
        return Unfit.CERTIFICATE_EXPIRED if any(c.valid_to < day for c in held) else Unfit.CERTIFICATE_NOT_YET_VALID
    if not tech.pattern.works_on(day, kind):
        return Unfit.NOT_WORKING
    if load >= tech.max_visits_per_day:
        return Unfit.BUSY
    return None


def unfit_in_window(tech: Technician, day: date, kind: DayKind, tz: ZoneInfo, start: datetime, end: datetime, *,
                    taken: Collection[datetime], leave: Iterable[Leave], outlet_week: WorkPattern | None,
                    outlet_closed: Collection[date]) -> Unfit | None:
    """Why the technician cannot take a visit in this window of the day (``taken``: the slots other visits of
    theirs hold; their outlet's week and closure days); None when they can."""
    if not tech.pattern.covers(day, kind, tz, start, end):
        return Unfit.NOT_WORKING
    if any(lv.overlaps(start, end) for lv in leave):
        return Unfit.ON_LEAVE
    if any(s in taken for s in slots_of(start, end)):
        return Unfit.BUSY
    if not outlet_open(outlet_week, outlet_closed, day, kind, tz, start, end):
        return Unfit.OUTLET_CLOSED
    return None


def unfit(tech: Technician, certificates: Iterable[Certification], product_line: str, day: date, kind: DayKind,
          tz: ZoneInfo, start: datetime, end: datetime, *, load: int, taken: Collection[datetime],
          leave: Iterable[Leave], outlet_week: WorkPattern | None, outlet_closed: Collection[date]) -> Unfit | None:
    """Why the technician cannot take a visit to a unit of the product line in the window; None when they can.
    Auto-dispatch ranks only those with None; the board gives the reason beside each one it cannot offer."""
    return unfit_on_day(tech, certificates, product_line, day, kind, load) or unfit_in_window(
        tech, day, kind, tz, start, end, taken=taken, leave=leave, outlet_week=outlet_week,
        outlet_closed=outlet_closed)


DayKindOf = Callable[[date], DayKind]
