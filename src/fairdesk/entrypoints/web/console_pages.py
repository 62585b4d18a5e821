"""The hotline agent's console: caller lookup by phone number, a new request in one screen (for a known caller
or a new one), intent hints while typing, and the agent's queue."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairdesk.adapters.intent_rules import default_rules
from fairdesk.domain.errors import DomainError, InvalidInput
from fairdesk.domain.intents import Intent, classify
from fairdesk.domain.people import Role
from fairdesk.domain.tickets import Category, Channel, Priority, Status, TicketFilter
from fairdesk.entrypoints.api.schemas import CustomerOut
from fairdesk.entrypoints.web.pages import PageActor, _app, _check_csrf, _error_page, render
from fairdesk.services import customers as customer_svc
from fairdesk.services import tickets as ticket_svc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
CONSOLE_ROLES = (Role.AGENT, Role.MANAGER, Role.DISPATCHER)
#: What the agent is told when a caller's words carry an intent the hotline must not slow down.
HINTS = {Intent.DOWNGRADE: "plan", Intent.CANCEL: "plan", Intent.UPGRADE: "plan", Intent.REFUND: "complaint",
         Intent.COMPLAINT: "complaint", Intent.HUMAN: "human", Intent.STATUS: "status", Intent.REPAIR: "repair"}



def _callers(request: Request, actor: Any, phone: str) -> list[dict[str, Any]]:
    """The customers with this number, masked as the API masks them, with their units and latest requests."""
    app = _app(request)
    found = customer_svc.find_customers_by_phone(app.uows(readonly=True), actor, phone)
    given = customer_svc.normalize_phone(phone)
    out = []
    with app.uows(readonly=True) as uow:
        full = customer_svc.contacts_visible(uow, actor, [c.id for c in found])
        for c in found:
            shown = CustomerOut.of(c, app.clock.tz, full=c.id in full, known_phone=given)
            out.append({"id": c.id, "name": c.name, "phones": shown.phones,
                        "addresses": [(a.id, a.text) for a in shown.addresses],
                        "units": [(u.id, u.serial_number) for u in uow.units.of_customer(actor.brand_id, c.id)],
                        "tickets": ticket_svc.list_tickets(app.uows(readonly=True), actor,
                                                           TicketFilter(customer_id=c.id), limit=5)})
    customer_svc.record_reads(app.uows, actor, [c.id for c in found], "customer.lookup", app.clock)
    return out


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, actor: PageActor, phone: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    if actor.role not in CONSOLE_ROLES:
        return RedirectResponse("/my" if actor.is_customer else "/tickets", status_code=303)
    app = _app(request)
    callers, error = [], None
    try:
        if phone:
            callers = _callers(request, actor, phone)
        queue = ticket_svc.list_tickets(app.uows(readonly=True), actor, TicketFilter(status=Status.NEW), limit=20)
        mine = ticket_svc.list_tickets(app.uows(readonly=True), actor,
                                       TicketFilter(assignee_id=actor.user_id, open_only=True), limit=20)
    except DomainError as exc:
        if not isinstance(exc, InvalidInput):
            return _error_page(request, exc)
        error, queue, mine = exc.detail, [], []
    return render(request, "console.html", phone=phone or "", callers=callers, error=error, queue=queue, mine=mine,
                  categories=list(Category), priorities=list(Priority), key=secrets.token_urlsafe(12))


@router.post("/console/intent", response_class=HTMLResponse)
def intent_hint(request: Request, actor: PageActor, subject: Annotated[str, Form(max_length=200)] = "",
                description: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    """What the caller's words ask for, as the agent types (htmx swaps this fragment in)."""
    if actor.role not in CONSOLE_ROLES:
        return Response(status_code=403)
    intent, confidence = classify(f"{subject} {description}", default_rules())
    return render(request, "_intent_hint.html", intent=intent.value, hint=HINTS.get(intent),
                  confidence=round(confidence, 2))


@router.post("/console/tickets", response_class=HTMLResponse)
def console_ticket(request: Request, actor: PageActor, category: Annotated[Category, Form()],
                   priority: Annotated[Priority, Form()], subject: Annotated[str, Form(max_length=200)],
                   description: Annotated[str, Form(max_length=10_000)] = "",
                   customer_id: Annotated[str, Form(max_length=20)] = "",
                   name: Annotated[str, Form(max_length=100)] = "", phone: Annotated[str, Form(max_length=32)] = "",
                   address: Annotated[str, Form(max_length=300)] = "",
                   unit_id: Annotated[str, Form(max_length=20)] = "",
                   address_id: Annotated[str, Form(max_length=20)] = "", key: Annotated[str, Form(max_length=64)] = "",
                   csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    """One screen: a known caller (customer_id) or a new one (name, phone, address), and the request."""
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        if customer_id.isdigit():
            cid = int(customer_id)
        else:
            if not name.strip() or not phone.strip():
                raise InvalidInput("console.caller", "pick the caller, or give a new caller's name and phone")
            cid = customer_svc.create_customer(customer_svc.CreateCustomer(
                actor, name, [phone], [address] if address.strip() else []), app.uows(), app.clock).id
            if address.strip():
                with app.uows(readonly=True) as uow:
                    address_id = str(uow.customers.get(actor.brand_id, cid).addresses[0].id)
        ticket, _ = ticket_svc.open_ticket(ticket_svc.OpenTicket(
            actor, cid, Channel.HOTLINE, category, subject, description, priority,
            unit_id=int(unit_id) if unit_id.isdigit() else None,
            address_id=int(address_id) if address_id.isdigit() else None), app.uows, app.clock,
            idempotency_key=f"console:{key}" if key else None)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/tickets/{ticket.id}", status_code=303)
