"""What a customer does to their own request, in their words: withdraw it (取消报修), confirm the repair
(确认已修好), say it is not fixed (没修好，重新处理), answer a question, cancel the visit. What cannot be undone
is confirmed on a page that says what will happen; nothing acts on one tap."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairdesk.domain.errors import DomainError, InvalidInput
from fairdesk.domain.people import Actor
from fairdesk.domain.tickets import CUSTOMER_ACTIONS, CustomerAction, customer_actions
from fairdesk.entrypoints.web.pages import PageActor, _app, _check_csrf, _error_page, render
from fairdesk.services import dispatch as dispatch_svc
from fairdesk.services import tickets as ticket_svc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=64)]
Note = Annotated[str, Form(max_length=2000)]
CANCEL_VISIT = "cancel_visit"


def _context(request: Request, actor: Actor, ticket_id: int) -> tuple[Any, dict[str, Any] | None]:
    app = _app(request)
    ticket = ticket_svc.get_ticket(app.uows(readonly=True), actor, ticket_id)
    visits = dispatch_svc.visits_of_ticket(app.uows(readonly=True), actor, ticket_id, app.clock)
    return ticket, next((v for v in visits if v["status"] == "booked"), None)


def _page(request: Request, actor: Actor, ticket_id: int, action: str, *, note: str = "", error: str = "",
          status_code: int = 200) -> Response:
    try:
        ticket, visit = _context(request, actor, ticket_id)
    except DomainError as exc:
        return _error_page(request, exc)
    if action == CANCEL_VISIT:
        if visit is None:
            return RedirectResponse(f"{'/my' if actor.is_customer else ''}/tickets/{ticket_id}/visit", status_code=303)
        needs_note, final = False, True
    else:
        chosen = CustomerAction(action)
        if chosen not in customer_actions(ticket.status):
            return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
        needs_note, final = CUSTOMER_ACTIONS[chosen].needs_note, CUSTOMER_ACTIONS[chosen].final
    return render(request, "ticket_action.html", status_code=status_code, ticket=ticket, visit=visit,
                  action=action, needs_note=needs_note, final=final, note=note, error=error)


def _valid(action: str) -> bool:
    return action == CANCEL_VISIT or action in CustomerAction.__members__.values()


def _allowed(actor: Actor, action: str) -> bool:
    """Customers take every action on their own requests; staff use this page to cancel a visit."""
    return _valid(action) and (actor.is_customer or (action == CANCEL_VISIT and not actor.read_only))


@router.get("/my/tickets/{ticket_id}/do/{action}", response_class=HTMLResponse)
@router.get("/tickets/{ticket_id}/do/{action}", response_class=HTMLResponse)
def action_page(request: Request, actor: PageActor, ticket_id: int, action: str) -> Response:
    """The step before an action: what it will do, and a button that does it."""
    if not _allowed(actor, action):
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    return _page(request, actor, ticket_id, action)


@router.post("/my/tickets/{ticket_id}/do/{action}", response_class=HTMLResponse)
@router.post("/tickets/{ticket_id}/do/{action}", response_class=HTMLResponse)
def act(request: Request, actor: PageActor, ticket_id: int, action: str, note: Note = "",
        confirm: Annotated[str, Form(max_length=8)] = "", csrf: Csrf = "") -> Response:
    if not _allowed(actor, action):
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        if action == CANCEL_VISIT:
            if confirm != "yes":
                return _page(request, actor, ticket_id, action)
            _ticket, visit = _context(request, actor, ticket_id)
            if visit is not None:
                dispatch_svc.cancel(actor, visit["id"], note or "cancelled on the web", app.uows(), app.clock)
            base = "/my/tickets" if actor.is_customer else "/tickets"
            return RedirectResponse(f"{base}/{ticket_id}/visit", status_code=303)
        chosen, rule = CustomerAction(action), CUSTOMER_ACTIONS[CustomerAction(action)]
        if rule.final and confirm != "yes":
            return _page(request, actor, ticket_id, action, note=note)
        if rule.needs_note and not note.strip():
            raise InvalidInput("input.empty", "tell us in a few words", field="note")
        if chosen is CustomerAction.CANCEL:
            dispatch_svc.withdraw_request(actor, ticket_id, note, app.uows(), app.clock,
                                          public_url=app.settings.public_url)
        else:
            ticket_svc.move_ticket(ticket_svc.MoveTicket(actor, ticket_id, rule.to, note), app.uows(), app.clock,
                                   public_url=app.settings.public_url)
    except InvalidInput as exc:
        if exc.context.get("field") == "note":
            return _page(request, actor, ticket_id, action, note=note, error="note", status_code=422)
        return _error_page(request, exc)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
