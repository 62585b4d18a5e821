"""Conversations, the bot that always lets go, and the published routing of customers to human agents.

The routing policy is data and is published as it is: the maximum number of bot steps before a human, per
channel; vulnerable callers (65+) straight to a human; the queue ordered by waiting time only — never by the
customer's value or by what they ask for, so a downgrade waits no longer than an upgrade; least-loaded agent
who speaks the customer's language. Once a human has a conversation the bot stays silent.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from fairdesk.domain.errors import Conflict, InvalidInput
from fairdesk.domain.intents import Intent

__all__ = [
    "Agent",
    "Conversation",
    "ConversationStatus",
    "RoutingPolicy",
    "assign",
    "change_figures",
    "fairness_figures",
    "overdue",
    "queue_order",
]

CHANNELS = ("web", "chat", "api", "hotline")
#: Words a routing policy may never rank by.
FORBIDDEN_KEYS = ("customer_value", "revenue", "spend", "plan_price", "direction", "intent_priority", "vip")


class ConversationStatus(StrEnum):
    BOT = "bot"
    WAITING = "waiting"  # handed to humans, in the queue
    WITH_HUMAN = "with_human"
    CLOSED = "closed"


@dataclass(frozen=True)
class RoutingPolicy:
    """How requests reach people; published verbatim on the brand's transparency page."""

    max_bot_steps: Mapping[str, int] = field(default_factory=lambda: {"web": 2, "chat": 2, "api": 2, "hotline": 1})
    vulnerable_age: int = 65
    assignment: str = "least_load"
    alert_after_seconds: int = 180

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RoutingPolicy:
        bad = [k for k in raw if k in FORBIDDEN_KEYS]
        if bad:
            raise InvalidInput("routing.forbidden_key", f"routing may never rank by {', '.join(bad)}")
        unknown = set(raw) - {"max_bot_steps", "vulnerable_age", "assignment", "alert_after_seconds"}
        if unknown:
            raise InvalidInput("routing.unknown_key", f"unknown policy keys: {', '.join(sorted(unknown))}")
        steps = {**cls().max_bot_steps, **raw.get("max_bot_steps", {})}
        if set(steps) - set(CHANNELS) or any(not isinstance(v, int) or not 0 <= v <= 3 for v in steps.values()):
            raise InvalidInput("routing.steps", "max_bot_steps: 0-3 per channel (web, chat, api, hotline)")
        if raw.get("assignment", "least_load") not in ("least_load", "round_robin"):
            raise InvalidInput("routing.assignment", "assignment is least_load or round_robin")
        return cls(steps, int(raw.get("vulnerable_age", 65)), raw.get("assignment", "least_load"),
                   int(raw.get("alert_after_seconds", 180)))

    def as_dict(self) -> dict[str, Any]:
        return {"max_bot_steps": dict(self.max_bot_steps), "vulnerable_age": self.vulnerable_age,
                "assignment": self.assignment, "alert_after_seconds": self.alert_after_seconds,
                "queue_order": "waiting time only; vulnerable callers first",
                "never_ranked_by": list(FORBIDDEN_KEYS)}


