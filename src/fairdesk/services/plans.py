"""Subscriptions and the one operation that changes them up, down or out, under one rule per family."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fairdesk.domain.errors import Conflict, InvalidInput, NotFound, StaleState
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.plans import (
    Catalogue,
    ChangeKind,
    Plan,
    PlanFamily,
    Quote,
    Subscription,
    add_period,
)
from fairdesk.services import evidence
from fairdesk.services.access import access_customer, access_subscription, require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = [
    "CHANNELS",
    "ChangeResult",
    "ChangeSubscription",
    "Subscribe",
    "access_subscription",
    "change_subscription",
    "import_catalogue",
    "receipt",
    "resume_subscription",
    "run_renewals",
    "subscribe",
]

#: Every channel that sells a plan also changes it down and cancels it, with the same one operation.
CHANNELS = ("web", "api", "hotline", "chat")
#: Days before a renewal the customer is reminded (the 2025 MIIT-guided pledge: 5 days).
RENEWAL_REMINDER_DAYS = 5
#: Where a consumer can complain if a change is not honoured (shown on every receipt).
COMPLAINT_ROUTES = ("12315 (市场监管 / SAMR)", "12300 (工业和信息化部 / MIIT, telecom services)")
MAX_PAYMENT_METHOD = 32


def import_catalogue(actor: Actor, catalogue: Catalogue, uow: UnitOfWork) -> tuple[int, int]:
    require_role(actor, Role.MANAGER, what="edit the plan catalogue")
    catalogue.validate()
    with uow:
        counts = uow.plans.save_catalogue(actor.brand_id, catalogue)
        uow.commit()
    return counts


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInput("plan.channel", f"channel is one of {', '.join(CHANNELS)}", field="channel")
    return channel


@dataclass(frozen=True)
class Subscribe:
    actor: Actor
    customer_id: int
    plan_code: str
    payment_method: str
    channel: str
    auto_renew: bool = False
    terms_version: str | None = None  # the terms the customer agreed to; required for auto-renewal


def subscribe(cmd: Subscribe, uow: UnitOfWork, clock: Clock) -> Subscription:
    """Start a subscription and charge its first period; auto-renewal only with a recorded consent."""
    if cmd.actor.read_only or cmd.actor.role is Role.TECHNICIAN:
        raise NotFound("not_found", "no such operation for this role")
    if not cmd.payment_method or len(cmd.payment_method) > MAX_PAYMENT_METHOD:
        raise InvalidInput("plan.payment_method", "name the payment method (e.g. alipay, wechat, card)")
    now = clock.now()
    with uow:
        access_customer(uow, cmd.actor, cmd.customer_id)
        plan = uow.plans.catalogue(cmd.actor.brand_id).plans.get(cmd.plan_code)
        if plan is None or plan.retired:
            raise NotFound("plan.not_found", f"no plan {cmd.plan_code!r} on offer")
        if cmd.auto_renew and cmd.terms_version != plan.terms_version:
            raise InvalidInput("plan.consent_required",
                               f"auto-renewal needs the customer's consent to terms version {plan.terms_version}")
        sub = Subscription(brand_id=cmd.actor.brand_id, customer_id=cmd.customer_id, plan_code=plan.code,
                           period_start=now, period_end=add_period(now, plan.period, clock.tz), paid_since=now,
                           paid_amount=plan.price, payment_method=cmd.payment_method, auto_renew=cmd.auto_renew,
                           created_at=now)
        uow.plans.add(sub)
        uow.plans.flush()
        if cmd.auto_renew:
            uow.plans.add_consent(sub.brand_id, sub.id, plan.terms_version, plan.price, _channel(cmd.channel), now)
        uow.plans.add_ledger([{"brand_id": sub.brand_id, "subscription_id": sub.id, "change_id": None,
                               "kind": "charge", "amount": plan.price, "payment_method": sub.payment_method,
                               "description": f"{plan.name}: first period", "at": now}])
        evidence.record(uow, sub.brand_id, EvidenceKind.SUBSCRIPTION_STARTED, f"subscription:{sub.id}", sub.customer_id,
                        {"plan": plan.code, "price": f"{plan.price:.2f}", "period_end": sub.period_end.isoformat(),
                         "auto_renew": sub.auto_renew, "terms_version": cmd.terms_version, "channel": cmd.channel,
                         "payment_method": sub.payment_method, "by": cmd.actor.describe()}, clock)
        uow.commit()
    return sub


@dataclass(frozen=True)
class ChangeSubscription:
    actor: Actor
    subscription_id: int
    to_plan: str | None  # None: cancel
    preview: bool
    channel: str


@dataclass
class ChangeResult:
    """A preview (quote and, at most once, a save offer) or a confirmed change with its receipt."""

    quote: Quote
    from_plan: Plan
    to_plan: Plan | None
    save_offer: str | None = None
    change_id: int | None = None
    receipt: dict[str, Any] | None = None


def _lines(quote: Quote) -> list[dict[str, str]]:
    return [{"kind": ln.kind, "description": ln.description, "amount": f"{ln.amount:.2f}",
             "percent": f"{ln.percent}" if ln.percent is not None else ""} for ln in quote.lines]


def _stored_lines(text: str) -> list[dict[str, str]]:
    """A stored change's lines; those stored before lines kept their share of the period get it from the text."""
    lines = json.loads(text)
    for ln in lines:
        if not ln.get("percent"):
            found = re.search(r"(\d+(?:\.\d+)?)%", ln.get("description", ""))
            ln["percent"] = found.group(1) if found else ""
    return lines


