"""Repositories: load and store aggregates; every query is scoped by brand."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from fairdesk.adapters.db import files
from fairdesk.adapters.db import tables as t
from fairdesk.adapters.db.types import UTCDateTime
from fairdesk.domain.contact import Agent, Conversation, ConversationStatus
from fairdesk.domain.customers import Customer, Phone, Product, Unit
from fairdesk.domain.errors import Conflict
from fairdesk.domain.evidence import GENESIS, Checkpoint, Entry, canonical, entry_hash
from fairdesk.domain.network import Outlet
from fairdesk.domain.people import ApiToken, Brand, User
from fairdesk.domain.plans import Catalogue, Plan, PlanFamily, Subscription, SubscriptionStatus
from fairdesk.domain.tickets import OPEN_STATUSES, Ticket, TicketEvent, TicketFilter
from fairdesk.services.ports import IdempotencyRecord

__all__ = [
    "BrandRepository",
    "ChannelRepository",
    "ContactRepository",
    "CustomerRepository",
    "EvidenceRepository",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "OutletRepository",
    "PlanRepository",
    "ProductRepository",
    "SlaRepository",
    "TicketRepository",
    "UnitRepository",
    "UserRepository",
]


class _Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _core(self, stmt: sa.Executable, params: object = None) -> sa.CursorResult[Any]:
        """Run a Core statement on the session's connection, in its transaction, without the ORM layer."""
        return self.session.connection().execute(stmt, params)  # type: ignore[arg-type]

    def add(self, obj: object) -> None:
        self.session.add(obj)

    def flush(self) -> None:
        self.session.flush()


class BrandRepository(_Repo):
    def get(self, brand_id: int) -> Brand | None:
        return self.session.get(Brand, brand_id)

    def by_code(self, code: str) -> Brand | None:
        return self.session.scalars(sa.select(Brand).where(t.brands.c.code == code)).one_or_none()

    def all(self) -> Sequence[Brand]:
        return self.session.scalars(sa.select(Brand).order_by(t.brands.c.id)).all()


class UserRepository(_Repo):
    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def by_username(self, username: str) -> User | None:
        return self.session.scalars(sa.select(User).where(t.users.c.username == username)).one_or_none()

    def for_brand(self, brand_id: int) -> Sequence[User]:
        return self.session.scalars(
            sa.select(User).where(t.users.c.brand_id == brand_id).order_by(t.users.c.id)).all()

    def display_names(self, user_ids: Iterable[int]) -> dict[int, str]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        c = t.users.c
        return dict(self._core(sa.select(c.id, c.display_name).where(c.id.in_(ids))).all())

    def failure_state(self, username: str) -> Any:
        """(failures, locked_until) of the name, or None when it has no failures on record."""
        c = t.login_failures.c
        return self._core(sa.select(c.failures, c.locked_until).where(c.username == username)).first()

    def record_failure(self, username: str, at: datetime) -> int:
        """Count a failed login for the name (atomically on both databases); the count so far."""
        dialect = self.session.get_bind().dialect.name
        return int(self._core(_FAILURE[dialect], {"username": username, "failures": 1, "last_failure_at": at,
                                                  "at": at}).scalar_one())

    def lock(self, username: str, until: datetime) -> None:
        c = t.login_failures.c
        self._core(sa.update(t.login_failures).where(c.username == username).values(locked_until=until))

    def clear_failures(self, username: str) -> None:
        self._core(sa.delete(t.login_failures).where(t.login_failures.c.username == username))

    def token_by_hash(self, token_hash: str) -> tuple[ApiToken, User] | None:
        row = self.session.execute(
            sa.select(ApiToken, User).join(User, t.users.c.id == t.api_tokens.c.user_id)
            .where(t.api_tokens.c.token_hash == token_hash)).one_or_none()
        return (row[0], row[1]) if row else None


