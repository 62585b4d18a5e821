"""Service-credit scores per brand and per outlet: computed from the stored records by the published formula
(domain/credit.py, docs/credit.md), kept as a monthly history with every input, prior and weight that went
into each figure, and open to anyone; the records behind a figure open to the brand's staff and auditors."""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fairdesk.domain.contact import fairness_figures
from fairdesk.domain.credit import METHOD, Inputs, Method, Priors, compute
from fairdesk.domain.errors import InvalidInput, NotFound
from fairdesk.domain.people import Actor, Role
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = ["COMPONENTS", "WINDOW_DAYS", "compute_all", "explain", "inputs_of", "method", "priors_from", "recompute",
           "show"]

WINDOW_DAYS = 365
BRAND = "brand"
_COUNTS = ("ratings", "csat_sum", "csat_sq", "nps_answers", "promoters", "detractors", "tickets", "complaints",
           "response_due", "on_time", "ended", "confirmed", "repeat")
#: Which records stand behind each part (for ``inputs_of``).
COMPONENTS = {"csat": "surveys", "nps": "surveys", "complaint_rate": "complaints", "on_time_response": "complaints",
              "confirmed_resolution": "complaints", "repeat_complaints": "complaints"}


def priors_from(totals: dict[str, float], m: Method = METHOD) -> Priors:
    """The platform's pooled values, themselves steadied by the documented defaults counted as the method's
    pseudo-observations (so a young platform's priors do not swing with its first few records)."""
    d = Priors()

    def pooled(n: str, k: str, default: float, weight: int) -> float:
        return (totals.get(n, 0) + weight * default) / (totals.get(k, 0) + weight)

    csat = pooled("csat_sum", "ratings", d.csat, m.m_ratings)
    csat_sq = pooled("csat_sq", "ratings", d.csat_sd ** 2 + d.csat ** 2, m.m_ratings)
    diff = {"diff": totals.get("promoters", 0) - totals.get("detractors", 0),
            "both": totals.get("promoters", 0) + totals.get("detractors", 0),
            "nps_answers": totals.get("nps_answers", 0)}
    nps = (diff["diff"] + m.m_ratings * d.nps) / (diff["nps_answers"] + m.m_ratings)
    nps_sq = (diff["both"] + m.m_ratings * (d.nps_sd ** 2 + d.nps ** 2)) / (diff["nps_answers"] + m.m_ratings)
    return Priors(csat=csat, csat_sd=math.sqrt(max(0.0, csat_sq - csat ** 2)), nps=nps,
                  nps_sd=math.sqrt(max(0.0, nps_sq - nps ** 2)),
                  complaint_rate=pooled("complaints", "tickets", d.complaint_rate, m.m_tickets),
                  on_time=pooled("on_time", "response_due", d.on_time, m.m_complaints),
                  confirmed=pooled("confirmed", "ended", d.confirmed, m.m_complaints),
                  repeat=pooled("repeat", "complaints", d.repeat, m.m_complaints))


def _fairness(uow: UnitOfWork, brand_id: int, rows: list[Any], since: datetime, until: datetime) -> dict[str, Any]:
    up = [r for r in rows if r.kind == "upgrade"]
    down = [r for r in rows if r.kind in ("downgrade", "cancel")]

    def delay(rs: list[Any]) -> float:
        return round(statistics.median((r.effective_at - r.submitted_at).total_seconds() / 3600 for r in rs), 3) \
            if rs else 0.0

    def steps(rs: list[Any]) -> float:
        return round(statistics.fmean(r.steps for r in rs), 3) if rs else 0.0

    slower = fairness_figures(uow.contact.opened_between(brand_id, since, until), until)["flag"]
    return {"upgrades": len(up), "downgrades": len(down), "upgrade_delay_h": delay(up),
            "downgrade_delay_h": delay(down), "upgrade_steps": steps(up), "downgrade_steps": steps(down),
            "slower_to_human": bool(slower)}


