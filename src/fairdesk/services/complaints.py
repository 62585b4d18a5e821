"""Complaints: filing with evidence, a workflow on deadlines in working days, the green channel first in the
queue, group complaints joined only by consent, escalation with a filing-ready export, published statistics.

Who does what: the consumer (or a hotline agent for them) files; the business (agents and managers of the
brand) accepts or rejects with a listed reason, responds and proposes a settlement; only the consumer confirms
a complaint resolved or closes it; the worker ends mediation when its period runs out and tells the consumer
where to go next when any deadline passes. Nothing deletes a complaint.
"""

from __future__ import annotations

import hashlib
import secrets
import statistics
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from fairdesk.domain import files
from fairdesk.domain.channels import normalize_phone
from fairdesk.domain.complaints import (
    DEFAULT_TERMS,
    GREEN,
    GREEN_TERMS,
    MAX_REPRESENTATIVES,
    OPEN,
    Category,
    Complaint,
    RejectReason,
    Side,
    Status,
    Terms,
    add_working_days,
    cluster,
    shingles,
    similarity,
)
from fairdesk.domain.customers import mask_phone
from fairdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.text import clean_text
from fairdesk.services import calendars, evidence
from fairdesk.services.access import require_role
from fairdesk.services.channels import display_phone
from fairdesk.services.clock import Clock
from fairdesk.services.customers import record_reads
from fairdesk.services.notify import Notifier
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = [
    "ATTACHMENT_TYPES",
    "FileComplaint",
    "add_attachment",
    "answer_invitation",
    "attachment",
    "check_attachment",
    "create_group",
    "export_case",
    "file_complaint",
    "get_complaint",
    "get_group",
    "group_proposals",
    "handle",
    "queue",
    "set_terms",
    "statistics_for",
    "sweep",
    "terms_of",
]

#: Who handles complaints for the business (auditors read).
HANDLERS = (Role.AGENT, Role.MANAGER)
READERS = (Role.AGENT, Role.MANAGER, Role.AUDITOR)
#: Accepted evidence: photos and PDFs, recognised by their first bytes (the declared type must agree).
ATTACHMENT_TYPES = files.TYPES
MAX_ATTACHMENT = files.MAX_BYTES
MAX_ATTACHMENTS = 10
MIN_FACTS = 10  # characters: "坏了" is not a statement of facts


@cache
def _next_steps_table() -> dict[str, Any]:
    return tomllib.loads(resources.files("fairdesk.data").joinpath("escalation.toml").read_text("utf-8"))


def _calendar(uow: UnitOfWork, brand_id: int) -> frozenset[Any]:
    return uow.sla.closures(brand_id)


def terms_of(uow: UnitOfWork, brand_id: int) -> dict[bool, Terms]:
    """The brand's deadlines for the standard and the green channel (the documented defaults when unset)."""
    found = uow.complaints.terms(brand_id)
    return {False: found.get(False, DEFAULT_TERMS), True: found.get(True, GREEN_TERMS)}


def set_terms(actor: Actor, green: bool, terms: Terms, uow: UnitOfWork) -> dict[str, Any]:
    require_role(actor, Role.MANAGER, what="set complaint deadlines")
    with uow:
        standard = terms_of(uow, actor.brand_id)[False] if green else terms
        fast = terms if green else terms_of(uow, actor.brand_id)[True]
        if (fast.acceptance_wd > standard.acceptance_wd or fast.first_response_h > standard.first_response_h
                or fast.mediation_wd > standard.mediation_wd):
            raise InvalidInput("complaint.green_slower", "the green channel's deadlines may not be longer than the "
                                                         "standard ones")
        uow.complaints.set_terms(actor.brand_id, green, terms)
        uow.commit()
    return {"green": green, **terms.as_dict()}


# --- filing ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileComplaint:
    actor: Actor
    category: str
    request: str  # 诉求: what the consumer asks for
    facts: str  # 事实与理由
    customer_id: int | None = None  # staff filing for a consumer (a hotline call)
    outlet_code: str | None = None
    contact_phone: str | None = None
    complainant: str | None = None
    ticket_id: int | None = None
    subscription_id: int | None = None
    conversation_id: int | None = None

    def fingerprint(self) -> str:
        d = asdict(self)
        d["actor"] = self.actor.describe()
        return hashlib.sha256(repr(sorted(d.items())).encode()).hexdigest()


