"""Long-running work started from a page — imports, exports, reports — run by the worker process, with its
progress readable while it runs.

The web process only queues a run (the uploaded file with it) and answers at once; a worker claims it with a
lease, does the work as the user who asked, and writes its progress in short transactions of its own, so the
page can poll it. A worker that dies leaves the lease to run out and another worker starts the run again.

An import keeps its all-or-nothing rule: the rows are first checked in slices, each slice's work rolled back
(progress committed between slices, so other writers and the page are never held up), then applied in one
transaction, which checks every row again and is the one that counts.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from fairdesk.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import TicketFilter
from fairdesk.i18n import LANGUAGES, N_, t
from fairdesk.services import calendars, credit, identity, imports, sla, tickets
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UowFactory

__all__ = ["CHUNK", "EXPORT_DAYS", "KINDS", "get_run", "output", "recent", "run_next", "start"]

log = structlog.get_logger("fairdesk.runs")

#: Rows checked per transaction while an import is checked; progress is written after each slice.
CHUNK = 200
#: Tickets read per page while an export is written.
EXPORT_PAGE = 1000
EXPORT_DAYS = (7, 30, 90, 365)
LEASE_S = 120
KINDS = (*(f"import.{k}" for k in imports.KINDS), "export.tickets", "report.credit", "report.sla",
         "calendar.recompute")
#: Whether the page has to show the progress again: how often (seconds) at most a run writes it.
PROGRESS_EVERY_S = 0.25


def _require(actor: Actor, kind: str) -> None:
    """Who may start what: imports as the import rules say; exports for managers and auditors; the score's
    recomputation for managers."""
    if kind.startswith("import."):
        imports.require_importer(actor, kind.removeprefix("import."))
    elif kind in ("export.tickets", "report.sla"):
        require_role(actor, Role.MANAGER, Role.AUDITOR, what="export requests" if kind == "export.tickets"
                     else "read SLA attainment")
    elif kind == "report.credit":
        require_role(actor, Role.MANAGER, what="recompute scores")
    elif kind == "calendar.recompute":
        require_role(actor, Role.MANAGER, what="change the official calendar")
    else:
        raise InvalidInput("run.kind", f"start one of {', '.join(KINDS)}", field="kind")


def start(uows: UowFactory, actor: Actor, clock: Clock, kind: str, params: dict[str, Any],
          data: bytes | None = None) -> int:
    """Queue a run; the worker picks it up. The cheap checks (who, which kind, a readable file) are made now,
    so a wrong start is refused at once rather than failing later."""
    _require(actor, kind)
    if actor.user_id is None:  # the run is done later as the user who asked: there must be one
        raise Forbidden("access.role", "a run is started by a signed-in user")
    if kind.startswith("import."):
        if not data:
            raise InvalidInput("import.empty", "choose a file to import", field="file")
        imports.read_table(data)  # refused now if unreadable, empty, too big or too long
        params = {"partial": bool(params.get("partial")), "filename": str(params.get("filename", ""))[:200]}
    elif kind in ("export.tickets", "report.sla"):
        days = params.get("days", 30)
        if days not in EXPORT_DAYS:
            raise InvalidInput("run.days", f"export the last {', '.join(map(str, EXPORT_DAYS))} days", field="days")
        lang = params.get("lang") if params.get("lang") in LANGUAGES else LANGUAGES[0]
        params, data = ({"days": days, "lang": lang} if kind == "export.tickets" else {"days": days}), None
    elif kind == "calendar.recompute":
        params, data = {"version_id": int(params["version_id"])}, None
    else:
        params, data = {}, None
    with uows() as uow:
        run_id = uow.runs.add(actor.brand_id, actor.user_id, kind, json.dumps(params), data, clock.now())
        uow.commit()
    log.info("run.queued", run=run_id, kind=kind)
    return run_id


def _visible(row: Any, actor: Actor) -> Any:
    """A run is seen by whoever started it, and by the brand's managers."""
    if row is None or (row.user_id != actor.user_id and actor.role is not Role.MANAGER) or actor.is_customer:
        raise NotFound("run.not_found", "no such run")
    return row


