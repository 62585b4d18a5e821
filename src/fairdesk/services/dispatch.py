"""Dispatch's use cases: the windows a customer can choose from, the ranked technicians for a visit, booking in
one call (technician, slots and parts together, or nothing), and the visit's life: reschedule, cancel, no-show,
check-in, check-out with the work done and the parts fitted; and the dispatcher's board of each day.

Who is eligible and how they rank is ``domain/dispatch.py``; this module reads what the rule needs, calls it,
and writes what it decided.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from fairdesk.domain.customers import mask_address
from fairdesk.domain.dispatch import (
    LOADED,
    Candidate,
    Job,
    Schedules,
    Unfit,
    Visit,
    VisitMove,
    VisitStatus,
    rank,
    unfit_on_day,
)
from fairdesk.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.parts import LocationKind, Part, StockLocation, validate_quantity
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.text import clean_text
from fairdesk.domain.tickets import Status, Ticket
from fairdesk.domain.workforce import DEFAULT_WINDOW_MIN, SLOT_MIN, Technician, validate_window
from fairdesk.reference.regions_data import default_resolver, point_of
from fairdesk.services import calendars, evidence, network, sla, surveys
from fairdesk.services import parts as parts_svc
from fairdesk.services.access import access_ticket, access_visit
from fairdesk.services.channels import display_phone
from fairdesk.services.clock import Clock
from fairdesk.services.customers import contacts_visible
from fairdesk.services.notify import Notifier
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = [
    "Booking",
    "CheckOut",
    "PartRequest",
    "VisitContext",
    "board",
    "book",
    "booked_summary",
    "cancel",
    "check_in",
    "check_out",
    "get_visit",
    "no_show",
    "plan",
    "reassign_choices",
    "reschedule",
    "windows",
    "withdraw_request",
]

DISPATCH_ROLES = (Role.MANAGER, Role.DISPATCHER)
BOOKING_ROLES = (Role.MANAGER, Role.DISPATCHER, Role.AGENT, Role.CUSTOMER)
MAX_DAYS = 14


@dataclass(frozen=True)
class PartRequest:
    sku: str
    qty: object = 1


@dataclass
class VisitContext:
    """What a visit needs to know about its ticket: the unit's product line, where the customer is."""

    ticket: Ticket
    product_id: int
    product_line: str
    chain: tuple[str, ...]
    point: tuple[float, float] | None
    coverage: dict[int, set[str]]


def _context(uow: UnitOfWork, actor: Actor, ticket_id: int, *, for_update: bool = False) -> VisitContext:
    ticket = access_ticket(uow, actor, ticket_id, for_update=for_update)
    if ticket.category not in sla.VISIT_CATEGORIES:
        raise InvalidInput("dispatch.no_visit", f"a {ticket.category.value} request needs no visit")
    if not ticket.is_open:
        raise Conflict("dispatch.ticket_closed", f"the request is {ticket.status.value}")
    if ticket.unit_id is None:
        raise InvalidInput("dispatch.no_unit", "name the unit to repair on the request first (its product line "
                           "decides who is certified)")
    facts = uow.visits.visit_facts(ticket.id)
    if ticket.address_id is None or facts is None or facts.address_id is None or facts.text is None:
        raise InvalidInput("dispatch.no_address", "the request has no visit address")
    resolver = default_resolver()
    adcode = facts.adcode
    if adcode is None:
        adcode = resolver.resolve(facts.text).adcode
        if adcode is None:
            raise InvalidInput("dispatch.address_unresolved",
                               f"cannot tell which county {facts.text!r} is in; correct the address first")
        if for_update:
            uow.customers.set_adcode(ticket.address_id, adcode)
    chain = resolver.table.chain(adcode)
    coverage = network.coverage_of(uow, ticket.brand_id, adcode, resolver.table)
    return VisitContext(ticket, facts.product_id, facts.product_line, chain, point_of(chain), coverage)


def _local_day(at: datetime, clock: Clock) -> date:
    return at.astimezone(clock.tz).date()


def _schedules(uow: UnitOfWork, brand_id: int, techs: Sequence[Technician], first_day: date, last_day: date,
               clock: Clock, *, exclude_visit: int | None = None) -> Schedules:
    """The technicians' schedules between two local days, read once (the slot table guards bookings; reads
    need not use it); a visit being moved does not block itself."""
    tz = clock.tz
    start = datetime.combine(first_day, datetime.min.time(), tz)
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tz)
    ids = [t.user_id for t in techs]
    outlets = uow.outlets.by_ids(brand_id, {t.outlet_id for t in techs})
    return Schedules.of(tz, calendars.current(uow).kind,
                        uow.visits.between(brand_id, start, end, technician_ids=ids, statuses=LOADED),
                        leave=uow.technicians.leave(ids, start, end), outlets=outlets,
                        closed=uow.outlets.closures(outlets, first_day, last_day), exclude_visit=exclude_visit)


