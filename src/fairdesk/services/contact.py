"""Conversations with a bot that lets go, a published routing policy, agents, transparency and fairness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fairdesk.domain.contact import (
    CHANNELS,
    Conversation,
    ConversationStatus,
    RoutingPolicy,
    assign,
    change_figures,
    fairness_figures,
    overdue,
    queue_order,
)
from fairdesk.domain.errors import Conflict, InvalidInput, NotFound, StaleState
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.intents import Intent, classify
from fairdesk.domain.people import STAFF_ROLES, Actor, Role
from fairdesk.reference.intent_rules import default_rules
from fairdesk.services import evidence
from fairdesk.services.access import access_conversation, access_customer, access_handler, require_role
from fairdesk.services.clock import Clock
from fairdesk.services.notify import Notifier
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = ["BOT_REPLIES", "assign_waiting", "claim", "colleagues", "conversation_view", "inbox", "open_conversation",
           "post_message", "reply", "talk_to_person", "transfer", "transparency"]

MAX_MESSAGE = 10_000
#: What the bot says per intent; every answer names the way to a person.
BOT_REPLIES = {
    "upgrade": "升级、降级和取消都在“我的服务计划”一步完成，生效规则相同。需要人工请回复“转人工”。",
    "downgrade": "降级在“我的服务计划”一步完成，与升级的生效规则相同。需要人工请回复“转人工”。",
    "cancel": "取消在“我的服务计划”一步完成，未使用部分原路退回。需要人工请回复“转人工”。",
    "refund": "退款可在订阅页面发起，未使用部分原路退回。需要人工请回复“转人工”。",
    "repair": "请描述故障并留下地址，我们为您创建报修单。需要人工请回复“转人工”。",
    "status": "请提供工单号，我们为您查询进度。需要人工请回复“转人工”。",
    "other": "抱歉没能理解，请换个说法，或回复“转人工”。",
}


def policy_of(uow: UnitOfWork, brand_id: int) -> RoutingPolicy:
    raw = uow.contact.policy(brand_id)
    return RoutingPolicy.from_dict(raw) if raw else RoutingPolicy()


def set_policy(actor: Actor, raw: dict[str, Any], uow: UnitOfWork, clock: Clock) -> RoutingPolicy:
    """Change the routing policy; it is validated (nothing may rank by value or direction) and published."""
    require_role(actor, Role.MANAGER, what="change the routing policy")
    policy = RoutingPolicy.from_dict(raw)
    with uow:
        uow.contact.save_policy(actor.brand_id, raw, clock.now())
        evidence.record(uow, actor.brand_id, EvidenceKind.ROUTING_POLICY_CHANGED, f"brand:{actor.brand_id}", None,
                        policy.as_dict() | {"by": actor.describe()}, clock)
        uow.commit()
    return policy


SKILLS = ("general", "plans", "repair", "complaints")


def add_agent(actor: Actor, username: str, languages: list[str], capacity: int, uow: UnitOfWork,
              skills: list[str] | None = None) -> None:
    require_role(actor, Role.MANAGER, what="manage agents")
    skills = skills or ["general"]
    if not 1 <= capacity <= 20 or not languages or set(skills) - set(SKILLS):
        raise InvalidInput("agent.invalid", "an agent speaks at least one language, holds 1-20 conversations and "
                                            f"has skills among {', '.join(SKILLS)}")
    with uow:
        user = uow.users.by_username(username)
        if user is None or user.brand_id != actor.brand_id or user.role not in STAFF_ROLES:
            raise NotFound("user.not_found", f"no staff user {username!r}")
        uow.contact.add_agent(actor.brand_id, user.id, languages, capacity, skills)
        uow.commit()


@dataclass(frozen=True)
class OpenConversation:
    actor: Actor
    channel: str
    language: str = "zh-CN"
    customer_id: int | None = None
    age: int | None = None  # when known; at the policy's age (65) a caller goes straight to a person


def open_conversation(cmd: OpenConversation, uow: UnitOfWork, clock: Clock) -> Conversation:
    if cmd.channel not in CHANNELS:
        raise InvalidInput("conversation.channel", f"channel is one of {', '.join(CHANNELS)}", field="channel")
    if cmd.language not in ("zh-CN", "en"):
        raise InvalidInput("conversation.language", "language is zh-CN or en", field="language")
    customer_id = cmd.actor.customer_id if cmd.actor.is_customer else cmd.customer_id
    with uow:
        if customer_id is not None:
            access_customer(uow, cmd.actor, customer_id)
        policy = policy_of(uow, cmd.actor.brand_id)
        conv = Conversation(brand_id=cmd.actor.brand_id, channel=cmd.channel, language=cmd.language,
                            opened_at=clock.now(), customer_id=customer_id,
                            vulnerable=cmd.age is not None and cmd.age >= policy.vulnerable_age)
        uow.contact.add(conv)
        uow.contact.flush()
        uow.commit()
    return conv


def post_message(actor: Actor, conversation_id: int, text: str, uows: UowFactory, clock: Clock
                 ) -> tuple[Conversation, Intent, str | None]:
    """A customer's message: classified, answered by the bot while it may, handed to a person when it must."""
    if len(text) > MAX_MESSAGE:
        raise InvalidInput("input.too_long", f"a message is at most {MAX_MESSAGE} characters", field="text")
    intent, _confidence = classify(text, default_rules())
    now = clock.now()
    try:
        with uows() as uow:
            conv = access_conversation(uow, actor, conversation_id)
            policy = policy_of(uow, conv.brand_id)
            answered = conv.receive(intent, now, policy)
            uow.contact.add_message(conv.id, "customer", text, intent.value, now)
            reply = BOT_REPLIES.get(answered) if answered else None
            if reply:
                uow.contact.add_message(conv.id, "bot", reply, None, now)
            evidence.record(uow, conv.brand_id, EvidenceKind.CONVERSATION_MESSAGE,
                            f"conversation:{conv.id}", conv.customer_id,
                            {"text": text[:2000], "intent": intent.value, "bot_reply": reply,
                             "status": conv.status.value}, clock)
            uow.commit()
    except StaleState as exc:
        raise Conflict("conversation.concurrent", "the conversation changed meanwhile; retry") from exc
    return _after_assignment(uows, clock, actor, conv), intent, reply


