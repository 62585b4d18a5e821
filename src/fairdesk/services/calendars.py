"""The working-day calendar in force, and how an operator keeps it current.

A year's official arrangement is imported as a draft (checked line by line), previewed — which days change and
which open deadlines would move, by how much — then applied as a new version, recorded with who applied it in
every brand's evidence log. The open deadlines then follow it: SLA clocks are computed from the calendar on
every read, so only their escalation timers are rewritten; complaints' stored working-day deadlines are counted
again with the terms they were made with. Both through the worker, with progress. A version governs from the
day after it is applied, so no deadline already met or missed moves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import structlog

from fairdesk.domain.calendars import (
    Arrangement,
    DayKind,
    Source,
    Version,
    WorkingCalendar,
    changed_days,
    parse_arrangement,
)
from fairdesk.domain.complaints import Side, add_working_days, working_days_in
from fairdesk.domain.errors import Conflict, InvalidInput, NotFound
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import Category, Priority
from fairdesk.reference import holidays
from fairdesk.services import evidence, sla
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = [
    "MAX_FILE",
    "WARN_DAYS",
    "Draft",
    "Move",
    "apply",
    "current",
    "packaged",
    "preview",
    "recompute",
    "show",
    "stage",
    "warning",
    "years",
]

log = structlog.get_logger("fairdesk.calendars")

#: The dashboard warns this many days ahead of any day with no official arrangement.
WARN_DAYS = 60
MAX_FILE = 64 * 1024
SYSTEM = "system:calendar"
PAGE = 200
_BUILT: dict[tuple[tuple[Any, ...], ...], WorkingCalendar] = {}


def _calendar(versions: Sequence[Version]) -> WorkingCalendar:
    return WorkingCalendar(versions, holidays.package_kind, holidays.package_years(), holidays.estimate_kind)


def packaged() -> WorkingCalendar:
    """The calendar with no imported year: the package's years, then the estimate."""
    return _calendar([])


def current(uow: UnitOfWork) -> WorkingCalendar:
    """The calendar in force: one small read per unit of work; the calendar itself is built once per set of
    applied versions (identified by their ids and the fingerprints of their days) and shared."""
    marker = uow.calendars.marker()
    found = _BUILT.get(marker)
    if found is None:
        found = _calendar(uow.calendars.applied() if marker else [])
        if len(_BUILT) > 32:
            _BUILT.clear()
        _BUILT[marker] = found
    return found


def _who(actor: Actor | None, operator: str) -> str:
    if actor is None:
        return operator
    require_role(actor, Role.MANAGER, what="change the official calendar")
    return actor.describe()


def _effective(clock: Clock) -> date:
    """A version governs from the day after it is applied: today, and every deadline before now, keep theirs."""
    return clock.now().astimezone(clock.tz).date() + timedelta(days=1)


def stage(uows: UowFactory, clock: Clock, text: str, filename: str, *, actor: Actor | None = None,
          operator: str = "") -> int:
    """Check a year's arrangement and keep it as a draft to preview; refused with every problem and its line."""
    who = _who(actor, operator)
    if len(text.encode()) > MAX_FILE:
        raise InvalidInput("calendar.too_large", f"a year's arrangement is at most {MAX_FILE // 1024} KB",
                           field="file")
    arrangement = parse_arrangement(text)
    with uows() as uow:
        version_id = uow.calendars.add_draft(arrangement, filename, who, clock.now())
        uow.commit()
    return version_id


@dataclass(frozen=True)
class Move:
    """One open deadline that the new arrangement moves."""

    brand_id: int
    what: str  # ticket | complaint
    ref_id: int
    number: str
    deadline: str  # first_response | onsite | resolution | acceptance | mediation
    before: datetime
    after: datetime

    def as_dict(self, clock: Clock) -> dict[str, Any]:
        return {"what": self.what, "id": self.ref_id, "number": self.number, "deadline": self.deadline,
                "before": self.before.astimezone(clock.tz).isoformat(timespec="minutes"),
                "after": self.after.astimezone(clock.tz).isoformat(timespec="minutes"),
                "shift_h": round((self.after - self.before).total_seconds() / 3600, 1)}


@dataclass
class Draft:
    id: int
    arrangement: Arrangement
    filename: str
    created_by: str
    applied: bool
    number: int | None
    changed: list[tuple[date, DayKind, DayKind]]
    moves: list[Move] = field(default_factory=list)
    replaces: Source = Source.ESTIMATE


def _load(uow: UnitOfWork, version_id: int, *, for_update: bool = False) -> tuple[Any, Arrangement]:
    found = uow.calendars.draft(version_id, for_update=for_update)
    if found is None:
        raise NotFound("calendar.not_found", "no such calendar draft")
    return found