def _candidates(uow: UnitOfWork, ctx: VisitContext, clock: Clock, *, first_day: date, last_day: date,
                window: tuple[datetime, datetime] | None = None, window_min: int = DEFAULT_WINDOW_MIN,
                preferred: int | None = None, extra_technician: int | None = None,
                exclude_visit: int | None = None, need: int | None = None) -> list[Candidate]:
    """The ranking (``domain.dispatch.rank``) over the technicians of the covering outlets certified for the
    unit's line in those days — and a dispatcher's own choice from elsewhere, which the rule then judges."""
    brand_id = ctx.ticket.brand_id
    outlet_ids = list(ctx.coverage)
    found = uow.technicians.eligible(brand_id, outlet_ids, ctx.product_line, first_day, last_day) if outlet_ids \
        else []
    if extra_technician is not None and all(t.user_id != extra_technician for t, _ in found):
        tech = uow.technicians.get(brand_id, extra_technician)
        if tech is not None:
            certs = [c for c in uow.technicians.certifications([tech.user_id]).get(tech.user_id, [])
                     if c.product_line == ctx.product_line]
            found.append((tech, certs))
    if not found:
        return []
    sched = _schedules(uow, brand_id, [t for t, _ in found], first_day, last_day, clock, exclude_visit=exclude_visit)
    job = Job(ctx.product_line, ctx.point, ctx.ticket.priority, sla.onsite_due(uow, ctx.ticket, clock))
    return rank(job, found, sched, now=clock.now(), first_day=first_day, last_day=last_day, window=window,
                window_min=window_min, preferred=preferred, need=need)


def _days(clock: Clock, days: int) -> tuple[date, date]:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("dispatch.days", f"look 1-{MAX_DAYS} days ahead", field="days")
    today = _local_day(clock.now(), clock)
    return today, today + timedelta(days=days - 1)


def _window_min(window_min: int) -> int:
    if not SLOT_MIN <= window_min <= 480 or window_min % SLOT_MIN:
        raise InvalidInput("dispatch.window_length", f"a window is {SLOT_MIN}-480 minutes in steps of {SLOT_MIN}",
                           field="window_min")
    return window_min


def windows(uow: UnitOfWork, actor: Actor, ticket_id: int, clock: Clock, *, days: int = 7,
            window_min: int = DEFAULT_WINDOW_MIN) -> list[dict[str, Any]]:
    """The windows offered for a visit: each with how many certified technicians are free in it."""
    if actor.role not in BOOKING_ROLES:
        raise Forbidden("access.role", f"a {actor.role.value} may not book visits")
    first, last = _days(clock, days)
    with uow:
        ctx = _context(uow, actor, ticket_id)
        found = _candidates(uow, ctx, clock, first_day=first, last_day=last, window_min=_window_min(window_min))
    grouped: dict[tuple[datetime, datetime], int] = Counter((c.starts_at, c.ends_at) for c in found)
    tz = clock.tz
    return [{"starts_at": s.astimezone(tz).isoformat(), "ends_at": e.astimezone(tz).isoformat(), "technicians": n}
            for (s, e), n in sorted(grouped.items())]


def plan(uow: UnitOfWork, actor: Actor, ticket_id: int, clock: Clock, *, starts_at: datetime | None = None,
         ends_at: datetime | None = None, days: int = 7, preferred: int | None = None, limit: int = 10
         ) -> list[dict[str, Any]]:
    """The ranked candidates for a visit (read only): what auto-dispatch would pick, and why."""
    if actor.role not in (*DISPATCH_ROLES, Role.AGENT, Role.AUDITOR):
        raise Forbidden("access.role", f"a {actor.role.value} may not see dispatch rankings")
    with uow:
        ctx = _context(uow, actor, ticket_id)
        found = _rank(uow, ctx, clock, starts_at, ends_at, days, preferred, need=limit)
        names = uow.technicians.names([c.technician_id for c in found[:limit]])
    return [_candidate_dict(c, names, clock) for c in found[:limit]]


def _rank(uow: UnitOfWork, ctx: VisitContext, clock: Clock, starts_at: datetime | None, ends_at: datetime | None,
          days: int, preferred: int | None, extra: int | None = None, exclude: int | None = None,
          need: int | None = None) -> list[Candidate]:
    if (starts_at is None) != (ends_at is None):
        raise InvalidInput("dispatch.window", "give both ends of the window, or neither", field="ends_at")
    if starts_at is not None:
        validate_window(starts_at, ends_at, clock.now())  # type: ignore[arg-type]
        day = _local_day(starts_at, clock)
        found = _candidates(uow, ctx, clock, first_day=day, last_day=day, window=(starts_at, ends_at),  # type: ignore[arg-type]
                                  preferred=preferred, extra_technician=extra, exclude_visit=exclude)
        return found
    first, last = _days(clock, days)
    found = _candidates(uow, ctx, clock, first_day=first, last_day=last, preferred=preferred,
                              extra_technician=extra, exclude_visit=exclude, need=need)
    return found


def _candidate_dict(c: Candidate, names: dict[int, tuple[str, str]], clock: Clock) -> dict[str, Any]:
    tz = clock.tz
    return {"technician_id": c.technician_id, "technician": names.get(c.technician_id, ("", ""))[1],
            "outlet_id": c.outlet_id, "starts_at": c.starts_at.astimezone(tz).isoformat(),
            "ends_at": c.ends_at.astimezone(tz).isoformat(), "distance_km": c.distance_km, "load": c.load,
            "preferred": c.preferred, "cost": c.cost, "terms": c.terms}


#: Requests in these states that need a visit and have none are the dispatcher's to schedule.
UNSCHEDULED_STATUSES = (Status.NEW, Status.TRIAGED, Status.REOPENED)


