"""Test doubles for the outside world (never for fairdesk's own code)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime | None = None, tz: ZoneInfo = SHANGHAI) -> None:
        self.at = at or datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
        self.tz = tz

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
