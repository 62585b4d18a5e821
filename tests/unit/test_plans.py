"""Plan changes under one rule: proration, mirror amounts, symmetric timing, the Kill Bill linter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairdesk.adapters import killbill
from fairdesk.domain.errors import Conflict, InvalidInput
from fairdesk.domain.plans import (
    BillingPeriod,
    ChangeKind,
    ChangePolicy,
    Plan,
    PlanFamily,
    Subscription,
    SubscriptionStatus,
    add_period,
    money,
    quote_change,
)

SH = ZoneInfo("Asia/Shanghai")
KILLBILL = Path(__file__).resolve().parents[1] / "data" / "killbill"
T0 = datetime(2026, 4, 11, tzinfo=SH)
T1 = datetime(2026, 5, 11, tzinfo=SH)


def quote(paid: str, new: str | None, at: datetime, start: datetime = T0, end: datetime = T1):  # type: ignore[no-untyped-def]
    return quote_change(paid=Decimal(paid), new_price=Decimal(new) if new else None, period_start=start,
                        period_end=end, at=at, policy=ChangePolicy.IMMEDIATE, kind=ChangeKind.LATERAL)


class TestWorkedExamples:
    def test_stripes_example_10_to_20_at_half_period_nets_plus_5_and_its_mirror_minus_5(self) -> None:
        half = T0 + (T1 - T0) / 2
        up, down = quote("10", "20", half), quote("20", "10", half)
        assert (up.credit, up.charge, up.net) == (Decimal("5.00"), Decimal("10.00"), Decimal("5.00"))
        assert (down.credit, down.charge, down.net) == (Decimal("10.00"), Decimal("5.00"), Decimal("-5.00"))

    def test_kill_bills_example_silver_20_to_gold_30_on_the_26th(self) -> None:
        q = quote("20", "30", datetime(2026, 4, 26, tzinfo=SH))
        assert (q.credit, q.charge) == (Decimal("10.00"), Decimal("15.00"))

    def test_cancelling_credits_the_unused_part_and_charges_nothing(self) -> None:
        q = quote("30", None, datetime(2026, 4, 26, tzinfo=SH))
        assert (q.credit, q.charge, q.net) == (Decimal("15.00"), Decimal("0.00"), Decimal("-15.00"))

    def test_proration_is_to_the_second_and_rounded_half_up_at_the_end(self) -> None:
        q = quote("100", "0", T0 + timedelta(seconds=1))
        assert q.credit == Decimal("100.00")  # 99.99996… rounds to 100.00
        assert quote("0.03", "0", T0 + (T1 - T0) / 2).credit == Decimal("0.02")  # 0.015 → 0.02, half up


class TestMoney:
    @pytest.mark.parametrize("bad", ["10.001", "-1", "abc", "NaN", "Infinity", 1.5])
    def test_prices_are_decimals_with_at_most_two_places(self, bad: object) -> None:
        with pytest.raises(InvalidInput):
            money(bad)

    def test_a_time_outside_the_period_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            quote("10", "20", T1 + timedelta(days=1))


class TestPeriods:
    def test_month_end_clamps_and_keeps_the_local_time(self) -> None:
        start = datetime(2026, 1, 31, 9, 0, tzinfo=SH).astimezone(UTC)
        assert add_period(start, BillingPeriod.MONTH, SH).astimezone(SH) == datetime(2026, 2, 28, 9, 0, tzinfo=SH)
        assert add_period(start, BillingPeriod.YEAR, SH).astimezone(SH) == datetime(2027, 1, 31, 9, 0, tzinfo=SH)


prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999.99"), places=2)
policies = st.sampled_from(list(ChangePolicy))
periods = st.sampled_from(list(BillingPeriod))


@st.composite
def a_period_and_moment(draw: st.DrawFn) -> tuple[datetime, datetime, datetime]:
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 3 * 365 * 86400)))
    end = add_period(start, draw(periods), SH)
    at = start + timedelta(seconds=draw(st.integers(0, int((end - start).total_seconds()))))
    return start, end, at


def subscription(plan: Plan, start: datetime, end: datetime) -> Subscription:
    return Subscription(brand_id=1, customer_id=1, plan_code=plan.code, period_start=start, period_end=end,
                        paid_since=start, paid_amount=plan.price, payment_method="alipay", auto_renew=True,
                        created_at=start)


class TestOneRuleBothWays:
    @given(prices, prices, policies, a_period_and_moment())
    def test_a_change_and_its_reverse_at_one_moment_follow_the_same_rule_and_mirror_amounts(
            self, a: Decimal, b: Decimal, policy: ChangePolicy, when: tuple[datetime, datetime, datetime]) -> None:
        start, end, at = when
        family = PlanFamily("care", "Care", policy)
        pa, pb = Plan("A", "care", "A", a, BillingPeriod.MONTH), Plan("B", "care", "B", b, BillingPeriod.MONTH)
        there = subscription(pa, start, end).preview(pa, pb, family, at)
        back = subscription(pb, start, end).preview(pb, pa, family, at)
        assert (there.policy, there.effective_at) == (back.policy, back.effective_at)
        assert there.net == -back.net

    @given(prices, prices, policies, a_period_and_moment())
    def test_a_to_b_to_a_at_one_moment_nets_to_zero(self, a: Decimal, b: Decimal, policy: ChangePolicy,
                                                    when: tuple[datetime, datetime, datetime]) -> None:
        start, end, at = when
        family = PlanFamily("care", "Care", policy)
        pa, pb = Plan("A", "care", "A", a, BillingPeriod.MONTH), Plan("B", "care", "B", b, BillingPeriod.MONTH)
        sub = subscription(pa, start, end)
        first = sub.preview(pa, pb, family, at)
        sub.apply(first, pb)
        if policy is ChangePolicy.NEXT_CYCLE:
            assert sub.pending_plan_code == "B" and first.net == 0
            return
        second = sub.preview(pb, pa, family, at)
        sub.apply(second, pa)
        assert first.net + second.net == 0 and sub.plan_code == "A"

    @given(prices, policies, a_period_and_moment())
    def test_cancelling_follows_the_same_rule_as_changing(self, a: Decimal, policy: ChangePolicy,
                                                          when: tuple[datetime, datetime, datetime]) -> None:
        start, end, at = when
        family = PlanFamily("care", "Care", policy)
        pa, pb = Plan("A", "care", "A", a, BillingPeriod.MONTH), Plan("B", "care", "B", a + 1, BillingPeriod.MONTH)
        change = subscription(pa, start, end).preview(pa, pb, family, at)
        cancel = subscription(pa, start, end).preview(pa, None, family, at)
        assert (cancel.policy, cancel.effective_at) == (change.policy, change.effective_at)


class TestSubscriptionRules:
    def test_nothing_is_charged_after_a_cancellation_takes_effect(self) -> None:
        plan = Plan("A", "care", "A", Decimal("30"), BillingPeriod.MONTH)
        sub = subscription(plan, T0, T1)
        sub.apply(sub.preview(plan, None, PlanFamily("care", "Care", ChangePolicy.NEXT_CYCLE), T0), None)
        assert sub.renew(plan, SH) is None and sub.status is SubscriptionStatus.CANCELLED and sub.ended_at == T1

    def test_a_second_change_while_one_is_scheduled_is_refused(self) -> None:
        a, b = Plan("A", "care", "A", Decimal("30"), BillingPeriod.MONTH), Plan("B", "care", "B", Decimal("10"),
                                                                                BillingPeriod.MONTH)
        family = PlanFamily("care", "Care", ChangePolicy.NEXT_CYCLE)
        sub = subscription(a, T0, T1)
        sub.apply(sub.preview(a, b, family, T0), b)
        with pytest.raises(Conflict):
            sub.preview(a, None, family, T0)


class TestKillBillLinter:
    def test_a_catalogue_with_one_rule_for_all_changes_passes(self) -> None:
        for name in ("monthly-and-annual-plan.xml", "monthly-no-trial-with-addon.xml"):
            assert killbill.lint(killbill.parse((KILLBILL / name).read_bytes())) == []

    def test_plan_change_timing_is_rejected_naming_every_unfair_pair(self) -> None:
        findings = killbill.lint(killbill.parse((KILLBILL / "plan-change-timing.xml").read_bytes()))
        rules = {(f.rule, f.subject) for f in findings}
        assert ("downgrade_forbidden", "premium-monthly -> standard-monthly") in rules
        assert ("asymmetric_change", "sports-monthly <-> super-monthly") in rules
        assert ("asymmetric_change", "super-monthly <-> premium-monthly") in rules
        assert {f.subject for f in findings if f.rule == "cancel_differs"} == {
            "standard-monthly", "sports-monthly", "super-monthly", "premium-monthly"}

    def test_cancelling_add_ons_at_once_but_base_plans_at_term_end_is_flagged(self) -> None:
        findings = killbill.lint(killbill.parse((KILLBILL / "plan-cancellation-timing.xml").read_bytes()))
        assert [(f.rule, f.subject) for f in findings] == [("cancel_differs", "remotecontrol-monthly")]

    def test_import_refuses_an_asymmetric_catalogue_unless_told_to_normalise(self) -> None:
        cat = killbill.parse((KILLBILL / "plan-change-timing.xml").read_bytes())
        with pytest.raises(InvalidInput) as err:
            killbill.to_families(cat, normalise=False)
        assert "premium-monthly" in err.value.detail
        conv = killbill.to_families(cat, normalise=True)
        assert conv.families["base"].policy is ChangePolicy.IMMEDIATE and conv.changes

    @pytest.mark.parametrize("data", [b"<catalog><plans>", b"not xml",
                                      b'<!DOCTYPE x [<!ENTITY a "aaaa">]><catalog>&a;</catalog>',
                                      b"<other/>"])
    def test_malformed_or_hostile_catalogues_are_refused_clearly(self, data: bytes) -> None:
        with pytest.raises(InvalidInput):
            killbill.parse(data)