def compute_all(uows: UowFactory, clock: Clock) -> int:
    """Score every brand and every outlet with records over the last year; the month's snapshot is replaced by
    the newest computation. Returns how many scores were stored."""
    now = clock.now()
    since = now - timedelta(days=WINDOW_DAYS)
    period = now.astimezone(clock.tz).strftime("%Y-%m")
    with uows(readonly=True) as uow:
        counts: dict[tuple[int, int | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))
        for query in (uow.credit.surveys, uow.credit.tickets, uow.credit.complaints):
            for r in query(since, now):
                row = r._mapping
                for k in _COUNTS:
                    if k in row:
                        counts[(r.brand_id, r.outlet_id)][k] += int(row[k] or 0)
        for r in uow.credit.repeats(since, now):
            counts[(r.brand_id, r.outlet_id)]["repeat"] += int(r.repeat)
        changes: dict[int, list[Any]] = defaultdict(list)
        for r in uow.credit.plan_changes(since, now):
            changes[r.brand_id].append(r)
        brands = {b.id: b for b in uow.brands.all()}
        fairness = {bid: _fairness(uow, bid, changes[bid], since, now) for bid in brands}
        outlets = {bid: {o.id: o.code for o in uow.outlets.for_brand(bid)} for bid in brands}
    totals: dict[str, float] = dict.fromkeys(_COUNTS, 0)
    per_brand: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))
    for (bid, _), c in counts.items():
        for k in _COUNTS:
            totals[k] += c[k]
            per_brand[bid][k] += c[k]
    priors = priors_from(totals)
    method_json = json.dumps(METHOD.as_dict(), sort_keys=True)
    priors_json = json.dumps(priors.as_dict(), sort_keys=True)
    rows: list[dict[str, Any]] = []
    with uows() as uow:
        for bid in brands:
            scopes: list[tuple[str, Inputs, bool]] = [(BRAND, Inputs(**per_brand[bid], **fairness[bid]), True)]
            for (b, oid), c in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
                if b == bid and oid is not None and oid in outlets[bid]:
                    scopes.append((f"outlet:{outlets[bid][oid]}", Inputs(**c), False))
            for scope, inputs, brand_level in scopes:
                score = compute(inputs, priors, METHOD, brand_level=brand_level)
                rows.append({"brand_id": bid, "scope": scope, "computed_at": now, "window_from": since,
                             "window_to": now, "score": Decimal(str(score.total)), "grade": score.grade,
                             "method": method_json, "inputs": json.dumps(inputs.as_dict(), sort_keys=True),
                             "priors": priors_json, "parts": json.dumps(score.as_dict(), sort_keys=True)})
        uow.credit.save_period(period, rows)
        uow.commit()
    return len(rows)


def recompute(uows: UowFactory, actor: Actor, clock: Clock) -> int:
    """Recompute every score now, on a manager's request (the worker does it daily)."""
    require_role(actor, Role.MANAGER, what="recompute scores")
    return compute_all(uows, clock)


def method() -> dict[str, Any]:
    """The published method: weights, pseudo-counts, the window, and where it is explained."""
    return {"version": METHOD.version, "window_days": WINDOW_DAYS, **METHOD.as_dict(),
            "document": "docs/credit.md", "page": "/credit/method"}


def _snapshot(r: Any, clock: Clock, *, detail: bool) -> dict[str, Any]:
    out = {"scope": r.scope, "period": r.period, "score": float(r.score), "grade": r.grade,
           "computed_at": r.computed_at.astimezone(clock.tz).isoformat()}
    if detail:
        parts = json.loads(r.parts)
        out |= {"parts": parts["parts"], "deductions": parts["deductions"], "inputs": json.loads(r.inputs),
                "priors": json.loads(r.priors), "method": json.loads(r.method),
                "window": {"from": r.window_from.astimezone(clock.tz).isoformat(),
                           "to": r.window_to.astimezone(clock.tz).isoformat()}}
    return out


def _brand(uow: UnitOfWork, code: str) -> Any:
    brand = uow.brands.by_code(code)
    if brand is None:
        raise NotFound("brand.not_found", f"no brand {code!r}")
    return brand


def show(uows: UowFactory, brand_code: str, clock: Clock) -> dict[str, Any]:
    """Public: the brand's newest score with its parts, its outlets' scores, and the monthly history."""
    with uows(readonly=True) as uow:
        brand = _brand(uow, brand_code)
        latest = uow.credit.latest_for_brand(brand.id)
        history = uow.credit.history(brand.id, BRAND)
    own = next((r for r in latest if r.scope == BRAND), None)
    return {"brand": {"code": brand.code, "name": brand.name},
            "score": _snapshot(own, clock, detail=True) if own else None,
            "outlets": sorted((_snapshot(r, clock, detail=False) | {"outlet": r.scope.split(":", 1)[1]}
                               for r in latest if r.scope != BRAND), key=lambda s: -s["score"]),
            "history": [_snapshot(r, clock, detail=False) for r in history],
            "method": method()}