def as_dict(row: Any, clock: Clock) -> dict[str, Any]:
    def local(at: Any) -> str | None:
        return at.astimezone(clock.tz).isoformat(timespec="seconds") if at else None

    return {"id": row.id, "kind": row.kind, "params": json.loads(row.params or "{}"), "status": row.status,
            "phase": row.phase, "done": row.done, "total": row.total,
            "percent": 100 if row.status == "done" else int(100 * row.done / row.total) if row.total else 0,
            "result": json.loads(row.result) if row.result else None, "output_name": row.output_name,
            "error": row.error, "attempts": row.attempts, "created_at": local(row.created_at),
            "started_at": local(row.started_at), "finished_at": local(row.finished_at),
            "finished": row.status in ("done", "failed")}


def get_run(uows: UowFactory, actor: Actor, clock: Clock, run_id: int) -> dict[str, Any]:
    with uows(readonly=True) as uow:
        return as_dict(_visible(uow.runs.get(actor.brand_id, run_id), actor), clock)


def recent(uows: UowFactory, actor: Actor, clock: Clock, limit: int = 20) -> list[dict[str, Any]]:
    if actor.is_customer:
        return []
    with uows(readonly=True) as uow:
        rows = uow.runs.recent(actor.brand_id, None if actor.role is Role.MANAGER else actor.user_id, limit)
    return [as_dict(r, clock) for r in rows]


def output(uows: UowFactory, actor: Actor, run_id: int) -> tuple[bytes, str, str]:
    """The file a finished run made: bytes, name, media type."""
    with uows(readonly=True) as uow:
        row = _visible(uow.runs.output(actor.brand_id, run_id), actor)
    if row.output is None:
        raise NotFound("run.no_output", "this run made no file")
    return row.output, row.output_name, row.output_type


# --- the worker's side ----------------------------------------------------------------------------------------

@dataclass
class Progress:
    """Writes a run's progress (and extends its lease) in its own short transaction, at most every
    PROGRESS_EVERY_S seconds unless told to write now."""

    uows: UowFactory
    clock: Clock
    run_id: int
    _last: float = 0.0

    def __call__(self, phase: str, done: int, total: int, *, now: bool = False) -> None:
        if not now and time.monotonic() - self._last < PROGRESS_EVERY_S:
            return
        with self.uows() as uow:
            uow.runs.progress(self.run_id, phase, done, total, self.clock.now() + timedelta(seconds=LEASE_S))
            uow.commit()
        self._last = time.monotonic()


@dataclass
class Done:
    result: dict[str, Any]
    output: bytes | None = None
    output_name: str | None = None
    output_type: str | None = None


def _import(uows: UowFactory, clock: Clock, actor: Actor, run: Any, progress: Progress) -> Done:
    kind = run.kind.removeprefix("import.")
    params = json.loads(run.params)
    rows = imports.read_table(run.input)
    progress("checking", 0, len(rows), now=True)
    errors: list[dict[str, Any]] = []
    for start in range(0, len(rows), CHUNK):
        part = imports.import_rows(actor, kind, rows[start:start + CHUNK], uows(), clock, check_only=True,
                                   first_row=start + 2)
        errors += part.errors
        progress("checking", min(start + CHUNK, len(rows)), len(rows))
    if errors and not params["partial"]:
        report = imports.ImportReport(kind, rows=len(rows), errors=errors)
    else:
        progress("saving", len(rows), len(rows), now=True)
        report = imports.import_rows(actor, kind, rows, uows(), clock, partial=params["partial"])
    return Done(report.as_dict())


EXPORT_COLUMNS = ("number", "created_at", "channel", "category", "priority", "status", "subject", "customer_id",
                  "unit_id", "outlet_id", "technician_id", "updated_at")
#: The export's header in words (the file is read in Excel by people; ids stay numbers).
EXPORT_HEADER = (N_("Request number"), N_("Opened at"), N_("Channel"), N_("Category"), N_("Priority"),
                 N_("Status"), N_("Subject"), N_("Customer ID"), N_("Unit ID"), N_("Outlet ID"), N_("Technician ID"),
                 N_("Last changed at"))


