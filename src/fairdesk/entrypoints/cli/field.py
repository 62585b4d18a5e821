"""`fairdesk tech …`, `fairdesk dispatch …`, `fairdesk parts …`: the field from the command line."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from fairdesk.domain.parts import LocationKind, MovementKind
from fairdesk.entrypoints.cli.main import (
    AsOpt,
    BrandOpt,
    JsonOpt,
    _actor,
    _emit,
    _find_ticket_id,
    _wired,
    app,
    fail,
    reasons,
)
from fairdesk.services import dispatch as dispatch_svc
from fairdesk.services import imports as import_svc
from fairdesk.services import parts as parts_svc
from fairdesk.services import workforce as workforce_svc

__all__ = ["dispatch_app", "parts_app", "tech_app"]

tech_app = typer.Typer(help="Technicians: outlets, certificates, working week, leave; bulk import.",
                       no_args_is_help=True)
dispatch_app = typer.Typer(help="Visits: windows, ranking, booking, the visit's life, the board.", no_args_is_help=True)
parts_app = typer.Typer(help="Original parts: catalogue, locations, movements, stock, ledger, reorder.",
                        no_args_is_help=True)
app.add_typer(tech_app, name="tech")
app.add_typer(dispatch_app, name="dispatch")
app.add_typer(parts_app, name="parts")

MAX_FILE = 10 * 1024 * 1024


def _when(text: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{what}: {text!r} is not a time like 2026-11-25T09:00+08:00")
    if value.tzinfo is None:
        fail(f"{what}: give the UTC offset, e.g. 2026-11-25T09:00+08:00")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{text!r} is not a date like 2026-11-25")


def _parts(specs: list[str] | None) -> tuple[dispatch_svc.PartRequest, ...]:
    """``SKU`` or ``SKU:QTY`` → part requests (quantities are checked by the service)."""
    out = []
    for spec in specs or []:
        sku, _, qty = spec.partition(":")
        out.append(dispatch_svc.PartRequest(sku.strip(), qty.strip() or "1"))
    return tuple(out)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    for r in rows:
        typer.echo("  ".join(f"{r.get(c)!s}" for c in columns))


# --- technicians -----------------------------------------------------------------------------------------------

@tech_app.command("add")
def tech_add(brand: BrandOpt, username: Annotated[str, typer.Option()], name: Annotated[str, typer.Option()],
             outlet: Annotated[str, typer.Option(help="Outlet code.")],
             shifts: Annotated[str, typer.Option()] = "09:00-18:00",
             weekdays: Annotated[str, typer.Option(help="ISO weekdays, e.g. 1-5 or 1-6.")] = "1-5",
             holidays_off: Annotated[bool, typer.Option(help="Off on statutory holidays.")] = True,
             lat: Annotated[float | None, typer.Option(min=-90, max=90)] = None,
             lon: Annotated[float | None, typer.Option(min=-180, max=180)] = None,
             max_visits: Annotated[int, typer.Option(min=1, max=20)] = 6,
             as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Add a technician to an outlet."""
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        tech = workforce_svc.add_technician(workforce_svc.AddTechnician(
            actor, username, name, outlet, shifts=shifts, weekdays=weekdays, holidays_off=holidays_off,
            home_latitude=lat, home_longitude=lon, max_visits_per_day=max_visits), wired.uows(), wired.clock)
    _emit(as_json, {"id": tech.user_id, "username": username},
          lambda: typer.echo(f"technician {username} (id {tech.user_id}) added to {outlet}"))


@tech_app.command("list")
def tech_list(brand: BrandOpt, outlet: Annotated[str | None, typer.Option()] = None, as_user: AsOpt = None,
              as_json: JsonOpt = False) -> None:
    """Technicians with their certificates (valid today or not)."""
    wired = _wired()
    with reasons():
        rows = workforce_svc.list_technicians(wired.uows(readonly=True), _actor(wired, brand, as_user), wired.clock,
                                              outlet_code=outlet)

    def human() -> None:
        for r in rows:
            certs = ", ".join(f"{c['product_line']} L{c['level']} to {c['valid_to']}"
                              + ("" if c["valid_today"] else " (not valid today)") for c in r["certifications"])
            typer.echo(f"{r['id']:>6}  {r['username']:<16} {r['display_name']:<10} outlet {r['outlet_id']}  "
                       f"{r['shifts']} days {r['weekdays']}  {certs or 'no certificates'}")
    _emit(as_json, rows, human)


