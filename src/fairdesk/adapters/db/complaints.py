"""Repositories for complaints (with their events, attachments and groups) and for the service-credit score."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from fairdesk.adapters.db import files
from fairdesk.adapters.db import tables as t
from fairdesk.adapters.db.base import CoreRepository
from fairdesk.domain.complaints import ENDED, OPEN, Complaint, Status, Terms

__all__ = ["ComplaintRepository", "CreditRepository"]

#: A complaint is a repeat when the same consumer complained about the same brand within this many days before.
REPEAT_DAYS = 90


class ComplaintRepository(CoreRepository):
    # --- terms ---
    def terms(self, brand_id: int) -> dict[bool, Terms]:
        c = t.complaint_terms.c
        return {r.green: Terms(r.acceptance_wd, r.first_response_h, r.mediation_wd)
                for r in self._x(sa.select(t.complaint_terms).where(c.brand_id == brand_id))}

    def set_terms(self, brand_id: int, green: bool, terms: Terms) -> None:
        c = t.complaint_terms.c
        self._x(sa.delete(t.complaint_terms).where(c.brand_id == brand_id, c.green == green))
        self._x(sa.insert(t.complaint_terms).values(brand_id=brand_id, green=green, **terms.as_dict()))

    # --- complaints ---
    def add(self, complaint: Complaint) -> Complaint:
        self.session.add(complaint)
        self.session.flush()
        return complaint

    def get(self, brand_id: int, complaint_id: int, *, for_update: bool = False) -> Complaint | None:
        q = sa.select(Complaint).where(t.complaints.c.id == complaint_id, t.complaints.c.brand_id == brand_id)
        if for_update:
            q = q.with_for_update()
        return self.session.scalars(q).one_or_none()

    def by_ids(self, brand_id: int, ids: Iterable[int], *, for_update: bool = False) -> list[Complaint]:
        q = sa.select(Complaint).where(t.complaints.c.id.in_(list(ids)), t.complaints.c.brand_id == brand_id)
        if for_update:
            q = q.with_for_update()
        return list(self.session.scalars(q.order_by(t.complaints.c.id)))

    def listing(self, brand_id: int, *, statuses: Iterable[Status] | None = None, customer_id: int | None = None,
                category: str | None = None, green: bool | None = None, outlet_id: int | None = None,
                limit: int = 1000) -> list[Complaint]:
        c = t.complaints.c
        q = sa.select(Complaint).where(c.brand_id == brand_id)
        if statuses is not None:
            q = q.where(c.status.in_([s.value for s in statuses]))
        if customer_id is not None:
            q = q.where(c.customer_id == customer_id)
        if category is not None:
            q = q.where(c.category == category)
        if green is not None:
            q = q.where(c.green == green)
        if outlet_id is not None:
            q = q.where(c.outlet_id == outlet_id)
        return list(self.session.scalars(q.order_by(c.id.desc()).limit(limit)))

    def queue(self, brand_id: int, *, customer_id: int | None = None, category: str | None = None,
              green: bool | None = None, limit: int = 100) -> list[Complaint]:
        """Open complaints in handling order, sorted by the database: the green channel first, then the nearest
        running deadline (domain.complaints.queue_key states the same rule), then the oldest."""
        c = t.complaints.c
        unanswered = c.first_response_at.is_(None)
        received, mediation = c.status == Status.RECEIVED.value, c.status == Status.MEDIATION.value
        next_due = sa.case(
            (sa.and_(received, unanswered, c.due_first_response < c.due_acceptance), c.due_first_response),
            (received, c.due_acceptance),
            (sa.and_(mediation, unanswered, c.due_first_response < c.due_mediation), c.due_first_response),
            (mediation, c.due_mediation),
            (unanswered, c.due_first_response),
            else_=sa.null())
        q = sa.select(Complaint).where(c.brand_id == brand_id, c.status.in_([s.value for s in OPEN]))
        if customer_id is not None:
            q = q.where(c.customer_id == customer_id)
        if category is not None:
            q = q.where(c.category == category)
        if green is not None:
            q = q.where(c.green == green)
        q = q.order_by(c.green.desc(), next_due.is_(None), next_due, c.received_at, c.id).limit(limit)
        return list(self.session.scalars(q))

    def add_event(self, complaint_id: int, at: datetime, actor: str, side: str, kind: str, *,
                  from_status: str | None = None, to_status: str | None = None, note: str = "") -> None:
        self._x(sa.insert(t.complaint_events).values(complaint_id=complaint_id, at=at, actor=actor, side=side,
                                                     kind=kind, from_status=from_status, to_status=to_status,
                                                     note=note))

    def events(self, complaint_id: int) -> Sequence[Any]:
        c = t.complaint_events.c
        return self._x(sa.select(t.complaint_events).where(c.complaint_id == complaint_id).order_by(c.id)).all()

    def due_for_sweep(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(brand_id, id) of open complaints with a deadline passed that were not yet escalated, or whose
        mediation period ran out."""
        c = t.complaints.c
        passed = sa.or_(
            sa.and_(c.status == Status.RECEIVED.value, c.due_acceptance <= now),
            sa.and_(c.first_response_at.is_(None), c.due_first_response <= now),
            sa.and_(c.status == Status.MEDIATION.value, c.due_mediation <= now))
        q = (sa.select(c.brand_id, c.id).where(c.status.in_([s.value for s in OPEN]),
                                              sa.or_(c.escalated_at.is_(None),
                                                     sa.and_(c.status == Status.MEDIATION.value,
                                                             c.due_mediation <= now)), passed)
             .order_by(c.id).limit(limit))
        return [(r.brand_id, r.id) for r in self._x(q)]

    # --- attachments ---
    def add_attachment(self, complaint_id: int, filename: str, content_type: str, data: bytes, sha256: str,
                       at: datetime, by: str) -> int:
        return files.add(self._x, t.complaint_attachments, complaint_id, filename, content_type, data, sha256, at, by)

    def attachments(self, complaint_id: int) -> Sequence[Any]:
        return files.listing(self._x, t.complaint_attachments, complaint_id)

    def attachment(self, complaint_id: int, attachment_id: int) -> Any:
        return files.one(self._x, t.complaint_attachments, complaint_id, attachment_id)

    # --- groups ---
    def open_ungrouped(self, brand_id: int) -> Sequence[Any]:
        c = t.complaints.c
        return self._x(sa.select(c.id, c.category, c.customer_id, c.request, c.facts).where(
            c.brand_id == brand_id, c.group_id.is_(None), c.status.in_([s.value for s in OPEN]))
            .order_by(c.id)).all()

    def add_group(self, brand_id: int, category: str, title: str, at: datetime, by: str) -> int:
        return int(self._x(sa.insert(t.complaint_groups).values(
            brand_id=brand_id, category=category, title=title, created_at=at, created_by=by)
            .returning(t.complaint_groups.c.id)).scalar_one())

    def group(self, brand_id: int, group_id: int) -> Any:
        c = t.complaint_groups.c
        return self._x(sa.select(t.complaint_groups).where(c.id == group_id, c.brand_id == brand_id)).first()

    def invite(self, group_id: int, complaint_ids: Iterable[int], at: datetime) -> None:
        self._x(sa.insert(t.complaint_group_members), [
            {"group_id": group_id, "complaint_id": cid, "invited_at": at, "representative": False}
            for cid in complaint_ids])

    def members(self, group_id: int) -> Sequence[Any]:
        m, c = t.complaint_group_members.c, t.complaints.c
        return self._x(sa.select(m.complaint_id, m.invited_at, m.consented_at, m.declined_at, m.representative,
                                 c.customer_id, c.number, c.status)
                       .join(t.complaints, c.id == m.complaint_id)
                       .where(m.group_id == group_id).order_by(m.complaint_id)).all()

    def pending_invitation(self, complaint_id: int) -> Sequence[Any]:
        m = t.complaint_group_members.c
        return self._x(sa.select(m.group_id).where(m.complaint_id == complaint_id, m.consented_at.is_(None),
                                                   m.declined_at.is_(None))).all()

    def answer_invitation(self, group_id: int, complaint_id: int, at: datetime, *, consent: bool,
                          representative: bool) -> bool:
        m = t.complaint_group_members.c
        values = {"consented_at": at, "representative": representative} if consent else {"declined_at": at}
        done = self._x(sa.update(t.complaint_group_members).where(
            m.group_id == group_id, m.complaint_id == complaint_id, m.consented_at.is_(None),
            m.declined_at.is_(None)).values(**values))
        return bool(done.rowcount)

    # --- published statistics ---
    def stats_rows(self, brand_id: int, since: datetime) -> Sequence[Any]:
        c = t.complaints.c
        return self._x(sa.select(c.category, c.green, c.status, c.received_at, c.accepted_at, c.due_acceptance,
                                 c.first_response_at, c.due_first_response, c.consumer_confirmed, c.ended_at)
                       .where(c.brand_id == brand_id, c.received_at >= since)).all()


    def running_deadlines(self, brand_id: int | None, now: datetime) -> Sequence[Any]:
        """Complaints with a working-day deadline still running: acceptance not yet decided, or mediation
        not yet ended, and the deadline not yet passed (a met or missed deadline is never recomputed)."""
        c = t.complaints.c
        q = sa.select(c.id, c.brand_id, c.number, c.status, c.received_at, c.accepted_at, c.due_acceptance,
                      c.due_mediation).where(sa.or_(
                          sa.and_(c.status == Status.RECEIVED.value, c.due_acceptance > now),
                          sa.and_(c.status.in_([Status.ACCEPTED.value, Status.MEDIATION.value]),
                                  c.due_mediation > now)))
        if brand_id is not None:
            q = q.where(c.brand_id == brand_id)
        return self._x(q.order_by(c.id)).all()

    def set_deadline(self, complaint_id: int, name: str, due: datetime) -> None:
        column = {"acceptance": "due_acceptance", "mediation": "due_mediation"}[name]
        self._x(sa.update(t.complaints).where(t.complaints.c.id == complaint_id).values({column: due}))

