"""Official channels: registered by a brand, checked by anyone, and found on pages that borrow the brand's name."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any

import phonenumbers

from fairdesk.domain.channels import ChannelKind, Status, classify, find_numbers, normalize_phone, normalize_website
from fairdesk.domain.errors import Conflict, Duplicate, InvalidInput
from fairdesk.domain.people import Actor, Role
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = ["ChannelCheck", "check_channel", "display_phone", "normalize", "official_hotline", "register_channel",
           "scan_page"]

HOTLINE_TTL_S = 60.0
_hotlines: weakref.WeakKeyDictionary[Any, dict[int, tuple[float, str | None]]] = weakref.WeakKeyDictionary()


def display_phone(value: str) -> str:
    """A number as people in China write it: 400-888-6666, 138 0013 8000, 010 1234 5678."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return value
    national = str(number.national_number)
    if number.country_code == 86 and len(national) == 10 and national[:3] in ("400", "800"):
        return f"{national[:3]}-{national[3:6]}-{national[6:]}"
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def official_hotline(uows: UowFactory, brand_id: int) -> str | None:
    """The brand's first registered official phone number, for every consumer page (kept a minute per process:
    registering a number is rare, and every page of a customer shows it)."""
    cache = _hotlines.setdefault(uows, {})
    hit = cache.get(brand_id)
    if hit is not None and time.monotonic() - hit[0] < HOTLINE_TTL_S:
        return hit[1]
    with uows(readonly=True) as uow:
        phone = next((r.value for r in uow.channels.of_brand(brand_id) if r.kind == ChannelKind.PHONE.value), None)
    shown = display_phone(phone) if phone else None
    cache[brand_id] = (time.monotonic(), shown)
    return shown


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
    except Duplicate as exc:
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
