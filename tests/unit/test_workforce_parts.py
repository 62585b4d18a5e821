"""Pure rules of the field: working weeks and holidays, windows, certificates, the published score, and the
stock ledger's arithmetic."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairdesk.domain.dispatch import Candidate
from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.parts import MovementKind, derive, effects, validate_quantity
from fairdesk.domain.tickets import Priority
from fairdesk.domain.workforce import (
    Certification,
    DayKind,
    WorkPattern,
    parse_weekdays,
    slots_of,
    validate_window,
)
from fairdesk.services.calendars import packaged
from tests.fakes import SHANGHAI

day_kind = packaged().kind


def test_weekdays_and_shifts_parse_or_say_why() -> None:
    assert parse_weekdays("1-5") == frozenset({1, 2, 3, 4, 5})
    assert parse_weekdays("1-3,6") == frozenset({1, 2, 3, 6})
    for bad in ("0-5", "8", "mon", "", "5-1"):
        with pytest.raises(InvalidInput):
            parse_weekdays(bad)
    with pytest.raises(InvalidInput) as e:
        WorkPattern.parse("09:10-18:00", "1-5")
    assert e.value.code == "technician.shift_alignment"
    with pytest.raises(InvalidInput):
        WorkPattern.parse("09:00-13:00,12:00-18:00", "1-5")


def test_statutory_holidays_are_off_and_make_up_days_worked() -> None:
    week = WorkPattern.parse("09:00-18:00", "1-5")
    assert day_kind(date(2026, 10, 1)) is DayKind.HOLIDAY and not week.works_on(date(2026, 10, 1), DayKind.HOLIDAY)
    assert day_kind(date(2026, 10, 10)) is DayKind.MAKEUP and week.works_on(date(2026, 10, 10), DayKind.MAKEUP)
    always = WorkPattern.parse("09:00-18:00", "1-7", holidays_off=False)
    assert always.works_on(date(2026, 10, 1), DayKind.HOLIDAY)


def test_windows_fill_each_shift_and_drop_the_remainder() -> None:
    p = WorkPattern.parse("08:30-12:30,13:30-19:30", "1-7")
    got = [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in p.windows(date(2026, 11, 25), DayKind.NORMAL,
                                                                            SHANGHAI)]
    assert got == [("08:30", "10:30"), ("10:30", "12:30"), ("13:30", "15:30"), ("15:30", "17:30"),
                   ("17:30", "19:30")]
    assert len(p.windows(date(2026, 11, 25), DayKind.NORMAL, SHANGHAI, 90)) == 2 + 4


def test_window_rules() -> None:
    now = datetime(2026, 11, 24, 10, tzinfo=SHANGHAI)
    validate_window(now + timedelta(hours=1), now + timedelta(hours=3), now)
    for start, end, code in ((now - timedelta(hours=1), now + timedelta(hours=1), "dispatch.window_past"),
                             (now + timedelta(hours=1), now + timedelta(hours=1, minutes=20), "dispatch.window_length"),
                             (now + timedelta(minutes=70), now + timedelta(minutes=190), "dispatch.window_alignment")):
        with pytest.raises(InvalidInput) as e:
            validate_window(start, end, now)
        assert e.value.code == code


def test_certificate_validity_and_leave_overlap() -> None:
    c = Certification(1, 1, "home-safe", 2, date(2026, 1, 1), date(2026, 10, 31))
    assert c.valid_on(date(2026, 10, 31)) and not c.valid_on(date(2026, 11, 1))
    with pytest.raises(InvalidInput):
        Certification(1, 1, "home-safe", 4, date(2026, 1, 1), date(2026, 10, 31))
    with pytest.raises(InvalidInput):
        Certification(1, 1, "home-safe", 1, date(2026, 2, 1), date(2026, 1, 31))
    start = datetime(2026, 11, 25, 9, tzinfo=SHANGHAI)
    slots = slots_of(start, start + timedelta(hours=2))
    assert len(slots) == 4  # taken slots and leave: tests/unit/test_eligibility.py


def test_the_score_prefers_near_light_soon_and_never_late() -> None:
    now = datetime(2026, 11, 24, 10, tzinfo=SHANGHAI)
    w = (now + timedelta(hours=2), now + timedelta(hours=4))

    def cost(**kw: object) -> float:
        base = {"distance_km": 5.0, "load": 0, "preferred": False, "priority": Priority.NORMAL, "now": now,
                "due_at": None}
        return Candidate.score(1, 1, kw.pop("window", w), **{**base, **kw}).cost  # type: ignore[arg-type]

    assert cost(distance_km=5.0) < cost(distance_km=20.0) < cost(distance_km=None) + 1000
    assert cost(load=0) < cost(load=2)
    later = (w[0] + timedelta(days=1), w[1] + timedelta(days=1))
    assert cost() < cost(window=later)
    assert cost(window=later, priority=Priority.URGENT) - cost(priority=Priority.URGENT) > \
        cost(window=later) - cost()
    assert cost(due_at=w[1]) == cost() < cost(due_at=w[0])
    assert cost(preferred=True) == cost() - 40


kinds = st.sampled_from(list(MovementKind))


@given(st.lists(st.tuples(kinds, st.integers(1, 5), st.integers(1, 3), st.integers(1, 3), st.booleans()),
                max_size=60))
def test_derive_is_the_sum_of_the_effects(moves: list[tuple[MovementKind, int, int, int, bool]]) -> None:
    rows = []
    for kind, qty, a, b, fr in moves:
        if kind is MovementKind.TRANSFER and a == b:
            b = a % 3 + 1
        src = a if kind not in (MovementKind.RECEIVE, MovementKind.RETURN) else None
        dst = b if kind in (MovementKind.RECEIVE, MovementKind.RETURN, MovementKind.TRANSFER) else None
        rows.append((kind, 7, qty, src, dst, fr and kind is MovementKind.CONSUME))
    totals = derive(rows)
    on_hand = sum(v[0] for v in totals.values())
    expected = sum(e.on_hand for r in rows for e in effects(r[0], r[2], r[3], r[4], from_reservation=r[5]))
    assert on_hand == expected
    moved = [r for r in rows if r[0] is MovementKind.TRANSFER]
    assert sum(v[0] for v in derive(moved).values()) == 0  # transfers only move stock


def test_quantities_are_whole_positive_pieces() -> None:
    assert validate_quantity(3) == 3 and validate_quantity("12") == 12 and validate_quantity(Decimal("2")) == 2
    for bad in (0, -1, 1.5, "1.5", "-2", True, Decimal("0.5"), "", None, 10**7):
        with pytest.raises(InvalidInput):
            validate_quantity(bad)
    with pytest.raises(InvalidInput):
        effects(MovementKind.TRANSFER, 1, 1, 1)
    with pytest.raises(InvalidInput):
        effects(MovementKind.RECEIVE, 1, 1, None)
