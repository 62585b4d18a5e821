"""The injected clock: services never read the system time themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["SHANGHAI", "Clock", "ShiftedClock", "SystemClock"]

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Gives the current time (aware, UTC) and the business timezone times are shown in."""

    tz: ZoneInfo

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def __init__(self, tz: ZoneInfo = SHANGHAI) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """Real time moved by a fixed offset, for a demo set at another moment (`fairdesk demo --at`); it runs on
    like the real clock."""

    def __init__(self, offset: timedelta, tz: ZoneInfo = SHANGHAI) -> None:
        self.tz = tz
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset
