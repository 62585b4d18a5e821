"""Tenant isolation on every route, generated from the route table: another brand's caller never gets in.

For every /api/v1 route with path ids, a caller from brand B uses brand A's real ids and must get 404 (or
403 for a role check that comes first), never 2xx and never 5xx. Adding a route without an access check
makes this test fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fairdesk.bootstrap import App
from fairdesk.domain.people import Actor, Role
from fairdesk.services import customers as customer_svc
from fairdesk.services import dispatch
from fairdesk.services import plans as plans_svc
from fairdesk.services import webhooks as webhook_svc
from tests.conftest import Seed
from tests.integration.field import make_field
from tests.integration.test_api_tickets import open_ticket
from tests.integration.test_plans_api import catalogue

PUBLIC = {"/api/v1/regions/resolve", "/api/v1/channels/check", "/api/v1/clauses/check", "/api/v1/auth/token",
          "/api/v1/evidence/verify-bundle", "/api/v1/evidence/keys/{brand_code}", "/api/v1/transparency/{brand_code}",
          "/api/v1/surveys/{token}", "/api/v1/dispatch/scoring", "/api/v1/public/brands/{brand_code}/complaints",
          "/api/v1/credit/{brand_code}", "/api/v1/credit/{brand_code}/explain", "/api/v1/credit/method"}
#: Routes with ids that are nobody's brand data: the national working-day calendar of a year.
NATIONAL = {"/api/v1/calendar/{year}"}
BODIES = {"transitions": {"to": "triaged"}, "comments": {"text": "hi"}, "units": {"product_model": "AG-3050",
          "serial_number": "X-1"}, "changes": {"to_plan": "plus", "preview": True},
          "areas": {"text": "北京市朝阳区"}, "hours": {"shifts": "09:00-18:00"},
          "closures": {"day": "2026-12-24", "reason": "盘点"}, "messages": {"text": "你好"}, "link": {"ticket_id": 1},
          "assignee": {"assignee_id": None}, "done": {"note": "called back"}, "{technician_id}": {"active": True},
          "certifications": {"product_line": "home-safe", "level": 1, "valid_from": "2026-01-01",
                             "valid_to": "2027-01-01"},
          "leave": {"starts_at": "2026-12-01T00:00:00+08:00", "ends_at": "2026-12-02T00:00:00+08:00"},
          "dispatch": {}, "reschedule": {"starts_at": "2026-11-26T09:00:00+08:00",
                                         "ends_at": "2026-11-26T11:00:00+08:00"},
          "cancel": {}, "no-show": {}, "check-out": {"work_done": "done"}, "{action}": {"note": "x"},
          "{channel}": {"acceptance_wd": 7, "first_response_h": 360, "mediation_wd": 45}}


@pytest.fixture
def brand_a_ids(client: TestClient, seed: Seed, wired: App) -> dict[str, object]:
    ticket = open_ticket(client, seed).json()
    plans_svc.import_catalogue(Actor(seed.brand_a, Role.MANAGER, label="t"), catalogue(), wired.uows())
    sub = client.post("/api/v1/subscriptions", headers=seed.auth("alice"), json={
        "customer_id": seed.alice, "plan": "basic", "payment_method": "alipay"}).json()
    change = client.post(f"/api/v1/subscriptions/{sub['id']}/changes", headers=seed.auth("alice"),
                         json={"to_plan": "plus"}).json()
    client.post("/api/v1/network/outlets", headers=seed.auth("manager_a"),
                json={"code": "AG-1", "name": "网点", "address": "北京市朝阳区"})
    conversation = client.post("/api/v1/conversations", headers=seed.auth("alice"), json={"channel": "web"}).json()
    manager = Actor(seed.brand_a, Role.MANAGER, label="t")
    hook = webhook_svc.add_webhook(wired.uows(), manager, "http://127.0.0.1:9/hook", [], wired.clock,
                                   allow_private=True)
    with wired.uows() as uow:
        task_id = uow.tasks.add(seed.brand_a, "survey.follow_up", "回访", wired.clock.now())
        uow.commit()
    complaint = client.post("/api/v1/complaints", headers=seed.auth("alice"), json={
        "category": "refund", "request": "退款", "facts": "取消服务后三十天仍未退款"}).json()
    attachment = client.post(f"/api/v1/complaints/{complaint['id']}/attachments", content=b"%PDF-1.4 x",
                             headers=seed.auth("alice") | {"Content-Type": "application/pdf"}).json()
    photo = client.post(f"/api/v1/tickets/{ticket['id']}/attachments", content=b"\x89PNG\r\n\x1a\n x",
                        headers=seed.auth("alice") | {"Content-Type": "image/png"}).json()
    assert photo["id"] == attachment["id"]  # one {attachment_id} serves both tables' routes
    third = customer_svc.create_customer(customer_svc.CreateCustomer(manager, "王五", ["13700001111"]),
                                         wired.uows(), wired.clock)
    other = client.post("/api/v1/complaints", headers=seed.auth("agent_a"), json={
        "customer_id": third.id, "category": "refund", "request": "退款", "facts": "取消服务后三十天仍未退款"}).json()
    group = client.post("/api/v1/complaint-groups", headers=seed.auth("manager_a"), json={
        "complaint_ids": [complaint["id"], other["id"]], "title": "退款"}).json()
    arrangement = (Path(__file__).parents[1] / "data" / "calendars" / "2027-fabricated.txt").read_text("utf-8")
    calendar_draft = client.post("/api/v1/calendar/drafts", headers=seed.auth("manager_a"),
                                 json={"text": arrangement}).json()["id"]
    f = make_field(wired, seed)
    visit = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket), wired.uows, wired.clock)
    return {"technician_id": f.wang, "visit_id": visit["id"], "kind": "stock",
            "webhook_id": hook["id"], "task_id": task_id, "conversation_id": conversation["id"],
            "ticket_id": ticket["id"], "number": ticket["number"], "customer_id": seed.alice,
            "unit_id": seed.alice_unit, "subscription_id": sub["id"], "change_id": change["change_id"],
            "code": "AG-1", "complaint_id": complaint["id"], "attachment_id": attachment["id"],
            "group_id": group["id"], "action": "accept", "answer": "consent", "channel": "standard",
            "brand_code": "angu", "draft_id": calendar_draft}


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the API, from the OpenAPI document the app serves."""
    spec = client.get("/openapi.json").json()
    return [(m.upper(), path) for path, ops in spec["paths"].items() if path.startswith("/api/v1")
            for m in ops if m in ("get", "post", "put", "patch", "delete")]


