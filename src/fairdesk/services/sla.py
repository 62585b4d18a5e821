"""SLA policies, each ticket's clocks (computed from its events on every read, never stored counters) and the
escalation steps the worker fires when a clock reaches a chosen share of its target.

Timers are hints: a row per pending step with the instant it should fire, rewritten whenever the ticket or
its policy changes. The worker recomputes the clock from the events before it acts, so a back-dated event, a
pause or an edited policy can only move a step, never fire it early or twice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.sla import (
    DEFAULT_ESCALATIONS,
    OFFICE_HOURS,
    PAUSABLE,
    BusinessCalendar,
    ClockState,
    EscalationAction,
    EscalationStep,
    SlaTargets,
    clock,
    parse_shifts,
    pauses_from,
)
from fairdesk.domain.text import clean_text
from fairdesk.domain.tickets import Category, EventKind, Priority, Status, Ticket, TicketEvent, TicketFilter
from fairdesk.services import calendars, notify
from fairdesk.services.access import access_handler, access_ticket, require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = [
    "DEFAULT_TARGETS",
    "Policy",
    "SweepResult",
    "add_closure",
    "load_policy",
    "onsite_due",
    "policies",
    "reschedule_ticket",
    "running_deadlines",
    "set_policy",
    "set_shifts",
    "sweep",
    "ticket_clocks",
    "ticket_with_clocks",
]

#: Used when a brand has set nothing for a category and priority: first response within 2 working hours,
#: resolution within 3 working days (27 hours of 09:00-18:00), halved for high and urgent requests.
DEFAULT_TARGETS = {Priority.LOW: (240, 27 * 60 * 2), Priority.NORMAL: (120, 27 * 60),
                   Priority.HIGH: (60, 18 * 60), Priority.URGENT: (30, 9 * 60)}
MAX_TARGET_MIN = 60 * 24 * 365
SYSTEM = "system:sla"
#: Requests that need a visit run the on-site clock when their policy sets one.
VISIT_CATEGORIES = frozenset({Category.REPAIR, Category.INSTALLATION, Category.MAINTENANCE})
ENDED = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)


@dataclass(frozen=True)
class Policy:
    targets: SlaTargets
    calendar: BusinessCalendar
    configured: bool  # False: the documented defaults
    #: When the policy says so, each outlet's closure days: they stop the on-site and resolution clocks of the
    #: requests that outlet has (None: the brand's calendar alone).
    outlet_closures: dict[int, frozenset[date]] | None = None

    def calendar_for(self, ticket: Ticket, clock_name: str) -> BusinessCalendar:
        """The calendar a clock of this ticket runs on: the outlet's closures added for its work."""
        if self.outlet_closures is None or clock_name == "first_response" or ticket.outlet_id is None:
            return self.calendar
        shut = self.outlet_closures.get(ticket.outlet_id)
        return replace(self.calendar, closures=self.calendar.closures | shut) if shut else self.calendar

    def as_dict(self) -> dict[str, Any]:
        t, cal = self.targets, self.calendar
        return {"first_response_min": t.first_response_min, "resolution_min": t.resolution_min,
                "onsite_min": t.onsite_min, "around_the_clock": cal.around_the_clock,
                "outlet_calendar": self.outlet_closures is not None,
                "shifts": [f"{a:%H:%M}-{b:%H:%M}" for a, b in (cal.shifts or ((cal.hours,) if cal.hours else ()))],
                "pauses_on": sorted(s.value for s in t.pause_on),
                "escalations": [s.as_dict() for s in t.escalations], "configured": self.configured}


def _steps(text: str) -> tuple[EscalationStep, ...]:
    return tuple(EscalationStep(s["percent"], EscalationAction(s["action"]), s.get("to_user_id"))
                 for s in json.loads(text or "[]"))


def load_policy(uow: UnitOfWork, brand_id: int, category: Category, priority: Priority, clock_: Clock) -> Policy:
    """The policy for a brand × category × priority with the brand's calendar (shifts, closures)."""
    row, shift_text, closures = uow.sla.policy_and_calendar(brand_id, category.value, priority.value)
    shifts = parse_shifts(shift_text or "")
    around = bool(row and row.around_the_clock)
    calendar = BusinessCalendar(clock_.tz, calendars.current(uow).is_workday, hours=None if around else OFFICE_HOURS,
                                closures=closures, shifts=() if around else shifts)
    if row is None:
        first, resolution = DEFAULT_TARGETS[priority]
        return Policy(SlaTargets(first, resolution), calendar, False)
    pause_on = frozenset(Status(s) for s in row.pause_on.split(",") if s)
    outlets = uow.sla.outlet_closures(brand_id) if row.outlet_calendar else None
    return Policy(SlaTargets(row.first_response_min, row.resolution_min, pause_on, row.onsite_min,
                             _steps(row.escalations) or DEFAULT_ESCALATIONS), calendar, True, outlets)


