"""Long-running work started from a page: import a spreadsheet, export requests, recompute the score — queued
for the worker, followed on a page whose progress bar htmx refreshes until the run ends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairdesk.domain.errors import DomainError, InvalidInput
from fairdesk.domain.people import Role
from fairdesk.entrypoints.api.problems import request_language
from fairdesk.entrypoints.web.pages import PageActor, _app, _check_csrf, _error_page, render
from fairdesk.services import imports
from fairdesk.services import runs as run_svc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=64)]
RUN_ROLES = (Role.MANAGER, Role.DISPATCHER, Role.AUDITOR)


def _kinds(role: Role) -> dict[str, list[str]]:
    """What this role may start, so the page offers nothing that would be refused."""
    return {"imports": list(imports.KINDS) if role is Role.MANAGER else ["stock"] if role is Role.DISPATCHER else [],
            "export": ["tickets"] if role in (Role.MANAGER, Role.AUDITOR) else [],
            "report": ["credit"] if role is Role.MANAGER else []}


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, actor: PageActor) -> Response:
    if actor.role not in RUN_ROLES:
        return RedirectResponse("/my" if actor.is_customer else "/tickets", status_code=303)
    app = _app(request)
    return render(request, "runs.html", runs=run_svc.recent(app.uows, actor, app.clock), kinds=_kinds(actor.role),
                  columns=imports.COLUMNS, days=run_svc.EXPORT_DAYS)


@router.post("/runs/import", response_class=HTMLResponse)
async def start_import(request: Request, actor: PageActor, kind: Annotated[str, Form(max_length=20)],
                       file: Annotated[UploadFile, File()], partial: Annotated[bool, Form()] = False,
                       csrf: Csrf = "") -> Response:
    from starlette.concurrency import run_in_threadpool

    app = _app(request)
    try:
        _check_csrf(request, csrf)
        data = await file.read(imports.MAX_IMPORT + 1)
        if len(data) > imports.MAX_IMPORT:
            raise InvalidInput("import.too_large", f"a file is at most {imports.MAX_IMPORT // 2**20} MB")
        run_id = await run_in_threadpool(run_svc.start, app.uows, actor, app.clock, f"import.{kind}",
                                         {"partial": partial, "filename": file.filename or ""}, data)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.post("/runs/start", response_class=HTMLResponse)
def start_run(request: Request, actor: PageActor, kind: Annotated[str, Form(max_length=40)],
              days: Annotated[int, Form(ge=1, le=3660)] = 30, csrf: Csrf = "") -> Response:
    """An export or a report: no file to send, only what to do."""
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        if kind.startswith("import."):
            raise InvalidInput("run.kind", "imports need a file: use the import form", field="kind")
        run_id = run_svc.start(app.uows, actor, app.clock, kind, {"days": days, "lang": request_language(request)})
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, actor: PageActor, run_id: int) -> Response:
    return _show(request, actor, run_id, "run.html")


@router.get("/runs/{run_id}/status", response_class=HTMLResponse)
def run_status(request: Request, actor: PageActor, run_id: int) -> Response:
    """The progress fragment htmx swaps in every second; once the run ends it carries no trigger, and the
    polling stops by itself."""
    return _show(request, actor, run_id, "_run_status.html")


def _show(request: Request, actor: PageActor, run_id: int, template: str) -> Response:
    app = _app(request)
    try:
        run = run_svc.get_run(app.uows, actor, app.clock, run_id)
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, template, run=run)


@router.get("/runs/{run_id}/output")
def run_output(request: Request, actor: PageActor, run_id: int) -> Response:
    app = _app(request)
    try:
        data, name, media_type = run_svc.output(app.uows, actor, run_id)
    except DomainError as exc:
        return _error_page(request, exc)
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})
