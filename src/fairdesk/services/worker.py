"""The background worker: fires due SLA steps, delivers the outbox with retries and backoff, runs periodic
jobs and the long-running work started from pages (services/runs.py). Any number of workers may run against
one database.

At least once: a message is claimed with a lease (its attempt counted) in one short transaction, sent with
no transaction open, and marked sent in another. A worker killed between sending and marking leaves the
lease to run out and the message to be sent again, with the same event id, for the receiver to drop.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from fairdesk.services import complaints, contact, credit, evidence, plans, runs, sla
from fairdesk.services.clock import Clock
from fairdesk.services.notify import Notifier
from fairdesk.services.ports import Delivery, Transport, UowFactory

__all__ = ["MAX_ATTEMPTS", "DeliveryRun", "Worker", "backoff", "deliver_due"]

log = structlog.get_logger("fairdesk.worker")

MAX_ATTEMPTS = 8
BASE_DELAY_S = 30
MAX_DELAY_S = 6 * 3600


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: 30 s doubling to at most 6 h, with ±20 % jitter so many
    failed messages do not all come back at once."""
    delay = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))
    return delay * (0.8 + 0.4 * (rng or random).random())


@dataclass
class DeliveryRun:
    sent: int = 0
    retried: int = 0
    dead: int = 0

    def total(self) -> int:
        return self.sent + self.retried + self.dead


def deliver_due(uows: UowFactory, clock: Clock, transports: Mapping[str, Transport], *, batch: int = 50,
                lease_s: int = 120, max_batches: int | None = None) -> DeliveryRun:
    """Deliver every due message, ``batch`` at a time."""
    run = DeliveryRun()
    batches = 0
    while max_batches is None or batches < max_batches:
        now = clock.now()
        with uows() as uow:
            rows = uow.outbox.claim(now, now + timedelta(seconds=lease_s), batch)
            secrets = {hook_id: getattr(uow.webhooks.by_id(hook_id), "secret", None)
                       for hook_id in {r.webhook_id for r in rows} - {None}}
            uow.commit()
        if not rows:
            return run
        batches += 1
        for row in rows:
            _deliver_one(uows, clock, transports, row, secrets.get(row.webhook_id), run)
        if len(rows) < batch:
            return run
    return run


def _deliver_one(uows: UowFactory, clock: Clock, transports: Mapping[str, Transport], row: Any,
                 secret: str | None, run: DeliveryRun) -> None:
    transport = transports.get(row.transport)
    started = time.perf_counter()
    if transport is None:
        result = Delivery(False, f"no {row.transport} transport is configured", permanent=True)
    else:
        try:
            result = transport.send(row, secret)
        except Exception as exc:  # a transport bug must not stop the other messages
            result = Delivery(False, f"{type(exc).__name__}: {exc}")
    took = int((time.perf_counter() - started) * 1000)
    now = clock.now()
    with uows() as uow:
        uow.outbox.log(row.id, row.attempts, now, result.ok, result.status_code, result.detail, took)
        if result.ok:
            uow.outbox.mark_sent(row.id, now)
            run.sent += 1
        elif result.permanent or row.attempts >= MAX_ATTEMPTS:
            uow.outbox.mark_failed(row.id, result.detail, None)
            run.dead += 1
        else:
            uow.outbox.mark_failed(row.id, result.detail, now + timedelta(seconds=backoff(row.attempts)))
            run.retried += 1
        uow.commit()
    log.info("outbox.delivery", id=row.id, transport=row.transport, kind=row.kind, ok=result.ok,
             attempt=row.attempts, ms=took)


