"""The customer's repair: report one (the unit, the address resolved as it is typed, what is wrong), pick a
window among those offered, and follow it — the visit, the technician, moving or cancelling it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from fairdesk.bootstrap import App
from fairdesk.domain.errors import DomainError, InvalidInput
from fairdesk.domain.files import MAX_BYTES as MAX_ATTACHMENT
from fairdesk.domain.people import Actor
from fairdesk.domain.tickets import Category, Channel, Ticket
from fairdesk.entrypoints.api.problems import domain_status, request_language
from fairdesk.entrypoints.web.pages import PageActor, _app, _check_csrf, _error_page, field_error, render
from fairdesk.i18n import N_, t
from fairdesk.reference.regions_data import default_resolver
from fairdesk.services import contact as contact_svc
from fairdesk.services import customers as customer_svc
from fairdesk.services import dispatch as dispatch_svc
from fairdesk.services import tickets as ticket_svc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=64)]
KINDS = (Category.REPAIR, Category.INSTALLATION, Category.MAINTENANCE)



@router.get("/my/repair", response_class=HTMLResponse)
def repair_form(request: Request, actor: PageActor) -> Response:
    if not actor.is_customer:
        return RedirectResponse("/console", status_code=303)
    return _repair_form(request, actor)


def _repair_form(request: Request, actor: Actor, status_code: int = 200, typed: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None, candidates: list[dict[str, str]] | None = None) -> Response:
    """The repair form — empty, or again with what was typed, each problem beside its field and, for an address
    that names no single county, the counties it may be in."""
    with _app(request).uows(readonly=True) as uow:
        customer = uow.customers.get(actor.brand_id, actor.customer_id)
        units = uow.units.of_customer(actor.brand_id, actor.customer_id)
    if typed is None:
        typed = {"address": customer.addresses[0].text if customer and customer.addresses else ""}
    return render(request, "repair.html", status_code=status_code, customer=customer, units=units, kinds=KINDS,
                  typed=typed, errors=errors or {}, candidates=candidates or [])


def _place(candidate: dict[str, str]) -> str:
    """A candidate division by its full name (福建省漳州市漳浦县)."""
    return candidate.get("name", "")


@router.get("/my/resolve", response_class=HTMLResponse)
def resolve_address(request: Request, actor: PageActor,
                    address: Annotated[str, Query(max_length=300)] = "") -> Response:
    """The division an address is in, as it is typed (htmx swaps this line in)."""
    found = default_resolver().resolve(address) if len(address.strip()) >= 2 else None
    return render(request, "_resolved.html", found=found.as_dict() if found and found.adcode else None,
                  typed=bool(address.strip()),
                  candidates=[_place(c) for c in found.candidates] if found and not found.adcode else [])


#: Photos on one repair report (each at most 5 MB).
MAX_PHOTOS = 3


@router.post("/my/repair", response_class=HTMLResponse)
async def repair_submit(request: Request, actor: PageActor, category: Annotated[str, Form(max_length=20)],
                        subject: Annotated[str, Form(max_length=200)], address: Annotated[str, Form(max_length=300)],
                        unit_id: Annotated[str, Form(max_length=20)] = "",
                        place: Annotated[str, Form(max_length=100)] = "",
                        description: Annotated[str, Form(max_length=10_000)] = "", csrf: Csrf = "",
                        photos: Annotated[list[UploadFile] | None, File()] = None) -> Response:
    """The request, with up to three photos of the fault. Everything is checked before anything is opened — the
    photos, and the address, which must name one county (a technician is sent there); a refusal brings the form
    back with what was typed and the problem beside its field, and, for an address in no single county, the
    counties it may be in (``place``, chosen from them, is put in front of the address)."""
    app = _app(request)
    if place and not address.startswith(place):
        address = place + address
    typed = {"category": category, "subject": subject, "address": address, "unit_id": unit_id,
             "description": description}
    try:
        _check_csrf(request, csrf)
        kind = Category(category) if category in {k.value for k in KINDS} else None
        if kind is None:
            raise InvalidInput("ticket.category", f"choose one of {[k.value for k in KINDS]}", field="category")
        chosen = [p for p in photos or [] if p.filename]
        if len(chosen) > MAX_PHOTOS:
            raise InvalidInput("ticket.attachments_full", f"send at most {MAX_PHOTOS} photos with a report",
                               field="photos")
        files = []
        for photo in chosen:
            data = await photo.read(MAX_ATTACHMENT + 1)
            try:
                files.append((photo.filename or "", ticket_svc.check_attachment(photo.content_type or "", data), data))
            except InvalidInput as exc:
                raise InvalidInput(exc.code, exc.detail, field="photos") from exc
        found = default_resolver().resolve(address)
        if not found.adcode:
            why = (N_("This address names no single county: add the province, city and county, or choose one below")
                   if found.candidates else N_("This address was not recognised: add the province, city and county"))
            return _repair_form(request, actor, 422, typed, {"address": t(why, request_language(request))},
                                [_place(c) for c in found.candidates])
        ticket = await run_in_threadpool(_open_repair, app, actor, kind, subject, address, found.adcode, unit_id,
                                         description)
        for name, content_type, data in files:
            await run_in_threadpool(ticket_svc.add_attachment, app.uows, actor, ticket.id, name, content_type, data,
                                    app.clock)
    except InvalidInput as exc:
        return _repair_form(request, actor, domain_status(exc), typed, field_error(request, exc))
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/my/tickets/{ticket.id}/visit", status_code=303)


def _open_repair(app: App, actor: Actor, category: Category, subject: str, address: str, adcode: str,
                 unit_id: str, description: str) -> Ticket:
    added = customer_svc.add_address(app.uows(), actor, actor.customer_id, address, adcode)
    ticket, _ = ticket_svc.open_ticket(ticket_svc.OpenTicket(
        actor, actor.customer_id, Channel.WEB, category, subject, description,
        unit_id=int(unit_id) if unit_id.isdigit() else None, address_id=added.id), app.uows, app.clock)
    return ticket


def _visits_base(actor: Actor) -> str:
    """Customers follow their visit under /my; staff (the hotline, dispatchers) book and move it from the ticket."""
    return "/my/tickets" if actor.is_customer else "/tickets"


@router.get("/my/tickets/{ticket_id}/visit", response_class=HTMLResponse)
@router.get("/tickets/{ticket_id}/visit", response_class=HTMLResponse)
def visit_page(request: Request, actor: PageActor, ticket_id: int) -> Response:
    """The visit of one request: the booked one (with its technician), or the windows to choose from — for the
    customer, and for an agent or dispatcher finishing a caller's request from the ticket."""
    if request.url.path.startswith("/my/") != actor.is_customer:
        return RedirectResponse(f"{_visits_base(actor)}/{ticket_id}/visit", status_code=303)
    app = _app(request)
    try:
        visits = dispatch_svc.visits_of_ticket(app.uows(readonly=True), actor, ticket_id, app.clock)
        active = next((v for v in visits if v["status"] in ("booked", "on_site")), None)
        windows = [] if active and active["status"] == "on_site" else dispatch_svc.windows(
            app.uows(readonly=True), actor, ticket_id, app.clock)
        ticket = ticket_svc.get_ticket(app.uows(readonly=True), actor, ticket_id)
    except DomainError as exc:
        return _error_page(request, exc)
    # Grouped by day on the page; the day as the customer reads it ("12月3日 周四" / "Thu 3 Dec").
    shown = [w | {"day": _day_label(w["starts_at"], request_language(request))} for w in windows[:30]]
    booked = (dispatch_svc.booked_summary(app.uows(readonly=True), actor, ticket_id, app.clock)
              if request.query_params.get("booked") and active else None)
    return render(request, "visit.html", ticket=ticket, active=active, windows=shown, visits=visits,
                  base=_visits_base(actor), booked=booked)


