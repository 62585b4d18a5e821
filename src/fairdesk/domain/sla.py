"""Business calendars and SLA clocks: deadlines in working time, pausing while the customer or a part is awaited.

A clock is computed from a ticket's events every time, never kept as a counter, so an edited policy or a
back-dated event gives the right answer at once. Which days are working days comes from outside (Chinese
statutory holidays and make-up working days, in reference/holidays.py); this module only does the arithmetic.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.tickets import Status, TicketEvent

__all__ = [
    "OFFICE_HOURS",
    "BusinessCalendar",
    "ClockState",
    "EscalationAction",
    "EscalationStep",
    "SlaTargets",
    "clock",
    "parse_shifts",
    "pauses_from",
]

MAX_DAYS = 3 * 366  # no target is allowed to reach further than this
OFFICE_HOURS = (time(9), time(18))
Shift = tuple[time, time]


def _minus(span: tuple[datetime, datetime], pause: tuple[datetime, datetime]) -> list[tuple[datetime, datetime]]:
    """What is left of a span once a pause is taken out of it (nothing, one piece or two)."""
    (s0, s1), (p0, p1) = span, pause
    return [seg for seg in ((s0, min(s1, p0)), (max(s0, p1), s1)) if seg[0] < seg[1]]


@dataclass(frozen=True)
class BusinessCalendar:
    """When the clock runs: working days (statutory holidays and make-up days included) and working hours,
    or around the clock; plus the brand's own closures."""

    tz: ZoneInfo
    is_workday: Callable[[date], bool]
    hours: Shift | None = OFFICE_HOURS  # None: 24×7
    closures: frozenset[date] = frozenset()
    #: Several shifts a day (e.g. 08:00-12:00 and 13:00-20:00); when given, they replace ``hours``.
    shifts: tuple[Shift, ...] = ()

    def __post_init__(self) -> None:
        if self.hours is not None and not self.hours[0] < self.hours[1]:
            raise InvalidInput("sla.hours", "working hours must end after they start")
        ordered = sorted(self.shifts)
        for a, b in ordered:
            if not a < b:
                raise InvalidInput("calendar.shift_order", f"a shift must end after it starts ({a:%H:%M}-{b:%H:%M})")
        for (a0, a1), (b0, b1) in itertools.pairwise(ordered):
            if b0 < a1:
                raise InvalidInput("calendar.shifts_overlap",
                                   f"shifts {a0:%H:%M}-{a1:%H:%M} and {b0:%H:%M}-{b1:%H:%M} overlap")
        object.__setattr__(self, "shifts", tuple(ordered))

    @property
    def around_the_clock(self) -> bool:
        return self.hours is None and not self.shifts

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working windows as aware datetimes."""
        if self.around_the_clock:
            start = datetime.combine(day, time(0), self.tz)
            return [(start, start + timedelta(days=1))]
        if day in self.closures or not self.is_workday(day):
            return []
        shifts = self.shifts or (self.hours,)
        return [(datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz)) for a, b in shifts]

    def _running(self, start: datetime, end: datetime,
                 pauses: Sequence[tuple[datetime, datetime]]) -> Iterable[tuple[datetime, datetime]]:
        """The stretches between start and end when the clock runs: working windows minus pauses."""
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            for w0, w1 in self.windows(day):
                a, b = max(w0, start), min(w1, end)
                if a >= b:
                    continue
                pieces = [(a, b)]
                for pause in pauses:
                    pieces = [seg for piece in pieces for seg in _minus(piece, pause)]
                yield from pieces
            day += timedelta(days=1)

    def elapsed(self, start: datetime, end: datetime, pauses: Sequence[tuple[datetime, datetime]] = ()) -> float:
        """Seconds of running clock between two instants."""
        if end <= start:
            return 0.0
        return sum((b - a).total_seconds() for a, b in self._running(start, end, pauses))

    def deadline(self, start: datetime, seconds: float, pauses: Sequence[tuple[datetime, datetime]] = ()) -> datetime:
        """The instant at which ``seconds`` of running clock will have passed since ``start``."""
        if seconds <= 0:
            raise InvalidInput("sla.target", "an SLA target must be positive")
        left = seconds
        horizon = start + timedelta(days=MAX_DAYS)
        for a, b in self._running(start, horizon, pauses):
            span = (b - a).total_seconds()
            if span >= left:
                return a + timedelta(seconds=left)
            left -= span
        raise InvalidInput("sla.target", "the target cannot be met within three years of working time")


def parse_shifts(text: str) -> tuple[Shift, ...]:
    """``"08:00-12:00,13:00-20:00"`` → shifts; a clear error for anything else."""
    shifts = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            a, b = part.split("-")
            shifts.append((time.fromisoformat(a.strip()), time.fromisoformat(b.strip())))
        except ValueError:
            raise InvalidInput("calendar.invalid_shift", f"{part!r} is not a shift like 09:00-18:00") from None
    return tuple(shifts)


class EscalationAction(StrEnum):
    NOTIFY = "notify"  # tell the brand's managers (e-mail) and its webhooks
    REASSIGN = "reassign"  # hand the ticket to a named member of staff
    RAISE_PRIORITY = "raise_priority"  # one step up, at most urgent


@dataclass(frozen=True)
class EscalationStep:
    """At ``percent`` of a target's running time, do ``action`` (100 % is the breach itself)."""

    percent: int
    action: EscalationAction
    to_user_id: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.percent <= 200:
            raise InvalidInput("sla.escalation_percent", "an escalation step is at 1-200 % of its target")
        if (self.action is EscalationAction.REASSIGN) != (self.to_user_id is not None):
            raise InvalidInput("sla.escalation_target", "a reassign step, and only it, names the user to hand over to")

    def as_dict(self) -> dict[str, object]:
        return {"percent": self.percent, "action": self.action.value, "to_user_id": self.to_user_id}


