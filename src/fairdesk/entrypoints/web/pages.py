"""Server-rendered pages: login, language, staff tickets, a ticket's page, the customer's requests."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as FastPath
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from fairdesk.bootstrap import App
from fairdesk.domain.errors import DomainError, Forbidden, InvalidInput, TooManyRequests, Unauthenticated
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import Status, TicketFilter
from fairdesk.entrypoints.api.problems import domain_status, request_language
from fairdesk.i18n import LANGUAGES, problem_title, t
from fairdesk.services import identity
from fairdesk.services import tickets as ticket_svc
from fairdesk.services.channels import official_hotline
from fairdesk.words import plan_line, value_word, who

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
PAGE = 50


class LoginRequired(Exception):
    """Raised by page dependencies; turned into a redirect to /login."""


def _app(request: Request) -> App:
    return request.app.state.fairdesk


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def _check_csrf(request: Request, token: str) -> None:
    if not token or not secrets.compare_digest(token, request.session.get("csrf", "")):
        raise Forbidden("access.csrf", "the form's security token does not match; reload the page")


def page_actor(request: Request) -> Actor:
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        raise LoginRequired
    with _app(request).uows(readonly=True) as uow:
        user = uow.users.get(uid)
    if user is None or not user.active:
        request.session.clear()
        raise LoginRequired
    request.state.user = user
    return identity.actor_for(user)


PageActor = Annotated[Actor, Depends(page_actor)]


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    lang = request_language(request)
    user = getattr(request.state, "user", None)
    # Every consumer page shows the brand's official hotline: a person is always one call away.
    hotline = official_hotline(_app(request).uows, user.brand_id) if user is not None and user.customer_id else None
    return templates.TemplateResponse(request, name, {
        "lang": lang, "languages": LANGUAGES, "_": lambda s: t(s, lang), "csrf": _csrf(request),
        "word": lambda prefix, value: value_word(prefix, value, lang),
        "line_words": lambda line: plan_line(line, lang),
        "who": lambda by: who(by, lang),
        "user": user, "tz": _app(request).clock.tz, "hotline": hotline, **ctx,
    }, status_code=status_code)


def _error_page(request: Request, exc: DomainError, status_code: int | None = None) -> HTMLResponse:
    """The error as a page in the reader's language (never an internal code, never an English sentence on a
    Chinese page), with a way back to the page they came from; the status is the API's for the same error
    unless the page says otherwise."""
    status_code = status_code or domain_status(exc)
    lang = request_language(request)
    return render(request, "error.html", status_code=status_code,
                  title=problem_title(exc.code, status_code, lang), detail=exc.detail if lang == "en" else "",
                  back=_back(request))


def _back(request: Request) -> str:
    """The page the reader came from, when it is one of ours; else the start."""
    from urllib.parse import urlsplit

    ref = urlsplit(request.headers.get("referer", ""))
    if ref.netloc and ref.netloc != request.url.netloc:
        return "/"
    path = ref.path or "/"
    return path + (f"?{ref.query}" if ref.query else "") if path.startswith("/") and not path.startswith("//") \
        else "/"


def field_error(request: Request, exc: DomainError) -> dict[str, str]:
    """A refused input as {field: what to fix}, in the page's language, for the form to show beside the field
    (``_form`` when the error names no field)."""
    lang = request_language(request)
    title = problem_title(exc.code, domain_status(exc), lang)
    return {str(exc.context.get("field", "_form")): title if lang == "zh-CN" or not exc.detail else exc.detail}


#: Where each role lands after logging in: the page of its main task.
HOME = {Role.CUSTOMER: "/my", Role.AGENT: "/console", Role.DISPATCHER: "/dispatch", Role.TECHNICIAN: "/my-day",
        Role.MANAGER: "/dashboard", Role.AUDITOR: "/dashboard"}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    uid = request.session.get("uid")
    user = None
    if isinstance(uid, int):
        with _app(request).uows(readonly=True) as uow:
            user = uow.users.get(uid)
    return RedirectResponse(HOME[user.role] if user and user.active else "/login", status_code=303)


def _demo_users(request: Request) -> list[tuple[str, str, str]]:
    """In `fairdesk demo` only: the demo's users, so a newcomer can try every role from the login page."""
    if not _app(request).settings.demo:
        return []
    from fairdesk.entrypoints.cli.demo_data import DEMO_PASSWORDS

    return [(role, username, password) for username, (role, password) in DEMO_PASSWORDS.items()]


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", error=None, demo_users=_demo_users(request))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)], csrf: Annotated[str, Form(max_length=64)] = "",
          ) -> Response:
    try:
        _check_csrf(request, csrf)
        user = identity.authenticate(_app(request).uows, username, password, _app(request).clock)
    except (Unauthenticated, Forbidden, TooManyRequests) as exc:
        status = 401 if isinstance(exc, Unauthenticated) else 429 if isinstance(exc, TooManyRequests) else 403
        response = render(request, "login.html", status_code=status, username=username,
                          error=problem_title(exc.code, status, request_language(request)),
                          demo_users=_demo_users(request))
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(24)
    response = RedirectResponse(HOME[user.role], status_code=303)
    if "lang" not in request.cookies:
        response.set_cookie("lang", user.language, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    _check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: Annotated[str, Query(max_length=200)] = "/") -> Response:
    # Only local paths: an open redirect would turn the language link into a phishing tool.
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/check", response_class=HTMLResponse)
def channel_check_page(request: Request, value: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    """Public: is a phone number or web address a brand's official channel?"""
    from fairdesk.services import channels as channels_svc

    result = error = None
    if value:
        try:
            result = channels_svc.check_channel(value, _app(request).uows(readonly=True))
        except DomainError as exc:
            error = problem_title(exc.code, 422, request_language(request))
    return render(request, "check.html", value=value, result=result, error=error)


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_page(request: Request, token: Annotated[str, FastPath(max_length=100)]) -> Response:
    """Public: the one-time survey link sent when a request is resolved (the link is the credential)."""
    from fairdesk.services import surveys as survey_svc

    app = _app(request)
    try:
        survey = survey_svc.open_survey(app.uows(readonly=True), token, app.clock)
    except DomainError as exc:
        return _error_page(request, exc, 404 if exc.code == "survey.not_found" else 410)
    return render(request, "survey.html", survey=survey, token=token, done=False, error=None)


@router.post("/s/{token}", response_class=HTMLResponse)
def survey_submit(request: Request, token: Annotated[str, FastPath(max_length=100)],
                  csrf: Annotated[str, Form()] = "", csat: Annotated[int | None, Form()] = None,
                  nps: Annotated[int | None, Form()] = None, technician_rating: Annotated[int | None, Form()] = None,
                  comment: Annotated[str, Form(max_length=2000)] = "") -> Response:
    from fairdesk.services import surveys as survey_svc

    app = _app(request)
    try:
        _check_csrf(request, csrf)
        survey = survey_svc.open_survey(app.uows(readonly=True), token, app.clock)
    except DomainError as exc:
        return _error_page(request, exc, 403 if exc.code == "access.csrf" else
                           404 if exc.code == "survey.not_found" else 410)
    try:
        survey_svc.answer_survey(app.uows(), token, survey_svc.Answer(csat or 0, nps, technician_rating, comment),
                                 app.clock, app.settings.public_url)
    except DomainError as exc:
        if exc.code in ("survey.used", "survey.expired"):
            return _error_page(request, exc, 410)
        return render(request, "survey.html", status_code=422, survey=survey, token=token, done=False,
                      error=problem_title(exc.code, 422, request_language(request)))
    return render(request, "survey.html", survey=survey, token=token, done=True, error=None)


@router.get("/my/tickets/{ticket_id}/survey", response_class=HTMLResponse)
def my_survey_page(request: Request, actor: PageActor, ticket_id: int) -> Response:
    """The survey of the customer's own request, from their request page (the SMS link works as well)."""
    from fairdesk.services import surveys as survey_svc

    app = _app(request)
    try:
        survey = survey_svc.pending_for_ticket(app.uows(readonly=True), actor, ticket_id, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    if survey is None:
        return _error_page(request, DomainError("survey.used", "this request has no survey waiting"), 410)
    return render(request, "survey.html", survey=survey, token="", action=f"/my/tickets/{ticket_id}/survey",
                  done=False, error=None)


@router.post("/my/tickets/{ticket_id}/survey", response_class=HTMLResponse)
def my_survey_submit(request: Request, actor: PageActor, ticket_id: int, csrf: Annotated[str, Form()] = "",
                     csat: Annotated[int | None, Form()] = None, nps: Annotated[int | None, Form()] = None,
                     technician_rating: Annotated[int | None, Form()] = None,
                     comment: Annotated[str, Form(max_length=2000)] = "") -> Response:
    from fairdesk.services import surveys as survey_svc

    app = _app(request)
    action = f"/my/tickets/{ticket_id}/survey"
    try:
        _check_csrf(request, csrf)
        survey = survey_svc.pending_for_ticket(app.uows(readonly=True), actor, ticket_id, app.clock)
        survey_svc.answer_for_ticket(app.uows(), actor, ticket_id, survey_svc.Answer(
            csat or 0, nps, technician_rating, comment), app.clock, app.settings.public_url)
    except InvalidInput as exc:
        return render(request, "survey.html", status_code=422, survey=survey, token="", action=action, done=False,
                      error=problem_title(exc.code, 422, request_language(request)))
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, "survey.html", survey=survey, token="", action=action, done=True, error=None)


@router.get("/transparency/{brand_code}", response_class=HTMLResponse)
def transparency_page(request: Request, brand_code: str) -> Response:
    """Public: the brand's routing policy rendered from the live configuration, and live figures."""
    from fairdesk.services import contact as contact_svc

    app = _app(request)
    try:
        data = contact_svc.transparency(app.uows, app.clock, brand_code[:32])
    except DomainError as exc:
        return _error_page(request, exc, 404)
    return render(request, "transparency.html", t=data)


@router.get("/tickets", response_class=HTMLResponse)
def ticket_list(request: Request, actor: PageActor,
                status: Annotated[Status | None, Query()] = None,
                before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None) -> Response:
    if actor.is_customer:
        return RedirectResponse("/my", status_code=303)
    rows = ticket_svc.list_tickets(_app(request).uows(readonly=True), actor, TicketFilter(status=status),
                                   before_id=before, limit=PAGE)
    return render(request, "tickets.html", tickets=rows, statuses=list(Status), status=status,
                  older=rows[-1].id if len(rows) == PAGE else None)


@router.get("/my", response_class=HTMLResponse)
def my_requests(request: Request, actor: PageActor,
                before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None) -> Response:
    rows = ticket_svc.list_tickets(_app(request).uows(readonly=True), actor, TicketFilter(),
                                   before_id=before, limit=PAGE)
    return render(request, "my.html", tickets=rows, older=rows[-1].id if len(rows) == PAGE else None)


@router.get("/my/plans", response_class=HTMLResponse)
def my_plans(request: Request, actor: PageActor) -> Response:
    """The customer's plans: every other plan and cancelling offered alike, as the same kind of button."""
    if not actor.is_customer:
        return RedirectResponse("/tickets", status_code=303)
    with _app(request).uows(readonly=True) as uow:
        subs = uow.plans.subscriptions_of(actor.brand_id, actor.customer_id)
        cat = uow.plans.catalogue(actor.brand_id)
        changes = uow.plans.changes_of(actor.brand_id, [sub.id for sub in subs])
    rows = []
    for sub in subs:
        plan = cat.plans[sub.plan_code]
        family = cat.families[plan.family]
        others = [p for p in cat.plans.values() if p.family == plan.family and p.code != plan.code and not p.retired]
        rows.append({"sub": sub, "plan": plan, "family": family, "others": sorted(others, key=lambda p: p.price),
                     "changes": [{"id": c.id, "kind": c.kind, "net": f"{c.net:.2f}",
                                  "to": cat.plans[c.to_plan].name if c.to_plan in cat.plans else None,
                                  "submitted_at": c.submitted_at.astimezone(_app(request).clock.tz)}
                                 for c in changes[sub.id]]})
    return render(request, "my_plans.html", rows=rows)


@router.get("/my/plans/{subscription_id}/receipts/{change_id}", response_class=HTMLResponse)
def plan_receipt(request: Request, actor: PageActor, subscription_id: int, change_id: int) -> Response:
    """A past change's receipt, whenever the customer wants it again."""
    from fairdesk.services import plans as plans_svc

    app = _app(request)
    try:
        receipt = plans_svc.receipt(app.uows(readonly=True), actor, subscription_id, change_id, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, "plan_receipt.html", receipt=receipt, again=True)


@router.get("/my/plans/{subscription_id}/change", response_class=HTMLResponse)
def plan_change_preview(request: Request, actor: PageActor, subscription_id: int,
                        to: Annotated[str, Query(max_length=64)]) -> Response:
    """Step 1 of 2 for every change: what it does, when, and every line; one save offer at most, beside it."""
    from fairdesk.services import plans as plans_svc

    app = _app(request)
    target = None if to == "cancel" else to
    try:
        result = plans_svc.change_subscription(plans_svc.ChangeSubscription(
            actor, subscription_id, target, preview=True, channel="web"), app.uows, app.clock)
    except DomainError as exc:
        return _error_page(request, exc, 409)
    return render(request, "plan_change.html", r=result, sub_id=subscription_id, to=to)


@router.post("/my/plans/{subscription_id}/change", response_class=HTMLResponse)
def plan_change_confirm(request: Request, actor: PageActor, subscription_id: int,
                        to: Annotated[str, Form(max_length=64)], csrf: Annotated[str, Form(max_length=64)] = "",
                        ) -> Response:
    """Step 2 of 2: done, with the receipt."""
    from fairdesk.services import plans as plans_svc

    app = _app(request)
    try:
        _check_csrf(request, csrf)
        result = plans_svc.change_subscription(plans_svc.ChangeSubscription(
            actor, subscription_id, None if to == "cancel" else to, preview=False, channel="web"), app.uows, app.clock)
    except DomainError as exc:
        return _error_page(request, exc, 409)
    return render(request, "plan_receipt.html", receipt=result.receipt)


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, actor: PageActor, ticket_id: int) -> Response:
    from datetime import datetime

    from fairdesk.services import sla as sla_svc

    app = _app(request)
    try:
        ticket, events, clocks = sla_svc.ticket_with_clocks(app.uows(readonly=True), actor, ticket_id, app.clock)
    except DomainError as exc:
        return _error_page(request, exc, 404)
    shown = [(name, label) for name, label in (("first_response", "First response due"),
                                                ("onsite", "On-site visit due"), ("resolution", "Resolution due"))
             if name in clocks and (name != "first_response" or actor.is_staff)]
    for name, _label in shown:
        clocks[name]["deadline_local"] = datetime.fromisoformat(clocks[name]["deadline"]).strftime("%Y-%m-%d %H:%M")
    from fairdesk.services import surveys as survey_svc

    photos = ticket_svc.attachments(app.uows(readonly=True), actor, ticket_id)
    survey = survey_svc.pending_for_ticket(app.uows(readonly=True), actor, ticket_id, app.clock)
    from fairdesk.reference.regions_data import default_resolver

    # Beside the request, for the staff working it: the customer, the unit and its warranty, where the visit is.
    panel = ticket_svc.staff_panel(app.uows, actor, ticket_id, app.clock, default_resolver()) \
        if actor.role in ticket_svc.PANEL_ROLES else None
    from fairdesk.domain.tickets import customer_actions, customer_timeline, progress, staff_timeline

    steps, reached, visit, timeline, contact = [], None, None, None, None
    if actor.is_customer:
        timeline = customer_timeline(list(events))
        from fairdesk.services import dispatch as dispatch_svc

        steps, reached = progress(ticket.status)
        visits = dispatch_svc.visits_of_ticket(app.uows(readonly=True), actor, ticket_id, app.clock)
        visit = next((v for v in reversed(visits) if v["status"] in ("booked", "on_site", "completed")), None)
        contact = dispatch_svc.booked_summary(app.uows(readonly=True), actor, ticket_id, app.clock)
    return render(request, "ticket.html", ticket=ticket, events=staff_timeline(list(events)), clocks=clocks,
                  shown=shown,
                  steps=steps, reached=reached, visit=visit, timeline=timeline, contact=contact,
                  allowed=sorted(ticket.allowed_next(actor)), can_comment=not actor.read_only, attachments=photos,
                  actions=customer_actions(ticket.status) if actor.is_customer else [],
                  survey=survey, panel=panel,
                  can_attach=not actor.read_only and ticket.status not in (Status.CLOSED, Status.CANCELLED))


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}")
def ticket_attachment(request: Request, actor: PageActor, ticket_id: int, attachment_id: int) -> Response:
    """A photo shown on the page (inline; the type was checked by its bytes when it came in)."""
    from urllib.parse import quote

    app = _app(request)
    try:
        row = ticket_svc.attachment(app.uows(readonly=True), actor, ticket_id, attachment_id)
    except DomainError as exc:
        return _error_page(request, exc)
    return Response(row.data, media_type=row.content_type, headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(row.filename, safe='')}",
        "Cache-Control": "private, max-age=3600"})