def preview(uows: UowFactory, clock: Clock, version_id: int, *, actor: Actor | None = None,
            operator: str = "") -> Draft:
    """What applying a draft would change: the days whose kind changes, and the open deadlines (of the
    actor's brand; of every brand for an operator) that would move, and by how much."""
    _who(actor, operator)
    now = clock.now()
    with uows(readonly=True) as uow:
        row, arrangement = _load(uow, version_id)
        before = current(uow)
    applied = row.applied_at is not None
    draft = Draft(row.id, arrangement, row.filename, row.created_by, applied, row.number, [],
                  replaces=before.year(arrangement.year).source)
    if applied:
        return draft
    after = before.with_version(Version(row.id, arrangement, 0, _effective(clock)))
    draft.changed = [c for c in changed_days(before, after, arrangement.year) if c[0] >= _effective(clock)]
    if draft.changed:
        draft.moves = _moves(uows, clock, before, after, None if actor is None else actor.brand_id, now)
    return draft


def _open_tickets(uows: UowFactory, brand_id: int | None, *,
                  readonly: bool) -> Iterator[tuple[UnitOfWork, Sequence[Any]]]:
    """The open tickets (of a brand, or of all) a page at a time, each page in its own unit of work (committed
    after the caller is done with it, unless read-only)."""
    after_id = 0
    while True:
        with uows(readonly=readonly) as uow:
            ids = uow.sla.open_ticket_ids(brand_id, after_id, PAGE)
            if not ids:
                return
            yield uow, uow.tickets.many(brand_id, ids)
            if not readonly:
                uow.commit()
        after_id = ids[-1]


def _with(policy: sla.Policy, calendar: WorkingCalendar) -> sla.Policy:
    return replace(policy, calendar=replace(policy.calendar, is_workday=calendar.is_workday))


def _moves(uows: UowFactory, clock: Clock, before: WorkingCalendar, after: WorkingCalendar, brand_id: int | None,
           now: datetime) -> list[Move]:
    out: list[Move] = []
    policies: dict[tuple[int, Category, Priority], sla.Policy] = {}
    for uow, tickets in _open_tickets(uows, brand_id, readonly=True):
        for tk in tickets:
            key = (tk.brand_id, tk.category, tk.priority)
            policy = policies.get(key) or policies.setdefault(key, sla.load_policy(uow, *key, clock))
            old = sla.running_deadlines(tk, tk.events, _with(policy, before), now)
            new = sla.running_deadlines(tk, tk.events, _with(policy, after), now)
            out += [Move(tk.brand_id, "ticket", tk.id, tk.number, name, old[name], new[name])
                    for name in old if new.get(name) != old[name] and old[name] > now]
    with uows(readonly=True) as uow:
        for c, name, due, moved in _complaint_moves(uow, clock, before, after, brand_id, now):
            out.append(Move(c.brand_id, "complaint", c.id, c.number, name, due, moved))
    return out


def _complaint_moves(uow: UnitOfWork, clock: Clock, before: WorkingCalendar, after: WorkingCalendar,
                     brand_id: int | None, now: datetime) -> list[tuple[Any, str, datetime, datetime]]:
    """Each running complaint deadline counted again: as many working days as it counted before, on the new
    calendar (so the terms it was made with are kept, whatever the brand's terms are today)."""
    out = []
    closures: dict[int, frozenset[date]] = {}
    for c in uow.complaints.running_deadlines(brand_id, now):
        shut = closures.get(c.brand_id)
        if shut is None:
            shut = closures[c.brand_id] = uow.sla.closures(c.brand_id)
        name, start, due = (("acceptance", c.received_at, c.due_acceptance) if c.status == "received"
                            else ("mediation", c.accepted_at, c.due_mediation))
        n = working_days_in(start, due, clock.tz, before.is_workday, shut)
        if n < 1:
            continue
        moved = add_working_days(start, n, clock.tz, after.is_workday, shut)
        if moved != due:
            out.append((c, name, due, moved))
    return out


def apply(uows: UowFactory, clock: Clock, version_id: int, *, actor: Actor | None = None, operator: str = "") -> int:
    """Make a draft the year's newest version and record it in every brand's evidence log; returns its number
    within the year. The open deadlines follow through ``recompute`` (the worker's run)."""
    who = _who(actor, operator)
    now = clock.now()
    with uows() as uow:
        row, arrangement = _load(uow, version_id, for_update=True)
        if row.applied_at is not None:
            raise Conflict("calendar.already_applied", f"this arrangement was applied already (version {row.number})")
        effective = _effective(clock)
        number = uow.calendars.apply(version_id, arrangement.year, who, now, effective)
        payload = {"year": arrangement.year, "version": number, "digest": arrangement.digest,
                   "effective_from": effective.isoformat(), "applied_by": who,
                   "holidays": sum(e.kind is DayKind.HOLIDAY for e in arrangement.entries),
                   "makeup_days": sum(e.kind is DayKind.MAKEUP for e in arrangement.entries)}
        for brand in uow.brands.all():
            evidence.record(uow, brand.id, EvidenceKind.CALENDAR_APPLIED,
                            f"calendar:{arrangement.year}", None, payload, clock)
        uow.commit()
    log.info("calendar.applied", year=arrangement.year, version=number, by=who)
    return number


