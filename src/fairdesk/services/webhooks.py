"""Webhook endpoints a brand registers, and the delivery log of everything the outbox sent."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from typing import Any
from urllib.parse import urlsplit

from fairdesk.domain.errors import InvalidInput, NotFound
from fairdesk.domain.people import Actor, Role
from fairdesk.logs import mask_text
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.notify import KINDS
from fairdesk.services.ports import UnitOfWork

__all__ = ["add_webhook", "deliveries", "list_webhooks", "outbox_page", "set_active"]


def _check_url(url: str, allow_private: bool) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise InvalidInput("webhook.invalid_url", "a webhook URL is http(s)://host/path, at most 500 characters",
                           field="url")
    if not allow_private:
        if parts.scheme != "https":
            raise InvalidInput("webhook.invalid_url", "webhooks go over https", field="url")
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
        except OSError:
            raise InvalidInput("webhook.invalid_url", f"{parts.hostname} does not resolve", field="url") from None
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
                raise InvalidInput("webhook.invalid_url", f"{parts.hostname} is a private address", field="url")
    return url.strip()


def add_webhook(uow: UnitOfWork, actor: Actor, url: str, events: list[str], clock: Clock, *,
                allow_private: bool = False) -> dict[str, Any]:
    """Register an endpoint; the signing secret is generated here and shown once."""
    require_role(actor, Role.MANAGER, what="manage webhooks")
    url = _check_url(url, allow_private)
    wanted = sorted(set(events)) or ["*"]
    unknown = [e for e in wanted if e != "*" and e not in KINDS]
    if unknown:
        raise InvalidInput("webhook.invalid_events", f"unknown events {unknown}; known: {', '.join(KINDS)}",
                           field="events")
    secret = "whsec_" + secrets.token_urlsafe(24)
    with uow:
        hook_id = uow.webhooks.add(actor.brand_id, url, secret, ",".join(wanted), clock.now())
        uow.commit()
    return {"id": hook_id, "url": url, "events": wanted, "secret": secret, "active": True}


def list_webhooks(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    require_role(actor, Role.MANAGER, Role.AUDITOR, what="read webhooks")
    with uow:
        return [{"id": h.id, "url": h.url, "events": h.events.split(","), "active": h.active,
                 "created_at": h.created_at} for h in uow.webhooks.for_brand(actor.brand_id)]


def set_active(uow: UnitOfWork, actor: Actor, webhook_id: int, active: bool) -> None:
    require_role(actor, Role.MANAGER, what="manage webhooks")
    with uow:
        if uow.webhooks.get(actor.brand_id, webhook_id) is None:
            raise NotFound("webhook.not_found", f"no webhook {webhook_id}")
        uow.webhooks.set_active(webhook_id, active)
        uow.commit()


def outbox_page(uow: UnitOfWork, actor: Actor, *, status: str | None = None, webhook_id: int | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
    """Messages, newest first, each with its delivery attempts (the webhook delivery log)."""
    require_role(actor, Role.MANAGER, Role.AUDITOR, what="read the delivery log")
    if status not in (None, "pending", "sent", "dead"):
        raise InvalidInput("input.invalid", "status is pending, sent or dead", field="status")
    with uow:
        if webhook_id is not None and uow.webhooks.get(actor.brand_id, webhook_id) is None:
            raise NotFound("webhook.not_found", f"no webhook {webhook_id}")
        rows = uow.outbox.page(actor.brand_id, status=status, webhook_id=webhook_id, limit=limit)
        attempts: dict[int, list[dict[str, Any]]] = {}
        for d in uow.outbox.deliveries([r.id for r in rows]) if rows else ():
            attempts.setdefault(d.outbox_id, []).append(
                {"attempt": d.attempt, "at": d.at, "ok": d.ok, "status_code": d.status_code, "detail": d.detail,
                 "duration_ms": d.duration_ms})
    return [{"id": r.id, "event_id": r.event_id, "kind": r.kind, "transport": r.transport,
             "recipient": _mask(r.transport, r.recipient), "status": r.status, "attempts": r.attempts,
             "next_attempt_at": r.next_attempt_at, "sent_at": r.sent_at, "last_error": r.last_error,
             "deliveries": attempts.get(r.id, [])} for r in rows]


def deliveries(uow: UnitOfWork, actor: Actor, webhook_id: int, limit: int = 100) -> list[dict[str, Any]]:
    return outbox_page(uow, actor, webhook_id=webhook_id, limit=limit)


def _mask(transport: str, recipient: str) -> str:
    """Phone numbers and addresses are personal data: the log shows enough to recognise them, no more."""
    if transport == "sms":
        return mask_text(recipient)
    if transport == "email":
        name, _, domain = recipient.partition("@")
        return f"{name[:1]}***@{domain}"
    return recipient
