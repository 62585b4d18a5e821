"""The ticket API end to end on SQLite and PostgreSQL: lifecycle, idempotency, isolation, bad input."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Seed


def open_ticket(client: TestClient, seed: Seed, who: str = "agent_a", key: str | None = None,
                **body: Any) -> Any:
    payload = {"customer_id": seed.alice, "category": "repair", "subject": "密码面板无反应"} | body
    headers = seed.auth(who) | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/tickets", json=payload, headers=headers)


def count_tickets(client: TestClient, seed: Seed) -> int:
    return len(client.get("/api/v1/tickets?limit=200", headers=seed.auth("manager_a")).json()["items"])


class TestLifecycle:
    def test_a_ticket_goes_from_new_to_closed_and_its_history_shows_every_step(
            self, client: TestClient, seed: Seed) -> None:
        r = open_ticket(client, seed, unit_id=seed.alice_unit, channel="hotline", priority="high")
        assert r.status_code == 201, r.text
        ticket = r.json()
        assert ticket["number"] == "AG-20261124-000001"  # brand prefix, Shanghai day, sequence
        assert ticket["status"] == "new" and ticket["created_at"].endswith("+08:00")
        tid = ticket["id"]
        for to in ("triaged", "scheduled", "in_progress", "waiting_parts", "in_progress", "resolved"):
            r = client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": to, "note": f"→ {to}"},
                            headers=seed.auth("agent_a"))
            assert r.status_code == 200, r.text
            assert r.json()["status"] == to
        r = client.post(f"/api/v1/tickets/{tid}/comments", json={"text": "已修好，请确认"},
                        headers=seed.auth("agent_a"))
        assert r.status_code == 201
        # The customer confirms the repair: only they close it here.
        r = client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "closed"}, headers=seed.auth("alice"))
        assert r.status_code == 200 and r.json()["status"] == "closed"
        events = client.get(f"/api/v1/tickets/{tid}/events", headers=seed.auth("alice")).json()
        steps = [(e["kind"], e["from_status"], e["to_status"]) for e in events]
        assert steps == [
            ("created", None, "new"), ("transition", "new", "triaged"), ("transition", "triaged", "scheduled"),
            ("transition", "scheduled", "in_progress"), ("transition", "in_progress", "waiting_parts"),
            ("transition", "waiting_parts", "in_progress"), ("transition", "in_progress", "resolved"),
            ("comment", None, None), ("transition", "resolved", "closed")]
        assert events[0]["actor"] == "agent:agent_a" and events[-1]["actor"] == "customer:alice"

    def test_ticket_numbers_count_up_per_brand_and_day(self, client: TestClient, seed: Seed) -> None:
        numbers = [open_ticket(client, seed).json()["number"] for _ in range(3)]
        assert numbers == ["AG-20261124-000001", "AG-20261124-000002", "AG-20261124-000003"]
        other = client.post("/api/v1/tickets", headers=seed.auth("agent_b"), json={
            "customer_id": seed.carol, "category": "consultation", "subject": "hello"}).json()
        assert other["number"] == "OB-20261124-000001"

    def test_an_illegal_transition_is_refused_and_changes_nothing(self, client: TestClient, seed: Seed) -> None:
        tid = open_ticket(client, seed).json()["id"]
        r = client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "closed"}, headers=seed.auth("agent_a"))
        assert r.status_code == 409
        assert r.json()["code"] == "ticket.illegal_transition"
        assert r.headers["content-type"] == "application/problem+json"
        assert client.get(f"/api/v1/tickets/{tid}", headers=seed.auth("agent_a")).json()["status"] == "new"
        assert len(client.get(f"/api/v1/tickets/{tid}/events", headers=seed.auth("agent_a")).json()) == 1

    def test_an_auditor_reads_but_cannot_move_or_comment(self, client: TestClient, seed: Seed) -> None:
        tid = open_ticket(client, seed).json()["id"]
        assert client.get(f"/api/v1/tickets/{tid}", headers=seed.auth("auditor_a")).status_code == 200
        r = client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "triaged"},
                        headers=seed.auth("auditor_a"))
        assert r.status_code == 403
        r = client.post(f"/api/v1/tickets/{tid}/comments", json={"text": "x"}, headers=seed.auth("auditor_a"))
        assert r.status_code == 403


class TestIdempotency:
    def test_the_same_key_and_body_return_the_same_ticket(self, client: TestClient, seed: Seed) -> None:
        first = open_ticket(client, seed, key="call-0001")
        again = open_ticket(client, seed, key="call-0001")
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert first.json()["id"] == again.json()["id"]
        assert count_tickets(client, seed) == 1

    def test_the_same_key_with_another_body_is_409(self, client: TestClient, seed: Seed) -> None:
        open_ticket(client, seed, key="call-0002")
        r = open_ticket(client, seed, key="call-0002", subject="另一件事")
        assert r.status_code == 409 and r.json()["code"] == "idempotency.key_reused"
        assert count_tickets(client, seed) == 1

    def test_keys_are_scoped_to_the_caller(self, client: TestClient, seed: Seed) -> None:
        a = open_ticket(client, seed, who="agent_a", key="k")
        b = open_ticket(client, seed, who="manager_a", key="k")
        assert a.json()["id"] != b.json()["id"]

    def test_concurrent_retries_with_one_key_create_one_ticket(self, client: TestClient, seed: Seed) -> None:
        results: list[int] = []
        errors: list[str] = []

        def send() -> None:
            r = open_ticket(client, seed, key="storm")
            (results.append(r.json()["id"]) if r.status_code in (200, 201) else errors.append(r.text))

        threads = [threading.Thread(target=send) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(set(results)) == 1 and len(results) == 8
        assert count_tickets(client, seed) == 1


class TestTenantIsolation:
    def test_another_brands_agent_gets_404_for_our_ticket(self, client: TestClient, seed: Seed) -> None:
        tid = open_ticket(client, seed).json()["id"]
        for method, path, body in (("get", f"/api/v1/tickets/{tid}", None),
                                   ("get", f"/api/v1/tickets/{tid}/events", None),
                                   ("post", f"/api/v1/tickets/{tid}/transitions", {"to": "triaged"}),
                                   ("post", f"/api/v1/tickets/{tid}/comments", {"text": "hi"})):
            r = client.request(method, path, json=body, headers=seed.auth("agent_b"))
            assert r.status_code == 404, (path, r.text)
            assert r.json()["code"] == "ticket.not_found"
        assert client.get(f"/api/v1/tickets/{tid}", headers=seed.auth("agent_a")).json()["status"] == "new"

    def test_another_brands_agent_does_not_see_our_tickets_in_lists(self, client: TestClient, seed: Seed) -> None:
        open_ticket(client, seed)
        assert client.get("/api/v1/tickets", headers=seed.auth("agent_b")).json()["items"] == []

    def test_another_brands_agent_cannot_open_a_ticket_for_our_customer(self, client: TestClient,
                                                                        seed: Seed) -> None:
        r = client.post("/api/v1/tickets", headers=seed.auth("agent_b"),
                        json={"customer_id": seed.alice, "category": "repair", "subject": "x"})
        assert r.status_code == 404 and r.json()["code"] == "customer.not_found"
        assert client.get(f"/api/v1/customers/{seed.alice}", headers=seed.auth("agent_b")).status_code == 404

    def test_a_customer_cannot_read_another_customers_ticket(self, client: TestClient, seed: Seed) -> None:
        theirs = open_ticket(client, seed, customer_id=seed.bob).json()
        r = client.get(f"/api/v1/tickets/{theirs['id']}", headers=seed.auth("alice"))
        assert r.status_code == 404
        by_number = client.get(f"/api/v1/tickets/by-number/{theirs['number']}", headers=seed.auth("alice"))
        assert by_number.status_code == 404
        assert client.get("/api/v1/tickets", headers=seed.auth("alice")).json()["items"] == []
        assert client.get(f"/api/v1/customers/{seed.bob}", headers=seed.auth("alice")).status_code == 404

    def test_a_customer_opens_tickets_only_for_themselves(self, client: TestClient, seed: Seed) -> None:
        mine = open_ticket(client, seed, who="alice", channel="web")
        assert mine.status_code == 201 and mine.json()["customer_id"] == seed.alice
        r = open_ticket(client, seed, who="alice", customer_id=seed.bob)
        assert r.status_code == 404
        assert [t["id"] for t in client.get("/api/v1/tickets", headers=seed.auth("alice")).json()["items"]] == [
            mine.json()["id"]]

    def test_a_unit_of_another_customer_cannot_be_attached(self, client: TestClient, seed: Seed) -> None:
        r = open_ticket(client, seed, customer_id=seed.bob, unit_id=seed.alice_unit)
        assert r.status_code == 422 and r.json()["code"] == "ticket.unit_not_customers"


class TestListing:
    def test_keyset_pages_cover_every_ticket_once_newest_first(self, client: TestClient, seed: Seed) -> None:
        ids = [open_ticket(client, seed).json()["id"] for _ in range(7)]
        seen, cursor = [], None
        while True:
            url = "/api/v1/tickets?limit=3" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(url, headers=seed.auth("agent_a")).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == sorted(ids, reverse=True)

    def test_filters_narrow_the_list(self, client: TestClient, seed: Seed) -> None:
        a = open_ticket(client, seed, category="installation").json()["id"]
        b = open_ticket(client, seed, customer_id=seed.bob).json()["id"]
        client.post(f"/api/v1/tickets/{b}/transitions", json={"to": "triaged"}, headers=seed.auth("agent_a"))
        h = seed.auth("agent_a")
        assert [t["id"] for t in client.get("/api/v1/tickets?category=installation", headers=h).json()["items"]] == [a]
        assert [t["id"] for t in client.get("/api/v1/tickets?status=triaged", headers=h).json()["items"]] == [b]
        bobs = client.get(f"/api/v1/tickets?customer_id={seed.bob}", headers=h).json()["items"]
        assert [t["id"] for t in bobs] == [b]
        since = client.get("/api/v1/tickets?created_from=2026-11-24T09:00:00%2B08:00", headers=h).json()["items"]
        assert len(since) == 2
        later = client.get("/api/v1/tickets?created_from=2026-11-25T00:00:00%2B08:00", headers=h).json()["items"]
        assert later == []


class TestBadInput:
    """Every bad request is a 4xx problem with a stable code, and stores nothing."""

    @pytest.mark.parametrize(("body", "status", "code"), [
        ({"customer_id": 1, "category": "repair", "subject": "x", "bogus": 1}, 422, "input.invalid"),
        ({"customer_id": "abc", "category": "repair", "subject": "x"}, 422, "input.invalid"),
        ({"customer_id": 1, "category": "teleport", "subject": "x"}, 422, "input.invalid"),
        ({"customer_id": 1, "category": "repair", "subject": "x" * 201}, 422, "input.invalid"),
        ({"customer_id": 1, "category": "repair", "subject": "x", "description": "y" * 10_001}, 422,
         "input.invalid"),
        ({"customer_id": 1, "category": "repair"}, 422, "input.invalid"),
        ({"customer_id": 99_999, "category": "repair", "subject": "x"}, 404, "customer.not_found"),
        ({"customer_id": 2**63, "category": "repair", "subject": "x"}, 422, "input.invalid"),
        ([1, 2, 3], 400, "request.malformed"),
    ])
    def test_bad_ticket_bodies(self, client: TestClient, seed: Seed, body: Any, status: int, code: str) -> None:
        r = client.post("/api/v1/tickets", json=body, headers=seed.auth("agent_a"))
        assert r.status_code == status, r.text
        problem = r.json()
        assert problem["code"] == code and problem["title"] and problem["detail"]
        assert count_tickets(client, seed) == 0

    def test_malformed_json_is_400(self, client: TestClient, seed: Seed) -> None:
        r = client.post("/api/v1/tickets", content=b"{not json", headers=seed.auth("agent_a") | {
            "content-type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "request.malformed"

    def test_an_oversized_body_is_413_before_parsing(self, client: TestClient, seed: Seed) -> None:
        r = client.post("/api/v1/tickets", content=b"x" * 2_000_000, headers=seed.auth("agent_a") | {
            "content-type": "application/json"})
        assert r.status_code == 413 and r.json()["code"] == "request.too_large"

    def test_an_invalid_phone_number_is_refused(self, client: TestClient, seed: Seed) -> None:
        for phone in ("12345", "1380013800", "not a phone", "+1 555"):
            r = client.post("/api/v1/customers", json={"name": "王五", "phones": [phone]},
                            headers=seed.auth("agent_a"))
            assert r.status_code == 422 and r.json()["code"] == "customer.invalid_phone", phone

    def test_phone_numbers_are_stored_in_e164_and_found_by_any_spelling(self, client: TestClient,
                                                                        seed: Seed) -> None:
        r = client.post("/api/v1/customers", json={"name": "王五", "phones": ["138-0013-8001"],
                                                   "addresses": ["北京市朝阳区建国路1号"]},
                        headers=seed.auth("agent_a"))
        assert r.status_code == 201 and r.json()["phones"] == ["+8613800138001"]
        found = client.get("/api/v1/customers?phone=%2B86 138 0013 8001", headers=seed.auth("agent_a")).json()
        assert [c["name"] for c in found["items"]] == ["王五"]
        assert client.get("/api/v1/customers?phone=13800138001", headers=seed.auth("agent_b")).json()["items"] == []

    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer fd_nope"}, {"Authorization": "Basic x"},
                                         {"Authorization": "Bearer " + "x" * 500}])
    def test_missing_or_bad_credentials_are_401(self, client: TestClient, seed: Seed,
                                                headers: dict[str, str]) -> None:
        r = client.get("/api/v1/tickets", headers=headers)
        assert r.status_code == 401 and r.json()["code"].startswith("auth.")
        assert r.headers["www-authenticate"] == "Bearer"

    def test_a_wrong_password_gets_no_token(self, client: TestClient, seed: Seed) -> None:
        r = client.post("/api/v1/auth/token", json={"username": "agent_a", "password": "wrong-password"})
        assert r.status_code == 401 and r.json()["code"] == "auth.bad_credentials"
        r = client.post("/api/v1/auth/token", json={"username": "agent_a", "password": "agent_a-password"})
        assert r.status_code == 201 and r.json()["token"].startswith("fd_")

    def test_a_revoked_token_is_refused_at_once(self, client: TestClient, seed: Seed) -> None:
        assert client.get("/api/v1/me", headers=seed.auth("agent_a")).status_code == 200  # now cached
        assert client.delete("/api/v1/auth/token", headers=seed.auth("agent_a")).status_code == 204
        r = client.get("/api/v1/me", headers=seed.auth("agent_a"))
        assert r.status_code == 401 and r.json()["code"] == "auth.bad_token"

    def test_bad_cursors_ids_and_filters_are_4xx(self, client: TestClient, seed: Seed) -> None:
        h = seed.auth("agent_a")
        for url in ("/api/v1/tickets?cursor=%%%", "/api/v1/tickets?cursor=aWQ6LTE", "/api/v1/tickets?limit=0",
                    "/api/v1/tickets?status=lost", "/api/v1/tickets/0", "/api/v1/tickets/abc",
                    "/api/v1/tickets?created_from=2026-11-24T00:00:00"):
            r = client.get(url, headers=h)
            assert 400 <= r.status_code < 500, (url, r.status_code, r.text)
            assert r.json()["code"]

    def test_problems_speak_the_requests_language(self, client: TestClient, seed: Seed) -> None:
        zh = client.get("/api/v1/tickets/999", headers=seed.auth("agent_a"))
        en = client.get("/api/v1/tickets/999", headers=seed.auth("agent_a") | {"Accept-Language": "en"})
        assert (zh.json()["title"], en.json()["title"]) == ("工单不存在", "Ticket not found")

    def test_unknown_routes_and_methods_are_problems_too(self, client: TestClient, seed: Seed) -> None:
        assert client.get("/api/v1/nothing-here").json()["code"] == "route.not_found"
        r = client.delete("/api/v1/tickets", headers=seed.auth("agent_a"))
        assert r.status_code == 405 and r.json()["code"] == "route.method_not_allowed"


class TestUnits:
    def test_units_register_once_per_serial(self, client: TestClient, seed: Seed) -> None:
        body = {"product_model": "AG-3050", "serial_number": "SN-9", "purchase_date": "2026-01-02",
                "warranty_end": "2029-01-01"}
        r = client.post(f"/api/v1/customers/{seed.bob}/units", json=body, headers=seed.auth("agent_a"))
        assert r.status_code == 201, r.text
        again = client.post(f"/api/v1/customers/{seed.alice}/units", json=body, headers=seed.auth("agent_a"))
        assert again.status_code == 409 and again.json()["code"] == "unit.serial_registered"
        bad = body | {"serial_number": "SN-10", "warranty_end": "2025-01-01"}
        r = client.post(f"/api/v1/customers/{seed.bob}/units", json=bad, headers=seed.auth("agent_a"))
        assert r.status_code == 422 and r.json()["code"] == "unit.warranty_before_purchase"
        units = client.get(f"/api/v1/customers/{seed.bob}/units", headers=seed.auth("bob")).json()
        assert [u["serial_number"] for u in units] == ["SN-9"]
        assert client.get(f"/api/v1/customers/{seed.bob}/units", headers=seed.auth("alice")).status_code == 404


def test_health_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/tickets" in spec["paths"]
    assert client.get("/docs").status_code == 200
