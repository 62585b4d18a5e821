"""SLA policies and each ticket's clocks, computed from its events on every read (never stored counters)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fairdesk.adapters.holidays import is_workday
from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.sla import OFFICE_HOURS, BusinessCalendar, SlaTargets, clock, pauses_from
from fairdesk.domain.tickets import Category, EventKind, Priority, Status, Ticket, TicketEvent
from fairdesk.services.access import access_ticket, require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork

__all__ = ["DEFAULT_TARGETS", "set_policy", "ticket_clocks", "ticket_with_clocks"]

#: Used when a brand has set nothing for a category and priority: first response within 2 working hours,
#: resolution within 3 working days (27 hours of 09:00-18:00), halved for high and urgent requests.
DEFAULT_TARGETS = {Priority.LOW: (240, 27 * 60 * 2), Priority.NORMAL: (120, 27 * 60),
                   Priority.HIGH: (60, 18 * 60), Priority.URGENT: (30, 9 * 60)}
MAX_TARGET_MIN = 60 * 24 * 365


def set_policy(actor: Actor, category: Category, priority: Priority, first_response_min: int, resolution_min: int,
               around_the_clock: bool, uow: UnitOfWork) -> SlaTargets:
    """Set a brand's targets; open tickets' clocks follow at once, since clocks are computed, not stored."""
    require_role(actor, Role.MANAGER, what="change SLA policies")
    if not (0 < first_response_min <= MAX_TARGET_MIN and 0 < resolution_min <= MAX_TARGET_MIN):
        raise InvalidInput("sla.target", "targets are positive minutes, at most a year")
    targets = SlaTargets(first_response_min, resolution_min)
    with uow:
        uow.sla.save(actor.brand_id, category.value, priority.value, first_response_min, resolution_min,
                     around_the_clock)
        uow.commit()
    return targets


def ticket_clocks(uow: UnitOfWork, actor: Actor, ticket_id: int, clock_: Clock) -> dict[str, Any]:
    """First-response and resolution clocks of a ticket: deadline, time left, paused, breached."""
    return ticket_with_clocks(uow, actor, ticket_id, clock_)[2]


def ticket_with_clocks(uow: UnitOfWork, actor: Actor, ticket_id: int, clock_: Clock
                       ) -> tuple[Ticket, Sequence[TicketEvent], dict[str, Any]]:
    """The ticket, its history and its clocks, from one read (the ticket page needs all three)."""
    now = clock_.now()
    with uow:
        ticket = access_ticket(uow, actor, ticket_id)
        events = uow.tickets.events(ticket.id)
        row = uow.sla.policy(ticket.brand_id, ticket.category.value, ticket.priority.value)
    first_min, resolution_min = (row.first_response_min, row.resolution_min) if row else \
        DEFAULT_TARGETS[ticket.priority]
    calendar = BusinessCalendar(clock_.tz, is_workday, hours=None if row and row.around_the_clock else OFFICE_HOURS)
    targets = SlaTargets(first_min, resolution_min)
    pauses = pauses_from(events, targets.pause_on, now)
    # The first response is the first thing staff did after the request came in (a move or a comment).
    responded = next((e.at for e in events if e.kind is not EventKind.CREATED
                      and not e.actor.startswith("customer:")), None)
    resolved = next((e.at for e in events if e.to_status in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)),
                    None)
    tz = clock_.tz

    def show(state: Any) -> dict[str, Any]:
        return {"deadline": state.deadline.astimezone(tz).isoformat(), "remaining_s": round(state.remaining_s),
                "breached": state.breached, "paused": state.paused, "met": state.stopped and not state.breached}

    policy = {"first_response_min": first_min, "resolution_min": resolution_min,
              "around_the_clock": bool(row and row.around_the_clock),
              "pauses_on": sorted(s.value for s in targets.pause_on)}
    return ticket, events, {
        "ticket_id": ticket.id, "policy": policy,
        "first_response": show(clock(ticket.created_at, first_min, calendar, [], now, responded)),
        "resolution": show(clock(ticket.created_at, resolution_min, calendar, pauses, now, resolved))}
