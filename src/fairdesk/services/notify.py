"""Notifications: render a message from its zh-CN/en template and put it in the outbox, in the transaction of
whatever caused it. The worker delivers it (services/worker.py); nothing here talks to the network.

Every message gets an event id (a UUID) that travels with it to the receiver, so a message delivered twice
(the worker died between sending and recording) can be recognised and dropped there.
"""

from __future__ import annotations

import json
import tomllib
import uuid
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2

from fairdesk.domain.people import Role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork

__all__ = ["KINDS", "Message", "Notifier", "render"]

LANGUAGES = ("zh-CN", "en")
# Plain-text e-mail and SMS bodies, never HTML: escaping would put &amp; into a customer's SMS.
_env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)  # noqa: S701

#: Events a webhook may subscribe to.
KINDS = ("ticket.created", "ticket.moved", "ticket.escalated", "sla.warning", "sla.breached", "survey.answered",
         "survey.low_score", "visit.booked", "visit.moved", "visit.cancelled", "visit.checked_in", "visit.completed",
         "visit.no_show", "complaint.filed", "complaint.accept", "complaint.reject", "complaint.respond",
         "complaint.propose", "complaint.confirm", "complaint.decline", "complaint.end_mediation", "complaint.close",
         "complaint.comment", "complaint.overdue")

CLOCK_LABELS = {"zh-CN": {"first_response": "首次响应时限", "onsite": "上门时限", "resolution": "解决时限"},
                "en": {"first_response": "first response", "onsite": "on-site arrival", "resolution": "resolution"}}


@cache
def _templates() -> dict[str, dict[str, dict[str, str]]]:
    return tomllib.loads(files("fairdesk.data").joinpath("messages.toml").read_text("utf-8"))


def render(kind: str, language: str, **context: Any) -> tuple[str, str]:
    """(subject, body) of message ``kind`` in ``language`` (zh-CN when the language has no template)."""
    table = _templates()[kind]
    lang = language if language in table else "zh-CN"
    if "clock" in context:
        context["clock_label"] = CLOCK_LABELS[lang].get(context["clock"], context["clock"])
    subject, body = _compiled(kind, lang)
    return subject.render(**context).strip(), body.render(**context).strip()


@cache
def _compiled(kind: str, lang: str) -> tuple[jinja2.Template, jinja2.Template]:
    tpl = _templates()[kind][lang]
    return _env.from_string(tpl["subject"]), _env.from_string(tpl["body"])


class Message(dict[str, Any]):
    """An outbox row about to be written."""


def _row(brand_id: int, kind: str, transport: str, recipient: str, subject: str, body: str, now: datetime,
         webhook_id: int | None = None) -> Message:
    return Message(brand_id=brand_id, event_id=str(uuid.uuid4()), kind=kind, transport=transport,
                   recipient=recipient, subject=subject, body=body, webhook_id=webhook_id, status="pending",
                   attempts=0, next_attempt_at=now, created_at=now)


class Notifier:
    """Collects a transaction's messages and writes them in one insert; looks each brand's staff and webhooks
    up once (the SLA sweep sends many messages per batch)."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow, self.clock = uow, clock
        self.rows: list[Message] = []
        self._brands: dict[int, Any] = {}
        self._staff: dict[int, Any] = {}
        self._hooks: dict[int, Any] = {}

    def _brand(self, brand_id: int) -> Any:
        if brand_id not in self._brands:
            self._brands[brand_id] = self.uow.brands.get(brand_id)
        return self._brands[brand_id]

    def customer(self, brand_id: int, customer_id: int, kind: str, *, prefer_email: bool = False,
                 **context: Any) -> Message | None:
        """One message to a customer, on their channel: e-mail when they gave one and the request came in
        online, otherwise an SMS to their first phone number."""
        customer = self.uow.customers.get(brand_id, customer_id)
        if customer is None:
            return None
        subject, body = render(kind, customer.language, brand=self._brand(brand_id).name, **context)
        now = self.clock.now()
        if prefer_email and customer.email:
            msg = _row(brand_id, kind, "email", customer.email, subject, body, now)
        elif customer.phones:
            msg = _row(brand_id, kind, "sms", customer.phones[0].e164, subject, body, now)
        else:
            return None
        self.rows.append(msg)
        return msg

    def staff(self, brand_id: int, kind: str, *, role: Role = Role.MANAGER, user_ids: tuple[int, ...] = (),
              **context: Any) -> list[Message]:
        """E-mails to the brand's staff of ``role`` (or to the users named), each in their own language."""
        if brand_id not in self._staff:
            self._staff[brand_id] = [u for u in self.uow.users.for_brand(brand_id) if u.active and u.email]
        now = self.clock.now()
        out = []
        for user in self._staff[brand_id]:
            if (user.id in user_ids) if user_ids else (user.role is role):
                subject, body = render(kind, user.language, brand=self._brand(brand_id).name, **context)
                out.append(_row(brand_id, kind, "email", user.email, subject, body, now))
        self.rows.extend(out)
        return out

    def webhook(self, brand_id: int, kind: str, data: dict[str, Any]) -> list[Message]:
        """One delivery per active webhook of the brand that subscribed to ``kind``."""
        if brand_id not in self._hooks:
            self._hooks[brand_id] = self.uow.webhooks.for_brand(brand_id, active_only=True)
        now = self.clock.now()
        out = []
        for hook in self._hooks[brand_id]:
            wanted = hook.events.split(",")
            if "*" in wanted or kind in wanted:
                msg = _row(brand_id, kind, "webhook", hook.url, kind, "", now, webhook_id=hook.id)
                msg["body"] = json.dumps({"id": msg["event_id"], "type": kind, "created_at": now.isoformat(),
                                          "data": data}, ensure_ascii=False, sort_keys=True, default=str)
                out.append(msg)
        self.rows.extend(out)
        return out

    def flush(self) -> None:
        self.uow.outbox.add(self.rows)
        self.rows = []
