"""Dispatch's rules without a database: a visit's moves as a table, and who is ranked for a visit and in what
order. The database tests keep only what needs one (slot races, locks)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fairdesk.domain.calendars import DayKind
from fairdesk.domain.dispatch import (
    LEAD,
    VISIT_TRANSITIONS,
    Candidate,
    Job,
    Schedules,
    Visit,
    VisitMove,
    VisitStatus,
    rank,
)
from fairdesk.domain.errors import Conflict
from fairdesk.domain.network import Outlet
from fairdesk.domain.tickets import Priority
from fairdesk.domain.workforce import Certification, Leave, Technician
from tests.fakes import SHANGHAI

MONDAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=SHANGHAI)  # before the day's first shift
WINDOW = (datetime(2026, 11, 30, 9, tzinfo=SHANGHAI), datetime(2026, 11, 30, 11, tzinfo=SHANGHAI))
JOB = Job("home-safe", (39.90, 116.40), Priority.NORMAL)  # a customer in central Beijing
OUTLET = Outlet(1, "BJ-01", "北京朝阳服务网点", "朝阳区", NOW, latitude=39.92, longitude=116.44, id=3)


def working_days(day: date) -> DayKind:
    """No holidays in these weeks: a technician's own weekdays decide."""
    return DayKind.NORMAL


def certified(user_id: int, *, valid_to: date = date(2027, 12, 31), line: str = "home-safe") -> Certification:
    return Certification(user_id, 1, line, 2, date(2025, 1, 1), valid_to)


def tech(user_id: int, *, km_north: float | None = 0.0, **kw: object) -> Technician:
    """A technician of outlet 3 living ``km_north`` north of the customer (None: no home base)."""
    home = {} if km_north is None else {"home_latitude": 39.90 + km_north / 111.0, "home_longitude": 116.40}
    return Technician(user_id, 1, 3, **home, **kw)  # type: ignore[arg-type]


def visit(technician_id: int, window: tuple[datetime, datetime] = WINDOW, status: VisitStatus = VisitStatus.BOOKED,
          id: int = 100) -> Visit:
    return Visit(1, 50, technician_id, 3, *window, "dispatcher", NOW, NOW, status=status, id=id)


def schedules(visits: tuple[Visit, ...] = (), *, leave: dict[int, list[Leave]] | None = None,
              closed: dict[int, set[date]] | None = None, exclude_visit: int | None = None,
              outlet: Outlet = OUTLET) -> Schedules:
    return Schedules.of(SHANGHAI, working_days, visits, leave=leave or {}, outlets={3: outlet},
                        closed=closed or {}, exclude_visit=exclude_visit)


def ranked(*techs: tuple[Technician, list[Certification]], sched: Schedules | None = None, job: Job = JOB,
           days: int = 1, **kw: object) -> list[Candidate]:
    last = MONDAY + timedelta(days=days - 1)
    return rank(job, list(techs), sched or schedules(), now=NOW, first_day=MONDAY, last_day=last, **kw)  # type: ignore[arg-type]


