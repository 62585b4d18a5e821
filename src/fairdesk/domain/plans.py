"""Service plans and the one rule for changing them: 变更自由、生效一致.

A plan family has one change policy, applied alike to upgrades, downgrades and cancellation: either
``immediate`` (effective now, prorated to the second) or ``next_cycle`` (effective at the end of the paid
period, nothing prorated). A change and its reverse at the same moment give exactly opposite amounts, and
credits go back to the original payment method.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from fairdesk.domain.errors import Conflict, InvalidInput

__all__ = [
    "BillingPeriod",
    "Catalogue",
    "ChangeKind",
    "ChangePolicy",
    "Line",
    "Plan",
    "PlanFamily",
    "Quote",
    "Subscription",
    "SubscriptionStatus",
    "add_period",
    "classify",
    "money",
    "quote_change",
]

FEN = Decimal("0.01")


class ChangePolicy(StrEnum):
    """When a change takes effect; one per family, for every direction."""

    IMMEDIATE = "immediate"
    NEXT_CYCLE = "next_cycle"


class BillingPeriod(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def months(self) -> int:
        return {"month": 1, "quarter": 3, "year": 12}[self.value]


class ChangeKind(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    LATERAL = "lateral"
    CANCEL = "cancel"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"  # ended by the customer; nothing is charged after its end


def money(value: object, what: str = "price") -> Decimal:
    """A yuan amount with at most two decimals, never a float."""
    if isinstance(value, float):
        raise InvalidInput("money.float", f"{what} must be given as a decimal string, not a float")
    try:
        amount = Decimal(str(value))
    except ArithmeticError as exc:
        raise InvalidInput("money.invalid", f"{what} is not a number: {value!r}") from exc
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput("money.precision", f"{what} has more than two decimals: {value}")
    if amount < 0:
        raise InvalidInput("money.negative", f"{what} is negative: {value}")
    return amount.quantize(FEN)


def round_fen(amount: Decimal) -> Decimal:
    """Half-up to the fen; symmetric, so round(-x) == -round(x) and mirrored changes stay opposite."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def add_period(start: datetime, period: BillingPeriod, tz: ZoneInfo, count: int = 1) -> datetime:
    """The same local day and time ``count`` periods later (31 Jan + 1 month = 28/29 Feb), as UTC."""
    local = start.astimezone(tz)
    months = local.month - 1 + period.months * count
    year, month = local.year + months // 12, months % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(start.tzinfo)


@dataclass(frozen=True)
class PlanFamily:
    """Plans a customer can move between, under one change policy."""

    code: str
    name: str
    policy: ChangePolicy
    save_offer: str = ""  # at most one offer, shown once, beside "continue with my change"


@dataclass(frozen=True)
class Plan:
    """A plan: its family, price per billing period and features."""

    code: str
    family: str
    name: str
    price: Decimal
    period: BillingPeriod
    features: tuple[str, ...] = ()
    retired: bool = False
    terms_version: str = "1"

    def __post_init__(self) -> None:
        object.__setattr__(self, "price", money(self.price))


@dataclass(frozen=True)
class Line:
    """One line of a quote or receipt: what and how much (positive: the customer pays)."""

    kind: str  # credit | charge
    description: str
    amount: Decimal
    percent: Decimal | None = None  # the share of the period the line is for (pages say it in words)


@dataclass(frozen=True)
class Quote:
    """The whole effect of a change, before the customer confirms it."""

    kind: ChangeKind
    policy: ChangePolicy
    submitted_at: datetime
    effective_at: datetime
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def credit(self) -> Decimal:
        return sum((-ln.amount for ln in self.lines if ln.kind == "credit"), Decimal("0.00"))

    @property
    def charge(self) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.kind == "charge"), Decimal("0.00"))

    @property
    def net(self) -> Decimal:
        """Positive: the customer pays; negative: the customer gets money back."""
        return self.charge - self.credit


def classify(current: Plan, target: Plan | None) -> ChangeKind:
    if target is None:
        return ChangeKind.CANCEL
    # Compare the price per month, so a yearly plan and a monthly one compare fairly.
    now, then = current.price / current.period.months, target.price / target.period.months
    return ChangeKind.UPGRADE if then > now else ChangeKind.DOWNGRADE if then < now else ChangeKind.LATERAL