@dataclass(eq=False)
class Conversation:
    """A customer's conversation in one channel, from the first message to the human who closes it."""

    brand_id: int
    channel: str
    language: str
    opened_at: datetime
    customer_id: int | None = None
    vulnerable: bool = False
    status: ConversationStatus = ConversationStatus.BOT
    intent: str = Intent.OTHER.value  # the first recognised intent: what the customer came for
    bot_steps: int = 0
    unserved: int = 0
    handed_at: datetime | None = None
    assigned_at: datetime | None = None
    agent_id: int | None = None
    closed_at: datetime | None = None
    ticket_id: int | None = None
    subscription_id: int | None = None
    alerted_at: datetime | None = None
    version: int = 1
    id: int | None = None
    #: When a person first answered in writing (or, on a call, picked up): where the wait for a person ends.
    first_reply_at: datetime | None = None

    @property
    def skill(self) -> str:
        """The skill a person needs for what the customer came for."""
        return SKILL_OF.get(self.intent, "general")

    def receive(self, intent: Intent, at: datetime, policy: RoutingPolicy) -> str | None:
        """Take a customer message; returns what the bot answers, or None when a person has (or gets) it."""
        if self.status is ConversationStatus.CLOSED:
            raise Conflict("conversation.closed", "this conversation is closed; start a new one")
        if self.intent == Intent.OTHER.value and intent is not Intent.OTHER:
            self.intent = intent.value
        self.version += 1
        if self.status is not ConversationStatus.BOT:
            return None  # a human has it, or is about to: the bot stays silent
        if intent in (Intent.HUMAN, Intent.COMPLAINT) or self.vulnerable:
            return self._hand_over(at)  # asked for a person, complaining, or 65+: a person, at once
        if intent is Intent.OTHER:
            self.unserved += 1
            if self.unserved >= 2:  # a second message the bot cannot serve goes to a person
                return self._hand_over(at)
        self.bot_steps += 1
        if self.bot_steps > policy.max_bot_steps.get(self.channel, 1):
            return self._hand_over(at)
        return intent.value

    def _hand_over(self, at: datetime) -> None:
        self.status = ConversationStatus.WAITING
        self.handed_at = at
        return None

    def ask_for_human(self, at: datetime) -> None:
        """The always-visible "talk to a person" control: one action, whatever the bot was doing."""
        if self.status is ConversationStatus.BOT:
            self._hand_over(at)
            self.version += 1

    def take(self, agent_id: int, at: datetime) -> None:
        if self.status is not ConversationStatus.WAITING:
            raise Conflict("conversation.not_waiting", "this conversation is not waiting for a person")
        self.status, self.agent_id, self.assigned_at = ConversationStatus.WITH_HUMAN, agent_id, at
        self.version += 1

    def reply(self, agent_id: int, at: datetime) -> None:
        """A person answers: the one who holds the conversation, or whoever takes it from the queue by answering.
        The first answer ends the wait for a person."""
        if self.status is ConversationStatus.CLOSED:
            raise Conflict("conversation.closed", "this conversation is closed")
        if self.status in (ConversationStatus.BOT, ConversationStatus.WAITING):
            if self.status is ConversationStatus.BOT:
                self.handed_at = self.handed_at or at
            self.status, self.agent_id, self.assigned_at = ConversationStatus.WITH_HUMAN, agent_id, at
        elif self.agent_id != agent_id:
            raise Conflict("conversation.taken", "another agent holds this conversation; ask them to transfer it")
        self.first_reply_at = self.first_reply_at or at
        self.version += 1

    def transfer(self, from_agent: int, to_agent: int, at: datetime) -> None:
        """Hand a conversation one holds to a colleague (the wait already ended or goes on: nothing is reset)."""
        if self.status is not ConversationStatus.WITH_HUMAN or self.agent_id != from_agent:
            raise Conflict("conversation.not_yours", "only the agent who holds a conversation transfers it")
        if to_agent == from_agent:
            raise InvalidInput("conversation.transfer_self", "choose a colleague", field="to_user_id")
        self.agent_id, self.assigned_at = to_agent, at
        self.version += 1

    def close(self, at: datetime) -> None:
        self.status, self.closed_at = ConversationStatus.CLOSED, at
        self.version += 1

    def wait_for_person(self, now: datetime) -> tuple[float, bool] | None:
        """Seconds from the request for a person to the first human answer, and whether it came; one nobody
        answered is still waiting (its wait runs to ``now``, or to its closing) — never zero. None: no person
        was asked for."""
        if self.handed_at is None:
            return None
        if self.first_reply_at is not None:
            return (self.first_reply_at - self.handed_at).total_seconds(), True
        return ((self.closed_at or now) - self.handed_at).total_seconds(), False


#: Which skill each request needs; an agent with "general" takes anything.
SKILL_OF = {"upgrade": "plans", "downgrade": "plans", "cancel": "plans", "refund": "plans", "repair": "repair",
            "status": "repair", "complaint": "complaints"}


@dataclass
class Agent:
    """A person who answers: the languages they speak, their skills, how many conversations they hold at once."""

    brand_id: int
    user_id: int
    languages: tuple[str, ...] = ("zh-CN",)
    capacity: int = 3
    skills: tuple[str, ...] = ("general",)
    active: bool = True
    load: int = 0
    last_assigned_at: datetime | None = None
    id: int | None = None


def queue_order(waiting: Iterable[Conversation]) -> list[Conversation]:
    """Vulnerable callers first, then by how long they have waited; nothing else is looked at."""
    return sorted(waiting, key=lambda c: (not c.vulnerable, c.handed_at, c.id or 0))