def change_subscription(cmd: ChangeSubscription, uows: UowFactory, clock: Clock) -> ChangeResult:
    """The one operation for upgrading, downgrading and cancelling, in every channel alike."""
    if cmd.actor.read_only or cmd.actor.role is Role.TECHNICIAN:
        raise NotFound("not_found", "no such operation for this role")
    _channel(cmd.channel)
    now = clock.now()
    try:
        with uows() as uow:
            sub = access_subscription(uow, cmd.actor, cmd.subscription_id)
            catalogue = uow.plans.catalogue(sub.brand_id)
            current = catalogue.plans[sub.plan_code]
            target = catalogue.change_target(current, cmd.to_plan)
            family: PlanFamily = catalogue.families[current.family]
            quote = sub.preview(current, target, family, now)
            if cmd.preview:
                offer = None
                if family.save_offer and quote.kind in (ChangeKind.DOWNGRADE, ChangeKind.CANCEL) \
                        and not sub.offer_shown:
                    offer = family.save_offer  # once per subscription, never again
                # Counted (the fairness report compares steps per change) with an atomic increment, not under
                # the row's version: previews at the same instant must not refuse each other.
                uow.plans.count_preview(sub.id, offer_shown=offer is not None)
                uow.commit()
                return ChangeResult(quote, current, target, save_offer=offer)
            steps = sub.previews + 1
            sub.previews = 0
            sub.apply(quote, target)
            uow.plans.flush()
            change_id = uow.plans.add_change(
                brand_id=sub.brand_id, subscription_id=sub.id, from_plan=current.code,
                to_plan=target.code if target else None, kind=quote.kind.value, policy=quote.policy,
                channel=cmd.channel, actor=cmd.actor.describe(), submitted_at=now, effective_at=quote.effective_at,
                net=quote.net, lines=json.dumps(_lines(quote), ensure_ascii=False), steps=steps)
            ledger = []
            if quote.credit:
                # Credits go back to the original payment method, not into a balance.
                ledger.append({"kind": "refund", "amount": quote.credit, "description": "credit for the unused part"})
            if quote.charge:
                ledger.append({"kind": "charge", "amount": quote.charge, "description": "rest of the period"})
            uow.plans.add_ledger([row | {"brand_id": sub.brand_id, "subscription_id": sub.id, "change_id": change_id,
                                         "payment_method": sub.payment_method, "at": now} for row in ledger])
            evidence.record(uow, sub.brand_id, EvidenceKind.SUBSCRIPTION_CHANGED,
                            f"subscription:{sub.id}", sub.customer_id,
                            {"change_id": change_id, "kind": quote.kind.value, "policy": quote.policy.value,
                             "from": current.code, "to": target.code if target else None, "net": f"{quote.net:.2f}",
                             "lines": _lines(quote), "effective_at": quote.effective_at.isoformat(),
                             "channel": cmd.channel, "by": cmd.actor.describe()}, clock)
            uow.commit()
    except StaleState as exc:
        raise Conflict("subscription.concurrent_change",
                       "another change to this subscription was made at the same time; reload and retry") from exc
    result = ChangeResult(quote, current, target, change_id=change_id)
    result.receipt = _receipt(sub, change_id, current, target, quote, cmd.channel,
                              sub.payment_method, clock)
    return result


def resume_subscription(actor: Actor, subscription_id: int, uow: UnitOfWork, clock: Clock) -> Subscription:
    """Withdraw a scheduled change or cancellation."""
    if actor.read_only or actor.role is Role.TECHNICIAN:
        raise NotFound("not_found", "no such operation for this role")
    try:
        with uow:
            sub = access_subscription(uow, actor, subscription_id)
            sub.resume()
            evidence.record(uow, sub.brand_id, EvidenceKind.SUBSCRIPTION_RESUMED,
                            f"subscription:{sub.id}", sub.customer_id,
                            {"by": actor.describe()}, clock)
            uow.commit()
    except StaleState as exc:
        raise Conflict("subscription.concurrent_change", "the subscription changed meanwhile; retry") from exc
    return sub


