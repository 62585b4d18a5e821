"""SLA deadlines in working time: weekends, statutory holidays, make-up working days, pauses (frozen times)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from fairdesk.domain.calendars import Source
from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.sla import BusinessCalendar, SlaTargets, clock, pauses_from
from fairdesk.domain.tickets import EventKind, Status, TicketEvent
from fairdesk.reference.holidays import package_years
from fairdesk.services.calendars import packaged

is_workday = packaged().is_workday

SH = ZoneInfo("Asia/Shanghai")
OFFICE = BusinessCalendar(SH, is_workday)  # 09:00-18:00 on Chinese working days


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


class TestDeadlines:
    def test_a_weekend_does_not_count(self) -> None:
        assert OFFICE.deadline(at(2026, 11, 20, 17), 120 * 60) == at(2026, 11, 23, 10)  # Fri 17:00 → Mon 10:00

    def test_the_national_day_holiday_does_not_count(self) -> None:
        assert OFFICE.deadline(at(2026, 9, 30, 17, 30), 60 * 60) == at(2026, 10, 8, 9, 30)

    def test_a_make_up_working_saturday_counts(self) -> None:
        assert OFFICE.deadline(at(2026, 10, 9, 17), 120 * 60) == at(2026, 10, 10, 10)
        assert OFFICE.deadline(at(2026, 2, 13, 17), 120 * 60) == at(2026, 2, 14, 10)

    def test_the_spring_festival_week_does_not_count(self) -> None:
        assert OFFICE.deadline(at(2026, 2, 14, 17), 120 * 60) == at(2026, 2, 24, 10)

    def test_time_before_opening_hours_starts_at_opening(self) -> None:
        assert OFFICE.deadline(at(2026, 11, 23, 7), 30 * 60) == at(2026, 11, 23, 9, 30)

    def test_a_pause_moves_the_deadline_by_the_working_time_it_covered(self) -> None:
        pause = [(at(2026, 11, 23, 10), at(2026, 11, 23, 16))]
        assert OFFICE.deadline(at(2026, 11, 23, 9), 240 * 60) == at(2026, 11, 23, 13)
        assert OFFICE.deadline(at(2026, 11, 23, 9), 240 * 60, pause) == at(2026, 11, 24, 10)

    def test_around_the_clock_calendars_count_every_minute(self) -> None:
        always = BusinessCalendar(SH, is_workday, hours=None)
        assert always.deadline(at(2026, 10, 1, 23), 120 * 60) == at(2026, 10, 2, 1)

    def test_a_brands_own_closure_does_not_count(self) -> None:
        closed = BusinessCalendar(SH, is_workday, closures=frozenset({date(2026, 11, 23)}))
        assert closed.deadline(at(2026, 11, 20, 17), 120 * 60) == at(2026, 11, 24, 10)


class TestClocks:
    def events(self) -> list[TicketEvent]:
        def move(to: Status, when: datetime) -> TicketEvent:
            return TicketEvent(1, 1, EventKind.TRANSITION, "agent", when, to_status=to)

        return [TicketEvent(1, 1, EventKind.CREATED, "agent", at(2026, 11, 23, 9), to_status=Status.NEW),
                move(Status.TRIAGED, at(2026, 11, 23, 9, 30)),
                move(Status.WAITING_PARTS, at(2026, 11, 23, 10)),
                move(Status.IN_PROGRESS, at(2026, 11, 23, 16)),
                move(Status.WAITING_CUSTOMER, at(2026, 11, 24, 9))]

    def test_pauses_come_from_the_tickets_transitions(self) -> None:
        now = at(2026, 11, 24, 11)
        assert pauses_from(self.events(), SlaTargets(30, 240).pause_on, now) == [
            (at(2026, 11, 23, 10), at(2026, 11, 23, 16)), (at(2026, 11, 24, 9), now)]

    def test_a_paused_clock_shows_time_left_and_does_not_breach(self) -> None:
        now = at(2026, 11, 24, 11)
        pauses = pauses_from(self.events(), SlaTargets(30, 240).pause_on, now)
        state = clock(at(2026, 11, 23, 9), 240, OFFICE, pauses, now)
        assert state.paused and not state.breached
        assert state.elapsed_s == 3 * 3600 and state.remaining_s == 3600  # 9-10 and 16-18 on Monday

    def test_an_edited_policy_recomputes_the_open_clock(self) -> None:
        now = at(2026, 11, 23, 12)
        strict = clock(at(2026, 11, 23, 9), 60, OFFICE, [], now)
        relaxed = clock(at(2026, 11, 23, 9), 480, OFFICE, [], now)
        assert strict.breached and strict.deadline == at(2026, 11, 23, 10)
        assert not relaxed.breached and relaxed.deadline == at(2026, 11, 23, 17)

    def test_a_met_clock_stops(self) -> None:
        state = clock(at(2026, 11, 23, 9), 60, OFFICE, [], at(2026, 11, 30), stopped=at(2026, 11, 23, 9, 40))
        assert state.stopped and not state.breached and state.elapsed_s == 40 * 60


class TestBadInput:
    @pytest.mark.parametrize(("first", "resolution"), [(0, 60), (-5, 60), (30, 0)])
    def test_non_positive_targets_are_refused(self, first: int, resolution: int) -> None:
        with pytest.raises(InvalidInput):
            SlaTargets(first, resolution)

    def test_hours_that_end_before_they_start_are_refused(self) -> None:
        with pytest.raises(InvalidInput):
            BusinessCalendar(SH, is_workday, hours=(time(18), time(9)))


def test_beyond_the_package_s_years_the_statutory_holidays_are_estimated_not_assumed_weekdays() -> None:
    first, last = package_years()
    assert first <= 2026 <= last
    cal = packaged()
    national_day = date(last + 1, 10, 1)
    while national_day.weekday() >= 5:  # a weekday National Day: Monday-Friday would call it a working day
        national_day = date(national_day.year + 1, 10, 1)
    assert not cal.is_workday(national_day)
    assert cal.source_of(national_day) is Source.ESTIMATE
    assert cal.source_of(date(2026, 10, 1)) is Source.PACKAGE


class TestShiftsAndSteps:
    def test_several_shifts_a_day_count_only_their_hours(self) -> None:
        from fairdesk.domain.sla import parse_shifts

        split = BusinessCalendar(SH, is_workday, shifts=parse_shifts("13:00-20:00, 08:00-12:00"))
        assert split.shifts == ((time(8), time(12)), (time(13), time(20)))
        # Tue 11:00: one hour before lunch, then 13:00-14:00
        assert split.deadline(at(2026, 11, 24, 11), 2 * 3600) == at(2026, 11, 24, 14)
        assert split.elapsed(at(2026, 11, 24, 11), at(2026, 11, 24, 14)) == 2 * 3600

    @pytest.mark.parametrize(("text", "code"), [("08:00-12:00,11:59-13:00", "calendar.shifts_overlap"),
                                                ("12:00-08:00", "calendar.shift_order"),
                                                ("8-12", "calendar.invalid_shift"),
                                                ("08:00~12:00", "calendar.invalid_shift")])
    def test_bad_shifts_are_refused(self, text: str, code: str) -> None:
        from fairdesk.domain.sla import parse_shifts

        with pytest.raises(InvalidInput) as err:
            BusinessCalendar(SH, is_workday, shifts=parse_shifts(text))
        assert err.value.code == code

    def test_adjacent_shifts_do_not_overlap(self) -> None:
        from fairdesk.domain.sla import parse_shifts

        BusinessCalendar(SH, is_workday, shifts=parse_shifts("08:00-12:00,12:00-18:00"))

    def test_escalation_steps_are_checked_and_sorted(self) -> None:
        from fairdesk.domain.sla import EscalationAction as A
        from fairdesk.domain.sla import EscalationStep as S

        targets = SlaTargets(60, 600, escalations=(S(100, A.RAISE_PRIORITY), S(50, A.NOTIFY)))
        assert [s.percent for s in targets.escalations] == [50, 100]
        for bad in (lambda: S(0, A.NOTIFY), lambda: S(201, A.NOTIFY), lambda: S(80, A.REASSIGN),
                    lambda: S(80, A.NOTIFY, to_user_id=3),
                    lambda: SlaTargets(60, 600, escalations=(S(80, A.NOTIFY), S(80, A.NOTIFY))),
                    lambda: SlaTargets(60, 600, onsite_min=0),
                    lambda: SlaTargets(60, 600, pause_on=frozenset({Status.IN_PROGRESS}))):
            with pytest.raises(InvalidInput):
                bad()