@dataclass(frozen=True)
class _Clock:
    started: datetime
    target_min: int
    pauses: list[tuple[datetime, datetime]]
    stopped: datetime | None
    calendar: BusinessCalendar


def _clocks(ticket: Ticket, events: Sequence[TicketEvent], policy: Policy, now: datetime) -> dict[str, _Clock]:
    """Every clock the policy runs on this ticket: when it started, its target, its pauses, when it stopped."""
    events = sorted(events, key=lambda e: e.at)
    pauses = pauses_from(events, policy.targets.pause_on, now)
    # The first response is the first thing staff did after the request came in (a move or a comment);
    # neither the customer nor the system's own escalations count.
    responded = next((e.at for e in events if e.kind in (EventKind.TRANSITION, EventKind.COMMENT)
                      and not e.actor.startswith(("customer:", "system:"))), None)
    resolved = next((e.at for e in events if e.to_status in ENDED), None)
    # On site: the technician started work (until dispatch records check-ins, the move to in_progress).
    arrived = next((e.at for e in events if e.to_status in (Status.IN_PROGRESS, *ENDED)), None)
    t = policy.targets
    out = {"first_response": _Clock(ticket.created_at, t.first_response_min, [], responded or resolved,
                                    policy.calendar_for(ticket, "first_response")),
           "resolution": _Clock(ticket.created_at, t.resolution_min, pauses, resolved,
                                policy.calendar_for(ticket, "resolution"))}
    if t.onsite_min is not None and ticket.category in VISIT_CATEGORIES:
        out["onsite"] = _Clock(ticket.created_at, t.onsite_min, pauses, arrived, policy.calendar_for(ticket, "onsite"))
    return out


def _state(c: _Clock, policy: Policy, now: datetime) -> ClockState:
    return clock(c.started, c.target_min, c.calendar, c.pauses, now, c.stopped)


def _step_due(c: _Clock, percent: int, policy: Policy) -> datetime:
    return c.calendar.deadline(c.started, c.target_min * 60 * percent / 100, c.pauses)


def _timer_rows(ticket: Ticket, events: Sequence[TicketEvent], policy: Policy, now: datetime) -> list[dict[str, Any]]:
    if ticket.status in ENDED:
        return []
    steps = policy.targets.escalations
    rows = []
    for name, c in _clocks(ticket, events, policy, now).items():
        if c.stopped is not None:
            continue
        for step in steps:
            rows.append({"clock": name, "percent": step.percent, "action": step.action.value,
                         "to_user_id": step.to_user_id, "due_at": _step_due(c, step.percent, policy)})
    return rows


def running_deadlines(ticket: Ticket, events: Sequence[TicketEvent], policy: Policy, now: datetime
                      ) -> dict[str, datetime]:
    """The deadline of each clock still running on a ticket (met clocks are left out)."""
    if ticket.status in ENDED:
        return {}
    return {name: c.calendar.deadline(c.started, c.target_min * 60, c.pauses)
            for name, c in _clocks(ticket, events, policy, now).items() if c.stopped is None}


def onsite_due(uow: UnitOfWork, ticket: Ticket, clock_: Clock) -> datetime | None:
    """When the technician must be on site under the ticket's policy (None: no on-site target, or met)."""
    policy = load_policy(uow, ticket.brand_id, ticket.category, ticket.priority, clock_)
    if policy.targets.onsite_min is None or ticket.category not in VISIT_CATEGORIES:
        return None  # no need to read the history
    c = _clocks(ticket, ticket.events, policy, clock_.now()).get("onsite")
    if c is None or c.stopped is not None:
        return None
    return c.calendar.deadline(c.started, c.target_min * 60, c.pauses)


def reschedule_ticket(uow: UnitOfWork, ticket: Ticket, clock_: Clock, events: Sequence[TicketEvent] | None = None,
                      policy: Policy | None = None, *, new: bool = False) -> None:
    """Rewrite the ticket's pending escalation steps after it changed (in the caller's transaction);
    ``new`` for a ticket just created (nothing to replace)."""
    policy = policy or load_policy(uow, ticket.brand_id, ticket.category, ticket.priority, clock_)
    events = ticket.events if events is None else events
    uow.timers.replace_for_ticket(ticket.brand_id, ticket.id, _timer_rows(ticket, events, policy, clock_.now()),
                                  new=new)