def _category(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        raise InvalidInput("complaint.category", f"unknown category {value!r}; one of "
                                                 f"{', '.join(c.value for c in Category)}", field="category") from None


def _links(uow: UnitOfWork, brand_id: int, customer_id: int, cmd: FileComplaint) -> int | None:
    """Check that each linked record is this consumer's; the ticket's outlet when one is linked."""
    outlet_id = None
    if cmd.ticket_id is not None:
        ticket = uow.tickets.get(brand_id, cmd.ticket_id)
        if ticket is None or ticket.customer_id != customer_id:
            raise InvalidInput("complaint.link", f"ticket {cmd.ticket_id} is not one of this consumer's",
                               field="ticket_id")
        outlet_id = ticket.outlet_id
    if cmd.subscription_id is not None:
        sub = uow.plans.subscription(brand_id, cmd.subscription_id)
        if sub is None or sub.customer_id != customer_id:
            raise InvalidInput("complaint.link", f"subscription {cmd.subscription_id} is not one of this "
                                                 "consumer's", field="subscription_id")
    if cmd.conversation_id is not None:
        conv = uow.contact.conversation(brand_id, cmd.conversation_id)
        if conv is None or conv.customer_id != customer_id:
            raise InvalidInput("complaint.link", f"conversation {cmd.conversation_id} is not one of this "
                                                 "consumer's", field="conversation_id")
    return outlet_id


def file_complaint(cmd: FileComplaint, uows: UowFactory, clock: Clock,
                   idempotency_key: str | None = None) -> tuple[dict[str, Any], bool]:
    """File a complaint; (the complaint, replayed). The same Idempotency-Key returns the same complaint."""
    actor = cmd.actor
    if actor.is_customer:
        customer_id = actor.customer_id
        if cmd.customer_id not in (None, customer_id):
            raise NotFound("customer.not_found", f"no customer {cmd.customer_id}")
    else:
        require_role(actor, *HANDLERS, what="file complaints for consumers")
        if cmd.customer_id is None:
            raise InvalidInput("complaint.customer", "name the consumer (customer_id) the complaint is for",
                               field="customer_id")
        customer_id = cmd.customer_id
    category = _category(cmd.category)
    request = clean_text(cmd.request, "request", 2000, required=False)
    facts = clean_text(cmd.facts, "facts", 10000, required=False)
    if not request:
        raise InvalidInput("complaint.request_required", "say what you ask the business to do (the request)",
                           field="request")
    if len(facts) < MIN_FACTS:
        raise InvalidInput("complaint.facts_required", f"describe what happened (the facts), at least {MIN_FACTS} "
                                                       "characters", field="facts")
    scope = f"complaint:{actor.describe()}"
    fingerprint = cmd.fingerprint()
    now = clock.now()
    with uows() as uow:
        if idempotency_key is not None:
            found = uow.idempotency.find(actor.brand_id, scope, idempotency_key)
            if found is not None:
                if found.request_hash != fingerprint:
                    raise Conflict("idempotency.key_reused", "this Idempotency-Key was used for a different request")
                return _view(uow, actor, uow.complaints.get(actor.brand_id, found.resource_id), clock), True
        customer = uow.customers.get(actor.brand_id, customer_id)
        if customer is None:
            raise NotFound("customer.not_found", f"no customer {customer_id}")
        outlet_id = _links(uow, actor.brand_id, customer_id, cmd)
        if cmd.outlet_code:
            outlet = uow.outlets.by_code(actor.brand_id, cmd.outlet_code)
            if outlet is None:
                raise InvalidInput("complaint.outlet", f"no outlet {cmd.outlet_code!r}", field="outlet_code")
            outlet_id = outlet.id
        phone = cmd.contact_phone or (customer.phones[0].e164 if customer.phones else "")
        if not phone:
            raise InvalidInput("complaint.contact", "give a phone number to reach you on", field="contact_phone")
        try:
            phone = normalize_phone(phone)
        except InvalidInput:
            raise InvalidInput("complaint.contact", f"not a phone number: {phone!r}", field="contact_phone") from None
        green = category in GREEN
        terms = terms_of(uow, actor.brand_id)[green]
        closures = _calendar(uow, actor.brand_id)
        complaint = Complaint(
            brand_id=actor.brand_id, customer_id=customer_id, number="pending-" + secrets.token_hex(8),
            category=category, green=green, status=Status.RECEIVED,
            complainant=clean_text(cmd.complainant or customer.name, "complainant", 100),
            contact_phone=phone, request=request, facts=facts, received_at=now,
            due_acceptance=add_working_days(now, terms.acceptance_wd, clock.tz,
                                            calendars.current(uow).is_workday, closures),
            due_first_response=now + timedelta(hours=terms.first_response_h), outlet_id=outlet_id,
            ticket_id=cmd.ticket_id, subscription_id=cmd.subscription_id, conversation_id=cmd.conversation_id)
        uow.complaints.add(complaint)
        complaint.number = f"TS{now.astimezone(clock.tz):%Y%m%d}{complaint.id:06d}"
        # Filed on the consumer's side, whoever typed it in (a hotline agent records who in ``actor``).
        uow.complaints.add_event(complaint.id, now, actor.describe(), Side.CONSUMER.value, "filed",
                                 to_status=Status.RECEIVED.value)
        notifier = Notifier(uow, clock)
        due = complaint.due_acceptance.astimezone(clock.tz).strftime("%Y-%m-%d")
        notifier.customer(actor.brand_id, customer_id, "complaint_received", number=complaint.number,
                          due=due, green=green)
        if green:
            notifier.staff(actor.brand_id, "complaint_green", number=complaint.number, category=category.value,
                           due=complaint.due_first_response.astimezone(clock.tz).strftime("%Y-%m-%d %H:%M"))
        notifier.webhook(actor.brand_id, "complaint.filed", {"number": complaint.number, "category": category.value,
                                                             "green": green})
        notifier.flush()
        evidence.record(uow, actor.brand_id, "complaint.filed", f"complaint:{complaint.number}", customer_id,
                        {"category": category.value, "green": green, "request": request, "facts": facts,
                         "by": actor.describe(), "due_acceptance": complaint.due_acceptance.isoformat(),
                         "due_first_response": complaint.due_first_response.isoformat()}, clock)
        if idempotency_key is not None:
            uow.idempotency.remember(actor.brand_id, scope, idempotency_key, fingerprint, "complaint",
                                     complaint.id, now)
        out = _view(uow, actor, complaint, clock)
        uow.commit()
    return out, False


# --- reading -------------------------------------------------------------------------------------------------

def _access(uow: UnitOfWork, actor: Actor, complaint_id: int, *, for_update: bool = False) -> Complaint:
    if not actor.is_customer:
        require_role(actor, *READERS, what="read complaints")
    found = uow.complaints.get(actor.brand_id, complaint_id, for_update=for_update)
    if found is None or (actor.is_customer and found.customer_id != actor.customer_id):
        raise NotFound("complaint.not_found", f"no complaint {complaint_id}")
    return found


def _local(value: datetime | None, clock: Clock) -> str | None:
    return value.astimezone(clock.tz).isoformat() if value else None


def next_steps(complaint: Complaint, now: datetime) -> list[dict[str, Any]]:
    """Where the consumer can go next, once the business missed a deadline, rejected, or mediation ended."""
    reasons = set(complaint.overdue(now))
    if complaint.status is Status.REJECTED:
        reasons.add("rejected")
    if complaint.status is Status.MEDIATION_ENDED:
        reasons.add("mediation_ended")
    if not reasons:
        return []
    table = _next_steps_table()["body"]
    return [{k: b[k] for k in ("code", "name_zh", "name_en", "phone", "url", "what_zh", "what_en")}
            for b in table if reasons & set(b["when"])]


def _view(uow: UnitOfWork, actor: Actor, c: Complaint, clock: Clock, *, full: bool = False) -> dict[str, Any]:
    now = clock.now()
    out: dict[str, Any] = {
        "id": c.id, "number": c.number, "category": c.category.value, "green": c.green, "status": c.status.value,
        "customer_id": c.customer_id, "outlet_id": c.outlet_id, "complainant": c.complainant,
        # Handlers call the consumer back; an auditor sees enough to tell numbers apart.
        "contact_phone": mask_phone(c.contact_phone) if actor.role is Role.AUDITOR else c.contact_phone,
        "request": c.request, "facts": c.facts,
        "received_at": _local(c.received_at, clock),
        "deadlines": {"acceptance": _local(c.due_acceptance, clock),
                      "first_response": _local(c.due_first_response, clock),
                      "mediation_end": _local(c.due_mediation, clock)},
        # A working-day deadline over a period with no published arrangement is an estimate.
        "estimated": {"acceptance": calendars.estimated(uow, c.received_at, c.due_acceptance, clock),
                      "mediation_end": bool(c.due_mediation and c.accepted_at and calendars.estimated(
                          uow, c.accepted_at, c.due_mediation, clock))},
        "accepted_at": _local(c.accepted_at, clock), "first_response_at": _local(c.first_response_at, clock),
        "reject_reason": c.reject_reason.value if c.reject_reason else None, "proposal": c.proposal,
        "consumer_confirmed": c.consumer_confirmed, "ended_at": _local(c.ended_at, clock),
        "closed_at": _local(c.closed_at, clock), "group_id": c.group_id,
        "links": {"ticket_id": c.ticket_id, "subscription_id": c.subscription_id,
                  "conversation_id": c.conversation_id},
        "overdue": c.overdue(now), "next_steps": next_steps(c, now),
    }
    if full:
        out["events"] = [{"at": _local(e.at, clock), "actor": e.actor, "side": e.side, "kind": e.kind,
                          "from": e.from_status, "to": e.to_status, "note": e.note}
                         for e in uow.complaints.events(c.id)]
        out["attachments"] = [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                               "sha256": a.sha256, "added_at": _local(a.added_at, clock)}
                              for a in uow.complaints.attachments(c.id)]
        out["invitations"] = [r.group_id for r in uow.complaints.pending_invitation(c.id)]
    return out


