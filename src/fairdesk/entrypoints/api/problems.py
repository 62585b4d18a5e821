"""Errors become RFC 9457 problem JSON: type, code, title (zh-CN or en), status, detail, invalid fields."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairdesk.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from fairdesk.i18n import negotiate, problem_title

__all__ = ["PROBLEM_RESPONSES", "Problem", "domain_status", "install_problem_handlers", "problem_response",
           "request_language"]

log = structlog.get_logger("fairdesk.api")

STATUS_OF: list[tuple[type[DomainError], int]] = [
    (NotFound, 404), (Forbidden, 403), (Conflict, 409), (Gone, 410), (Unauthenticated, 401), (TooManyRequests, 429),
    (InvalidInput, 422),
]
PROBLEM_BASE = "https://fairdesk.dev/problems/"


def request_language(request: Request) -> str:
    default = getattr(request.app.state, "default_language", "zh-CN")
    return negotiate(request.query_params.get("lang"), request.cookies.get("lang"),
                     request.headers.get("accept-language"), default)


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of the API is answered (``application/problem+json``)."""

    type: str
    code: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None
    request_id: str | None = None


_PROBLEM = {"application/problem+json": {"schema": Problem.model_json_schema()}}
#: Documented on every API route: what any 4xx or 5xx looks like.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"description": "The request was refused: a problem with a stable `code` and a zh-CN/en `title`.",
            "content": _PROBLEM},
    "5XX": {"description": "The service could not answer now (503 with Retry-After when retrying helps).",
            "content": _PROBLEM},
}


def problem_response(request: Request, status: int, code: str, detail: str,
                     errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "code": code,
        "title": problem_title(code, status, request_language(request)),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def domain_status(exc: DomainError) -> int:
    """The HTTP status of a domain error (pages and the API answer alike)."""
    for cls, status in STATUS_OF:
        if isinstance(exc, cls):
            return status
    return 400


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = domain_status(exc)
        errors = exc.context.get("errors")  # several problems at once (e.g. a file's lines)
        if errors is None and "field" in exc.context:
            errors = [{"field": exc.context["field"], "code": exc.code, "detail": exc.detail}]
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return problem_response(request, status, exc.code, exc.detail, errors, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        malformed = False
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
            kind = err.get("type", "")
            malformed = malformed or kind in ("json_invalid", "model_attributes_type")
            errors.append({"field": ".".join(loc) or None, "code": kind, "detail": err.get("msg", "")})
        code = "request.malformed" if malformed else "input.invalid"
        status = 400 if malformed else 422
        detail = "; ".join(f"{e['field'] or 'body'}: {e['detail']}" for e in errors)[:1000]
        return problem_response(request, status, code, detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "route.not_found", 405: "route.method_not_allowed", 413: "request.too_large"}.get(
            exc.status_code, f"http.{exc.status_code}")
        return problem_response(request, exc.status_code, code, str(exc.detail),
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _db_down(request: Request, exc: Exception) -> JSONResponse:
        # The database is unreachable or locked past its timeout: a retryable 503, not a 500. A full disk
        # (SQLITE_FULL, PostgreSQL's 53100) says so: nothing of the request was stored, retry once there is room.
        full = "disk is full" in str(exc) or "53100" in str(getattr(getattr(exc, "orig", None), "sqlstate", ""))
        log.warning("database_unavailable", error=type(exc).__name__, disk_full=full)
        if full:
            return problem_response(request, 503, "storage.full", "the database's disk is full; nothing of this "
                                    "request was stored — retry later", headers={"Retry-After": "30"})
        return problem_response(request, 503, "service.unavailable", "the database is unavailable; retry",
                                headers={"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error")
        return problem_response(request, 500, "server.error", "an unexpected error was logged")