def _arithmetic(part: dict[str, Any], x: dict[str, Any], p: dict[str, Any], m: dict[str, Any]) -> str:
    """The documented calculation written out with this score's numbers (docs/credit.md, "The parts")."""
    name, z = part["name"], m["z"]
    tail = f" = {part['shrunk']:.4f}; × {part['weight']} = {part['points']:.2f}"
    if name == "csat":
        k = x["ratings"] + m["m_ratings"]
        return (f"(({x['csat_sum']} + {m['m_ratings']}×{p['csat']:.4f}) / {k} − {z}×{p['csat_sd']:.4f}/√{k} − 1)"
                f" / 4{tail}")
    if name == "nps":
        k = x["nps_answers"] + m["m_ratings"]
        return (f"(({x['promoters']} − {x['detractors']} + {m['m_ratings']}×{p['nps']:.4f}) / {k} − "
                f"{z}×{p['nps_sd']:.4f}/√{k} + 1) / 2{tail}")
    if name == "complaint_rate":
        k = x["tickets"] + m["m_tickets"]
        r0 = p["complaint_rate"]
        return (f"r = ({x['complaints']} + {m['m_tickets']}×{r0:.6f}) / {k} + {z}×√({r0:.6f}×(1−{r0:.6f}))/√{k}; "
                f"1 / (1 + 1000·r / {m['half_rate_per_1000']}){tail}")
    n, d, prior = {"on_time_response": ("on_time", "response_due", "on_time"),
                   "confirmed_resolution": ("confirmed", "ended", "confirmed"),
                   "repeat_complaints": ("repeat", "complaints", "repeat")}[name]
    k, p0 = x[d] + m["m_complaints"], p[prior]
    band = f"{z}×√({p0:.4f}×(1−{p0:.4f}))/√{k}"
    if name == "repeat_complaints":
        return f"1 − (({x[n]} + {m['m_complaints']}×{p0:.4f}) / {k} + {band}){tail}"
    return f"({x[n]} + {m['m_complaints']}×{p0:.4f}) / {k} − {band}{tail}"


def explain(uows: UowFactory, brand_code: str, clock: Clock, outlet_code: str | None = None,
            period: str | None = None) -> dict[str, Any]:
    """Public: one score taken apart — each part's inputs, prior, shrunk value and points, written out."""
    scope = f"outlet:{outlet_code}" if outlet_code else BRAND
    with uows(readonly=True) as uow:
        brand = _brand(uow, brand_code)
        rows = uow.credit.history(brand.id, scope)
    if period:
        rows = [r for r in rows if r.period == period]
    if not rows:
        raise NotFound("credit.not_found", f"no score for {brand_code} {scope}" + (f" in {period}" if period else ""))
    snap = _snapshot(rows[-1], clock, detail=True)
    for part in snap["parts"]:
        part["calculation"] = _arithmetic(part, snap["inputs"], snap["priors"], snap["method"])
    total = sum(p["points"] for p in snap["parts"]) - sum(d["points"] for d in snap["deductions"])
    snap["calculation"] = (" + ".join(f"{p['points']:.2f}" for p in snap["parts"])
                           + "".join(f" − {d['points']}" for d in snap["deductions"])
                           + f" = {total:.2f} → {snap['score']} ({snap['grade']})")
    return {"brand": {"code": brand.code, "name": brand.name}} | snap


def inputs_of(uows: UowFactory, actor: Actor, brand_code: str, component: str, clock: Clock,
              outlet_code: str | None = None) -> dict[str, Any]:
    """The records behind one part of the newest score: the brand's own staff and auditors may audit them."""
    if actor.is_customer:
        raise NotFound("not_found", "no such report")
    require_role(actor, Role.MANAGER, Role.AUDITOR, what="audit the inputs of a score")
    if component not in COMPONENTS:
        raise InvalidInput("credit.component", f"one of {', '.join(COMPONENTS)}", field="component")
    with uows(readonly=True) as uow:
        brand = _brand(uow, brand_code)
        if actor.role is not Role.AUDITOR and brand.id != actor.brand_id:
            raise NotFound("brand.not_found", f"no brand {brand_code!r}")
        outlet_id = None
        if outlet_code:
            outlet = uow.outlets.by_code(brand.id, outlet_code)
            if outlet is None:
                raise NotFound("outlet.not_found", f"no outlet {outlet_code!r}")
            outlet_id = outlet.id
        rows = uow.credit.history(brand.id, f"outlet:{outlet_code}" if outlet_code else BRAND)
        if not rows:
            raise NotFound("credit.not_found", f"no score for {brand_code}")
        snap = rows[-1]
        if COMPONENTS[component] == "surveys":
            records = [{"survey_id": r.id, "ticket_id": r.ticket_id, "outlet_id": r.outlet_id,
                        "answered_at": r.answered_at.isoformat(), "csat": r.csat, "nps": r.nps}
                       for r in uow.credit.survey_records(brand.id, outlet_id, snap.window_from, snap.window_to)]
        else:
            records = [{"complaint_id": r.id, "number": r.number, "outlet_id": r.outlet_id, "category": r.category,
                        "status": r.status, "received_at": r.received_at.isoformat(),
                        "due_first_response": r.due_first_response.isoformat(),
                        "first_response_at": r.first_response_at.isoformat() if r.first_response_at else None,
                        "consumer_confirmed": r.consumer_confirmed}
                       for r in uow.credit.complaint_records(brand.id, outlet_id, snap.window_from, snap.window_to)]
    return {"brand": brand.code, "scope": snap.scope, "period": snap.period, "component": component,
            "window": {"from": snap.window_from.isoformat(), "to": snap.window_to.isoformat()},
            "inputs": json.loads(snap.inputs), "records": records}