def unscheduled(uows: UowFactory, actor: Actor, clock: Clock, limit: int = 20) -> list[dict[str, Any]]:
    """The dispatcher's queue: open requests that need a visit and have none, oldest first, each with what
    auto-dispatch would pick (technician and window) — or why none can be picked (no unit, no address …)."""
    if actor.role not in DISPATCH_ROLES:
        raise Forbidden("access.role", f"a {actor.role.value} may not see the dispatch queue")
    with uows(readonly=True) as uow:
        rows = uow.visits.unscheduled(actor.brand_id, [c.value for c in sla.VISIT_CATEGORIES],
                                            [s.value for s in UNSCHEDULED_STATUSES], limit)
    out = []
    for r in rows:
        item: dict[str, Any] = {"id": r.id, "number": r.number, "subject": r.subject, "priority": r.priority,
                                "status": r.status, "created_at": r.created_at.astimezone(clock.tz).isoformat(),
                                "suggested": None, "problem": None}
        try:
            best = plan(uows(readonly=True), actor, r.id, clock, limit=1)
        except DomainError as exc:
            item["problem"] = exc.code
        else:
            item["suggested"] = best[0] if best else None
            item["problem"] = None if best else "dispatch.no_technician"
        out.append(item)
    return out


@dataclass(frozen=True)
class Booking:
    actor: Actor
    ticket_id: int
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    technician_id: int | None = None  # a dispatcher's own choice instead of the top of the ranking
    reason: str = ""  # required when the choice is not the top-ranked or not from a covering outlet
    preferred_technician_id: int | None = None
    parts: tuple[PartRequest, ...] = ()
    days: int = 7

    def fingerprint(self) -> str:
        body = asdict(self)
        body.pop("actor")
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _parts(uow: UnitOfWork, brand_id: int, ctx: VisitContext, wanted: Sequence[PartRequest]
           ) -> list[tuple[Part, int]]:
    """The parts asked for, each a catalogue part that fits the unit, in whole positive quantities."""
    out: dict[str, tuple[Part, int]] = {}
    for req in wanted:
        qty = validate_quantity(req.qty, "parts.qty")
        part = uow.stock.part(brand_id, sku=req.sku)
        if part is None:
            raise NotFound("part.not_found", f"no part {req.sku!r}", field="parts.sku")
        if part.models and not uow.stock.fits(part.id, ctx.product_id):
            raise InvalidInput("part.incompatible", f"{part.sku} does not fit this unit's model "
                               f"(it fits {', '.join(part.models)})", field="parts.sku")
        prev = out.get(part.sku)
        out[part.sku] = (part, qty + (prev[1] if prev else 0))
    return list(out.values())


def _sources(uow: UnitOfWork, brand_id: int, tech: Technician) -> list[StockLocation]:
    """Where a technician's parts come from, nearest first: their van, their outlet, then the warehouses."""
    return [*uow.stock.locations(brand_id, kind=LocationKind.VAN, technician_ids=[tech.user_id]),
            *uow.stock.locations(brand_id, kind=LocationKind.OUTLET, outlet_ids=[tech.outlet_id]),
            *uow.stock.locations(brand_id, kind=LocationKind.WAREHOUSE)]


def _window_text(start: datetime, end: datetime, clock: Clock) -> str:
    s, e = start.astimezone(clock.tz), end.astimezone(clock.tz)
    return f"{s:%Y-%m-%d %H:%M}-{e:%H:%M}"


def _to_scheduled(ticket: Ticket, actor: Actor, at: datetime) -> None:
    """Bring the ticket to 'scheduled' by the allowed path (a customer's own booking moves it as dispatch)."""
    mover = actor if actor.is_staff else Actor(ticket.brand_id, Role.DISPATCHER, label=actor.describe())
    if ticket.status in (Status.NEW,):
        ticket.move(Status.TRIAGED, actor=mover, at=at, note="visit booking")
    if ticket.status is not Status.SCHEDULED:
        ticket.move(Status.SCHEDULED, actor=mover, at=at, note="visit booked")


