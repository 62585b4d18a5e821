"""The ASGI application: API, web pages, health, middleware."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairdesk import __version__
from fairdesk.bootstrap import App
from fairdesk.entrypoints.api.calendars import router as calendar_api_router
from fairdesk.entrypoints.api.complaint_routes import router as complaint_router
from fairdesk.entrypoints.api.field_routes import router as field_router
from fairdesk.entrypoints.api.network import router as network_api_router
from fairdesk.entrypoints.api.problems import install_problem_handlers, problem_response
from fairdesk.entrypoints.api.routes import router as api_router
from fairdesk.entrypoints.api.work_routes import router as work_router
from fairdesk.entrypoints.ratelimit import RateLimit
from fairdesk.entrypoints.web.calendars import router as calendar_pages_router
from fairdesk.entrypoints.web.complaint_pages import router as complaint_pages_router
from fairdesk.entrypoints.web.console_pages import router as console_pages_router
from fairdesk.entrypoints.web.contact import router as contact_pages_router
from fairdesk.entrypoints.web.customer_pages import router as customer_pages_router
from fairdesk.entrypoints.web.field_pages import router as field_pages_router
from fairdesk.entrypoints.web.pages import LoginRequired
from fairdesk.entrypoints.web.pages import router as web_router
from fairdesk.entrypoints.web.run_pages import router as run_pages_router
from fairdesk.entrypoints.web.tickets import router as ticket_pages_router
from fairdesk.services.complaints import MAX_ATTACHMENT
from fairdesk.services.imports import MAX_IMPORT

__all__ = ["create_app"]

log = structlog.get_logger("fairdesk.http")
STATIC = Path(__file__).parent / "web" / "static"


class RequestContext:
    """Gives every request an id (or keeps the caller's X-Request-ID), logs it once, echoes the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info("request", method=scope["method"], path=scope["path"], status=status_holder["status"],
                     ms=round((time.perf_counter() - started) * 1000, 2))
            structlog.contextvars.clear_contextvars()


#: Pages load nothing from elsewhere and run no inline script; /docs (Swagger UI) loads its CDN assets.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY")]


class SecurityHeaders:
    """Content-Security-Policy and friends on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with_csp = not scope["path"].startswith("/docs")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.extend(SECURITY_HEADERS)
                if with_csp:
                    headers.append((b"content-security-policy", CSP.encode()))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses bodies over the limit with 413 before anything parses them, declared length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int, uploads: tuple[tuple[re.Pattern[str], int], ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads  # paths that take files, with their own limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next((n for pattern, n in self.uploads if pattern.fullmatch(scope["path"])), self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        request = Request(scope, receive)
        response = problem_response(request, 413, "request.too_large", f"the body is larger than {limit} bytes")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(wired: App) -> FastAPI:
    """The web application for one wired fairdesk (settings, database, clock)."""
    settings = wired.settings
    app = FastAPI(title="fairdesk", version=__version__, openapi_url="/openapi.json", docs_url="/docs",
                  redoc_url=None, description="After-sales service platform, fair to the consumer.")
    app.state.fairdesk = wired
    app.state.default_language = settings.language
    install_problem_handlers(app)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    app.include_router(api_router)
    app.include_router(work_router)
    app.include_router(field_router)
    app.include_router(network_api_router)
    app.include_router(complaint_router)
    app.include_router(web_router)
    app.include_router(complaint_pages_router)
    app.include_router(field_pages_router)
    app.include_router(console_pages_router)
    app.include_router(customer_pages_router)
    app.include_router(run_pages_router)
    app.include_router(calendar_pages_router)
    app.include_router(ticket_pages_router)
    app.include_router(contact_pages_router)
    app.include_router(calendar_api_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz(request: Request) -> Any:
        try:
            with wired.engines.read.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return problem_response(request, 503, "service.unavailable", "the database does not answer",
                                    headers={"Retry-After": "2"})
        return JSONResponse({"status": "ok", "version": __version__, "database": wired.engine.dialect.name})

    secret = settings.secret_key or "demo-only-" + uuid.uuid4().hex  # demo mode: a fresh key per run
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="fairdesk_session",
                       max_age=settings.session_max_age_s, same_site="lax", https_only=False)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, uploads=(
        (re.compile(r"/api/v1/(complaints|tickets)/\d+/attachments"), MAX_ATTACHMENT),
        # pages: a photo from a phone camera is 2-5 MB; a repair report takes up to three
        (re.compile(r"/(my/)?complaints(/\d+/attach)?|/tickets/\d+/attach"), MAX_ATTACHMENT + 64 * 1024),
        (re.compile(r"/my/repair"), 3 * MAX_ATTACHMENT + 64 * 1024),
        (re.compile(r"/api/v1/imports/\w+|/runs/import"), MAX_IMPORT + 64 * 1024)))
    app.add_middleware(RateLimit, settings=settings)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)
    return app