def _export(uows: UowFactory, clock: Clock, actor: Actor, run: Any, progress: Progress) -> Done:
    """The brand's requests of the last N days as CSV (UTF-8 with a BOM, which Excel in China opens as such).
    Customers appear by id only: the file leaves the system, their contact details stay in it."""
    params = json.loads(run.params)
    days, lang = params["days"], params.get("lang", LANGUAGES[0])
    now = clock.now()
    progress("writing", 0, 0, now=True)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow([t(h, lang) for h in EXPORT_HEADER])

    def when(at: datetime) -> str:
        return at.astimezone(clock.tz).strftime("%Y-%m-%d %H:%M")

    written = 0
    for page, written, total in tickets.walk_tickets(uows, actor, TicketFilter(created_from=now - timedelta(days=days)),
                                                     EXPORT_PAGE):
        for tk in page:
            out.writerow([tk.number, when(tk.created_at), t(f"channel {tk.channel.value}", lang),
                          t(tk.category.value, lang), t(tk.priority.value, lang), t(tk.status.value, lang), tk.subject,
                          tk.customer_id, tk.unit_id or "", tk.outlet_id or "", tk.technician_id or "",
                          when(tk.updated_at)])
        progress("writing", written, total)
    stamp = now.astimezone(clock.tz).strftime("%Y%m%d-%H%M")
    return Done({"tickets": written, "days": days}, buf.getvalue().encode("utf-8-sig"),
                f"requests-{days}d-{stamp}.csv", "text/csv; charset=utf-8")


def _sla(uows: UowFactory, clock: Clock, actor: Actor, run: Any, progress: Progress) -> Done:
    """SLA attainment over the period: every request's clocks replayed from its history."""
    days = json.loads(run.params)["days"]
    progress("computing", 0, 0, now=True)
    return Done(sla.attainment(uows, actor, clock, days, lambda done, total: progress("computing", done, total)))


def latest_report(uows: UowFactory, actor: Actor, kind: str) -> dict[str, Any] | None:
    """The newest finished report of a kind for the actor's brand (the dashboard shows it)."""
    with uows(readonly=True) as uow:
        row = uow.runs.latest_done(actor.brand_id, kind)
    return json.loads(row.result) if row is not None and row.result else None


def _credit(uows: UowFactory, clock: Clock, actor: Actor, run: Any, progress: Progress) -> Done:
    progress("computing", 0, 1, now=True)
    stored = credit.recompute(uows, actor, clock)
    return Done({"scores": stored})


def _recompute_deadlines(uows: UowFactory, clock: Clock, actor: Actor, run: Any, progress: Progress) -> Done:
    """After a calendar version was applied: every open deadline follows it (calendars.recompute)."""
    progress("recomputing", 0, 0, now=True)
    return Done(calendars.recompute(uows, clock, json.loads(run.params)["version_id"],
                                    lambda phase, done, total: progress("recomputing", done, total)))


RUNNERS: dict[str, Callable[[UowFactory, Clock, Actor, Any, Progress], Done]] = {
    **{f"import.{k}": _import for k in imports.KINDS}, "export.tickets": _export, "report.credit": _credit,
    "report.sla": _sla, "calendar.recompute": _recompute_deadlines}


def run_next(uows: UowFactory, clock: Clock) -> bool:
    """Claim the oldest waiting run and do it; False when there was none. The run fails cleanly with the
    reason when its work refuses (a domain error) and with the error's type when the work breaks."""
    now = clock.now()
    with uows() as uow:
        run = uow.runs.claim(now, now + timedelta(seconds=LEASE_S))
        user = uow.users.get(run.user_id) if run is not None else None
        uow.commit()
    if run is None:
        return False
    log.info("run.started", run=run.id, kind=run.kind, attempt=run.attempts)
    progress = Progress(uows, clock, run.id)
    try:
        if user is None or not user.active:
            raise DomainError("run.user_inactive", "the user who started this run is no longer active")
        actor = identity.actor_for(user)
        _require(actor, run.kind)
        done = RUNNERS[run.kind](uows, clock, actor, run, progress)
    except DomainError as exc:
        status, done, error = "failed", None, f"{exc.code}: {exc.detail}"
    except Exception as exc:  # the worker goes on; the page says the run broke
        log.exception("run.broke", run=run.id)
        status, done, error = "failed", None, f"{type(exc).__name__}"
    else:
        status, error = "done", None
    with uows() as uow:
        uow.runs.finish(run.id, status, clock.now(), error=error,
                        result=json.dumps(done.result, ensure_ascii=False) if done else None,
                        output=done.output if done else None, output_name=done.output_name if done else None,
                        output_type=done.output_type if done else None)
        uow.commit()
    log.info("run.finished", run=run.id, kind=run.kind, status=status)
    return True
