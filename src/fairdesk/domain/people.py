"""Brands, users, roles and the actor on whose behalf a use case runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from fairdesk.domain.errors import InvalidInput

__all__ = ["STAFF_ROLES", "Actor", "ApiToken", "Brand", "Lockout", "Role", "User", "validate_brand_code"]


class Role(StrEnum):
    """What a user is to the brand; one role per user."""

    CUSTOMER = "customer"
    AGENT = "agent"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    MANAGER = "manager"
    AUDITOR = "auditor"


STAFF_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.TECHNICIAN, Role.MANAGER, Role.AUDITOR})

_BRAND_CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
_PREFIX = re.compile(r"^[A-Z]{2,4}$")


def validate_brand_code(code: str) -> str:
    """A brand code is a short lowercase slug used in URLs and the CLI."""
    if not _BRAND_CODE.match(code):
        raise InvalidInput("brand.invalid_code", f"brand code must match {_BRAND_CODE.pattern}: {code!r}")
    return code


@dataclass(eq=False)
class Brand:
    """A brand whose after-sales network fairdesk runs; every row belongs to one."""

    code: str
    name: str
    ticket_prefix: str = "FD"
    created_at: datetime | None = None
    id: int | None = None
    #: As registered with the market regulator: what a complaint's case file names (the filing form asks for the
    #: business's full registered name and address, not a brand name or an outlet's county).
    legal_name: str = ""
    registered_address: str = ""

    def __post_init__(self) -> None:
        validate_brand_code(self.code)
        if not _PREFIX.match(self.ticket_prefix):
            raise InvalidInput("brand.invalid_prefix", "ticket prefix is 2-4 capital letters")


@dataclass(eq=False)
class User:
    """A person who logs in: staff of one brand, or a customer of it."""

    brand_id: int
    username: str
    display_name: str
    role: Role
    password_hash: str | None = None
    customer_id: int | None = None
    language: str = "zh-CN"
    active: bool = True
    created_at: datetime | None = None
    email: str | None = None
    id: int | None = None


@dataclass(eq=False)
class ApiToken:
    """A bearer token for integrations; only its SHA-256 digest is stored."""

    user_id: int
    name: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class Actor:
    """Who is acting: their brand, their role and, for customers, their customer record."""

    brand_id: int
    role: Role
    user_id: int | None = None
    customer_id: int | None = None
    label: str = field(default="")

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role is Role.CUSTOMER

    @property
    def read_only(self) -> bool:
        """Auditors look; they never change a record."""
        return self.role is Role.AUDITOR

    def describe(self) -> str:
        return self.label or (f"user:{self.user_id}" if self.user_id else self.role.value)


@dataclass(frozen=True)
class Lockout:
    """Failed logins for one username: the ``free``-th failure in a row locks the name for ``base_s`` seconds,
    each further one for twice as long, up to ``max_s``. A success clears the count. Unknown names count the same,
    so the lockout does not tell which usernames exist."""

    free: int = 5
    base_s: int = 30
    max_s: int = 3600

    def locked_for(self, failures: int) -> int:
        if failures < self.free:
            return 0
        return min(self.max_s, self.base_s * 2 ** min(failures - self.free, 20))
