"""Customers, their phones and addresses, products and registered units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import phonenumbers

from fairdesk.domain.customers import Address, Customer, Phone, Product, Unit
from fairdesk.domain.errors import Conflict, InvalidInput, NotFound
from fairdesk.domain.people import Actor, Role
from fairdesk.services.access import access_customer, require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = [
    "CreateCustomer",
    "CreateProduct",
    "RegisterUnit",
    "create_customer",
    "create_product",
    "find_customers_by_phone",
    "normalize_phone",
    "register_unit",
]

#: Staff who take customer details: hotline agents, dispatchers, managers.
INTAKE_ROLES = (Role.AGENT, Role.DISPATCHER, Role.MANAGER)
MAX_PHONES = 5
MAX_ADDRESSES = 10


def normalize_phone(text: str, region: str = "CN") -> str:
    """E.164 form of a valid number (mainland numbers may omit +86), or ``customer.invalid_phone``."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("customer.invalid_phone", f"not a phone number: {text!r}", field="phones") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("customer.invalid_phone", f"not a valid phone number: {text!r}", field="phones")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class CreateCustomer:
    actor: Actor
    name: str
    phones: Sequence[str]
    addresses: Sequence[str] = field(default_factory=tuple)
    email: str | None = None
    language: str = "zh-CN"


def create_customer(cmd: CreateCustomer, uow: UnitOfWork, clock: Clock) -> Customer:
    """Record a customer; every phone number is validated and stored in E.164."""
    require_role(cmd.actor, *INTAKE_ROLES, what="create customers")
    if len(cmd.phones) > MAX_PHONES or len(cmd.addresses) > MAX_ADDRESSES:
        raise InvalidInput("input.too_many", f"at most {MAX_PHONES} phones and {MAX_ADDRESSES} addresses")
    if cmd.language not in ("zh-CN", "en"):
        raise InvalidInput("input.invalid", "language is zh-CN or en", field="language")
    phones = [Phone(e164=e) for e in dict.fromkeys(normalize_phone(p) for p in cmd.phones)]
    customer = Customer(brand_id=cmd.actor.brand_id, name=cmd.name, created_at=clock.now(), phones=phones,
                        email=cmd.email or None, language=cmd.language,
                        addresses=[Address(text=a) for a in cmd.addresses])
    with uow:
        uow.customers.add(customer)
        uow.commit()
    return customer


def find_customers_by_phone(uow: UnitOfWork, actor: Actor, phone: str) -> list[Customer]:
    """Caller lookup for the hotline: the brand's customers with this number."""
    require_role(actor, *INTAKE_ROLES, Role.TECHNICIAN, Role.AUDITOR, what="look up callers")
    e164 = normalize_phone(phone)
    with uow:
        return list(uow.customers.by_phone(actor.brand_id, e164))


@dataclass(frozen=True)
class CreateProduct:
    actor: Actor
    model: str
    name: str
    product_line: str


def create_product(cmd: CreateProduct, uow: UnitOfWork) -> Product:
    require_role(cmd.actor, Role.MANAGER, what="edit the product catalogue")
    product = Product(brand_id=cmd.actor.brand_id, model=cmd.model, name=cmd.name,
                      product_line=cmd.product_line)
    with uow:
        if uow.products.by_model(cmd.actor.brand_id, product.model):
            raise Conflict("product.exists", f"model {product.model!r} exists")
        uow.products.add(product)
        uow.commit()
    return product


@dataclass(frozen=True)
class RegisterUnit:
    actor: Actor
    customer_id: int
    product_model: str
    serial_number: str
    purchase_date: date | None = None
    warranty_end: date | None = None


def register_unit(cmd: RegisterUnit, uow: UnitOfWork) -> Unit:
    """Register a unit to a customer; a serial number is registered once per brand."""
    if not cmd.actor.is_customer:
        require_role(cmd.actor, *INTAKE_ROLES, what="register units")
    with uow:
        customer = access_customer(uow, cmd.actor, cmd.customer_id)
        product = uow.products.by_model(cmd.actor.brand_id, cmd.product_model.strip())
        if product is None:
            raise NotFound("product.not_found", f"no product model {cmd.product_model!r}", field="product_model")
        unit = Unit(brand_id=cmd.actor.brand_id, customer_id=customer.id, product_id=product.id,
                    serial_number=cmd.serial_number, purchase_date=cmd.purchase_date,
                    warranty_end=cmd.warranty_end)
        if uow.units.by_serial(cmd.actor.brand_id, unit.serial_number):
            raise Conflict("unit.serial_registered", f"serial {unit.serial_number!r} is already registered")
        uow.units.add(unit)
        uow.commit()
    return unit


# --- privacy: who sees contact details, and every staff read on record -------------------------------------------

#: Staff who see contact details without handling the customer's request: dispatchers plan the visits.
SEES_CONTACTS = frozenset({Role.DISPATCHER})


def contacts_visible(uow: UnitOfWork, actor: Actor, customer_ids: Sequence[int]) -> set[int]:
    """Of these customers, those whose phone numbers and addresses the actor sees in full: the customer themself
    and the staff handling them (the assignee or technician of one of their open requests, a dispatcher);
    masked for everyone else, auditors included. One query for a whole list."""
    if actor.is_customer:
        return {c for c in customer_ids if c == actor.customer_id}
    if actor.role in SEES_CONTACTS:
        return set(customer_ids)
    if actor.user_id is None:
        return set()
    return uow.customers.handled_by(actor.brand_id, customer_ids, actor.user_id)


def record_reads(uows: UowFactory, actor: Actor, customer_ids: Sequence[int], what: str, clock: Clock) -> None:
    """Put staff reads of customers' data on record (customers' own reads are not logged)."""
    if actor.is_customer or not customer_ids:
        return
    now = clock.now()
    with uows() as uow:
        uow.customers.record_reads([{"brand_id": actor.brand_id, "at": now, "actor": actor.describe()[:100],
                                     "role": actor.role.value, "customer_id": cid, "what": what}
                                    for cid in dict.fromkeys(customer_ids)])
        uow.commit()


def reads_of(uows: UowFactory, actor: Actor, customer_id: int, clock: Clock, limit: int = 200) -> list[dict[str, str]]:
    """Who on the staff read this customer's data, newest first: the customer sees it, as do managers and
    auditors."""
    if not actor.is_customer:
        require_role(actor, Role.MANAGER, Role.AUDITOR, what="read the access log")
    with uows(readonly=True) as uow:
        access_customer(uow, actor, customer_id)
        rows = uow.customers.reads_of(actor.brand_id, customer_id, limit)
    return [{"at": r.at.astimezone(clock.tz).isoformat(), "role": r.role, "by": r.actor, "what": r.what}
            for r in rows]


def add_address(uow: UnitOfWork, actor: Actor, customer_id: int, text: str, adcode: str | None) -> Address:
    """Another address for a customer (themself, or staff of the brand); the same text twice is the same address."""
    if actor.read_only or actor.role is Role.TECHNICIAN:
        raise NotFound("customer.not_found", f"no customer {customer_id}")
    with uow:
        customer = access_customer(uow, actor, customer_id)
        text = " ".join(text.split())
        found = next((a for a in customer.addresses if a.text == text), None)
        if found is not None:
            return found
        address = Address(text=text, adcode=adcode)
        customer.addresses.append(address)
        uow.commit()
    return address
