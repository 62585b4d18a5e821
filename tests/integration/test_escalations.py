"""SLA escalation steps, the outbox and its transports, on SQLite and PostgreSQL, with a frozen clock that
starts on Tue 2026-11-24 10:00 Shanghai.

The default policy for a normal repair: first response within 120 working minutes, resolution within 27
working hours, steps at 75 % (warn) and 100 % (breach), both ``notify``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from fairdesk.adapters.db import tables as t
from fairdesk.adapters.transports import FileSms, SmsTransport, SmtpTransport, WebhookTransport, verify
from fairdesk.bootstrap import App
from fairdesk.domain.people import Actor, Role
from fairdesk.services import identity, sla
from fairdesk.services import webhooks as webhook_svc
from fairdesk.services.worker import MAX_ATTEMPTS, deliver_due
from tests.conftest import Seed
from tests.fakes import SHANGHAI, FrozenClock
from tests.integration.test_api_tickets import open_ticket


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def timers(wired: App, ticket_id: int) -> list[Any]:
    with wired.uows(readonly=True) as uow:
        return list(uow.timers.for_ticket(ticket_id))


def outbox(wired: App, **where: Any) -> list[Any]:
    with wired.engine.connect() as conn:
        q = sa.select(t.outbox).order_by(t.outbox.c.id)
        for k, v in where.items():
            q = q.where(t.outbox.c[k] == v)
        return list(conn.execute(q))


def events(client: TestClient, seed: Seed, tid: int) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/tickets/{tid}/events", headers=seed.auth("agent_a")).json()


@pytest.fixture
def manager_email(wired: App, seed: Seed) -> str:
    identity.create_user(identity.CreateUser("angu", "boss", "王经理", Role.MANAGER, email="boss@angu.example"),
                         wired.uows(), wired.clock)
    return "boss@angu.example"


class SmtpInbox:
    """A real SMTP server (aiosmtpd) on a free port, keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    from tests.integration.test_processes import free_port

    inbox, port = SmtpInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver that checks signatures, keeps every delivery and drops repeats by event id."""

    secret = ""
    fail_first = 0
    got: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        if cls.fail_first > 0:
            cls.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        cls.got.append({"event_id": self.headers["X-Fairdesk-Event-Id"], "body": json.loads(body),
                        "signed": verify(cls.secret, body, self.headers["X-Fairdesk-Signature"])})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[type[Receiver], str]]:
    handler = type("R", (Receiver,), {"got": [], "fail_first": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()


class TestTimers:
    def test_a_new_ticket_gets_its_escalation_steps_in_working_time(self, client: TestClient, seed: Seed,
                                                                     wired: App) -> None:
        tid = open_ticket(client, seed).json()["id"]
        due = {(r.clock, r.percent): r.due_at.astimezone(SHANGHAI) for r in timers(wired, tid)}
        assert due == {("first_response", 75): local("2026-11-24T11:30"),
                       ("first_response", 100): local("2026-11-24T12:00"),
                       # 75 % of 27 working hours is 20 h 15 min: Tue 8 h, Wed 9 h, Thu 3 h 15 min
                       ("resolution", 75): local("2026-11-26T12:15"),
                       ("resolution", 100): local("2026-11-27T10:00")}

    def test_a_staff_reply_stops_the_first_response_steps(self, client: TestClient, seed: Seed,
                                                            wired: App) -> None:
        tid = open_ticket(client, seed).json()["id"]
        client.post(f"/api/v1/tickets/{tid}/comments", json={"text": "您好，已收到"}, headers=seed.auth("agent_a"))
        assert {r.clock for r in timers(wired, tid)} == {"resolution"}

    def test_a_policy_edit_reschedules_the_open_tickets_steps(self, client: TestClient, seed: Seed,
                                                              wired: App) -> None:
        tid = open_ticket(client, seed).json()["id"]
        r = client.put("/api/v1/sla-policies", headers=seed.auth("manager_a"), json={
            "category": "repair", "priority": "normal", "first_response_min": 30, "resolution_min": 240,
            "onsite_min": 120, "escalations": [{"percent": 50, "action": "notify"},
                                               {"percent": 100, "action": "raise_priority"}]})
        assert r.status_code == 200, r.text
        assert r.json()["rescheduled_tickets"] == 1
        due = {(r.clock, r.percent, r.action): r.due_at.astimezone(SHANGHAI) for r in timers(wired, tid)}
        assert due == {("first_response", 50, "notify"): local("2026-11-24T10:15"),
                       ("first_response", 100, "raise_priority"): local("2026-11-24T10:30"),
                       ("onsite", 50, "notify"): local("2026-11-24T11:00"),
                       ("onsite", 100, "raise_priority"): local("2026-11-24T12:00"),
                       ("resolution", 50, "notify"): local("2026-11-24T12:00"),
                       ("resolution", 100, "raise_priority"): local("2026-11-24T14:00")}
        clocks = client.get(f"/api/v1/tickets/{tid}/sla", headers=seed.auth("alice")).json()
        assert clocks["onsite"]["deadline"] == "2026-11-24T12:00:00+08:00"

    def test_policies_with_bad_targets_or_steps_are_refused(self, client: TestClient, seed: Seed) -> None:
        base = {"category": "repair", "priority": "normal", "first_response_min": 30, "resolution_min": 240}
        cases = [({"first_response_min": -5}, 422), ({"onsite_min": 0}, 422),
                 ({"escalations": [{"percent": 0, "action": "notify"}]}, 422),
                 ({"escalations": [{"percent": 80, "action": "reassign"}]}, 422),  # to whom?
                 ({"escalations": [{"percent": 80, "action": "notify"}, {"percent": 80, "action": "notify"}]}, 422),
                 ({"pause_on": ["in_progress"]}, 422)]
        for change, code in cases:
            r = client.put("/api/v1/sla-policies", headers=seed.auth("manager_a"), json=base | change)
            assert r.status_code == code, (change, r.text)
            assert r.json()["code"] and r.json()["title"]
        other_brand_agent = 4 + 1  # agent_b's user id: seed creates agent_a, manager_a, tech_a, auditor_a, agent_b
        r = client.put("/api/v1/sla-policies", headers=seed.auth("manager_a"), json=base | {
            "escalations": [{"percent": 80, "action": "reassign", "to_user_id": other_brand_agent}]})
        assert r.status_code == 422 and r.json()["code"] == "sla.escalation_target"

    def test_overlapping_shifts_are_refused_and_shifts_move_deadlines(self, client: TestClient, seed: Seed,
                                                                       wired: App) -> None:
        r = client.put("/api/v1/calendar/shifts", headers=seed.auth("manager_a"),
                       json={"shifts": "08:00-12:00,11:00-20:00"})
        assert r.status_code == 422 and r.json()["code"] == "calendar.shifts_overlap"
        r = client.put("/api/v1/calendar/shifts", headers=seed.auth("manager_a"),
                       json={"shifts": "13:00-20:00,08:00-12:00"})
        assert r.status_code == 200 and r.json() == {"shifts": ["08:00-12:00", "13:00-20:00"]}
        tid = open_ticket(client, seed).json()["id"]
        clocks = client.get(f"/api/v1/tickets/{tid}/sla", headers=seed.auth("alice")).json()
        # 10:00-12:00 is exactly the 2 working hours of the first response
        assert clocks["first_response"]["deadline"] == "2026-11-24T12:00:00+08:00"
        # a closure day (Wednesday) is skipped: 27 h = Tue 9 (10-12, 13-20) + Thu 11 + Fri 7 (08-12, 13-16)
        r = client.post("/api/v1/calendar/closures", headers=seed.auth("manager_a"),
                        json={"day": "2026-11-25", "reason": "公司年会"})
        assert r.status_code == 204
        clocks = client.get(f"/api/v1/tickets/{tid}/sla", headers=seed.auth("alice")).json()
        assert clocks["resolution"]["deadline"] == "2026-11-27T16:00:00+08:00"


class TestSweep:
    def test_steps_fire_once_when_due_and_tell_the_managers(self, client: TestClient, seed: Seed, wired: App,
                                                            clock: FrozenClock, manager_email: str) -> None:
        tid = open_ticket(client, seed).json()["id"]
        assert sla.sweep(wired.uows, clock).fired == 0
        clock.advance(minutes=91)  # 11:31: past 75 % of the first response
        result = sla.sweep(wired.uows, clock, public_url="https://fd.example")
        assert (result.fired, result.claimed) == (1, 1)
        mails = outbox(wired, transport="email")
        assert [m.recipient for m in mails] == [manager_email]
        assert "75%" in mails[0].subject and "https://fd.example/tickets/" in mails[0].body
        assert [e["note"] for e in events(client, seed, tid) if e["kind"] == "escalation"] == [
            "first_response 75%: notify"]
        assert sla.sweep(wired.uows, clock).fired == 0  # fired steps stay fired
        client.post(f"/api/v1/tickets/{tid}/comments", json={"text": "note"}, headers=seed.auth("alice"))
        assert sla.sweep(wired.uows, clock).fired == 0  # a reschedule does not bring a fired step back
        clock.advance(minutes=30)
        assert sla.sweep(wired.uows, clock).fired == 1  # the breach
        assert "已超时" in outbox(wired, transport="email")[-1].subject

    def test_a_pause_moves_a_due_step_instead_of_firing_it(self, client: TestClient, seed: Seed, wired: App,
                                                           clock: FrozenClock) -> None:
        tid = open_ticket(client, seed).json()["id"]
        client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "triaged"}, headers=seed.auth("agent_a"))
        client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "waiting_customer"},
                    headers=seed.auth("agent_a"))
        # Back-date the hint: pretend the step was computed before the pause and is due now.
        with wired.engine.begin() as conn:
            conn.execute(sa.update(t.sla_timers).values(due_at=clock.now()))
        clock.advance(days=3)
        result = sla.sweep(wired.uows, clock)
        assert result.fired == 0 and result.rescheduled == 2
        assert all(r.due_at > clock.now() for r in timers(wired, tid))

    def test_raise_priority_and_reassign_steps_change_the_ticket(self, client: TestClient, seed: Seed,
                                                                 wired: App, clock: FrozenClock) -> None:
        with wired.uows(readonly=True) as uow:
            tech = uow.users.by_username("manager_a").id
        r = client.put("/api/v1/sla-policies", headers=seed.auth("manager_a"), json={
            "category": "repair", "priority": "normal", "first_response_min": 60, "resolution_min": 600,
            "escalations": [{"percent": 50, "action": "reassign", "to_user_id": tech},
                            {"percent": 100, "action": "raise_priority"}]})
        assert r.status_code == 200, r.text
        tid = open_ticket(client, seed).json()["id"]
        clock.advance(minutes=61)
        sla.sweep(wired.uows, clock)
        ticket = client.get(f"/api/v1/tickets/{tid}", headers=seed.auth("agent_a")).json()
        assert ticket["priority"] == "high"
        kinds = [e["kind"] for e in events(client, seed, tid)]
        assert kinds.count("escalation") == 2 and "assignment" in kinds and "priority" in kinds
        with wired.uows(readonly=True) as uow:
            assert uow.tickets.get(seed.brand_a, tid).assignee_id == tech
        # The high-priority policy (defaults: 60 min / 18 h, notify at 75 and 100 %) now drives the pending steps.
        assert {(r.clock, r.percent, r.action) for r in timers(wired, tid) if r.fired_at is None} == {
            ("first_response", 75, "notify"), ("first_response", 100, "notify"),
            ("resolution", 75, "notify"), ("resolution", 100, "notify")}

    def test_a_resolved_ticket_drops_its_pending_steps(self, client: TestClient, seed: Seed, wired: App,
                                                       clock: FrozenClock) -> None:
        tid = open_ticket(client, seed).json()["id"]
        client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "resolved"}, headers=seed.auth("agent_a"))
        assert timers(wired, tid) == []
        clock.advance(days=10)
        assert sla.sweep(wired.uows, clock).fired == 0


class TestDelivery:
    def test_a_breach_reaches_a_real_smtp_inbox(self, client: TestClient, seed: Seed, wired: App,
                                                clock: FrozenClock, manager_email: str,
                                                smtp: tuple[SmtpInbox, int]) -> None:
        inbox, port = smtp
        tid = open_ticket(client, seed).json()["id"]
        clock.advance(hours=3)
        assert sla.sweep(wired.uows, clock).fired == 2
        run = deliver_due(wired.uows, clock, {"email": SmtpTransport("127.0.0.1", port)})
        assert run.sent == 2 and run.dead == 0
        subjects = sorted(str(m["Subject"]) for m in inbox.messages)
        assert any("已超时" in s for s in subjects), subjects
        breach = next(m for m in inbox.messages if "已超时" in str(m["Subject"]))
        assert breach["To"] == manager_email
        row = next(r for r in outbox(wired) if "已超时" in r.subject)
        assert breach["X-Fairdesk-Event-Id"] == row.event_id and row.status == "sent"
        assert f"/tickets/{tid}" in breach.get_content()

    def test_webhooks_are_signed_retried_with_backoff_and_logged(self, client: TestClient, seed: Seed, wired: App,
                                                                 clock: FrozenClock, receiver: Any) -> None:
        handler, url = receiver
        manager = Actor(seed.brand_a, Role.MANAGER, label="t")
        hook = webhook_svc.add_webhook(wired.uows(), manager, url, ["ticket.created"], wired.clock,
                                       allow_private=True)
        handler.secret, handler.fail_first = hook["secret"], 1
        tid = open_ticket(client, seed).json()["id"]
        transports = {"webhook": WebhookTransport(timeout_s=5)}
        first = deliver_due(wired.uows, clock, transports)
        assert (first.sent, first.retried) == (0, 1)
        assert deliver_due(wired.uows, clock, transports).total() == 0  # backing off: nothing due yet
        clock.advance(seconds=40)  # first retry after 30 s ± 20 %
        assert deliver_due(wired.uows, clock, transports).sent == 1
        assert len(handler.got) == 1 and handler.got[0]["signed"] is True
        assert handler.got[0]["body"]["type"] == "ticket.created" and handler.got[0]["body"]["data"]["ticket_id"] == tid
        log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=seed.auth("manager_a")).json()
        assert [(d["ok"], d["status_code"]) for d in log[0]["deliveries"]] == [(False, 503), (True, 204)]
        assert log[0]["event_id"] == handler.got[0]["event_id"]
        assert client.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                          headers=seed.auth("agent_b")).status_code in (403, 404)

    def test_a_message_that_keeps_failing_ends_dead_after_the_last_attempt(self, client: TestClient, seed: Seed,
                                                                           wired: App, clock: FrozenClock) -> None:
        manager = Actor(seed.brand_a, Role.MANAGER, label="t")
        webhook_svc.add_webhook(wired.uows(), manager, "http://127.0.0.1:9/nothing-listens", [], wired.clock,
                                allow_private=True)
        open_ticket(client, seed)
        transports = {"webhook": WebhookTransport(timeout_s=1)}
        for _ in range(MAX_ATTEMPTS):
            deliver_due(wired.uows, clock, transports)
            clock.advance(hours=8)
        [row] = outbox(wired)
        assert row.status == "dead" and row.attempts == MAX_ATTEMPTS and row.last_error

    def test_sms_go_through_the_file_provider_with_their_event_id(self, client: TestClient, seed: Seed, wired: App,
                                                                  clock: FrozenClock, tmp_path: Any) -> None:
        tid = open_ticket(client, seed).json()["id"]
        client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "resolved"}, headers=seed.auth("agent_a"))
        sms_file = tmp_path / "sms.jsonl"
        assert deliver_due(wired.uows, clock, {"sms": SmsTransport(FileSms(sms_file))}).sent == 1
        [line] = [json.loads(x) for x in sms_file.read_text().splitlines()]
        assert line["to"] == "+8613800138000" and "/s/" in line["text"]
        assert line["event_id"] == outbox(wired, transport="sms")[0].event_id

    def test_no_transport_configured_is_a_clear_dead_letter(self, client: TestClient, seed: Seed, wired: App,
                                                           clock: FrozenClock) -> None:
        tid = open_ticket(client, seed).json()["id"]
        client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "resolved"}, headers=seed.auth("agent_a"))
        assert deliver_due(wired.uows, clock, {}).dead == 1
        assert "no sms transport" in outbox(wired)[0].last_error

    def test_webhook_urls_to_private_addresses_are_refused_by_default(self, wired: App, seed: Seed) -> None:
        from fairdesk.domain.errors import InvalidInput

        manager = Actor(seed.brand_a, Role.MANAGER, label="t")
        for url in ("http://127.0.0.1/x", "https://127.0.0.1/x", "ftp://example.com/", "https://10.0.0.1/x"):
            with pytest.raises(InvalidInput):
                webhook_svc.add_webhook(wired.uows(), manager, url, [], wired.clock)
        with pytest.raises(InvalidInput):
            webhook_svc.add_webhook(wired.uows(), manager, "http://127.0.0.1/x", ["no.such.event"], wired.clock,
                                    allow_private=True)
