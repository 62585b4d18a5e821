"""`fairdesk calendar …`: the year's official holiday arrangement, imported, previewed, applied and shown."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from fairdesk.domain.calendars import ArrangementInvalid
from fairdesk.domain.errors import DomainError
from fairdesk.entrypoints.cli.main import JsonOpt, _emit, _wired, app, fail, reasons
from fairdesk.services import calendars as calendar_svc

__all__ = ["calendar_app"]

calendar_app = typer.Typer(help="Working-day calendars: the State Council's yearly arrangement, imported and shown.",
                           no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")

SOURCES = {"official": "imported official arrangement", "package": "package", "estimate": "ESTIMATE"}
SHOWN_MOVES = 50


@calendar_app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="The year's arrangement: 'year: 2027', then one date per "
                                                      "line with holiday|makeup and the festival.")],
            yes: Annotated[bool, typer.Option("--yes", help="Apply without asking.")] = False,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and preview only.")] = False) -> None:
    """Check a year's arrangement, preview which open deadlines move, then apply it as a new version."""
    try:
        text = file.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    wired = _wired()
    operator = f"cli:{getpass.getuser()}"
    try:
        version_id = calendar_svc.stage(wired.uows, wired.clock, text, file.name, operator=operator)
    except ArrangementInvalid as exc:  # every problem, each with its line
        for line, why in exc.problems:
            typer.echo(f"error: {file.name}:{line}: {why}" if line else f"error: {file.name}: {why}", err=True)
        raise typer.Exit(2) from None
    except DomainError as exc:
        fail(f"{exc.code}: {exc.detail}")
    with reasons():
        draft = calendar_svc.preview(wired.uows, wired.clock, version_id, operator=operator)
    a = draft.arrangement
    typer.echo(f"{a.year}: {len(a.entries)} days ({sum(e.kind.value == 'holiday' for e in a.entries)} holidays, "
               f"{sum(e.kind.value == 'makeup' for e in a.entries)} make-up working days); replaces the "
               f"{SOURCES[draft.replaces.value]}")
    typer.echo(f"days that change from tomorrow: {len(draft.changed)}")
    for day, before, after in draft.changed:
        typer.echo(f"  {day.isoformat()} {before.value} -> {after.value}")
    typer.echo(f"open deadlines that move: {len(draft.moves)}")
    for m in draft.moves[:SHOWN_MOVES]:
        d = m.as_dict(wired.clock)
        typer.echo(f"  {m.what} {m.number} {m.deadline}: {d['before']} -> {d['after']} ({d['shift_h']:+} h)")
    if len(draft.moves) > SHOWN_MOVES:
        typer.echo(f"  … and {len(draft.moves) - SHOWN_MOVES} more")
    if dry_run:
        typer.echo("dry run: nothing applied")
        return
    if not yes and not typer.confirm(f"apply this arrangement for {a.year}?", default=False):
        typer.echo("not applied")
        raise typer.Exit(1)
    with reasons():
        number = calendar_svc.apply(wired.uows, wired.clock, version_id, operator=operator)
        done = calendar_svc.recompute(wired.uows, wired.clock, version_id)
    typer.echo(f"applied: {a.year} version {number}; {done['tickets']} open requests' timers rewritten, "
               f"{done['complaints_moved']} complaint deadlines moved")


@calendar_app.command("show")
def show(year: Annotated[int, typer.Argument(help="The year, e.g. 2027.")], as_json: JsonOpt = False) -> None:
    """What is in force for a year and where it came from."""
    wired = _wired()
    with reasons():
        found = calendar_svc.show(wired.uows, wired.clock, year)

    def human() -> None:
        src = found["source"]
        if src == "official":
            typer.echo(f"{year}: official arrangement, version {found['version']}, applied by "
                       f"{found['applied_by']} at {found['applied_at'][:16]}, in force from "
                       f"{found['effective_from']}")
        elif src == "package":
            typer.echo(f"{year}: from the package {found['package']}")
        else:
            typer.echo(f"{year}: ESTIMATE — statutory holidays by rule ({found['package']}); no make-up working "
                       "days known. Import the State Council's arrangement: fairdesk calendar import FILE")
        for d in found["days"]:
            typer.echo(f"  {d['day']} {d['kind']:<8} {d['festival']}")
        for v in found["versions"][1:]:
            typer.echo(f"  (earlier: version {v['version']} applied by {v['applied_by']} at {v['applied_at']})")
    _emit(as_json, found, human)
