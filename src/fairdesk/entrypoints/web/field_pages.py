"""Pages for the field: the dispatcher's board (each technician's day, reassign with a reason, parts held) and
the technician's day on a phone (jobs, the address with a map link, check-in, check-out with the work, the
parts fitted and the customer's sign-off)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairdesk.domain.dispatch import Unfit
from fairdesk.domain.errors import DomainError, InvalidInput
from fairdesk.domain.people import Role
from fairdesk.entrypoints.api.problems import domain_status, request_language
from fairdesk.entrypoints.web.pages import PageActor, _app, _check_csrf, _error_page, field_error, render
from fairdesk.i18n import N_, problem_title, t
from fairdesk.services import dispatch as dispatch_svc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=64)]
BOARD_ROLES = (Role.DISPATCHER, Role.MANAGER)
#: Why a technician cannot take a visit over, as the board says it beside their name.
UNFIT_WORDS = {
    Unfit.INACTIVE: N_("No longer active"),
    Unfit.NO_CERTIFICATE: N_("No certificate for this product line"),
    Unfit.CERTIFICATE_EXPIRED: N_("Certificate expired"),
    Unfit.CERTIFICATE_NOT_YET_VALID: N_("Certificate not valid yet"),
    Unfit.NOT_WORKING: N_("Not working then"),
    Unfit.ON_LEAVE: N_("On leave then"),
    Unfit.BUSY: N_("Busy then: another visit, or the day is full"),
    Unfit.OUTLET_CLOSED: N_("Their outlet is closed then"),
}



def _day(request: Request, text: str | None) -> date:
    if not text:
        return _app(request).clock.now().astimezone(_app(request).clock.tz).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("input.invalid", f"{text!r} is not a day like 2026-11-25", field="day") from None


@router.get("/dispatch", response_class=HTMLResponse)
def board_page(request: Request, actor: PageActor, day: Annotated[str | None, Query(max_length=10)] = None,
               outlet: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """Today's jobs per technician and window (technicians with visits, or one outlet's whole team)."""
    if actor.role is Role.TECHNICIAN:
        return RedirectResponse("/my-day", status_code=303)
    if actor.role not in BOARD_ROLES:
        return RedirectResponse("/tickets", status_code=303)
    return _board(request, actor, day, outlet)


def _board(request: Request, actor: Any, day: str | None, outlet: str | None,
           errors: dict[int, str] | None = None, status_code: int = 200) -> Response:
    """The board; ``errors``: a refused action's reason, shown beside the visit it was about."""
    app = _app(request)
    try:
        the_day = _day(request, day)
        rows = dispatch_svc.board(app.uows(readonly=True), actor, the_day, app.clock, outlet_code=outlet or None)
        with app.uows(readonly=True) as uow:
            outlets = {o.id: o for o in uow.outlets.for_brand(actor.brand_id)}
        queue = dispatch_svc.unscheduled(app.uows, actor, app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    shown = rows if outlet else [r for r in rows if r["visits"]]
    busy = {r["id"] for r in shown}
    team = [{"id": r["id"], "name": r["name"], "outlet": outlets[r["outlet_id"]].name} for r in rows
            if r["outlet_id"] in {x["outlet_id"] for x in shown} or r["id"] in busy]
    # Who can take each booked visit over in its window, by auto-dispatch's rule: those who can first, then
    # the others, each with the reason they cannot (the server refuses them all the same).
    booked = {v["id"]: r["id"] for r in shown for v in r["visits"] if v["status"] == "booked"}
    try:
        unfit = dispatch_svc.reassign_choices(app.uows(readonly=True), actor, list(booked), [m["id"] for m in team],
                                              app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    choices = {visit_id: sorted(({**m, "why": unfit.get(visit_id, {}).get(m["id"])} for m in team if m["id"] != owner),
                                key=lambda c: (c["why"] is not None, c["outlet"], c["name"]))
               for visit_id, owner in booked.items()}
    return render(request, "board.html", status_code=status_code, rows=shown, day=the_day, outlet=outlet or "",
                  outlets=outlets, choices=choices, unfit_words=UNFIT_WORDS,
                  visits=sum(len(r["visits"]) for r in shown), queue=queue, errors=errors or {},
                  problem_title=lambda code: problem_title(code, 422, request_language(request)))


@router.post("/dispatch/visits/{visit_id}/reassign", response_class=HTMLResponse)
def reassign(request: Request, actor: PageActor, visit_id: int, technician_id: Annotated[int, Form(ge=1)],
             reason: Annotated[str, Form(max_length=500)] = "", day: Annotated[str, Form(max_length=10)] = "",
             outlet: Annotated[str, Form(max_length=40)] = "", csrf: Csrf = "") -> Response:
    """Give the visit to another technician in the same window, with a reason (recorded on the visit)."""
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        visit = dispatch_svc.get_visit(app.uows(readonly=True), actor, visit_id, app.clock)
        dispatch_svc.reschedule(actor, visit_id, datetime.fromisoformat(visit["starts_at"]),
                                datetime.fromisoformat(visit["ends_at"]), app.uows(), app.clock,
                                technician_id=technician_id, reason=reason)
    except DomainError as exc:  # the reason beside the visit, on the board (htmx swaps only a 2xx answer)
        message = next(iter(field_error(request, exc).values()))
        unfit = exc.context.get("unfit")
        if unfit in {u.value for u in UNFIT_WORDS}:  # the precise reason, as the list says it
            message = t(UNFIT_WORDS[Unfit(unfit)], request_language(request))
        return _board(request, actor, day or None, outlet or None, errors={visit_id: message},
                      status_code=200 if request.headers.get("HX-Request") else domain_status(exc))
    return RedirectResponse(f"/dispatch?day={quote(day)}&outlet={quote(outlet)}", status_code=303)


@router.get("/my-day", response_class=HTMLResponse)
def my_day(request: Request, actor: PageActor, day: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    """The technician's jobs for the day, in order, with everything needed at the door."""
    if actor.role is not Role.TECHNICIAN:
        return RedirectResponse("/dispatch" if actor.role in BOARD_ROLES else "/tickets", status_code=303)
    app = _app(request)
    try:
        the_day = _day(request, day)
        me, jobs = dispatch_svc.technician_day(app.uows(readonly=True), actor, the_day, app.clock)
        for job in jobs:
            job["map"] = "https://uri.amap.com/search?keyword=" + quote(job["address"])
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, "my_day.html", me=me, jobs=jobs, day=the_day)


@router.post("/my-day/visits/{visit_id}/check-in", response_class=HTMLResponse)
def check_in(request: Request, actor: PageActor, visit_id: int, csrf: Csrf = "") -> Response:
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        dispatch_svc.check_in(actor, visit_id, app.uows(), app.clock)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/my-day#visit-{visit_id}", status_code=303)


@router.post("/my-day/visits/{visit_id}/check-out", response_class=HTMLResponse)
def check_out(request: Request, actor: PageActor, visit_id: int, work_done: Annotated[str, Form(max_length=5000)],
              signed_by: Annotated[str, Form(max_length=100)], outcome: Annotated[str, Form(max_length=20)],
              parts: Annotated[str, Form(max_length=500)] = "", csrf: Csrf = "") -> Response:
    """Done: the work, the parts fitted (``SKU`` or ``SKU×2``, comma-separated) and who signed it off."""
    app = _app(request)
    try:
        _check_csrf(request, csrf)
        if not signed_by.strip():
            raise InvalidInput("visit.sign_off", "the customer's name, as they signed off the work",
                               field="signed_by")
        used = []
        for spec in filter(None, (p.strip() for p in parts.replace("，", ",").split(","))):
            sku, _, qty = spec.replace("x", "×").partition("×")
            if qty and not qty.strip().isdigit():
                raise InvalidInput("part.quantity", f"{spec!r}: a part is SKU or SKU×2", field="parts")
            used.append(dispatch_svc.PartRequest(sku.strip(), int(qty) if qty else 1))
        signed = t("Signed off by the customer", request_language(request))
        note = f"{work_done.strip()}\n{signed}：{signed_by.strip()}"
        dispatch_svc.check_out(dispatch_svc.CheckOut(actor, visit_id, note, tuple(used), outcome), app.uows(),
                               app.clock, public_url=app.settings.public_url)
    except DomainError as exc:
        return _error_page(request, exc)
    return RedirectResponse(f"/my-day#visit-{visit_id}", status_code=303)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, actor: PageActor) -> Response:
    """The manager's dashboard: volumes, missed targets, CSAT/NPS, fairness, the credit score, coverage, parts."""
    import json

    from fairdesk.reference.regions_data import default_resolver
    from fairdesk.services import calendars as calendar_svc
    from fairdesk.services import reports

    app = _app(request)
    if actor.role not in (Role.MANAGER, Role.AUDITOR):
        return RedirectResponse("/tickets", status_code=303)
    try:
        data = reports.dashboard(app.uows, actor, app.clock, default_resolver())
    except DomainError as exc:
        return _error_page(request, exc)
    # The charts read this JSON (type="application/json" is data, not script: the CSP stays strict).
    blob = json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")
    with app.uows(readonly=True) as uow:
        warning = calendar_svc.warning(uow, app.clock)
    return render(request, "dashboard.html", d=data, blob=blob, warning=warning)
