"""Access checks, once, in one place: whatever a user may not see is 'not found' to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fairdesk.domain.contact import Conversation
from fairdesk.domain.customers import Customer, Unit
from fairdesk.domain.dispatch import Visit
from fairdesk.domain.errors import Forbidden, InvalidInput, NotFound
from fairdesk.domain.people import STAFF_ROLES, Actor, Role, User
from fairdesk.domain.plans import Subscription
from fairdesk.domain.tickets import Ticket
from fairdesk.services.ports import UnitOfWork

__all__ = ["access_conversation", "access_customer", "access_customer_for_ticket", "access_handler",
           "access_subscription", "access_ticket", "access_unit", "access_visit", "require_role", "visible"]

#: Who can be handed a ticket: active staff who work on it (auditors only read).
HANDLER_ROLES = STAFF_ROLES - {Role.AUDITOR}


def require_role(actor: Actor, *roles: Role, what: str) -> None:
    """Refuse with 403 unless the actor has one of the roles."""
    if actor.role not in roles:
        raise Forbidden("access.role", f"a {actor.role.value} may not {what}")


T = TypeVar("T")


def visible(found: T | None, actor: Actor, owner_id: Callable[[T], int | None], what: str, ref: object) -> T:
    """The one rule behind every ``access_*``: repositories already scope by brand; a customer also sees only
    what is theirs. Anything else is 'not found', so ids of other people's records reveal nothing."""
    if found is None or (actor.is_customer and owner_id(found) != actor.customer_id):
        raise NotFound(f"{what}.not_found", f"no {what} {ref}")
    return found


def access_ticket(uow: UnitOfWork, actor: Actor, ticket_id: int, *, for_update: bool = False) -> Ticket:
    """Staff see their brand's tickets; a customer sees only their own."""
    return visible(uow.tickets.get(actor.brand_id, ticket_id, for_update=for_update), actor,
                   lambda t: t.customer_id, "ticket", ticket_id)


def access_customer(uow: UnitOfWork, actor: Actor, customer_id: int) -> Customer:
    """Staff see their brand's customers; a customer sees only their own record."""
    return visible(uow.customers.get(actor.brand_id, customer_id), actor, lambda c: c.id, "customer", customer_id)


def access_customer_for_ticket(uow: UnitOfWork, actor: Actor, customer_id: int) -> str:
    """The check of access_customer, in one query, giving the brand's ticket prefix for the new number."""
    prefix = uow.customers.ticket_prefix_if_exists(actor.brand_id, customer_id)
    if prefix is None or (actor.is_customer and customer_id != actor.customer_id):
        raise NotFound("customer.not_found", f"no customer {customer_id}")
    return prefix


def access_unit(uow: UnitOfWork, actor: Actor, unit_id: int) -> Unit:
    """A unit is visible to whoever may see its owner."""
    return visible(uow.units.get(actor.brand_id, unit_id), actor, lambda u: u.customer_id, "unit", unit_id)


def access_handler(uow: UnitOfWork, actor: Actor, user_id: int, code: str, field: str) -> User:
    """A member of the actor's brand's staff who can be handed tickets; anyone else is invalid input."""
    user = uow.users.get(user_id)
    if user is None or user.brand_id != actor.brand_id or not user.active or user.role not in HANDLER_ROLES:
        raise InvalidInput(code, "hand over only to active staff of this brand", field=field)
    return user


def access_subscription(uow: UnitOfWork, actor: Actor, subscription_id: int) -> Subscription:
    """Staff see their brand's subscriptions; a customer sees only their own."""
    return visible(uow.plans.subscription(actor.brand_id, subscription_id), actor, lambda s: s.customer_id,
                   "subscription", subscription_id)


def access_conversation(uow: UnitOfWork, actor: Actor, conversation_id: int) -> Conversation:
    """Staff see their brand's conversations; a customer sees only their own."""
    return visible(uow.contact.conversation(actor.brand_id, conversation_id), actor, lambda c: c.customer_id,
                   "conversation", conversation_id)


def access_visit(uow: UnitOfWork, actor: Actor, visit_id: int, *, for_update: bool = True) -> tuple[Visit, Ticket]:
    """A visit and its request: staff see their brand's, a customer only those of their own requests, a
    technician only their own visits."""
    visit = uow.visits.get(actor.brand_id, visit_id, for_update=for_update)
    if visit is None:
        raise NotFound("visit.not_found", f"no visit {visit_id}")
    ticket = access_ticket(uow, actor, visit.ticket_id, for_update=for_update)
    if actor.role is Role.TECHNICIAN and visit.technician_id != actor.user_id:
        raise NotFound("visit.not_found", f"no visit {visit_id}")
    return visit, ticket
