"""API for complaints (filing, the queue, the workflow, evidence, groups, the filing-ready export, published
statistics) and for the service-credit score (public score, method and explanation; audited inputs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Field, StringConstraints

from fairdesk.domain.complaints import Terms
from fairdesk.entrypoints.api.deps import FILE_BODY, ActorDep, AppDep, IdPath, file_body
from fairdesk.entrypoints.api.problems import PROBLEM_RESPONSES, request_language
from fairdesk.entrypoints.api.schemas import In
from fairdesk.services import complaints as complaint_svc
from fairdesk.services import credit as credit_svc

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ComplaintIn(In):
    category: Annotated[str, StringConstraints(max_length=40)]
    request: Annotated[str, StringConstraints(max_length=2000)]
    facts: Annotated[str, StringConstraints(max_length=10000)]
    customer_id: Id | None = None
    outlet_code: Code | None = None
    contact_phone: Annotated[str, StringConstraints(max_length=30)] | None = None
    complainant: Annotated[str, StringConstraints(max_length=100)] | None = None
    ticket_id: Id | None = None
    subscription_id: Id | None = None
    conversation_id: Id | None = None


@router.post("/complaints", tags=["complaints"], status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "Replayed: this Idempotency-Key already filed the complaint"}})
def file_complaint(body: ComplaintIn, actor: ActorDep, app: AppDep, response: Response,
                   idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """File a complaint (a consumer for themselves, a hotline agent for a consumer). Plan changes, refunds,
    cancellations and access to a person go to the green channel: first in the queue, shorter deadlines."""
    out, replayed = complaint_svc.file_complaint(complaint_svc.FileComplaint(actor, **body.model_dump()), app.uows,
                                                 app.clock, idempotency_key)
    if replayed:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/complaints", tags=["complaints"])
def complaint_queue(actor: ActorDep, app: AppDep, status_: Annotated[str | None, Query(alias="status",
                                                                                       max_length=20)] = None,
                    category: Annotated[str | None, Query(max_length=40)] = None, green: bool | None = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """The handling queue: green-channel complaints first, then the nearest deadline (open ones unless
    ``status`` is given). A consumer sees their own."""
    return complaint_svc.queue(app.uows, actor, app.clock, status=status_, category=category, green=green,
                               limit=limit)


@router.get("/complaints/groups/proposals", tags=["complaints"])
def group_proposals(actor: ActorDep, app: AppDep) -> list[dict[str, Any]]:
    """Open complaints of two or more consumers about the same issue, proposed for a group complaint."""
    return complaint_svc.group_proposals(app.uows, actor)


@router.get("/complaints/terms", tags=["complaints"])
def complaint_terms(actor: ActorDep, app: AppDep) -> dict[str, Any]:
    with app.uows(readonly=True) as uow:
        terms = complaint_svc.terms_of(uow, actor.brand_id)
    return {"standard": terms[False].as_dict(), "green": terms[True].as_dict()}


class TermsIn(In):
    acceptance_wd: Annotated[int, Field(ge=1, le=30)]
    first_response_h: Annotated[int, Field(ge=1, le=1440)]
    mediation_wd: Annotated[int, Field(ge=1, le=90)]


@router.put("/complaints/terms/{channel}", tags=["complaints"])
def set_complaint_terms(channel: Literal["standard", "green"], body: TermsIn, actor: ActorDep,
                        app: AppDep) -> dict[str, Any]:
    """A brand's deadlines (managers). The green channel's may not be longer than the standard ones."""
    return complaint_svc.set_terms(actor, channel == "green", Terms(**body.model_dump()), app.uows())


@router.get("/complaints/{complaint_id}", tags=["complaints"])
def get_complaint(complaint_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    """The complaint, its deadlines, its history, its attachments and, once a deadline passed, where to go."""
    return complaint_svc.get_complaint(app.uows, actor, complaint_id, app.clock)


@router.post("/complaints/{complaint_id}/attachments", tags=["complaints"], status_code=status.HTTP_201_CREATED,
             openapi_extra=FILE_BODY)
async def add_attachment(complaint_id: IdPath, request: Request, actor: ActorDep, app: AppDep,
                         filename: Annotated[str, Query(min_length=1, max_length=200)] = "attachment",
                         content_type: Annotated[str, Header(max_length=100)] = "") -> dict[str, Any]:
    """Evidence as the request body: a photo (JPEG, PNG, WebP) or a PDF, at most 5 MB."""
    data = await file_body(request, "complaint")
    return await run_in_threadpool(complaint_svc.add_attachment, app.uows, actor, complaint_id, filename,
                                   content_type, data, app.clock)


@router.get("/complaints/{complaint_id}/attachments/{attachment_id}", tags=["complaints"], response_class=Response)
def get_attachment(complaint_id: IdPath, attachment_id: IdPath, actor: ActorDep, app: AppDep) -> Response:
    row = complaint_svc.attachment(app.uows, actor, complaint_id, attachment_id)
    return Response(row.data, media_type=row.content_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}",
                             "X-Content-Type-Options": "nosniff"})


class ActionIn(In):
    note: Annotated[str, StringConstraints(max_length=4000)] = ""
    reason: Annotated[str, StringConstraints(max_length=40)] | None = None


@router.post("/complaints/{complaint_id}/{action}", tags=["complaints"])
def complaint_action(complaint_id: IdPath,
                     action: Literal["accept", "reject", "respond", "propose", "confirm", "decline",
                                     "end-mediation", "close", "comment"],
                     body: ActionIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    """One step: the business accepts, rejects (with a listed ``reason``), responds or proposes a settlement
    (a group complaint is handled once, for every member); only the consumer confirms it resolved, declines a
    proposal, ends mediation or closes it."""
    return complaint_svc.handle(app.uows, actor, complaint_id, action.replace("-", "_"), app.clock, note=body.note,
                                reason=body.reason)


@router.get("/complaints/{complaint_id}/export", tags=["complaints"])
def export_case(complaint_id: IdPath, request: Request, actor: ActorDep, app: AppDep,
                format_: Annotated[Literal["json", "pdf"], Query(alias="format")] = "json") -> Any:
    """The filing-ready case (the regulator's form fields, timeline, deadlines, attachments' hashes, evidence
    chain entries, where to file) as JSON or a printable PDF."""
    case = complaint_svc.export_case(app.uows, actor, complaint_id, app.clock)
    if format_ == "pdf":
        from fairdesk.adapters.pdf import case_pdf
        return Response(case_pdf(case, request_language(request)), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{case["complaint"]["number"]}.pdf"'})
    return case


class GroupIn(In):
    complaint_ids: Annotated[list[Id], Field(min_length=2, max_length=200)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]


@router.post("/complaint-groups", tags=["complaints"], status_code=status.HTTP_201_CREATED)
def create_group(body: GroupIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    """Propose a group complaint; each consumer is invited and joins only by consenting."""
    return complaint_svc.create_group(app.uows, actor, body.complaint_ids, body.title, app.clock)


@router.get("/complaint-groups/{group_id}", tags=["complaints"])
def get_group(group_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    return complaint_svc.get_group(app.uows, actor, group_id)


class ConsentIn(In):
    complaint_id: Id
    representative: bool = False


@router.post("/complaint-groups/{group_id}/{answer}", tags=["complaints"])
def answer_invitation(group_id: IdPath, answer: Literal["consent", "decline"], body: ConsentIn, actor: ActorDep,
                      app: AppDep) -> dict[str, Any]:
    """The consumer joins (optionally as one of at most two representatives) or declines."""
    return complaint_svc.answer_invitation(app.uows, actor, group_id, body.complaint_id, app.clock,
                                           consent=answer == "consent", representative=body.representative)


@router.get("/public/brands/{brand_code}/complaints", tags=["public"])
def complaint_statistics(brand_code: Code, app: AppDep,
                         days: Annotated[int, Query(ge=1, le=3660)] = 365) -> dict[str, Any]:
    """Public: complaints by category and timeliness, the green channel reported apart."""
    return complaint_svc.statistics_for(app.uows, brand_code, app.clock, days)


# --- credit ------------------------------------------------------------------------------------------------------

@router.get("/credit/method", tags=["public"])
def credit_method() -> dict[str, Any]:
    """Public: the published method (weights, shrinkage, window)."""
    return credit_svc.method()


@router.get("/credit/{brand_code}", tags=["public"])
def credit_show(brand_code: Code, app: AppDep) -> dict[str, Any]:
    """Public: the brand's newest score with its parts, its outlets' scores and the monthly history."""
    return credit_svc.show(app.uows, brand_code, app.clock)


@router.get("/credit/{brand_code}/explain", tags=["public"])
def credit_explain(brand_code: Code, app: AppDep, outlet: Code | None = None,
                   period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None) -> dict[str, Any]:
    """Public: one score taken apart, every part's calculation written out with its numbers."""
    return credit_svc.explain(app.uows, brand_code, app.clock, outlet, period)


@router.get("/credit/{brand_code}/inputs", tags=["credit"])
def credit_inputs(brand_code: Code, actor: ActorDep, app: AppDep,
                  component: Annotated[str, Query(max_length=40)] = "csat",
                  outlet: Code | None = None) -> dict[str, Any]:
    """The records behind one part of the newest score (the brand's managers, auditors)."""
    return credit_svc.inputs_of(app.uows, actor, brand_code, component, app.clock, outlet)


@router.post("/credit/compute", tags=["credit"])
def credit_compute(actor: ActorDep, app: AppDep) -> dict[str, Any]:
    """Recompute every score now (managers; the worker does it daily)."""
    return {"stored": credit_svc.recompute(app.uows, actor, app.clock)}
