"""Conversations through the API on SQLite and PostgreSQL: hand-off, assignment, transparency, fairness."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fairdesk.entrypoints.cli.main import app as cli
from tests.conftest import SECRET, Seed


def start(client: TestClient, seed: Seed, channel: str = "web", **extra: object) -> int:
    r = client.post("/api/v1/conversations", headers=seed.auth("alice"), json={"channel": channel} | extra)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def say(client: TestClient, seed: Seed, cid: int, text: str) -> dict[str, object]:
    r = client.post(f"/api/v1/conversations/{cid}/messages", headers=seed.auth("alice"), json={"text": text})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_bot_answers_then_lets_go_and_an_agent_gets_it(client: TestClient, seed: Seed) -> None:
    client.post("/api/v1/agents", headers=seed.auth("manager_a"), json={"username": "agent_a", "languages": ["zh-CN"]})
    cid = start(client, seed)
    first = say(client, seed, cid, "我想降级")
    assert first["intent"] == "downgrade" and "降级" in first["bot_reply"]
    second = say(client, seed, cid, "人工智能能做什么")  # a look-alike: not a hand-off, not understood either
    assert second["intent"] == "other" and second["conversation"]["status"] == "bot"
    third = say(client, seed, cid, "？？？")  # second message the bot cannot serve
    assert third["bot_reply"] is None and third["conversation"]["status"] == "with_human"
    silent = say(client, seed, cid, "你好，在吗")
    assert silent["bot_reply"] is None  # a person has it: the bot stays silent
    view = client.get(f"/api/v1/conversations/{cid}", headers=seed.auth("alice")).json()
    assert [m["sender"] for m in view["messages"]] == ["customer", "bot", "customer", "bot", "customer", "customer"]
    assert client.get(f"/api/v1/conversations/{cid}", headers=seed.auth("bob")).status_code == 404


def test_talk_to_a_person_is_one_action_and_elderly_callers_skip_the_bot(client: TestClient, seed: Seed) -> None:
    cid = start(client, seed)
    r = client.post(f"/api/v1/conversations/{cid}/human", headers=seed.auth("alice"))
    assert r.json()["status"] == "waiting"
    elderly = start(client, seed, "hotline", age=70)
    assert say(client, seed, elderly, "我要升级")["conversation"]["status"] == "waiting"


def test_the_transparency_page_shows_the_live_policy(client: TestClient, seed: Seed) -> None:
    page = client.get("/transparency/angu")
    assert page.status_code == 200 and "只按等待时间排序" in page.text
    r = client.put("/api/v1/routing-policy", headers=seed.auth("manager_a"), json={"max_bot_steps": {"web": 1}})
    assert r.status_code == 200
    live = client.get("/api/v1/transparency/angu").json()
    assert live["steps_to_a_person"]["web"] == 2 and live["routing_policy"]["max_bot_steps"]["web"] == 1
    bad = client.put("/api/v1/routing-policy", headers=seed.auth("manager_a"), json={"customer_value": "desc"})
    assert bad.status_code == 422 and bad.json()["code"] == "routing.forbidden_key"
    assert client.put("/api/v1/routing-policy", headers=seed.auth("agent_a"), json={}).status_code == 403


def test_the_fairness_report_by_api_and_cli(client: TestClient, seed: Seed, db_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    client.post("/api/v1/agents", headers=seed.auth("manager_a"), json={"username": "agent_a", "languages": ["zh-CN"],
                                                                         "capacity": 10})
    for text in ("我要升级，转人工", "我要降级，转人工", "取消自动续费，转人工"):
        say(client, seed, start(client, seed), text)
    r = client.get("/api/v1/fairness", params={"from": "2026-11-24T00:00:00+08:00", "to": "2026-11-25T00:00:00+08:00"},
                   headers=seed.auth("manager_a")).json()
    assert r["conversations"] == 3 and set(r["time_to_human_by_intent"]) == {"human"}
    monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)
    out = CliRunner().invoke(cli, ["fairness", "report", "--brand", "angu", "--from", "2026-11-24T00:00:00+08:00",
                                   "--to", "2026-11-25T00:00:00+08:00", "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["conversations"] == 3
    csv = CliRunner().invoke(cli, ["fairness", "report", "--brand", "angu", "--from", "2026-11-24T00:00:00+08:00",
                                   "--to", "2026-11-25T00:00:00+08:00", "--csv"])
    assert csv.stdout.splitlines()[0] == "intent,conversations,reached_human,median_s,p90_s"
    bad = CliRunner().invoke(cli, ["fairness", "report", "--brand", "angu", "--from", "yesterday", "--to", "now"])
    assert bad.exit_code == 2


def test_a_conversation_links_to_the_customers_ticket_and_shows_in_the_queue(client: TestClient, seed: Seed,
                                                                              clock: object) -> None:
    from tests.integration.test_api_tickets import open_ticket

    mine = open_ticket(client, seed).json()["id"]
    theirs = open_ticket(client, seed, customer_id=seed.bob).json()["id"]
    cid = start(client, seed)
    r = client.post(f"/api/v1/conversations/{cid}/link", headers=seed.auth("alice"), json={"ticket_id": mine})
    assert r.status_code == 200 and r.json()["ticket_id"] == mine
    other = client.post(f"/api/v1/conversations/{cid}/link", headers=seed.auth("alice"), json={"ticket_id": theirs})
    assert other.status_code == 404
    say(client, seed, cid, "转人工")
    clock.advance(seconds=600)  # type: ignore[attr-defined]
    queue = client.get("/api/v1/conversation-queue", headers=seed.auth("agent_a")).json()
    assert [(q["id"], q["overdue"]) for q in queue] == [(cid, True)] and queue[0]["waited_s"] == 600
    assert client.get("/api/v1/conversation-queue", headers=seed.auth("alice")).status_code == 404


def test_the_report_counts_steps_per_change_and_first_contact_completion(client: TestClient, seed: Seed,
                                                                         wired: object) -> None:
    from fairdesk.domain.people import Actor, Role
    from fairdesk.services import plans as plans_svc
    from tests.integration.test_plans_api import catalogue

    plans_svc.import_catalogue(Actor(seed.brand_a, Role.MANAGER, label="t"), catalogue(), wired.uows())  # type: ignore[attr-defined]
    sub = client.post("/api/v1/subscriptions", headers=seed.auth("alice"),
                      json={"customer_id": seed.alice, "plan": "plus", "payment_method": "alipay"}).json()["id"]
    cid = start(client, seed)
    say(client, seed, cid, "我想降级")
    client.post(f"/api/v1/conversations/{cid}/link", headers=seed.auth("alice"), json={"subscription_id": sub})
    base = f"/api/v1/subscriptions/{sub}/changes"
    client.post(base, headers=seed.auth("alice"), json={"to_plan": "basic", "preview": True, "channel": "web"})
    client.post(base, headers=seed.auth("alice"), json={"to_plan": "basic", "channel": "web"})  # 2 steps
    client.post(base, headers=seed.auth("alice"), json={"to_plan": "plus", "channel": "web"})  # 1 step
    r = client.get("/api/v1/fairness", params={"from": "2026-11-24T00:00:00+08:00", "to": "2026-11-25T00:00:00+08:00"},
                   headers=seed.auth("manager_a")).json()
    assert r["plan_changes"]["steps_by_channel"] == {"web": {"downgrade": 2, "upgrade": 1}}
    assert r["plan_changes"]["more_steps_than_upgrade"] == ["web:downgrade"] and r["flag"] is True
    assert r["plan_changes"]["completed_at_first_contact"]["downgrade"] == {"conversations": 1, "completed": 1,
                                                                           "share": 1.0}