@router.post("/tickets/{ticket_id}/attach", response_class=HTMLResponse)
async def ticket_attach(request: Request, actor: PageActor, ticket_id: int, photo: Annotated[UploadFile, File()],
                        csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    from starlette.concurrency import run_in_threadpool

    from fairdesk.domain.files import MAX_BYTES

    app = _app(request)
    try:
        _check_csrf(request, csrf)
        data = await photo.read(MAX_BYTES + 1)
        await run_in_threadpool(ticket_svc.add_attachment, app.uows, actor, ticket_id, photo.filename or "",
                                photo.content_type or "", data, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/tickets/{ticket_id}#photos", status_code=303)


@router.post("/tickets/{ticket_id}/move", response_class=HTMLResponse)
def ticket_move(request: Request, actor: PageActor, ticket_id: int, to: Annotated[Status, Form()],
                note: Annotated[str, Form(max_length=10_000)] = "",
                csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        ticket_svc.move_ticket(ticket_svc.MoveTicket(actor, ticket_id, to, note), app.uows(), app.clock,
                               public_url=app.settings.public_url)
    except DomainError as exc:
        return _error_page(request, exc, 409 if exc.code.startswith("ticket.") else 403)
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


@router.post("/tickets/{ticket_id}/comment", response_class=HTMLResponse)
def ticket_comment(request: Request, actor: PageActor, ticket_id: int,
                   text: Annotated[str, Form(max_length=10_000)],
                   csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        ticket_svc.comment_ticket(ticket_svc.Comment(actor, ticket_id, text), app.uows(), app.clock)
    except DomainError as exc:
        return _error_page(request, exc, 422 if exc.code.startswith("input.") else 403)
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
