"""Dispatch: who may take a visit, how the eligible are ranked, and a visit's life.

Eligible for a visit = works at an active outlet covering the request's division ∧ holds a certificate for the
unit's product line valid on the visit's day ∧ works then (shifts, weekdays, statutory holidays), is not on
leave, has no other visit in the window, is under their daily limit, and their outlet is open then. The
eligible are ranked by the published score (``Weights``), lowest cost first. Nothing here reads a database or a
clock: the time, the calendar (a function from a day to its kind) and the schedules are passed in.

A visit is booked → on site → completed, or booked → cancelled / no-show; ``VISIT_TRANSITIONS`` is the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from fairdesk.domain.calendars import DayKind
from fairdesk.domain.errors import Conflict
from fairdesk.domain.network import Outlet, haversine_km
from fairdesk.domain.tickets import Priority
from fairdesk.domain.workforce import DEFAULT_WINDOW_MIN, Certification, Leave, Technician, WorkPattern, slots_of

__all__ = [
    "ACTIVE",
    "CHECK_IN_EARLY",
    "LEAD",
    "LOADED",
    "VISIT_TRANSITIONS",
    "WEIGHTS",
    "Candidate",
    "DayKindOf",
    "Job",
    "Schedules",
    "Unfit",
    "Unscheduled",
    "Visit",
    "VisitFacts",
    "VisitMove",
    "VisitStatus",
    "Weights",
    "outlet_open",
    "rank",
    "unfit",
    "unfit_in_window",
    "unfit_on_day",
]

#: The earliest a window may start: a technician needs time to get there.
LEAD = timedelta(minutes=60)
#: A technician may check in this long before the window begins, not sooner.
CHECK_IN_EARLY = timedelta(hours=2)

DayKindOf = Callable[[date], DayKind]


# --- a visit's life --------------------------------------------------------------------------------------


class VisitStatus(StrEnum):
    BOOKED = "booked"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


#: Visits that hold the request (one at a time) and the technician's time.
ACTIVE = (VisitStatus.BOOKED, VisitStatus.ON_SITE)
#: Visits that count in a technician's load that day (a finished one took their time too).
LOADED = (VisitStatus.BOOKED, VisitStatus.ON_SITE, VisitStatus.COMPLETED)


class VisitMove(StrEnum):
    MOVE = "move"
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"
    CANCEL = "cancel"
    NO_SHOW = "no_show"


#: Each move of a visit: the states it may start from, and the state it ends in.
VISIT_TRANSITIONS: dict[VisitMove, tuple[frozenset[VisitStatus], VisitStatus]] = {
    VisitMove.MOVE: (frozenset({VisitStatus.BOOKED}), VisitStatus.BOOKED),
    VisitMove.CHECK_IN: (frozenset({VisitStatus.BOOKED}), VisitStatus.ON_SITE),
    VisitMove.CHECK_OUT: (frozenset({VisitStatus.ON_SITE}), VisitStatus.COMPLETED),
    VisitMove.CANCEL: (frozenset({VisitStatus.BOOKED}), VisitStatus.CANCELLED),
    VisitMove.NO_SHOW: (frozenset({VisitStatus.BOOKED}), VisitStatus.NO_SHOW),
}


@dataclass(eq=False)
class Visit:
    """A technician's visit to a request's address in a window, with the score that chose them."""

    brand_id: int
    ticket_id: int
    technician_id: int
    outlet_id: int
    starts_at: datetime
    ends_at: datetime
    booked_by: str
    created_at: datetime
    updated_at: datetime
    status: VisitStatus = VisitStatus.BOOKED
    score: dict[str, Any] = field(default_factory=dict)
    override_reason: str = ""
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    work_done: str = ""
    closing_reason: str = ""
    id: int | None = None

    @classmethod
    def book(cls, brand_id: int, ticket_id: int, chosen: Candidate, *, reason: str, booked_by: str, at: datetime,
             weights: Weights | None = None) -> Visit:
        """A new visit in the chosen technician's window, remembering why they were chosen."""
        return cls(brand_id, ticket_id, chosen.technician_id, chosen.outlet_id, chosen.starts_at, chosen.ends_at,
                   booked_by, at, at, score=chosen.explained(weights or WEIGHTS), override_reason=reason)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def slots(self) -> list[datetime]:
        return slots_of(self.starts_at, self.ends_at)

    def can(self, move: VisitMove) -> bool:
        return self.status in VISIT_TRANSITIONS[move][0]

    def require(self, move: VisitMove) -> None:
        """Refused unless the visit's state allows the move."""
        if not self.can(move):
            raise Conflict("visit.state", f"the visit is {self.status.value}", status=self.status.value)

    def _go(self, move: VisitMove, at: datetime) -> None:
        self.require(move)
        self.status = VISIT_TRANSITIONS[move][1]
        self.updated_at = at

    def move(self, chosen: Candidate, *, reason: str, at: datetime, weights: Weights | None = None) -> None:
        """To another window, perhaps with another technician; the reason given replaces the old one."""
        self._go(VisitMove.MOVE, at)
        self.technician_id, self.outlet_id = chosen.technician_id, chosen.outlet_id
        self.starts_at, self.ends_at = chosen.starts_at, chosen.ends_at
        self.score = chosen.explained(weights or WEIGHTS)
        self.override_reason = reason or self.override_reason

    def check_in(self, at: datetime) -> None:
        """The technician is there: on the visit's day, at most ``CHECK_IN_EARLY`` before the window."""
        self.require(VisitMove.CHECK_IN)
        if at < self.starts_at - CHECK_IN_EARLY:
            raise Conflict("visit.too_early", "check in on the visit's day, at most two hours before the window")
        self._go(VisitMove.CHECK_IN, at)
        self.checked_in_at = at

    def check_out(self, work_done: str, at: datetime) -> None:
        self._go(VisitMove.CHECK_OUT, at)
        self.checked_out_at, self.work_done = at, work_done

    def cancel(self, reason: str, at: datetime) -> None:
        self._go(VisitMove.CANCEL, at)
        self.closing_reason = reason

    def no_show(self, note: str, at: datetime) -> None:
        """Nobody was there: said only once the window has begun."""
        self.require(VisitMove.NO_SHOW)
        if at < self.starts_at:
            raise Conflict("visit.not_started", "a no-show is recorded once the window has begun")
        self._go(VisitMove.NO_SHOW, at)
        self.closing_reason = note


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

    def explained(self, weights: Weights) -> dict[str, Any]:
        """What a visit keeps of the choice: the cost, its terms and the weights that priced them."""
        return {"cost": self.cost, "terms": self.terms, "distance_km": self.distance_km, "load": self.load,
                "weights": weights.as_dict()}


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


