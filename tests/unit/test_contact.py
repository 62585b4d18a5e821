"""The bot always lets go, within the published steps; the queue never looks at value or direction."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from fairdesk.domain.contact import (
    Agent,
    Conversation,
    ConversationStatus,
    RoutingPolicy,
    assign,
    fairness_figures,
    queue_order,
)
from fairdesk.domain.errors import Conflict, InvalidInput
from fairdesk.domain.intents import Intent

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
POLICY = RoutingPolicy()


def conv(channel: str = "web", **kw: object) -> Conversation:
    return Conversation(brand_id=1, channel=channel, language="zh-CN", opened_at=T0, **kw)  # type: ignore[arg-type]


class TestTheBotLetsGo:
    def test_asking_for_a_person_hands_over_at_the_first_message(self) -> None:
        c = conv()
        assert c.receive(Intent.HUMAN, T0, POLICY) is None and c.status is ConversationStatus.WAITING

    def test_a_complaint_goes_to_a_person_at_once(self) -> None:
        c = conv()
        assert c.receive(Intent.COMPLAINT, T0, POLICY) is None and c.intent == "complaint"

    def test_a_second_message_the_bot_cannot_serve_hands_over(self) -> None:
        c = conv()
        assert c.receive(Intent.OTHER, T0, POLICY) == "other"
        assert c.receive(Intent.OTHER, T0, POLICY) is None and c.status is ConversationStatus.WAITING

    def test_the_published_maximum_of_bot_steps_per_channel_holds(self) -> None:
        hotline = conv("hotline")  # one bot step on the hotline
        assert hotline.receive(Intent.STATUS, T0, POLICY) == "status"
        assert hotline.receive(Intent.REPAIR, T0, POLICY) is None
        web = conv("web")  # two on the web
        assert web.receive(Intent.DOWNGRADE, T0, POLICY) and web.receive(Intent.STATUS, T0, POLICY)
        assert web.receive(Intent.REPAIR, T0, POLICY) is None and web.status is ConversationStatus.WAITING

    def test_callers_aged_65_and_over_go_straight_to_a_person(self) -> None:
        c = conv(vulnerable=True)
        assert c.receive(Intent.UPGRADE, T0, POLICY) is None and c.status is ConversationStatus.WAITING

    def test_once_a_person_has_the_conversation_the_bot_stays_silent(self) -> None:
        c = conv()
        c.receive(Intent.HUMAN, T0, POLICY)
        c.take(agent_id=7, at=T0)
        for intent in Intent:
            assert c.receive(intent, T0, POLICY) is None
        assert c.status is ConversationStatus.WITH_HUMAN


class TestPolicy:
    @pytest.mark.parametrize("key", ["customer_value", "revenue", "direction", "vip"])
    def test_a_policy_ranking_by_value_or_direction_is_refused(self, key: str) -> None:
        with pytest.raises(InvalidInput):
            RoutingPolicy.from_dict({key: "high first"})

    def test_steps_are_bounded_and_published(self) -> None:
        with pytest.raises(InvalidInput):
            RoutingPolicy.from_dict({"max_bot_steps": {"web": 9}})
        assert RoutingPolicy.from_dict({"max_bot_steps": {"web": 1}}).as_dict()["max_bot_steps"]["web"] == 1


class TestQueue:
    def test_the_queue_orders_by_waiting_time_with_vulnerable_callers_first(self) -> None:
        a = conv(id=1, intent="upgrade", handed_at=T0 + timedelta(seconds=5))
        b = conv(id=2, intent="downgrade", handed_at=T0)
        v = conv(id=3, intent="cancel", vulnerable=True, handed_at=T0 + timedelta(seconds=9))
        assert [c.id for c in queue_order([a, b, v])] == [3, 2, 1]

    def test_least_loaded_agent_who_speaks_the_language(self) -> None:
        en = conv(id=1, handed_at=T0, status=ConversationStatus.WAITING)
        en.language = "en"
        zh = conv(id=2, handed_at=T0, status=ConversationStatus.WAITING)
        agents = [Agent(1, 10, ("zh-CN",), load=2), Agent(1, 11, ("zh-CN", "en"), load=1), Agent(1, 12, ("zh-CN",))]
        pairs = assign([en, zh], agents, T0, POLICY)
        assert [(c.id, a.user_id) for c, a in pairs] == [(1, 11), (2, 12)]

    def test_a_request_goes_to_an_agent_with_its_skill_or_a_generalist(self) -> None:
        plans = conv(id=1, intent="downgrade", handed_at=T0, status=ConversationStatus.WAITING)
        repair = conv(id=2, intent="repair", handed_at=T0, status=ConversationStatus.WAITING)
        agents = [Agent(1, 10, skills=("repair",)), Agent(1, 11, skills=("plans",))]
        assert [(c.id, a.user_id) for c, a in assign([plans, repair], agents, T0, POLICY)] == [(1, 11), (2, 10)]
        lone = conv(id=3, intent="complaint", handed_at=T0, status=ConversationStatus.WAITING)
        assert assign([lone], [Agent(1, 12, skills=("repair",))], T0, POLICY) == []
        assert assign([lone], [Agent(1, 13, skills=("general",))], T0, POLICY)[0][1].user_id == 13

    def test_a_conversation_waiting_past_the_threshold_raises_its_alert_once(self) -> None:
        from fairdesk.domain.contact import overdue

        c = conv(id=1, handed_at=T0, status=ConversationStatus.WAITING)
        assert overdue([c], T0 + timedelta(seconds=POLICY.alert_after_seconds), POLICY) == []
        assert overdue([c], T0 + timedelta(seconds=POLICY.alert_after_seconds + 1), POLICY) == [c]
        assert overdue([c], T0 + timedelta(hours=1), POLICY) == []

    def test_under_load_downgrades_wait_no_longer_than_upgrades(self) -> None:
        """A simulated busy hour: 2,000 conversations, upgrades and downgrades alternating, 5 agents."""
        rng = random.Random(1)
        agents = [Agent(1, i, ("zh-CN",), capacity=2) for i in range(5)]
        pending, served, now = [], [], T0
        for i in range(2000):
            now += timedelta(seconds=rng.expovariate(1 / 2))
            c = conv(id=i, intent="upgrade" if i % 2 else "downgrade", status=ConversationStatus.WAITING,
                     handed_at=now)
            c.opened_at = now
            pending.append(c)
            for c2, _agent in assign(pending, agents, now, POLICY):
                pending.remove(c2)
                c2.reply(c2.agent_id, now)  # the agent answers as soon as it is theirs
                served.append(c2)
            for a in agents:  # each conversation takes about 9 s of an agent
                if a.load and rng.random() < 0.11:
                    a.load -= 1
        figures = fairness_figures(served, now)["time_to_human_by_intent"]
        up, down = figures["upgrade"]["median_s"], figures["downgrade"]["median_s"]
        assert abs(up - down) <= max(1.0, 0.1 * up)
        assert fairness_figures(served, now)["flag"] is False


def test_chance_differences_on_few_conversations_raise_no_flag() -> None:
    convs = [conv(intent="upgrade", handed_at=T0, first_reply_at=T0 + timedelta(seconds=10)),
             conv(intent="downgrade", handed_at=T0, first_reply_at=T0 + timedelta(seconds=300))]
    assert fairness_figures(convs, T0 + timedelta(hours=1))["flag"] is False


def test_the_fairness_flag_rises_when_downgrades_wait_longer() -> None:
    convs = []
    for i in range(20):
        up = conv(intent="upgrade", handed_at=T0, first_reply_at=T0 + timedelta(seconds=10))
        down = conv(intent="downgrade", handed_at=T0, first_reply_at=T0 + timedelta(seconds=120 + i))
        convs += [up, down]
    report = fairness_figures(convs, T0 + timedelta(hours=1))
    assert report["flag"] is True and report["slower_than_upgrade"] == ["downgrade"]
    assert report["time_to_human_by_intent"]["downgrade"]["median_s"] == 129.5


class TestTimeToAPerson:
    def test_the_wait_for_a_person_ends_at_the_first_human_answer_not_at_the_assignment(self) -> None:
        c = conv(id=1, status=ConversationStatus.WAITING, handed_at=T0)
        c.take(7, T0 + timedelta(seconds=1))  # assigned at once …
        assert c.wait_for_person(T0 + timedelta(seconds=90)) == (90.0, False)  # … but nobody has answered yet
        c.reply(7, T0 + timedelta(seconds=95))
        c.reply(7, T0 + timedelta(seconds=200))  # later answers change nothing
        assert c.wait_for_person(T0 + timedelta(hours=1)) == (95.0, True)

    def test_a_conversation_nobody_answered_counts_as_waiting_never_as_zero(self) -> None:
        answered = conv(id=1, intent="cancel", handed_at=T0, first_reply_at=T0 + timedelta(seconds=30))
        ignored = conv(id=2, intent="cancel", handed_at=T0, status=ConversationStatus.WAITING)
        figures = fairness_figures([answered, ignored], T0 + timedelta(seconds=600))["time_to_human_by_intent"]
        assert figures["cancel"] == {"conversations": 2, "asked_for_person": 2, "reached_human": 1,
                                     "still_waiting": 1, "median_s": 315.0, "p90_s": 543.0}
        closed_unanswered = conv(id=3, handed_at=T0, closed_at=T0 + timedelta(seconds=40),
                                 status=ConversationStatus.CLOSED)
        assert closed_unanswered.wait_for_person(T0 + timedelta(days=1)) == (40.0, False)

    def test_only_the_agent_who_holds_a_conversation_answers_or_transfers_it(self) -> None:
        c = conv(id=1, status=ConversationStatus.WAITING, handed_at=T0)
        c.reply(7, T0 + timedelta(seconds=5))  # answering from the queue takes it
        assert (c.status, c.agent_id) == (ConversationStatus.WITH_HUMAN, 7)
        with pytest.raises(Conflict):
            c.reply(8, T0 + timedelta(seconds=6))
        with pytest.raises(Conflict):
            c.transfer(8, 9, T0)
        c.transfer(7, 8, T0 + timedelta(seconds=7))
        assert c.agent_id == 8 and c.first_reply_at == T0 + timedelta(seconds=5)


def test_steps_per_channel_and_first_contact_completion_are_computed_as_by_hand() -> None:
    from fairdesk.domain.contact import change_figures

    t = T0 + timedelta(minutes=5)
    changes = [("upgrade", "web", 1, 1, t), ("upgrade", "web", 1, 2, t), ("downgrade", "web", 2, 3, t),
               ("downgrade", "web", 4, 4, t), ("cancel", "api", 2, 5, t)]
    asked = [conv(id=1, intent="downgrade", subscription_id=3, closed_at=T0 + timedelta(minutes=10)),
             conv(id=2, intent="downgrade", subscription_id=9, closed_at=T0 + timedelta(minutes=10)),
             conv(id=3, intent="cancel", subscription_id=5, closed_at=T0 + timedelta(minutes=1))]
    figures = change_figures(changes, asked)
    assert figures["steps_by_channel"] == {"api": {"cancel": 2}, "web": {"upgrade": 1, "downgrade": 3}}
    assert figures["more_steps_than_upgrade"] == ["web:downgrade"]
    assert figures["completed_at_first_contact"] == {
        "downgrade": {"conversations": 2, "completed": 1, "share": 0.5},
        "cancel": {"conversations": 1, "completed": 0, "share": 0.0}}