Progress = Callable[[str, int, int], None]


def recompute(uows: UowFactory, clock: Clock, version_id: int, progress: Progress | None = None) -> dict[str, Any]:
    """After a version was applied: every open ticket's escalation timers rewritten on the calendar in force,
    and every running complaint deadline counted again. Never a deadline already met or missed."""
    now = clock.now()
    with uows(readonly=True) as uow:
        applied = uow.calendars.applied()
        after = current(uow)
        total = uow.sla.open_ticket_count()
    if not any(v.id == version_id for v in applied):
        raise NotFound("calendar.not_found", "no such applied calendar version")
    before = _calendar([v for v in applied if v.id < version_id])
    tickets = complaints = 0
    for uow, page in _open_tickets(uows, None, readonly=False):  # each page committed by itself
        for tk in page:
            sla.reschedule_ticket(uow, tk, clock, tk.events)
        tickets += len(page)
        if progress:
            progress("tickets", tickets, total)
    with uows() as uow:
        for c, name, due, moved in _complaint_moves(uow, clock, before, after, None, now):
            uow.complaints.set_deadline(c.id, name, moved)
            uow.complaints.add_event(c.id, now, SYSTEM, Side.SYSTEM.value, "deadline_moved",
                                     note=f"{name}: {due.astimezone(clock.tz):%Y-%m-%d} → "
                                          f"{moved.astimezone(clock.tz):%Y-%m-%d}")
            complaints += 1
        uow.commit()
    if progress:
        progress("done", tickets, tickets)
    log.info("calendar.recomputed", version=version_id, tickets=tickets, complaints=complaints)
    return {"version_id": version_id, "tickets": tickets, "complaints_moved": complaints}


# --- reading ------------------------------------------------------------------------------------------------

def _year(cal: WorkingCalendar, year: int, clock: Clock) -> dict[str, Any]:
    found = cal.year(year)
    out: dict[str, Any] = {"year": year, "source": found.source.value}
    if found.version is not None:
        v = found.version
        out |= {"version": v.number, "applied_by": v.applied_by,
                "applied_at": v.applied_at.astimezone(clock.tz).isoformat(timespec="minutes") if v.applied_at else None,
                "effective_from": v.effective_from.isoformat()}
    elif found.source is Source.PACKAGE:
        out["package"] = holidays.package_label()
    else:
        out["package"] = holidays.estimate_label()
    return out


def years(uows: UowFactory, clock: Clock, actor: Actor | None = None) -> list[dict[str, Any]]:
    """This year and the next two, and any year with an imported version: where each one's days come from."""
    if actor is not None:
        require_role(actor, Role.MANAGER, Role.AUDITOR, Role.DISPATCHER, Role.AGENT, what="read the calendar")
    this = clock.now().astimezone(clock.tz).year
    with uows(readonly=True) as uow:
        cal = current(uow)
        imported = {int(r[1]) for r in uow.calendars.marker()}
    return [_year(cal, y, clock) for y in sorted({this, this + 1, this + 2} | imported)]


def show(uows: UowFactory, clock: Clock, year: int) -> dict[str, Any]:
    """What is in force for a year and where it came from, with its holidays and make-up working days."""
    if not 1949 < year < 2200:
        raise InvalidInput("calendar.year", "give a year like 2027", field="year")
    with uows(readonly=True) as uow:
        cal = current(uow)
        history = uow.calendars.history(year)
    out = _year(cal, year, clock)
    found = cal.year(year)
    if found.version is not None:
        days = [(e.day, e.kind, e.festival) for e in found.version.arrangement.entries]
    elif found.source is Source.PACKAGE:
        days = [(d, cal.kind(d), name) for d, name in holidays.package_names(year).items()]
    else:
        days = [(d, DayKind.HOLIDAY, name) for d, name in holidays.estimate_names(year).items()]
    out["days"] = [{"day": d.isoformat(), "kind": k.value, "festival": f} for d, k, f in days]
    out["versions"] = [{"version": r.number, "applied_by": r.applied_by, "digest": r.digest,
                        "applied_at": r.applied_at.astimezone(clock.tz).isoformat(timespec="minutes"),
                        "effective_from": r.effective_from.isoformat()} for r in history]
    return out


def warning(uow: UnitOfWork, clock: Clock) -> dict[str, Any] | None:
    """The first day within WARN_DAYS with no official arrangement (deadlines over it are estimates)."""
    today = clock.now().astimezone(clock.tz).date()
    first = current(uow).unofficial_from(today, WARN_DAYS)
    if first is None:
        return None
    return {"from": first.isoformat(), "year": first.year, "days_left": (first - today).days}


def estimated(uow: UnitOfWork, start: datetime, deadline: datetime, clock: Clock) -> bool:
    """Whether a deadline counted from ``start`` depends on a day known only by estimate (and may still move)."""
    tz = clock.tz
    return current(uow).is_estimate(start.astimezone(tz).date(), deadline.astimezone(tz).date(),
                                    clock.now().astimezone(tz).date())
