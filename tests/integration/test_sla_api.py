"""Ticket deadlines through the API on SQLite and PostgreSQL, with a frozen clock (Tue 2026-11-24 10:00)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Seed
from tests.fakes import FrozenClock
from tests.integration.test_api_tickets import open_ticket


def sla(client: TestClient, seed: Seed, tid: int, who: str = "alice") -> dict[str, object]:
    r = client.get(f"/api/v1/tickets/{tid}/sla", headers=seed.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def move(client: TestClient, seed: Seed, tid: int, to: str) -> None:
    r = client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": to}, headers=seed.auth("agent_a"))
    assert r.status_code == 200, r.text


def test_the_customer_sees_working_time_deadlines_that_pause_and_stop(client: TestClient, seed: Seed,
                                                                       clock: FrozenClock) -> None:
    tid = open_ticket(client, seed).json()["id"]
    s = sla(client, seed, tid)
    assert s["first_response"]["deadline"] == "2026-11-24T12:00:00+08:00"  # 2 working hours
    assert s["resolution"]["deadline"] == "2026-11-27T10:00:00+08:00"  # 27 working hours, 09:00-18:00
    clock.advance(minutes=30)
    move(client, seed, tid, "triaged")
    assert sla(client, seed, tid)["first_response"]["met"] is True
    move(client, seed, tid, "waiting_customer")
    clock.advance(days=1)  # Wednesday 10:30: a whole working day spent waiting for the customer
    waiting = sla(client, seed, tid)["resolution"]
    assert waiting["paused"] is True and waiting["deadline"] == "2026-11-30T10:00:00+08:00"  # moved by 9 h
    move(client, seed, tid, "in_progress")
    move(client, seed, tid, "resolved")
    done = sla(client, seed, tid)["resolution"]
    assert done["met"] is True and done["breached"] is False


def test_a_policy_edit_recomputes_open_clocks_and_breaches_show(client: TestClient, seed: Seed,
                                                                clock: FrozenClock) -> None:
    tid = open_ticket(client, seed).json()["id"]
    r = client.put("/api/v1/sla-policies", headers=seed.auth("manager_a"), json={
        "category": "repair", "priority": "normal", "first_response_min": 15, "resolution_min": 60})
    assert r.status_code == 200
    clock.advance(minutes=90)
    s = sla(client, seed, tid, "agent_a")
    assert s["first_response"]["breached"] is True and s["resolution"]["deadline"] == "2026-11-24T11:00:00+08:00"
    bad = client.put("/api/v1/sla-policies", headers=seed.auth("manager_a"), json={
        "category": "repair", "priority": "normal", "first_response_min": 0, "resolution_min": 60})
    assert bad.status_code == 422
    assert client.put("/api/v1/sla-policies", headers=seed.auth("agent_a"), json={
        "category": "repair", "priority": "normal", "first_response_min": 5, "resolution_min": 60}).status_code == 403


def test_the_ticket_page_shows_the_deadline(client: TestClient, seed: Seed) -> None:
    from tests.integration.test_web import login

    tid = open_ticket(client, seed).json()["id"]
    login(client, "alice", "alice-password")
    page = client.get(f"/tickets/{tid}").text
    assert "处理期限" in page and "2026-11-27 10:00" in page and "个工作小时剩余" in page