def _after_assignment(uows: UowFactory, clock: Clock, actor: Actor, conv: Conversation) -> Conversation:
    """Hand waiting conversations to agents, then show the customer where theirs stands now."""
    if assign_waiting(uows, clock, conv.brand_id):
        with uows(readonly=True) as uow:
            conv = access_conversation(uow, actor, conv.id)
    return conv


def talk_to_person(actor: Actor, conversation_id: int, uows: UowFactory, clock: Clock) -> Conversation:
    """The always-visible "talk to a person" control."""
    with uows() as uow:
        conv = access_conversation(uow, actor, conversation_id)
        conv.ask_for_human(clock.now())
        evidence.record(uow, conv.brand_id, EvidenceKind.CONVERSATION_HUMAN_REQUESTED, f"conversation:{conv.id}",
                        conv.customer_id, {"channel": conv.channel}, clock)
        uow.commit()
    return _after_assignment(uows, clock, actor, conv)


def assign_waiting(uows: UowFactory, clock: Clock, brand_id: int, public_url: str = "") -> int:
    """Give waiting conversations to free agents by the published policy, and alert the brand's managers (by
    e-mail, once per conversation) of any that has waited for a person's first answer past the published
    limit; returns how many were assigned."""
    now = clock.now()
    try:
        with uows() as uow:
            policy = policy_of(uow, brand_id)
            waiting = uow.contact.waiting(brand_id)
            pairs = assign(waiting, uow.contact.agents(brand_id), now, policy)
            late = overdue(uow.contact.unanswered(brand_id), now, policy)
            notifier = Notifier(uow, clock) if late else None
            for conv in late:
                waited = (now - conv.handed_at).total_seconds()
                evidence.record(uow, brand_id, EvidenceKind.CONVERSATION_OVERDUE,
                                f"conversation:{conv.id}", conv.customer_id,
                                {"waited_s": waited, "threshold_s": policy.alert_after_seconds}, clock)
                notifier.staff(brand_id, "conversation_overdue",  # type: ignore[union-attr]
                               waited_min=round(waited / 60, 1), limit_min=round(policy.alert_after_seconds / 60, 1),
                               link=f"{public_url}/inbox/{conv.id}")
            if notifier is not None:
                notifier.flush()
            for conv, agent in pairs:
                uow.contact.touch_agent(agent.user_id, now)
                evidence.record(uow, brand_id, EvidenceKind.CONVERSATION_ASSIGNED,
                                f"conversation:{conv.id}", conv.customer_id,
                                {"agent": agent.user_id, "waited_s": (now - conv.handed_at).total_seconds()}, clock)
            uow.commit()
    except StaleState:
        return 0  # another process assigned them first
    return len(pairs)


