"""Service requests (tickets): their states, the one table of allowed transitions, and their events."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from fairdesk.domain.errors import Conflict, Forbidden
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.text import clean_text

__all__ = [
    "CUSTOMER_ACTIONS",
    "CUSTOMER_TRANSITIONS",
    "TRANSITIONS",
    "Category",
    "Channel",
    "CustomerAction",
    "EventKind",
    "Line",
    "Priority",
    "Status",
    "Step",
    "Ticket",
    "TicketEvent",
    "TicketFilter",
    "customer_actions",
    "customer_timeline",
    "format_ticket_number",
    "progress",
    "staff_timeline",
]

MAX_SUBJECT = 200
MAX_TEXT = 10_000


class Status(StrEnum):
    """Where a service request stands."""

    NEW = "new"
    TRIAGED = "triaged"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_PARTS = "waiting_parts"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REOPENED = "reopened"


class Channel(StrEnum):
    """How the request reached the brand."""

    HOTLINE = "hotline"
    WEB = "web"
    API = "api"
    CHAT = "chat"


class Category(StrEnum):
    """What the customer asks for."""

    REPAIR = "repair"
    INSTALLATION = "installation"
    MAINTENANCE = "maintenance"
    CONSULTATION = "consultation"
    PLAN_CHANGE = "plan_change"
    COMPLAINT = "complaint"


class Priority(StrEnum):
    """How urgent the request is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class EventKind(StrEnum):
    CREATED = "created"
    TRANSITION = "transition"
    COMMENT = "comment"
    ASSIGNMENT = "assignment"
    PRIORITY = "priority"
    ESCALATION = "escalation"
    VISIT = "visit"  # a visit booked, moved, cancelled, started or finished


