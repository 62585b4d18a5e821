"""Service requests: open (idempotently), list, read, move through the state machine, comment."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date

from fairdesk.domain import files
from fairdesk.domain.customers import Warranty, mask_address, mask_phone
from fairdesk.domain.errors import Conflict, Duplicate, Forbidden, InvalidInput, NotFound
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.network import rank_outlets
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.regions import Level, Resolver
from fairdesk.domain.tickets import (
    Category,
    Channel,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    TicketFilter,
    format_ticket_number,
)
from fairdesk.services import customers, evidence, network, sla, surveys
from fairdesk.services.access import (
    access_customer_for_ticket,
    access_handler,
    access_ticket,
    access_unit,
    require_role,
)
from fairdesk.services.channels import display_phone
from fairdesk.services.clock import Clock
from fairdesk.services.notify import Notifier
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = [
    "Comment",
    "MoveTicket",
    "OpenTicket",
    "Place",
    "StaffPanel",
    "add_attachment",
    "after_move",
    "assign_ticket",
    "attachment",
    "attachments",
    "comment_ticket",
    "get_ticket",
    "list_tickets",
    "move_ticket",
    "open_ticket",
    "staff_panel",
    "ticket_history",
    "walk_tickets",
]

MAX_PAGE = 200
MAX_IDEMPOTENCY_KEY = 255
#: Photos (or PDFs) on one request: what the customer shows of the fault, what the technician shows of the fix.
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class OpenTicket:
    actor: Actor
    customer_id: int
    channel: Channel
    category: Category
    subject: str
    description: str = ""
    priority: Priority = Priority.NORMAL
    unit_id: int | None = None
    address_id: int | None = None

    def fingerprint(self) -> str:
        """What makes two requests 'the same' for an idempotency key: every field but the actor."""
        body = asdict(self)
        body.pop("actor")
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def open_ticket(cmd: OpenTicket, uows: UowFactory, clock: Clock,
                idempotency_key: str | None = None) -> tuple[Ticket, bool]:
    """Open a ticket and give its number at once. Returns (ticket, replayed).

    The same idempotency key with the same request returns the ticket made the first time; with a
    different request it is refused (409). The key is looked up and stored in the ticket's own
    transaction; a concurrent duplicate (PostgreSQL) loses on the unique index and then replays the winner.
    """
    actor = cmd.actor
    if actor.read_only or (actor.role is Role.TECHNICIAN and cmd.channel is not Channel.HOTLINE):
        raise Forbidden("access.role", f"a {actor.role.value} may not open tickets here")
    if idempotency_key is not None and not (0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY):
        raise InvalidInput("idempotency.invalid_key", f"an Idempotency-Key is 1-{MAX_IDEMPOTENCY_KEY} chars")
    fingerprint = cmd.fingerprint()
    for _attempt in range(3):
        try:
            return _open(cmd, uows, clock, idempotency_key, fingerprint)
        except Duplicate:
            if idempotency_key is None:
                raise
            # Lost a race for the key: go round again and replay the winner's ticket.
    raise Conflict("idempotency.in_progress", "a request with this key is still being processed")


def _open(cmd: OpenTicket, uows: UowFactory, clock: Clock, key: str | None,
          fingerprint: str) -> tuple[Ticket, bool]:
    actor = cmd.actor
    scope = actor.describe()
    now = clock.now()
    day = now.astimezone(clock.tz).date()
    with uows() as uow:
        if key is not None:
            found = uow.idempotency.find(actor.brand_id, scope, key)
            if found is not None:
                if found.request_hash != fingerprint:
                    raise Conflict("idempotency.key_reused",
                                   "this Idempotency-Key was used for a different request")
                return access_ticket(uow, actor, found.resource_id), True
        prefix = access_customer_for_ticket(uow, actor, cmd.customer_id)
        if cmd.unit_id is not None:
            unit = access_unit(uow, actor, cmd.unit_id)
            if unit.customer_id != cmd.customer_id:
                raise InvalidInput("ticket.unit_not_customers", "the unit is registered to another customer",
                                   field="unit_id")
        if cmd.address_id is not None and not uow.customers.has_address(cmd.customer_id, cmd.address_id):
            raise InvalidInput("ticket.address_not_customers", "the address is not the customer's",
                               field="address_id")
        sequence = _next_sequence(uows, uow, actor.brand_id, day)
        ticket = Ticket.open(
            actor=actor, at=now, brand_id=actor.brand_id, number=format_ticket_number(prefix, day, sequence),
            customer_id=cmd.customer_id, channel=cmd.channel, category=cmd.category, subject=cmd.subject,
            description=cmd.description, priority=cmd.priority, unit_id=cmd.unit_id,
            address_id=cmd.address_id)
        uow.tickets.create(ticket)
        sla.reschedule_ticket(uow, ticket, clock, new=True)
        notifier = Notifier(uow, clock)
        notifier.webhook(ticket.brand_id, "ticket.created", _hook_data(ticket))
        notifier.flush()
        if key is not None:
            uow.idempotency.remember(actor.brand_id, scope, key, fingerprint, "ticket", ticket.id, now)
        # Last before commit: the brand's chain head is locked from here to the commit.
        evidence.record(uow, actor.brand_id, EvidenceKind.TICKET_CREATED, f"ticket:{ticket.id}", ticket.customer_id,
                        {"number": ticket.number, "channel": ticket.channel.value, "category": ticket.category.value,
                         "priority": ticket.priority.value, "subject": ticket.subject, "by": actor.describe()}, clock)
        uow.commit()
    return ticket, False


def _next_sequence(uows: UowFactory, uow: UnitOfWork, brand_id: int, day: date) -> int:
    """The day's next number. On PostgreSQL it is taken in its own short transaction, so the brand's counter
    row is not locked for the whole create (a create that then fails leaves a gap in the numbers, which is
    allowed); SQLite admits one writer anyway, so there it stays in the create's transaction."""
    if not uow.tickets.concurrent_writers():
        return uow.tickets.next_sequence(brand_id, day)
    with uows() as counter:
        value = counter.tickets.next_sequence(brand_id, day)
        counter.commit()
    return value