def link_conversation(actor: Actor, conversation_id: int, uow: UnitOfWork, *, ticket_id: int | None = None,
                      subscription_id: int | None = None) -> Conversation:
    """Attach the ticket or subscription a conversation is about (both must be the same customer's)."""
    from fairdesk.services.access import access_ticket
    from fairdesk.services.plans import access_subscription

    if actor.read_only:
        raise NotFound("not_found", "no such operation for this role")
    with uow:
        conv = access_conversation(uow, actor, conversation_id)
        for found in ([access_ticket(uow, actor, ticket_id)] if ticket_id else []) + \
                     ([access_subscription(uow, actor, subscription_id)] if subscription_id else []):
            if conv.customer_id is None:
                conv.customer_id = found.customer_id
            elif found.customer_id != conv.customer_id:
                raise InvalidInput("conversation.other_customer", "that belongs to another customer")
        conv.ticket_id = ticket_id or conv.ticket_id
        conv.subscription_id = subscription_id or conv.subscription_id
        conv.version += 1
        uow.commit()
    return conv


def queue(actor: Actor, uow: UnitOfWork, clock: Clock) -> list[dict[str, Any]]:
    """The waiting conversations in the order they will be served, with how long each has waited."""
    if not actor.is_staff:
        raise NotFound("not_found", "no such view")
    now = clock.now()
    with uow:
        policy = policy_of(uow, actor.brand_id)
        return [{"id": c.id, "channel": c.channel, "intent": c.intent, "skill": c.skill, "vulnerable": c.vulnerable,
                 "waited_s": round((now - c.handed_at).total_seconds()),
                 "overdue": (now - c.handed_at).total_seconds() > policy.alert_after_seconds}
                for c in queue_order(uow.contact.waiting(actor.brand_id))]


def close_conversation(actor: Actor, conversation_id: int, uow: UnitOfWork, clock: Clock) -> Conversation:
    if not actor.is_customer:
        require_role(actor, Role.AGENT, Role.MANAGER, Role.DISPATCHER, what="close conversations")
    with uow:
        conv = access_conversation(uow, actor, conversation_id)
        conv.close(clock.now())
        uow.commit()
    return conv


def fairness_report(uows: UowFactory, actor: Actor, start: datetime, end: datetime,
                    now: datetime | None = None) -> dict[str, Any]:
    if actor.is_customer:
        raise NotFound("not_found", "no such report")
    if not start < end or end - start > timedelta(days=366):
        raise InvalidInput("fairness.period", "the period must end after it starts and span at most a year")
    with uows(readonly=True) as uow:
        convs = uow.contact.opened_between(actor.brand_id, start, end)
        changes = uow.contact.change_steps(actor.brand_id, start, end)
    # A conversation still waiting counts the wait so far: up to now, within the period's end.
    figures = fairness_figures(convs, min(end, now) if now else end)
    plan_changes = change_figures(changes, convs)
    figures["flag"] = figures["flag"] or bool(plan_changes["more_steps_than_upgrade"])
    return {"from": start.isoformat(), "to": end.isoformat(), "conversations": len(convs)} | figures | {
        "plan_changes": plan_changes}


def queue_job(uows: UowFactory, clock: Clock, public_url: str) -> str:
    """The worker's minute: every brand's waiting conversations assigned, and late ones alerted."""
    with uows(readonly=True) as uow:
        brands = [b.id for b in uow.brands.all()]
    return f"assigned {sum(assign_waiting(uows, clock, b, public_url) for b in brands)}"


