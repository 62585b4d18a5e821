"""API for an outlet's calendar: its opening hours (a working week, as a technician's) and its closure days.
Visits are offered only when the outlet is open and a certified technician of it works."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, Field

from fairdesk.entrypoints.api.deps import ActorDep, AppDep
from fairdesk.entrypoints.api.problems import PROBLEM_RESPONSES
from fairdesk.entrypoints.api.schemas import Day, In
from fairdesk.services import network as network_svc

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/network/outlets", tags=["network"], responses=PROBLEM_RESPONSES)
Code = Annotated[str, Path(min_length=1, max_length=32)]


class OutletHoursIn(In):
    shifts: Annotated[str, Field(max_length=100, description="e.g. 08:30-12:00,13:30-18:00; empty: no limit")]
    weekdays: Annotated[str, Field(max_length=20, description="ISO weekdays, e.g. 1-6")] = "1-7"
    closed_on_holidays: bool = True


class OutletHoursOut(BaseModel):
    outlet: str
    shifts: str | None
    weekdays: str
    closed_on_holidays: bool


class OutletClosureIn(In):
    day: Day
    reason: Annotated[str, Field(min_length=1, max_length=200)]


@router.put("/{code}/hours")
def put_outlet_hours(code: Code, body: OutletHoursIn, actor: ActorDep, app: AppDep) -> OutletHoursOut:
    """The outlet's week; no visit is offered outside it."""
    return OutletHoursOut.model_validate(network_svc.set_outlet_hours(
        actor, code, body.shifts, body.weekdays, body.closed_on_holidays, app.uows(), app.clock))


@router.post("/{code}/closures", status_code=status.HTTP_204_NO_CONTENT)
def post_outlet_closure(code: Code, body: OutletClosureIn, actor: ActorDep, app: AppDep) -> Response:
    """A day the outlet is closed: no visit of its technicians is offered that day."""
    network_svc.add_outlet_closure(actor, code, body.day, body.reason, app.uows(), app.clock)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
