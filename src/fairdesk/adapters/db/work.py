"""Repositories for background work: SLA timers, the outbox and its delivery log, webhooks, periodic jobs,
surveys and follow-up tasks.

Claiming is the one place the two databases differ: PostgreSQL takes rows with ``FOR UPDATE SKIP LOCKED`` so
several workers share the load without waiting on each other; SQLite has one writer at a time (BEGIN
IMMEDIATE), so the plain select inside the write transaction is already exclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from fairdesk.adapters.db import tables as t
from fairdesk.adapters.db.base import CoreRepository

__all__ = [
    "JobRepository",
    "OutboxRepository",
    "RunRepository",
    "SlaTimerRepository",
    "SurveyRepository",
    "TaskRepository",
    "WebhookRepository",
]


class SlaTimerRepository(CoreRepository):
    def breaches_since(self, brand_id: int, since: datetime) -> dict[str, int]:
        """Tickets per clock whose target was missed (the 100 % step fired) since a moment."""
        c = t.sla_timers.c
        rows = self._x(sa.select(c.clock, sa.func.count(sa.distinct(c.ticket_id))).where(
            c.brand_id == brand_id, c.percent >= 100, c.fired_at >= since).group_by(c.clock))
        return {r[0]: int(r[1]) for r in rows}

    def replace_for_ticket(self, brand_id: int, ticket_id: int, rows: Sequence[dict[str, Any]], *,
                           new: bool = False) -> None:
        """The ticket's pending escalation steps become ``rows`` (clock, percent, action, to_user_id, due_at),
        leaving out any step that already fired. ``new``: the ticket was just created and has no steps yet."""
        c = t.sla_timers.c
        if new:
            if rows:
                self._x(sa.insert(t.sla_timers), [{"brand_id": brand_id, "ticket_id": ticket_id, **r} for r in rows])
            return
        self._x(sa.delete(t.sla_timers).where(c.ticket_id == ticket_id, c.fired_at.is_(None)))
        fired = {(r.clock, r.percent, r.action) for r in self._x(
            sa.select(c.clock, c.percent, c.action).where(c.ticket_id == ticket_id))}
        rows = [r for r in rows if (r["clock"], r["percent"], r["action"]) not in fired]
        if rows:
            self._x(sa.insert(t.sla_timers), [{"brand_id": brand_id, "ticket_id": ticket_id, **r} for r in rows])

    def fired(self, ids: Sequence[int], at: datetime) -> None:
        if ids:
            self._x(sa.update(t.sla_timers).where(t.sla_timers.c.id.in_(ids)).values(due_at=None, fired_at=at))

    def for_ticket(self, ticket_id: int) -> Sequence[Any]:
        c = t.sla_timers.c
        return self._x(sa.select(t.sla_timers).where(c.ticket_id == ticket_id).order_by(c.due_at)).all()

    def claim_due(self, now: datetime, limit: int) -> Sequence[Any]:
        """Due timers, oldest first, locked for this transaction (skipping rows another worker holds)."""
        c = t.sla_timers.c
        return self._x(self._claimable(sa.select(t.sla_timers).where(c.due_at <= now)
                                       .order_by(c.due_at).limit(limit))).all()

    def delete(self, ids: Sequence[int]) -> None:
        if ids:
            self._x(sa.delete(t.sla_timers).where(t.sla_timers.c.id.in_(ids)))

    def reschedule(self, timer_id: int, due_at: datetime) -> None:
        self._x(sa.update(t.sla_timers).where(t.sla_timers.c.id == timer_id).values(due_at=due_at))


class OutboxRepository(CoreRepository):
    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._x(sa.insert(t.outbox), list(rows))

    def claim(self, now: datetime, lease_until: datetime, limit: int) -> Sequence[Any]:
        """Take up to ``limit`` due messages for delivery: their lease runs to ``lease_until`` and their
        attempt count goes up now, so a worker that dies mid-delivery leaves them to be retried."""
        c = t.outbox.c
        due = self._x(self._claimable(
            sa.select(c.id).where(c.status == "pending", c.next_attempt_at <= now,
                                  sa.or_(c.locked_until.is_(None), c.locked_until <= now))
            .order_by(c.next_attempt_at, c.id).limit(limit))).scalars().all()
        if not due:
            return []
        self._x(sa.update(t.outbox).where(c.id.in_(due)).values(locked_until=lease_until, attempts=c.attempts + 1))
        return self._x(sa.select(t.outbox).where(c.id.in_(due)).order_by(c.id)).all()

    def mark_sent(self, outbox_id: int, at: datetime) -> None:
        self._x(sa.update(t.outbox).where(t.outbox.c.id == outbox_id)
                .values(status="sent", sent_at=at, locked_until=None, last_error=""))

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None) -> None:
        """Back to pending for ``retry_at``, or dead when there is no retry left."""
        values: dict[str, Any] = {"locked_until": None, "last_error": error[:500]}
        values.update({"status": "dead"} if retry_at is None else {"next_attempt_at": retry_at})
        self._x(sa.update(t.outbox).where(t.outbox.c.id == outbox_id).values(values))

    def log(self, outbox_id: int, attempt: int, at: datetime, ok: bool, status_code: int | None, detail: str,
            duration_ms: int) -> None:
        self._x(sa.insert(t.deliveries).values(outbox_id=outbox_id, attempt=attempt, at=at, ok=ok,
                                               status_code=status_code, detail=detail[:500],
                                               duration_ms=duration_ms))

    def page(self, brand_id: int, *, status: str | None = None, webhook_id: int | None = None,
             limit: int = 100) -> Sequence[Any]:
        c = t.outbox.c
        q = sa.select(t.outbox).where(c.brand_id == brand_id)
        if status is not None:
            q = q.where(c.status == status)
        if webhook_id is not None:
            q = q.where(c.webhook_id == webhook_id)
        return self._x(q.order_by(c.id.desc()).limit(limit)).all()

    def deliveries(self, outbox_ids: Sequence[int]) -> Sequence[Any]:
        d = t.deliveries.c
        return self._x(sa.select(t.deliveries).where(d.outbox_id.in_(outbox_ids)).order_by(d.id)).all()


class WebhookRepository(CoreRepository):
    def add(self, brand_id: int, url: str, secret: str, events: str, at: datetime) -> int:
        return int(self._x(sa.insert(t.webhooks).values(brand_id=brand_id, url=url, secret=secret, events=events,
                                                         active=True, created_at=at)
                           .returning(t.webhooks.c.id)).scalar_one())

    def get(self, brand_id: int, webhook_id: int) -> Any:
        c = t.webhooks.c
        return self._x(sa.select(t.webhooks).where(c.id == webhook_id, c.brand_id == brand_id)).first()

    def by_id(self, webhook_id: int) -> Any:
        return self._x(sa.select(t.webhooks).where(t.webhooks.c.id == webhook_id)).first()

    def for_brand(self, brand_id: int, *, active_only: bool = False) -> Sequence[Any]:
        c = t.webhooks.c
        q = sa.select(t.webhooks).where(c.brand_id == brand_id)
        if active_only:
            q = q.where(c.active.is_(True))
        return self._x(q.order_by(c.id)).all()

    def set_active(self, webhook_id: int, active: bool) -> None:
        self._x(sa.update(t.webhooks).where(t.webhooks.c.id == webhook_id).values(active=active))


class JobRepository(CoreRepository):
    def claim(self, name: str, now: datetime, next_run_at: datetime) -> bool:
        """Whether this worker runs the periodic job ``name`` now: an atomic compare-and-set on its row, so
        of several workers exactly one wins each run."""
        c = t.periodic_jobs.c
        done = self._x(sa.update(t.periodic_jobs).where(c.name == name, c.next_run_at <= now)
                       .values(next_run_at=next_run_at, last_run_at=now))
        if done.rowcount:
            return True
        exists = self._x(sa.select(c.name).where(c.name == name)).first()
        if exists is not None:
            return False
        self._x(sa.insert(t.periodic_jobs).values(name=name, next_run_at=next_run_at, last_run_at=now))
        return True

    def record(self, name: str, result: str) -> None:
        self._x(sa.update(t.periodic_jobs).where(t.periodic_jobs.c.name == name).values(last_result=result[:500]))


class SurveyRepository(CoreRepository):
    def add(self, **values: Any) -> int:
        return int(self._x(sa.insert(t.surveys).values(**values).returning(t.surveys.c.id)).scalar_one())

    def for_ticket(self, ticket_id: int) -> Any:
        return self._x(sa.select(t.surveys).where(t.surveys.c.ticket_id == ticket_id)).first()

    def by_token_hash(self, token_hash: str, *, for_update: bool = False) -> Any:
        q = sa.select(t.surveys).where(t.surveys.c.token_hash == token_hash)
        return self._x(q.with_for_update() if for_update and self._pg else q).first()

    def answer(self, survey_id: int, at: datetime, csat: int, nps: int | None, technician_rating: int | None,
               comment: str) -> bool:
        """Store the answers unless someone answered first (a link works once)."""
        c = t.surveys.c
        done = self._x(sa.update(t.surveys).where(c.id == survey_id, c.answered_at.is_(None)).values(
            answered_at=at, csat=csat, nps=nps, technician_rating=technician_rating, comment=comment))
        return bool(done.rowcount)

    def report(self, brand_id: int, group: str, period_from: str | None, period_to: str | None) -> Sequence[Any]:
        """Counts and sums per group and month, from which CSAT, NPS and the response rate follow."""
        c = t.surveys.c
        key = {"brand": sa.literal("all"), "outlet": c.outlet_id, "technician": c.technician_id,
               "product_line": c.product_line}[group]
        q = (sa.select(key.label("key"), c.period, sa.func.count().label("sent"),
                       sa.func.count(c.answered_at).label("answered"),
                       sa.func.sum(c.csat).label("csat_sum"),
                       sa.func.sum(sa.case((c.csat >= 4, 1), else_=0)).label("satisfied"),
                       sa.func.count(c.nps).label("nps_n"),
                       sa.func.sum(sa.case((c.nps >= 9, 1), else_=0)).label("promoters"),
                       sa.func.sum(sa.case((c.nps <= 6, 1), else_=0)).label("detractors"),
                       sa.func.count(c.technician_rating).label("tech_n"),
                       sa.func.sum(c.technician_rating).label("tech_sum"))
             .where(c.brand_id == brand_id).group_by(key, c.period).order_by(c.period, key))
        if period_from:
            q = q.where(c.period >= period_from)
        if period_to:
            q = q.where(c.period <= period_to)
        return self._x(q).all()


class TaskRepository(CoreRepository):
    def add(self, brand_id: int, kind: str, title: str, at: datetime, *, ticket_id: int | None = None,
            survey_id: int | None = None) -> int:
        return int(self._x(sa.insert(t.tasks).values(
            brand_id=brand_id, kind=kind, title=title[:200], status="open", created_at=at, ticket_id=ticket_id,
            survey_id=survey_id).returning(t.tasks.c.id)).scalar_one())

    def page(self, brand_id: int, status: str | None, limit: int) -> Sequence[Any]:
        c = t.tasks.c
        q = sa.select(t.tasks).where(c.brand_id == brand_id)
        if status:
            q = q.where(c.status == status)
        return self._x(q.order_by(c.id.desc()).limit(limit)).all()

    def get(self, brand_id: int, task_id: int) -> Any:
        c = t.tasks.c
        return self._x(sa.select(t.tasks).where(c.id == task_id, c.brand_id == brand_id)).first()

    def finish(self, task_id: int, at: datetime, by: str, note: str) -> bool:
        c = t.tasks.c
        done = self._x(sa.update(t.tasks).where(c.id == task_id, c.status == "open")
                       .values(status="done", done_at=at, done_by=by, note=note))
        return bool(done.rowcount)



class RunRepository(CoreRepository):
    """Long-running work started from a page: queued by the web process, claimed and run by a worker, its
    progress written in short transactions of its own so the page can read it while the work goes on."""

    _LIST = (t.runs.c.id, t.runs.c.brand_id, t.runs.c.user_id, t.runs.c.kind, t.runs.c.params, t.runs.c.status,
             t.runs.c.phase, t.runs.c.total, t.runs.c.done, t.runs.c.result, t.runs.c.output_name,
             t.runs.c.output_type, t.runs.c.error, t.runs.c.attempts, t.runs.c.created_at, t.runs.c.started_at,
             t.runs.c.finished_at)

    def add(self, brand_id: int, user_id: int, kind: str, params: str, data: bytes | None, at: datetime) -> int:
        return int(self._x(sa.insert(t.runs).values(
            brand_id=brand_id, user_id=user_id, kind=kind, params=params, input=data, status="queued",
            created_at=at).returning(t.runs.c.id)).scalar_one())

    def get(self, brand_id: int, run_id: int) -> Any:
        """The run without its input and output bytes."""
        c = t.runs.c
        return self._x(sa.select(*self._LIST).where(c.id == run_id, c.brand_id == brand_id)).first()

    def recent(self, brand_id: int, user_id: int | None, limit: int) -> Sequence[Any]:
        c = t.runs.c
        q = sa.select(*self._LIST).where(c.brand_id == brand_id)
        if user_id is not None:
            q = q.where(c.user_id == user_id)
        return self._x(q.order_by(c.id.desc()).limit(limit)).all()

    def claim(self, now: datetime, lease_until: datetime) -> Any:
        """The oldest queued run, or a running one whose worker's lease ran out (the worker died), taken by
        this worker with a lease; None when there is nothing to do."""
        c = t.runs.c
        row = self._x(self._claimable(sa.select(c.id).where(sa.or_(
            c.status == "queued", sa.and_(c.status == "running", c.lease_until < now)))
            .order_by(c.id).limit(1))).first()
        if row is None:
            return None
        self._x(sa.update(t.runs).where(c.id == row.id).values(
            status="running", started_at=now, lease_until=lease_until, attempts=c.attempts + 1, done=0))
        return self._x(sa.select(t.runs).where(c.id == row.id)).first()

    def progress(self, run_id: int, phase: str, done: int, total: int, lease_until: datetime) -> None:
        self._x(sa.update(t.runs).where(t.runs.c.id == run_id).values(
            phase=phase, done=done, total=total, lease_until=lease_until))

    def finish(self, run_id: int, status: str, at: datetime, *, result: str | None = None,
               output: bytes | None = None, output_name: str | None = None, output_type: str | None = None,
               error: str | None = None) -> None:
        """The run ends: its result or error kept, its uploaded input dropped."""
        self._x(sa.update(t.runs).where(t.runs.c.id == run_id).values(
            status=status, finished_at=at, lease_until=None, result=result, output=output, output_name=output_name,
            output_type=output_type, error=error[:500] if error else None, input=None))

    def latest_done(self, brand_id: int, kind: str) -> Any:
        c = t.runs.c
        return self._x(sa.select(c.id, c.result, c.finished_at).where(
            c.brand_id == brand_id, c.kind == kind, c.status == "done").order_by(c.id.desc()).limit(1)).first()

    def output(self, brand_id: int, run_id: int) -> Any:
        c = t.runs.c
        return self._x(sa.select(c.id, c.user_id, c.output, c.output_name, c.output_type).where(
            c.id == run_id, c.brand_id == brand_id, c.status == "done")).first()