def transparency(uows: UowFactory, clock: Clock, brand_code: str) -> dict[str, Any]:
    """Public: the live routing policy, steps to a person per channel, the plan-change rules, live figures."""
    now = clock.now()
    with uows(readonly=True) as uow:
        brand = uow.brands.by_code(brand_code)
        if brand is None:
            raise NotFound("brand.not_found", f"no brand {brand_code!r}")
        policy = policy_of(uow, brand.id)
        families = uow.plans.catalogue(brand.id).families.values()
        today = uow.contact.opened_between(brand.id, now - timedelta(days=1), now)
        waiting = len(uow.contact.waiting(brand.id))
    figures = fairness_figures(today, now)
    return {"brand": {"code": brand.code, "name": brand.name}, "routing_policy": policy.as_dict(),
            "steps_to_a_person": {ch: n + 1 for ch, n in policy.max_bot_steps.items()},
            "plan_change_rules": [{"family": f.name, "policy": f.policy.value,
                                   "applies_to": ["upgrade", "downgrade", "cancel"]} for f in families],
            "live": {"waiting_now": waiting, "last_24h": figures}}


# --- the agents' inbox: a person really answers -------------------------------------------------------------

#: Who answers conversations from the inbox.
INBOX_ROLES = (Role.AGENT, Role.MANAGER)
MAX_REPLY = 2000


def _require_inbox(actor: Actor) -> None:
    require_role(actor, *INBOX_ROLES, what="answer conversations")


def _local(at: datetime | None, clock: Clock) -> str | None:
    return at.astimezone(clock.tz).isoformat(timespec="seconds") if at else None


def _row(c: Conversation, now: datetime, clock: Clock, position: int | None = None) -> dict[str, Any]:
    wait = c.wait_for_person(now)
    return {"id": c.id, "channel": c.channel, "intent": c.intent, "skill": c.skill, "vulnerable": c.vulnerable,
            "status": c.status.value, "customer_id": c.customer_id, "agent_id": c.agent_id, "position": position,
            "handed_at": _local(c.handed_at, clock), "first_reply_at": _local(c.first_reply_at, clock),
            "waited_s": round(wait[0]) if wait else None, "answered": bool(wait and wait[1])}


def inbox(uows: UowFactory, actor: Actor, clock: Clock) -> dict[str, Any]:
    """The waiting conversations in the published order (vulnerable callers first, then by waiting time), and
    the conversations this agent holds."""
    _require_inbox(actor)
    now = clock.now()
    with uows(readonly=True) as uow:
        policy = policy_of(uow, actor.brand_id)
        waiting = queue_order(uow.contact.waiting(actor.brand_id))
        mine = uow.contact.held_by(actor.brand_id, actor.user_id)
        names = uow.contact.customer_names(actor.brand_id, [c.customer_id for c in [*waiting, *mine]
                                                            if c.customer_id])
    rows = [_row(c, now, clock, i + 1) | {"overdue": (now - c.handed_at).total_seconds() > policy.alert_after_seconds}
            for i, c in enumerate(waiting)]
    return {"waiting": rows, "mine": [_row(c, now, clock) for c in mine], "names": names,
            "alert_after_s": policy.alert_after_seconds}