def _receipt(sub: Subscription, change_id: int, from_plan: Plan, to_plan: Plan | None, quote: Quote, channel: str,
             payment_method: str, clock: Clock) -> dict[str, Any]:
    return {
        "change_id": change_id, "subscription_id": sub.id, "from_plan": from_plan.code,
        "to_plan": to_plan.code if to_plan else None, "from_plan_name": from_plan.name,
        "to_plan_name": to_plan.name if to_plan else None,
        "kind": quote.kind.value, "policy": quote.policy.value, "channel": channel,
        "submitted_at": quote.submitted_at.astimezone(clock.tz).isoformat(),
        "effective_at": quote.effective_at.astimezone(clock.tz).isoformat(),
        "lines": _lines(quote), "net": f"{quote.net:.2f}",
        "refund_to": payment_method if quote.net < 0 else None,
        "complaint_routes": list(COMPLAINT_ROUTES),
    }


def receipt(uow: UnitOfWork, actor: Actor, subscription_id: int, change_id: int, clock: Clock) -> dict[str, Any]:
    """A change's receipt, downloadable by the customer at any time."""
    with uow:
        sub = access_subscription(uow, actor, subscription_id)
        row = uow.plans.change(actor.brand_id, sub.id, change_id)
        if row is None:
            raise NotFound("plan_change.not_found", f"no change {change_id}")
        lines = _stored_lines(row.lines)
        plans = uow.plans.catalogue(actor.brand_id).plans
        return {"change_id": row.id, "subscription_id": sub.id, "from_plan": row.from_plan, "to_plan": row.to_plan,
                "from_plan_name": plans[row.from_plan].name if row.from_plan in plans else row.from_plan,
                "to_plan_name": (plans[row.to_plan].name if row.to_plan in plans else row.to_plan) if row.to_plan
                else None,
                "kind": row.kind, "policy": row.policy.value, "channel": row.channel,
                "submitted_at": row.submitted_at.astimezone(clock.tz).isoformat(),
                "effective_at": row.effective_at.astimezone(clock.tz).isoformat(),
                "lines": lines, "net": f"{row.net:.2f}", "refund_to": sub.payment_method if row.net < 0 else None,
                "complaint_routes": list(COMPLAINT_ROUTES)}


@dataclass
class RenewalRun:
    renewed: int = 0
    ended: int = 0
    reminded: int = 0
    charged: Decimal = Decimal("0.00")


def run_renewals(uows: UowFactory, clock: Clock, *, batch: int = 500,
                 reminder_days: int = RENEWAL_REMINDER_DAYS) -> RenewalRun:
    """Renew (or end) every subscription whose period is over, in batches of ``batch`` so memory stays flat,
    and record a reminder for every renewal due within ``reminder_days``."""
    now = clock.now()
    run = RenewalRun()
    after = 0
    while True:
        with uows() as uow:
            due = uow.plans.due_for_renewal(now, after, batch)
            if not due:
                break
            catalogues: dict[int, Catalogue] = {}
            ledger = []
            for sub in due:
                cat = catalogues.get(sub.brand_id) or catalogues.setdefault(sub.brand_id,
                                                                            uow.plans.catalogue(sub.brand_id))
                # Catch up period by period, so a worker that was down for days charges each period once.
                while sub.due_for_renewal(now):
                    plan = cat.plans[sub.pending_plan_code or sub.plan_code]
                    charged = sub.renew(plan, clock.tz)
                    evidence.record(uow, sub.brand_id, EvidenceKind.SUBSCRIPTION_RENEWED if charged
                                    else EvidenceKind.SUBSCRIPTION_ENDED,
                                    f"subscription:{sub.id}", sub.customer_id,
                                    {"plan": plan.code, "charged": f"{charged:.2f}" if charged else None,
                                     "period_end": sub.period_end.isoformat()}, clock)
                    if charged is None:
                        run.ended += 1
                        break
                    run.renewed += 1
                    run.charged += charged
                    ledger.append({"brand_id": sub.brand_id, "subscription_id": sub.id, "change_id": None,
                                   "kind": "charge", "amount": charged, "payment_method": sub.payment_method,
                                   "description": f"{plan.name}: renewal", "at": sub.period_start})
            uow.plans.add_ledger(ledger)
            uow.commit()
            after = due[-1].id
    with uows() as uow:
        run.reminded = uow.plans.record_due_reminders(now, now + timedelta(days=reminder_days))
        uow.commit()
    return run