# --- policies and calendars ---------------------------------------------------------------------------

def set_policy(actor: Actor, category: Category, priority: Priority, first_response_min: int, resolution_min: int,
               around_the_clock: bool, uow: UnitOfWork, *, onsite_min: int | None = None,
               pause_on: Sequence[Status] | None = None, escalations: Sequence[EscalationStep] = (),
               clock_: Clock | None = None, uows: UowFactory | None = None, outlet_calendar: bool = False) -> int:
    """Set a brand's targets. Clocks are computed, so every read reflects the edit at once; the pending
    escalation steps of the open tickets it applies to are rewritten too (batched, when ``uows`` is given).
    Returns how many open tickets were rescheduled."""
    require_role(actor, Role.MANAGER, what="change SLA policies")
    for value in (first_response_min, resolution_min, onsite_min):
        if value is not None and not 0 < value <= MAX_TARGET_MIN:
            raise InvalidInput("sla.target", "targets are positive minutes, at most a year")
    pauses = frozenset(PAUSABLE if pause_on is None else pause_on)
    SlaTargets(first_response_min, resolution_min, pauses, onsite_min, tuple(escalations))  # validates
    with uow:
        for step in escalations:
            if step.to_user_id is not None:
                access_handler(uow, actor, step.to_user_id, "sla.escalation_target", "escalations")
        uow.sla.save(actor.brand_id, category.value, priority.value, first_response_min, resolution_min,
                     around_the_clock, onsite_min, ",".join(sorted(s.value for s in pauses)),
                     json.dumps([s.as_dict() for s in escalations]), outlet_calendar)
        uow.commit()
    if uows is None or clock_ is None:
        return 0
    return _reschedule_matching(uows, actor.brand_id, category, priority, clock_)


def _reschedule_matching(uows: UowFactory, brand_id: int, category: Category, priority: Priority, clock_: Clock,
                         batch: int = 200) -> int:
    done, after = 0, 0
    while True:
        with uows() as uow:
            ids = uow.sla.open_tickets(brand_id, category.value, priority.value, after, batch)
            if not ids:
                return done
            policy = load_policy(uow, brand_id, category, priority, clock_)
            for ticket in uow.tickets.many(brand_id, ids):
                reschedule_ticket(uow, ticket, clock_, ticket.events, policy)
            uow.commit()
        done += len(ids)
        after = ids[-1]


def policies(uow: UnitOfWork, actor: Actor, clock_: Clock) -> list[dict[str, Any]]:
    """Every category × priority with the policy that applies (set or default)."""
    require_role(actor, Role.MANAGER, Role.AGENT, Role.DISPATCHER, Role.AUDITOR, what="read SLA policies")
    with uow:
        return [{"category": c.value, "priority": p.value, **load_policy(uow, actor.brand_id, c, p, clock_).as_dict()}
                for c in Category for p in Priority]


def set_shifts(actor: Actor, shifts: str, uow: UnitOfWork, clock_: Clock) -> list[str]:
    """The brand's working shifts (e.g. ``08:00-12:00,13:00-20:00``); overlapping shifts are refused."""
    require_role(actor, Role.MANAGER, what="change the service calendar")
    parsed = parse_shifts(shifts)
    if not parsed:
        raise InvalidInput("calendar.invalid_shift", "give at least one shift like 09:00-18:00")
    BusinessCalendar(clock_.tz, lambda _day: True, shifts=parsed)  # validates order and overlaps
    text = ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in sorted(parsed))
    with uow:
        uow.sla.save_shifts(actor.brand_id, text)
        uow.commit()
    return text.split(",")


def add_closure(actor: Actor, day: date, reason: str, uow: UnitOfWork) -> None:
    """A day the brand's service is closed beyond the statutory holidays (its clocks do not run)."""
    require_role(actor, Role.MANAGER, what="change the service calendar")
    reason = clean_text(reason, "reason", 200, required=True)
    with uow:
        uow.sla.add_closure(actor.brand_id, day, reason)
        uow.commit()


# --- reading clocks -------------------------------------------------------------------------------------