def conversation_view(uows: UowFactory, actor: Actor, conversation_id: int, clock: Clock) -> dict[str, Any]:
    """A conversation with its messages, for its customer or the brand's staff; a customer waiting for a person
    also sees their place in the queue and how long a person took lately (the published figure)."""
    now = clock.now()
    with uows(readonly=True) as uow:
        conv = access_conversation(uow, actor, conversation_id)
        messages = uow.contact.messages(conv.id)
        agents = uow.users.display_names([m.agent_id for m in messages if m.agent_id] + (
            [conv.agent_id] if conv.agent_id else []))
        position = None
        if conv.status is ConversationStatus.WAITING:
            order = [c.id for c in queue_order(uow.contact.waiting(conv.brand_id))]
            position = order.index(conv.id) + 1 if conv.id in order else None
        recent = uow.contact.opened_between(conv.brand_id, now - timedelta(days=1), now)
        customer_name = None if actor.is_customer or conv.customer_id is None else \
            uow.contact.customer_names(conv.brand_id, [conv.customer_id]).get(conv.customer_id)
    figures = fairness_figures(recent, now)["time_to_human_by_intent"]
    waits = [f["median_s"] for f in figures.values() if f["median_s"] is not None]
    return {**_row(conv, now, clock, position), "agent": agents.get(conv.agent_id) if conv.agent_id else None,
            "customer_name": customer_name,
            "typical_wait_s": round(sorted(waits)[len(waits) // 2]) if waits else None,
            "messages": [{"id": m.id, "sender": m.sender, "text": m.text, "at": _local(m.at, clock),
                          "agent": agents.get(m.agent_id) if m.agent_id else None} for m in messages]}


def claim(actor: Actor, conversation_id: int, uows: UowFactory, clock: Clock) -> Conversation:
    """Take a waiting conversation from the queue (the wait goes on until the first answer)."""
    _require_inbox(actor)
    try:
        with uows() as uow:
            conv = access_conversation(uow, actor, conversation_id)
            conv.take(actor.user_id, clock.now())  # type: ignore[arg-type]
            evidence.record(uow, conv.brand_id, EvidenceKind.CONVERSATION_CLAIMED,
                            f"conversation:{conv.id}", conv.customer_id,
                            {"agent": actor.user_id}, clock)
            uow.commit()
    except StaleState as exc:
        raise Conflict("conversation.concurrent", "someone else took it just now") from exc
    return conv


def reply(actor: Actor, conversation_id: int, text: str, uows: UowFactory, clock: Clock) -> Conversation:
    """A person answers; the first answer ends the wait for a person (and takes a waiting conversation)."""
    _require_inbox(actor)
    text = text.strip()
    if not text:
        raise InvalidInput("input.empty", "write an answer", field="text")
    if len(text) > MAX_REPLY:
        raise InvalidInput("input.too_long", f"an answer is at most {MAX_REPLY} characters", field="text")
    now = clock.now()
    try:
        with uows() as uow:
            conv = access_conversation(uow, actor, conversation_id)
            first = conv.first_reply_at is None
            conv.reply(actor.user_id, now)  # type: ignore[arg-type]
            uow.contact.add_message(conv.id, "agent", text, None, now, agent_id=actor.user_id)
            payload: dict[str, Any] = {"text": text[:2000], "agent": actor.user_id}
            if first and conv.handed_at is not None:
                payload["waited_for_person_s"] = (now - conv.handed_at).total_seconds()
            evidence.record(uow, conv.brand_id, EvidenceKind.CONVERSATION_ANSWERED,
                            f"conversation:{conv.id}", conv.customer_id,
                            payload, clock)
            uow.commit()
    except StaleState as exc:
        raise Conflict("conversation.concurrent", "the conversation changed meanwhile; retry") from exc
    return conv


def transfer(actor: Actor, conversation_id: int, to_user_id: int, note: str, uows: UowFactory,
             clock: Clock) -> Conversation:
    """Hand a conversation one holds to a colleague, with a note for them (the customer is told who answers)."""
    _require_inbox(actor)
    note = note.strip()[:500]
    now = clock.now()
    try:
        with uows() as uow:
            conv = access_conversation(uow, actor, conversation_id)
            colleague = access_handler(uow, actor, to_user_id, "conversation.transfer_to", "to_user_id")
            conv.transfer(actor.user_id, colleague.id, now)  # type: ignore[arg-type]
            uow.contact.add_message(conv.id, "transfer", note, None, now, agent_id=colleague.id)
            evidence.record(uow, conv.brand_id, EvidenceKind.CONVERSATION_TRANSFERRED, f"conversation:{conv.id}",
                            conv.customer_id, {"from": actor.user_id, "to": colleague.id, "note": note}, clock)
            uow.commit()
    except StaleState as exc:
        raise Conflict("conversation.concurrent", "the conversation changed meanwhile; retry") from exc
    return conv


def colleagues(uows: UowFactory, actor: Actor) -> list[tuple[int, str]]:
    """Who a conversation can be transferred to: the brand's other agents and managers."""
    _require_inbox(actor)
    with uows(readonly=True) as uow:
        return [(u.id, u.display_name) for u in uow.users.for_brand(actor.brand_id)
                if u.role in INBOX_ROLES and u.active and u.id != actor.user_id]
