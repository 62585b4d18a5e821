"""The workforce: technicians of the brand's outlets, their certificates and their leave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fairdesk.domain.customers import validate_email
from fairdesk.domain.dispatch import VisitStatus
from fairdesk.domain.errors import Conflict, InvalidInput, NotFound
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.people import Actor, Role, User
from fairdesk.domain.text import clean_text
from fairdesk.domain.tickets import EventKind
from fairdesk.domain.workforce import Certification, Leave, Technician
from fairdesk.services import evidence
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.identity import hash_password
from fairdesk.services.notify import Notifier
from fairdesk.services.ports import UnitOfWork

__all__ = [
    "AddTechnician",
    "add_certification",
    "add_leave",
    "add_technician",
    "get_technician",
    "list_technicians",
    "technician_dict",
    "update_technician",
]

MAX_LEAVE_DAYS = 366


@dataclass(frozen=True)
class AddTechnician:
    actor: Actor
    username: str
    display_name: str
    outlet_code: str
    shifts: str = "09:00-18:00"
    weekdays: str = "1-5"
    holidays_off: bool = True
    home_latitude: float | None = None
    home_longitude: float | None = None
    max_visits_per_day: int = 6
    email: str | None = None
    password: str | None = None


def add_in(uow: UnitOfWork, cmd: AddTechnician, now: datetime) -> Technician:
    """Create the technician's user and profile in the caller's transaction (also used by imports)."""
    actor = cmd.actor
    if not cmd.username or len(cmd.username) > 64 or not cmd.username.isprintable() or " " in cmd.username:
        raise InvalidInput("user.invalid_username", "a username is 1-64 printable characters, no spaces",
                           field="username")
    name = clean_text(cmd.display_name, "display_name", 100, required=True)
    outlet = uow.outlets.by_code(actor.brand_id, cmd.outlet_code)
    if outlet is None:
        raise NotFound("outlet.not_found", f"no outlet {cmd.outlet_code!r}", field="outlet_code")
    if uow.users.by_username(cmd.username):
        raise Conflict("user.exists", f"username {cmd.username!r} is taken", field="username")
    tech = Technician(user_id=0, brand_id=actor.brand_id, outlet_id=outlet.id, shifts=cmd.shifts,
                      weekdays=cmd.weekdays, holidays_off=cmd.holidays_off, home_latitude=cmd.home_latitude,
                      home_longitude=cmd.home_longitude, max_visits_per_day=cmd.max_visits_per_day, created_at=now)
    user = User(brand_id=actor.brand_id, username=cmd.username, display_name=name, role=Role.TECHNICIAN,
                email=validate_email(cmd.email) if cmd.email else None,
                password_hash=hash_password(cmd.password) if cmd.password else None, created_at=now)
    uow.users.add(user)
    uow.users.flush()
    tech.user_id = user.id  # type: ignore[assignment]
    uow.technicians.add(tech)
    return tech


def add_technician(cmd: AddTechnician, uow: UnitOfWork, clock: Clock) -> Technician:
    """A technician: a user with the technician role, working for one of the brand's outlets."""
    require_role(cmd.actor, Role.MANAGER, what="manage technicians")
    with uow:
        tech = add_in(uow, cmd, clock.now())
        evidence.record(uow, cmd.actor.brand_id, EvidenceKind.TECHNICIAN_ADDED, f"user:{tech.user_id}", None,
                        {"username": cmd.username, "outlet": cmd.outlet_code, "by": cmd.actor.describe()}, clock)
        uow.commit()
    return tech


def _tech(uow: UnitOfWork, actor: Actor, technician_id: int) -> Technician:
    tech = uow.technicians.get(actor.brand_id, technician_id)
    if tech is None or actor.is_customer:
        raise NotFound("technician.not_found", f"no technician {technician_id}")
    return tech  # type: ignore[no-any-return]