def renewal_job(uows: UowFactory, clock: Clock, public_url: str) -> str:
    """Renew due subscriptions and send the renewal reminders that became due."""
    run = plans.run_renewals(uows, clock)
    sent = 0
    while True:
        with uows() as uow:
            pending = uow.plans.unsent_reminders(clock.now(), 200)
            if not pending:
                break
            notifier = Notifier(uow, clock)
            for r in pending:
                notifier.customer(r.brand_id, r.customer_id, "renewal_reminder", plan=r.plan_name,
                                  renews_on=r.for_period_end.astimezone(clock.tz).strftime("%Y-%m-%d"),
                                  price=f"{r.price:.2f}", link=f"{public_url}/my/plans")
            notifier.flush()
            uow.plans.mark_reminders_queued([r.id for r in pending], clock.now())
            uow.commit()
        sent += len(pending)
    return f"renewed {run.renewed}, ended {run.ended}, reminders queued {sent}"


def checkpoint_job(uows: UowFactory, clock: Clock, public_url: str) -> str:
    """Sign a checkpoint of every brand's evidence chain."""
    with uows(readonly=True) as uow:
        codes = [b.code for b in uow.brands.all()]
    for code in codes:
        evidence.checkpoint(uows, clock, code)
    return f"checkpointed {len(codes)} brands"


def complaints_job(uows: UowFactory, clock: Clock, public_url: str) -> str:
    """Complaint deadlines: where to go next once one passed; mediation ended when its period ran out."""
    return f"complaints past a deadline {complaints.sweep(uows, clock)}"


def credit_job(uows: UowFactory, clock: Clock, public_url: str) -> str:
    """Recompute the service-credit scores (the month's snapshot is replaced)."""
    return f"scores stored {credit.compute_all(uows, clock)}"


#: name -> (every, job). Each run is claimed by exactly one worker (JobRepository.claim).
PERIODIC: dict[str, tuple[timedelta, Callable[[UowFactory, Clock, str], str]]] = {
    "plans.renewals": (timedelta(hours=1), renewal_job),
    "evidence.checkpoint": (timedelta(hours=1), checkpoint_job),
    "complaints.deadlines": (timedelta(minutes=5), complaints_job),
    "contact.queue": (timedelta(minutes=1), contact.queue_job),
    "credit.scores": (timedelta(hours=24), credit_job),
}


@dataclass
class Worker:
    uows: UowFactory
    clock: Clock
    transports: Mapping[str, Transport]
    public_url: str = ""
    poll_s: float = 1.0
    lease_s: int = 120
    periodic: Mapping[str, tuple[timedelta, Callable[[UowFactory, Clock, str], str]]] = field(
        default_factory=lambda: PERIODIC)
    stop: threading.Event = field(default_factory=threading.Event)

    def run_periodic(self) -> dict[str, str]:
        done = {}
        for name, (every, job) in self.periodic.items():
            now = self.clock.now()
            with self.uows() as uow:
                mine = uow.jobs.claim(name, now, now + every)
                uow.commit()
            if not mine:
                continue
            try:
                result = job(self.uows, self.clock, self.public_url)
            except Exception as exc:  # a failing job is logged and retried at its next run
                log.exception("worker.job_failed", job=name)
                result = f"failed: {type(exc).__name__}: {exc}"
            with self.uows() as uow:
                uow.jobs.record(name, result)
                uow.commit()
            done[name] = result
        return done

    def run_once(self) -> dict[str, Any]:
        swept = sla.sweep(self.uows, self.clock, public_url=self.public_url)
        delivered = deliver_due(self.uows, self.clock, self.transports, lease_s=self.lease_s)
        jobs = self.run_periodic()
        ran = runs.run_next(self.uows, self.clock)  # one page-started run per cycle, so timers keep firing
        return {"sla": swept, "outbox": delivered, "jobs": jobs, "runs": ran}

    def run_forever(self) -> None:
        log.info("worker.started")
        while not self.stop.is_set():
            try:
                result = self.run_once()
                busy = result["sla"].claimed or result["outbox"].total() or result["runs"]
            except Exception:  # the database went away: wait, then carry on
                log.exception("worker.cycle_failed")
                busy = False
            if not busy:
                self.stop.wait(self.poll_s)
        log.info("worker.stopped")


