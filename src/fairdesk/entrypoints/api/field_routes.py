"""API for the field: technicians, certificates and leave; visit windows, dispatch and the visit's life; the
dispatcher's board; parts, stock locations, movements, the ledger and the replenishment report; imports."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, Field, StringConstraints

from fairdesk.domain.dispatch import WEIGHTS
from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.parts import MAX_QUANTITY, LocationKind, MovementKind
from fairdesk.domain.workforce import DEFAULT_WINDOW_MIN
from fairdesk.entrypoints.api.deps import ActorDep, AppDep, IdPath
from fairdesk.entrypoints.api.problems import PROBLEM_RESPONSES
from fairdesk.entrypoints.api.schemas import Day, In
from fairdesk.services import dispatch as dispatch_svc
from fairdesk.services import imports as import_svc
from fairdesk.services import parts as parts_svc
from fairdesk.services import workforce as workforce_svc

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
Code = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(max_length=500)]
Qty = Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


# --- technicians ---------------------------------------------------------------------------------------------

class TechnicianIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    outlet_code: Code
    shifts: Annotated[str, StringConstraints(max_length=200)] = "09:00-18:00"
    weekdays: Annotated[str, StringConstraints(max_length=20)] = "1-5"
    holidays_off: bool = True
    home_latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    home_longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    max_visits_per_day: Annotated[int, Field(ge=1, le=20)] = 6
    email: Annotated[str, StringConstraints(max_length=254)] | None = None


@router.post("/technicians", tags=["field"], status_code=status.HTTP_201_CREATED)
def add_technician(body: TechnicianIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    """A technician of one of the brand's outlets (a user with the technician role)."""
    tech = workforce_svc.add_technician(workforce_svc.AddTechnician(actor, **body.model_dump()), app.uows(),
                                        app.clock)
    return workforce_svc.get_technician(app.uows(readonly=True), actor, tech.user_id, app.clock)


class TechnicianPatch(In):
    outlet_code: Code | None = None
    shifts: Annotated[str, StringConstraints(max_length=200)] | None = None
    weekdays: Annotated[str, StringConstraints(max_length=20)] | None = None
    holidays_off: bool | None = None
    home_latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    home_longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    max_visits_per_day: Annotated[int, Field(ge=1, le=20)] | None = None
    active: bool | None = None


