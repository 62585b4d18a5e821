"""Which days are working days in mainland China, and where that knowledge comes from.

The State Council publishes each year's arrangement (放假安排: statutory holidays and the weekend days worked in
exchange, 调休) in the autumn before. fairdesk takes a year's days, in order of trust, from:

1. an arrangement an operator imported (the newest version applied; a version governs from the day after it was
   applied, so a day already begun — and every deadline already met or missed — keeps the kind it had);
2. a package that encodes past arrangements (``chinesecalendar``);
3. an **estimate** from the statutory holidays computed by rule (the ``holidays`` package), without make-up
   working days. Every deadline that depends on an estimated day says so.

There is no silent Monday–Friday fallback. This module is plain Python: the package lookups are passed in.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from fairdesk.domain.errors import InvalidInput

__all__ = [
    "FESTIVALS",
    "Arrangement",
    "ArrangementInvalid",
    "DayKind",
    "Problem",
    "Source",
    "Version",
    "WorkingCalendar",
    "festival_of",
    "parse_arrangement",
]


class DayKind(StrEnum):
    """What the State Council's arrangement makes of a day."""

    NORMAL = "normal"
    HOLIDAY = "holiday"  # a statutory holiday (its weekend days included)
    MAKEUP = "makeup"  # a weekend day worked in exchange for a holiday (调休)


class Source(StrEnum):
    """Where a year's working days come from, most trusted first."""

    OFFICIAL = "official"  # imported by an operator from the State Council's notice
    PACKAGE = "package"  # the chinesecalendar package's copy of past notices
    ESTIMATE = "estimate"  # statutory holidays by rule; make-up working days unknown


#: The seven statutory festivals (全国年节及纪念日放假办法, as amended 2024), Chinese name → English.
FESTIVALS: dict[str, str] = {
    "元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Qingming Festival", "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival", "中秋节": "Mid-Autumn Festival", "国庆节": "National Day",
}
_ENGLISH = {v.lower(): k for k, v in FESTIVALS.items()} | {
    "new year": "元旦", "chinese new year": "春节", "tomb-sweeping day": "清明节", "qingming": "清明节",
    "labor day": "劳动节", "dragon boat": "端午节", "mid-autumn": "中秋节", "national day": "国庆节"}
_KINDS = {"holiday": DayKind.HOLIDAY, "休": DayKind.HOLIDAY, "假": DayKind.HOLIDAY, "放假": DayKind.HOLIDAY,
          "makeup": DayKind.MAKEUP, "workday": DayKind.MAKEUP, "班": DayKind.MAKEUP, "上班": DayKind.MAKEUP,
          "补班": DayKind.MAKEUP}
_YEAR = re.compile(r"^(?:year|年份|年度)\s*[:：]\s*(\d{4})\s*$", re.IGNORECASE)
_WEEKDAY_ZH = "一二三四五六日"
MAX_LINES = 400


@dataclass(frozen=True)
class Entry:
    """One day of an arrangement: a holiday or a make-up working day, with the festival it belongs to."""

    day: date
    kind: DayKind
    festival: str  # one of FESTIVALS' Chinese names


