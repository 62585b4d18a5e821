"""`fairdesk complaints …` and `fairdesk credit …`: complaint handling and the published score from the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fairdesk.entrypoints.cli.main import AsOpt, BrandOpt, JsonOpt, _actor, _emit, _wired, app, reasons
from fairdesk.services import complaints as complaint_svc
from fairdesk.services import credit as credit_svc

__all__ = ["complaints_app", "credit_app"]

complaints_app = typer.Typer(help="Complaints: file, the queue, handling, groups, deadlines, export, statistics.",
                             no_args_is_help=True)
credit_app = typer.Typer(help="The service-credit score: compute, show, explain.", no_args_is_help=True)
app.add_typer(complaints_app, name="complaints")
app.add_typer(credit_app, name="credit")


@complaints_app.command("file")
def file_(brand: BrandOpt, customer: Annotated[int, typer.Option(help="Customer id.", min=1)],
          category: Annotated[str, typer.Option()], request: Annotated[str, typer.Option(help="What is asked for.")],
          facts: Annotated[str, typer.Option(help="What happened.")],
          outlet: Annotated[str | None, typer.Option(help="Outlet code complained about.")] = None,
          ticket: Annotated[int | None, typer.Option(help="Linked ticket id.", min=1)] = None,
          as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """File a complaint for a consumer (e.g. taken on the hotline)."""
    wired = _wired()
    with reasons():
        cmd = complaint_svc.FileComplaint(_actor(wired, brand, as_user), category, request, facts,
                                          customer_id=customer, outlet_code=outlet, ticket_id=ticket)
        out, _ = complaint_svc.file_complaint(cmd, wired.uows, wired.clock)
    _emit(as_json, out, lambda: typer.echo(f"{out['number']} {out['status']}"
                                           f"{' (green channel)' if out['green'] else ''}; accept by "
                                           f"{out['deadlines']['acceptance'][:16]}"))


@complaints_app.command("list")
def list_(brand: BrandOpt, status: Annotated[str | None, typer.Option()] = None,
          green: Annotated[bool | None, typer.Option("--green/--standard")] = None,
          as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """The queue: green channel first, then the nearest deadline."""
    wired = _wired()
    with reasons():
        rows = complaint_svc.queue(wired.uows, _actor(wired, brand, as_user), wired.clock, status=status,
                                   green=green, limit=500)

    def human() -> None:
        typer.echo(f"{'number':<18} {'green':<5} {'category':<16} {'status':<16} overdue")
        for r in rows:
            typer.echo(f"{r['number']:<18} {'yes' if r['green'] else '':<5} {r['category']:<16} {r['status']:<16} "
                       f"{','.join(r['overdue'])}")
    _emit(as_json, rows, human)


@complaints_app.command("show")
def show(brand: BrandOpt, complaint_id: int, as_user: AsOpt = None) -> None:
    """A complaint with its deadlines and history (JSON)."""
    wired = _wired()
    with reasons():
        out = complaint_svc.get_complaint(wired.uows, _actor(wired, brand, as_user), complaint_id, wired.clock)
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


@complaints_app.command("act")
def act(brand: BrandOpt, complaint_id: int,
        action: Annotated[str, typer.Argument(help="accept | reject | respond | propose | comment")],
        note: Annotated[str, typer.Option()] = "",
        reason: Annotated[str | None, typer.Option(help="For reject: one of the listed reasons.")] = None,
        as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """A business step on a complaint (a group complaint is handled once for all its members)."""
    wired = _wired()
    with reasons():
        out = complaint_svc.handle(wired.uows, _actor(wired, brand, as_user), complaint_id, action.replace("-", "_"),
                                   wired.clock, note=note, reason=reason)
    _emit(as_json, out, lambda: typer.echo(f"{out['number']} {out['status']}"))


@complaints_app.command("export")
def export(brand: BrandOpt, complaint_id: int,
           pdf: Annotated[Path | None, typer.Option(help="Write a printable PDF here.")] = None,
           as_user: AsOpt = None) -> None:
    """The filing-ready case (JSON on standard output, or a PDF)."""
    wired = _wired()
    with reasons():
        case = complaint_svc.export_case(wired.uows, _actor(wired, brand, as_user), complaint_id, wired.clock)
    if pdf is None:
        typer.echo(json.dumps(case, ensure_ascii=False, indent=2))
        return
    from fairdesk.adapters.pdf import case_pdf
    pdf.write_bytes(case_pdf(case))
    typer.echo(f"wrote {pdf}")


@complaints_app.command("groups")
def groups(brand: BrandOpt, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Complaints proposed for grouping (same issue, two or more consumers)."""
    wired = _wired()
    with reasons():
        rows = complaint_svc.group_proposals(wired.uows, _actor(wired, brand, as_user))

    def human() -> None:
        for r in rows:
            typer.echo(f"{r['category']:<16} {r['consumers']:>3} consumers  similarity {r['mean_similarity']:.2f}  "
                       f"{' '.join(map(str, r['complaint_ids']))}")
    _emit(as_json, rows, human)


