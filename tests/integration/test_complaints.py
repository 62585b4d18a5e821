"""Complaints on SQLite and PostgreSQL: filing with evidence, the workflow in which only the consumer confirms,
working-day deadlines and escalation with a filing-ready export, the green channel first, group complaints by
consent, published statistics."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from fairdesk.domain.complaints import OPEN, queue_key
from fairdesk.services import complaints as complaint_svc
from tests.conftest import Seed
from tests.fakes import SHANGHAI, FrozenClock
from tests.integration.test_api_tickets import open_ticket
from tests.integration.test_cli import cli  # noqa: F401 - a fixture

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FACTS = "上门维修后保险柜密码面板仍然无法开启，已经三次报修"


def file(client: TestClient, seed: Seed, who: str = "alice", key: str | None = None, **body: Any) -> Any:
    payload = {"category": "repair", "request": "免费更换密码面板", "facts": FACTS} | body
    headers = seed.auth(who) | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/complaints", json=payload, headers=headers)


def act(client: TestClient, seed: Seed, cid: int, action: str, who: str = "agent_a", **body: Any) -> Any:
    return client.post(f"/api/v1/complaints/{cid}/{action}", json=body, headers=seed.auth(who))


def count(wired: App, table: sa.Table) -> int:
    with wired.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def outbox(wired: App, kind: str) -> list[Any]:
    with wired.engine.connect() as conn:
        return conn.execute(sa.select(t.outbox).where(t.outbox.c.kind == kind)).all()


class TestFiling:
    def test_a_consumer_files_a_complaint_and_gets_its_number_and_deadlines(self, client: TestClient, seed: Seed,
                                                                              wired: App) -> None:
        r = file(client, seed)
        assert r.status_code == 201, r.text
        c = r.json()
        assert c["number"].startswith("TS20261124") and c["status"] == "received" and not c["green"]
        # Received Tuesday 24 Nov 10:00: 7 working days → the end of Thursday 3 December; 15 days to answer.
        assert c["deadlines"]["acceptance"] == "2026-12-04T00:00:00+08:00"
        assert c["deadlines"]["first_response"] == "2026-12-09T10:00:00+08:00"
        assert c["contact_phone"] == "+8613800138000" and c["complainant"] == "张丽"
        [sms] = outbox(wired, "complaint_received")
        assert sms.recipient == "+8613800138000" and c["number"] in sms.body

    def test_without_facts_or_request_it_is_refused_and_nothing_is_stored(self, client: TestClient, seed: Seed,
                                                                          wired: App) -> None:
        for body, code in (({"facts": "坏了"}, "complaint.facts_required"),
                           ({"facts": ""}, "complaint.facts_required"),
                           ({"request": "  "}, "complaint.request_required"),
                           ({"category": "unknown"}, "complaint.category"),
                           ({"contact_phone": "12"}, "complaint.contact")):
            r = file(client, seed, **body)
            assert r.status_code == 422 and r.json()["code"] == code, (body, r.text)
            assert r.json()["title"] and r.json()["detail"]
        assert count(wired, t.complaints) == 0

    def test_the_same_idempotency_key_files_once(self, client: TestClient, seed: Seed, wired: App) -> None:
        first = file(client, seed, key="k-1")
        again = file(client, seed, key="k-1")
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"] and count(wired, t.complaints) == 1
        assert file(client, seed, key="k-1", request="另一个诉求").status_code == 409

    def test_an_agent_files_for_a_caller_and_links_only_the_callers_records(self, client: TestClient,
                                                                             seed: Seed) -> None:
        ticket = open_ticket(client, seed).json()["id"]  # alice's
        assert file(client, seed, "agent_a").json()["code"] == "complaint.customer"
        r = file(client, seed, "agent_a", customer_id=seed.bob, ticket_id=ticket)
        assert r.status_code == 422 and r.json()["code"] == "complaint.link"
        ok = file(client, seed, "agent_a", customer_id=seed.alice, ticket_id=ticket)
        assert ok.status_code == 201 and ok.json()["links"]["ticket_id"] == ticket
        assert file(client, seed, "bob", customer_id=seed.alice).status_code == 404
        assert file(client, seed, "tech_a", customer_id=seed.alice).status_code == 403
        assert file(client, seed, "agent_b", customer_id=seed.alice).status_code == 404  # another brand


class TestWorkflow:
    def test_accept_respond_propose_and_only_the_consumer_confirms_and_closes(self, client: TestClient,
                                                                               seed: Seed, wired: App) -> None:
        cid = file(client, seed).json()["id"]
        assert act(client, seed, cid, "confirm", "alice").json()["code"] == "complaint.illegal_move"
        accepted = act(client, seed, cid, "accept", note="已受理")
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        # Mediation ends 45 working days after acceptance (New Year's Day 2027 is off).
        assert accepted.json()["deadlines"]["mediation_end"].startswith("2027-01-2")
        assert act(client, seed, cid, "respond", note="").status_code == 422
        r = act(client, seed, cid, "respond", note="已安排师傅明天上门复检")
        assert r.json()["status"] == "mediation" and r.json()["first_response_at"]
        act(client, seed, cid, "propose", note="免费更换密码面板并延保一年")
        for action in ("confirm", "close", "end-mediation", "decline"):
            r = act(client, seed, cid, action)  # the business trying the consumer's moves
            assert r.status_code == 403 and r.json()["code"] == "complaint.consumer_only", action
        assert act(client, seed, cid, "accept", "alice").json()["code"] == "complaint.business_only"
        assert act(client, seed, cid, "confirm", "bob").status_code == 404
        done = act(client, seed, cid, "confirm", "alice", note="已修好")
        assert done.json()["status"] == "settled" and done.json()["consumer_confirmed"]
        closed = act(client, seed, cid, "close", "alice")
        assert closed.json()["status"] == "closed"
        kinds = [(e["kind"], e["to"]) for e in closed.json()["events"]]
        assert kinds == [("filed", "received"), ("move", "accepted"), ("move", "mediation"), ("respond", None),
                         ("propose", None), ("move", "settled"), ("move", "closed")]
        assert client.delete(f"/api/v1/complaints/{cid}", headers=seed.auth("manager_a")).status_code in (404, 405)
        with wired.engine.connect() as conn:
            kinds = conn.execute(sa.select(t.evidence_entries.c.kind).where(
                t.evidence_entries.c.subject.like("complaint:%"))).scalars().all()
        assert kinds.count("complaint.confirm") == 1 and "complaint.filed" in kinds

    def test_a_rejection_needs_a_listed_reason_and_shows_where_to_go(self, client: TestClient, seed: Seed) -> None:
        cid = file(client, seed).json()["id"]
        assert act(client, seed, cid, "reject", note="不属实").json()["code"] == "complaint.reject_reason"
        assert act(client, seed, cid, "reject", reason="because", note="x").json()["code"] == \
            "complaint.reject_reason"
        r = act(client, seed, cid, "reject", reason="already_handled", note="已于上月处理完毕")
        assert r.json()["status"] == "rejected" and r.json()["reject_reason"] == "already_handled"
        assert [s["code"] for s in r.json()["next_steps"]] == ["12315", "12345"]

    def test_the_consumer_declines_a_proposal_and_ends_mediation(self, client: TestClient, seed: Seed) -> None:
        cid = file(client, seed).json()["id"]
        assert act(client, seed, cid, "decline", "alice").json()["code"] == "complaint.no_proposal"
        act(client, seed, cid, "propose", note="补偿50元")
        assert act(client, seed, cid, "decline", "alice", note="不接受").status_code == 200
        r = act(client, seed, cid, "end-mediation", "alice")
        assert r.json()["status"] == "mediation_ended" and [s["code"] for s in r.json()["next_steps"]] == \
            ["12315", "court"]

    def test_staff_of_another_brand_and_technicians_see_nothing(self, client: TestClient, seed: Seed) -> None:
        cid = file(client, seed).json()["id"]
        assert client.get(f"/api/v1/complaints/{cid}", headers=seed.auth("agent_b")).status_code == 404
        assert client.get(f"/api/v1/complaints/{cid}", headers=seed.auth("bob")).status_code == 404
        assert client.get(f"/api/v1/complaints/{cid}", headers=seed.auth("tech_a")).status_code == 403
        assert act(client, seed, cid, "accept", "auditor_a").status_code == 403
        assert client.get(f"/api/v1/complaints/{cid}", headers=seed.auth("auditor_a")).status_code == 200


class TestAttachments:
    def test_photos_and_pdfs_are_kept_with_their_hash_and_anything_else_is_refused(
            self, client: TestClient, seed: Seed, wired: App) -> None:
        cid = file(client, seed).json()["id"]

        def send(data: bytes, ctype: str, who: str = "alice") -> Any:
            return client.post(f"/api/v1/complaints/{cid}/attachments?filename=面板.png", content=data,
                               headers=seed.auth(who) | {"Content-Type": ctype})

        ok = send(PNG, "image/png")
        assert ok.status_code == 201 and len(ok.json()["sha256"]) == 64
        assert send(b"#!/bin/sh\nrm -rf /", "text/x-sh").json()["code"] == "complaint.attachment_type"
        assert send(b"\xff\xd8\xff\xe0" + b"0" * 20, "image/png").json()["code"] == "complaint.attachment_type"
        big = send(b"%PDF-" + b"0" * (complaint_svc.MAX_ATTACHMENT + 1), "application/pdf")
        assert big.status_code == 413 and big.json()["code"] == "request.too_large"
        assert send(PNG, "image/png", "bob").status_code == 404
        got = client.get(f"/api/v1/complaints/{cid}/attachments/{ok.json()['id']}", headers=seed.auth("agent_a"))
        assert got.content == PNG and got.headers["content-type"] == "image/png"
        assert count(wired, t.complaint_attachments) == 1
        assert file(client, seed).status_code == 201  # the refused uploads left the service working


class TestDeadlines:
    def test_a_missed_acceptance_deadline_shows_where_to_go_and_exports_a_filing_ready_case(
            self, client: TestClient, seed: Seed, wired: App, clock: FrozenClock) -> None:
        cid = file(client, seed).json()["id"]
        client.post(f"/api/v1/complaints/{cid}/attachments?filename=photo.png", content=PNG,
                    headers=seed.auth("alice") | {"Content-Type": "image/png"})
        clock.at = datetime(2026, 12, 3, 15, 59, tzinfo=UTC)  # 23:59 on the last working day: still in time
        assert complaint_svc.sweep(wired.uows, clock) == 0
        clock.at = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
        assert complaint_svc.sweep(wired.uows, clock) == 1
        assert complaint_svc.sweep(wired.uows, clock) == 0  # once
        c = client.get(f"/api/v1/complaints/{cid}", headers=seed.auth("alice")).json()
        assert c["overdue"] == ["acceptance"] and c["next_steps"][0]["code"] == "12315"
        [sms] = outbox(wired, "complaint_overdue")
        assert "12315" in sms.body
        case = client.get(f"/api/v1/complaints/{cid}/export", headers=seed.auth("alice")).json()
        assert case["form"]["request"] == "免费更换密码面板" and case["form"]["phone"] == "138 0013 8000"
        assert case["complaint"]["attachments"][0]["sha256"] and case["where_to_file"][0]["code"] == "12315"
        assert {e["kind"] for e in case["evidence_chain"]} >= {"complaint.filed", "complaint.attachment",
                                                               "complaint.overdue"}
        pdf = client.get(f"/api/v1/complaints/{cid}/export?format=pdf", headers=seed.auth("alice"))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and len(pdf.content) > 3000

    def test_mediation_ends_after_its_working_days_without_agreement(self, client: TestClient, seed: Seed,
                                                                     wired: App, clock: FrozenClock) -> None:
        cid = file(client, seed).json()["id"]
        due = act(client, seed, cid, "respond", note="我们正在核实").json()["deadlines"]["mediation_end"]
        clock.at = datetime.fromisoformat(due).astimezone(UTC)
        complaint_svc.sweep(wired.uows, clock)
        c = client.get(f"/api/v1/complaints/{cid}", headers=seed.auth("alice")).json()
        assert c["status"] == "mediation_ended" and c["next_steps"][-1]["code"] == "court"
        assert act(client, seed, cid, "close", "alice").json()["status"] == "closed"

    def test_a_brand_sets_its_own_terms_but_the_green_channel_never_slower(self, client: TestClient,
                                                                          seed: Seed) -> None:
        h = seed.auth("manager_a")
        r = client.put("/api/v1/complaints/terms/standard", json={"acceptance_wd": 3, "first_response_h": 48,
                                                                   "mediation_wd": 30}, headers=h)
        assert r.status_code == 200
        slow = client.put("/api/v1/complaints/terms/green", json={"acceptance_wd": 5, "first_response_h": 24,
                                                                   "mediation_wd": 15}, headers=h)
        assert slow.status_code == 422 and slow.json()["code"] == "complaint.green_slower"
        assert client.put("/api/v1/complaints/terms/green", json={"acceptance_wd": 1, "first_response_h": 24,
                                                                   "mediation_wd": 15},
                          headers=seed.auth("agent_a")).status_code == 403
        c = file(client, seed).json()
        assert c["deadlines"]["acceptance"] == "2026-11-28T00:00:00+08:00"  # Wed, Thu, Fri
        assert c["deadlines"]["first_response"] == "2026-11-26T10:00:00+08:00"


class TestGreenChannel:
    def test_green_channel_complaints_always_come_first_in_the_queue(self, client: TestClient, seed: Seed,
                                                                     clock: FrozenClock, wired: App) -> None:
        numbers = {}
        for i, category in enumerate(["repair", "parts", "refund", "billing", "cancellation", "service_quality",
                                      "plan_change", "human_access", "other"]):
            clock.advance(minutes=7)
            who = "alice" if i % 2 else "bob"
            numbers[file(client, seed, who, category=category).json()["number"]] = category
        queue = client.get("/api/v1/complaints", headers=seed.auth("agent_a")).json()
        greens = [c["green"] for c in queue]
        assert greens == [True] * 4 + [False] * 5
        assert {numbers[c["number"]] for c in queue[:4]} == {"refund", "cancellation", "plan_change",
                                                             "human_access"}
        [first] = [c for c in queue if numbers[c["number"]] == "refund"]
        assert first["deadlines"]["first_response"] == "2026-11-25T10:21:00+08:00"  # 24 h, not 15 days
        assert len(outbox(wired, "complaint_green")) == 0  # no manager with an e-mail in the seed
        mine = client.get("/api/v1/complaints", headers=seed.auth("alice")).json()
        assert len(mine) == 4
        stats = client.get("/api/v1/public/brands/angu/complaints").json()
        assert stats["green_channel"]["received"] == 4 and stats["standard"]["received"] == 5
        assert stats["by_category"]["refund"]["received"] == 1 and stats["terms"]["green"]["first_response_h"] == 24


    def test_the_database_orders_the_queue_by_the_published_rule(self, client: TestClient, seed: Seed,
                                                                 wired: App, clock: FrozenClock) -> None:
        rng = random.Random(11)
        categories = ["repair", "parts", "refund", "billing", "cancellation", "plan_change", "other"]
        for _ in range(36):
            clock.advance(minutes=rng.randint(1, 600))
            cid = file(client, seed, rng.choice(["alice", "bob"]), category=rng.choice(categories)).json()["id"]
            step = rng.random()
            if step < 0.3:
                act(client, seed, cid, "accept")
            elif step < 0.5:
                act(client, seed, cid, "respond", note="收到")
            elif step < 0.6:
                act(client, seed, cid, "reject", reason="duplicate", note="重复")
        queue = client.get("/api/v1/complaints?limit=500", headers=seed.auth("agent_a")).json()
        with wired.uows(readonly=True) as uow:
            rows = uow.complaints.listing(seed.brand_a, statuses=OPEN)
            expected = [c.number for c in sorted(rows, key=lambda c: (queue_key(c.green, c.next_due(), c.received_at),
                                                                      c.id))]
        assert [c["number"] for c in queue] == expected and len(expected) > 20
        first = client.get("/api/v1/complaints?limit=3", headers=seed.auth("agent_a")).json()
        assert [c["number"] for c in first] == expected[:3]


class TestGroups:
    def test_similar_complaints_are_proposed_and_joined_only_with_each_consumers_consent(
            self, client: TestClient, seed: Seed, wired: App) -> None:
        text = "购买的延保服务取消后三十天仍未退款，客服一直说在处理"
        a = file(client, seed, "alice", category="refund", facts=text).json()["id"]
        b = file(client, seed, "bob", category="refund", facts=text.replace("一直", "总是")).json()["id"]
        file(client, seed, "alice", category="refund", facts="发票抬头开错了，需要重新开具")
        proposals = client.get("/api/v1/complaints/groups/proposals", headers=seed.auth("agent_a")).json()
        assert [p["complaint_ids"] for p in proposals] == [[a, b]] and proposals[0]["consumers"] == 2
        g = client.post("/api/v1/complaint-groups", json={"complaint_ids": [a, b], "title": "延保退款拖延"},
                        headers=seed.auth("manager_a")).json()
        assert g["members"] == 0 and g["invited"] == 2 and not g["active"]
        gid = g["id"]
        # Nobody joins anybody else: not staff, not another consumer.
        assert client.post(f"/api/v1/complaint-groups/{gid}/consent", json={"complaint_id": a},
                           headers=seed.auth("manager_a")).json()["code"] == "complaint.consent_own"
        assert client.post(f"/api/v1/complaint-groups/{gid}/consent", json={"complaint_id": a},
                           headers=seed.auth("bob")).status_code == 404
        r = client.post(f"/api/v1/complaint-groups/{gid}/consent", json={"complaint_id": a, "representative": True},
                        headers=seed.auth("alice"))
        assert r.status_code == 200 and r.json()["members"] == 1
        # Before bob consents, handling alice's complaint does not touch his.
        act(client, seed, a, "accept")
        assert client.get(f"/api/v1/complaints/{b}", headers=seed.auth("bob")).json()["status"] == "received"
        assert client.post(f"/api/v1/complaint-groups/{gid}/consent", json={"complaint_id": b},
                           headers=seed.auth("bob")).json()["members"] == 2
        again = client.post(f"/api/v1/complaint-groups/{gid}/decline", json={"complaint_id": b},
                            headers=seed.auth("bob"))
        assert again.json()["code"] == "complaint.invitation_answered"
        act(client, seed, a, "respond", note="已统一核查退款流程，三日内退回")  # one handling for the group
        bob_view = client.get(f"/api/v1/complaints/{b}", headers=seed.auth("bob")).json()
        assert bob_view["status"] == "mediation" and bob_view["first_response_at"]
        group = client.get(f"/api/v1/complaint-groups/{gid}", headers=seed.auth("agent_a")).json()
        assert group["members"] == 2 and group["active"] and len(group["representatives"]) == 1
        # Consumer confirmation stays personal.
        assert act(client, seed, a, "confirm", "alice").json()["status"] == "settled"
        assert client.get(f"/api/v1/complaints/{b}", headers=seed.auth("bob")).json()["status"] == "mediation"

    def test_a_group_needs_two_consumers_of_one_issue(self, client: TestClient, seed: Seed) -> None:
        a = file(client, seed, "alice").json()["id"]
        a2 = file(client, seed, "alice").json()["id"]
        b = file(client, seed, "bob", category="billing").json()["id"]
        h = seed.auth("manager_a")
        r = client.post("/api/v1/complaint-groups", json={"complaint_ids": [a, a2], "title": "x"}, headers=h)
        assert r.json()["code"] == "complaint.group_size"
        r = client.post("/api/v1/complaint-groups", json={"complaint_ids": [a, b], "title": "x"}, headers=h)
        assert r.json()["code"] == "complaint.group_category"
        assert client.post("/api/v1/complaint-groups", json={"complaint_ids": [a, 999], "title": "x"},
                           headers=h).status_code == 404


def test_the_worker_runs_the_deadline_sweep(wired: App, seed: Seed, client: TestClient, clock: FrozenClock) -> None:
    from fairdesk.services.worker import PERIODIC
    file(client, seed)
    clock.at = datetime(2026, 12, 10, tzinfo=SHANGHAI)
    _every, job = PERIODIC["complaints.deadlines"]
    assert job(wired.uows, clock, "") == "complaints past a deadline 1"


def test_the_case_file_names_the_business_as_registered(client: TestClient, seed: Seed, cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The filing form asks for the business's full registered name and address: the operator sets them once."""
    cid = file(client, seed).json()["id"]
    before = client.get(f"/api/v1/complaints/{cid}/export", headers=seed.auth("alice")).json()["form"]
    assert before["business_address"] == ""  # nothing registered yet, and no outlet on this complaint
    refused = cli("brand", "registration", "--brand", "angu", "--legal-name", " ", "--address", "浙江省", code=2)
    assert "legal_name" in refused  # exit 2, the field and the reason
    cli("brand", "registration", "--brand", "angu", "--legal-name", "安固保险柜（浙江）有限公司",
        "--address", "浙江省金华市永康市经济开发区金都路 888 号")
    form = client.get(f"/api/v1/complaints/{cid}/export", headers=seed.auth("alice")).json()["form"]
    assert form["business"] == "安固保险柜（浙江）有限公司"
    assert form["business_address"] == "浙江省金华市永康市经济开发区金都路 888 号"
    pdf = client.get(f"/api/v1/complaints/{cid}/export?format=pdf", headers=seed.auth("alice"))
    import io

    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "金都路 888 号" in text and "被投诉方地址" in text and "T" not in text.split("投诉时间")[1][:25]