def book(cmd: Booking, uows: UowFactory, clock: Clock, idempotency_key: str | None = None) -> dict[str, Any]:
    """Book a visit in one call: the best eligible technician in the window (or the earliest good one over
    the coming days), their slots, and the parts reserved — all in one transaction, or nothing.

    With ``technician_id`` a dispatcher overrides the ranking (a reason is recorded); certification,
    brand and availability are never overridden. The same Idempotency-Key returns the same visit."""
    actor = cmd.actor
    if actor.role not in BOOKING_ROLES:
        raise Forbidden("access.role", f"a {actor.role.value} may not book visits")
    if cmd.technician_id is not None and actor.role not in DISPATCH_ROLES:
        raise Forbidden("dispatch.override_role", "only a dispatcher or manager chooses the technician")
    reason = clean_text(cmd.reason, "reason", 500, required=False)
    fingerprint = cmd.fingerprint()
    scope = f"visit:{actor.describe()}"
    now = clock.now()
    with uows() as uow:
        if idempotency_key is not None:
            found = uow.idempotency.find(actor.brand_id, scope, idempotency_key)
            if found is not None:
                if found.request_hash != fingerprint:
                    raise Conflict("idempotency.key_reused", "this Idempotency-Key was used for a different request")
                return _visit_dict(uow, _visit(uow, actor.brand_id, found.resource_id), clock)
        ctx = _context(uow, actor, cmd.ticket_id, for_update=True)
        if uow.visits.active_for_ticket(ctx.ticket.id) is not None:
            raise Conflict("dispatch.already_booked", "the request already has a visit booked; reschedule it instead")
        wanted = _parts(uow, actor.brand_id, ctx, cmd.parts)
        ranked = _rank(uow, ctx, clock, cmd.starts_at, cmd.ends_at, cmd.days, cmd.preferred_technician_id,
                       extra=cmd.technician_id, need=None if cmd.technician_id else 5)
        chosen = _choose(uow, actor, ctx, ranked, cmd.technician_id, reason, cmd.starts_at, clock,
                         ends_at=cmd.ends_at)
        visit = _claim(uow, actor, ctx, chosen, reason, now)
        tech = uow.technicians.get(actor.brand_id, visit.technician_id)
        held = [(p.sku, q, parts_svc.reserve(uow, actor.brand_id, p, q, _sources(uow, actor.brand_id, tech),
                                            visit_id=visit.id, ticket_id=ctx.ticket.id,
                                            actor=actor.describe(), at=now).code) for p, q in wanted]
        _after(uow, ctx.ticket, actor, visit, "booked", clock, reason or "auto-dispatch",
               parts=[{"sku": s, "qty": q, "location": loc} for s, q, loc in held])
        if idempotency_key is not None:
            uow.idempotency.remember(actor.brand_id, scope, idempotency_key, fingerprint, "visit", visit.id, now)
        out = _visit_dict(uow, visit, clock)
        uow.commit()
    return out


def _choose(uow: UnitOfWork, actor: Actor, ctx: VisitContext, ranked: list[Candidate], technician_id: int | None,
            reason: str, starts_at: datetime | None, clock: Clock, *, ends_at: datetime | None = None,
            exclude_visit: int | None = None) -> list[Candidate]:
    """The candidates to try, best first: the ranking, or the dispatcher's one choice checked and explained."""
    if technician_id is None:
        if not ranked:
            raise Conflict("dispatch.no_technician", "no certified technician covering this address is free "
                           + ("in that window" if starts_at else "in the coming days"))
        return ranked
    tech = uow.technicians.get(actor.brand_id, technician_id)
    if tech is None:
        raise NotFound("technician.not_found", f"no technician {technician_id} in this brand", field="technician_id")
    mine = [c for c in ranked if c.technician_id == technician_id]
    if not mine:  # the rule that ranked says why (an inactive technician is never ranked)
        raise _refusal(_why_not(uow, ctx, tech, starts_at, ends_at, clock, exclude_visit), ctx, starts_at, clock)
    covering = tech.outlet_id in ctx.coverage
    if (not covering or mine[0] is not ranked[0]) and not reason:
        raise InvalidInput("dispatch.override_reason", "say why: the choice is "
                           + ("from an outlet not covering the address" if not covering else "not the top-ranked"),
                           field="reason")
    return mine[:1]


#: The reasons that are about the technician's certificate, not their time.
NOT_CERTIFIED = frozenset({Unfit.NO_CERTIFICATE, Unfit.CERTIFICATE_EXPIRED, Unfit.CERTIFICATE_NOT_YET_VALID})


def _why_not(uow: UnitOfWork, ctx: VisitContext, tech: Technician, starts_at: datetime | None,
             ends_at: datetime | None, clock: Clock, exclude_visit: int | None) -> Unfit | None:
    """Why a technician the ranking left out cannot take the visit: in the window, by the rule that ranked; with
    no window (the coming days were searched), only whether they hold a certificate valid today."""
    certs = uow.technicians.certifications([tech.user_id]).get(tech.user_id, [])
    if starts_at is None or ends_at is None:
        today = _local_day(clock.now(), clock)
        why = unfit_on_day(tech, certs, ctx.product_line, today, calendars.current(uow).kind(today), 0)
        return why if why in NOT_CERTIFIED or why is Unfit.INACTIVE else None
    day = _local_day(starts_at, clock)
    return _schedules(uow, ctx.ticket.brand_id, [tech], day, day, clock, exclude_visit=exclude_visit).unfit(
        tech, certs, ctx.product_line, starts_at, ends_at)


#: What a refusal says after "the technician …", by the reason.
_REFUSED = {Unfit.CERTIFICATE_EXPIRED: " (expired)", Unfit.CERTIFICATE_NOT_YET_VALID: " (not valid yet)",
            Unfit.NOT_WORKING: " (not working then)", Unfit.ON_LEAVE: " (on leave)",
            Unfit.BUSY: " (another visit or their daily limit)"}


def _refusal(why: Unfit | None, ctx: VisitContext, starts_at: datetime | None, clock: Clock) -> DomainError:
    """The error for a dispatcher's choice the rule refuses, saying why."""
    note = _REFUSED.get(why, "") if why is not None else ""
    unfit = why.value if why is not None else None  # the pages say the reason in words (field_pages.UNFIT_WORDS)
    if why is Unfit.INACTIVE:
        return Conflict("dispatch.technician_inactive", "that technician is no longer active", unfit=unfit)
    if why in NOT_CERTIFIED:
        day = _local_day(starts_at or clock.now(), clock)
        return InvalidInput("dispatch.not_certified", f"the technician holds no certificate for "
                            f"{ctx.product_line} valid on {day}{note}", field="technician_id", unfit=unfit)
    if why is Unfit.OUTLET_CLOSED:
        return Conflict("dispatch.technician_busy", "the technician's outlet is closed then", unfit=unfit)
    return Conflict("dispatch.technician_busy", "the technician is not free then"
                    + (note or " (shift, leave, another visit or their daily limit)"), unfit=unfit)


