"""FastAPI dependencies: the wired app, the acting user, the request language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from fairdesk.bootstrap import App
from fairdesk.domain import files
from fairdesk.domain.errors import InvalidInput, Unauthenticated
from fairdesk.domain.people import Actor
from fairdesk.services.identity import actor_from_token

__all__ = ["FILE_BODY", "ActorDep", "AppDep", "IdPath", "file_body", "get_app"]

#: Ids are positive and fit a signed 64-bit column on every database.
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


def get_app(request: Request) -> App:
    return request.app.state.fairdesk


AppDep = Annotated[App, Depends(get_app)]


def current_actor(app: AppDep, authorization: Annotated[str | None, Header()] = None) -> Actor:
    """The actor behind ``Authorization: Bearer fd_…``; 401 otherwise."""
    if not authorization:
        raise Unauthenticated("auth.required", "send Authorization: Bearer <token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("auth.bad_token", "use the Bearer scheme")
    return actor_from_token(app.uows(readonly=True), token.strip())


ActorDep = Annotated[Actor, Depends(current_actor)]


#: OpenAPI for a route whose body is one file (a photo or a PDF), as ``openapi_extra``.
FILE_BODY = {"requestBody": {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in files.TYPES},
                             "required": True}}


async def file_body(request: Request, what: str) -> bytes:
    """A file sent as the request body, refused (``{what}.attachment_too_large``) past the attachment limit,
    declared or streamed."""
    declared = request.headers.get("content-length")
    too_large = InvalidInput(f"{what}.attachment_too_large", f"an attachment is at most {files.MAX_BYTES // 2**20} MB")
    if declared and declared.isdigit() and int(declared) > files.MAX_BYTES:
        raise too_large
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > files.MAX_BYTES:
            raise too_large
    return bytes(data)
