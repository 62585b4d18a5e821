"""The hotline agent's console: caller lookup by phone number, a new request in one screen (for a known caller
or a new one), intent hints while typing, and the agent's queue."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairdesk.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from fairdesk.domain.intents import Intent, classify
from fairdesk.domain.people import Role
from fairdesk.domain.tickets import Category, Channel, Priority, Status, TicketFilter
from fairdesk.entrypoints.api.schemas import CustomerOut
from fairdesk.entrypoints.web.pages import PageActor, _app, _check_csrf, _error_page, field_error, render
from fairdesk.reference.intent_rules import default_rules
from fairdesk.services import customers as customer_svc
from fairdesk.services import tickets as ticket_svc
from fairdesk.services.channels import display_phone

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
    return _console(request, actor, phone or "")


def _console(request: Request, actor: Any, phone: str, *, errors: dict[str, str] | None = None,
             values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    """The console; after a refused submit, each problem beside its field and everything typed kept."""
    app = _app(request)
    errors = dict(errors or {})
    callers: list[dict[str, Any]] = []
    try:
        if phone:
            try:
                callers = _callers(request, actor, phone)
            except InvalidInput as exc:
                errors.setdefault("lookup", next(iter(field_error(request, exc).values())))
        queue = ticket_svc.list_tickets(app.uows(readonly=True), actor, TicketFilter(status=Status.NEW), limit=20)
        mine = ticket_svc.list_tickets(app.uows(readonly=True), actor,
                                       TicketFilter(assignee_id=actor.user_id, open_only=True), limit=20)
        with app.uows(readonly=True) as uow:
            products = [(p.model, p.name) for p in uow.products.for_brand(actor.brand_id)]
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, "console.html", status_code=status_code, phone=phone, callers=callers, errors=errors,
                  values=values or {}, queue=queue, mine=mine, products=products, categories=list(Category),
                  priorities=list(Priority), key=(values or {}).get("key") or secrets.token_urlsafe(12))


@router.get("/console/phone", response_class=HTMLResponse)
def check_phone(request: Request, actor: PageActor, phone: Annotated[str, Query(max_length=32)] = "") -> Response:
    """Whether a number is a phone number, as it is typed (htmx swaps this line in beside the field)."""
    if actor.role not in CONSOLE_ROLES:
        return Response(status_code=403)
    shown, problem = None, None
    if phone.strip():
        try:
            shown = display_phone(customer_svc.normalize_phone(phone))
        except InvalidInput as exc:
            problem = next(iter(field_error(request, exc).values()))
    return render(request, "_phone_check.html", shown=shown, problem=problem)


@router.get("/console/resolve", response_class=HTMLResponse)
def resolve_address(request: Request, actor: PageActor,
                    address: Annotated[str, Query(max_length=300)] = "") -> Response:
    """The county an address is in and the outlet that covers it, as it is typed."""
    if actor.role not in CONSOLE_ROLES:
        return Response(status_code=403)
    from fairdesk.reference.regions_data import default_resolver
    from fairdesk.services import network

    found, outlets = None, []
    if len(address.strip()) >= 2:
        route = network.route_address(_app(request).uows(readonly=True), actor, address, default_resolver())
        if route.resolution.adcode:
            found = route.resolution.as_dict()
            outlets = [o.name for _r, o in route.outlets[:3]]
    return render(request, "_console_resolved.html", found=found, outlets=outlets, typed=bool(address.strip()))


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
                   product_model: Annotated[str, Form(max_length=64)] = "",
                   serial_number: Annotated[str, Form(max_length=64)] = "",
                   csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    """One screen: a known caller (customer_id) or a new one (name, phone, address), the unit (one of theirs, or
    a new one by model and serial), and the request. A refusal comes back as the console with the problem beside
    its field and everything typed kept; a caller or unit already saved stays saved and is picked next time."""
    app = _app(request)
    values = {"customer_id": customer_id, "name": name, "phone": phone, "address": address, "unit_id": unit_id,
              "product_model": product_model, "serial_number": serial_number, "category": category.value,
              "priority": priority.value, "subject": subject, "description": description, "key": key}
    lookup = phone
    try:
        _check_csrf(request, csrf)
        if customer_id.isdigit():
            cid = int(customer_id)
        else:
            if not name.strip():
                raise InvalidInput("console.caller", "give the new caller's name", field="name")
            if not phone.strip():
                raise InvalidInput("customer.invalid_phone", "give the new caller's phone", field="phone")
            customer_svc.normalize_phone(phone)  # checked before anything is saved
            cid = customer_svc.create_customer(customer_svc.CreateCustomer(
                actor, name, [phone], [address] if address.strip() else []), app.uows(), app.clock).id
            values["customer_id"] = str(cid)
            if address.strip():
                with app.uows(readonly=True) as uow:
                    address_id = str(uow.customers.get(actor.brand_id, cid).addresses[0].id)
        if not unit_id.isdigit() and product_model.strip():
            if not serial_number.strip():
                raise InvalidInput("unit.serial", "give the unit's serial number", field="serial_number")
            unit = customer_svc.register_unit(customer_svc.RegisterUnit(actor, cid, product_model, serial_number),
                                              app.uows())
            unit_id = values["unit_id"] = str(unit.id)
        ticket, _ = ticket_svc.open_ticket(ticket_svc.OpenTicket(
            actor, cid, Channel.HOTLINE, category, subject, description, priority,
            unit_id=int(unit_id) if unit_id.isdigit() else None,
            address_id=int(address_id) if address_id.isdigit() else None), app.uows, app.clock,
            idempotency_key=f"console:{key}" if key else None)
    except (InvalidInput, NotFound, Conflict) as exc:
        field = {"phones": "phone", "addresses": "address"}.get(str(exc.context.get("field", "")),
                                                                 exc.context.get("field"))
        if exc.code == "unit.serial_registered":
            field = "serial_number"
        message = next(iter(field_error(request, exc).values()))
        if values["customer_id"].isdigit() and not customer_id.isdigit():
            lookup = phone  # the new caller is saved: the console finds them by the number now
        return _console(request, actor, lookup, errors={str(field or "_form"): message}, values=values,
                        status_code=422)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/tickets/{ticket.id}", status_code=303)