def update_technician(actor: Actor, technician_id: int, changes: dict[str, Any], uow: UnitOfWork,
                      clock: Clock) -> Technician:
    """Move a technician to another outlet, change their week, home base or daily limit, or retire them."""
    require_role(actor, Role.MANAGER, what="manage technicians")
    allowed = {"outlet_code", "shifts", "weekdays", "holidays_off", "home_latitude", "home_longitude",
               "max_visits_per_day", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput("input.unknown_field", f"cannot change {', '.join(sorted(unknown))}")
    with uow:
        tech = _tech(uow, actor, technician_id)
        values = {k: getattr(tech, k) for k in ("shifts", "weekdays", "holidays_off", "home_latitude",
                                                "home_longitude", "max_visits_per_day", "active")}
        values.update({k: v for k, v in changes.items() if k != "outlet_code"})
        outlet_id = tech.outlet_id
        if "outlet_code" in changes:
            outlet = uow.outlets.by_code(actor.brand_id, changes["outlet_code"])
            if outlet is None:
                raise NotFound("outlet.not_found", f"no outlet {changes['outlet_code']!r}", field="outlet_code")
            outlet_id = outlet.id
        updated = Technician(user_id=tech.user_id, brand_id=tech.brand_id, outlet_id=outlet_id,
                             created_at=tech.created_at, **values)
        uow.technicians.update(updated)
        evidence.record(uow, actor.brand_id, EvidenceKind.TECHNICIAN_CHANGED, f"user:{tech.user_id}", None,
                        {"changes": {k: str(v) for k, v in changes.items()}, "by": actor.describe()}, clock)
        uow.commit()
    return updated


def add_certification(actor: Actor, technician_id: int, product_line: str, level: int, valid_from: date,
                      valid_to: date, number: str, uow: UnitOfWork, clock: Clock) -> Certification:
    """A certificate for a product line at a level, valid for a period; dispatch honours the period."""
    require_role(actor, Role.MANAGER, what="record certificates")
    cert = Certification(technician_id, actor.brand_id, product_line, level, valid_from, valid_to,
                         clean_text(number, "number", 64, required=False))
    with uow:
        _tech(uow, actor, technician_id)
        cert.id = uow.technicians.add_certification(cert, clock.now())
        evidence.record(uow, actor.brand_id, EvidenceKind.TECHNICIAN_CERTIFIED, f"user:{technician_id}", None,
                        {"product_line": product_line, "level": level, "valid_from": valid_from.isoformat(),
                         "valid_to": valid_to.isoformat(), "number": cert.number, "by": actor.describe()}, clock)
        uow.commit()
    return cert


def add_leave(actor: Actor, technician_id: int, starts_at: datetime, ends_at: datetime, reason: str,
              uow: UnitOfWork, clock: Clock | None = None) -> dict[str, Any]:
    """Time off: no visit is offered or booked in it. Visits already booked in it are not cancelled behind
    anyone's back: they are returned for the dispatcher to rebook, each request's history says so, and (given
    a clock) each customer is told that their visit will be moved."""
    if (actor.role is Role.TECHNICIAN and actor.user_id != technician_id) or actor.role not in (
            Role.MANAGER, Role.DISPATCHER, Role.TECHNICIAN):
        raise NotFound("technician.not_found", f"no technician {technician_id}")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("leave.naive_time", "give times with a UTC offset", field="starts_at")
    if not starts_at < ends_at or (ends_at - starts_at).days > MAX_LEAVE_DAYS:
        raise InvalidInput("leave.period", f"leave ends after it starts, within {MAX_LEAVE_DAYS} days",
                           field="ends_at")
    reason = clean_text(reason, "reason", 200, required=False)
    with uow:
        _tech(uow, actor, technician_id)
        leave_id = uow.technicians.add_leave(actor.brand_id, Leave(technician_id, starts_at, ends_at, reason))
        clashing = uow.visits.between(actor.brand_id, starts_at, ends_at, technician_ids=[technician_id],
                                      statuses=[VisitStatus.BOOKED])
        to_rebook = []
        if clashing:
            name = uow.technicians.names([technician_id]).get(technician_id, ("", ""))[1]
            tickets = {tk.id: tk for tk in uow.tickets.many(actor.brand_id, [v.ticket_id for v in clashing])}
            notifier = Notifier(uow, clock) if clock is not None else None
            for visit in clashing:
                ticket = tickets[visit.ticket_id]
                tz = clock.tz if clock is not None else starts_at.tzinfo
                window = f"{visit.starts_at.astimezone(tz):%Y-%m-%d %H:%M}-{visit.ends_at.astimezone(tz):%H:%M}"
                to_rebook.append({"visit_id": visit.id, "ticket_id": ticket.id, "number": ticket.number,
                                  "starts_at": visit.starts_at.astimezone(tz).isoformat(),
                                  "ends_at": visit.ends_at.astimezone(tz).isoformat()})
                if clock is not None and notifier is not None:
                    ticket.record(EventKind.VISIT, actor=actor.describe(), at=clock.now(),
                                  note=f"visit rebooking: {window}; technician on leave")
                    notifier.customer(ticket.brand_id, ticket.customer_id, "visit_rebooking", number=ticket.number,
                                      technician=name, window=window)
            if notifier is not None:
                notifier.flush()
        if clock is not None:
            evidence.record(uow, actor.brand_id, EvidenceKind.TECHNICIAN_LEAVE, f"user:{technician_id}", None,
                            {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "reason": reason,
                             "visits_to_rebook": [v["visit_id"] for v in to_rebook], "by": actor.describe()}, clock)
        uow.commit()
    return {"id": int(leave_id), "to_rebook": to_rebook}


def technician_dict(tech: Technician, names: dict[int, tuple[str, str]], certs: list[Certification],
                    today: date) -> dict[str, Any]:
    username, display = names.get(tech.user_id, ("", ""))
    return {"id": tech.user_id, "username": username, "display_name": display, "outlet_id": tech.outlet_id,
            "shifts": tech.shifts, "weekdays": tech.weekdays, "holidays_off": tech.holidays_off,
            "home_latitude": tech.home_latitude, "home_longitude": tech.home_longitude,
            "max_visits_per_day": tech.max_visits_per_day, "active": tech.active,
            "certifications": [{"id": c.id, "product_line": c.product_line, "level": c.level,
                                "valid_from": c.valid_from.isoformat(), "valid_to": c.valid_to.isoformat(),
                                "number": c.number, "valid_today": c.valid_on(today)} for c in certs]}


def list_technicians(uow: UnitOfWork, actor: Actor, clock: Clock, *, outlet_code: str | None = None
                     ) -> list[dict[str, Any]]:
    if not actor.is_staff:
        raise NotFound("not_found", "no such resource")
    today = clock.now().astimezone(clock.tz).date()
    with uow:
        outlet_ids = None
        if outlet_code is not None:
            outlet = uow.outlets.by_code(actor.brand_id, outlet_code)
            if outlet is None:
                raise NotFound("outlet.not_found", f"no outlet {outlet_code!r}")
            outlet_ids = [outlet.id]
        techs = uow.technicians.many(actor.brand_id, outlet_ids=outlet_ids)
        ids = [t.user_id for t in techs]
        names, certs = uow.technicians.names(ids), uow.technicians.certifications(ids)
    return [technician_dict(t, names, certs.get(t.user_id, []), today) for t in techs]


def get_technician(uow: UnitOfWork, actor: Actor, technician_id: int, clock: Clock) -> dict[str, Any]:
    if not actor.is_staff:
        raise NotFound("technician.not_found", f"no technician {technician_id}")
    today = clock.now().astimezone(clock.tz).date()
    now = clock.now()
    with uow:
        tech = _tech(uow, actor, technician_id)
        names = uow.technicians.names([technician_id])
        certs = uow.technicians.certifications([technician_id]).get(technician_id, [])
        leave = uow.technicians.leave([technician_id], now, now.replace(year=now.year + 1)).get(technician_id, [])
    out = technician_dict(tech, names, certs, today)
    out["leave"] = [{"starts_at": lv.starts_at.astimezone(clock.tz).isoformat(),
                     "ends_at": lv.ends_at.astimezone(clock.tz).isoformat(), "reason": lv.reason} for lv in leave]
    return out
