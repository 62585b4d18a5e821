"""Chinese working days from packages: past arrangements from `chinesecalendar` (MIT), and an estimate of a
year nobody has published yet from the statutory holidays computed by rule in `holidays` (MIT).

`chinesecalendar` covers a fixed range of years (2004–2026 in version 1.11.0) because the State Council
publishes each year's arrangement late in the year before; an operator imports a newer year
(`fairdesk calendar import`), and until then `domain/calendars.py` labels what it computes as an estimate.
"""

from __future__ import annotations

import functools
from datetime import date
from importlib import metadata

import chinese_calendar

from fairdesk.domain.calendars import DayKind

__all__ = ["estimate_kind", "estimate_label", "estimate_names", "package_kind", "package_label", "package_names",
           "package_years"]


@functools.cache
def package_years() -> tuple[int, int]:
    """The first and last year chinesecalendar covers."""
    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    return years[0], years[-1]


def package_label() -> str:
    return f"chinesecalendar {metadata.version('chinesecalendar')}"


def estimate_label() -> str:
    return f"holidays {metadata.version('holidays')}"


@functools.lru_cache(maxsize=8192)
def package_kind(day: date) -> DayKind | None:
    """The day as the published arrangement copied into chinesecalendar has it (None outside its years)."""
    first, last = package_years()
    if not first <= day.year <= last:
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    if on_holiday and name is not None:
        return DayKind.HOLIDAY
    if not on_holiday and day.weekday() >= 5:
        return DayKind.MAKEUP
    return DayKind.NORMAL


@functools.cache
def package_names(year: int) -> dict[date, str]:
    """The festival (Chinese name) of each holiday and make-up working day of a year the package covers."""
    from fairdesk.domain.calendars import festival_of

    out, day = {}, date(year, 1, 1)
    while day.year == year:
        _on, name = chinese_calendar.get_holiday_detail(day)
        if name and package_kind(day) is not DayKind.NORMAL:
            out[day] = festival_of(name) or name
        day = date.fromordinal(day.toordinal() + 1)
    return out


def _rules():  # type: ignore[no-untyped-def]
    import holidays  # 0.1 s to import: only when a year has to be estimated

    return holidays


@functools.cache
def _statutory(year: int) -> frozenset[date]:
    return frozenset(_rules().China(years=year))


def estimate_kind(day: date) -> DayKind:
    """The statutory holidays of a year by rule (with the days off in lieu the rules give); the make-up working
    days are not known before the State Council announces them, so none is assumed."""
    return DayKind.HOLIDAY if day in _statutory(day.year) else DayKind.NORMAL


@functools.cache
def estimate_names(year: int) -> dict[date, str]:
    """The estimated holidays of a year with their Chinese names (for `calendar show`)."""
    found = _rules().China(years=year, language="zh_CN")
    return {d: n.replace("（补假）", "") for d, n in sorted(found.items())}
