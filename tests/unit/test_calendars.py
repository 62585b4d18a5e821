"""The official working-day calendar: a year's arrangement checked line by line, imported years before the
package before the estimate, a version governing only from the day after it is applied, estimates labelled."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fairdesk.domain.calendars import (
    ArrangementInvalid,
    DayKind,
    Source,
    Version,
    changed_days,
    parse_arrangement,
)
from fairdesk.domain.complaints import add_working_days, working_days_in
from fairdesk.services.calendars import _calendar, packaged

SH = ZoneInfo("Asia/Shanghai")
FILE = Path(__file__).parents[1] / "data" / "calendars" / "2027-fabricated.txt"
TEXT = FILE.read_text("utf-8")
A2027 = parse_arrangement(TEXT)


def _line(start: str) -> int:
    """The line of the fabricated file that starts so."""
    return next(n for n, line in enumerate(TEXT.splitlines(), start=1) if line.startswith(start))


def _problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ArrangementInvalid) as caught:
        parse_arrangement(text)
    return caught.value.problems


class TestTheFile:
    def test_a_whole_year_s_arrangement_is_read_with_its_holidays_and_make_up_days(self) -> None:
        assert A2027.year == 2027
        assert A2027.kind(date(2027, 2, 8)) is DayKind.HOLIDAY
        assert A2027.kind(date(2027, 2, 14)) is DayKind.MAKEUP
        assert A2027.kind(date(2027, 3, 1)) is DayKind.NORMAL
        assert parse_arrangement(A2027.as_text()).digest == A2027.digest

    def test_chinese_kinds_and_english_festival_names_are_understood(self) -> None:
        text = TEXT.replace("2027-02-14 makeup 春节", "2027-02-14 班 Spring Festival").replace(
            "2027-01-01 holiday 元旦", "2027-01-01 休 元旦")
        assert parse_arrangement(text).digest == A2027.digest

    def test_a_date_given_twice_is_refused_with_both_lines(self) -> None:
        problems = _problems(TEXT + "2027-10-01 holiday 国庆节\n")
        assert problems == [(TEXT.count("\n") + 1, f"2027-10-01 is already on line {_line('2027-10-01')}")]

    def test_a_make_up_working_day_on_a_weekday_is_refused(self) -> None:
        problems = _problems(TEXT.replace("2027-02-20 makeup", "2027-02-19 makeup"))
        assert len(problems) == 1 and problems[0][0] == _line("2027-02-20")
        assert "2027-02-19 is a weekday (星期五)" in problems[0][1]

    def test_a_date_outside_the_file_s_year_is_refused(self) -> None:
        problems = _problems(TEXT.replace("2027-06-09 holiday", "2028-06-09 holiday"))
        assert problems == [(_line("2027-06-09"), "2028-06-09 is not in 2027, the year this file is for")]

    def test_a_year_without_every_statutory_festival_is_not_covered(self) -> None:
        text = "\n".join(line for line in TEXT.splitlines() if "中秋节" not in line)
        assert _problems(text) == [(0, "the year is not covered: no holiday for 中秋节")]

    def test_a_file_without_its_year_is_refused(self) -> None:
        problems = _problems(TEXT.replace("year: 2027", ""))
        assert problems[0] == (_line("2027-01-01"), "name the year first, on a line like 'year: 2027'")

    def test_every_problem_is_reported_at_once_with_its_line(self) -> None:
        text = TEXT + "2027-13-01 holiday 元旦\n2027-11-11 maybe 元旦\n2027-11-12 holiday 光棍节\n"
        lines = [n for n, _ in _problems(text)]
        first = TEXT.count("\n") + 1
        assert lines == [first, first + 1, first + 2]


def _version(effective: date, arrangement=A2027, vid: int = 1) -> Version:
    return Version(vid, arrangement, 1, effective)


class TestPrecedence:
    def test_an_imported_year_comes_before_the_package_and_the_estimate(self) -> None:
        cal = _calendar([_version(date(2026, 12, 3))])
        assert cal.source_of(date(2027, 2, 14)) is Source.OFFICIAL
        assert cal.is_workday(date(2027, 2, 14))  # a Sunday worked: the file says so
        assert not cal.is_workday(date(2027, 2, 11))  # a Thursday off: the file says so
        assert cal.source_of(date(2026, 10, 1)) is Source.PACKAGE
        assert cal.source_of(date(2028, 10, 1)) is Source.ESTIMATE

    def test_without_an_imported_year_the_estimate_knows_the_statutory_days_but_no_make_up_day(self) -> None:
        cal = packaged()
        assert cal.year(2027).source is Source.ESTIMATE
        assert not cal.is_workday(date(2027, 10, 1))
        assert not cal.is_workday(date(2027, 2, 14))  # a Sunday: nobody has announced it as worked

    def test_a_version_governs_only_from_the_day_after_it_was_applied(self) -> None:
        # Applied on 1 February 2027: the days already begun keep the estimate they were counted on.
        cal = _calendar([_version(date(2027, 2, 2))])
        assert cal.source_of(date(2027, 1, 15)) is Source.ESTIMATE
        assert cal.source_of(date(2027, 2, 14)) is Source.OFFICIAL

    def test_a_newer_version_of_a_year_replaces_the_older_from_its_own_day(self) -> None:
        moved = parse_arrangement(TEXT.replace("2027-06-09 holiday 端午节", "2027-06-11 holiday 端午节"))
        cal = _calendar([_version(date(2026, 12, 3)), _version(date(2027, 3, 1), moved, 2)])
        assert cal.is_workday(date(2027, 6, 9)) and not cal.is_workday(date(2027, 6, 11))
        assert cal.year(2027).version is not None and cal.year(2027).version.id == 2

    def test_the_days_that_change_are_listed(self) -> None:
        before = packaged()
        after = before.with_version(_version(date(2026, 12, 3)))
        changed = dict((d, (a, b)) for d, a, b in changed_days(before, after, 2027))
        assert changed[date(2027, 2, 14)] == (DayKind.NORMAL, DayKind.MAKEUP)
        assert changed[date(2027, 2, 11)] == (DayKind.NORMAL, DayKind.HOLIDAY)
        assert date(2027, 10, 1) not in changed  # the estimate had it right


class TestDeadlines:
    START = datetime.combine(date(2027, 2, 4), time(10), SH)  # the Thursday before Spring Festival

    def test_a_deadline_across_the_imported_holiday_and_make_up_day_moves_exactly_as_the_file_says(self) -> None:
        official = _calendar([_version(date(2026, 12, 3))])
        # 5-13 Feb off; Sunday 14 Feb is day 1, 15-19 Feb days 2-6, Saturday 20 Feb day 7.
        due = add_working_days(self.START, 7, SH, official.is_workday)
        assert due == datetime(2027, 2, 21, tzinfo=SH)
        assert working_days_in(self.START, due, SH, official.is_workday) == 7
        assert not official.estimated_between(self.START.date(), due.date())

    def test_the_same_deadline_without_the_file_is_an_estimate(self) -> None:
        estimate = packaged()
        due = add_working_days(self.START, 7, SH, estimate.is_workday)
        assert due == datetime(2027, 2, 20, tzinfo=SH)  # 5-10 Feb off by rule, no make-up day known
        assert estimate.estimated_between(self.START.date(), due.date())

    def test_a_deadline_within_a_published_year_is_not_an_estimate(self) -> None:
        assert not packaged().estimated_between(date(2026, 3, 1), date(2026, 3, 20))

    def test_the_first_day_without_an_official_arrangement_is_found_ahead(self) -> None:
        assert packaged().unofficial_from(date(2026, 12, 2), 60) == date(2027, 1, 1)
        assert packaged().unofficial_from(date(2026, 9, 1), 60) is None
        assert _calendar([_version(date(2026, 12, 3))]).unofficial_from(date(2026, 12, 2), 60) is None