@tech_app.command("cert")
def tech_cert(brand: BrandOpt, technician: Annotated[int, typer.Option(min=1, help="Technician id.")],
              line: Annotated[str, typer.Option(help="Product line.")],
              level: Annotated[int, typer.Option(min=1, max=3)], valid_from: Annotated[str, typer.Option()],
              valid_to: Annotated[str, typer.Option()], number: Annotated[str, typer.Option()] = "",
              as_user: AsOpt = None) -> None:
    """Record a certificate (dispatch honours its validity)."""
    wired = _wired()
    with reasons():
        workforce_svc.add_certification(_actor(wired, brand, as_user), technician, line, level, _day(valid_from),
                                        _day(valid_to), number, wired.uows(), wired.clock)
    typer.echo(f"certificate for {line} level {level} recorded, valid {valid_from} to {valid_to}")


@tech_app.command("leave")
def tech_leave(brand: BrandOpt, technician: Annotated[int, typer.Option(min=1)],
               start: Annotated[str, typer.Option("--from")], end: Annotated[str, typer.Option("--to")],
               reason: Annotated[str, typer.Option()] = "", as_user: AsOpt = None) -> None:
    """Record leave: no visit is offered in it."""
    wired = _wired()
    with reasons():
        found = workforce_svc.add_leave(_actor(wired, brand, as_user), technician, _when(start, "--from"),
                                        _when(end, "--to"), reason, wired.uows(), wired.clock)
    typer.echo("leave recorded")
    for v in found["to_rebook"]:
        typer.echo(f"to rebook: {v['number']} {v['starts_at'][:16].replace('T', ' ')}-{v['ends_at'][11:16]} "
                   f"(visit {v['visit_id']}; the customer was told)")


def _import(kind: str, file: Path, brand: str, partial: bool, as_user: str | None, as_json: bool) -> None:
    try:
        data = file.read_bytes()[: MAX_FILE + 1]
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    wired = _wired()
    with reasons():
        rows = import_svc.read_table(data)
        report = import_svc.import_rows(_actor(wired, brand, as_user), kind, rows, wired.uows(), wired.clock,
                                        partial=partial)

    def human() -> None:
        state = "imported" if report.applied else "NOT imported (fix the rows, or pass --partial)"
        typer.echo(f"{report.rows} rows: {report.imported} {kind} {state}; {len(report.errors)} with errors")
        for e in report.errors:
            typer.echo(f"  row {e['row']}: {e['field'] or '-'}: {e['code']}: {e['message']}")
    _emit(as_json, report.as_dict(), human)
    if report.errors:
        fail(f"{len(report.errors)} rows with errors; "
             + ("the good rows were imported" if report.applied else "nothing was imported"))


PartialOpt = Annotated[bool, typer.Option("--partial", help="Keep the good rows when some are bad.")]
FileArg = Annotated[Path, typer.Argument(help="A .csv (UTF-8 or GB18030) or .xlsx file with a header row.")]


@tech_app.command("import")
def tech_import(file: FileArg, brand: BrandOpt, partial: PartialOpt = False, as_user: AsOpt = None,
                as_json: JsonOpt = False) -> None:
    """Import technicians: username, display_name, outlet_code [, shifts, weekdays, holidays_off, home_latitude,
    home_longitude, max_visits_per_day, email]."""
    _import("technicians", file, brand, partial, as_user, as_json)


@tech_app.command("import-certs")
def tech_import_certs(file: FileArg, brand: BrandOpt, partial: PartialOpt = False, as_user: AsOpt = None,
                      as_json: JsonOpt = False) -> None:
    """Import certificates: username, product_line, level, valid_from, valid_to [, number]."""
    _import("certifications", file, brand, partial, as_user, as_json)


# --- dispatch --------------------------------------------------------------------------------------------------

@dispatch_app.command("windows")
def dispatch_windows(ticket: Annotated[str, typer.Argument(help="Ticket id or number.")], brand: BrandOpt,
                     days: Annotated[int, typer.Option(min=1, max=14)] = 7, as_user: AsOpt = None,
                     as_json: JsonOpt = False) -> None:
    """The windows a visit can be booked in, with how many technicians are free."""
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        rows = dispatch_svc.windows(wired.uows(readonly=True), actor, _find_ticket_id(wired, actor, ticket),
                                    wired.clock, days=days)
    _emit(as_json, rows, lambda: _table(rows, ["starts_at", "ends_at", "technicians"]))