_WEEKDAYS = {"zh-CN": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def _day_label(starts_at: str, lang: str) -> str:
    d = datetime.fromisoformat(starts_at)
    if lang == "zh-CN":
        return f"{d.month}月{d.day}日 周{_WEEKDAYS['zh-CN'][d.weekday()]}"
    return f"{_WEEKDAYS['en'][d.weekday()]} {d.day} {d:%b}"


@router.post("/my/tickets/{ticket_id}/visit", response_class=HTMLResponse)
@router.post("/tickets/{ticket_id}/visit", response_class=HTMLResponse)
def visit_book(request: Request, actor: PageActor, ticket_id: int, window: Annotated[str, Form(max_length=80)],
               csrf: Csrf = "") -> Response:
    """Book the chosen window, or move the booked visit to it."""
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        starts, _, ends = window.partition("/")
        starts_at, ends_at = datetime.fromisoformat(starts), datetime.fromisoformat(ends)
        visits = dispatch_svc.visits_of_ticket(app.uows(readonly=True), actor, ticket_id, app.clock)
        active = next((v for v in visits if v["status"] == "booked"), None)
        if active:
            dispatch_svc.reschedule(actor, active["id"], starts_at, ends_at, app.uows(), app.clock)
        else:
            dispatch_svc.book(dispatch_svc.Booking(actor, ticket_id, starts_at, ends_at), app.uows, app.clock,
                              idempotency_key=f"web:{ticket_id}:{window}")
    except ValueError:
        return _error_page(request, DomainError("input.invalid", "choose one of the windows offered"), 422)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"{_visits_base(actor)}/{ticket_id}/visit?booked=1", status_code=303)


