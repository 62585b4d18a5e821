"""Who can take a visit, and why not: the one rule auto-dispatch ranks with and the dispatcher's board shows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fairdesk.domain.dispatch import Unfit, unfit
from fairdesk.domain.workforce import Certification, DayKind, Leave, Technician, WorkPattern, slots_of
from tests.fakes import SHANGHAI

WEDNESDAY = date(2026, 11, 25)
START = datetime(2026, 11, 25, 9, tzinfo=SHANGHAI)
END = START + timedelta(hours=2)
VALID = Certification(7, 1, "home-safe", 2, date(2025, 1, 1), date(2027, 12, 31))


def why(tech: Technician | None = None, certs: tuple[Certification, ...] = (VALID,), *, load: int = 0,
        taken: set[datetime] | None = None, leave: tuple[Leave, ...] = (), week: WorkPattern | None = None,
        closed: frozenset[date] = frozenset(), kind: DayKind = DayKind.NORMAL) -> Unfit | None:
    return unfit(tech or Technician(7, 1, 3), certs, "home-safe", WEDNESDAY, kind, SHANGHAI, START, END, load=load,
                 taken=taken or set(), leave=leave, outlet_week=week, outlet_closed=closed)


class TestUnfit:
    def test_a_certified_free_technician_on_shift_can_take_the_visit(self) -> None:
        assert why() is None

    def test_a_technician_with_an_expired_certificate_is_never_dispatched(self) -> None:
        """And the reason says expired, not merely 'not certified'."""
        assert why(certs=(Certification(7, 1, "home-safe", 3, date(2024, 1, 1), date(2026, 10, 31)),)) \
            is Unfit.CERTIFICATE_EXPIRED

    def test_a_certificate_for_another_product_line_is_no_certificate(self) -> None:
        assert why(certs=(Certification(7, 1, "water-heater", 2, date(2025, 1, 1), date(2027, 12, 31)),)) \
            is Unfit.NO_CERTIFICATE

    def test_a_certificate_starting_after_the_visit_is_not_valid_yet(self) -> None:
        assert why(certs=(Certification(7, 1, "home-safe", 2, date(2026, 12, 1), date(2028, 12, 31)),)) \
            is Unfit.CERTIFICATE_NOT_YET_VALID

    def test_an_inactive_technician_is_inactive_whatever_else(self) -> None:
        assert why(Technician(7, 1, 3, active=False), certs=()) is Unfit.INACTIVE

    def test_a_day_off_or_a_window_outside_the_shifts_is_not_working(self) -> None:
        assert why(Technician(7, 1, 3, weekdays="6-7")) is Unfit.NOT_WORKING
        assert why(Technician(7, 1, 3, shifts="13:00-18:00")) is Unfit.NOT_WORKING
        assert why(kind=DayKind.HOLIDAY) is Unfit.NOT_WORKING

    def test_leave_over_the_window_is_on_leave(self) -> None:
        assert why(leave=(Leave(7, START + timedelta(hours=1), START + timedelta(hours=8)),)) is Unfit.ON_LEAVE

    def test_another_visit_in_the_window_or_a_full_day_is_busy(self) -> None:
        assert why(taken={slots_of(START, END)[-1]}) is Unfit.BUSY
        assert why(taken={END}) is None  # the next window does not overlap
        assert why(load=6) is Unfit.BUSY

    def test_a_closed_outlet_takes_no_visit(self) -> None:
        assert why(closed=frozenset({WEDNESDAY})) is Unfit.OUTLET_CLOSED
        assert why(week=WorkPattern.parse("10:00-18:00", "1-6")) is Unfit.OUTLET_CLOSED
        assert why(week=WorkPattern.parse("08:30-18:00", "1-6")) is None

