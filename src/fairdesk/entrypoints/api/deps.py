"""FastAPI dependencies: the wired app, the acting user, the request language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from fairdesk.bootstrap import App
from fairdesk.domain.errors import Unauthenticated
from fairdesk.domain.people import Actor
from fairdesk.services.identity import actor_from_token

__all__ = ["ActorDep", "AppDep", "IdPath", "get_app"]

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
