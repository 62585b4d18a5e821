"""Chinese statutory holidays and make-up working days, from the `chinesecalendar` package (MIT).

The package covers a fixed range of years (2004–2026 in version 1.11.0) because the State Council publishes
each year's arrangement late in the year before. Beyond it we fall back to Monday–Friday and say so loudly:
at start-up (`coverage()`), and in the log the first time a date outside it is asked for.
"""

from __future__ import annotations

import functools
from datetime import date

import chinese_calendar
import structlog

from fairdesk.domain.workforce import DayKind

__all__ = ["coverage", "day_kind", "is_workday"]

log = structlog.get_logger("fairdesk.holidays")
_warned: set[int] = set()


@functools.cache
def coverage() -> tuple[int, int]:
    """The first and last year the holiday data covers."""
    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    return years[0], years[-1]


@functools.lru_cache(maxsize=8192)
def is_workday(day: date) -> bool:
    """A working day in mainland China: weekdays, minus statutory holidays, plus make-up working days."""
    first, last = coverage()
    if first <= day.year <= last:
        return bool(chinese_calendar.is_workday(day))
    if day.year not in _warned:
        _warned.add(day.year)
        log.warning("holiday_data_missing", year=day.year, covered=f"{first}-{last}",
                    fallback="Monday-Friday; update the chinesecalendar package")
    return day.weekday() < 5


@functools.lru_cache(maxsize=8192)
def day_kind(day: date) -> DayKind:
    """A statutory holiday, a make-up working day (a weekend day worked), or neither."""
    first, last = coverage()
    if not first <= day.year <= last:
        is_workday(day)  # logs the missing year once
        return DayKind.NORMAL
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    if on_holiday and name is not None:
        return DayKind.HOLIDAY
    if not on_holiday and day.weekday() >= 5:
        return DayKind.MAKEUP
    return DayKind.NORMAL