class CreditRepository(CoreRepository):
    """The counts behind a score, for every brand and outlet at once (the priors need the platform's totals)."""

    def surveys(self, since: datetime, until: datetime) -> Sequence[Any]:
        c = t.surveys.c
        return self._x(sa.select(
            c.brand_id, c.outlet_id, sa.func.count(c.csat).label("ratings"),
            sa.func.coalesce(sa.func.sum(c.csat), 0).label("csat_sum"),
            sa.func.coalesce(sa.func.sum(c.csat * c.csat), 0).label("csat_sq"),
            sa.func.count(c.nps).label("nps_answers"),
            sa.func.sum(sa.case((c.nps >= 9, 1), else_=0)).label("promoters"),
            sa.func.sum(sa.case((c.nps <= 6, 1), else_=0)).label("detractors"))
            .where(c.answered_at >= since, c.answered_at < until, c.csat.is_not(None))
            .group_by(c.brand_id, c.outlet_id)).all()

    def tickets(self, since: datetime, until: datetime) -> Sequence[Any]:
        c = t.tickets.c
        return self._x(sa.select(c.brand_id, c.outlet_id, sa.func.count().label("tickets"))
                       .where(c.created_at >= since, c.created_at < until)
                       .group_by(c.brand_id, c.outlet_id)).all()

    def complaints(self, since: datetime, until: datetime) -> Sequence[Any]:
        c = t.complaints.c
        due = sa.or_(c.first_response_at.is_not(None), c.due_first_response <= until)
        on_time = sa.and_(c.first_response_at.is_not(None), c.first_response_at <= c.due_first_response)
        ended = c.status.in_([s.value for s in ENDED])
        n = sa.func.sum
        return self._x(sa.select(
            c.brand_id, c.outlet_id, sa.func.count().label("complaints"),
            n(sa.case((due, 1), else_=0)).label("response_due"), n(sa.case((on_time, 1), else_=0)).label("on_time"),
            n(sa.case((ended, 1), else_=0)).label("ended"),
            n(sa.case((sa.and_(ended, c.consumer_confirmed.is_(True)), 1), else_=0)).label("confirmed"))
            .where(c.received_at >= since, c.received_at < until).group_by(c.brand_id, c.outlet_id)).all()

    def repeats(self, since: datetime, until: datetime) -> Sequence[Any]:
        """Per (brand, outlet): complaints in the window from a consumer whose previous complaint about the same
        brand came at most REPEAT_DAYS before (the previous one by a window function, the gap in days by each
        database's own date arithmetic)."""
        c = t.complaints.c
        prev = sa.func.lag(c.received_at).over(partition_by=(c.brand_id, c.customer_id),
                                              order_by=(c.received_at, c.id)).label("prev")
        inner = (sa.select(c.brand_id, c.outlet_id, c.received_at, prev)
                 .where(c.received_at >= since - timedelta(days=REPEAT_DAYS), c.received_at < until).subquery())
        i = inner.c
        if self._pg:
            gap = sa.func.extract("epoch", i.received_at - i.prev) / 86400
        else:
            gap = sa.func.julianday(i.received_at) - sa.func.julianday(i.prev)
        return self._x(sa.select(i.brand_id, i.outlet_id, sa.func.count().label("repeat"))
                       .where(i.received_at >= since, i.prev.is_not(None), gap <= REPEAT_DAYS)
                       .group_by(i.brand_id, i.outlet_id)).all()

    def plan_changes(self, since: datetime, until: datetime) -> Sequence[Any]:
        c = t.plan_changes.c
        return self._x(sa.select(c.brand_id, c.kind, c.submitted_at, c.effective_at, c.steps)
                       .where(c.submitted_at >= since, c.submitted_at < until)).all()

    # --- the records behind a figure, for auditors ---
    def survey_records(self, brand_id: int, outlet_id: int | None, since: datetime, until: datetime) -> Sequence[Any]:
        c = t.surveys.c
        q = sa.select(c.id, c.ticket_id, c.outlet_id, c.answered_at, c.csat, c.nps).where(
            c.brand_id == brand_id, c.answered_at >= since, c.answered_at < until, c.csat.is_not(None))
        if outlet_id is not None:
            q = q.where(c.outlet_id == outlet_id)
        return self._x(q.order_by(c.id)).all()

    def complaint_records(self, brand_id: int, outlet_id: int | None, since: datetime,
                          until: datetime) -> Sequence[Any]:
        c = t.complaints.c
        q = sa.select(c.id, c.number, c.outlet_id, c.category, c.status, c.received_at, c.due_first_response,
                      c.first_response_at, c.consumer_confirmed, c.customer_id).where(
            c.brand_id == brand_id, c.received_at >= since, c.received_at < until)
        if outlet_id is not None:
            q = q.where(c.outlet_id == outlet_id)
        return self._x(q.order_by(c.id)).all()

    # --- snapshots ---
    def save_period(self, period: str, rows: Sequence[dict[str, Any]]) -> None:
        """The month's scores become ``rows`` (brand_id, scope and the figures), replacing that month's."""
        self._x(sa.delete(t.credit_scores).where(t.credit_scores.c.period == period))
        if rows:
            self._x(sa.insert(t.credit_scores), [{"period": period, **r} for r in rows])

    def history(self, brand_id: int, scope: str) -> Sequence[Any]:
        c = t.credit_scores.c
        return self._x(sa.select(t.credit_scores).where(c.brand_id == brand_id, c.scope == scope)
                       .order_by(c.period)).all()

    def latest_for_brand(self, brand_id: int) -> Sequence[Any]:
        """The newest snapshot of the brand and of each of its outlets."""
        c = t.credit_scores.c
        newest = (sa.select(c.scope, sa.func.max(c.period).label("period")).where(c.brand_id == brand_id)
                  .group_by(c.scope).subquery())
        return self._x(sa.select(t.credit_scores).join(newest, sa.and_(c.scope == newest.c.scope,
                                                                        c.period == newest.c.period))
                       .where(c.brand_id == brand_id).order_by(c.scope)).all()
