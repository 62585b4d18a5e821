"""The agents' inbox: the conversations waiting for a person in the published order, claimed, answered,
transferred with a note, closed — refreshed without reloading (htmx polls a fragment). The customer's chat
shows the answers as they come, their place in the queue and how long a person took lately."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairdesk.domain.errors import DomainError, InvalidInput
from fairdesk.entrypoints.web.pages import PageActor, _app, _check_csrf, _error_page, field_error, render
from fairdesk.services import contact as contact_svc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=64)]
#: How often (seconds) the pages ask for what is new: quick enough to feel live, light on the server.
POLL_S = 3


def _inbox_allowed(actor: PageActor) -> bool:
    return actor.role in contact_svc.INBOX_ROLES


@router.get("/inbox", response_class=HTMLResponse)
@router.get("/inbox/lists", response_class=HTMLResponse)
def inbox_page(request: Request, actor: PageActor) -> Response:
    if not _inbox_allowed(actor):
        return RedirectResponse("/my/chat" if actor.is_customer else "/tickets", status_code=303)
    app = _app(request)
    data = contact_svc.inbox(app.uows, actor, app.clock)
    fragment = request.url.path.endswith("/lists")
    return render(request, "_inbox_lists.html" if fragment else "inbox.html", box=data, poll_s=POLL_S)


def _conversation_page(request: Request, actor: PageActor, conversation_id: int, *, text: str = "",
                       errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    app = _app(request)
    try:
        conv = contact_svc.conversation_view(app.uows, actor, conversation_id, app.clock)
        people = contact_svc.colleagues(app.uows, actor)
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, "inbox_conversation.html", status_code=status_code, conv=conv, colleagues=people,
                  text=text, errors=errors or {}, poll_s=POLL_S)


@router.get("/inbox/{conversation_id}", response_class=HTMLResponse)
def conversation_page(request: Request, actor: PageActor, conversation_id: int) -> Response:
    if not _inbox_allowed(actor):
        return RedirectResponse("/my/chat" if actor.is_customer else "/tickets", status_code=303)
    return _conversation_page(request, actor, conversation_id)


@router.get("/inbox/{conversation_id}/messages", response_class=HTMLResponse)
@router.get("/my/chat/{conversation_id}/messages", response_class=HTMLResponse)
def messages_fragment(request: Request, actor: PageActor, conversation_id: int) -> Response:
    """What htmx swaps in every few seconds: the messages, and where the conversation stands."""
    app = _app(request)
    try:
        conv = contact_svc.conversation_view(app.uows, actor, conversation_id, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, "_conversation_messages.html", conv=conv, poll_s=POLL_S)


@router.post("/inbox/{conversation_id}/{action}", response_class=HTMLResponse)
def act(request: Request, actor: PageActor, conversation_id: int, action: str,
        text: Annotated[str, Form(max_length=contact_svc.MAX_REPLY + 100)] = "",
        to_user_id: Annotated[str, Form(max_length=20)] = "", note: Annotated[str, Form(max_length=500)] = "",
        confirm: Annotated[str, Form(max_length=8)] = "", csrf: Csrf = "") -> Response:
    """Claim, reply, transfer or close; a refused reply comes back with its reason and the text kept."""
    if not _inbox_allowed(actor):
        return RedirectResponse("/tickets", status_code=303)
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        if action == "claim":
            contact_svc.claim(actor, conversation_id, app.uows, app.clock)
        elif action == "reply":
            contact_svc.reply(actor, conversation_id, text, app.uows, app.clock)
        elif action == "transfer":
            if not to_user_id.isdigit():
                raise InvalidInput("conversation.transfer_to", "choose a colleague", field="to_user_id")
            contact_svc.transfer(actor, conversation_id, int(to_user_id), note, app.uows, app.clock)
            return RedirectResponse("/inbox", status_code=303)
        elif action == "close":
            if confirm != "yes":
                return _conversation_page(request, actor, conversation_id)
            from fairdesk.services.contact import close_conversation

            close_conversation(actor, conversation_id, app.uows(), app.clock)
            return RedirectResponse("/inbox", status_code=303)
        else:
            return RedirectResponse(f"/inbox/{conversation_id}", status_code=303)
    except InvalidInput as exc:
        return _conversation_page(request, actor, conversation_id, text=text, errors=field_error(request, exc),
                                  status_code=422)
    except DomainError as exc:
        return _conversation_page(request, actor, conversation_id, text=text, status_code=409,
                                  errors={"_form": next(iter(field_error(request, exc).values()))})
    return RedirectResponse(f"/inbox/{conversation_id}#reply", status_code=303)