def _claim(uow: UnitOfWork, actor: Actor, ctx: VisitContext, candidates: list[Candidate], reason: str,
           now: datetime) -> Visit:
    """Take the first candidate whose slots are still free (another process may just have taken some)."""
    for c in candidates:
        visit = uow.visits.add(Visit.book(actor.brand_id, ctx.ticket.id, c, reason=reason, booked_by=actor.describe(),
                                          at=now))
        if uow.visits.claim_slots(visit):
            return visit
        uow.visits.delete(visit)
    raise Conflict("dispatch.technician_busy", "the window was just taken; choose another")


def _after(uow: UnitOfWork, ticket: Ticket, actor: Actor, visit: Visit, action: str, clock: Clock, note: str,
           **extra: Any) -> None:
    """What every change of a visit does beside it: the ticket's state and history, its SLA steps, the
    customer's message, the webhooks and the evidence log."""
    now = clock.now()
    names = uow.technicians.names([visit.technician_id])
    tech_name = names.get(visit.technician_id, ("", ""))[1]
    window = _window_text(visit.starts_at, visit.ends_at, clock)
    if action in ("booked", "moved"):
        _to_scheduled(ticket, actor, now)
        ticket.dispatch(visit.technician_id, visit.outlet_id, actor=actor.describe(), at=now,
                        note=f"visit {action}: {tech_name} {window}; {note}")
    else:
        ticket.dispatch(visit.technician_id if action in ("checked_in", "completed") else None, None,
                        actor=actor.describe(), at=now, note=f"visit {action}: {window}; {note}")
    uow.tickets.flush()
    sla.reschedule_ticket(uow, ticket, clock)
    notifier = Notifier(uow, clock)
    data = {"visit_id": visit.id, "ticket_id": ticket.id, "number": ticket.number, "technician_id": visit.technician_id,
            "starts_at": visit.starts_at.isoformat(), "ends_at": visit.ends_at.isoformat(), **extra}
    notifier.webhook(ticket.brand_id, f"visit.{action}", data)
    if action in ("booked", "moved", "cancelled"):
        notifier.customer(ticket.brand_id, ticket.customer_id, f"visit_{action}", number=ticket.number,
                          technician=tech_name, window=window)
    notifier.flush()
    evidence.record(uow, ticket.brand_id, EvidenceKind(f"visit.{action}"), f"ticket:{ticket.id}", ticket.customer_id,
                    {**data, "note": note, "by": actor.describe()}, clock)


def _visit(uow: UnitOfWork, brand_id: int, visit_id: int) -> Visit:
    visit = uow.visits.get(brand_id, visit_id)
    if visit is None:
        raise NotFound("visit.not_found", f"no visit {visit_id}")
    return visit


def reschedule(actor: Actor, visit_id: int, starts_at: datetime, ends_at: datetime, uow: UnitOfWork, clock: Clock,
               *, technician_id: int | None = None, reason: str = "") -> dict[str, Any]:
    """Move a booked visit to another window: the same technician when free, else the best free one (a
    dispatcher may name one). The old slots are given up and the new ones taken in one transaction."""
    if actor.role not in BOOKING_ROLES:
        raise Forbidden("access.role", f"a {actor.role.value} may not move visits")
    if technician_id is not None and actor.role not in DISPATCH_ROLES:
        raise Forbidden("dispatch.override_role", "only a dispatcher or manager chooses the technician")
    reason = clean_text(reason, "reason", 500, required=False)
    now = clock.now()
    with uow:
        visit, _ = access_visit(uow, actor, visit_id)
        visit.require(VisitMove.MOVE)
        ctx = _context(uow, actor, visit.ticket_id, for_update=True)
        ranked = _rank(uow, ctx, clock, starts_at, ends_at, 1, visit.technician_id, extra=technician_id,
                       exclude=visit.id)
        if technician_id is not None:
            ranked = _choose(uow, actor, ctx, ranked, technician_id, reason or "rescheduled by dispatcher",
                             starts_at, clock, ends_at=ends_at, exclude_visit=visit.id)
        else:
            same = [c for c in ranked if c.technician_id == visit.technician_id]
            ranked = same or ranked
            if not ranked:
                raise Conflict("dispatch.no_technician", "no certified technician is free in that window")
        uow.visits.release_slots(visit)
        before = visit.technician_id
        for c in ranked:
            visit.move(c, reason=reason, at=now)
            if uow.visits.claim_slots(visit):
                break
        else:
            raise Conflict("dispatch.technician_busy", "the window was just taken; choose another")
        if visit.technician_id != before:  # the parts follow the new technician
            held = uow.stock.held(visit.id)
            parts_svc.release(uow, actor.brand_id, visit.id, actor=actor.describe(), at=now)
            tech = uow.technicians.get(actor.brand_id, visit.technician_id)
            for r in held:
                part = uow.stock.part(actor.brand_id, part_id=r.part_id)
                parts_svc.reserve(uow, actor.brand_id, part, r.qty, _sources(uow, actor.brand_id, tech),
                                  visit_id=visit.id, ticket_id=visit.ticket_id, actor=actor.describe(), at=now)
        uow.visits.save(visit)
        _after(uow, ctx.ticket, actor, visit, "moved", clock, reason or "rescheduled")
        out = _visit_dict(uow, visit, clock)
        uow.commit()
    return out