# --- chat, with a person always one button away -----------------------------------------------------------------

def _conversation(request: Request, actor: PageActor) -> int:
    """The customer's open web conversation, opened when there is none."""
    app = _app(request)
    with app.uows(readonly=True) as uow:
        conv = uow.contact.latest_open(actor.brand_id, actor.customer_id)
    if conv is not None:
        return conv.id
    return contact_svc.open_conversation(contact_svc.OpenConversation(
        actor, "web", request_language(request), actor.customer_id), app.uows(), app.clock).id


@router.get("/my/chat", response_class=HTMLResponse)
def chat(request: Request, actor: PageActor) -> Response:
    if not actor.is_customer:
        return RedirectResponse("/tickets", status_code=303)
    app = _app(request)
    with app.uows(readonly=True) as uow:
        conv = uow.contact.latest_open(actor.brand_id, actor.customer_id)
    view = contact_svc.conversation_view(app.uows, actor, conv.id, app.clock) if conv else None
    return render(request, "chat.html", conv=view, poll_s=3)


@router.post("/my/chat", response_class=HTMLResponse)
def chat_send(request: Request, actor: PageActor, text: Annotated[str, Form(min_length=1, max_length=2000)],
              csrf: Csrf = "") -> Response:
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        contact_svc.post_message(actor, _conversation(request, actor), text, app.uows, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse("/my/chat#end", status_code=303)


@router.post("/my/chat/person", response_class=HTMLResponse)
def chat_person(request: Request, actor: PageActor, csrf: Csrf = "") -> Response:
    """The "talk to a person" button: one press, whatever the bot thinks."""
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        contact_svc.talk_to_person(actor, _conversation(request, actor), app.uows, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse("/my/chat#end", status_code=303)


# --- evidence: everything about me, with the proofs, to keep or to file ----------------------------------------

@router.get("/my/evidence.{fmt}")
def my_evidence(request: Request, actor: PageActor, fmt: str) -> Response:
    """The customer's evidence bundle (every logged interaction with its hash-chain proofs), JSON or PDF."""
    import json

    from fairdesk.adapters.pdf import bundle_pdf
    from fairdesk.services import evidence as evidence_svc

    if not actor.is_customer or fmt not in ("json", "pdf"):
        return _error_page(request, DomainError("not_found", "no such export"), 404)
    app = _app(request)
    bundle = evidence_svc.export_bundle(app.uows, app.clock, actor, actor.customer_id)
    name = f"evidence-{bundle['brand']['code']}-{actor.customer_id}"
    if fmt == "pdf":
        pdf = bundle_pdf(bundle, request_language(request), evidence_svc.display_names(app.uows, actor, bundle))
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})
    return Response(json.dumps(bundle, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