def assign(waiting: Iterable[Conversation], agents: Sequence[Agent], at: datetime,
           policy: RoutingPolicy) -> list[tuple[Conversation, Agent]]:
    """Give waiting conversations to free agents who speak their language: the longest-waiting first; to the
    least-loaded agent (round robin: the one assigned longest ago)."""
    pairs = []
    for conv in queue_order(waiting):
        free = [a for a in agents if a.active and a.load < a.capacity and conv.language in a.languages
                and (conv.skill in a.skills or "general" in a.skills)]
        if not free:
            continue
        oldest = datetime.min.replace(tzinfo=at.tzinfo)
        if policy.assignment == "round_robin":
            agent = min(free, key=lambda a: (a.last_assigned_at or oldest, a.user_id))
        else:
            agent = min(free, key=lambda a: (a.load, a.last_assigned_at or oldest, a.user_id))
        conv.take(agent.user_id, at)
        agent.load += 1
        agent.last_assigned_at = at
        pairs.append((conv, agent))
    return pairs


MIN_SAMPLE = 20


def overdue(waiting: Iterable[Conversation], at: datetime, policy: RoutingPolicy) -> list[Conversation]:
    """Conversations waiting for a person's first answer longer than the published threshold (assigned or not:
    the wait ends at the answer) that have not raised their alert yet."""
    found = []
    for c in waiting:
        if c.handed_at and c.alerted_at is None and c.first_reply_at is None \
                and c.status is not ConversationStatus.CLOSED \
                and (at - c.handed_at).total_seconds() > policy.alert_after_seconds:
            c.alerted_at = at
            c.version += 1
            found.append(c)
    return found


def change_figures(changes: Iterable[tuple[str, str, int, int, datetime]],
                   conversations: Iterable[Conversation]) -> dict[str, Any]:
    """Steps to complete an upgrade, a downgrade and a cancel per channel (median), and the share of downgrade
    and cancel conversations whose change was done within that first contact (the conversation's own window)."""
    changes = list(changes)
    steps: dict[str, dict[str, list[int]]] = {}
    for kind, channel, n, _sub, _at in changes:
        steps.setdefault(channel, {}).setdefault(kind, []).append(n)
    by_channel = {ch: {k: statistics.median(v) for k, v in kinds.items()} for ch, kinds in sorted(steps.items())}
    more_steps = [f"{ch}:{k}" for ch, kinds in by_channel.items() for k in ("downgrade", "cancel")
                  if k in kinds and "upgrade" in kinds and kinds[k] > kinds["upgrade"]]
    first_contact: dict[str, dict[str, Any]] = {}
    for intent in ("downgrade", "cancel"):
        asked = [c for c in conversations if c.intent == intent and c.subscription_id is not None]
        done = [c for c in asked if any(
            sub == c.subscription_id and kind == intent and c.opened_at <= at <= (c.closed_at or at)
            for kind, _ch, _n, sub, at in changes)]
        first_contact[intent] = {"conversations": len(asked), "completed": len(done),
                                 "share": round(len(done) / len(asked), 3) if asked else None}
    return {"steps_by_channel": by_channel, "more_steps_than_upgrade": more_steps,
            "completed_at_first_contact": first_contact}


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]


def fairness_figures(conversations: Iterable[Conversation], now: datetime) -> dict[str, Any]:
    """Time to a person by intent (median, p90, seconds): from asking for a person to the first human answer;
    a conversation nobody answered counts with the time it has waited so far (to ``now``, or to when it was
    closed unanswered), never as zero. How many reached a person, how many did not; and the flag: do
    downgrades or cancellations wait longer than upgrades?"""
    waits: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    reached: dict[str, int] = {}
    for c in conversations:
        counts[c.intent] = counts.get(c.intent, 0) + 1
        found = c.wait_for_person(now)
        if found is not None:
            waits.setdefault(c.intent, []).append(found[0])
            reached[c.intent] = reached.get(c.intent, 0) + found[1]
    by_intent = {i: {"conversations": counts[i], "asked_for_person": len(waits.get(i, [])),
                     "reached_human": reached.get(i, 0),
                     "still_waiting": len(waits.get(i, [])) - reached.get(i, 0),
                     "median_s": round(statistics.median(waits[i]), 1) if waits.get(i) else None,
                     "p90_s": round(_p90(waits[i]), 1) if waits.get(i) else None} for i in sorted(counts)}
    # A request waits "longer" when its median wait exceeds the upgrades' by 20 % and 30 s, both with at least
    # 20 conversations: a first-come queue shows smaller differences by chance alone.
    up = by_intent.get("upgrade", {})
    slower = [i for i in ("downgrade", "cancel", "refund")
              if min(up.get("asked_for_person", 0), by_intent.get(i, {}).get("asked_for_person", 0)) >= MIN_SAMPLE
              and by_intent[i]["median_s"] > max(up["median_s"] * 1.2, up["median_s"] + 30)]
    return {"time_to_human_by_intent": by_intent, "slower_than_upgrade": slower, "flag": bool(slower)}