def _end(actor: Actor, visit_id: int, move: VisitMove, reason: str, uow: UnitOfWork, clock: Clock, *,
         allowed: tuple[Role, ...], ticket_to: Status | None) -> dict[str, Any]:
    if actor.role not in allowed:
        raise Forbidden("access.role", f"a {actor.role.value} may not do that to a visit")
    reason = clean_text(reason, "reason", 500, required=False)
    now = clock.now()
    with uow:
        visit, ticket = access_visit(uow, actor, visit_id)
        if move is VisitMove.NO_SHOW:
            visit.no_show(reason, now)
        else:
            visit.cancel(reason, now)
        status = visit.status.value
        uow.visits.release_slots(visit)
        freed = parts_svc.release(uow, actor.brand_id, visit.id, actor=actor.describe(), at=now)
        uow.visits.save(visit)
        if ticket_to is not None and ticket.status is Status.SCHEDULED:
            mover = actor if actor.is_staff else Actor(ticket.brand_id, Role.DISPATCHER, label=actor.describe())
            ticket.move(ticket_to, actor=mover, at=now, note=f"visit {status}: {reason}".strip(": "))
        _after(uow, ticket, actor, visit, status, clock, reason or status, released=freed)
        out = _visit_dict(uow, visit, clock)
        uow.commit()
    return out


def withdraw_request(actor: Actor, ticket_id: int, note: str, uow: UnitOfWork, clock: Clock, *,
                     public_url: str = "") -> Ticket:
    """The request is withdrawn (by its customer, or staff for them): a booked visit is cancelled with it — its
    time and parts freed, the customer told — and the request ends as cancelled, all in one transaction."""
    from fairdesk.services.tickets import after_move  # tickets' use cases do not need dispatch

    note = clean_text(note, "note", 500, required=False)
    now = clock.now()
    with uow:
        ticket = access_ticket(uow, actor, ticket_id, for_update=True)
        if Status.CANCELLED not in ticket.allowed_next(actor):  # refused before anything is freed
            ticket.move(Status.CANCELLED, actor=actor, at=now)
        visit = uow.visits.active_for_ticket(ticket.id)
        if visit is not None and visit.can(VisitMove.CANCEL):
            visit.cancel(note or "request withdrawn", now)
            uow.visits.release_slots(visit)
            freed = parts_svc.release(uow, ticket.brand_id, visit.id, actor=actor.describe(), at=now)
            uow.visits.save(visit)
            _after(uow, ticket, actor, visit, "cancelled", clock, note or "request withdrawn", released=freed)
        event = ticket.move(Status.CANCELLED, actor=actor, at=now, note=note)
        after_move(uow, ticket, event, clock, public_url)
        uow.commit()
    return ticket


def cancel(actor: Actor, visit_id: int, reason: str, uow: UnitOfWork, clock: Clock) -> dict[str, Any]:
    """Cancel a booked visit: its time and parts are freed; the request stays open (back to triage)."""
    return _end(actor, visit_id, VisitMove.CANCEL, reason, uow, clock, allowed=BOOKING_ROLES,
                ticket_to=Status.TRIAGED)


def no_show(actor: Actor, visit_id: int, note: str, uow: UnitOfWork, clock: Clock) -> dict[str, Any]:
    """Nobody was there: recorded once the window has begun; the request waits for the customer."""
    return _end(actor, visit_id, VisitMove.NO_SHOW, note, uow, clock, allowed=(*DISPATCH_ROLES, Role.TECHNICIAN),
                ticket_to=Status.WAITING_CUSTOMER)


def check_in(actor: Actor, visit_id: int, uow: UnitOfWork, clock: Clock) -> dict[str, Any]:
    """The technician is on site: the on-site clock stops and the request is in progress."""
    if actor.role not in (*DISPATCH_ROLES, Role.TECHNICIAN):
        raise Forbidden("access.role", f"a {actor.role.value} may not check in")
    now = clock.now()
    with uow:
        visit, ticket = access_visit(uow, actor, visit_id)
        visit.check_in(now)
        uow.visits.save(visit)
        if ticket.status is Status.SCHEDULED:
            ticket.move(Status.IN_PROGRESS, actor=actor, at=now, note="technician on site")
        _after(uow, ticket, actor, visit, "checked_in", clock, "on site")
        out = _visit_dict(uow, visit, clock)
        uow.commit()
    return out


OUTCOMES = {"resolved": Status.RESOLVED, "waiting_parts": Status.WAITING_PARTS, "revisit": None}


@dataclass(frozen=True)
class CheckOut:
    actor: Actor
    visit_id: int
    work_done: str
    parts_used: tuple[PartRequest, ...] = ()
    outcome: str = "resolved"  # resolved | waiting_parts (another visit once the part is in) | revisit


