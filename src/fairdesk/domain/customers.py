"""Customers, their phone numbers and addresses, products and the units they registered."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.text import clean_text

__all__ = ["Address", "Customer", "Phone", "Product", "Unit", "Warranty", "mask_address", "mask_phone",
           "validate_email"]

MAX_NAME = 100
MAX_ADDRESS = 300


_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")


def validate_email(value: str) -> str:
    """A plain ``name@domain`` address, trimmed; anything that could smuggle a header is refused."""
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput("input.invalid_email", f"{value!r} is not an e-mail address", field="email")
    return value


def _clean(text: str, what: str, limit: int) -> str:
    return clean_text(text, what, limit, collapse=True)


@dataclass(eq=False)
class Phone:
    """A phone number of a customer, stored in E.164 form (validated by the service layer)."""

    e164: str
    label: str = "mobile"
    customer_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Address:
    """A postal address as the customer wrote it; ``adcode`` is the resolved division, once known."""

    text: str
    adcode: str | None = None
    customer_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self.text = _clean(self.text, "address", MAX_ADDRESS)


@dataclass(eq=False)
class Customer:
    """A consumer of the brand: name, phone numbers and addresses."""

    brand_id: int
    name: str
    created_at: datetime
    phones: list[Phone] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    email: str | None = None
    language: str = "zh-CN"
    id: int | None = None

    def __post_init__(self) -> None:
        self.name = _clean(self.name, "name", MAX_NAME)
        if self.email is not None:
            self.email = validate_email(self.email)
        if not self.phones:
            raise InvalidInput("customer.phone_required", "a customer needs at least one phone number",
                               field="phones")


@dataclass(eq=False)
class Product:
    """A model the brand sells and services, in a product line (e.g. safes / home-safe)."""

    brand_id: int
    model: str
    name: str
    product_line: str
    id: int | None = None

    def __post_init__(self) -> None:
        self.model = _clean(self.model, "model", 64)
        self.name = _clean(self.name, "name", MAX_NAME)
        self.product_line = _clean(self.product_line, "product_line", 64)


class Warranty(StrEnum):
    """A unit's warranty on a day: in it, out of it, or unknown (no end date was registered)."""

    IN = "in_warranty"
    OUT = "out_of_warranty"
    UNKNOWN = "unknown"


@dataclass(eq=False)
class Unit:
    """One registered unit: a product with a serial number, bought on a date, under warranty until a date."""

    brand_id: int
    customer_id: int
    product_id: int
    serial_number: str
    purchase_date: date | None = None
    warranty_end: date | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self.serial_number = _clean(self.serial_number, "serial_number", 64)
        if self.purchase_date and self.warranty_end and self.warranty_end < self.purchase_date:
            raise InvalidInput("unit.warranty_before_purchase",
                               "the warranty cannot end before the purchase date", field="warranty_end")

    def under_warranty(self, on: date) -> bool:
        """A unit is under warranty up to and including its warranty end date."""
        return self.warranty_end is not None and on <= self.warranty_end

    def warranty_on(self, day: date) -> Warranty:
        """In warranty up to and including its end date, out of it after; unknown when no end date is known."""
        if self.warranty_end is None:
            return Warranty.UNKNOWN
        return Warranty.IN if self.under_warranty(day) else Warranty.OUT


_DIVISIONS = re.compile(r"^(.{0,12}?(?:省|自治区|特别行政区|市))?"
                        r"(.{0,12}?(?:市|自治州|地区|盟))?(.{0,12}?(?:区|县|旗|市))?")


def mask_phone(e164: str) -> str:
    """``+8613800138000`` → ``+86138****8000``: enough to tell numbers apart, not enough to call."""
    if len(e164) < 8:
        return "****"
    return f"{e164[:6]}****{e164[-4:]}"


def mask_address(text: str) -> str:
    """The administrative divisions kept, the street and number hidden: 福建省漳州市漳浦县****."""
    m = _DIVISIONS.match(text)
    kept = m.group(0) if m else ""
    if len(kept) < 2:
        kept = text[:3]
    return kept + "****" if len(kept) < len(text) else kept
