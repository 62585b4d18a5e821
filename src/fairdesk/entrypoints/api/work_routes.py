"""API for SLA policies and calendars, ticket assignment, webhooks and the delivery log, surveys and
follow-up tasks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import Field

from fairdesk.domain.sla import EscalationAction, EscalationStep
from fairdesk.domain.tickets import Category, Priority, Status
from fairdesk.entrypoints.api.deps import ActorDep, AppDep, IdPath
from fairdesk.entrypoints.api.problems import PROBLEM_RESPONSES
from fairdesk.entrypoints.api.schemas import Day, In, TicketOut
from fairdesk.services import sla as sla_svc
from fairdesk.services import surveys as survey_svc
from fairdesk.services import tickets as ticket_svc
from fairdesk.services import webhooks as webhook_svc

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
Minutes = Annotated[int, Field(ge=1, le=sla_svc.MAX_TARGET_MIN)]


class EscalationIn(In):
    percent: Annotated[int, Field(ge=1, le=200)]
    action: EscalationAction
    to_user_id: Annotated[int | None, Field(ge=1)] = None


class SlaPolicyIn(In):
    category: Category
    priority: Priority
    first_response_min: Minutes
    resolution_min: Minutes
    onsite_min: Minutes | None = None
    around_the_clock: bool = False
    pause_on: list[Literal["waiting_customer", "waiting_parts"]] | None = None
    escalations: Annotated[list[EscalationIn], Field(default_factory=list, max_length=10)]
    #: The on-site and resolution clocks of a request an outlet has also stop on that outlet's closure days.
    outlet_calendar: bool = False


@router.get("/sla-policies", tags=["sla"])
def get_sla_policies(actor: ActorDep, app: AppDep) -> list[dict[str, Any]]:
    """The policy for every category × priority (the brand's own, or the documented defaults)."""
    return sla_svc.policies(app.uows(readonly=True), actor, app.clock)


@router.put("/sla-policies", tags=["sla"])
def put_sla_policy(body: SlaPolicyIn, actor: ActorDep, app: AppDep) -> dict[str, object]:
    """Set a policy; the open tickets it applies to get their clocks and escalation steps recomputed."""
    steps = [EscalationStep(s.percent, s.action, s.to_user_id) for s in body.escalations]
    pause_on = None if body.pause_on is None else [Status(s) for s in body.pause_on]
    rescheduled = sla_svc.set_policy(actor, body.category, body.priority, body.first_response_min,
                                     body.resolution_min, body.around_the_clock, app.uows(),
                                     onsite_min=body.onsite_min, pause_on=pause_on, escalations=steps,
                                     clock_=app.clock, uows=app.uows, outlet_calendar=body.outlet_calendar)
    return {**body.model_dump(mode="json"), "rescheduled_tickets": rescheduled}


class ShiftsIn(In):
    shifts: Annotated[str, Field(min_length=11, max_length=200, examples=["08:00-12:00,13:00-20:00"])]


@router.put("/calendar/shifts", tags=["sla"])
def put_shifts(body: ShiftsIn, actor: ActorDep, app: AppDep) -> dict[str, list[str]]:
    """The brand's working shifts (overlaps refused); clocks not set around the clock run only inside them."""
    return {"shifts": sla_svc.set_shifts(actor, body.shifts, app.uows(), app.clock)}


class ClosureIn(In):
    day: Day
    reason: Annotated[str, Field(min_length=1, max_length=200)]


@router.post("/calendar/closures", tags=["sla"], status_code=status.HTTP_204_NO_CONTENT)
def add_closure(body: ClosureIn, actor: ActorDep, app: AppDep) -> Response:
    """A day the brand is closed beyond the statutory holidays."""
    sla_svc.add_closure(actor, body.day, body.reason, app.uows())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class AssignIn(In):
    assignee_id: Annotated[int | None, Field(ge=1)]
    note: Annotated[str, Field(max_length=2000)] = ""


@router.put("/tickets/{ticket_id}/assignee", tags=["tickets"])
def assign(ticket_id: IdPath, body: AssignIn, actor: ActorDep, app: AppDep) -> TicketOut:
    ticket = ticket_svc.assign_ticket(actor, ticket_id, body.assignee_id, body.note, app.uows(), app.clock)
    return TicketOut.of(ticket, actor, app.clock.tz)


class WebhookIn(In):
    url: Annotated[str, Field(min_length=8, max_length=500)]
    events: Annotated[list[str], Field(default_factory=list, max_length=20)]


@router.post("/webhooks", tags=["webhooks"], status_code=status.HTTP_201_CREATED)
def add_webhook(body: WebhookIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    """Register an endpoint. Deliveries are POSTs signed with the secret returned here (shown once):
    ``X-Fairdesk-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>``; ``X-Fairdesk-Event-Id`` lets
    the receiver drop repeats (delivery is at least once)."""
    return webhook_svc.add_webhook(app.uows(), actor, body.url, body.events, app.clock,
                                   allow_private=app.settings.webhook_allow_private)


@router.get("/webhooks", tags=["webhooks"])
def list_webhooks(actor: ActorDep, app: AppDep) -> list[dict[str, Any]]:
    return webhook_svc.list_webhooks(app.uows(readonly=True), actor)


@router.delete("/webhooks/{webhook_id}", tags=["webhooks"], status_code=status.HTTP_204_NO_CONTENT)
def disable_webhook(webhook_id: IdPath, actor: ActorDep, app: AppDep) -> Response:
    """Stop deliveries to an endpoint (its log stays)."""
    webhook_svc.set_active(app.uows(), actor, webhook_id, False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries", tags=["webhooks"])
def webhook_deliveries(webhook_id: IdPath, actor: ActorDep, app: AppDep,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """The delivery log of one endpoint: every message and every attempt (status code, time, error)."""
    return webhook_svc.deliveries(app.uows(readonly=True), actor, webhook_id, limit)


@router.get("/outbox", tags=["webhooks"])
def outbox(actor: ActorDep, app: AppDep, status_: Annotated[str | None, Query(alias="status")] = None,
           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Every message (e-mail, SMS, webhook) with its attempts; recipients masked."""
    return webhook_svc.outbox_page(app.uows(readonly=True), actor, status=status_, limit=limit)


class SurveyAnswerIn(In):
    # Ranges are checked by the service, so an out-of-range score gets the survey's own error code.
    csat: int
    nps: int | None = None
    technician_rating: int | None = None
    comment: Annotated[str, Field(max_length=survey_svc.MAX_COMMENT)] = ""


@router.get("/surveys/{token}", tags=["surveys"])
def get_survey(token: str, app: AppDep) -> dict[str, Any]:
    """What a one-time survey link is about (no login: the link is the credential)."""
    return survey_svc.open_survey(app.uows(readonly=True), token, app.clock)


@router.post("/surveys/{token}", tags=["surveys"])
def answer_survey(token: str, body: SurveyAnswerIn, app: AppDep) -> dict[str, Any]:
    """Answer once; a used link is 410, an expired one 410, an out-of-range score 422."""
    answer = survey_svc.Answer(body.csat, body.nps, body.technician_rating, body.comment)
    return survey_svc.answer_survey(app.uows(), token, answer, app.clock, app.settings.public_url)


@router.get("/reports/surveys", tags=["surveys"], response_model=None, responses={200: {"content": {
    "application/json": {}, "text/csv": {"schema": {"type": "string"}}}}})
def survey_report(actor: ActorDep, app: AppDep,
                  group: Annotated[Literal["brand", "outlet", "technician", "product_line"], Query()] = "brand",
                  from_: Annotated[str | None, Query(alias="from", max_length=7)] = None,
                  to: Annotated[str | None, Query(max_length=7)] = None,
                  format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
                  ) -> list[dict[str, Any]] | Response:
    """CSAT, NPS and response rate per group and month; ``format=csv`` for a spreadsheet."""
    rows = survey_svc.report(app.uows(readonly=True), actor, group, from_, to)
    if format_ == "csv":
        return Response(survey_svc.report_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="surveys-{group}.csv"'})
    return rows


@router.get("/tasks", tags=["surveys"])
def tasks(actor: ActorDep, app: AppDep,
          status_: Annotated[Literal["open", "done"] | None, Query(alias="status")] = "open",
          ) -> list[dict[str, Any]]:
    """Follow-up tasks (a low survey score opens one for a manager)."""
    return survey_svc.list_tasks(app.uows(readonly=True), actor, status_)


class TaskDoneIn(In):
    note: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/tasks/{task_id}/done", tags=["surveys"], status_code=status.HTTP_204_NO_CONTENT)
def task_done(task_id: IdPath, body: TaskDoneIn, actor: ActorDep, app: AppDep) -> Response:
    survey_svc.finish_task(app.uows(), actor, task_id, body.note, app.clock)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