@dispatch_app.command("rank")
def dispatch_rank(ticket: Annotated[str, typer.Argument(help="Ticket id or number.")], brand: BrandOpt,
                  limit: Annotated[int, typer.Option(min=1, max=100)] = 10, as_user: AsOpt = None,
                  as_json: JsonOpt = False) -> None:
    """The ranking auto-dispatch would use, with each term of each cost."""
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        rows = dispatch_svc.plan(wired.uows(readonly=True), actor, _find_ticket_id(wired, actor, ticket),
                                 wired.clock, limit=limit)
    _emit(as_json, rows, lambda: _table(rows, ["cost", "technician_id", "technician", "starts_at", "distance_km",
                                               "load", "terms"]))


@dispatch_app.command("auto")
def dispatch_auto(ticket: Annotated[str, typer.Argument(help="Ticket id or number.")], brand: BrandOpt,
                  start: Annotated[str | None, typer.Option("--from", help="Window start (with offset).")] = None,
                  end: Annotated[str | None, typer.Option("--to", help="Window end.")] = None,
                  technician: Annotated[int | None, typer.Option(min=1, help="Override the ranking.")] = None,
                  reason: Annotated[str, typer.Option(help="Why, when overriding.")] = "",
                  part: Annotated[list[str] | None, typer.Option("--part", help="SKU or SKU:QTY, repeatable.")] = None,
                  as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Book a visit in one call: technician, time and parts."""
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        visit = dispatch_svc.book(dispatch_svc.Booking(
            actor, _find_ticket_id(wired, actor, ticket), _when(start, "--from") if start else None,
            _when(end, "--to") if end else None, technician, reason, parts=_parts(part)), wired.uows, wired.clock)
    _emit(as_json, visit, lambda: typer.echo(
        f"visit {visit['id']}: {visit['technician']} {visit['starts_at']} - {visit['ends_at']}, cost "
        f"{visit['score']['cost']}; parts: "
        + (", ".join(f"{p['sku']}@{p['location']}" for p in visit["parts"]) or "none")))


@dispatch_app.command("cancel")
def dispatch_cancel(visit: Annotated[int, typer.Argument(min=1)], brand: BrandOpt,
                    reason: Annotated[str, typer.Option()] = "", as_user: AsOpt = None) -> None:
    """Cancel a booked visit; its time and parts are freed."""
    wired = _wired()
    with reasons():
        dispatch_svc.cancel(_actor(wired, brand, as_user), visit, reason, wired.uows(), wired.clock)
    typer.echo(f"visit {visit} cancelled")


@dispatch_app.command("board")
def dispatch_board(brand: BrandOpt, day: Annotated[str, typer.Option(help="Local date, e.g. 2026-11-25.")],
                   outlet: Annotated[str | None, typer.Option()] = None, as_user: AsOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Each technician's day: shifts, leave, visits, load."""
    wired = _wired()
    with reasons():
        rows = dispatch_svc.board(wired.uows(readonly=True), _actor(wired, brand, as_user), _day(day), wired.clock,
                                  outlet_code=outlet)

    def human() -> None:
        for r in rows:
            state = f"{r['shifts']} {r['load']}/{r['max_visits']}" if r["working"] else "off"
            typer.echo(f"{r['username']:<16} {r['name']:<10} {state}")
            for lv in r["leave"]:
                typer.echo(f"    leave {lv['starts_at']} - {lv['ends_at']} {lv['reason']}")
            for v in r["visits"]:
                typer.echo(f"    {v['window']}  {v['number']}  {v['status']}")
    _emit(as_json, rows, human)


# --- parts -----------------------------------------------------------------------------------------------------

@parts_app.command("add")
def parts_add(brand: BrandOpt, sku: Annotated[str, typer.Option()], name: Annotated[str, typer.Option()],
              cost: Annotated[str, typer.Option(help="Unit cost in yuan, e.g. 120.00")] = "0",
              serialized: Annotated[bool, typer.Option("--serialized", help="Track piece by piece.")] = False,
              model: Annotated[list[str] | None, typer.Option("--model", help="A model it fits; repeatable.")] = None,
              as_user: AsOpt = None) -> None:
    """Add an original part to the catalogue."""
    wired = _wired()
    with reasons():
        parts_svc.add_part(_actor(wired, brand, as_user), sku, name, wired.uows(), wired.clock, serialized=serialized,
                           unit_cost=cost, models=model or [])
    typer.echo(f"part {sku} added")


@parts_app.command("location")
def parts_location(brand: BrandOpt, code: Annotated[str, typer.Option()], name: Annotated[str, typer.Option()],
                   kind: Annotated[LocationKind, typer.Option()],
                   outlet: Annotated[str | None, typer.Option()] = None,
                   technician: Annotated[int | None, typer.Option(min=1)] = None, as_user: AsOpt = None) -> None:
    """Add a stock location: warehouse, outlet store or van."""
    wired = _wired()
    with reasons():
        parts_svc.add_location(_actor(wired, brand, as_user), code, name, kind, wired.uows(), wired.clock,
                               outlet_code=outlet, technician_id=technician)
    typer.echo(f"location {code} added")


@parts_app.command("move")
def parts_move(brand: BrandOpt, kind: Annotated[str, typer.Argument(help="receive | transfer | return | scrap")],
               sku: Annotated[str, typer.Option()], qty: Annotated[str, typer.Option()],
               src: Annotated[str | None, typer.Option("--from")] = None,
               dst: Annotated[str | None, typer.Option("--to")] = None,
               serial: Annotated[list[str] | None, typer.Option("--serial")] = None,
               note: Annotated[str, typer.Option()] = "", as_user: AsOpt = None) -> None:
    """Record a stock movement in the ledger."""
    if kind not in ("receive", "transfer", "return", "scrap"):
        fail(f"{kind!r}: a movement here is receive, transfer, return or scrap")
    wired = _wired()
    with reasons():
        parts_svc.move_stock(parts_svc.Move(_actor(wired, brand, as_user), MovementKind(kind), sku, qty, src, dst,
                                            tuple(serial or ()), note), wired.uows(), wired.clock)
    typer.echo(f"{kind} {qty} × {sku} recorded")


@parts_app.command("stock")
def parts_stock(brand: BrandOpt, location: Annotated[str | None, typer.Option()] = None,
                sku: Annotated[str | None, typer.Option()] = None, as_user: AsOpt = None,
                as_json: JsonOpt = False) -> None:
    """On hand, reserved and available."""
    wired = _wired()
    with reasons():
        rows = parts_svc.stock(wired.uows(readonly=True), _actor(wired, brand, as_user), location=location, sku=sku)
    _emit(as_json, rows, lambda: _table(rows, ["location", "sku", "on_hand", "reserved", "available"]))


@parts_app.command("ledger")
def parts_ledger(brand: BrandOpt, sku: Annotated[str | None, typer.Option()] = None,
                 location: Annotated[str | None, typer.Option()] = None,
                 limit: Annotated[int, typer.Option(min=1, max=500)] = 50, as_user: AsOpt = None,
                 as_json: JsonOpt = False) -> None:
    """The movements, newest first."""
    wired = _wired()
    with reasons():
        rows = parts_svc.ledger(wired.uows(readonly=True), _actor(wired, brand, as_user), sku=sku, location=location,
                                limit=limit)
    _emit(as_json, rows, lambda: _table(rows, ["id", "at", "kind", "sku", "qty", "from_location", "to_location",
                                               "serial", "actor"]))


@parts_app.command("reorder")
def parts_reorder(brand: BrandOpt, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """The replenishment report: what is at or below its reorder point, and how much to order."""
    wired = _wired()
    with reasons():
        rows = parts_svc.reorder_report(wired.uows(readonly=True), _actor(wired, brand, as_user))
    _emit(as_json, rows, lambda: _table(rows, ["location", "sku", "available", "reorder_point", "order"]))


@parts_app.command("verify")
def parts_verify(brand: BrandOpt, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Recompute every balance from the ledger; exit 1 on a mismatch."""
    wired = _wired()
    with reasons():
        result = parts_svc.verify(wired.uows(readonly=True), _actor(wired, brand, as_user))
    _emit(as_json, result, lambda: typer.echo(
        f"{result['balances']} balances; " + ("all match the ledger" if result["ok"]
                                              else f"{len(result['mismatches'])} do NOT match the ledger")))
    if not result["ok"]:
        raise typer.Exit(1)


@parts_app.command("import")
def parts_import(file: FileArg, brand: BrandOpt, partial: PartialOpt = False, as_user: AsOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Import stock received: location, sku, qty [, serials (; separated), reorder_point, reorder_qty]."""
    _import("stock", file, brand, partial, as_user, as_json)