class CustomerRepository(_Repo):
    def get(self, brand_id: int, customer_id: int) -> Customer | None:
        return self.session.scalars(sa.select(Customer).where(
            t.customers.c.id == customer_id, t.customers.c.brand_id == brand_id)).one_or_none()

    # Built once: the intake hot path runs these for every new ticket.
    _PREFIX_OF_CUSTOMER = (
        sa.select(t.brands.c.ticket_prefix).select_from(t.customers)
        .join(t.brands, t.brands.c.id == t.customers.c.brand_id)
        .where(t.customers.c.id == sa.bindparam("customer_id"), t.customers.c.brand_id == sa.bindparam("brand_id")))

    def ticket_prefix_if_exists(self, brand_id: int, customer_id: int) -> str | None:
        """The brand's ticket prefix if the customer exists in that brand; one indexed lookup."""
        return self._core(self._PREFIX_OF_CUSTOMER,
                          {"customer_id": customer_id, "brand_id": brand_id}).scalar_one_or_none()

    def address(self, customer_id: int, address_id: int) -> tuple[str, str | None] | None:
        """(text, adcode) of one of the customer's addresses."""
        c = t.customer_addresses.c
        row = self._core(sa.select(c.text, c.adcode).where(c.id == address_id, c.customer_id == customer_id)).first()
        return (row.text, row.adcode) if row else None

    def set_adcode(self, address_id: int, adcode: str) -> None:
        self._core(sa.update(t.customer_addresses).where(t.customer_addresses.c.id == address_id).values(adcode=adcode))

    def has_address(self, customer_id: int, address_id: int) -> bool:
        return self.session.execute(sa.select(t.customer_addresses.c.id).where(
            t.customer_addresses.c.id == address_id,
            t.customer_addresses.c.customer_id == customer_id)).first() is not None

    def by_phone(self, brand_id: int, e164: str) -> Sequence[Customer]:
        return self.session.scalars(
            sa.select(Customer).join(Phone, t.customer_phones.c.customer_id == t.customers.c.id)
            .where(t.customers.c.brand_id == brand_id, t.customer_phones.c.e164 == e164)
            .order_by(t.customers.c.id)).unique().all()

    def handled_by(self, brand_id: int, customer_ids: Sequence[int], user_id: int) -> set[int]:
        """Those of the customers one of whose open requests the user handles (assignee or technician)."""
        if not customer_ids:
            return set()
        c = t.tickets.c
        return set(self._core(sa.select(c.customer_id).distinct().where(
            c.brand_id == brand_id, c.customer_id.in_(list(customer_ids)),
            c.status.in_([s.value for s in OPEN_STATUSES]),
            sa.or_(c.assignee_id == user_id, c.technician_id == user_id))).scalars())

    def record_reads(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._core(sa.insert(t.access_log), list(rows))

    def reads_of(self, brand_id: int, customer_id: int, limit: int) -> Sequence[Any]:
        c = t.access_log.c
        return self._core(sa.select(c.at, c.actor, c.role, c.what).where(
            c.brand_id == brand_id, c.customer_id == customer_id).order_by(c.id.desc()).limit(limit)).all()

    def page(self, brand_id: int, *, before_id: int | None, limit: int) -> Sequence[Customer]:
        q = sa.select(Customer).where(t.customers.c.brand_id == brand_id)
        if before_id is not None:
            q = q.where(t.customers.c.id < before_id)
        return self.session.scalars(q.order_by(t.customers.c.id.desc()).limit(limit)).all()


class ProductRepository(_Repo):
    def get(self, brand_id: int, product_id: int) -> Product | None:
        return self.session.scalars(sa.select(Product).where(
            t.products.c.id == product_id, t.products.c.brand_id == brand_id)).one_or_none()

    def by_model(self, brand_id: int, model: str) -> Product | None:
        return self.session.scalars(sa.select(Product).where(
            t.products.c.brand_id == brand_id, t.products.c.model == model)).one_or_none()

    def for_brand(self, brand_id: int) -> Sequence[Product]:
        return self.session.scalars(
            sa.select(Product).where(t.products.c.brand_id == brand_id).order_by(t.products.c.id)).all()


class UnitRepository(_Repo):
    def get(self, brand_id: int, unit_id: int) -> Unit | None:
        return self.session.scalars(sa.select(Unit).where(
            t.units.c.id == unit_id, t.units.c.brand_id == brand_id)).one_or_none()

    def by_serial(self, brand_id: int, serial: str) -> Unit | None:
        return self.session.scalars(sa.select(Unit).where(
            t.units.c.brand_id == brand_id, t.units.c.serial_number == serial)).one_or_none()

    def of_customer(self, brand_id: int, customer_id: int) -> Sequence[Unit]:
        return self.session.scalars(sa.select(Unit).where(
            t.units.c.brand_id == brand_id, t.units.c.customer_id == customer_id)
            .order_by(t.units.c.id)).all()


_TICKET_COLUMNS = ("brand_id", "number", "customer_id", "unit_id", "address_id", "channel", "category",
                   "priority", "status", "subject", "description", "created_at", "updated_at")


_FAILURE = {
    name: insert(t.login_failures).on_conflict_do_update(
        index_elements=["username"], set_={"failures": t.login_failures.c.failures + 1,
                                           "last_failure_at": sa.bindparam("at")},
    ).returning(t.login_failures.c.failures)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}

_NEXT_SEQUENCE = {
    name: insert(t.ticket_counters).on_conflict_do_update(
        index_elements=["brand_id", "day"], set_={"value": t.ticket_counters.c.value + 1},
    ).returning(t.ticket_counters.c.value)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
@functools.cache
def _ticket_by_id(for_update: bool) -> sa.Select[tuple[Ticket]]:
    """Built on first use (the mappers must be started) and then reused for every read."""
    q = sa.select(Ticket).where(t.tickets.c.id == sa.bindparam("id"), t.tickets.c.brand_id == sa.bindparam("b"))
    return q.with_for_update() if for_update else q


_INSERT_TICKET = sa.insert(t.tickets).returning(t.tickets.c.id)
_INSERT_EVENT = sa.insert(t.ticket_events)


class TicketRepository(_Repo):
    def get(self, brand_id: int, ticket_id: int, *, for_update: bool = False) -> Ticket | None:
        return self.session.scalars(_ticket_by_id(for_update), {"id": ticket_id, "b": brand_id}).one_or_none()

    def create(self, ticket: Ticket) -> None:
        """Insert a new ticket and its events with two Core statements (the intake hot path skips the ORM's
        flush bookkeeping); sets ``ticket.id``."""
        values = {name: getattr(ticket, name) for name in _TICKET_COLUMNS}
        ticket.id = self._core(_INSERT_TICKET, values).scalar_one()
        rows = [{"ticket_id": ticket.id, "brand_id": e.brand_id, "kind": e.kind, "actor": e.actor, "at": e.at,
                 "from_status": e.from_status, "to_status": e.to_status, "note": e.note} for e in ticket.events]
        self._core(_INSERT_EVENT, rows)
        for e in ticket.events:
            e.ticket_id = ticket.id

    def many(self, brand_id: int | None, ids: Sequence[int], *, lock_free: bool = False) -> Sequence[Ticket]:
        """Tickets by id with their events loaded in one more query (``brand_id`` None: the worker's view).
        ``lock_free``: lock them, leaving out any another transaction holds (PostgreSQL), so a worker never
        waits on, nor deadlocks with, a request that is changing the same ticket."""
        q = sa.select(Ticket).where(t.tickets.c.id.in_(ids)).options(selectinload(Ticket.events))
        if brand_id is not None:
            q = q.where(t.tickets.c.brand_id == brand_id)
        if lock_free and self.session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(of=t.tickets, skip_locked=True)
        return self.session.scalars(q.order_by(t.tickets.c.id)).all()

    def by_number(self, brand_id: int, number: str) -> Ticket | None:
        return self.session.scalars(sa.select(Ticket).where(
            t.tickets.c.brand_id == brand_id, t.tickets.c.number == number)).one_or_none()

    @staticmethod
    def _filtered(q: sa.Select[Any], brand_id: int, flt: TicketFilter) -> sa.Select[Any]:
        """The brand's tickets the filter lets through (one rule for a page and for a count)."""
        c = t.tickets.c
        q = q.where(c.brand_id == brand_id)
        for column, value in (("status", flt.status), ("category", flt.category),
                              ("priority", flt.priority), ("channel", flt.channel),
                              ("customer_id", flt.customer_id), ("assignee_id", flt.assignee_id)):
            if value is not None:
                q = q.where(c[column] == value)
        if flt.open_only:
            q = q.where(c.status.in_(sorted(OPEN_STATUSES)))
        if flt.created_from is not None:
            q = q.where(c.created_at >= flt.created_from)
        if flt.created_to is not None:
            q = q.where(c.created_at < flt.created_to)
        return q

    def page(self, brand_id: int, flt: TicketFilter, *, before_id: int | None, limit: int) -> Sequence[Ticket]:
        """Newest first, ``limit`` rows older than ``before_id`` (keyset pagination: no OFFSET scans)."""
        c = t.tickets.c
        q = self._filtered(sa.select(Ticket), brand_id, flt)
        if before_id is not None:
            q = q.where(c.id < before_id)
        return self.session.scalars(q.order_by(c.id.desc()).limit(limit)).all()

    def count(self, brand_id: int, flt: TicketFilter) -> int:
        q = self._filtered(sa.select(sa.func.count()).select_from(t.tickets), brand_id, flt)
        return int(self._core(q).scalar_one())

    # --- photos and documents on a request ---
    def add_attachment(self, ticket_id: int, filename: str, content_type: str, data: bytes, sha256: str,
                       at: datetime, by: str) -> int:
        return files.add(self._core, t.ticket_attachments, ticket_id, filename, content_type, data, sha256, at, by)

    def attachments(self, ticket_id: int) -> Sequence[Any]:
        return files.listing(self._core, t.ticket_attachments, ticket_id)

    def attachment(self, ticket_id: int, attachment_id: int) -> Any:
        return files.one(self._core, t.ticket_attachments, ticket_id, attachment_id)

    def events_of(self, ticket_ids: Sequence[int]) -> dict[int, list[TicketEvent]]:
        """The events of many tickets in one query, each ticket's in order."""
        out: dict[int, list[TicketEvent]] = {i: [] for i in ticket_ids}
        if ticket_ids:
            c = t.ticket_events.c
            for e in self.session.scalars(sa.select(TicketEvent).where(c.ticket_id.in_(list(ticket_ids)))
                                          .order_by(c.ticket_id, c.id)):
                out[e.ticket_id].append(e)
        return out

    def events(self, ticket_id: int) -> Sequence[TicketEvent]:
        return self.session.scalars(sa.select(TicketEvent).where(t.ticket_events.c.ticket_id == ticket_id)
                                    .order_by(t.ticket_events.c.id)).all()

    def concurrent_writers(self) -> bool:
        """Whether the database runs write transactions side by side (PostgreSQL) or one at a time (SQLite)."""
        return self.session.get_bind().dialect.name != "sqlite"

    def daily_counts(self, brand_id: int, since: datetime, utc_offset_h: int) -> list[tuple[str, int]]:
        """Tickets opened per local day (the zone's UTC offset in hours) since a moment, oldest first."""
        c = t.tickets.c
        if self.session.get_bind().dialect.name == "sqlite":
            day = sa.func.date(c.created_at, f"{utc_offset_h:+d} hours")
        else:
            day = sa.func.to_char(c.created_at + sa.text(f"interval '{int(utc_offset_h)} hours'"), "YYYY-MM-DD")
        rows = self._core(sa.select(day.label("day"), sa.func.count()).where(
            c.brand_id == brand_id, c.created_at >= since).group_by(day).order_by(day))
        return [(str(r[0]), int(r[1])) for r in rows]

    def next_sequence(self, brand_id: int, day: date) -> int:
        """The brand's next ticket sequence number for a local day; atomic on both databases."""
        dialect = self.session.get_bind().dialect.name
        return int(self._core(_NEXT_SEQUENCE[dialect], {"brand_id": brand_id, "day": day, "value": 1}).scalar_one())


class OutletRepository(_Repo):
    def by_code(self, brand_id: int, code: str) -> Outlet | None:
        return self.session.scalars(sa.select(Outlet).where(
            t.outlets.c.brand_id == brand_id, t.outlets.c.code == code)).one_or_none()

    def for_brand(self, brand_id: int) -> Sequence[Outlet]:
        return self.session.scalars(
            sa.select(Outlet).where(t.outlets.c.brand_id == brand_id).order_by(t.outlets.c.id)).all()

    def by_ids(self, brand_id: int, ids: Iterable[int]) -> dict[int, Outlet]:
        rows = self.session.scalars(sa.select(Outlet).where(
            t.outlets.c.brand_id == brand_id, t.outlets.c.id.in_(list(ids)))).all()
        return {o.id: o for o in rows}

    def set_week(self, brand_id: int, outlet_id: int, shifts: str | None, weekdays: str, holidays_closed: bool) -> None:
        self._core(sa.update(t.outlets).where(t.outlets.c.id == outlet_id, t.outlets.c.brand_id == brand_id).values(
            open_shifts=shifts, open_weekdays=weekdays, closed_on_holidays=holidays_closed))

    def add_closure(self, brand_id: int, outlet_id: int, day: date, reason: str) -> None:
        c = t.outlet_closures.c
        self._core(sa.delete(t.outlet_closures).where(c.outlet_id == outlet_id, c.day == day))
        self._core(sa.insert(t.outlet_closures).values(outlet_id=outlet_id, brand_id=brand_id, day=day,
                                                       reason=reason))

    def closures(self, outlet_ids: Iterable[int], first: date, last: date) -> dict[int, dict[date, str]]:
        """Each outlet's closure days between two days, with their reasons."""
        c = t.outlet_closures.c
        out: dict[int, dict[date, str]] = {}
        ids = list(outlet_ids)
        if ids:
            for r in self._core(sa.select(c.outlet_id, c.day, c.reason).where(
                    c.outlet_id.in_(ids), c.day >= first, c.day <= last)):
                out.setdefault(r.outlet_id, {})[r.day] = r.reason
        return out

    def coverage_on_chain(self, brand_id: int, chain: Sequence[str]) -> dict[int, set[str]]:
        """The brand's active outlets whose coverage includes a code of the chain, with those codes."""
        c = t.outlet_coverage.c
        rows = self._core(sa.select(c.outlet_id, c.adcode).join(t.outlets, t.outlets.c.id == c.outlet_id)
                          .where(c.brand_id == brand_id, c.adcode.in_(list(chain)), t.outlets.c.active.is_(True)))
        found: dict[int, set[str]] = {}
        for outlet_id, adcode in rows:
            found.setdefault(outlet_id, set()).add(adcode)
        return found

    def coverage_codes(self, brand_id: int, outlet_id: int | None = None) -> set[str]:
        c = t.outlet_coverage.c
        q = sa.select(c.adcode).where(c.brand_id == brand_id)
        if outlet_id is not None:
            q = q.where(c.outlet_id == outlet_id)
        return set(self._core(q).scalars())

    def add_coverage(self, brand_id: int, outlet_id: int, codes: Iterable[str]) -> int:
        """Add codes the outlet does not cover yet; returns how many were new."""
        new = sorted(set(codes) - self.coverage_codes(brand_id, outlet_id))
        if new:
            self._core(sa.insert(t.outlet_coverage),
                       [{"brand_id": brand_id, "outlet_id": outlet_id, "adcode": code} for code in new])
        return len(new)


class PlanRepository(_Repo):
    def catalogue(self, brand_id: int) -> Catalogue:
        fam = t.plan_families.c
        families = {r.code: PlanFamily(r.code, r.name, r.policy, r.save_offer)
                    for r in self._core(sa.select(t.plan_families).where(fam.brand_id == brand_id))}
        plans = {r.code: Plan(r.code, r.family, r.name, r.price, r.period, tuple(json.loads(r.features)), r.retired,
                              r.terms_version)
                 for r in self._core(sa.select(t.plans).where(t.plans.c.brand_id == brand_id))}
        return Catalogue(families, plans)

    def save_catalogue(self, brand_id: int, catalogue: Catalogue) -> tuple[int, int]:
        """Insert new families and plans, update changed ones; plans are never deleted (retire them)."""
        current = self.catalogue(brand_id)
        for f in catalogue.families.values():
            values = {"name": f.name, "policy": f.policy, "save_offer": f.save_offer}
            if f.code in current.families:
                self._core(sa.update(t.plan_families).where(t.plan_families.c.brand_id == brand_id,
                                                            t.plan_families.c.code == f.code).values(values))
            else:
                self._core(sa.insert(t.plan_families).values(brand_id=brand_id, code=f.code, **values))
        subscribed = self.subscribed_plan_codes(brand_id)
        for p in catalogue.plans.values():
            old = current.plans.get(p.code)
            if old is not None and old.price != p.price and p.code in subscribed:
                # Subscribers renew at the price they agreed to; a new price needs a new plan (and the notice
                # that moving them to it takes), never a silent edit.
                raise Conflict("plan.price_change_needs_notice",
                               f"plan {p.code} has subscribers: offer the new price as a new plan instead")
            values = {"family": p.family, "name": p.name, "price": p.price, "period": p.period,
                      "features": json.dumps(list(p.features), ensure_ascii=False), "retired": p.retired,
                      "terms_version": p.terms_version}
            if p.code in current.plans:
                self._core(sa.update(t.plans).where(t.plans.c.brand_id == brand_id, t.plans.c.code == p.code)
                           .values(values))
            else:
                self._core(sa.insert(t.plans).values(brand_id=brand_id, code=p.code, **values))
        return len(catalogue.families), len(catalogue.plans)

    def subscribed_plan_codes(self, brand_id: int) -> set[str]:
        c = t.subscriptions.c
        return set(self._core(sa.select(c.plan_code).distinct().where(
            c.brand_id == brand_id, c.status == SubscriptionStatus.ACTIVE)).scalars())

    def subscription(self, brand_id: int, subscription_id: int) -> Subscription | None:
        return self.session.scalars(sa.select(Subscription).where(
            t.subscriptions.c.id == subscription_id, t.subscriptions.c.brand_id == brand_id)).one_or_none()

    def count_preview(self, subscription_id: int, *, offer_shown: bool) -> None:
        """One more preview on the subscription (and the save offer marked shown), without its version."""
        c = t.subscriptions.c
        values: dict[str, Any] = {"previews": c.previews + 1}
        if offer_shown:
            values["offer_shown"] = True
        self._core(sa.update(t.subscriptions).where(c.id == subscription_id).values(**values))

    def subscriptions_of(self, brand_id: int, customer_id: int) -> Sequence[Subscription]:
        return self.session.scalars(sa.select(Subscription).where(
            t.subscriptions.c.brand_id == brand_id, t.subscriptions.c.customer_id == customer_id)
            .order_by(t.subscriptions.c.id)).all()

    def add_consent(self, brand_id: int, subscription_id: int, terms_version: str, price: Decimal, channel: str,
                    at: datetime) -> None:
        self._core(sa.insert(t.consents).values(brand_id=brand_id, subscription_id=subscription_id,
                                                terms_version=terms_version, price=price, channel=channel, at=at))

    def add_change(self, **values: object) -> int:
        return int(self._core(sa.insert(t.plan_changes).values(**values).returning(t.plan_changes.c.id)).scalar_one())

    def changes_of(self, brand_id: int, subscription_ids: Sequence[int]) -> dict[int, list[Any]]:
        """Each subscription's confirmed changes, newest first (a preview is not a change)."""
        out: dict[int, list[Any]] = {i: [] for i in subscription_ids}
        if subscription_ids:
            c = t.plan_changes.c
            for r in self._core(sa.select(c.id, c.subscription_id, c.from_plan, c.to_plan, c.kind, c.submitted_at,
                                          c.effective_at, c.net).where(
                    c.brand_id == brand_id, c.subscription_id.in_(list(subscription_ids))).order_by(c.id.desc())):
                out[r.subscription_id].append(r)
        return out

    def change(self, brand_id: int, subscription_id: int, change_id: int) -> Any:
        c = t.plan_changes.c
        return self._core(sa.select(t.plan_changes).where(c.id == change_id, c.brand_id == brand_id,
                                                          c.subscription_id == subscription_id)).one_or_none()

    def add_ledger(self, rows: list[dict[str, object]]) -> None:
        if rows:
            self._core(sa.insert(t.ledger_entries), rows)

    def ledger(self, subscription_id: int) -> Sequence[Any]:
        c = t.ledger_entries.c
        return self._core(sa.select(t.ledger_entries).where(c.subscription_id == subscription_id)
                          .order_by(c.id)).all()

    def due_for_renewal(self, now: datetime, after_id: int, limit: int) -> Sequence[Subscription]:
        c = t.subscriptions.c
        return self.session.scalars(sa.select(Subscription).where(
            c.status == SubscriptionStatus.ACTIVE, c.period_end <= now, c.id > after_id)
            .order_by(c.id).limit(limit)).all()

    def record_due_reminders(self, now: datetime, horizon: datetime) -> int:
        """One renewal reminder per subscription and period, for every active auto-renewing subscription that
        renews before ``horizon``: one set-based statement, so the cost follows the due rows."""
        s, r = t.subscriptions.c, t.reminders.c
        due = (sa.select(s.brand_id, s.id, sa.literal("renewal"), s.period_end, sa.literal(now, UTCDateTime()))
               .where(s.status == SubscriptionStatus.ACTIVE, s.auto_renew.is_(True), s.period_end > now,
                      s.period_end <= horizon,
                      ~sa.exists().where(r.subscription_id == s.id, r.kind == "renewal",
                                         r.for_period_end == s.period_end)))
        result = self._core(sa.insert(t.reminders).from_select(
            ["brand_id", "subscription_id", "kind", "for_period_end", "sent_at"], due).returning(t.reminders.c.id))
        return len(result.all())  # rowcount is not reported for INSERT … SELECT by every driver

    def unsent_reminders(self, now: datetime, limit: int) -> Sequence[Any]:
        """Reminders of renewals still to come whose message is not in the outbox yet, with what it says."""
        r, s, p = t.reminders.c, t.subscriptions.c, t.plans.c
        return self._core(
            sa.select(r.id, r.brand_id, s.customer_id, r.for_period_end, p.name.label("plan_name"), p.price)
            .join(t.subscriptions, s.id == r.subscription_id)
            .join(t.plans, sa.and_(p.brand_id == s.brand_id, p.code == sa.func.coalesce(s.pending_plan_code,
                                                                                          s.plan_code)))
            .where(r.queued_at.is_(None), r.for_period_end > now).order_by(r.id).limit(limit)).all()

    def mark_reminders_queued(self, ids: Sequence[int], at: datetime) -> None:
        self._core(sa.update(t.reminders).where(t.reminders.c.id.in_(ids)).values(queued_at=at))


class ChannelRepository(_Repo):
    def add(self, brand_id: int, kind: str, value: str, label: str, at: datetime) -> None:  # type: ignore[override]
        self._core(sa.insert(t.official_channels).values(brand_id=brand_id, kind=kind, value=value, label=label,
                                                         created_at=at))

    def owner(self, kind: str, value: str) -> tuple[int, str] | None:
        c = t.official_channels.c
        row = self._core(sa.select(t.brands.c.id, t.brands.c.name).join(t.brands, t.brands.c.id == c.brand_id)
                         .where(c.kind == kind, c.value == value)).first()
        return (row[0], row[1]) if row else None

    def phones_of_any_brand(self, values: Sequence[str]) -> dict[str, str]:
        """Normalized phone → the name of the brand it belongs to, for the given numbers."""
        c = t.official_channels.c
        rows = self._core(sa.select(c.value, t.brands.c.name).join(t.brands, t.brands.c.id == c.brand_id)
                          .where(c.kind == "phone", c.value.in_(list(values))))
        return dict(rows.all())

    def brand_names(self) -> list[str]:
        """Names of brands that registered official channels (the ones an impostor page may borrow)."""
        c = t.official_channels.c
        return list(self._core(sa.select(t.brands.c.name).distinct()
                               .join(t.official_channels, c.brand_id == t.brands.c.id)).scalars())

    def of_brand(self, brand_id: int) -> Sequence[Any]:
        c = t.official_channels.c
        return self._core(sa.select(c.kind, c.value, c.label).where(c.brand_id == brand_id).order_by(c.id)).all()


class EvidenceRepository(_Repo):
    def append(self, brand_id: int, kind: str, subject: str, customer_id: int | None, payload: dict[str, Any],
               at: datetime) -> Entry:
        """Append to the brand's chain in the caller's transaction; the head row serializes appends per brand."""
        h = t.evidence_heads.c
        head = self._core(sa.select(h.seq, h.hash).where(h.brand_id == brand_id).with_for_update()).first()
        if head is None:
            self._core(sa.insert(t.evidence_heads).values(brand_id=brand_id, seq=0, hash=GENESIS))
            head = (0, GENESIS)
        stamp = at.astimezone(UTC).isoformat()
        body = json.loads(canonical(payload))
        entry = Entry(head[0] + 1, stamp, kind, subject, customer_id, body, head[1])
        entry = Entry(**{**entry.__dict__, "hash": entry_hash(head[1], entry.content())})
        self._core(sa.update(t.evidence_heads).where(h.brand_id == brand_id).values(seq=entry.seq, hash=entry.hash))
        self._core(sa.insert(t.evidence_entries).values(
            brand_id=brand_id, seq=entry.seq, at=stamp, kind=kind, subject=subject, customer_id=customer_id,
            payload=canonical(body).decode(), prev_hash=entry.prev_hash, hash=entry.hash))
        return entry

    def start_chain(self, brand_id: int) -> None:
        self._core(sa.insert(t.evidence_heads).values(brand_id=brand_id, seq=0, hash=GENESIS))

    def head(self, brand_id: int) -> tuple[int, str]:
        h = t.evidence_heads.c
        row = self._core(sa.select(h.seq, h.hash).where(h.brand_id == brand_id)).first()
        return (row[0], row[1]) if row else (0, GENESIS)

    @staticmethod
    def _entry(r: Any) -> Entry:
        return Entry(r.seq, r.at, r.kind, r.subject, r.customer_id, json.loads(r.payload), r.prev_hash, r.hash)

    def entries(self, brand_id: int, *, after: int = 0, upto: int | None = None,
                customer_id: int | None = None) -> list[Entry]:
        c = t.evidence_entries.c
        q = sa.select(t.evidence_entries).where(c.brand_id == brand_id, c.seq > after)
        if upto is not None:
            q = q.where(c.seq <= upto)
        if customer_id is not None:
            q = q.where(c.customer_id == customer_id)
        return [self._entry(r) for r in self._core(q.order_by(c.seq, c.id))]

    def checkpoints(self, brand_id: int, brand_code: str) -> list[Checkpoint]:
        c = t.evidence_checkpoints.c
        rows = self._core(sa.select(t.evidence_checkpoints).where(c.brand_id == brand_id).order_by(c.to_seq))
        return [Checkpoint(brand_code, r.from_seq, r.to_seq, r.merkle_root, r.head_hash, r.signed_at, r.signature)
                for r in rows]

    def add_checkpoint(self, brand_id: int, cp: Checkpoint) -> None:
        self._core(sa.insert(t.evidence_checkpoints).values(
            brand_id=brand_id, from_seq=cp.from_seq, to_seq=cp.to_seq, merkle_root=cp.merkle_root,
            head_hash=cp.head_hash, signed_at=cp.signed_at, signature=cp.signature))

    def key(self, brand_id: int) -> tuple[str, str] | None:
        k = t.brand_keys.c
        row = self._core(sa.select(k.private_key, k.public_key).where(k.brand_id == brand_id)).first()
        return (row[0], row[1]) if row else None

    def save_key(self, brand_id: int, private: str, public: str, at: datetime) -> None:
        self._core(sa.insert(t.brand_keys).values(brand_id=brand_id, private_key=private, public_key=public,
                                                  created_at=at))


_POLICY_AND_SHIFTS = (
    sa.select(t.brands.c.id.label("brand"), t.brand_calendars.c.shifts.label("brand_shifts"), t.sla_policies)
    .select_from(t.brands.outerjoin(t.brand_calendars, t.brand_calendars.c.brand_id == t.brands.c.id)
                 .outerjoin(t.sla_policies, sa.and_(t.sla_policies.c.brand_id == t.brands.c.id,
                                                    t.sla_policies.c.category == sa.bindparam("c"),
                                                    t.sla_policies.c.priority == sa.bindparam("p"))))
    .where(t.brands.c.id == sa.bindparam("b")))
_CLOSURES = sa.select(t.brand_closures.c.day).where(t.brand_closures.c.brand_id == sa.bindparam("b"))


class SlaRepository(_Repo):
    def policy(self, brand_id: int, category: str, priority: str) -> Any:
        c = t.sla_policies.c
        return self._core(sa.select(t.sla_policies).where(c.brand_id == brand_id, c.category == category,
                                                          c.priority == priority)).first()

    def save(self, brand_id: int, category: str, priority: str, first_response_min: int, resolution_min: int,
             around_the_clock: bool, onsite_min: int | None = None, pause_on: str = "waiting_customer,waiting_parts",
             escalations: str = "[]", outlet_calendar: bool = False) -> None:
        c = t.sla_policies.c
        values = {"first_response_min": first_response_min, "resolution_min": resolution_min,
                  "around_the_clock": around_the_clock, "onsite_min": onsite_min, "pause_on": pause_on,
                  "escalations": escalations, "outlet_calendar": outlet_calendar}
        if self.policy(brand_id, category, priority) is None:
            self._core(sa.insert(t.sla_policies).values(brand_id=brand_id, category=category, priority=priority,
                                                        **values))
        else:
            self._core(sa.update(t.sla_policies).where(c.brand_id == brand_id, c.category == category,
                                                       c.priority == priority).values(values))


    def policy_and_calendar(self, brand_id: int, category: str, priority: str
                            ) -> tuple[Any, str | None, frozenset[date]]:
        """The policy row (or None), the brand's shifts and closures, in two prebuilt statements (ticket
        intake runs this for every new ticket)."""
        params = {"b": brand_id, "c": category, "p": priority}
        row = self._core(_POLICY_AND_SHIFTS, params).first()
        closures = frozenset(self._core(_CLOSURES, params).scalars())
        if row is None:
            return None, None, closures
        return (row if row.id is not None else None), row.brand_shifts, closures

    def closures(self, brand_id: int) -> frozenset[date]:
        """The brand's own closure days."""
        return frozenset(self._core(_CLOSURES, {"b": brand_id}).scalars())

    def outlet_closures(self, brand_id: int) -> dict[int, frozenset[date]]:
        """Each of the brand's outlets' closure days."""
        c = t.outlet_closures.c
        found: dict[int, set[date]] = {}
        for outlet_id, day in self._core(sa.select(c.outlet_id, c.day).where(c.brand_id == brand_id)):
            found.setdefault(outlet_id, set()).add(day)
        return {k: frozenset(v) for k, v in found.items()}

    def save_shifts(self, brand_id: int, shifts: str) -> None:
        c = t.brand_calendars.c
        self._core(sa.delete(t.brand_calendars).where(c.brand_id == brand_id))
        self._core(sa.insert(t.brand_calendars).values(brand_id=brand_id, shifts=shifts))

    def add_closure(self, brand_id: int, day: date, reason: str) -> None:
        c = t.brand_closures.c
        self._core(sa.delete(t.brand_closures).where(c.brand_id == brand_id, c.day == day))
        self._core(sa.insert(t.brand_closures).values(brand_id=brand_id, day=day, reason=reason))

    def open_tickets(self, brand_id: int, category: str, priority: str, after_id: int, limit: int) -> Sequence[int]:
        """Ids of the open tickets a policy applies to, in id order from ``after_id`` (for batched recompute)."""
        c = t.tickets.c
        return self._core(sa.select(c.id).where(c.brand_id == brand_id, c.category == category,
                                                c.priority == priority, c.id > after_id,
                                                c.status.in_([s.value for s in OPEN_STATUSES]))
                          .order_by(c.id).limit(limit)).scalars().all()


    def open_ticket_ids(self, brand_id: int | None, after_id: int, limit: int) -> Sequence[int]:
        """Ids of open tickets (of one brand, or of all), in id order from ``after_id`` (batched recompute)."""
        c = t.tickets.c
        q = sa.select(c.id).where(c.id > after_id, c.status.in_([s.value for s in OPEN_STATUSES]))
        if brand_id is not None:
            q = q.where(c.brand_id == brand_id)
        return self._core(q.order_by(c.id).limit(limit)).scalars().all()

    def open_ticket_count(self) -> int:
        c = t.tickets.c
        return int(self._core(sa.select(sa.func.count()).select_from(t.tickets).where(
            c.status.in_([s.value for s in OPEN_STATUSES]))).scalar_one())

class ContactRepository(_Repo):
    def policy(self, brand_id: int) -> dict[str, Any] | None:
        c = t.routing_policies.c
        row = self._core(sa.select(c.policy).where(c.brand_id == brand_id)).first()
        return json.loads(row[0]) if row else None

    def save_policy(self, brand_id: int, policy: dict[str, Any], at: datetime) -> None:
        c = t.routing_policies.c
        text = json.dumps(policy, ensure_ascii=False, sort_keys=True)
        if self.policy(brand_id) is None:
            self._core(sa.insert(t.routing_policies).values(brand_id=brand_id, policy=text, updated_at=at))
        else:
            self._core(sa.update(t.routing_policies).where(c.brand_id == brand_id).values(policy=text, updated_at=at))

    def conversation(self, brand_id: int, conversation_id: int) -> Conversation | None:
        return self.session.scalars(sa.select(Conversation).where(
            t.conversations.c.id == conversation_id, t.conversations.c.brand_id == brand_id)).one_or_none()

    def latest_open(self, brand_id: int, customer_id: int) -> Conversation | None:
        """The customer's newest conversation that is not closed."""
        c = t.conversations.c
        return self.session.scalars(sa.select(Conversation).where(
            c.brand_id == brand_id, c.customer_id == customer_id, c.status != ConversationStatus.CLOSED)
            .order_by(c.id.desc()).limit(1)).one_or_none()

    def waiting(self, brand_id: int, limit: int = 500) -> Sequence[Conversation]:
        c = t.conversations.c
        return self.session.scalars(sa.select(Conversation).where(
            c.brand_id == brand_id, c.status == ConversationStatus.WAITING).order_by(c.handed_at).limit(limit)).all()

    def opened_between(self, brand_id: int, start: datetime, end: datetime) -> Sequence[Conversation]:
        c = t.conversations.c
        return self.session.scalars(sa.select(Conversation).where(
            c.brand_id == brand_id, c.opened_at >= start, c.opened_at < end)).all()

    def change_steps(self, brand_id: int, start: datetime, end: datetime) -> Sequence[Any]:
        """(kind, channel, steps, subscription_id, submitted_at) of the plan changes confirmed in a period."""
        c = t.plan_changes.c
        return self._core(sa.select(c.kind, c.channel, c.steps, c.subscription_id, c.submitted_at).where(
            c.brand_id == brand_id, c.submitted_at >= start, c.submitted_at < end)).all()

    def add_message(self, conversation_id: int, sender: str, text: str, intent: str | None, at: datetime, *,
                    agent_id: int | None = None) -> None:
        self._core(sa.insert(t.conversation_messages).values(conversation_id=conversation_id, sender=sender,
                                                             text=text, intent=intent, at=at, agent_id=agent_id))

    def unanswered(self, brand_id: int, limit: int = 500) -> Sequence[Conversation]:
        """Conversations handed to people that no person has answered yet (in the queue or assigned)."""
        c = t.conversations.c
        return self.session.scalars(sa.select(Conversation).where(
            c.brand_id == brand_id, c.status.in_([ConversationStatus.WAITING, ConversationStatus.WITH_HUMAN]),
            c.first_reply_at.is_(None)).order_by(c.handed_at).limit(limit)).all()

    def held_by(self, brand_id: int, user_id: int | None) -> Sequence[Conversation]:
        """The conversations an agent holds now, oldest hand-over first."""
        c = t.conversations.c
        return self.session.scalars(sa.select(Conversation).where(
            c.brand_id == brand_id, c.status == ConversationStatus.WITH_HUMAN, c.agent_id == user_id)
            .order_by(c.handed_at)).all()

    def customer_names(self, brand_id: int, customer_ids: Iterable[int]) -> dict[int, str]:
        ids = sorted(set(customer_ids))
        if not ids:
            return {}
        c = t.customers.c
        return dict(self._core(sa.select(c.id, c.name).where(c.brand_id == brand_id, c.id.in_(ids))).all())

    def messages(self, conversation_id: int) -> Sequence[Any]:
        m = t.conversation_messages.c
        return self._core(sa.select(t.conversation_messages).where(m.conversation_id == conversation_id)
                          .order_by(m.id)).all()

    def agents(self, brand_id: int) -> list[Agent]:
        a, c = t.agents.c, t.conversations.c
        load = dict(self._core(sa.select(c.agent_id, sa.func.count()).where(
            c.brand_id == brand_id, c.status == ConversationStatus.WITH_HUMAN).group_by(c.agent_id)).all())
        rows = self._core(sa.select(t.agents).where(a.brand_id == brand_id, a.active.is_(True)).order_by(a.id))
        return [Agent(r.brand_id, r.user_id, tuple(r.languages.split(",")), r.capacity, tuple(r.skills.split(",")),
                      r.active, load.get(r.user_id, 0), r.last_assigned_at, r.id) for r in rows]

    def add_agent(self, brand_id: int, user_id: int, languages: Sequence[str], capacity: int,
                  skills: Sequence[str] = ("general",)) -> None:
        self._core(sa.insert(t.agents).values(brand_id=brand_id, user_id=user_id, languages=",".join(languages),
                                              skills=",".join(skills), capacity=capacity, active=True))

    def touch_agent(self, user_id: int, at: datetime) -> None:
        self._core(sa.update(t.agents).where(t.agents.c.user_id == user_id).values(last_assigned_at=at))


class IdempotencyRepository(_Repo):
    _c = t.idempotency_keys.c
    _FIND = sa.select(_c.request_hash, _c.resource_type, _c.resource_id).where(
        _c.brand_id == sa.bindparam("brand_id"), _c.scope == sa.bindparam("scope"), _c.key == sa.bindparam("key"))
    _INSERT = sa.insert(t.idempotency_keys)

    def find(self, brand_id: int, scope: str, key: str) -> IdempotencyRecord | None:
        row = self._core(self._FIND, {"brand_id": brand_id, "scope": scope, "key": key}).one_or_none()
        return IdempotencyRecord(*row) if row else None

    def remember(self, brand_id: int, scope: str, key: str, request_hash: str, resource_type: str,
                 resource_id: int, at: datetime) -> None:
        self._core(self._INSERT, {"brand_id": brand_id, "scope": scope, "key": key, "request_hash": request_hash,
                                  "resource_type": resource_type, "resource_id": resource_id, "created_at": at})
