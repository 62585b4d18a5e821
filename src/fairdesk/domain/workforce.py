"""Technicians: where they work, what they are certified for and until when, when they work, their leave; the
visit windows their shifts offer. Who may take a visit and how they are ranked is ``domain/dispatch.py``.

Time is cut into 30-minute slots. A visit window is a run of whole slots inside one of the technician's
shifts; a booked visit holds each of its slots in a table with a unique key (technician, slot), so two
bookings of one technician can never overlap, whichever process makes them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fairdesk.domain.calendars import DayKind
from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.sla import Shift, parse_shifts

__all__ = [
    "DEFAULT_WINDOW_MIN",
    "SLOT_MIN",
    "Certification",
    "DayKind",
    "Leave",
    "Technician",
    "WorkPattern",
    "parse_weekdays",
    "slots_of",
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