def get_complaint(uows: UowFactory, actor: Actor, complaint_id: int, clock: Clock) -> dict[str, Any]:
    with uows(readonly=True) as uow:
        out = _view(uow, actor, _access(uow, actor, complaint_id), clock, full=True)
    record_reads(uows, actor, [out["customer_id"]], "complaint", clock)
    return out


def queue(uows: UowFactory, actor: Actor, clock: Clock, *, status: str | None = None, category: str | None = None,
          green: bool | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The handling queue: the green channel first, always; then the nearest deadline. A customer sees their
    own complaints; ``status`` lists ended ones too (newest first)."""
    if not actor.is_customer:
        require_role(actor, *READERS, what="read complaints")
    if category is not None:
        category = _category(category).value
    statuses = OPEN
    if status is not None:
        try:
            statuses = frozenset({Status(status)})
        except ValueError:
            raise InvalidInput("complaint.status", f"unknown status {status!r}", field="status") from None
    mine = actor.customer_id if actor.is_customer else None
    with uows(readonly=True) as uow:
        if statuses == OPEN:
            rows = uow.complaints.queue(actor.brand_id, customer_id=mine, category=category, green=green, limit=limit)
        else:
            rows = uow.complaints.listing(actor.brand_id, statuses=statuses, category=category, green=green,
                                          customer_id=mine, limit=limit)
        return [_view(uow, actor, c, clock) for c in rows]


# --- handling --------------------------------------------------------------------------------------------------

ACTIONS = ("accept", "reject", "respond", "propose", "confirm", "decline", "end_mediation", "close", "comment")
BUSINESS_ACTIONS = frozenset({"accept", "reject", "respond", "propose"})
CONSUMER_ACTIONS = frozenset({"confirm", "decline", "end_mediation", "close"})
_MESSAGES = {"accept": "complaint_accepted", "reject": "complaint_rejected", "respond": "complaint_response",
             "propose": "complaint_proposal"}


def _side(actor: Actor) -> Side:
    return Side.CONSUMER if actor.is_customer else Side.BUSINESS


def _members(uow: UnitOfWork, complaint: Complaint) -> list[Complaint]:
    """A group complaint is handled once: a business action on one consented member applies to all of them."""
    if complaint.group_id is None:
        return [complaint]
    ids = [m.complaint_id for m in uow.complaints.members(complaint.group_id) if m.consented_at is not None]
    return uow.complaints.by_ids(complaint.brand_id, ids, for_update=True) or [complaint]


def _act(uow: UnitOfWork, actor: Actor, c: Complaint, action: str, note: str, reason: RejectReason | None,
         clock: Clock, notifier: Notifier) -> None:
    now = clock.now()
    side = _side(actor)
    who = actor.describe()
    moves: list[tuple[Status, Status]] = []
    if action == "accept":
        moves.append(c.move(Status.ACCEPTED, side, now))
    elif action == "reject":
        moves.append(c.move(Status.REJECTED, side, now))
        c.reject_reason = reason
        c.first_response_at = c.first_response_at or now  # a reasoned refusal is the business's answer
    elif action in ("respond", "propose"):
        if c.status is Status.RECEIVED:
            moves.append(c.move(Status.ACCEPTED, side, now))
        if c.status is Status.ACCEPTED:
            moves.append(c.move(Status.MEDIATION, side, now))
        if c.status is not Status.MEDIATION:
            raise Conflict("complaint.illegal_move", f"a {c.status.value} complaint takes no response")
        if c.first_response_at is None:
            c.first_response_at = now
        if action == "propose":
            c.proposal = note
    elif action == "confirm":
        moves.append(c.move(Status.SETTLED, side, now))
    elif action == "decline":
        if side is not Side.CONSUMER:
            raise Forbidden("complaint.consumer_only", "only the consumer declines a proposed settlement")
        if c.status is not Status.MEDIATION or not c.proposal:
            raise Conflict("complaint.no_proposal", "there is no settlement proposal to decline")
    elif action == "end_mediation":
        moves.append(c.move(Status.MEDIATION_ENDED, side, now))
    elif action == "close":
        moves.append(c.move(Status.CLOSED, side, now))
    if c.accepted_at is not None and c.due_mediation is None:
        terms = terms_of(uow, c.brand_id)[c.green]
        c.due_mediation = add_working_days(c.accepted_at, terms.mediation_wd, notifier.clock.tz,
                                           calendars.current(uow).is_workday,
                                           _calendar(uow, c.brand_id))
    answer = action in ("respond", "propose")  # the answer is its own event; the moves it made carry no copy
    for a, b in moves:
        uow.complaints.add_event(c.id, now, who, side.value, "move", from_status=a.value, to_status=b.value,
                                 note="" if answer else (reason.value + ": " if reason else "") + note)
    if not moves or answer:
        uow.complaints.add_event(c.id, now, who, side.value, action, note=note)
    if action in _MESSAGES:
        notifier.customer(c.brand_id, c.customer_id, _MESSAGES[action], number=c.number, note=note,
                          reason=reason.value if reason else "",
                          due=_local(c.due_mediation, notifier.clock)[:10] if c.due_mediation else "")
    notifier.webhook(c.brand_id, f"complaint.{action}", {"number": c.number, "status": c.status.value})
    evidence.record(uow, c.brand_id, f"complaint.{action}", f"complaint:{c.number}", c.customer_id,
                    {"status": c.status.value, "note": note, "by": who,
                     **({"reason": reason.value} if reason else {})}, notifier.clock)


def handle(uows: UowFactory, actor: Actor, complaint_id: int, action: str, clock: Clock, *, note: str = "",
           reason: str | None = None) -> dict[str, Any]:
    """One step of the workflow. Business steps on a group complaint apply to every consented member."""
    if action not in ACTIONS:
        raise InvalidInput("complaint.action", f"unknown action {action!r}")
    if action in BUSINESS_ACTIONS:
        if actor.is_customer:
            raise Forbidden("complaint.business_only", f"only the business may {action} a complaint")
        require_role(actor, *HANDLERS, what=f"{action} complaints")
    if not actor.is_customer and action != "comment":
        require_role(actor, *HANDLERS, what="handle complaints")
    note = clean_text(note, "note", 4000, required=action in ("reject", "respond", "propose", "comment"))
    why = None
    if action == "reject":
        try:
            why = RejectReason(reason or "")
        except ValueError:
            raise InvalidInput("complaint.reject_reason", "give one of the listed reasons: "
                               + ", ".join(r.value for r in RejectReason), field="reason") from None
    with uows() as uow:
        complaint = _access(uow, actor, complaint_id, for_update=True)
        if action in CONSUMER_ACTIONS and not actor.is_customer:
            raise Forbidden("complaint.consumer_only",
                            "only the consumer confirms a complaint resolved, ends mediation or closes it")
        notifier = Notifier(uow, clock)
        targets = _members(uow, complaint) if action in BUSINESS_ACTIONS else [complaint]
        for c in targets:
            _act(uow, actor, c, action, note, why, clock, notifier)
        notifier.flush()
        out = _view(uow, actor, complaint, clock, full=True)
        uow.commit()
    return out


# --- attachments ---------------------------------------------------------------------------------------------

def check_attachment(content_type: str, data: bytes) -> str:
    """The attachment's type, once its first bytes agree with it and its size is allowed; refused otherwise."""
    return files.check_file(content_type, data, "complaint")


def add_attachment(uows: UowFactory, actor: Actor, complaint_id: int, filename: str, content_type: str,
                   data: bytes, clock: Clock) -> dict[str, Any]:
    with uows() as uow:
        c = _access(uow, actor, complaint_id, for_update=True)  # first: a stranger learns nothing from the checks
        content_type = check_attachment(content_type, data)
        name = files.safe_name(filename)
        digest = hashlib.sha256(data).hexdigest()
        if not actor.is_customer:
            require_role(actor, *HANDLERS, what="add evidence to complaints")
        if c.status is Status.CLOSED:
            raise Conflict("complaint.closed", "the complaint is closed")
        if len(uow.complaints.attachments(c.id)) >= MAX_ATTACHMENTS:
            raise InvalidInput("complaint.attachments_full", f"a complaint holds at most {MAX_ATTACHMENTS} attachments")
        now = clock.now()
        aid = uow.complaints.add_attachment(c.id, name, content_type, data, digest, now, actor.describe())
        uow.complaints.add_event(c.id, now, actor.describe(), _side(actor).value, "attachment",
                                 note=f"{name} sha256:{digest}")
        evidence.record(uow, c.brand_id, "complaint.attachment", f"complaint:{c.number}", c.customer_id,
                        {"filename": name, "content_type": content_type, "size": len(data), "sha256": digest}, clock)
        uow.commit()
    return {"id": aid, "filename": name, "content_type": content_type, "size": len(data), "sha256": digest}


def attachment(uows: UowFactory, actor: Actor, complaint_id: int, attachment_id: int) -> Any:
    with uows(readonly=True) as uow:
        _access(uow, actor, complaint_id)
        row = uow.complaints.attachment(complaint_id, attachment_id)
    if row is None:
        raise NotFound("complaint.attachment_not_found", f"no attachment {attachment_id}")
    return row


# --- groups --------------------------------------------------------------------------------------------------

def group_proposals(uows: UowFactory, actor: Actor) -> list[dict[str, Any]]:
    """Open complaints of two or more consumers about the same issue (same category, similar text)."""
    require_role(actor, *READERS, what="read complaints")
    with uows(readonly=True) as uow:
        rows = uow.complaints.open_ungrouped(actor.brand_id)
    texts = {r.id: shingles(r.request + " " + r.facts) for r in rows}
    by_id = {r.id: r for r in rows}
    out = []
    for ids in cluster([(r.id, r.category, texts[r.id]) for r in rows]):
        consumers = {by_id[i].customer_id for i in ids}
        if len(consumers) < 2:
            continue
        sims = [similarity(texts[a], texts[b]) for a in ids for b in ids if a < b]
        out.append({"category": by_id[ids[0]].category, "complaint_ids": ids, "consumers": len(consumers),
                    "mean_similarity": round(statistics.fmean(sims), 3)})
    return out


def create_group(uows: UowFactory, actor: Actor, complaint_ids: Sequence[int], title: str,
                 clock: Clock) -> dict[str, Any]:
    """Propose a group complaint: each consumer is invited and joins only by consenting."""
    require_role(actor, *HANDLERS, what="group complaints")
    ids = sorted(set(complaint_ids))
    title = clean_text(title, "title", 200)
    if len(ids) < 2:
        raise InvalidInput("complaint.group_size", "a group complaint needs two or more complaints")
    now = clock.now()
    with uows() as uow:
        found = uow.complaints.by_ids(actor.brand_id, ids, for_update=True)
        if len(found) != len(ids):
            missing = sorted(set(ids) - {c.id for c in found})
            raise NotFound("complaint.not_found", f"no complaint {missing[0]}")
        if len({c.customer_id for c in found}) < 2:
            raise InvalidInput("complaint.group_size", "a group complaint is made by two or more consumers")
        if len({c.category for c in found}) > 1:
            raise InvalidInput("complaint.group_category", "grouped complaints are about the same issue "
                                                           "(one category)")
        for c in found:
            if not c.open or c.group_id is not None:
                raise Conflict("complaint.group_member", f"complaint {c.number} is ended or already in a group")
        gid = uow.complaints.add_group(actor.brand_id, found[0].category.value, title, now, actor.describe())
        uow.complaints.invite(gid, ids, now)
        notifier = Notifier(uow, clock)
        for c in found:
            uow.complaints.add_event(c.id, now, actor.describe(), Side.BUSINESS.value, "group_invite",
                                     note=f"group {gid}: {title}")
            notifier.customer(c.brand_id, c.customer_id, "complaint_group_invite", number=c.number, title=title,
                              members=len(ids))
        notifier.flush()
        out = _group_view(uow, actor, gid)
        uow.commit()
    return out


def _group_view(uow: UnitOfWork, actor: Actor, group_id: int) -> dict[str, Any]:
    group = uow.complaints.group(actor.brand_id, group_id)
    if group is None:
        raise NotFound("complaint.group_not_found", f"no group {group_id}")
    members = uow.complaints.members(group_id)
    if actor.is_customer and actor.customer_id not in {m.customer_id for m in members}:
        raise NotFound("complaint.group_not_found", f"no group {group_id}")
    joined = [m for m in members if m.consented_at is not None]
    out = {"id": group.id, "title": group.title, "category": group.category, "members": len(joined),
           "invited": len(members), "active": len(joined) >= 2,
           "representatives": [m.number for m in joined if m.representative]}
    if not actor.is_customer:
        out["complaints"] = [{"complaint_id": m.complaint_id, "number": m.number,
                              "state": "joined" if m.consented_at else "declined" if m.declined_at else "invited",
                              "representative": m.representative} for m in members]
    return out


def get_group(uows: UowFactory, actor: Actor, group_id: int) -> dict[str, Any]:
    if not actor.is_customer:
        require_role(actor, *READERS, what="read complaints")
    with uows(readonly=True) as uow:
        return _group_view(uow, actor, group_id)


def answer_invitation(uows: UowFactory, actor: Actor, group_id: int, complaint_id: int, clock: Clock, *,
                      consent: bool, representative: bool = False) -> dict[str, Any]:
    """A consumer joins a group complaint (consent), or declines; only they can, for their own complaint."""
    if not actor.is_customer:
        raise Forbidden("complaint.consent_own", "only the consumer can consent to joining a group complaint")
    now = clock.now()
    with uows() as uow:
        c = _access(uow, actor, complaint_id, for_update=True)
        members = {m.complaint_id: m for m in uow.complaints.members(group_id)}
        if complaint_id not in members or uow.complaints.group(actor.brand_id, group_id) is None:
            raise NotFound("complaint.group_not_found", f"no invitation to group {group_id}")
        if representative and consent and sum(m.representative for m in members.values()) >= MAX_REPRESENTATIVES:
            raise Conflict("complaint.representatives", f"a group has at most {MAX_REPRESENTATIVES} representatives")
        if not c.open:
            raise Conflict("complaint.group_member", "the complaint has ended")
        if not uow.complaints.answer_invitation(group_id, complaint_id, now, consent=consent,
                                                representative=representative):
            raise Conflict("complaint.invitation_answered", "the invitation was already answered")
        if consent:
            c.group_id = group_id
        uow.complaints.add_event(c.id, now, actor.describe(), Side.CONSUMER.value,
                                 "group_consent" if consent else "group_decline",
                                 note=f"group {group_id}" + (" (representative)" if representative else ""))
        evidence.record(uow, c.brand_id, "complaint.group_consent" if consent else "complaint.group_decline",
                        f"complaint:{c.number}", c.customer_id,
                        {"group_id": group_id, "representative": representative}, clock)
        out = _group_view(uow, actor, group_id)
        uow.commit()
    return out


# --- deadlines -------------------------------------------------------------------------------------------------

def sweep(uows: UowFactory, clock: Clock, *, batch: int = 200) -> int:
    """Tell consumers where to go next once a deadline passed (once per complaint), and end mediation that
    ran out of time. Returns how many complaints were handled."""
    done = 0
    while True:
        now = clock.now()
        with uows() as uow:
            due = uow.complaints.due_for_sweep(now, batch)
            if not due:
                return done
            notifier = Notifier(uow, clock)
            for brand_id, cid in due:
                c = uow.complaints.get(brand_id, cid, for_update=True)
                if c is None or not c.open:
                    continue
                missed = c.overdue(now)
                if c.status is Status.MEDIATION and "mediation" in missed:
                    move = c.move(Status.MEDIATION_ENDED, Side.SYSTEM, now)
                    uow.complaints.add_event(c.id, now, "system:complaints", Side.SYSTEM.value, "move",
                                             from_status=move[0].value, to_status=move[1].value,
                                             note="no agreement within the mediation period")
                if c.escalated_at is None or c.status is Status.MEDIATION_ENDED:
                    c.escalated_at = c.escalated_at or now
                    uow.complaints.add_event(c.id, now, "system:complaints", Side.SYSTEM.value, "deadline_missed",
                                             note=", ".join(missed))
                    steps = next_steps(c, now)
                    notifier.customer(brand_id, c.customer_id, "complaint_overdue", number=c.number,
                                      missed=", ".join(missed), where=steps[0]["name_zh"] if steps else "12315",
                                      where_en=steps[0]["name_en"] if steps else "12315")
                    notifier.staff(brand_id, "complaint_overdue_staff", number=c.number, missed=", ".join(missed))
                    notifier.webhook(brand_id, "complaint.overdue", {"number": c.number, "missed": missed})
                    evidence.record(uow, brand_id, "complaint.overdue", f"complaint:{c.number}", c.customer_id,
                                    {"missed": missed, "status": c.status.value}, clock)
                done += 1
            notifier.flush()
            uow.commit()


# --- export and statistics ---------------------------------------------------------------------------------------

def export_case(uows: UowFactory, actor: Actor, complaint_id: int, clock: Clock) -> dict[str, Any]:
    """A filing-ready case: the fields a regulator's form asks for, the timeline, deadlines met or missed,
    attachments with their hashes and the evidence-chain entries, and where to file next."""
    with uows(readonly=True) as uow:
        c = _access(uow, actor, complaint_id)
        view = _view(uow, actor, c, clock, full=True)
        brand = uow.brands.get(c.brand_id)
        outlet = uow.outlets.by_ids(c.brand_id, [c.outlet_id]).get(c.outlet_id) if c.outlet_id else None
        ticket = uow.tickets.get(c.brand_id, c.ticket_id) if c.ticket_id else None
        chain = [e for e in uow.evidence.entries(c.brand_id, customer_id=c.customer_id)
                 if e.subject == f"complaint:{c.number}"]
    return {
        "format": "fairdesk-complaint-case/1",
        "generated_at": clock.now().astimezone(clock.tz).isoformat(),
        "form": {  # the 12315 filing form's fields (words for them: fairdesk.words.case_rows)
            "complainant": c.complainant, "phone": display_phone(c.contact_phone),
            "business": (brand.legal_name or brand.name) + (f" · {outlet.name}" if outlet else ""),
            "business_address": brand.registered_address or (outlet.address if outlet else ""),
            "outlet_address": outlet.address if outlet else "",
            "category": c.category.value, "request": c.request, "facts": c.facts,
            "reference": ticket.number if ticket else "", "number": c.number, "filed": view["received_at"],
        },
        "complaint": view,
        "evidence_chain": [{"seq": e.seq, "at": e.at, "kind": e.kind, "hash": e.hash} for e in chain],
        "where_to_file": view["next_steps"] or _next_steps_table()["body"][:1],
    }


def _share(n: int, d: int) -> float | None:
    return round(n / d, 3) if d else None


def statistics_for(uows: UowFactory, brand_code: str, clock: Clock, days: int = 365) -> dict[str, Any]:
    """Public: complaints by category and timeliness over the last ``days``, the green channel apart."""
    now = clock.now()
    with uows(readonly=True) as uow:
        brand = uow.brands.by_code(brand_code)
        if brand is None:
            raise NotFound("brand.not_found", f"no brand {brand_code!r}")
        rows = uow.complaints.stats_rows(brand.id, now - timedelta(days=days))
        terms = terms_of(uow, brand.id)

    def figures(rs: Sequence[Any]) -> dict[str, Any]:
        decided = [r for r in rs if r.accepted_at is not None or r.status == Status.REJECTED.value]
        answered = [r for r in rs if r.first_response_at is not None]
        due = [r for r in rs if r.first_response_at is not None or r.due_first_response <= now]
        ended = [r for r in rs if r.status not in {s.value for s in OPEN}]
        hours = [(r.first_response_at - r.received_at).total_seconds() / 3600 for r in answered]
        return {"received": len(rs), "open": len(rs) - len(ended),
                "accepted_on_time": _share(sum(1 for r in decided if (r.accepted_at or r.ended_at)
                                               <= r.due_acceptance), len(decided)),
                "responded_on_time": _share(sum(1 for r in due if r.first_response_at is not None
                                                and r.first_response_at <= r.due_first_response), len(due)),
                "median_first_response_h": round(statistics.median(hours), 1) if hours else None,
                "consumer_confirmed": _share(sum(1 for r in ended if r.consumer_confirmed), len(ended))}

    by_cat: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_cat[r.category].append(r)
    return {"brand": {"code": brand.code, "name": brand.name}, "days": days, "all": figures(rows),
            "green_channel": figures([r for r in rows if r.green]),
            "standard": figures([r for r in rows if not r.green]),
            "by_category": {c.value: figures(by_cat.get(c.value, [])) for c in Category},
            "terms": {"standard": terms[False].as_dict(), "green": terms[True].as_dict()}}
