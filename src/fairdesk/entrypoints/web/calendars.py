"""The manager's working-day calendar page: where each year's days come from, a year's official arrangement
checked (errors beside the field, the text kept), previewed and applied; the open deadlines then recomputed
by the worker, followed on the run page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairdesk.domain.calendars import ArrangementInvalid
from fairdesk.domain.errors import DomainError, InvalidInput
from fairdesk.domain.people import Role
from fairdesk.entrypoints.api.problems import request_language
from fairdesk.entrypoints.web.pages import PageActor, _app, _check_csrf, _error_page, render
from fairdesk.i18n import problem_text
from fairdesk.services import calendars as calendar_svc
from fairdesk.services import runs as run_svc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=64)]


def _page(request: Request, actor: PageActor, *, text: str = "", problems: list[dict[str, object]] | None = None,
          status_code: int = 200) -> Response:
    app = _app(request)
    with app.uows(readonly=True) as uow:
        warning = calendar_svc.warning(uow, app.clock)
    return render(request, "calendar.html", status_code=status_code,
                  years=calendar_svc.years(app.uows, app.clock, actor), warning=warning,
                  text=text, problems=problems or [], can_import=actor.role is Role.MANAGER)


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, actor: PageActor) -> Response:
    if actor.role not in (Role.MANAGER, Role.AUDITOR, Role.DISPATCHER, Role.AGENT):
        return RedirectResponse("/my", status_code=303)
    return _page(request, actor)


@router.post("/calendar/drafts", response_class=HTMLResponse)
async def stage(request: Request, actor: PageActor, file: Annotated[UploadFile | None, File()] = None,
                text: Annotated[str, Form(max_length=calendar_svc.MAX_FILE)] = "", csrf: Csrf = "") -> Response:
    """Check the file (or the pasted text); on a problem the page comes back with each line's problem beside
    the field and the text as it was, and nothing changed."""
    from starlette.concurrency import run_in_threadpool

    app = _app(request)
    lang = request_language(request)
    filename = ""
    try:
        _check_csrf(request, csrf)
        if file is not None and file.filename:
            data = await file.read(calendar_svc.MAX_FILE + 1)
            filename = file.filename
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidInput("calendar.invalid_file", "the file is not UTF-8 text", field="file") from None
        draft_id = await run_in_threadpool(calendar_svc.stage, app.uows, app.clock, text, filename, actor=actor)
    except ArrangementInvalid as exc:
        problems = [{"line": p.line, "text": problem_text(p.code, p.text, p.values, lang)} for p in exc.details]
        return _page(request, actor, text=text, problems=problems, status_code=422)
    except InvalidInput as exc:
        return _page(request, actor, text=text, problems=[{"line": 0, "text": exc.detail}], status_code=422)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/calendar/drafts/{draft_id}", status_code=303)


@router.get("/calendar/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(request: Request, actor: PageActor, draft_id: int) -> Response:
    app = _app(request)
    try:
        draft = calendar_svc.preview(app.uows, app.clock, draft_id, actor=actor)
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, "calendar_draft.html", draft=draft, moves=[m.as_dict(app.clock) for m in draft.moves])


@router.post("/calendar/drafts/{draft_id}/apply", response_class=HTMLResponse)
def apply(request: Request, actor: PageActor, draft_id: int, csrf: Csrf = "") -> Response:
    """Apply, then let the worker move the open deadlines; the run page shows its progress."""
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        calendar_svc.apply(app.uows, app.clock, draft_id, actor=actor)
        run_id = run_svc.start(app.uows, actor, app.clock, "calendar.recompute", {"version_id": draft_id})
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)