@router.patch("/technicians/{technician_id}", tags=["field"])
def patch_technician(technician_id: IdPath, body: TechnicianPatch, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    workforce_svc.update_technician(actor, technician_id, body.model_dump(exclude_unset=True), app.uows(), app.clock)
    return workforce_svc.get_technician(app.uows(readonly=True), actor, technician_id, app.clock)


@router.get("/technicians", tags=["field"])
def list_technicians(actor: ActorDep, app: AppDep, outlet: Code | None = None) -> list[dict[str, Any]]:
    return workforce_svc.list_technicians(app.uows(readonly=True), actor, app.clock, outlet_code=outlet)


@router.get("/technicians/{technician_id}", tags=["field"])
def get_technician(technician_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    return workforce_svc.get_technician(app.uows(readonly=True), actor, technician_id, app.clock)


class CertificationIn(In):
    product_line: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    level: Annotated[int, Field(ge=1, le=3)]
    valid_from: Day
    valid_to: Day
    number: Annotated[str, StringConstraints(max_length=64)] = ""


@router.post("/technicians/{technician_id}/certifications", tags=["field"], status_code=status.HTTP_201_CREATED)
def add_certification(technician_id: IdPath, body: CertificationIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    cert = workforce_svc.add_certification(actor, technician_id, body.product_line, body.level, body.valid_from,
                                           body.valid_to, body.number, app.uows(), app.clock)
    return {"id": cert.id, **body.model_dump(mode="json")}


class LeaveIn(In):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, StringConstraints(max_length=200)] = ""


@router.post("/technicians/{technician_id}/leave", tags=["field"], status_code=status.HTTP_201_CREATED)
def add_leave(technician_id: IdPath, body: LeaveIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    found = workforce_svc.add_leave(actor, technician_id, body.starts_at, body.ends_at, body.reason, app.uows(),
                                    app.clock)
    return {**found, **body.model_dump(mode="json")}


# --- visits --------------------------------------------------------------------------------------------------

@router.get("/dispatch/scoring", tags=["dispatch"])
def scoring() -> dict[str, Any]:
    """The published dispatch score (public): how eligible technicians are ranked, lowest cost first."""
    return {"eligible": "works at an active outlet covering the address; holds a certificate for the unit's product "
                        "line valid on the visit day; works then; not on leave; free in the window; under their "
                        "daily limit",
            "cost": "travel_km*per_km + visits_that_day*per_visit + hours_until_window*per_hour_wait*priority_factor "
                    "+ (late + hours_late*per_hour_late if the window ends after the on-site deadline) "
                    "- preferred (if the customer asked for this technician)",
            "weights": WEIGHTS.as_dict(), "never_used": ["what the customer spends", "their plan", "their history"]}


@router.get("/tickets/{ticket_id}/windows", tags=["dispatch"])
def get_windows(ticket_id: IdPath, actor: ActorDep, app: AppDep,
                days: Annotated[int, Query(ge=1, le=14)] = 7,
                window_min: Annotated[int, Query(ge=30, le=480)] = DEFAULT_WINDOW_MIN) -> list[dict[str, Any]]:
    """Windows a visit can be booked in, each with how many certified technicians are free."""
    return dispatch_svc.windows(app.uows(readonly=True), actor, ticket_id, app.clock, days=days,
                                window_min=window_min)


@router.get("/tickets/{ticket_id}/candidates", tags=["dispatch"])
def get_candidates(ticket_id: IdPath, actor: ActorDep, app: AppDep, starts_at: AwareDatetime | None = None,
                   ends_at: AwareDatetime | None = None, days: Annotated[int, Query(ge=1, le=14)] = 7,
                   limit: Annotated[int, Query(ge=1, le=100)] = 10) -> list[dict[str, Any]]:
    """The ranking auto-dispatch would use, with each term of each cost."""
    return dispatch_svc.plan(app.uows(readonly=True), actor, ticket_id, app.clock, starts_at=starts_at,
                             ends_at=ends_at, days=days, limit=limit)


class PartIn(In):
    sku: Code
    qty: Qty = 1


class DispatchIn(In):
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    technician_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    reason: Reason = ""
    preferred_technician_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    parts: Annotated[list[PartIn], Field(default_factory=list, max_length=50)]
    days: Annotated[int, Field(ge=1, le=14)] = 7


@router.post("/tickets/{ticket_id}/dispatch", tags=["dispatch"], status_code=status.HTTP_201_CREATED)
def dispatch(ticket_id: IdPath, body: DispatchIn, actor: ActorDep, app: AppDep,
             idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Book a visit in one call: the best eligible technician, their time and the parts, or nothing."""
    return dispatch_svc.book(dispatch_svc.Booking(
        actor, ticket_id, body.starts_at, body.ends_at, body.technician_id, body.reason,
        body.preferred_technician_id, tuple(dispatch_svc.PartRequest(p.sku, p.qty) for p in body.parts), body.days),
        app.uows, app.clock, idempotency_key)


@router.get("/tickets/{ticket_id}/visits", tags=["dispatch"])
def ticket_visits(ticket_id: IdPath, actor: ActorDep, app: AppDep) -> list[dict[str, Any]]:
    return dispatch_svc.visits_of_ticket(app.uows(readonly=True), actor, ticket_id, app.clock)


@router.get("/visits/{visit_id}", tags=["dispatch"])
def get_visit(visit_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    return dispatch_svc.get_visit(app.uows(readonly=True), actor, visit_id, app.clock)


class RescheduleIn(In):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    technician_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    reason: Reason = ""


@router.post("/visits/{visit_id}/reschedule", tags=["dispatch"])
def reschedule(visit_id: IdPath, body: RescheduleIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    return dispatch_svc.reschedule(actor, visit_id, body.starts_at, body.ends_at, app.uows(), app.clock,
                                   technician_id=body.technician_id, reason=body.reason)


class ReasonIn(In):
    reason: Reason = ""


@router.post("/visits/{visit_id}/cancel", tags=["dispatch"])
def cancel(visit_id: IdPath, body: ReasonIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    return dispatch_svc.cancel(actor, visit_id, body.reason, app.uows(), app.clock)


@router.post("/visits/{visit_id}/no-show", tags=["dispatch"])
def no_show(visit_id: IdPath, body: ReasonIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    return dispatch_svc.no_show(actor, visit_id, body.reason, app.uows(), app.clock)


@router.post("/visits/{visit_id}/check-in", tags=["dispatch"])
def check_in(visit_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    return dispatch_svc.check_in(actor, visit_id, app.uows(), app.clock)


class CheckOutIn(In):
    work_done: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    parts_used: Annotated[list[PartIn], Field(default_factory=list, max_length=50)]
    outcome: Literal["resolved", "waiting_parts", "revisit"] = "resolved"


@router.post("/visits/{visit_id}/check-out", tags=["dispatch"])
def check_out(visit_id: IdPath, body: CheckOutIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    return dispatch_svc.check_out(dispatch_svc.CheckOut(
        actor, visit_id, body.work_done, tuple(dispatch_svc.PartRequest(p.sku, p.qty) for p in body.parts_used),
        body.outcome), app.uows(), app.clock, public_url=app.settings.public_url)


@router.get("/dispatch/board", tags=["dispatch"])
def board(actor: ActorDep, app: AppDep, day: Annotated[Day, Query()],
          outlet: Code | None = None) -> list[dict[str, Any]]:
    """Each technician's day: working or not, shifts, leave, visits and load."""
    return dispatch_svc.board(app.uows(readonly=True), actor, day, app.clock, outlet_code=outlet)


# --- parts and stock -----------------------------------------------------------------------------------------

class PartCatalogueIn(In):
    sku: Code
    name: Name
    serialized: bool = False
    unit_cost: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] = Decimal("0")
    models: Annotated[list[Code], Field(default_factory=list, max_length=200)]


@router.post("/parts", tags=["parts"], status_code=status.HTTP_201_CREATED)
def add_part(body: PartCatalogueIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    part = parts_svc.add_part(actor, body.sku, body.name, app.uows(), app.clock, serialized=body.serialized,
                              unit_cost=body.unit_cost, models=body.models)
    return {"id": part.id, "sku": part.sku, "name": part.name, "serialized": part.serialized,
            "unit_cost": str(part.unit_cost), "models": list(part.models)}


@router.get("/parts", tags=["parts"])
def list_parts(actor: ActorDep, app: AppDep) -> list[dict[str, Any]]:
    return parts_svc.catalogue(app.uows(readonly=True), actor)


class LocationIn(In):
    code: Code
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    kind: LocationKind
    outlet_code: Code | None = None
    technician_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None


@router.post("/stock-locations", tags=["parts"], status_code=status.HTTP_201_CREATED)
def add_location(body: LocationIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    loc = parts_svc.add_location(actor, body.code, body.name, body.kind, app.uows(), app.clock,
                                 outlet_code=body.outlet_code, technician_id=body.technician_id)
    return {"id": loc.id, "code": loc.code, "name": loc.name, "kind": loc.kind.value, "outlet_id": loc.outlet_id,
            "technician_id": loc.technician_id}


class MovementIn(In):
    kind: Literal["receive", "transfer", "return", "scrap"]
    sku: Code
    qty: Qty
    from_location: Code | None = None
    to_location: Code | None = None
    serials: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
                       Field(default_factory=list, max_length=1000)]
    note: Reason = ""


@router.post("/stock/movements", tags=["parts"], status_code=status.HTTP_201_CREATED)
def move_stock(body: MovementIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    """Receive, transfer, return or scrap stock (reservations and consumption happen through visits)."""
    return parts_svc.move_stock(parts_svc.Move(actor, MovementKind(body.kind), body.sku, body.qty,
                                               body.from_location, body.to_location, tuple(body.serials), body.note),
                                app.uows(), app.clock)


@router.get("/stock", tags=["parts"])
def get_stock(actor: ActorDep, app: AppDep, location: Code | None = None, sku: Code | None = None
              ) -> list[dict[str, Any]]:
    """On hand, reserved and available per location and part."""
    return parts_svc.stock(app.uows(readonly=True), actor, location=location, sku=sku)


@router.get("/stock/ledger", tags=["parts"])
def get_ledger(actor: ActorDep, app: AppDep, sku: Code | None = None, location: Code | None = None,
               before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """The append-only movements, newest first; page with ``before_id``."""
    return parts_svc.ledger(app.uows(readonly=True), actor, sku=sku, location=location, before_id=before_id,
                            limit=limit)


class ReorderIn(In):
    location: Code
    sku: Code
    reorder_point: Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
    reorder_qty: Annotated[int, Field(ge=0, le=MAX_QUANTITY)]


@router.put("/stock/reorder-points", tags=["parts"])
def put_reorder(body: ReorderIn, actor: ActorDep, app: AppDep) -> dict[str, Any]:
    parts_svc.set_reorder(actor, body.location, body.sku, body.reorder_point, body.reorder_qty, app.uows())
    return body.model_dump()


@router.get("/stock/replenishment", tags=["parts"])
def replenishment(actor: ActorDep, app: AppDep) -> list[dict[str, Any]]:
    """Every location and part at or below its reorder point, with the quantity to order."""
    return parts_svc.reorder_report(app.uows(readonly=True), actor)


@router.get("/stock/verify", tags=["parts"])
def verify(actor: ActorDep, app: AppDep) -> dict[str, Any]:
    """Recompute every balance from the ledger and compare."""
    return parts_svc.verify(app.uows(readonly=True), actor)


# --- imports -------------------------------------------------------------------------------------------------

@router.post("/imports/{kind}", tags=["field"],
             openapi_extra={"requestBody": {"content": {
                 "text/csv": {"schema": {"type": "string"}},
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                     {"schema": {"type": "string", "format": "binary"}}}, "required": True}})
async def import_file(kind: Literal["technicians", "certifications", "stock"], request: Request, actor: ActorDep,
                      app: AppDep, partial: bool = False) -> dict[str, Any]:
    """Import a CSV or .xlsx file (the request body); a report per row. Nothing is imported when a row is bad,
    unless ``partial=true``."""
    import_svc.require_importer(actor, kind)
    data = await request.body()
    if not data:
        raise InvalidInput("import.empty", "send the file as the request body")
    rows = await run_in_threadpool(import_svc.read_table, data)
    report = await run_in_threadpool(lambda: import_svc.import_rows(actor, kind, rows, app.uows(), app.clock,
                                                                    partial=partial))
    return report.as_dict()