#: Pausing states a policy may choose from (a ticket waiting on the customer, or on a part).
PAUSABLE = frozenset({Status.WAITING_CUSTOMER, Status.WAITING_PARTS})
DEFAULT_ESCALATIONS = (EscalationStep(75, EscalationAction.NOTIFY), EscalationStep(100, EscalationAction.NOTIFY))


@dataclass(frozen=True)
class SlaTargets:
    """Targets for one brand × category × priority, in minutes of running clock; the on-site target
    (arrival at the customer's) is optional, as not every request needs a visit."""

    first_response_min: int
    resolution_min: int
    pause_on: frozenset[Status] = PAUSABLE
    onsite_min: int | None = None
    escalations: tuple[EscalationStep, ...] = DEFAULT_ESCALATIONS

    def __post_init__(self) -> None:
        if self.first_response_min <= 0 or self.resolution_min <= 0 or (
                self.onsite_min is not None and self.onsite_min <= 0):
            raise InvalidInput("sla.target", "SLA targets must be positive numbers of minutes")
        if not self.pause_on <= PAUSABLE:
            raise InvalidInput("sla.pause_reason", "a clock may pause only while waiting for the customer or parts")
        seen = set()
        for step in self.escalations:
            if (step.percent, step.action) in seen:
                raise InvalidInput("sla.escalation_duplicate", f"two {step.action.value} steps at {step.percent} %")
            seen.add((step.percent, step.action))
        object.__setattr__(self, "escalations", tuple(sorted(self.escalations, key=lambda s: s.percent)))

    def targets(self) -> dict[str, int]:
        """Each clock this policy runs and its target in minutes."""
        out = {"first_response": self.first_response_min, "resolution": self.resolution_min}
        if self.onsite_min is not None:
            out["onsite"] = self.onsite_min
        return out


def pauses_from(events: Sequence[TicketEvent], pause_on: frozenset[Status], now: datetime
                ) -> list[tuple[datetime, datetime]]:
    """The spans a ticket spent in a pausing state, from its transitions (an open pause runs to ``now``)."""
    spans, opened = [], None
    for e in sorted(events, key=lambda e: e.at):
        if e.to_status is None:
            continue
        if e.to_status in pause_on and opened is None:
            opened = e.at
        elif e.to_status not in pause_on and opened is not None:
            spans.append((opened, e.at))
            opened = None
    if opened is not None:
        spans.append((opened, now))
    return spans


@dataclass(frozen=True)
class ClockState:
    deadline: datetime
    elapsed_s: float
    remaining_s: float
    breached: bool
    paused: bool
    stopped: bool


def clock(started: datetime, target_min: int, calendar: BusinessCalendar,
          pauses: Sequence[tuple[datetime, datetime]], now: datetime, stopped: datetime | None = None) -> ClockState:
    """Where one SLA clock stands at ``now`` (or where it stopped, once met)."""
    until = min(stopped, now) if stopped else now
    deadline = calendar.deadline(started, target_min * 60, pauses)
    elapsed = calendar.elapsed(started, until, pauses)
    # An open pause is passed in as ending now (the deadline then reads "if it resumed now").
    paused = any(p0 <= now <= p1 for p0, p1 in pauses) and stopped is None
    return ClockState(deadline, elapsed, max(0.0, target_min * 60 - elapsed), until > deadline, paused,
                      stopped is not None)
