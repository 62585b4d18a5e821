"""Complaint rules (working-day deadlines, who may move a complaint, the green channel's place in the queue,
grouping by similar text) and the credit score's formula (shrinkage, caution, reproducibility)."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairdesk.domain.complaints import (
    Category,
    Complaint,
    Side,
    Status,
    Terms,
    add_working_days,
    cluster,
    queue_key,
    shingles,
)
from fairdesk.domain.credit import METHOD, Inputs, Priors, compute
from fairdesk.domain.errors import Conflict, Forbidden, InvalidInput
from fairdesk.services.calendars import packaged
from tests.fakes import SHANGHAI

is_workday = packaged().is_workday

T0 = datetime(2026, 11, 24, 2, tzinfo=UTC)


def local(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=SHANGHAI)


class TestWorkingDays:
    def test_seven_working_days_skip_the_national_day_week_and_count_its_make_up_saturday(self) -> None:
        # Received on 30 September: 1-7 October are holidays, Saturday 10 October is a make-up working day.
        due = add_working_days(local(2026, 9, 30, 15), 7, SHANGHAI, is_workday)
        assert due == local(2026, 10, 16)  # the end of Thursday 15 October

    def test_spring_festival_and_both_make_up_saturdays(self) -> None:
        # Friday 13 February: Sat 14 Feb (make-up) is day 1, 15-23 Feb are holidays, Sat 28 Feb is day 6.
        due = add_working_days(local(2026, 2, 13, 10), 7, SHANGHAI, is_workday)
        assert due == local(2026, 3, 3)

    def test_the_day_of_receipt_is_not_counted_even_late_at_night(self) -> None:
        assert add_working_days(local(2026, 11, 24, 23), 1, SHANGHAI, is_workday) == local(2026, 11, 26)
        assert add_working_days(local(2026, 11, 24, 0), 1, SHANGHAI, is_workday) == local(2026, 11, 26)

    def test_a_brand_closure_day_is_not_a_working_day(self) -> None:
        closed = [local(2026, 11, 25).date()]
        assert add_working_days(local(2026, 11, 24, 9), 1, SHANGHAI, is_workday, closed) == local(2026, 11, 27)

    def test_forty_five_working_days_is_about_nine_weeks(self) -> None:
        due = add_working_days(local(2026, 11, 24, 9), 45, SHANGHAI, is_workday)
        assert timedelta(days=60) < due - local(2026, 11, 24) < timedelta(days=80)

    def test_terms_outside_their_ranges_are_refused(self) -> None:
        with pytest.raises(InvalidInput):
            Terms(0, 24, 45)
        with pytest.raises(InvalidInput):
            Terms(7, 24, 200)


def complaint(**kw: object) -> Complaint:
    values: dict[str, object] = dict(
        brand_id=1, customer_id=1, number="TS1", category=Category.REPAIR, green=False, status=Status.RECEIVED,
        complainant="张丽", contact_phone="+8613800138000", request="退款", facts="维修后仍然打不开保险柜",
        received_at=T0, due_acceptance=T0 + timedelta(days=9), due_first_response=T0 + timedelta(days=15))
    values.update(kw)
    return Complaint(**values)  # type: ignore[arg-type]


class TestWorkflow:
    def test_only_the_consumer_confirms_a_complaint_resolved(self) -> None:
        c = complaint(status=Status.MEDIATION)
        with pytest.raises(Forbidden) as e:
            c.move(Status.SETTLED, Side.BUSINESS, T0)
        assert e.value.code == "complaint.consumer_only"
        c.move(Status.SETTLED, Side.CONSUMER, T0)
        assert c.consumer_confirmed and c.status is Status.SETTLED

    def test_a_business_cannot_close_a_complaint_itself(self) -> None:
        for status in (Status.RECEIVED, Status.MEDIATION, Status.REJECTED, Status.SETTLED):
            with pytest.raises(Forbidden):
                complaint(status=status).move(Status.CLOSED, Side.BUSINESS, T0)
            with pytest.raises(Forbidden):
                complaint(status=status).move(Status.CLOSED, Side.SYSTEM, T0)

    def test_only_the_business_accepts_or_rejects(self) -> None:
        with pytest.raises(Forbidden):
            complaint().move(Status.ACCEPTED, Side.CONSUMER, T0)
        with pytest.raises(Conflict):
            complaint(status=Status.SETTLED).move(Status.ACCEPTED, Side.BUSINESS, T0)

    def test_a_closed_complaint_stays_closed(self) -> None:
        c = complaint()
        c.move(Status.CLOSED, Side.CONSUMER, T0)
        for to in Status:
            with pytest.raises((Conflict, Forbidden)):
                c.move(to, Side.CONSUMER, T0)

    def test_overdue_names_each_missed_deadline(self) -> None:
        c = complaint()
        assert c.overdue(T0) == []
        assert c.overdue(T0 + timedelta(days=10)) == ["acceptance"]
        assert c.overdue(T0 + timedelta(days=16)) == ["acceptance", "first_response"]
        late = complaint(status=Status.MEDIATION, first_response_at=T0 + timedelta(days=20),
                         due_mediation=T0 + timedelta(days=60))
        assert late.overdue(T0 + timedelta(days=61)) == ["first_response", "mediation"]


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=60))
def test_green_channel_complaints_always_come_first_in_the_queue(rows: list[tuple[bool, int, int]]) -> None:
    keys = sorted(queue_key(green, T0 + timedelta(minutes=due), T0 + timedelta(minutes=got))
                  for green, due, got in rows)
    flags = [k[0] == 0 for k in keys]
    assert flags == sorted(flags, reverse=True)  # every green one before every standard one


def test_grouping_finds_the_generated_clusters_and_nothing_else() -> None:
    rng = random.Random(7)
    issues = {
        Category.PARTS: "更换的门锁不是原厂配件，使用一周就坏了，要求更换原厂锁并赔偿",
        Category.REFUND: "取消延保服务后三十天仍未退款，客服一直说在处理",
        Category.REPAIR: "师傅上门维修后保险柜密码盘失灵，再次报修无人上门",
    }
    noise = "请尽快处理谢谢我已经等了很久非常失望"
    items, truth = [], {}
    next_id = 1
    for category, text in issues.items():
        for _ in range(rng.randint(3, 8)):
            words = list(text)
            for _ in range(3):  # each consumer writes it a little differently
                words.insert(rng.randrange(len(words)), rng.choice(noise))
            items.append((next_id, category.value, shingles("".join(words))))
            truth[next_id] = category
            next_id += 1
    unrelated = ["发票抬头开错了需要重开", "网点电话打不通", "说明书缺页", "想咨询保修期多长"]
    for text in unrelated:
        items.append((next_id, Category.PARTS.value, shingles(text)))
        next_id += 1
    groups = cluster(items)
    assert len(groups) == 3
    for g in groups:
        assert len({truth.get(i) for i in g}) == 1 and None not in {truth.get(i) for i in g}
    assert sorted(i for g in groups for i in g) == sorted(truth)


# --- credit ------------------------------------------------------------------------------------------------------

def ratings(counts: dict[int, int]) -> dict[str, int]:
    n = sum(counts.values())
    return {"ratings": n, "csat_sum": sum(k * v for k, v in counts.items()),
            "csat_sq": sum(k * k * v for k, v in counts.items())}


def test_a_brand_with_3_ratings_cannot_outrank_one_with_3000_by_luck_alone() -> None:
    """Both brands have the same true quality; the small one draws its three ratings (and NPS answers) by
    chance, 2,000 times, including the luckiest draw of all — it never outranks the large one."""
    rng = random.Random(3)
    stars = [5] * 60 + [4] * 25 + [3] * 8 + [2] * 4 + [1] * 3
    nps_pool = [10] * 35 + [9] * 25 + [8] * 15 + [7] * 10 + [5] * 10 + [2] * 5
    big_stars = {k: stars.count(k) * 30 for k in set(stars)}
    big_nps = [rng.choice(nps_pool) for _ in range(3000)]
    platform = ratings(big_stars)
    mean = platform["csat_sum"] / platform["ratings"]
    priors = Priors(csat=mean, csat_sd=math.sqrt(platform["csat_sq"] / platform["ratings"] - mean ** 2),
                    nps=sum((n >= 9) - (n <= 6) for n in big_nps) / 3000,
                    nps_sd=math.sqrt(sum((n >= 9) + (n <= 6) for n in big_nps) / 3000
                                     - (sum((n >= 9) - (n <= 6) for n in big_nps) / 3000) ** 2))

    def inputs(star_list: dict[int, int], nps: list[int]) -> Inputs:
        return Inputs(**ratings(star_list), nps_answers=len(nps), promoters=sum(n >= 9 for n in nps),
                      detractors=sum(n <= 6 for n in nps))

    big = compute(inputs(big_stars, big_nps), priors, brand_level=False).total
    draws = [([5, 5, 5], [10, 10, 10])] + [([rng.choice(stars) for _ in range(3)],
                                             [rng.choice(nps_pool) for _ in range(3)]) for _ in range(2000)]
    small = [compute(inputs({k: s.count(k) for k in set(s)}, n), priors, brand_level=False).total for s, n in draws]
    assert max(small) < big
    # And without the caution band the luckiest draw would have won: the band is what the test exercises.
    no_band = replace(METHOD, z=0.0)
    lucky = compute(inputs({5: 3}, [10, 10, 10]), priors, no_band, brand_level=False).total
    assert lucky > compute(inputs(big_stars, big_nps), priors, no_band, brand_level=False).total


def test_more_complaints_per_request_never_raise_the_score() -> None:
    base = Inputs(ratings=100, csat_sum=420, csat_sq=1850, tickets=2000)
    last = math.inf
    for complaints in (0, 5, 20, 80, 300):
        total = compute(Inputs(**{**base.as_dict(), "complaints": complaints}), Priors(), brand_level=False).total
        assert total <= last
        last = total


def test_a_downgrade_slower_than_an_upgrade_costs_points() -> None:
    fair = Inputs(upgrades=20, downgrades=20, upgrade_delay_h=0, downgrade_delay_h=0, upgrade_steps=1,
                  downgrade_steps=1)
    slow = Inputs(**{**fair.as_dict(), "downgrade_delay_h": 72.0})
    more_steps = Inputs(**{**fair.as_dict(), "downgrade_steps": 2.5})
    assert compute(fair, Priors()).deductions == ()
    assert compute(slow, Priors()).total == compute(fair, Priors()).total - 5
    assert compute(more_steps, Priors()).total == compute(fair, Priors()).total - 5
    assert compute(slow, Priors(), brand_level=False).deductions == ()  # outlets do not change plans


def test_with_no_records_a_business_sits_near_the_platform_value() -> None:
    score = compute(Inputs(), Priors())
    assert 40 < score.total < 90 and all(p.raw is None for p in score.parts)