@complaints_app.command("sweep")
def sweep() -> None:
    """Act on passed deadlines now (the worker does this every five minutes)."""
    wired = _wired()
    typer.echo(f"complaints past a deadline: {complaint_svc.sweep(wired.uows, wired.clock)}")


@complaints_app.command("stats")
def stats(brand: BrandOpt, days: Annotated[int, typer.Option(min=1, max=3660)] = 365, as_json: JsonOpt = False) -> None:
    """Published statistics: by category and timeliness, the green channel apart."""
    wired = _wired()
    with reasons():
        out = complaint_svc.statistics_for(wired.uows, brand, wired.clock, days)

    def human() -> None:
        typer.echo(f"{'':<16} {'received':>8} {'open':>5} {'accepted in time':>16} {'answered in time':>16} "
                   f"{'median h':>8} {'confirmed':>9}")
        rows = [("all", out["all"]), ("green channel", out["green_channel"]), ("standard", out["standard"]),
                *out["by_category"].items()]
        for name, f in rows:
            typer.echo(f"{name:<16} {f['received']:>8} {f['open']:>5} {_pct(f['accepted_on_time']):>16} "
                       f"{_pct(f['responded_on_time']):>16} {f['median_first_response_h'] or '-':>8} "
                       f"{_pct(f['consumer_confirmed']):>9}")
    _emit(as_json, out, human)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


@credit_app.command("compute")
def credit_compute() -> None:
    """Recompute every brand's and outlet's score now (the worker does this daily)."""
    wired = _wired()
    typer.echo(f"scores stored: {credit_svc.compute_all(wired.uows, wired.clock)}")


@credit_app.command("show")
def credit_show(brand: BrandOpt, as_json: JsonOpt = False) -> None:
    """The brand's score, its parts, its outlets and its history."""
    wired = _wired()
    with reasons():
        out = credit_svc.show(wired.uows, brand, wired.clock)

    def human() -> None:
        s = out["score"]
        if s is None:
            typer.echo("no score yet: run `fairdesk credit compute`")
            return
        typer.echo(f"{out['brand']['name']}: {s['score']} ({s['grade']}) — {s['period']}")
        for p in s["parts"]:
            raw = "-" if p["raw"] is None else f"{p['raw']:.3f}"
            typer.echo(f"  {p['name']:<22} {p['points']:>6.2f} / {p['weight']:<4} n={p['observations']:<6} raw={raw}")
        for d in s["deductions"]:
            typer.echo(f"  − {d['points']} {d['reason']}")
        if out["outlets"]:
            typer.echo("outlets:")
            for o in out["outlets"][:20]:
                typer.echo(f"  {o['outlet']:<16} {o['score']:>5} ({o['grade']})")
        typer.echo("history: " + ", ".join(f"{h['period']} {h['score']}" for h in out["history"]))
    _emit(as_json, out, human)


@credit_app.command("explain")
def credit_explain(brand: BrandOpt, outlet: Annotated[str | None, typer.Option()] = None,
                   period: Annotated[str | None, typer.Option(help="YYYY-MM (default: newest).")] = None,
                   as_json: JsonOpt = False) -> None:
    """One score taken apart: each part's inputs, prior, shrinkage and points, written out."""
    wired = _wired()
    with reasons():
        out = credit_svc.explain(wired.uows, brand, wired.clock, outlet, period)

    def human() -> None:
        typer.echo(f"{out['brand']['name']} {out['scope']} {out['period']} (window {out['window']['from'][:10]} – "
                   f"{out['window']['to'][:10]})")
        for p in out["parts"]:
            typer.echo(f"  {p['name']:<22} {p['calculation']}")
        for d in out["deductions"]:
            typer.echo(f"  deduction {d['reason']}: −{d['points']}")
        typer.echo(f"  total: {out['calculation']}")
        typer.echo("  method: docs/credit.md (GET /api/v1/credit/method)")
    _emit(as_json, out, human)
