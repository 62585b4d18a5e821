"""The manager's dashboard in one read: volumes, SLA attainment (the latest background report), missed
targets, satisfaction, fairness, the credit score, the network's coverage and parts to reorder — every figure
from the same services the API publishes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fairdesk.domain.people import Actor, Role
from fairdesk.domain.regions import Resolver
from fairdesk.reference.regions_data import default_points
from fairdesk.services import complaints, contact, credit, network, parts, runs, surveys
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UowFactory

__all__ = ["DAYS", "dashboard"]

DAYS = 30


def dashboard(uows: UowFactory, actor: Actor, clock: Clock, resolver: Resolver) -> dict[str, Any]:
    require_role(actor, Role.MANAGER, Role.AUDITOR, what="read the dashboard")
    now = clock.now()
    since = now - timedelta(days=DAYS)
    offset = int((now.astimezone(clock.tz).utcoffset() or timedelta()).total_seconds() // 3600)
    with uows(readonly=True) as uow:
        brand = uow.brands.get(actor.brand_id)
        daily = uow.tickets.daily_counts(actor.brand_id, since, offset)
        breaches = uow.timers.breaches_since(actor.brand_id, since)
    opened = sum(n for _, n in daily)
    fair = contact.fairness_report(uows, actor, since, now, now)
    gaps = network.network_gaps(uows(readonly=True), actor, resolver)
    points = default_points()

    def dots(codes: list[str]) -> list[list[float]]:
        return [[points[c][1], points[c][0]] for c in codes if c in points]

    return {
        "brand": {"code": brand.code, "name": brand.name}, "days": DAYS,
        "volumes": {"days": [d for d, _ in daily], "tickets": [n for _, n in daily], "total": opened},
        "missed_targets": {name: {"tickets": n, "share": round(n / opened, 3) if opened else None}
                           for name, n in sorted(breaches.items())},
        "surveys": surveys.report(uows(readonly=True), actor, "brand"),
        "sla": runs.latest_report(uows, actor, "report.sla"),
        "fairness": {"flag": fair["flag"], "time_to_human": fair["time_to_human_by_intent"],
                     "slower_than_upgrade": fair["slower_than_upgrade"],
                     "steps_by_channel": fair["plan_changes"]["steps_by_channel"],
                     "more_steps_than_upgrade": fair["plan_changes"]["more_steps_than_upgrade"],
                     "completed_at_first_contact": fair["plan_changes"]["completed_at_first_contact"]},
        "credit": credit.show(uows, brand.code, clock),
        "complaints": complaints.statistics_for(uows, brand.code, clock, DAYS),
        "coverage": {
            "by_province": [{"province": g.province, "counties": g.counties, "covered": g.covered,
                             "partial": len(g.partial), "uncovered": len(g.uncovered)} for g in gaps],
            "covered": dots([c for g in gaps for c in g.covered_codes]),
            "partial": dots([c for g in gaps for c, _ in g.partial]),
            "uncovered": dots([c for g in gaps for c, _ in g.uncovered]),
        },
        "parts_alerts": parts.reorder_report(uows(readonly=True), actor),
    }