def check_out(cmd: CheckOut, uow: UnitOfWork, clock: Clock, *, public_url: str = "") -> dict[str, Any]:
    """The visit is done: the work and the parts fitted are recorded (reserved parts consumed, the rest
    released; extra parts come from the technician's van), and the request moves on by the outcome."""
    actor = cmd.actor
    if actor.role not in (*DISPATCH_ROLES, Role.TECHNICIAN):
        raise Forbidden("access.role", f"a {actor.role.value} may not check out")
    if cmd.outcome not in OUTCOMES:
        raise InvalidInput("visit.outcome", f"an outcome is one of {', '.join(OUTCOMES)}", field="outcome")
    work = clean_text(cmd.work_done, "work_done", 5000, required=True)
    now = clock.now()
    with uow:
        visit, ticket = access_visit(uow, actor, cmd.visit_id)
        visit.require(VisitMove.CHECK_OUT)
        ctx = _context(uow, actor, ticket.id, for_update=False)
        used = _parts(uow, actor.brand_id, ctx, cmd.parts_used)
        van = next(iter(uow.stock.locations(actor.brand_id, kind=LocationKind.VAN,
                                            technician_ids=[visit.technician_id])), None)
        for part, qty in used:
            parts_svc.consume(uow, actor.brand_id, visit.id, ticket.id, part, qty, van, actor=actor.describe(), at=now)
        freed = parts_svc.release(uow, actor.brand_id, visit.id, actor=actor.describe(), at=now)
        visit.check_out(work, now)
        uow.visits.save(visit)
        to = OUTCOMES[cmd.outcome]
        if to is not None:
            ticket.move(to, actor=actor, at=now, note=work[:200])
        _after(uow, ticket, actor, visit, "completed", clock, cmd.outcome,
               parts_used=[{"sku": p.sku, "qty": q} for p, q in used], released=freed)
        if to is Status.RESOLVED:
            notifier = Notifier(uow, clock)
            surveys.start_survey(uow, ticket, clock, notifier, public_url)
            notifier.flush()
        out = _visit_dict(uow, visit, clock)
        uow.commit()
    return out


def get_visit(uow: UnitOfWork, actor: Actor, visit_id: int, clock: Clock) -> dict[str, Any]:
    with uow:
        visit, _ = access_visit(uow, actor, visit_id, for_update=False)
        return _visit_dict(uow, visit, clock)


def visits_of_ticket(uow: UnitOfWork, actor: Actor, ticket_id: int, clock: Clock) -> list[dict[str, Any]]:
    with uow:
        access_ticket(uow, actor, ticket_id)
        return [_visit_dict(uow, v, clock) for v in uow.visits.for_ticket(ticket_id)]


def booked_summary(uow: UnitOfWork, actor: Actor, ticket_id: int, clock: Clock) -> dict[str, Any] | None:
    """What the one who booked reads once it is done (预约成功): when, who comes, where, and the number to call —
    the outlet's, since a technician's own phone is not given out. The address is shown in full to the
    customer and to staff who may see the customer's contact details, masked to others. None: nothing booked."""
    with uow:
        ticket = access_ticket(uow, actor, ticket_id)
        visit = next((v for v in uow.visits.for_ticket(ticket_id) if v.is_active), None)
        if visit is None:
            return None
        customer = uow.customers.get(ticket.brand_id, ticket.customer_id)
        address = next((a.text for a in customer.addresses if a.id == ticket.address_id), "") if customer else ""
        if not actor.is_customer and ticket.customer_id not in contacts_visible(uow, actor, [ticket.customer_id]):
            address = mask_address(address)
        outlet = uow.outlets.by_ids(ticket.brand_id, [visit.outlet_id]).get(visit.outlet_id)
        names = uow.technicians.names([visit.technician_id])
    return {"starts_at": _iso(visit.starts_at, clock), "ends_at": _iso(visit.ends_at, clock),
            "technician": names.get(visit.technician_id, ("", ""))[1], "address": address,
            "outlet": outlet.name if outlet else "", "phone": display_phone(outlet.hotline) if outlet and outlet.hotline
            else ""}


def _iso(at: datetime | None, clock: Clock) -> str | None:
    return at.astimezone(clock.tz).isoformat() if at is not None else None


def _visit_dict(uow: UnitOfWork, visit: Visit, clock: Clock) -> dict[str, Any]:
    names = uow.technicians.names([visit.technician_id])
    return {"id": visit.id, "ticket_id": visit.ticket_id, "technician_id": visit.technician_id,
            "technician": names.get(visit.technician_id, ("", ""))[1], "outlet_id": visit.outlet_id,
            "starts_at": _iso(visit.starts_at, clock), "ends_at": _iso(visit.ends_at, clock),
            "status": visit.status.value, "score": visit.score, "override_reason": visit.override_reason,
            "booked_by": visit.booked_by,
            "checked_in_at": _iso(visit.checked_in_at, clock), "checked_out_at": _iso(visit.checked_out_at, clock),
            "work_done": visit.work_done, "closing_reason": visit.closing_reason,
            "parts": [dict(r._mapping) for r in uow.stock.for_visit(visit.id)]}


@dataclass
class _Row:
    technician: dict[str, Any]
    visits: list[dict[str, Any]] = field(default_factory=list)


