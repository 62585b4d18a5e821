"""Pages for complaints (the consumer's own, with filing, evidence, confirmation and group consent; the staff
queue with the green channel first) and the public credit pages (a brand's score, its parts and complaint
statistics; the method)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairdesk.domain.complaints import GREEN, Category, RejectReason
from fairdesk.domain.credit import METHOD
from fairdesk.domain.errors import DomainError, Forbidden, InvalidInput
from fairdesk.domain.tickets import TicketFilter
from fairdesk.entrypoints.api.problems import request_language
from fairdesk.entrypoints.web.pages import PageActor, _app, _check_csrf, _error_page, field_error, render
from fairdesk.services import complaints as complaint_svc
from fairdesk.services import credit as credit_svc
from fairdesk.services import tickets as ticket_svc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=64)]



def _base(actor: Any) -> str:
    return "/my/complaints" if actor.is_customer else "/complaints"


# --- the consumer's complaints and the staff queue ------------------------------------------------------------

@router.get("/my/complaints", response_class=HTMLResponse)
@router.get("/complaints", response_class=HTMLResponse)
def complaint_list(request: Request, actor: PageActor) -> Response:
    """A consumer: their complaints and the form to file one. Staff: the queue, green channel first."""
    if actor.is_customer != request.url.path.startswith("/my"):
        return RedirectResponse(_base(actor), status_code=303)
    return _complaints_page(request, actor)


def _complaints_page(request: Request, actor: Any, *, errors: dict[str, str] | None = None,
                     values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    """The list (and, for a consumer, the form: with a refused input's problem beside its field and everything
    typed kept)."""
    app = _app(request)
    try:
        rows = complaint_svc.queue(app.uows, actor, app.clock, limit=200)
        ended = complaint_svc.queue(app.uows, actor, app.clock, status="closed", limit=50) if actor.is_customer \
            else []
    except DomainError as exc:
        return _error_page(request, exc)
    tickets: Sequence[Any] = []
    if actor.is_customer:
        tickets = ticket_svc.list_tickets(app.uows(readonly=True), actor, TicketFilter(), limit=20)
    return render(request, "complaints.html", status_code=status_code, rows=rows + ended, categories=list(Category),
                  green=GREEN, tickets=tickets, base=_base(actor), errors=errors or {}, values=values or {})


@router.post("/my/complaints", response_class=HTMLResponse)
async def complaint_file(request: Request, actor: PageActor, category: Annotated[str, Form(max_length=40)],
                         request_text: Annotated[str, Form(alias="request", max_length=2000)],
                         facts: Annotated[str, Form(max_length=10000)], csrf: Csrf = "",
                         ticket_id: Annotated[str, Form(max_length=20)] = "",
                         photo: Annotated[UploadFile | None, File()] = None) -> Response:
    """File a complaint from the form (one photo or PDF may come with it)."""
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        data = await photo.read(complaint_svc.MAX_ATTACHMENT + 1) if photo and photo.filename else b""
        if data:  # checked before anything is filed, so a refused photo files nothing
            complaint_svc.check_attachment(photo.content_type or "", data)
        cmd = complaint_svc.FileComplaint(actor, category, request_text, facts,
                                          ticket_id=int(ticket_id) if ticket_id.isdigit() else None)
        out, _ = await run_in_threadpool(complaint_svc.file_complaint, cmd, app.uows, app.clock)
        if data:
            await run_in_threadpool(complaint_svc.add_attachment, app.uows, actor, out["id"], photo.filename or "",
                                    photo.content_type or "", data, app.clock)
    except InvalidInput as exc:  # beside the field, with what was typed (a photo must be chosen again)
        field = "photo" if exc.code.startswith("complaint.attachment") or exc.code.startswith("file.") else None
        errors = {field: next(iter(field_error(request, exc).values()))} if field else field_error(request, exc)
        return await run_in_threadpool(_complaints_page, request, actor, errors=errors, status_code=422, values={
            "category": category, "request": request_text, "facts": facts, "ticket_id": ticket_id})
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/my/complaints/{out['id']}", status_code=303)


@router.get("/my/complaints/{complaint_id}", response_class=HTMLResponse)
@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint_page(request: Request, actor: PageActor, complaint_id: int) -> Response:
    app = _app(request)
    try:
        c = complaint_svc.get_complaint(app.uows, actor, complaint_id, app.clock)
        groups = [complaint_svc.get_group(app.uows, actor, gid) for gid in c["invitations"]]
        group = complaint_svc.get_group(app.uows, actor, c["group_id"]) if c["group_id"] else None
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, "complaint.html", c=c, invitations=groups, group=group, reasons=list(RejectReason),
                  base=_base(actor), consumer=actor.is_customer, handler=not actor.is_customer and not actor.read_only)


@router.post("/my/complaints/{complaint_id}/attach", response_class=HTMLResponse)
@router.post("/complaints/{complaint_id}/attach", response_class=HTMLResponse)
async def complaint_attach(request: Request, actor: PageActor, complaint_id: int, photo: Annotated[UploadFile, File()],
                           csrf: Csrf = "") -> Response:
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        data = await photo.read(complaint_svc.MAX_ATTACHMENT + 1)
        if len(data) > complaint_svc.MAX_ATTACHMENT:
            raise InvalidInput("complaint.attachment_too_large", "an attachment is at most 5 MB")
        await run_in_threadpool(complaint_svc.add_attachment, app.uows, actor, complaint_id, photo.filename or "",
                                photo.content_type or "", data, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"{_base(actor)}/{complaint_id}", status_code=303)


@router.post("/my/complaints/{complaint_id}/group/{group_id}", response_class=HTMLResponse)
def complaint_group_answer(request: Request, actor: PageActor, complaint_id: int, group_id: int,
                           answer: Annotated[str, Form(pattern="^(consent|decline)$")],
                           representative: Annotated[str, Form(max_length=5)] = "", csrf: Csrf = "") -> Response:
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        complaint_svc.answer_invitation(app.uows, actor, group_id, complaint_id, app.clock,
                                        consent=answer == "consent", representative=representative == "yes")
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/my/complaints/{complaint_id}", status_code=303)


@router.get("/my/complaints/{complaint_id}/case.pdf")
@router.get("/complaints/{complaint_id}/case.pdf")
def complaint_case_pdf(request: Request, actor: PageActor, complaint_id: int) -> Response:
    """The filing-ready case to download and take to 12315."""
    from fairdesk.adapters.pdf import case_pdf

    app = _app(request)
    try:
        case = complaint_svc.export_case(app.uows, actor, complaint_id, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    return Response(case_pdf(case, request_language(request)), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{case["complaint"]["number"]}.pdf"'})


@router.get("/my/complaints/{complaint_id}/case.json")
@router.get("/complaints/{complaint_id}/case.json")
def complaint_case_json(request: Request, actor: PageActor, complaint_id: int) -> Response:
    app = _app(request)
    try:
        case = complaint_svc.export_case(app.uows, actor, complaint_id, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    return Response(json.dumps(case, ensure_ascii=False, indent=2), media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="{case["complaint"]["number"]}.json"'})


@router.post("/my/complaints/{complaint_id}/{action}", response_class=HTMLResponse)
@router.post("/complaints/{complaint_id}/{action}", response_class=HTMLResponse)
def complaint_act(request: Request, actor: PageActor, complaint_id: int, action: str,
                  note: Annotated[str, Form(max_length=4000)] = "", reason: Annotated[str, Form(max_length=40)] = "",
                  csrf: Csrf = "") -> Response:
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        if actor.is_customer != request.url.path.startswith("/my"):
            raise Forbidden("access.role", "use your own complaint pages")
        complaint_svc.handle(app.uows, actor, complaint_id, action.replace("-", "_"), app.clock, note=note,
                             reason=reason or None)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"{_base(actor)}/{complaint_id}", status_code=303)


# --- public: credit and statistics ---------------------------------------------------------------------------

@router.get("/brands/{brand_code}/credit", response_class=HTMLResponse)
def credit_page(request: Request, brand_code: str) -> Response:
    """Public: the score, its parts, the history, the outlets, complaint statistics, and where the method is."""
    app = _app(request)
    try:
        score = credit_svc.show(app.uows, brand_code[:32], app.clock)
        stats = complaint_svc.statistics_for(app.uows, brand_code[:32], app.clock)
    except DomainError as exc:
        return _error_page(request, exc, 404)
    rows = [("all", stats["all"]), ("green channel", stats["green_channel"]), ("standard", stats["standard"]),
            *((c.value, stats["by_category"][c.value]) for c in Category)]
    return render(request, "credit.html", s=score, stats=stats, stat_rows=rows)


@router.get("/credit/method", response_class=HTMLResponse)
def credit_method_page(request: Request) -> Response:
    """Public: the method in words and numbers (the same as docs/credit.md)."""
    return render(request, "credit_method.html", m=METHOD, window=credit_svc.WINDOW_DAYS)