def list_tickets(uow: UnitOfWork, actor: Actor, flt: TicketFilter, *, before_id: int | None = None,
                 limit: int = 50) -> Sequence[Ticket]:
    """A page of tickets, newest first; a customer's list holds only their own."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("input.limit", f"limit is 1-{MAX_PAGE}", field="limit")
    if actor.is_customer:
        flt = replace(flt, customer_id=actor.customer_id)
    with uow:
        return uow.tickets.page(actor.brand_id, flt, before_id=before_id, limit=limit)


def walk_tickets(uows: UowFactory, actor: Actor, flt: TicketFilter, size: int
                 ) -> Iterator[tuple[Sequence[Ticket], int, int]]:
    """Every ticket the filter lets through, newest first, ``size`` at a time, each page read in its own short
    transaction (keyset: memory and transactions stay small however many there are); with each page, how many
    came so far and how many there are (for a progress bar)."""
    if actor.is_customer:
        flt = replace(flt, customer_id=actor.customer_id)
    with uows(readonly=True) as uow:
        total = uow.tickets.count(actor.brand_id, flt)
    done, before = 0, None
    while True:
        with uows(readonly=True) as uow:
            page = uow.tickets.page(actor.brand_id, flt, before_id=before, limit=size)
        done += len(page)
        yield page, done, max(total, done)
        if len(page) < size:
            return
        before = page[-1].id


def get_ticket(uow: UnitOfWork, actor: Actor, ticket_id: int) -> Ticket:
    with uow:
        return access_ticket(uow, actor, ticket_id)


def ticket_history(uow: UnitOfWork, actor: Actor, ticket_id: int) -> tuple[Ticket, Sequence[TicketEvent]]:
    with uow:
        ticket = access_ticket(uow, actor, ticket_id)
        return ticket, uow.tickets.events(ticket.id)


#: Staff who see the panel beside a request: agents, dispatchers and managers.
PANEL_ROLES = (Role.AGENT, Role.DISPATCHER, Role.MANAGER)


@dataclass(frozen=True)
class Place:
    """A visit address: as written (masked unless the reader sees contacts), the divisions it lies in (names,
    province first), whether that reaches a county, and the outlets covering it (code, name), best first."""

    text: str
    divisions: tuple[str, ...]
    county: str | None
    outlets: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StaffPanel:
    """What the staff need beside a request: the customer (phones masked as the privacy rule says), the unit
    and its warranty on the local day, and where the visit is; None where the request names no unit or address."""

    customer: str
    phones: tuple[str, ...]
    masked: bool
    model: str | None = None
    product: str | None = None
    serial: str | None = None
    warranty: Warranty | None = None
    warranty_end: date | None = None
    place: Place | None = None


def staff_panel(uows: UowFactory, actor: Actor, ticket_id: int, clock: Clock, resolver: Resolver) -> StaffPanel:
    """The staff's panel of a request; the read of the customer's details is put on record."""
    require_role(actor, *PANEL_ROLES, what="see a request's customer panel")
    with uows(readonly=True) as uow:
        ticket = access_ticket(uow, actor, ticket_id)
        customer = uow.customers.get(actor.brand_id, ticket.customer_id)
        if customer is None:
            raise NotFound("customer.not_found", f"no customer {ticket.customer_id}")
        full = customer.id in customers.contacts_visible(uow, actor, [customer.id])
        panel = StaffPanel(customer.name, tuple(display_phone(p.e164) if full else mask_phone(p.e164)
                                                 for p in customer.phones),
                           masked=not full)
        unit = uow.units.get(actor.brand_id, ticket.unit_id) if ticket.unit_id is not None else None
        if unit is not None:
            product = uow.products.get(actor.brand_id, unit.product_id)
            today = clock.now().astimezone(clock.tz).date()
            panel = replace(panel, model=product.model if product else None,
                            product=product.name if product else None, serial=unit.serial_number,
                            warranty=unit.warranty_on(today), warranty_end=unit.warranty_end)
        address = next((a for a in customer.addresses if a.id == ticket.address_id), None)
        if address is not None:
            panel = replace(panel, place=_place(uow, actor, address.text if full else mask_address(address.text),
                                                address.adcode or resolver.resolve(address.text).adcode, resolver))
    customers.record_reads(uows, actor, [customer.id], "ticket", clock)
    return panel


def _place(uow: UnitOfWork, actor: Actor, text: str, adcode: str | None, resolver: Resolver) -> Place:
    if adcode is None:
        return Place(text, (), None, ())
    table = resolver.table
    chain = table.chain(adcode)
    divisions = [table.by_code[c] for c in chain]
    coverage = network.coverage_of(uow, actor.brand_id, adcode, table)
    outlets = uow.outlets.by_ids(actor.brand_id, coverage)
    best = [r.outlet_id for r in rank_outlets(chain, coverage, table)]
    ranked = best + sorted(set(coverage) - set(best), key=lambda i: outlets[i].code)  # those covering part of it
    return Place(text, tuple(d.name for d in divisions),
                 next((d.name for d in divisions if d.level is Level.COUNTY), None),
                 tuple((outlets[i].code, outlets[i].name) for i in ranked if i in outlets))


@dataclass(frozen=True)
class MoveTicket:
    actor: Actor
    ticket_id: int
    to: Status
    note: str = ""


def _hook_data(ticket: Ticket) -> dict[str, object]:
    return {"ticket_id": ticket.id, "number": ticket.number, "status": ticket.status.value,
            "category": ticket.category.value, "priority": ticket.priority.value, "channel": ticket.channel.value}


def move_ticket(cmd: MoveTicket, uow: UnitOfWork, clock: Clock, *, public_url: str = "") -> Ticket:
    """Move a ticket to another state if the table and the actor's role allow it; append the event. The SLA
    steps are rescheduled; a resolved request gets its satisfaction survey."""
    with uow:
        ticket = access_ticket(uow, cmd.actor, cmd.ticket_id, for_update=True)
        event = ticket.move(cmd.to, actor=cmd.actor, at=clock.now(), note=cmd.note)
        after_move(uow, ticket, event, clock, public_url)
        uow.commit()
    return ticket


def after_move(uow: UnitOfWork, ticket: Ticket, event: TicketEvent, clock: Clock, public_url: str = "") -> None:
    """What every move of a request does beside it (in the caller's transaction): its SLA steps, the webhook,
    the survey once resolved, the evidence log."""
    sla.reschedule_ticket(uow, ticket, clock)
    notifier = Notifier(uow, clock)
    notifier.webhook(ticket.brand_id, "ticket.moved", {**_hook_data(ticket), "from": event.from_status.value})
    if event.to_status is Status.RESOLVED:
        surveys.start_survey(uow, ticket, clock, notifier, public_url)
    notifier.flush()
    evidence.record(uow, ticket.brand_id, EvidenceKind.TICKET_MOVED, f"ticket:{ticket.id}", ticket.customer_id,
                    {"number": ticket.number, "from": event.from_status.value, "to": event.to_status.value,
                     "note": event.note, "by": event.actor}, clock)


@dataclass(frozen=True)
class Comment:
    actor: Actor
    ticket_id: int
    text: str


def comment_ticket(cmd: Comment, uow: UnitOfWork, clock: Clock) -> TicketEvent:
    with uow:
        ticket = access_ticket(uow, cmd.actor, cmd.ticket_id, for_update=True)
        event = ticket.comment(cmd.text, actor=cmd.actor, at=clock.now())
        if cmd.actor.is_staff:  # a reply stops the first-response clock
            sla.reschedule_ticket(uow, ticket, clock)
        evidence.record(uow, ticket.brand_id, EvidenceKind.TICKET_COMMENTED, f"ticket:{ticket.id}", ticket.customer_id,
                        {"number": ticket.number, "text": event.note, "by": event.actor}, clock)
        uow.commit()
    return event


def assign_ticket(actor: Actor, ticket_id: int, user_id: int | None, note: str, uow: UnitOfWork,
                  clock: Clock) -> Ticket:
    """Hand a ticket to a member of staff of the brand (or back to the queue with ``None``)."""
    if actor.role not in (Role.MANAGER, Role.AGENT, Role.DISPATCHER):
        raise Forbidden("access.role", f"a {actor.role.value} may not assign tickets")
    with uow:
        ticket = access_ticket(uow, actor, ticket_id, for_update=True)
        if user_id is not None:
            access_handler(uow, actor, user_id, "ticket.assignee", "assignee_id")
        ticket.assign(user_id, actor=actor.describe(), at=clock.now(), note=note)
        evidence.record(uow, ticket.brand_id, EvidenceKind.TICKET_ASSIGNED, f"ticket:{ticket.id}", ticket.customer_id,
                        {"number": ticket.number, "assignee": user_id, "by": actor.describe()}, clock)
        uow.commit()
    return ticket


# --- photos and documents on a request ------------------------------------------------------------------------

def check_attachment(content_type: str, data: bytes) -> str:
    return files.check_file(content_type, data, "ticket")


def add_attachment(uows: UowFactory, actor: Actor, ticket_id: int, filename: str, content_type: str,
                   data: bytes, clock: Clock) -> dict[str, object]:
    """A photo of the fault (the customer) or of the work (staff), kept with its SHA-256 in the evidence log."""
    with uows() as uow:
        ticket = access_ticket(uow, actor, ticket_id, for_update=True)  # first: a stranger learns nothing
        if actor.read_only:
            raise Forbidden("access.role", f"a {actor.role.value} may not add photos")
        content_type = check_attachment(content_type, data)
        if ticket.status in (Status.CLOSED, Status.CANCELLED):
            raise Conflict("ticket.closed", "the request is closed")
        if len(uow.tickets.attachments(ticket.id)) >= MAX_ATTACHMENTS:
            raise InvalidInput("ticket.attachments_full", f"a request holds at most {MAX_ATTACHMENTS} attachments")
        name, digest, now = files.safe_name(filename), hashlib.sha256(data).hexdigest(), clock.now()
        aid = uow.tickets.add_attachment(ticket.id, name, content_type, data, digest, now, actor.describe())
        evidence.record(uow, ticket.brand_id, EvidenceKind.TICKET_ATTACHMENT, f"ticket:{ticket.id}", ticket.customer_id,
                        {"number": ticket.number, "filename": name, "content_type": content_type, "size": len(data),
                         "sha256": digest, "by": actor.describe()}, clock)
        uow.commit()
    return {"id": aid, "filename": name, "content_type": content_type, "size": len(data), "sha256": digest}


def attachments(uow: UnitOfWork, actor: Actor, ticket_id: int) -> list[dict[str, object]]:
    with uow:
        ticket = access_ticket(uow, actor, ticket_id)
        return [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                 "sha256": a.sha256, "added_at": a.added_at, "added_by": a.added_by}
                for a in uow.tickets.attachments(ticket.id)]


def attachment(uow: UnitOfWork, actor: Actor, ticket_id: int, attachment_id: int) -> object:
    with uow:
        access_ticket(uow, actor, ticket_id)
        row = uow.tickets.attachment(ticket_id, attachment_id)
    if row is None:
        raise NotFound("ticket.attachment_not_found", f"no attachment {attachment_id}")
    return row