class TestVisitTransitions:
    """A visit is booked → on site → completed, or booked → cancelled / no-show; nothing else."""

    @pytest.mark.parametrize("move", list(VisitMove))
    @pytest.mark.parametrize("status", list(VisitStatus))
    def test_each_move_is_allowed_from_exactly_the_states_the_table_names(self, move: VisitMove,
                                                                         status: VisitStatus) -> None:
        allowed, to = VISIT_TRANSITIONS[move]
        v = visit(7, window=(NOW, NOW + timedelta(hours=2)), status=status)
        later = NOW + timedelta(minutes=30)
        act = {VisitMove.MOVE: lambda: v.move(ranked((tech(8), [certified(8)]))[0], reason="", at=later),
               VisitMove.CHECK_IN: lambda: v.check_in(later),
               VisitMove.CHECK_OUT: lambda: v.check_out("换锁芯", later),
               VisitMove.CANCEL: lambda: v.cancel("客户改期", later),
               VisitMove.NO_SHOW: lambda: v.no_show("无人", later)}
        if status in allowed:
            act[move]()
            assert (v.status, v.updated_at) == (to, later)
        else:
            with pytest.raises(Conflict) as caught:
                act[move]()
            assert (caught.value.code, v.status) == ("visit.state", status)

    def test_every_move_has_a_row_and_only_booked_and_on_site_visits_are_active(self) -> None:
        assert set(VISIT_TRANSITIONS) == set(VisitMove)
        assert {s for s in VisitStatus if visit(7, status=s).is_active} == {VisitStatus.BOOKED, VisitStatus.ON_SITE}

    def test_a_technician_checks_in_at_most_two_hours_before_the_window(self) -> None:
        v = visit(7)
        with pytest.raises(Conflict, match=r"visit\.too_early"):
            v.check_in(WINDOW[0] - timedelta(hours=2, minutes=1))
        assert v.status is VisitStatus.BOOKED
        v.check_in(WINDOW[0] - timedelta(hours=2))
        assert (v.status, v.checked_in_at) == (VisitStatus.ON_SITE, WINDOW[0] - timedelta(hours=2))

    def test_a_no_show_is_recorded_only_once_the_window_has_begun(self) -> None:
        v = visit(7)
        with pytest.raises(Conflict, match=r"visit\.not_started"):
            v.no_show("无人应门", WINDOW[0] - timedelta(minutes=1))
        v.no_show("无人应门", WINDOW[0])
        assert (v.status, v.closing_reason) == (VisitStatus.NO_SHOW, "无人应门")

    def test_a_moved_visit_takes_the_new_window_technician_and_score_and_keeps_its_reason_unless_given_one(
            self) -> None:
        v = Visit.book(1, 50, ranked((tech(7), [certified(7)]))[0], reason="客户指定", booked_by="dispatcher", at=NOW)
        later = ranked((tech(8), [certified(8)]), window=(WINDOW[0] + timedelta(hours=4),
                                                          WINDOW[1] + timedelta(hours=4)))[0]
        v.move(later, reason="", at=NOW)
        assert (v.technician_id, v.starts_at, v.score["cost"], v.override_reason) == (
            8, later.starts_at, later.cost, "客户指定")


