"""Official channels: registered by a brand, checked by anyone, and found on pages that borrow the brand's name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from fairdesk.domain.channels import ChannelKind, Status, classify, find_numbers, normalize_phone, normalize_website
from fairdesk.domain.errors import Conflict, InvalidInput
from fairdesk.domain.people import Actor, Role
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork

__all__ = ["ChannelCheck", "check_channel", "normalize", "register_channel", "scan_page"]


def normalize(kind: ChannelKind, value: str) -> str:
    if len(value) > 200:
        raise InvalidInput("input.too_long", "a channel is at most 200 characters", field="value")
    if kind is ChannelKind.PHONE:
        return normalize_phone(value)
    if kind is ChannelKind.WEBSITE:
        return normalize_website(value)
    value = value.strip()
    if not value:
        raise InvalidInput("input.empty", "name the account", field="value")
    return value


def register_channel(actor: Actor, kind: ChannelKind, value: str, label: str, uow: UnitOfWork, clock: Clock) -> str:
    """Register an official number, website or account of the actor's brand."""
    require_role(actor, Role.MANAGER, what="register official channels")
    normalized = normalize(kind, value)
    try:
        with uow:
            uow.channels.add(actor.brand_id, kind, normalized, label[:100], clock.now())
            uow.commit()
    except IntegrityError as exc:
        raise Conflict("channel.registered", f"{normalized} is already registered") from exc
    return normalized


@dataclass(frozen=True)
class ChannelCheck:
    value: str
    normalized: str | None
    status: Status
    brand: str | None
    kind: ChannelKind | None


def check_channel(value: str, uow: UnitOfWork) -> ChannelCheck:
    """Is this phone number or web address an official channel, and of which brand? Public."""
    for kind in (ChannelKind.PHONE, ChannelKind.WEBSITE):
        try:
            normalized = normalize(kind, value)
        except InvalidInput:
            continue
        with uow:
            owner = uow.channels.owner(kind, normalized)
        if owner:
            return ChannelCheck(value, normalized, Status.OFFICIAL, owner[1], kind)
        return ChannelCheck(value, normalized, Status.UNKNOWN, None, kind)
    raise InvalidInput("channel.unrecognised", "not a phone number or a web address", field="value")


def scan_page(text: str, uow: UnitOfWork) -> list[dict[str, str | None]]:
    """Every phone number on a page: official (whose), impostor (the page names a brand whose number it is
    not) or unknown."""
    found = find_numbers(text)
    with uow:
        official = uow.channels.phones_of_any_brand([f.normalized for f in found]) if found else {}
        named = [b for b in uow.channels.brand_names() if b and b in text]
    results = []
    for f in found:
        status, brand = classify(f.normalized, official, named)
        results.append({"number": f.number, "normalized": f.normalized, "status": status.value, "brand": brand})
    return results