def reassign_choices(uow: UnitOfWork, actor: Actor, visit_ids: Sequence[int], technician_ids: Sequence[int],
                     clock: Clock) -> dict[int, dict[int, Unfit | None]]:
    """For each booked visit, why each of the technicians could not take it over in its window (None: they
    can), by the rule auto-dispatch ranks with; the visit's own technician is left out. A visit whose request has
    no unit any more is left out too: giving it to anyone is refused with that reason."""
    if actor.role not in DISPATCH_ROLES:
        raise Forbidden("access.role", f"a {actor.role.value} may not reassign visits")
    out: dict[int, dict[int, Unfit | None]] = {}
    with uow:
        visits = [v for v in (uow.visits.get(actor.brand_id, i) for i in dict.fromkeys(visit_ids))
                  if v is not None and v.can(VisitMove.MOVE)]
        techs = uow.technicians.many(actor.brand_id, user_ids=technician_ids) if technician_ids else []
        if not visits or not techs:
            return out
        certs = uow.technicians.certifications([t.user_id for t in techs])
        days = [_local_day(v.starts_at, clock) for v in visits]
        # The visits' own slots are their technicians' only, so the others' schedules need no exclusion.
        sched = _schedules(uow, actor.brand_id, techs, min(days), max(days), clock)
        for v in visits:
            facts = uow.visits.visit_facts(v.ticket_id)
            if facts is None:
                continue
            out[v.id] = {t.user_id: sched.unfit(t, certs.get(t.user_id, []), facts.product_line, v.starts_at,
                                                v.ends_at) for t in techs if t.user_id != v.technician_id}
    return out


def technician_day(uow: UnitOfWork, actor: Actor, day: date, clock: Clock) -> tuple[dict[str, Any],
                                                                                 list[dict[str, Any]]]:
    """A technician's own day: their board row, and each visit with what is needed at the door — the request,
    the customer, their phone and the visit's address (the technician handles them, so nothing is masked)."""
    if actor.role is not Role.TECHNICIAN:
        raise Forbidden("access.role", "only a technician has a day of visits")
    [me] = board(uow, actor, day, clock)
    jobs = []
    with uow:
        for v in sorted(me["visits"], key=lambda v: v["starts_at"]):
            ticket = uow.tickets.get(actor.brand_id, v["ticket_id"])
            customer = uow.customers.get(actor.brand_id, ticket.customer_id)
            address = next((a.text for a in customer.addresses if a.id == ticket.address_id), "")
            jobs.append(v | {"subject": ticket.subject, "customer": customer.name, "address": address,
                             "phone": customer.phones[0].e164 if customer.phones else ""})
    return me, jobs


def board(uow: UnitOfWork, actor: Actor, day: date, clock: Clock, *, outlet_code: str | None = None
          ) -> list[dict[str, Any]]:
    """The dispatcher's board: each technician's day — working or not, shifts, leave, visits, load."""
    if not actor.is_staff:
        raise NotFound("not_found", "no such resource")
    tz = clock.tz
    start = datetime.combine(day, datetime.min.time(), tz)
    end = start + timedelta(days=1)
    with uow:
        if actor.role is Role.TECHNICIAN:
            techs = uow.technicians.many(actor.brand_id, user_ids=[actor.user_id])
        elif outlet_code is not None:
            outlet = uow.outlets.by_code(actor.brand_id, outlet_code)
            if outlet is None:
                raise NotFound("outlet.not_found", f"no outlet {outlet_code!r}")
            techs = uow.technicians.many(actor.brand_id, outlet_ids=[outlet.id])
        else:
            techs = uow.technicians.many(actor.brand_id)
        ids = [t.user_id for t in techs]
        names = uow.technicians.names(ids)
        leave = uow.technicians.leave(ids, start, end)
        visits = uow.visits.between(actor.brand_id, start, end, technician_ids=ids)
        numbers = uow.visits.ticket_numbers([v.ticket_id for v in visits])
        held = uow.stock.for_visits([v.id for v in visits])
        kind = calendars.current(uow).kind(day)
    rows = {t.user_id: _Row({
        "id": t.user_id, "username": names.get(t.user_id, ("", ""))[0], "name": names.get(t.user_id, ("", ""))[1],
        "outlet_id": t.outlet_id, "working": t.pattern.works_on(day, kind) and t.active,
        "shifts": t.shifts if t.pattern.works_on(day, kind) else "", "max_visits": t.max_visits_per_day,
        "leave": [{"starts_at": _iso(lv.starts_at, clock), "ends_at": _iso(lv.ends_at, clock), "reason": lv.reason}
                  for lv in leave.get(t.user_id, [])]}) for t in techs}
    for v in visits:
        rows[v.technician_id].visits.append({
            "id": v.id, "ticket_id": v.ticket_id, "number": numbers[v.ticket_id], "status": v.status.value,
            "starts_at": _iso(v.starts_at, clock), "ends_at": _iso(v.ends_at, clock),
            "window": f"{v.starts_at.astimezone(tz):%H:%M}-{v.ends_at.astimezone(tz):%H:%M}",
            "work_done": v.work_done,
            # Booked before a leave was entered over it: to be rebooked (the customer has been told).
            "to_rebook": v.status is VisitStatus.BOOKED and any(lv.overlaps(v.starts_at, v.ends_at)
                                                      for lv in leave.get(v.technician_id, [])),
            "parts": [{"sku": p.sku, "name": p.name, "qty": p.qty, "status": p.status, "location": p.location,
                       "location_name": p.location_name, "serial": p.serial} for p in held.get(v.id, [])]})
    return [{**r.technician, "visits": r.visits, "load": sum(1 for v in r.visits if v["status"] in LOADED)}
            for r in rows.values()]
