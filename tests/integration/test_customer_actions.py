"""A customer acts on their own request in their words, never by the staff's list of states, and nothing that
cannot be undone happens on one tap: withdrawing a request asks first, says the booked visit goes with it, and
then frees the technician's time; "not fixed" needs a word and keeps what was typed."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from fairdesk.services import dispatch as dispatch_svc
from tests.conftest import Seed
from tests.integration.field import make_field
from tests.integration.test_web import csrf_of, login


def _status(client: TestClient, seed: Seed, ticket_id: int) -> str:
    return client.get(f"/api/v1/tickets/{ticket_id}", headers=seed.auth("agent_a")).json()["status"]


def _book(wired: App, seed: Seed) -> tuple[int, int]:
    f = make_field(wired, seed)
    visit = dispatch_svc.book(dispatch_svc.Booking(f.dispatcher, f.ticket), wired.uows, wired.clock)
    return f.ticket, int(visit["id"])


def test_the_customer_is_offered_actions_in_words_not_the_staff_status_list(client: TestClient, seed: Seed,
                                                                             wired: App) -> None:
    ticket_id, _ = _book(wired, seed)
    login(client, "alice", "alice-password")
    page = client.get(f"/tickets/{ticket_id}").text
    assert 'id="do-cancel"' in page and "取消报修" in page
    assert 'name="to"' not in page  # no status dropdown for a customer
    # Progress as plain steps, the booked visit with its technician.
    assert re.search(r'<li class="done current" aria-current="step">已派单</li>', page)
    assert 'id="visit-summary"' in page and "师傅 Wang" in page
    # The history in words: roles, not usernames; no note the system wrote for staff.
    history = page[page.index('id="customer-history"'):]
    assert "预约了上门" in history and "Wang 2026-11-24 11:00-13:00" in history
    assert "visit booked" not in history and "dispatcher:" not in history and "test-dispatcher" not in history


def test_every_consumer_page_shows_the_brand_s_official_hotline_in_national_format(client: TestClient, seed: Seed,
                                                                                   wired: App) -> None:
    from fairdesk.domain.channels import ChannelKind
    from fairdesk.domain.people import Actor, Role
    from fairdesk.services import channels

    manager = Actor(brand_id=seed.brand_a, role=Role.MANAGER, label="test")
    channels.register_channel(manager, ChannelKind.PHONE, "4008886666", "客服热线", wired.uows(), wired.clock)
    login(client, "alice", "alice-password")
    for path in ("/my", "/my/repair", "/my/complaints", "/my/plans"):
        assert re.search(r'id="hotline".*<strong>400-888-6666</strong>', client.get(path).text), path
    assert channels.display_phone("+8613800138000") == "138 0013 8000"
    assert channels.display_phone("+861012345678") == "010 1234 5678"
    assert channels.display_phone("+85291234567") == "+852 9123 4567"


def test_staff_choose_a_state_deliberately_none_is_preselected(client: TestClient, seed: Seed) -> None:
    ticket = client.post("/api/v1/tickets", json={"customer_id": seed.alice, "category": "repair",
                                                  "subject": "密码面板无反应"}, headers=seed.auth("agent_a")).json()
    login(client, "agent_a", "agent_a-password")
    page = client.get(f"/tickets/{ticket['id']}").text
    assert re.search(r'<option value="" selected disabled>— 请选择 —</option>', page)
    token = csrf_of(page)
    assert client.post(f"/tickets/{ticket['id']}/move", data={"csrf": token}).status_code == 422
    assert _status(client, seed, ticket["id"]) == "new"


def test_withdrawing_a_request_asks_first_and_then_frees_the_booked_visit(client: TestClient, seed: Seed,
                                                                           wired: App) -> None:
    ticket_id, visit_id = _book(wired, seed)
    login(client, "alice", "alice-password")
    ask = client.get(f"/my/tickets/{ticket_id}/do/cancel")
    assert ask.status_code == 200
    assert "不能再恢复" in ask.text and 'id="visit-goes"' in ask.text and "Wang" in ask.text
    token = csrf_of(ask.text)
    # Without the confirmation nothing happens: the same page comes back.
    again = client.post(f"/my/tickets/{ticket_id}/do/cancel", data={"csrf": token})
    assert 'id="action-confirm"' in again.text and _status(client, seed, ticket_id) == "scheduled"
    done = client.post(f"/my/tickets/{ticket_id}/do/cancel", data={"csrf": token, "confirm": "yes",
                                                                   "note": "已经自己修好了"})
    assert done.status_code == 200 and _status(client, seed, ticket_id) == "cancelled"
    with wired.engine.connect() as conn:
        status = conn.execute(sa.select(t.visits.c.status).where(t.visits.c.id == visit_id)).scalar_one()
        slots = conn.execute(sa.select(sa.func.count()).select_from(t.technician_slots).where(
            t.technician_slots.c.visit_id == visit_id)).scalar_one()
    assert status == "cancelled" and slots == 0  # the technician's time is free again
    events = client.get(f"/api/v1/tickets/{ticket_id}/events", headers=seed.auth("agent_a")).json()
    assert events[-1]["to_status"] == "cancelled" and events[-1]["note"] == "已经自己修好了"


def test_not_fixed_needs_a_word_and_keeps_what_was_typed(client: TestClient, seed: Seed) -> None:
    ticket = client.post("/api/v1/tickets", json={"customer_id": seed.alice, "category": "repair",
                                                  "subject": "密码面板无反应"}, headers=seed.auth("agent_a")).json()
    client.post(f"/api/v1/tickets/{ticket['id']}/transitions", json={"to": "resolved"}, headers=seed.auth("agent_a"))
    login(client, "alice", "alice-password")
    page = client.get(f"/tickets/{ticket['id']}").text
    assert 'id="do-not_fixed"' in page and 'id="do-confirm_fixed"' in page
    token = csrf_of(page)
    empty = client.post(f"/my/tickets/{ticket['id']}/do/not_fixed", data={"csrf": token, "note": "   "})
    assert empty.status_code == 422 and 'id="note-error"' in empty.text and "请简单说明一下" in empty.text
    assert _status(client, seed, ticket["id"]) == "resolved"
    done = client.post(f"/my/tickets/{ticket['id']}/do/not_fixed", data={"csrf": token, "note": "还是打不开"})
    assert done.status_code == 200 and _status(client, seed, ticket["id"]) == "reopened"


def test_confirming_the_repair_closes_the_request_after_one_confirmation(client: TestClient, seed: Seed) -> None:
    ticket = client.post("/api/v1/tickets", json={"customer_id": seed.alice, "category": "repair",
                                                  "subject": "密码面板无反应"}, headers=seed.auth("agent_a")).json()
    client.post(f"/api/v1/tickets/{ticket['id']}/transitions", json={"to": "resolved"}, headers=seed.auth("agent_a"))
    login(client, "alice", "alice-password")
    ask = client.get(f"/my/tickets/{ticket['id']}/do/confirm_fixed")
    assert "按“已修好”关闭" in ask.text
    client.post(f"/my/tickets/{ticket['id']}/do/confirm_fixed", data={"csrf": csrf_of(ask.text), "confirm": "yes"})
    assert _status(client, seed, ticket["id"]) == "closed"


def test_an_action_the_request_does_not_allow_now_is_not_offered(client: TestClient, seed: Seed) -> None:
    ticket = client.post("/api/v1/tickets", json={"customer_id": seed.alice, "category": "repair",
                                                  "subject": "密码面板无反应"}, headers=seed.auth("agent_a")).json()
    login(client, "alice", "alice-password")
    r = client.get(f"/my/tickets/{ticket['id']}/do/confirm_fixed", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{ticket['id']}"
    token = csrf_of(client.get(f"/tickets/{ticket['id']}").text)
    refused = client.post(f"/my/tickets/{ticket['id']}/do/confirm_fixed", data={"csrf": token, "confirm": "yes"})
    assert refused.status_code == 409 and _status(client, seed, ticket["id"]) == "new"