S = Status
#: The allowed transitions, one table. A consultation answered on the call may go straight to resolved;
#: a visit that needs a second trip goes back to scheduled; closed and cancelled are final.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.TRIAGED, S.RESOLVED, S.CANCELLED}),
    S.TRIAGED: frozenset({S.SCHEDULED, S.IN_PROGRESS, S.WAITING_CUSTOMER, S.RESOLVED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.IN_PROGRESS, S.TRIAGED, S.WAITING_CUSTOMER, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.WAITING_CUSTOMER, S.WAITING_PARTS, S.SCHEDULED, S.RESOLVED}),
    S.WAITING_CUSTOMER: frozenset({S.TRIAGED, S.SCHEDULED, S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.WAITING_PARTS: frozenset({S.SCHEDULED, S.IN_PROGRESS}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.TRIAGED, S.SCHEDULED, S.IN_PROGRESS, S.CANCELLED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

#: What a customer may do to their own request: withdraw it before work starts, answer a question,
#: confirm the repair (close) or say it is not fixed (reopen).
CUSTOMER_TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.CANCELLED}),
    S.TRIAGED: frozenset({S.CANCELLED}),
    S.SCHEDULED: frozenset({S.CANCELLED}),
    S.WAITING_CUSTOMER: frozenset({S.TRIAGED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
}

OPEN_STATUSES = frozenset(s for s in Status if TRANSITIONS[s]) - {S.RESOLVED}


class Step(StrEnum):
    """Where a request stands, as the customer follows it: 已提交 → 已受理 → 已派单 → 师傅上门 → 服务完成."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    ON_SITE = "on_site"
    DONE = "done"


_STEP_OF: dict[Status, Step] = {
    S.NEW: Step.SUBMITTED, S.TRIAGED: Step.ACCEPTED, S.WAITING_CUSTOMER: Step.ACCEPTED, S.REOPENED: Step.ACCEPTED,
    S.SCHEDULED: Step.DISPATCHED, S.WAITING_PARTS: Step.DISPATCHED, S.IN_PROGRESS: Step.ON_SITE,
    S.RESOLVED: Step.DONE, S.CLOSED: Step.DONE,
}


def progress(status: Status) -> tuple[list[Step], Step | None]:
    """The customer's steps and the one reached (None: the request was cancelled)."""
    return list(Step), _STEP_OF.get(status)


# --- the history as the customer reads it -------------------------------------------------------------------

#: Notes the system writes on a move (English, for staff); the customer's timeline says the move in words instead.
_MACHINE_NOTE = re.compile(r"^(visit booking|visit booked|visit (cancelled|no_show)\b.*|technician on site)$")
#: "visit booked: 王师傅 2026-12-03 10:30-12:30; auto-dispatch" — the action, then who and when, then why.
_VISIT_NOTE = re.compile(
    r"^visit (?P<action>booked|moved|cancelled|no_show|checked_in|completed|rebooking): (?P<what>[^;]*)")
_ROLE_OF_ACTOR = {"customer": "you", "agent": "service", "manager": "service", "dispatcher": "dispatch",
                  "technician": "technician", "system": "system"}


@dataclass(frozen=True)
class Line:
    """One line of a request's history for its customer: who (a role, never a username), what (a key the page
    translates), the states, and text meant for them (their own words, a comment, a visit's time)."""

    at: datetime
    who: str
    what: str
    from_status: Status | None = None
    to_status: Status | None = None
    text: str = ""


def customer_timeline(events: list[TicketEvent]) -> list[Line]:
    """The history a customer reads: no internal steps (escalations, assignments, priorities), no usernames,
    no notes the system wrote for staff."""
    out = []
    for e in events:
        who = _ROLE_OF_ACTOR.get(e.actor.split(":", 1)[0], "service")
        if e.kind is EventKind.CREATED:
            out.append(Line(e.at, who, "created"))
        elif e.kind is EventKind.TRANSITION:
            text = "" if _MACHINE_NOTE.match(e.note) else e.note
            out.append(Line(e.at, who, "moved", e.from_status, e.to_status, text))
        elif e.kind is EventKind.COMMENT:
            out.append(Line(e.at, who, "comment", text=e.note))
        elif e.kind is EventKind.VISIT and (m := _VISIT_NOTE.match(e.note)):
            out.append(Line(e.at, who, "visit " + m["action"], text=m["what"].strip()))
    return out



#: Notes the system writes on a request, by what they say (the staff's history shows them in words).
_ESCALATION_NOTE = re.compile(r"^(?:escalation: )?(?P<clock>first_response|onsite|resolution) (?P<percent>\d+)%: "
                              r"(?P<action>[a-z_]+)$")
#: Reasons the system writes on a visit's note (the pages say them in words: "reason <it>" in the catalogs).
SYSTEM_REASONS = frozenset({"auto-dispatch", "technician on leave", "request withdrawn", "cancelled on the web"})


@dataclass(frozen=True)
class StaffLine:
    """One line of a request's history for its staff: the role and the username of who did it, what (a key the
    page translates), the states, the values of a system note (an escalation's clock and share, a visit's
    technician and window) and the words a person wrote."""

    at: datetime
    role: str
    username: str
    what: str
    from_status: Status | None = None
    to_status: Status | None = None
    values: tuple[str, ...] = ()
    text: str = ""


def staff_timeline(events: list[TicketEvent]) -> list[StaffLine]:
    """The whole history for staff, every step kept — but in words: no ``agent:zhang``, no English note the
    system wrote (``visit booked: …; auto-dispatch``, ``onsite 50%: notify``)."""
    out = []
    for e in events:
        role, _, username = e.actor.partition(":")
        role = role if role in _ROLE_OF_ACTOR else "system"
        note = e.note or ""
        what, values, text = e.kind.value, (), note
        if m := _VISIT_NOTE.match(note):
            reason = note[m.end():].lstrip("; ").strip()
            what, values, text = "visit " + m["action"], (m["what"].strip(),), reason
            if reason in SYSTEM_REASONS:
                values, text = (*values, "reason " + reason), ""
        elif m := _ESCALATION_NOTE.match(note):
            values, text = ("deadline " + m["clock"], m["percent"] + "%", "escalate " + m["action"]), ""
        elif _MACHINE_NOTE.match(note):
            text = ""
        out.append(StaffLine(e.at, role, username if role != "system" else "", what, e.from_status, e.to_status,
                             values, text))
    return out


class CustomerAction(StrEnum):
    """What a customer does to their own request, in their words (never the staff's list of states)."""

    CANCEL = "cancel"  # 取消报修
    CONFIRM_FIXED = "confirm_fixed"  # 确认已修好
    NOT_FIXED = "not_fixed"  # 没修好，重新处理
    ANSWERED = "answered"  # 已补充信息


@dataclass(frozen=True)
class ActionRule:
    """Where an action takes the request; a final one is confirmed first, some need the customer's words."""

    to: Status
    final: bool
    needs_note: bool


CUSTOMER_ACTIONS: dict[CustomerAction, ActionRule] = {
    CustomerAction.CANCEL: ActionRule(S.CANCELLED, final=True, needs_note=False),
    CustomerAction.CONFIRM_FIXED: ActionRule(S.CLOSED, final=True, needs_note=False),
    CustomerAction.NOT_FIXED: ActionRule(S.REOPENED, final=False, needs_note=True),
    CustomerAction.ANSWERED: ActionRule(S.TRIAGED, final=False, needs_note=True),
}


def customer_actions(status: Status) -> list[CustomerAction]:
    """The actions a customer is offered on a request in this state (each one a move they are allowed)."""
    allowed = CUSTOMER_TRANSITIONS.get(status, frozenset())
    return [a for a, rule in CUSTOMER_ACTIONS.items() if rule.to in allowed]


def format_ticket_number(prefix: str, local_day: date, sequence: int) -> str:
    """``FD-20261124-000123``: the brand's prefix, the local day of creation and that day's sequence."""
    return f"{prefix}-{local_day:%Y%m%d}-{sequence:06d}"


@dataclass(frozen=True)
class TicketFilter:
    """What a ticket list may be narrowed by; every field optional."""

    status: Status | None = None
    category: Category | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    customer_id: int | None = None
    assignee_id: int | None = None
    open_only: bool = False  # only requests still being worked on (OPEN_STATUSES)
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(eq=False)
class TicketEvent:
    """One thing that happened to a ticket: who, when, what, from which state to which."""

    ticket_id: int | None
    brand_id: int
    kind: EventKind
    actor: str
    at: datetime
    from_status: Status | None = None
    to_status: Status | None = None
    note: str = ""
    id: int | None = None


@dataclass(eq=False)
class Ticket:
    """A service request: from the first contact to the closed, rated visit."""

    brand_id: int
    number: str
    customer_id: int
    channel: Channel
    category: Category
    subject: str
    created_at: datetime
    description: str = ""
    priority: Priority = Priority.NORMAL
    unit_id: int | None = None
    address_id: int | None = None
    status: Status = Status.NEW
    updated_at: datetime | None = None
    assignee_id: int | None = None
    outlet_id: int | None = None
    technician_id: int | None = None
    id: int | None = None
    events: list[TicketEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.subject = clean_text(self.subject, "subject", MAX_SUBJECT, required=True)
        self.description = clean_text(self.description, "description", MAX_TEXT, required=False)
        self.updated_at = self.updated_at or self.created_at

    @classmethod
    def open(cls, *, actor: Actor, at: datetime, note: str = "", **fields: object) -> Ticket:
        """Create a ticket in state ``new`` with its ``created`` event."""
        ticket = cls(created_at=at, **fields)  # type: ignore[arg-type]
        ticket.events.append(TicketEvent(None, ticket.brand_id, EventKind.CREATED, actor.describe(), at,
                                         to_status=Status.NEW, note=note))
        return ticket

    def allowed_next(self, actor: Actor) -> frozenset[Status]:
        """The states this actor may move the ticket to now."""
        if actor.read_only:
            return frozenset()
        if actor.role is Role.CUSTOMER:
            return CUSTOMER_TRANSITIONS.get(self.status, frozenset())
        return TRANSITIONS[self.status]

    def move(self, to: Status, *, actor: Actor, at: datetime, note: str = "") -> TicketEvent:
        """Move to another state if the table allows it, recording who did it and why."""
        note = clean_text(note, "note", MAX_TEXT, required=False)
        if to not in TRANSITIONS[self.status]:
            raise Conflict("ticket.illegal_transition",
                           f"a ticket cannot go from {self.status.value} to {to.value}",
                           from_status=self.status.value, to_status=to.value)
        if to not in self.allowed_next(actor):
            raise Forbidden("ticket.transition_forbidden",
                            f"a {actor.role.value} may not move a ticket from {self.status.value} "
                            f"to {to.value}")
        event = TicketEvent(self.id, self.brand_id, EventKind.TRANSITION, actor.describe(), at,
                            from_status=self.status, to_status=to, note=note)
        self.status = to
        self.updated_at = at
        self.events.append(event)
        return event

    def comment(self, text: str, *, actor: Actor, at: datetime) -> TicketEvent:
        """Add a comment to the history; auditors only read."""
        if actor.read_only:
            raise Forbidden("ticket.read_only", "auditors cannot comment")
        if self.status in (Status.CLOSED, Status.CANCELLED) and actor.is_customer:
            raise Conflict("ticket.closed", "this request is closed; open a new one or a complaint")
        text = clean_text(text, "comment", MAX_TEXT, required=True)
        event = TicketEvent(self.id, self.brand_id, EventKind.COMMENT, actor.describe(), at, note=text)
        self.updated_at = at
        self.events.append(event)
        return event

    def assign(self, user_id: int | None, *, actor: str, at: datetime, note: str = "") -> TicketEvent:
        """Hand the ticket to a member of staff (``None``: back to the queue)."""
        event = TicketEvent(self.id, self.brand_id, EventKind.ASSIGNMENT, actor, at,
                            note=clean_text(note, "note", MAX_TEXT, required=False)
                            or f"assignee: {user_id if user_id is not None else '-'}")
        self.assignee_id = user_id
        self.updated_at = at
        self.events.append(event)
        return event

    def dispatch(self, technician_id: int | None, outlet_id: int | None, *, actor: str, at: datetime,
                 note: str) -> TicketEvent:
        """Record who goes on site (``None``: nobody any more) and why."""
        self.technician_id = technician_id
        if outlet_id is not None:
            self.outlet_id = outlet_id
        self.updated_at = at
        return self.record(EventKind.VISIT, actor=actor, at=at, note=note)

    def raise_priority(self, *, actor: str, at: datetime, note: str) -> TicketEvent | None:
        """One step up (low → normal → high → urgent); nothing once urgent."""
        order = list(Priority)
        index = order.index(self.priority)
        if index == len(order) - 1:
            return None
        before, self.priority = self.priority, order[index + 1]
        event = TicketEvent(self.id, self.brand_id, EventKind.PRIORITY, actor, at,
                            note=f"{before.value} → {self.priority.value}: {note}")
        self.updated_at = at
        self.events.append(event)
        return event

    def record(self, kind: EventKind, *, actor: str, at: datetime, note: str) -> TicketEvent:
        """An event that changes nothing but the history (an escalation notice, say)."""
        event = TicketEvent(self.id, self.brand_id, kind, actor, at,
                            note=clean_text(note, "note", MAX_TEXT, required=False))
        self.events.append(event)
        return event

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