class TestRank:
    """Who is offered for a visit, and in what order (``domain.dispatch.rank``)."""

    def test_a_technician_with_an_expired_certificate_is_never_dispatched(self) -> None:
        """Even when they live next door and the only other technician is far away."""
        out = ranked((tech(7), [certified(7, valid_to=MONDAY - timedelta(days=1))]),
                     (tech(8, km_north=40), [certified(8)]))
        assert {c.technician_id for c in out} == {8}

    def test_a_certificate_ending_on_the_visits_day_still_counts(self) -> None:
        assert ranked((tech(7), [certified(7, valid_to=MONDAY)]))

    def test_a_certificate_for_another_product_line_is_not_enough(self) -> None:
        assert ranked((tech(7), [certified(7, line="water-heater")])) == []

    def test_the_nearer_technician_ranks_first_in_the_same_window(self) -> None:
        out = ranked((tech(7, km_north=25), [certified(7)]), (tech(8, km_north=5), [certified(8)]), window=WINDOW)
        assert [c.technician_id for c in out] == [8, 7]
        assert out[0].distance_km == pytest.approx(5, abs=0.2)

    def test_a_technician_without_a_home_base_sets_out_from_their_outlet(self) -> None:
        [c] = ranked((tech(7, km_north=None), [certified(7)]), window=WINDOW)
        assert c.distance_km == pytest.approx(4.0, abs=0.5)  # the outlet is ~4 km north-east of the customer

    def test_the_window_another_visit_holds_is_not_offered_but_the_visit_being_moved_does_not_block_itself(
            self) -> None:
        held = visit(7)
        assert ranked((tech(7), [certified(7)]), sched=schedules((held,)), window=WINDOW) == []
        assert ranked((tech(7), [certified(7)]), sched=schedules((held,), exclude_visit=held.id), window=WINDOW)

    def test_a_cancelled_visit_holds_no_time(self) -> None:
        assert ranked((tech(7), [certified(7)]), sched=schedules((visit(7, status=VisitStatus.CANCELLED),)),
                      window=WINDOW)

    def test_a_finished_visit_still_counts_in_the_days_load(self) -> None:
        done = visit(7, status=VisitStatus.COMPLETED)
        [c] = ranked((tech(7), [certified(7)]), sched=schedules((done,)),
                     window=(WINDOW[0] + timedelta(hours=4), WINDOW[1] + timedelta(hours=4)))
        assert (c.load, c.terms["load"]) == (1, 15.0)

    def test_a_technician_at_their_daily_limit_is_not_offered(self) -> None:
        full = tuple(visit(7, (WINDOW[0] + timedelta(hours=2 * i), WINDOW[1] + timedelta(hours=2 * i)), id=i)
                     for i in range(2))
        assert ranked((tech(7, max_visits_per_day=2), [certified(7)]), sched=schedules(full)) == []

    def test_leave_and_outlet_closure_days_take_the_technician_out(self) -> None:
        on_leave = {7: [Leave(7, WINDOW[0] - timedelta(hours=3), WINDOW[1] + timedelta(hours=12))]}
        assert ranked((tech(7), [certified(7)]), sched=schedules(leave=on_leave)) == []
        assert ranked((tech(7), [certified(7)]), sched=schedules(closed={3: {MONDAY}})) == []

    def test_a_statutory_holiday_is_not_worked_by_those_who_take_holidays_off(self) -> None:
        def holiday(day: date) -> DayKind:
            return DayKind.HOLIDAY

        sched = Schedules.of(SHANGHAI, holiday, (), leave={}, outlets={3: OUTLET}, closed={})
        assert ranked((tech(7), [certified(7)]), sched=sched) == []
        assert ranked((tech(7, holidays_off=False, weekdays="1-7"), [certified(7)]), sched=sched)

    def test_without_a_window_the_shifts_windows_are_offered_from_an_hour_ahead(self) -> None:
        now = datetime(2026, 11, 30, 10, 30, tzinfo=SHANGHAI)
        out = rank(JOB, [(tech(7), [certified(7)])], schedules(), now=now, first_day=MONDAY, last_day=MONDAY)
        assert out and min(c.starts_at for c in out) >= now + LEAD
        assert {(c.starts_at.hour, c.ends_at.hour) for c in out} == {(13, 15), (15, 17)}

    def test_the_customers_chosen_technician_is_preferred(self) -> None:
        out = ranked((tech(7, km_north=5), [certified(7)]), (tech(8, km_north=25), [certified(8)]), window=WINDOW,
                     preferred=8)
        assert out[0].technician_id == 8 and out[0].terms["preferred"] < 0

    def test_an_urgent_request_weighs_waiting_more(self) -> None:
        [normal] = ranked((tech(7), [certified(7)]), window=WINDOW)
        [urgent] = ranked((tech(7), [certified(7)]), window=WINDOW,
                          job=Job("home-safe", JOB.point, Priority.URGENT))
        assert urgent.terms["wait"] == 4 * normal.terms["wait"] > 0

    def test_a_window_ending_after_the_on_site_deadline_costs_the_lateness(self) -> None:
        due = WINDOW[0] + timedelta(hours=1)
        [c] = ranked((tech(7), [certified(7)]), window=WINDOW, job=Job("home-safe", JOB.point, Priority.NORMAL, due))
        assert c.terms["late"] == 200.0 + 20.0 * 1

    @pytest.mark.parametrize("need", [1, 3, 5])
    def test_stopping_early_gives_the_same_best_as_ranking_every_day(self, need: int) -> None:
        techs = [(tech(i, km_north=3 * i), [certified(i)]) for i in range(7, 12)]
        busy = tuple(visit(7, (WINDOW[0] + timedelta(days=d), WINDOW[1] + timedelta(days=d)), id=d)
                     for d in range(3))
        sched = schedules(busy)
        full = rank(JOB, techs, sched, now=NOW, first_day=MONDAY, last_day=MONDAY + timedelta(days=13))
        early = rank(JOB, techs, sched, now=NOW, first_day=MONDAY, last_day=MONDAY + timedelta(days=13), need=need)
        assert early[:need] == full[:need]
        assert len(early) < len(full)

    def test_nobody_to_rank_ranks_nobody(self) -> None:
        assert ranked() == []

    def test_what_a_visit_keeps_of_the_choice_names_the_weights(self) -> None:
        [c] = ranked((tech(7), [certified(7)]), window=WINDOW)
        v = Visit.book(1, 50, c, reason="", booked_by="agent", at=NOW.astimezone(UTC))
        assert v.score["cost"] == c.cost and v.score["weights"]["per_km"] == 1.0
        assert v.slots == [WINDOW[0] + timedelta(minutes=30 * i) for i in range(4)]
