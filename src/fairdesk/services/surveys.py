"""Satisfaction surveys: one per resolved request, sent on the customer's channel with a one-time link;
answers (CSAT 1-5, NPS 0-10, a comment, the technician's rating) feed reports per brand, outlet, technician,
product line and month; a low score opens a follow-up task for a manager.

Report figures, as published: CSAT = mean score and the share of 4-5 answers; NPS = % promoters (9-10)
minus % detractors (0-6); response rate = answered / sent.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fairdesk.domain.errors import Conflict, Gone, InvalidInput, NotFound
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.text import clean_text
from fairdesk.domain.tickets import Channel, Ticket
from fairdesk.services import evidence
from fairdesk.services.access import access_ticket, require_role
from fairdesk.services.clock import Clock
from fairdesk.services.notify import Notifier
from fairdesk.services.ports import UnitOfWork

__all__ = [
    "GROUPS",
    "LOW_CSAT",
    "LOW_NPS",
    "Answer",
    "answer_for_ticket",
    "answer_survey",
    "finish_task",
    "list_tasks",
    "open_survey",
    "pending_for_ticket",
    "report",
    "report_csv",
    "start_survey",
]

VALID_DAYS = 14
#: A score at or below these opens a follow-up task for a manager.
LOW_CSAT, LOW_NPS = 2, 4
GROUPS = ("brand", "outlet", "technician", "product_line")
MAX_COMMENT = 2000


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_survey(uow: UnitOfWork, ticket: Ticket, clock: Clock, notifier: Notifier, public_url: str) -> str | None:
    """Create the ticket's survey and queue its invitation (in the caller's transaction); None when the ticket
    already had one (a reopened and re-resolved request is surveyed once)."""
    if uow.surveys.for_ticket(ticket.id) is not None:
        return None
    now = clock.now()
    token = secrets.token_urlsafe(24)
    product_line = None
    if ticket.unit_id is not None:
        unit = uow.units.get(ticket.brand_id, ticket.unit_id)
        product = uow.products.get(ticket.brand_id, unit.product_id) if unit else None
        product_line = product.product_line if product else None
    expires = now + timedelta(days=VALID_DAYS)
    uow.surveys.add(brand_id=ticket.brand_id, ticket_id=ticket.id, customer_id=ticket.customer_id,
                    outlet_id=ticket.outlet_id, technician_id=ticket.technician_id, product_line=product_line,
                    period=now.astimezone(clock.tz).strftime("%Y-%m"), token_hash=_hash(token), sent_at=now,
                    expires_at=expires)
    notifier.customer(ticket.brand_id, ticket.customer_id, "survey_invite",
                      prefer_email=ticket.channel is not Channel.HOTLINE, number=ticket.number,
                      link=f"{public_url}/s/{token}", expires=expires.astimezone(clock.tz).strftime("%Y-%m-%d"))
    return token


def _usable(uow: UnitOfWork, token: str, now: datetime, *, for_update: bool = False) -> Any:
    row = uow.surveys.by_token_hash(_hash(token), for_update=for_update) if 0 < len(token) <= 100 else None
    if row is None:
        raise NotFound("survey.not_found", "this survey link is not known")
    return _open(row, now)


def _open(row: Any, now: datetime) -> Any:
    if row.answered_at is not None:
        raise Gone("survey.used", "this survey was already answered; each link works once")
    if row.expires_at <= now:
        raise Gone("survey.expired", f"this survey link expired after {VALID_DAYS} days")
    return row


def open_survey(uow: UnitOfWork, token: str, clock: Clock) -> dict[str, Any]:
    """What the survey page shows: the request it is about, whether a technician can be rated."""
    with uow:
        row = _usable(uow, token, clock.now())
        ticket = uow.tickets.get(row.brand_id, row.ticket_id)
        return _view(uow, ticket, row, clock)


def _view(uow: UnitOfWork, ticket: Any, row: Any, clock: Clock) -> dict[str, Any]:
    """The survey page's facts: the request, the brand, and the technician to rate, by name."""
    brand = uow.brands.get(ticket.brand_id)
    technician = (uow.technicians.names([row.technician_id]).get(row.technician_id, ("", ""))[1]
                  if row.technician_id is not None else "")
    return {"number": ticket.number, "subject": ticket.subject, "brand": brand.name,
            "rate_technician": row.technician_id is not None, "technician": technician,
            "expires_at": row.expires_at.astimezone(clock.tz).isoformat()}


@dataclass(frozen=True)
class Answer:
    csat: int
    nps: int | None = None
    technician_rating: int | None = None
    comment: str = ""

    def validate(self) -> None:
        for name, value, low, high in (("csat", self.csat, 1, 5), ("nps", self.nps, 0, 10),
                                       ("technician_rating", self.technician_rating, 1, 5)):
            if value is None and name != "csat":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise InvalidInput("survey.score", f"{name} is a whole number from {low} to {high}", field=name)


def answer_survey(uow: UnitOfWork, token: str, answer: Answer, clock: Clock, public_url: str = "") -> dict[str, Any]:
    """Store the answers once; a low score opens a follow-up task and tells the managers."""
    answer.validate()
    with uow:
        return _answer(uow, _usable(uow, token, clock.now(), for_update=True), answer, clock, public_url)


def pending_for_ticket(uow: UnitOfWork, actor: Actor, ticket_id: int, clock: Clock) -> dict[str, Any] | None:
    """The customer's own survey of this request while it can still be answered (their request page offers it
    beside the SMS link); None otherwise."""
    with uow:
        ticket = access_ticket(uow, actor, ticket_id)
        row = uow.surveys.for_ticket(ticket.id) if actor.is_customer else None
        if row is None or row.answered_at is not None or row.expires_at <= clock.now():
            return None
        return _view(uow, ticket, row, clock)


