"""A person really answers: the agents' inbox lists who waits for a person in the published order; an agent
claims, answers, transfers with a note and closes; the customer sees the answer; the published wait for a person
ends at the first human answer, and one nobody answered counts as waiting, never zero (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from fairdesk.bootstrap import App
from fairdesk.domain.people import Role
from fairdesk.services import identity
from tests.conftest import Seed
from tests.fakes import FrozenClock
from tests.integration.test_web import csrf_of, login


def _ask_for_a_person(client: TestClient) -> int:
    login(client, "alice", "alice-password")
    page = client.get("/my/chat")
    client.post("/my/chat", data={"text": "我要取消延保", "csrf": csrf_of(page.text)})
    page = client.get("/my/chat")
    client.post("/my/chat/person", data={"csrf": csrf_of(page.text)})
    page = client.get("/my/chat")
    return int(re.search(r'/my/chat/(\d+)/messages', page.text).group(1))


def test_an_agent_answers_from_the_inbox_and_the_customer_sees_it(client: TestClient, seed: Seed,
                                                                 clock: FrozenClock) -> None:
    conv = _ask_for_a_person(client)
    waiting = client.get("/my/chat").text
    assert "正在等待人工" in waiting and "前面排队第 1" in waiting
    client.cookies.clear()
    clock.advance(seconds=75)
    login(client, "agent_a", "agent_a-password")
    inbox = client.get("/inbox").text
    assert f'data-id="{conv}"' in inbox and "张丽" in inbox and "75 秒" in inbox
    page = client.get(f"/inbox/{conv}")
    assert "我要取消延保" in page.text
    r = client.post(f"/inbox/{conv}/reply", data={"text": "您好，我来帮您办理取消，一步即可。",
                                                  "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    clock.advance(seconds=30)
    client.post(f"/inbox/{conv}/reply", data={"text": "已为您提交。", "csrf": csrf_of(page.text)})
    assert f'href="/inbox/{conv}"' in client.get("/inbox").text  # now in "mine"
    client.cookies.clear()
    login(client, "alice", "alice-password")
    fragment = client.get(f"/my/chat/{conv}/messages").text  # what the chat page polls
    assert "您好，我来帮您办理取消，一步即可。" in fragment and "人工服务中" in fragment
    # The published wait: from asking for a person to the first answer, 75 s — not the 0 s of an assignment.
    report = client.get("/api/v1/fairness", params={"from": "2026-11-24T00:00:00+08:00",
                                                    "to": "2026-11-25T00:00:00+08:00"},
                        headers=seed.auth("manager_a")).json()
    cancel = report["time_to_human_by_intent"]["cancel"]
    assert cancel["median_s"] == 75.0 and cancel["reached_human"] == 1 and cancel["still_waiting"] == 0


def test_a_conversation_nobody_answers_counts_as_waiting_on_the_published_figures(client: TestClient, seed: Seed,
                                                                                 clock: FrozenClock) -> None:
    _ask_for_a_person(client)
    clock.advance(minutes=10)
    live = client.get("/api/v1/transparency/angu").json()["live"]
    assert live["waiting_now"] == 1
    cancel = live["last_24h"]["time_to_human_by_intent"]["cancel"]
    assert cancel["still_waiting"] == 1 and cancel["median_s"] == 600.0  # never 0


def test_claim_transfer_and_close_and_who_may(client: TestClient, seed: Seed, wired: App) -> None:
    conv = _ask_for_a_person(client)
    identity.create_user(identity.CreateUser("angu", "agent_c", "陈客服", Role.AGENT, "agent_c-password-1"),
                         wired.uows(), wired.clock)
    client.cookies.clear()
    login(client, "agent_a", "agent_a-password")
    page = client.get(f"/inbox/{conv}")
    token = csrf_of(page.text)
    client.post(f"/inbox/{conv}/claim", data={"csrf": token})
    empty = client.post(f"/inbox/{conv}/reply", data={"text": "  ", "csrf": token})
    assert empty.status_code == 422 and 'id="text-error"' in empty.text
    page = client.get(f"/inbox/{conv}")
    colleague = re.search(r'<option value="(\d+)">陈客服</option>', page.text).group(1)
    moved = client.post(f"/inbox/{conv}/transfer", data={"to_user_id": colleague, "note": "客户要办理取消",
                                                         "csrf": token}, follow_redirects=False)
    assert moved.status_code == 303
    taken = client.post(f"/inbox/{conv}/reply", data={"text": "我也来说一句", "csrf": token})
    assert taken.status_code == 409 and "该会话已由其他客服接手" in taken.text  # it is the colleague's now
    client.cookies.clear()
    login(client, "agent_c", "agent_c-password-1")
    page = client.get(f"/inbox/{conv}")
    assert "已转接给 陈客服: 客户要办理取消" in page.text
    unconfirmed = client.post(f"/inbox/{conv}/close", data={"csrf": csrf_of(page.text)})
    assert unconfirmed.status_code == 200 and 'data-status="with_human"' in unconfirmed.text
    client.post(f"/inbox/{conv}/close", data={"csrf": csrf_of(page.text), "confirm": "yes"})
    assert 'data-status="closed"' in client.get(f"/inbox/{conv}").text
    # Another brand's agent never sees it; a customer has no inbox.
    assert client.get(f"/api/v1/conversations/{conv}", headers=seed.auth("agent_b")).status_code == 404
    client.cookies.clear()
    login(client, "alice", "alice-password")
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/my/chat"


def test_a_conversation_waiting_past_the_published_limit_alerts_the_managers_once(client: TestClient, seed: Seed,
                                                                                  wired: App,
                                                                                  clock: FrozenClock) -> None:
    import sqlalchemy as sa

    from fairdesk.adapters.db import tables as t
    from fairdesk.services import contact

    identity.create_user(identity.CreateUser("angu", "boss", "王经理", Role.MANAGER, email="boss@angu.example"),
                         wired.uows(), wired.clock)
    conv = _ask_for_a_person(client)
    with wired.uows() as uow:  # an agent has it, but nobody has answered: still waiting for a person
        c = uow.contact.conversation(seed.brand_a, conv)
        c.take(999, clock.now())
        uow.commit()
    clock.advance(seconds=170)
    contact.queue_job(wired.uows, wired.clock, "https://fairdesk.example")
    clock.advance(seconds=20)  # 190 s: past the published 180 s
    contact.queue_job(wired.uows, wired.clock, "https://fairdesk.example")
    clock.advance(minutes=5)
    contact.queue_job(wired.uows, wired.clock, "https://fairdesk.example")  # once only
    with wired.engine.connect() as conn:
        mails = conn.execute(sa.select(t.outbox.c.recipient, t.outbox.c.body).where(
            t.outbox.c.kind == "conversation_overdue")).all()
    assert [m.recipient for m in mails] == ["boss@angu.example"]
    assert "3.2 分钟" in mails[0].body and f"https://fairdesk.example/inbox/{conv}" in mails[0].body