@dataclass(frozen=True)
class Arrangement:
    """A year's official arrangement: every statutory holiday and every make-up working day."""

    year: int
    entries: tuple[Entry, ...]
    by_day: dict[date, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(sorted(self.entries, key=lambda e: e.day)))
        object.__setattr__(self, "by_day", {e.day: e for e in self.entries})

    def kind(self, day: date) -> DayKind:
        found = self.by_day.get(day)
        return found.kind if found else DayKind.NORMAL

    @property
    def digest(self) -> str:
        """A fingerprint of the days (not of the file's spelling): two files with the same days share it."""
        text = "\n".join(f"{e.day.isoformat()} {e.kind.value} {e.festival}" for e in self.entries)
        return hashlib.sha256(f"{self.year}\n{text}".encode()).hexdigest()

    def as_text(self) -> str:
        """The arrangement in the import format (what ``calendar show`` prints and ``calendar import`` reads)."""
        lines = [f"year: {self.year}"]
        lines += [f"{e.day.isoformat()} {e.kind.value} {e.festival}" for e in self.entries]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: its line (0: the whole file), a stable code, the English sentence and the
    values in it (so a page can say it in the reader's language)."""

    line: int
    code: str
    text: str
    values: dict[str, str] = field(default_factory=dict)


class ArrangementInvalid(InvalidInput):
    """A file that is not a valid year's arrangement: every problem with its line number."""

    def __init__(self, details: Sequence[Problem]) -> None:
        self.details = list(details)
        self.problems = [(p.line, p.text) for p in self.details]
        first = "; ".join(f"line {n}: {why}" if n else why for n, why in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__("calendar.invalid_file", first + more, field="file",
                         errors=[{"field": "file", "line": p.line, "code": p.code, "detail": p.text}
                                 for p in self.details])


def festival_of(name: str) -> str | None:
    """A festival's Chinese name from how a notice or a package spells it (None: not a statutory festival)."""
    name = name.strip().removesuffix("（补假）").removesuffix("(补假)").strip()
    if name in FESTIVALS:
        return name
    return _ENGLISH.get(name.lower())


def parse_arrangement(text: str) -> Arrangement:
    """A year's arrangement from its text: a ``year: 2027`` line, then one date per line with its kind
    (``holiday``/``休`` or ``makeup``/``班``) and its festival; ``#`` starts a comment. Refused, with every
    problem and its line, unless each date appears once, lies in the named year, a make-up working day falls
    on a Saturday or Sunday, and all seven statutory festivals are there (the whole year is covered)."""
    problems: list[Problem] = []

    def problem(n: int, code: str, text: str, **values: object) -> None:
        problems.append(Problem(n, code, text, {k: str(v) for k, v in values.items()}))

    year: int | None = None
    seen: dict[date, int] = {}
    entries: list[Entry] = []
    lines = text.replace("\ufeff", "").splitlines()
    if len(lines) > MAX_LINES:
        raise ArrangementInvalid([Problem(0, "calendar.too_long", f"a year's arrangement has at most {MAX_LINES} lines",
                                          {"max": str(MAX_LINES)})])
    for n, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if m := _YEAR.match(line):
            if year is not None:
                problem(n, "calendar.year_twice", "the year is named twice")
            year = int(m.group(1))
            continue
        parts = line.replace(",", " ").replace("，", " ").replace("\t", " ").split(None, 2)
        if len(parts) < 3:
            problem(n, "calendar.line_format",
                    f"expected a date, a kind and a festival, like '2027-02-06 makeup 春节': {line!r}", value=line)
            continue
        when, kind_text, name = parts
        try:
            day = date.fromisoformat(when)
        except ValueError:
            problem(n, "calendar.bad_date", f"{when!r} is not a date like 2027-01-01", value=when)
            continue
        kind = _KINDS.get(kind_text.lower())
        if kind is None:
            problem(n, "calendar.bad_kind", f"{kind_text!r} is neither 'holiday' (休) nor 'makeup' (班)",
                    value=kind_text)
            continue
        festival = festival_of(name)
        if festival is None:
            problem(n, "calendar.bad_festival", f"{name!r} is not a statutory festival ({'、'.join(FESTIVALS)})",
                    value=name)
            continue
        if day in seen:
            problem(n, "calendar.duplicate", f"{day.isoformat()} is already on line {seen[day]}", day=day,
                    first=seen[day])
            continue
        seen[day] = n
        if year is None:
            problem(n, "calendar.year_first", "name the year first, on a line like 'year: 2027'")
        elif day.year != year:
            problem(n, "calendar.wrong_year", f"{day.isoformat()} is not in {year}, the year this file is for", day=day,
                    year=year)
        if kind is DayKind.MAKEUP and day.weekday() < 5:
            problem(n, "calendar.makeup_weekday", f"{day.isoformat()} is a weekday (星期{_WEEKDAY_ZH[day.weekday()]}); "
                    "a make-up working day falls on a Saturday or Sunday", day=day,
                    weekday=_WEEKDAY_ZH[day.weekday()])
        entries.append(Entry(day, kind, festival))
    if year is None and not problems:
        problem(0, "calendar.no_year", "the file does not name its year (a line like 'year: 2027')")
    if year is not None:
        held = {e.festival for e in entries if e.kind is DayKind.HOLIDAY}
        missing = [f for f in FESTIVALS if f not in held]
        if missing:
            problem(0, "calendar.not_covered", f"the year is not covered: no holiday for {'、'.join(missing)}",
                    missing="、".join(missing))
    if problems:
        raise ArrangementInvalid(problems)
    assert year is not None
    return Arrangement(year, tuple(entries))


@dataclass(frozen=True)
class Version:
    """An applied arrangement: it governs its year's days from ``effective_from`` on."""

    id: int
    arrangement: Arrangement
    number: int  # 1, 2, … within its year
    effective_from: date
    applied_by: str = ""
    applied_at: datetime | None = None


@dataclass(frozen=True)
class YearSource:
    """Where a year's days come from, as shown to an operator."""

    year: int
    source: Source
    version: Version | None = None


class WorkingCalendar:
    """Chinese working days from the imported versions, else the package, else the estimate."""

    def __init__(self, versions: Iterable[Version], package: Callable[[date], DayKind | None],
                 package_years: tuple[int, int] | None, estimate: Callable[[date], DayKind]) -> None:
        by_year: dict[int, list[Version]] = {}
        for v in sorted(versions, key=lambda v: (v.effective_from, v.id)):
            by_year.setdefault(v.arrangement.year, []).append(v)
        self._versions = by_year
        self._starts = {y: [v.effective_from for v in vs] for y, vs in by_year.items()}
        self._package = package
        self._package_years = package_years
        self._estimate = estimate
        self._kinds: dict[date, tuple[DayKind, Source]] = {}

    def versions(self, year: int) -> list[Version]:
        return list(self._versions.get(year, []))

    def _without_versions(self, day: date) -> tuple[DayKind, Source]:
        years = self._package_years
        if years is not None and years[0] <= day.year <= years[1]:
            found = self._package(day)
            if found is not None:
                return found, Source.PACKAGE
        return self._estimate(day), Source.ESTIMATE

    def _lookup(self, day: date) -> tuple[DayKind, Source]:
        hit = self._kinds.get(day)
        if hit is None:
            starts = self._starts.get(day.year)
            i = bisect_right(starts, day) if starts else 0
            if i:
                hit = (self._versions[day.year][i - 1].arrangement.kind(day), Source.OFFICIAL)
            else:
                hit = self._without_versions(day)
            self._kinds[day] = hit
        return hit

    def kind(self, day: date) -> DayKind:
        return self._lookup(day)[0]

    def source_of(self, day: date) -> Source:
        return self._lookup(day)[1]

    def is_workday(self, day: date) -> bool:
        """Weekdays, minus statutory holidays, plus make-up working days."""
        kind = self.kind(day)
        if kind is DayKind.HOLIDAY:
            return False
        return kind is DayKind.MAKEUP or day.weekday() < 5

    def year(self, year: int) -> YearSource:
        """Where a year's days come from today (the newest version, if any was applied)."""
        versions = self._versions.get(year)
        if versions:
            return YearSource(year, Source.OFFICIAL, versions[-1])
        mid = date(year, 7, 1)
        return YearSource(year, self._without_versions(mid)[1])

    def estimated_between(self, first: date, last: date) -> bool:
        """Whether any day from ``first`` to ``last`` is known only by estimate (a deadline over them is one)."""
        if last < first:
            first, last = last, first
        for y in range(first.year, last.year + 1):
            lo, hi = max(first, date(y, 1, 1)), min(last, date(y, 12, 31))
            if self.source_of(lo) is Source.ESTIMATE or self.source_of(hi) is Source.ESTIMATE:
                return True
        return False

    def is_estimate(self, start: date, deadline: date, today: date) -> bool:
        """Whether a deadline counted from ``start`` may still move when an arrangement is published: some
        day it counted over, from tomorrow on (earlier days keep their kind whatever is applied), is estimated."""
        first = max(start, today + timedelta(days=1))
        return deadline >= first and self.estimated_between(first, deadline)

    def unofficial_from(self, first: date, days: int) -> date | None:
        """The first day, within ``days`` from ``first``, with no official arrangement (imported or package)."""
        last = first + timedelta(days=days)
        for y in range(first.year, last.year + 1):
            lo = max(first, date(y, 1, 1))
            if self.source_of(lo) is Source.ESTIMATE:
                return lo
        return None

    def with_version(self, version: Version) -> WorkingCalendar:
        """This calendar as it would be with one more version applied (a preview)."""
        every = [v for vs in self._versions.values() for v in vs] + [version]
        return WorkingCalendar(every, self._package, self._package_years, self._estimate)


def changed_days(before: WorkingCalendar, after: WorkingCalendar, year: int) -> list[tuple[date, DayKind, DayKind]]:
    """The days of a year whose kind differs between two calendars."""
    out, day = [], date(year, 1, 1)
    while day.year == year:
        a, b = before.kind(day), after.kind(day)
        if a is not b:
            out.append((day, a, b))
        day += timedelta(days=1)
    return out


def festival_names(lang: str) -> Mapping[str, str]:
    """Festival names in a language (zh-CN: as written; en: English)."""
    return {k: k for k in FESTIVALS} if lang.startswith("zh") else dict(FESTIVALS)