def unused_fraction(period_start: datetime, period_end: datetime, at: datetime) -> Decimal:
    """The share of the paid period still ahead at ``at``, to the second."""
    if not period_start < period_end:
        raise InvalidInput("plan.period", "the period must end after it starts")
    if not period_start <= at <= period_end:
        raise InvalidInput("plan.outside_period", "the change time lies outside the current period")
    total = Decimal((period_end - period_start) // timedelta(seconds=1))
    left = Decimal((period_end - at) // timedelta(seconds=1))
    return left / total


def quote_change(*, paid: Decimal, new_price: Decimal | None, period_start: datetime, period_end: datetime,
                 at: datetime, policy: ChangePolicy, kind: ChangeKind, paid_since: datetime | None = None) -> Quote:
    """The lines of a change under the family's policy.

    Immediate: a credit for the unused part of what was paid (``paid`` covers ``paid_since`` … period end,
    by default the whole period) and a charge for the rest of the period at the new price (none when
    cancelling), each rounded half-up to the fen. Next cycle: nothing now; the new price, or nothing when
    cancelling, applies from the end of the period.
    """
    if policy is ChangePolicy.NEXT_CYCLE:
        unused_fraction(period_start, period_end, at)  # still refuse a time outside the period
        return Quote(kind, policy, at, period_end)
    fraction = unused_fraction(period_start, period_end, at)
    since = paid_since or period_start
    # A change at the very end of the period leaves a paid part of no length: nothing to credit.
    paid_fraction = unused_fraction(since, period_end, at) if since < period_end else Decimal(0)
    pct = (fraction * 100).quantize(Decimal("0.01"))
    lines = [Line("credit", f"unused part ({pct}% of the period) of the amount paid",
                  -round_fen(paid * paid_fraction), pct)]
    if new_price is not None:
        lines.append(Line("charge", f"remaining {pct}% of the period at the new price",
                          round_fen(new_price * fraction), pct))
    return Quote(kind, policy, at, at, tuple(lines))


@dataclass(eq=False)
class Subscription:
    """A customer's plan: the paid period, what was paid for which part of it, and any change to come."""

    brand_id: int
    customer_id: int
    plan_code: str
    period_start: datetime
    period_end: datetime
    paid_since: datetime  # the start of the part of the period the last payment covers
    paid_amount: Decimal  # what was paid for paid_since … period_end
    payment_method: str
    auto_renew: bool
    created_at: datetime
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    pending_plan_code: str | None = None
    cancel_at_period_end: bool = False
    ended_at: datetime | None = None
    offer_shown: bool = False
    previews: int = 0  # previews since the last change: a change's steps are these + 1
    version: int = 1
    id: int | None = None

    def preview(self, current: Plan, target: Plan | None, family: PlanFamily, at: datetime) -> Quote:
        """What changing to ``target`` (None: cancel) at ``at`` would do, under the family's one rule."""
        if self.status is not SubscriptionStatus.ACTIVE:
            raise Conflict("subscription.ended", "this subscription has ended")
        if self.pending_plan_code is not None or self.cancel_at_period_end:
            raise Conflict("subscription.change_pending",
                           "a change is already scheduled for the end of the period; withdraw it first")
        return quote_change(paid=self.paid_amount, new_price=target.price if target else None,
                            period_start=self.period_start, period_end=self.period_end, at=at,
                            policy=family.policy, kind=classify(current, target), paid_since=self.paid_since)

    def apply(self, quote: Quote, target: Plan | None) -> None:
        """Carry out a previewed change: at once, or scheduled for the end of the period."""
        if quote.policy is ChangePolicy.NEXT_CYCLE:
            if target is None:
                self.cancel_at_period_end = True
                self.auto_renew = False
            else:
                self.pending_plan_code = target.code
        elif target is None:
            self.status = SubscriptionStatus.CANCELLED
            self.ended_at = quote.effective_at
            self.auto_renew = False
        else:
            self.plan_code = target.code
            self.paid_since = quote.effective_at
            self.paid_amount = quote.charge
        self.version += 1

    def resume(self) -> None:
        """Withdraw a change or cancellation scheduled for the end of the period: one action, no questions."""
        if self.status is not SubscriptionStatus.ACTIVE:
            raise Conflict("subscription.ended", "this subscription has ended; subscribe again")
        if self.pending_plan_code is None and not self.cancel_at_period_end:
            raise Conflict("subscription.nothing_scheduled", "no change is scheduled")
        if self.cancel_at_period_end:
            self.cancel_at_period_end = False
            self.auto_renew = True
        self.pending_plan_code = None
        self.version += 1

    def due_for_renewal(self, now: datetime) -> bool:
        return self.status is SubscriptionStatus.ACTIVE and self.period_end <= now

    def renew(self, plan: Plan, tz: ZoneInfo) -> Decimal | None:
        """Roll into the next period: returns the charge, or None when the subscription ends instead
        (cancelled for the period end, or no auto-renewal); nothing is ever charged after the end."""
        if self.cancel_at_period_end or not self.auto_renew:
            self.status = SubscriptionStatus.CANCELLED
            self.ended_at = self.period_end
            self.version += 1
            return None
        self.plan_code = plan.code
        self.pending_plan_code = None
        self.period_start = self.paid_since = self.period_end
        self.period_end = add_period(self.period_start, plan.period, tz)
        self.paid_amount = plan.price
        self.version += 1
        return plan.price


@dataclass
class Catalogue:
    """Families and plans of one brand; by construction a family cannot treat directions differently."""

    families: dict[str, PlanFamily]
    plans: dict[str, Plan]

    def validate(self) -> None:
        for plan in self.plans.values():
            if plan.family not in self.families:
                raise InvalidInput("plan.unknown_family", f"plan {plan.code} names unknown family {plan.family}")

    def change_target(self, current: Plan, code: str | None) -> Plan | None:
        """The plan a subscription may change to (None: cancel), or a clear refusal."""
        if code is None:
            return None
        target = self.plans.get(code)
        if target is None:
            raise InvalidInput("plan.not_found", f"no plan {code!r}", field="to_plan")
        if target.code == current.code:
            raise Conflict("plan.same_plan", "the subscription is already on this plan")
        if target.retired:
            raise Conflict("plan.retired", f"plan {code} is no longer offered")
        if target.family != current.family:
            raise Conflict("plan.other_family", f"{code} belongs to another plan family; cancel and subscribe")
        return target
