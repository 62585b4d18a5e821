"""Request and response bodies of the HTTP API. Requests refuse unknown fields."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fairdesk.domain.customers import Customer, Unit, mask_address, mask_phone
from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.people import Actor
from fairdesk.domain.tickets import (
    MAX_SUBJECT,
    MAX_TEXT,
    Category,
    Channel,
    Priority,
    Status,
    Ticket,
    TicketEvent,
)

__all__ = [
    "CommentIn",
    "CustomerIn",
    "CustomerOut",
    "EventOut",
    "Page",
    "ProductIn",
    "TicketIn",
    "TicketOut",
    "TokenIn",
    "TransitionIn",
    "UnitIn",
    "UnitOut",
    "decode_cursor",
    "encode_cursor",
]

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]


#: A calendar day the service can compute with (date arithmetic near year 9999 overflows).
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2999, 12, 31))]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "api"


class CustomerIn(In):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    phones: Annotated[list[Annotated[str, StringConstraints(max_length=32)]], Field(min_length=1, max_length=5)]
    addresses: Annotated[list[Annotated[str, StringConstraints(max_length=300)]], Field(max_length=10)] = []
    email: Annotated[str | None, StringConstraints(max_length=254)] = None
    language: Literal["zh-CN", "en"] = "zh-CN"


class ProductIn(In):
    model: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    product_line: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class UnitIn(In):
    product_model: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    serial_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    purchase_date: Day | None = None
    warranty_end: Day | None = None


class TicketIn(In):
    customer_id: Id
    category: Category
    subject: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SUBJECT)]
    description: Text = ""
    channel: Channel = Channel.API
    priority: Priority = Priority.NORMAL
    unit_id: Id | None = None
    address_id: Id | None = None


class TransitionIn(In):
    to: Status
    note: Text = ""


class CommentIn(In):
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]


def _local(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


class TicketOut(BaseModel):
    id: int
    number: str
    status: Status
    channel: Channel
    category: Category
    priority: Priority
    subject: str
    description: str
    customer_id: int
    unit_id: int | None
    address_id: int | None
    created_at: str
    updated_at: str
    allowed_next: list[Status]

    @classmethod
    def of(cls, ticket: Ticket, actor: Actor, tz: ZoneInfo) -> TicketOut:
        return cls(id=ticket.id, number=ticket.number, status=ticket.status, channel=ticket.channel,
                   category=ticket.category, priority=ticket.priority, subject=ticket.subject,
                   description=ticket.description, customer_id=ticket.customer_id, unit_id=ticket.unit_id,
                   address_id=ticket.address_id, created_at=_local(ticket.created_at, tz),
                   updated_at=_local(ticket.updated_at, tz),
                   allowed_next=sorted(ticket.allowed_next(actor)))


class EventOut(BaseModel):
    id: int
    kind: str
    actor: str
    at: str
    from_status: Status | None
    to_status: Status | None
    note: str

    @classmethod
    def of(cls, e: TicketEvent, tz: ZoneInfo) -> EventOut:
        return cls(id=e.id, kind=e.kind.value, actor=e.actor, at=_local(e.at, tz), from_status=e.from_status,
                   to_status=e.to_status, note=e.note)


class AddressOut(BaseModel):
    id: int
    text: str
    adcode: str | None


class CustomerOut(BaseModel):
    id: int
    name: str
    phones: list[str]
    addresses: list[AddressOut]
    created_at: str

    masked: bool = False

    @classmethod
    def of(cls, c: Customer, tz: ZoneInfo, *, full: bool = True, known_phone: str | None = None) -> CustomerOut:
        """``full=False``: phone numbers and addresses masked, except the number the caller gave."""
        return cls(id=c.id, name=c.name,
                   phones=[p.e164 if full or p.e164 == known_phone else mask_phone(p.e164) for p in c.phones],
                   addresses=[AddressOut(id=a.id, text=a.text if full else mask_address(a.text), adcode=a.adcode)
                              for a in c.addresses],
                   created_at=_local(c.created_at, tz), masked=not full)


class UnitOut(BaseModel):
    id: int
    customer_id: int
    product_id: int
    serial_number: str
    purchase_date: date | None
    warranty_end: date | None

    @classmethod
    def of(cls, u: Unit) -> UnitOut:
        return cls(id=u.id, customer_id=u.customer_id, product_id=u.product_id, serial_number=u.serial_number,
                   purchase_date=u.purchase_date, warranty_end=u.warranty_end)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """An opaque cursor back into the id it hides; garbage is a 422, not a 500."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        last = int(value)
        if prefix != "id" or not 1 <= last <= 2**63 - 1:
            raise ValueError(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("input.cursor", "the cursor is not one this API gave out", field="cursor") from exc
    return last