def ticket_clocks(uow: UnitOfWork, actor: Actor, ticket_id: int, clock_: Clock) -> dict[str, Any]:
    """First-response, on-site and resolution clocks of a ticket: deadline, time left, paused, breached."""
    return ticket_with_clocks(uow, actor, ticket_id, clock_)[2]


def ticket_with_clocks(uow: UnitOfWork, actor: Actor, ticket_id: int, clock_: Clock
                       ) -> tuple[Ticket, Sequence[TicketEvent], dict[str, Any]]:
    """The ticket, its history and its clocks, from one read (the ticket page needs all three)."""
    now = clock_.now()
    with uow:
        ticket = access_ticket(uow, actor, ticket_id)
        events = uow.tickets.events(ticket.id)
        policy = load_policy(uow, ticket.brand_id, ticket.category, ticket.priority, clock_)
        working = calendars.current(uow)
    tz = clock_.tz
    out: dict[str, Any] = {"ticket_id": ticket.id, "policy": policy.as_dict()}
    for name, c in _clocks(ticket, events, policy, now).items():
        state = _state(c, policy, now)
        # A deadline counted over a day nobody has published the arrangement for yet is an estimate.
        estimate = working.is_estimate(c.started.astimezone(tz).date(), state.deadline.astimezone(tz).date(),
                                       now.astimezone(tz).date())
        out[name] = {"deadline": state.deadline.astimezone(tz).isoformat(), "remaining_s": round(state.remaining_s),
                     "breached": state.breached, "paused": state.paused,
                     "met": state.stopped and not state.breached, "estimate": estimate}
    return ticket, events, out


# --- attainment: how many requests met each target --------------------------------------------------------

ATTAINMENT_PAGE = 500