@dataclass(frozen=True)
class VisitFacts:
    """What a visit needs to know of its request, read together: the unit's product and product line, and the
    visit address (its text and, once resolved, its county)."""

    product_id: int
    product_line: str
    address_id: int | None
    text: str | None
    adcode: str | None


@dataclass(frozen=True)
class Unscheduled:
    """A request in the dispatcher's queue: it needs a visit and has none."""

    id: int
    number: str
    subject: str
    priority: str
    status: str
    created_at: datetime


# --- ranking the eligible --------------------------------------------------------------------------------


@dataclass
class Schedules:
    """What eligibility needs to know of some technicians over some days, read once: the slots their visits hold
    and how many visits they have each day, their leave, their outlets (a starting point for those with no home
    base; hours and closure days no visit may fall outside of), and the kind of each day."""

    tz: ZoneInfo
    kind_of: DayKindOf
    busy: dict[int, set[datetime]] = field(default_factory=dict)
    loads: Counter[tuple[int, date]] = field(default_factory=Counter)
    leave: Mapping[int, Sequence[Leave]] = field(default_factory=dict)
    outlets: Mapping[int, Outlet] = field(default_factory=dict)
    closed: Mapping[int, Collection[date]] = field(default_factory=dict)
    weeks: dict[int, WorkPattern | None] = field(init=False)

    def __post_init__(self) -> None:
        self.weeks = {i: o.week() for i, o in self.outlets.items()}

    @classmethod
    def of(cls, tz: ZoneInfo, kind_of: DayKindOf, visits: Iterable[Visit], *, leave: Mapping[int, Sequence[Leave]],
           outlets: Mapping[int, Outlet], closed: Mapping[int, Collection[date]], exclude_visit: int | None = None
           ) -> Schedules:
        """From the visits that take time (``LOADED``); a visit being moved does not block itself. A visit
        finished early keeps its window, as the slot table does: offering the rest of it would offer a time no
        booking can take."""
        sched = cls(tz, kind_of, leave=leave, outlets=outlets, closed=closed)
        for v in visits:
            if v.id == exclude_visit or v.status not in LOADED:
                continue
            sched.loads[(v.technician_id, sched.day(v.starts_at))] += 1
            sched.busy.setdefault(v.technician_id, set()).update(v.slots)
        return sched

    def day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def origin(self, tech: Technician) -> tuple[float, float] | None:
        """Where the technician sets out from: their home base, else their outlet."""
        if tech.home is not None:
            return tech.home
        o = self.outlets.get(tech.outlet_id)
        return (o.latitude, o.longitude) if o is not None and o.latitude is not None else None  # type: ignore[return-value]

    def unfit_in_window(self, tech: Technician, day: date, start: datetime, end: datetime) -> Unfit | None:
        return unfit_in_window(tech, day, self.kind_of(day), self.tz, start, end,
                               taken=self.busy.get(tech.user_id, set()), leave=self.leave.get(tech.user_id, []),
                               outlet_week=self.weeks.get(tech.outlet_id),
                               outlet_closed=self.closed.get(tech.outlet_id, set()))

    def unfit(self, tech: Technician, certificates: Iterable[Certification], product_line: str, start: datetime,
              end: datetime) -> Unfit | None:
        """Why the technician cannot take a visit of the product line in the window (None: they can)."""
        day = self.day(start)
        return unfit(tech, certificates, product_line, day, self.kind_of(day), self.tz, start, end,
                     load=self.loads[(tech.user_id, day)], taken=self.busy.get(tech.user_id, set()),
                     leave=self.leave.get(tech.user_id, []), outlet_week=self.weeks.get(tech.outlet_id),
                     outlet_closed=self.closed.get(tech.outlet_id, set()))


