"""Column types that keep the domain's promises on every database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

__all__ = ["Fen", "UTCDateTime", "enum_column"]


class UTCDateTime(TypeDecorator[datetime]):
    """Stores timezone-aware datetimes in UTC and always gives them back aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Fen(TypeDecorator[Decimal]):
    """Money as whole fen in a BIGINT: exact on every database (SQLite's NUMERIC would become a float)."""

    impl = sa.BigInteger()
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> int | None:
        if value is None:
            return None
        fen = value * 100
        if fen != fen.to_integral_value():
            raise ValueError(f"{value} has fractions of a fen")
        return int(fen)

    def process_result_value(self, value: int | None, dialect: sa.Dialect) -> Decimal | None:
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


def enum_column(enum_cls: type[enum.Enum], **kw: Any) -> sa.Enum:
    """A VARCHAR holding the enum's value (not its name), portable across databases."""
    return sa.Enum(enum_cls, native_enum=False, create_constraint=False, length=32,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True, **kw)