def answer_for_ticket(uow: UnitOfWork, actor: Actor, ticket_id: int, answer: Answer, clock: Clock,
                      public_url: str = "") -> dict[str, Any]:
    """The same survey answered by the signed-in customer from their request page; once, like the link."""
    answer.validate()
    with uow:
        ticket = access_ticket(uow, actor, ticket_id)
        row = uow.surveys.for_ticket(ticket.id) if actor.is_customer else None
        if row is None:
            raise NotFound("survey.not_found", "this request has no survey")
        return _answer(uow, _open(row, clock.now()), answer, clock, public_url)


def _answer(uow: UnitOfWork, row: Any, answer: Answer, clock: Clock, public_url: str) -> dict[str, Any]:
    comment = clean_text(answer.comment, "comment", MAX_COMMENT, required=False)
    now = clock.now()
    if answer.technician_rating is not None and row.technician_id is None:
        raise InvalidInput("survey.no_technician", "no technician visited on this request",
                           field="technician_rating")
    if not uow.surveys.answer(row.id, now, answer.csat, answer.nps, answer.technician_rating, comment):
        raise Gone("survey.used", "this survey was already answered; each link works once")
    ticket = uow.tickets.get(row.brand_id, row.ticket_id)
    notifier = Notifier(uow, clock)
    data = {"ticket_id": ticket.id, "number": ticket.number, "csat": answer.csat, "nps": answer.nps,
            "technician_rating": answer.technician_rating, "comment": comment}
    notifier.webhook(row.brand_id, "survey.answered", data)
    task_id = None
    if answer.csat <= LOW_CSAT or (answer.nps is not None and answer.nps <= LOW_NPS):
        task_id = uow.tasks.add(row.brand_id, "survey.follow_up",
                                f"回访 {ticket.number}：满意度 {answer.csat}/5", now, ticket_id=ticket.id,
                                survey_id=row.id)
        notifier.staff(row.brand_id, "survey_low_score", number=ticket.number, csat=answer.csat, nps=answer.nps,
                       comment=comment, link=f"{public_url}/tickets/{ticket.id}")
        notifier.webhook(row.brand_id, "survey.low_score", {**data, "task_id": task_id})
    notifier.flush()
    evidence.record(uow, row.brand_id, EvidenceKind.SURVEY_ANSWERED, f"ticket:{ticket.id}", row.customer_id,
                    {"number": ticket.number, "csat": answer.csat, "nps": answer.nps,
                     "technician_rating": answer.technician_rating}, clock)
    uow.commit()
    return {"ticket": ticket.number, "follow_up_task": task_id}


def _period(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise InvalidInput("input.invalid", f"{what} is a month like 2026-11", field=what)
    return text


def report(uow: UnitOfWork, actor: Actor, group: str = "brand", period_from: str | None = None,
           period_to: str | None = None) -> list[dict[str, Any]]:
    """CSAT, NPS and response rate per ``group`` and month."""
    require_role(actor, Role.MANAGER, Role.AUDITOR, what="read survey reports")
    if group not in GROUPS:
        raise InvalidInput("input.invalid", f"group is one of {', '.join(GROUPS)}", field="group")
    with uow:
        rows = uow.surveys.report(actor.brand_id, group, _period(period_from, "from"), _period(period_to, "to"))
    out = []
    for r in rows:
        answered = int(r.answered)
        nps_n = int(r.nps_n)
        out.append({
            "group": group, "key": r.key, "period": r.period, "sent": int(r.sent), "answered": answered,
            "response_rate": round(answered / r.sent, 4) if r.sent else None,
            "csat_mean": round(int(r.csat_sum) / answered, 2) if answered else None,
            "csat_satisfied": round(int(r.satisfied) / answered, 4) if answered else None,
            "nps": round(100 * (int(r.promoters) - int(r.detractors)) / nps_n, 1) if nps_n else None,
            "nps_answers": nps_n,
            "technician_mean": round(int(r.tech_sum) / int(r.tech_n), 2) if r.tech_n else None,
        })
    return out


def report_csv(rows: list[dict[str, Any]]) -> str:
    """The report as CSV (UTF-8 with a BOM, so spreadsheet programs open the Chinese correctly)."""
    buf = io.StringIO()
    fields = ["group", "key", "period", "sent", "answered", "response_rate", "csat_mean", "csat_satisfied", "nps",
              "nps_answers", "technician_mean"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff" + buf.getvalue()


def list_tasks(uow: UnitOfWork, actor: Actor, status: str | None = "open", limit: int = 100) -> list[dict[str, Any]]:
    require_role(actor, Role.MANAGER, Role.AGENT, Role.AUDITOR, what="read follow-up tasks")
    if status not in (None, "open", "done"):
        raise InvalidInput("input.invalid", "status is open or done", field="status")
    with uow:
        return [dict(r._mapping) for r in uow.tasks.page(actor.brand_id, status, limit)]


def finish_task(uow: UnitOfWork, actor: Actor, task_id: int, note: str, clock: Clock) -> None:
    """A manager records what the follow-up found and did."""
    require_role(actor, Role.MANAGER, what="close follow-up tasks")
    note = clean_text(note, "note", MAX_COMMENT, required=True)
    with uow:
        if uow.tasks.get(actor.brand_id, task_id) is None:
            raise NotFound("task.not_found", f"no task {task_id}")
        if not uow.tasks.finish(task_id, clock.now(), actor.describe(), note):
            raise Conflict("task.done", "this task was already done")
        uow.commit()