@dataclass(frozen=True)
class Job:
    """What ranking needs of the visit's request: the unit's product line, where the customer is, how urgent it
    is and when the on-site deadline falls."""

    product_line: str
    point: tuple[float, float] | None
    priority: Priority
    due_at: datetime | None = None


def rank(job: Job, technicians: Sequence[tuple[Technician, Sequence[Certification]]], sched: Schedules, *,
         now: datetime, first_day: date, last_day: date, window: tuple[datetime, datetime] | None = None,
         window_min: int = DEFAULT_WINDOW_MIN, preferred: int | None = None, need: int | None = None,
         weights: Weights | None = None) -> list[Candidate]:
    """Every (eligible technician, free window) for the job between two local days, scored and ranked lowest cost
    first; eligible by ``unfit``, the rule the board also shows. Without ``window``, the windows of each
    technician's shifts starting at least ``LEAD`` from now. With ``need``, later days are skipped once the best
    ``need`` already cost no more than any later window could (its wait alone, on top of the least travel, is
    more), so the ranking's top ``need`` is the same as over all days."""
    w = weights or WEIGHTS
    if not technicians:
        return []
    distances = {}
    for tech, _ in technicians:
        origin = sched.origin(tech)
        distances[tech.user_id] = round(haversine_km(origin, job.point), 1) if origin and job.point else None
    # The least travel of any of them: no window of theirs can cost less, whatever the day.
    floor_travel = min(w.per_km * (w.unknown_distance_km if d is None else d) for d in distances.values())
    factor = w.per_hour_wait * w.priority_factor[job.priority.value]
    out: list[Candidate] = []
    day = first_day
    while day <= last_day:
        if need is not None and len(out) >= need:
            day_start = datetime.combine(day, datetime.min.time(), sched.tz)
            bound = floor_travel + factor * max(0.0, (day_start - now).total_seconds() / 3600) - (
                w.preferred if preferred is not None else 0.0)
            out.sort(key=Candidate.rank_key)
            if out[need - 1].cost <= bound:
                break
        kind = sched.kind_of(day)
        for tech, certificates in technicians:
            load = sched.loads[(tech.user_id, day)]
            if unfit_on_day(tech, certificates, job.product_line, day, kind, load) is not None:
                continue
            spans = [window] if window is not None else tech.pattern.windows(day, kind, sched.tz, window_min)
            for s0, s1 in spans:
                if window is None and s0 < now + LEAD:
                    continue
                if sched.unfit_in_window(tech, day, s0, s1) is not None:
                    continue
                out.append(Candidate.score(tech.user_id, tech.outlet_id, (s0, s1),
                                           distance_km=distances[tech.user_id], load=load,
                                           preferred=tech.user_id == preferred, priority=job.priority,
                                           now=now, due_at=job.due_at, weights=w))
        day += timedelta(days=1)
    out.sort(key=Candidate.rank_key)
    return out