def attainment(uows: UowFactory, actor: Actor, clock_: Clock, days: int,
               progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Of the requests opened in the last ``days`` days, how many met each target, missed it, or still run —
    each request's clocks replayed from its history under its policy, exactly as its page shows them. The
    rate counts decided clocks only (met / (met + missed)); running ones are reported beside it."""
    require_role(actor, Role.MANAGER, Role.AUDITOR, what="read SLA attainment")
    now = clock_.now()
    flt = TicketFilter(created_from=now - timedelta(days=days))
    blank = {"met": 0, "missed": 0, "running": 0}
    totals: dict[str, dict[str, int]] = {}
    by_category: dict[str, dict[str, dict[str, int]]] = {}
    policies: dict[tuple[Category, Priority], Policy] = {}
    from fairdesk.services.tickets import walk_tickets  # tickets reschedules through this module

    done = 0
    for page, done, total in walk_tickets(uows, actor, flt, ATTAINMENT_PAGE):
        with uows(readonly=True) as uow:
            events = uow.tickets.events_of([tk.id for tk in page])
            for tk in page:
                key = (tk.category, tk.priority)
                if key not in policies:
                    policies[key] = load_policy(uow, actor.brand_id, tk.category, tk.priority, clock_)
        for tk in page:
            policy = policies[(tk.category, tk.priority)]
            for name, c in _clocks(tk, events[tk.id], policy, now).items():
                state = _state(c, policy, now)
                outcome = "missed" if state.breached else "met" if state.stopped else "running"
                totals.setdefault(name, dict(blank))[outcome] += 1
                by_category.setdefault(tk.category.value, {}).setdefault(name, dict(blank))[outcome] += 1
        if progress:
            progress(done, total)

    def rated(counts: dict[str, int]) -> dict[str, Any]:
        decided = counts["met"] + counts["missed"]
        return counts | {"rate": round(counts["met"] / decided, 4) if decided else None}

    return {"days": days, "tickets": done, "computed_at": now.astimezone(clock_.tz).isoformat(timespec="seconds"),
            "clocks": {name: rated(c) for name, c in sorted(totals.items())},
            "by_category": {cat: {name: rated(c) for name, c in sorted(v.items())}
                            for cat, v in sorted(by_category.items())}}


# --- the sweep ------------------------------------------------------------------------------------------

@dataclass
class SweepResult:
    claimed: int = 0
    fired: int = 0
    rescheduled: int = 0
    dropped: int = 0  # the clock stopped (met, or the ticket ended) before the step was due
    busy: int = 0  # tickets another transaction held; their steps wait for the next sweep

    def __iadd__(self, other: SweepResult) -> SweepResult:
        for k in ("claimed", "fired", "rescheduled", "dropped", "busy"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        return self


def sweep(uows: UowFactory, clock_: Clock, *, batch: int = 200, public_url: str = "") -> SweepResult:
    """Fire every due escalation step, ``batch`` timers per transaction, until none is due. Each batch is one
    transaction: a worker killed mid-batch leaves its timers to be fired again, and their effects (events,
    messages) were never committed, so nothing happens twice."""
    total = SweepResult()
    while True:
        result = _sweep_batch(uows, clock_, batch, public_url)
        total += result
        if result.claimed < batch or result.busy:
            return total


def _sweep_batch(uows: UowFactory, clock_: Clock, batch: int, public_url: str) -> SweepResult:
    now = clock_.now()
    result = SweepResult()
    with uows() as uow:
        timers = uow.timers.claim_due(now, batch)
        result.claimed = len(timers)
        if not timers:
            return result
        by_ticket: dict[int, list[Any]] = defaultdict(list)
        for timer in timers:
            by_ticket[timer.ticket_id].append(timer)
        tickets = {tk.id: tk for tk in uow.tickets.many(None, list(by_ticket), lock_free=True)}
        policies: dict[tuple[int, Category, Priority], Policy] = {}
        outbox = notify.Notifier(uow, clock_)
        fired, dropped = [], []
        for ticket_id, due in by_ticket.items():
            ticket = tickets.get(ticket_id)
            if ticket is None:  # being changed right now: its steps stay due for the next sweep
                result.busy += 1
                continue
            key = (ticket.brand_id, ticket.category, ticket.priority)
            policy = policies.get(key) or policies.setdefault(key, load_policy(uow, *key, clock_))
            clocks = _clocks(ticket, ticket.events, policy, now)
            changed, fired_here = False, []
            for timer in due:
                c = clocks.get(timer.clock)
                if c is None or c.stopped is not None or ticket.status in ENDED:
                    dropped.append(timer.id)
                    continue
                due_at = _step_due(c, timer.percent, policy)
                if due_at > now:
                    uow.timers.reschedule(timer.id, due_at)
                    result.rescheduled += 1
                    continue
                deadline = due_at if timer.percent == 100 else _step_due(c, 100, policy)
                changed |= _act(uow, outbox, ticket, timer, due_at, deadline, now, public_url, clock_)
                fired_here.append(timer.id)
            fired.extend(fired_here)
            if changed:  # a raised priority brings another policy, hence other deadlines
                # Marked fired first: a reschedule keeps fired steps and rewrites only the pending ones.
                uow.timers.fired(fired_here, now)
                reschedule_ticket(uow, ticket, clock_, ticket.events)
        uow.timers.fired(fired, now)  # one statement for the batch (marking twice is harmless)
        uow.timers.delete(dropped)
        outbox.flush()
        uow.commit()
    result.fired, result.dropped = len(fired), len(dropped)
    return result


def _act(uow: UnitOfWork, outbox: notify.Notifier, ticket: Ticket, timer: Any, due_at: datetime,
         deadline: datetime, now: datetime, public_url: str, clock_: Clock) -> bool:
    """Do one escalation step; True when the ticket's priority changed."""
    action = EscalationAction(timer.action)
    what = f"{timer.clock} {timer.percent}%: {action.value}"
    ticket.record(EventKind.ESCALATION, actor=SYSTEM, at=now, note=what)
    context = {"number": ticket.number, "subject": ticket.subject, "clock": timer.clock, "percent": timer.percent,
               "deadline": deadline.astimezone(clock_.tz).strftime("%Y-%m-%d %H:%M"),
               "link": f"{public_url}/tickets/{ticket.id}"}
    kind = "sla_breached" if timer.percent >= 100 else "sla_warning"
    data = {"ticket_id": ticket.id, "number": ticket.number, "clock": timer.clock, "percent": timer.percent,
            "action": action.value, "deadline": deadline.isoformat(), "due_at": due_at.isoformat()}
    outbox.webhook(ticket.brand_id, "sla.breached" if timer.percent >= 100 else "sla.warning", data)
    if action is EscalationAction.NOTIFY:
        outbox.staff(ticket.brand_id, kind, **context)
    elif action is EscalationAction.REASSIGN:
        ticket.assign(timer.to_user_id, actor=SYSTEM, at=now, note=f"escalation: {what}")
        outbox.staff(ticket.brand_id, "ticket_reassigned", user_ids=(timer.to_user_id,),
                     reason=f"SLA {timer.clock} {timer.percent}%", **context)
    elif action is EscalationAction.RAISE_PRIORITY:
        return ticket.raise_priority(actor=SYSTEM, at=now, note=f"escalation: {what}") is not None
    return False

