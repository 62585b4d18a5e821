"""API for the working-day calendar: where each year's days come from, and a year's official arrangement
staged, previewed and applied (the open deadlines then recomputed by the worker, as a run)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from fairdesk.entrypoints.api.deps import ActorDep, AppDep, IdPath
from fairdesk.entrypoints.api.problems import PROBLEM_RESPONSES
from fairdesk.entrypoints.api.schemas import In
from fairdesk.services import calendars as calendar_svc
from fairdesk.services import runs as run_svc

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"], responses=PROBLEM_RESPONSES)


class YearOut(BaseModel):
    """Where a year's working days come from: official (imported), package, or estimate."""

    year: int
    source: str
    version: int | None = None
    applied_by: str | None = None
    applied_at: str | None = None
    effective_from: str | None = None
    package: str | None = None


class DayOut(BaseModel):
    day: str
    kind: str
    festival: str


class VersionOut(BaseModel):
    version: int
    applied_by: str
    digest: str
    applied_at: str
    effective_from: str


class YearDetailOut(YearOut):
    days: list[DayOut]
    versions: list[VersionOut]


class WarningOut(BaseModel):
    """The first day within 60 days with no official arrangement: deadlines over it are estimates."""

    from_: Annotated[str, Field(alias="from")]
    year: int
    days_left: int


class YearsOut(BaseModel):
    years: list[YearOut]
    warning: WarningOut | None


class ArrangementIn(In):
    text: Annotated[str, Field(min_length=1, max_length=calendar_svc.MAX_FILE)]
    filename: Annotated[str, Field(max_length=200)] = ""


class DraftCreated(BaseModel):
    id: int


class ChangedDayOut(BaseModel):
    day: str
    before: str
    after: str


class MoveOut(BaseModel):
    what: str
    id: int
    number: str
    deadline: str
    before: str
    after: str
    shift_h: float


class DraftOut(BaseModel):
    id: int
    year: int
    applied: bool
    version: int | None
    replaces: str
    changed_days: list[ChangedDayOut]
    moves: list[MoveOut]


class AppliedOut(BaseModel):
    year: int
    version: int
    run_id: int


@router.get("")
def get_years(actor: ActorDep, app: AppDep) -> YearsOut:
    """This year, the next two and every imported year, with where their days come from."""
    years = calendar_svc.years(app.uows, app.clock, actor)
    with app.uows(readonly=True) as uow:
        warning = calendar_svc.warning(uow, app.clock)
    return YearsOut.model_validate({"years": years, "warning": warning})


@router.get("/{year}")
def get_year(actor: ActorDep, app: AppDep, year: Annotated[int, Path(ge=1950, le=2199)]) -> YearDetailOut:
    """A year's holidays and make-up working days as in force, with their source and version history."""
    calendar_svc.years(app.uows, app.clock, actor)  # the same roles may read a year
    return YearDetailOut.model_validate(calendar_svc.show(app.uows, app.clock, year))


@router.post("/drafts", status_code=status.HTTP_201_CREATED)
def post_draft(body: ArrangementIn, actor: ActorDep, app: AppDep) -> DraftCreated:
    """Check a year's arrangement and keep it to preview; a 422 lists every line's problem in ``errors``."""
    return DraftCreated(id=calendar_svc.stage(app.uows, app.clock, body.text, body.filename, actor=actor))


@router.get("/drafts/{draft_id}")
def get_draft(draft_id: IdPath, actor: ActorDep, app: AppDep) -> DraftOut:
    """What applying would change: days, and the brand's open deadlines that would move."""
    d = calendar_svc.preview(app.uows, app.clock, draft_id, actor=actor)
    return DraftOut(id=d.id, year=d.arrangement.year, applied=d.applied, version=d.number, replaces=d.replaces.value,
                    changed_days=[ChangedDayOut(day=day.isoformat(), before=a.value, after=b.value)
                                  for day, a, b in d.changed],
                    moves=[MoveOut(**m.as_dict(app.clock)) for m in d.moves])


@router.post("/drafts/{draft_id}/apply")
def apply_draft(draft_id: IdPath, actor: ActorDep, app: AppDep) -> AppliedOut:
    """Apply as the year's newest version (from tomorrow on) and queue the recomputation of open deadlines."""
    number = calendar_svc.apply(app.uows, app.clock, draft_id, actor=actor)
    run_id = run_svc.start(app.uows, actor, app.clock, "calendar.recompute", {"version_id": draft_id})
    d = calendar_svc.preview(app.uows, app.clock, draft_id, actor=actor)
    return AppliedOut(year=d.arrangement.year, version=number, run_id=run_id)
