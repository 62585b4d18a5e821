"""The web shell: login, language, staff list and ticket page, the customer's own requests."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from fairdesk.bootstrap import App, bootstrap
from fairdesk.config import load_settings
from fairdesk.domain.people import Role
from tests.conftest import Seed
from tests.integration.test_api_tickets import open_ticket


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def login(client: TestClient, username: str, password: str) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": password, "csrf": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


class TestLogin:
    def test_pages_need_a_login(self, client: TestClient, seed: Seed) -> None:
        r = client.get("/tickets", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"

    def test_each_role_lands_on_its_main_page_and_only_the_demo_shows_its_users(
            self, client: TestClient, seed: Seed, wired: App) -> None:
        from fairdesk.entrypoints.app import create_app
        from fairdesk.services import identity

        for username, role, home in (("agent_a", None, "/console"), ("alice", None, "/my"),
                                     ("tech", Role.TECHNICIAN, "/my-day"), ("disp", Role.DISPATCHER, "/dispatch"),
                                     ("boss", Role.MANAGER, "/dashboard"), ("audit", Role.AUDITOR, "/dashboard")):
            if role is not None:
                identity.create_user(identity.CreateUser("angu", username, username, role, f"{username}-password"),
                                     wired.uows(), wired.clock)
            client.cookies.clear()
            token = csrf_of(client.get("/login").text)
            r = client.post("/login", data={"username": username, "password": f"{username}-password",
                                            "csrf": token}, follow_redirects=False)
            assert r.headers["location"] == home, username
            assert client.get("/", follow_redirects=False).headers["location"] == home
        assert 'id="demo-users"' not in client.get("/login").text  # a real installation shows no accounts
        demo = bootstrap(load_settings(database_url=wired.settings.database_url, demo=True), clock=wired.clock)
        with TestClient(create_app(demo)) as demo_client:
            page = demo_client.get("/login").text
        demo.dispose()
        assert 'id="demo-users"' in page and "demo-technician" in page and "技师" in page

    def test_a_wrong_password_shows_an_error_in_chinese_by_default(self, client: TestClient, seed: Seed) -> None:
        token = csrf_of(client.get("/login").text)
        r = client.post("/login", data={"username": "agent_a", "password": "nope-nope", "csrf": token})
        assert r.status_code == 401 and "用户名或密码错误" in r.text

    def test_a_login_form_without_its_csrf_token_is_refused(self, client: TestClient, seed: Seed) -> None:
        client.get("/login")
        r = client.post("/login", data={"username": "agent_a", "password": "agent_a-password"})
        assert r.status_code == 403
        assert client.get("/tickets", follow_redirects=False).status_code == 303

    def test_logout_ends_the_session(self, client: TestClient, seed: Seed) -> None:
        login(client, "agent_a", "agent_a-password")
        page = client.get("/tickets")
        client.post("/logout", data={"csrf": csrf_of(page.text)})
        assert client.get("/tickets", follow_redirects=False).status_code == 303


class TestStaffPages:
    def test_an_agent_sees_the_list_and_moves_a_ticket_on_its_page(self, client: TestClient, seed: Seed) -> None:
        ticket = open_ticket(client, seed).json()
        login(client, "agent_a", "agent_a-password")
        listing = client.get("/tickets")
        assert ticket["number"] in listing.text and "工单" in listing.text
        page = client.get(f"/tickets/{ticket['id']}")
        assert "处理记录" in page.text and 'value="triaged"' in page.text
        r = client.post(f"/tickets/{ticket['id']}/move", data={"to": "triaged", "note": "已受理",
                                                              "csrf": csrf_of(page.text)})
        assert r.status_code == 200 and "已受理" in r.text
        r = client.post(f"/tickets/{ticket['id']}/comment", data={"text": "<script>alert(1)</script>",
                                                                 "csrf": csrf_of(r.text)})
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert(1)" not in r.text
        events = client.get(f"/api/v1/tickets/{ticket['id']}/events", headers=seed.auth("agent_a")).json()
        assert [e["kind"] for e in events] == ["created", "transition", "comment"]

    def test_an_illegal_move_from_a_form_is_an_error_page_and_changes_nothing(self, client: TestClient,
                                                                              seed: Seed) -> None:
        ticket = open_ticket(client, seed).json()
        login(client, "agent_a", "agent_a-password")
        page = client.get(f"/tickets/{ticket['id']}")
        r = client.post(f"/tickets/{ticket['id']}/move", data={"to": "closed", "csrf": csrf_of(page.text)})
        assert r.status_code == 409 and "不允许的状态变更" in r.text
        assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=seed.auth("agent_a")).json()["status"] == "new"

    def test_the_language_switch_turns_pages_english(self, client: TestClient, seed: Seed) -> None:
        login(client, "agent_a", "agent_a-password")
        client.get("/lang/en?next=/tickets")
        assert "Tickets" in client.get("/tickets").text and "工单" not in client.get("/tickets").text
        r = client.get("/lang/en?next=//evil.example", follow_redirects=False)
        assert r.headers["location"] == "/"


class TestCustomerPages:
    def test_a_customer_sees_only_their_own_requests(self, client: TestClient, seed: Seed) -> None:
        mine = open_ticket(client, seed, subject="我的保险柜").json()
        theirs = open_ticket(client, seed, customer_id=seed.bob, subject="别人的保险柜").json()
        login(client, "alice", "alice-password")
        page = client.get("/my")
        assert "我的服务请求" in page.text and mine["number"] in page.text and theirs["number"] not in page.text
        assert client.get(f"/tickets/{theirs['id']}").status_code == 404
        assert client.get(f"/tickets/{mine['id']}").status_code == 200
        assert client.get("/tickets", follow_redirects=False).headers["location"] == "/my"


def test_pages_and_api_answers_carry_a_content_security_policy(client: TestClient, seed: Seed) -> None:
    for path in ("/login", "/check", "/api/v1/tickets", "/healthz"):
        r = client.get(path)
        assert "script-src 'self'" in r.headers["content-security-policy"], path
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