def routes(client: TestClient) -> list[tuple[str, str]]:
    return [(m, p) for m, p in api_routes(client) if "{" in p and p not in PUBLIC | NATIONAL]


def test_every_route_with_ids_refuses_another_brands_caller(client: TestClient, seed: Seed,
                                                            brand_a_ids: dict[str, object]) -> None:
    checked = []
    for method, path in routes(client):
        url = re.sub(r"\{(\w+)\}", lambda m: str(brand_a_ids[m.group(1)]), path)
        body = next((b for k, b in BODIES.items() if path.rstrip("/").endswith(k)), None)
        for who in ("agent_b", "bob"):  # another brand's staff; another customer of the same brand
            r = client.request(method, url, headers=seed.auth(who), json={"complaint_id": brand_a_ids[
                "complaint_id"]} if path.endswith("{answer}") else body)
            assert r.status_code in (403, 404), (who, method, url, r.status_code, r.text[:200])
        checked.append(path)
    assert len(checked) >= 10  # the table really was walked


def test_every_route_needs_credentials_except_the_public_ones(client: TestClient) -> None:
    walked = api_routes(client)
    assert len(walked) >= 30
    for method, path in walked:
        if path in PUBLIC:
            continue
        url = re.sub(r"\{\w+\}", "1", path)
        resp = client.request(method, url, json={})
        assert resp.status_code in (401, 422), (method, url, resp.status_code)
