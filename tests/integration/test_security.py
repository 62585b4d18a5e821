"""Authentication under attack and who sees what: login lockout with growing waits, rate limits on the public
endpoints, masked phone numbers and addresses, audited staff reads of customer data."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from fairdesk.domain.people import Lockout
from tests.conftest import PASSWORDS, Seed
from tests.fakes import FrozenClock
from tests.integration.test_web import csrf_of


def token(client: TestClient, username: str, password: str) -> object:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


class TestLockout:
    def test_repeated_failures_lock_the_name_with_growing_waits_even_for_the_right_password(
            self, client: TestClient, seed: Seed, clock: FrozenClock) -> None:
        for _ in range(5):
            r = token(client, "agent_a", "wrong-password")
            assert r.status_code == 401 and r.json()["code"] == "auth.bad_credentials"
        locked = token(client, "agent_a", PASSWORDS["agent_a"])
        assert locked.status_code == 429 and locked.json()["code"] == "auth.locked"
        assert locked.headers["Retry-After"] == "30" and locked.json()["title"] == "登录失败次数过多，请稍后再试"
        clock.advance(seconds=31)
        assert token(client, "agent_a", "wrong-again").status_code == 401  # the sixth failure: 60 s now
        clock.advance(seconds=31)
        assert token(client, "agent_a", PASSWORDS["agent_a"]).headers["Retry-After"] == "29"
        clock.advance(seconds=30)
        assert token(client, "agent_a", PASSWORDS["agent_a"]).status_code == 201
        # A success clears the count: four more failures do not lock.
        for _ in range(4):
            assert token(client, "agent_a", "wrong").status_code == 401
        assert token(client, "agent_a", PASSWORDS["agent_a"]).status_code == 201

    def test_unknown_names_lock_the_same_way_and_other_names_are_untouched(self, client: TestClient,
                                                                           seed: Seed) -> None:
        for _ in range(5):
            assert token(client, "nobody-here", "x").status_code == 401
        assert token(client, "nobody-here", "x").status_code == 429
        assert token(client, "NOBODY-here", "x").status_code == 429  # the same name in other letters
        assert token(client, "alice", PASSWORDS["alice"]).status_code == 201

    def test_the_login_page_says_to_wait(self, client: TestClient, seed: Seed) -> None:
        page = client.get("/login")
        for _ in range(5):
            client.post("/login", data={"username": "alice", "password": "nope", "csrf": csrf_of(page.text)})
        r = client.post("/login", data={"username": "alice", "password": PASSWORDS["alice"],
                                        "csrf": csrf_of(page.text)}, follow_redirects=False)
        assert r.status_code == 429 and "登录失败次数过多" in r.text and int(r.headers["Retry-After"]) > 0


def test_the_wait_doubles_up_to_an_hour() -> None:
    lock = Lockout()
    assert [lock.locked_for(n) for n in range(1, 9)] == [0, 0, 0, 0, 30, 60, 120, 240]
    assert lock.locked_for(50) == 3600


class TestRateLimits:
    def test_public_endpoints_refuse_a_flood_from_one_address_with_retry_after(self, db_url: str,
                                                                                  clock: FrozenClock) -> None:
        from fairdesk.bootstrap import bootstrap
        from fairdesk.config import load_settings
        from fairdesk.entrypoints.app import create_app
        from tests.conftest import SECRET

        wired = bootstrap(load_settings(database_url=db_url, secret_key=SECRET, rate_limit_public="5/minute",
                                        rate_limit_login="3/minute", rate_limit_intake="2/minute"), clock=clock)
        try:
            with TestClient(create_app(wired), raise_server_exceptions=False) as c:
                codes = [c.get("/api/v1/channels/check", params={"value": "400-888-6666"}).status_code
                         for _ in range(6)]
                assert codes[:5] != [429] * 5 and codes[5] == 429
                r = c.get("/check")
                assert r.status_code == 429 and r.json()["code"] == "rate.limited"
                assert 1 <= int(r.headers["Retry-After"]) <= 60 and r.json()["title"] == "请求过于频繁，请稍后再试"
                assert c.get("/healthz").status_code == 200  # not a public endpoint: not counted
                logins = [c.post("/api/v1/auth/token", json={"username": f"u{i}", "password": "x"}).status_code
                          for i in range(4)]
                assert logins == [401, 401, 401, 429]
                intake = [c.post("/api/v1/tickets", json={}, headers={"Authorization": f"Bearer fd_{who}"})
                          .status_code for who in ("a", "a", "a", "b")]
                assert intake == [401, 401, 429, 401]  # per credential: another token is not held back
        finally:
            wired.dispose()

    def test_a_bad_rate_setting_is_refused_at_start(self) -> None:
        import pytest

        from fairdesk.config import SettingsError, load_settings
        from tests.conftest import SECRET

        with pytest.raises(SettingsError):
            load_settings(secret_key=SECRET, rate_limit_login="lots")


class TestPrivacy:
    def test_contact_details_are_masked_unless_you_handle_the_customer(self, client: TestClient,
                                                                       seed: Seed) -> None:
        from tests.integration.test_api_tickets import open_ticket

        url = f"/api/v1/customers/{seed.alice}"
        own = client.get(url, headers=seed.auth("alice")).json()
        assert own["phones"] == ["+8613800138000"] and own["addresses"][0]["text"] == "福建省漳州市漳浦县府前街18号"
        for who in ("agent_a", "auditor_a", "tech_a", "manager_a"):
            seen = client.get(url, headers=seed.auth(who)).json()
            assert seen["masked"] and seen["phones"] == ["+86138****8000"], who
            assert seen["addresses"][0]["text"] == "福建省漳州市漳浦县****", who
        ticket = open_ticket(client, seed).json()
        agent_id = client.get("/api/v1/me", headers=seed.auth("agent_a")).json()["user_id"]
        assert client.put(f"/api/v1/tickets/{ticket['id']}/assignee", json={"assignee_id": agent_id},
                          headers=seed.auth("manager_a")).status_code == 200
        handled = client.get(url, headers=seed.auth("agent_a")).json()
        assert not handled["masked"] and handled["phones"] == ["+8613800138000"]
        assert client.get(url, headers=seed.auth("auditor_a")).json()["masked"]
        # A hotline lookup shows the number the caller gave, and nothing more.
        bob = client.get("/api/v1/customers", params={"phone": "139 1234 5678"},
                         headers=seed.auth("auditor_a")).json()["items"]
        assert [c["phones"] for c in bob] == [["+8613912345678"]] and bob[0]["masked"]

    def test_every_staff_read_is_on_record_and_the_customer_sees_it(self, client: TestClient, seed: Seed) -> None:
        url = f"/api/v1/customers/{seed.alice}"
        client.get(url, headers=seed.auth("agent_a"))
        client.get(url, headers=seed.auth("alice"))  # the customer's own reads are not logged
        client.get("/api/v1/customers", params={"phone": "13800138000"}, headers=seed.auth("auditor_a"))
        client.get("/api/v1/evidence/bundle", params={"customer_id": seed.alice}, headers=seed.auth("manager_a"))
        log = client.get(f"{url}/access-log", headers=seed.auth("alice"))
        assert log.status_code == 200
        assert [(e["role"], e["what"]) for e in log.json()] == [
            ("manager", "evidence.bundle"), ("auditor", "customer.lookup"), ("agent", "customer")]
        assert client.get(f"{url}/access-log", headers=seed.auth("manager_a")).status_code == 200
        assert client.get(f"{url}/access-log", headers=seed.auth("agent_a")).status_code == 403
        assert client.get(f"{url}/access-log", headers=seed.auth("bob")).status_code == 404
        assert client.get(f"{url}/access-log", headers=seed.auth("agent_b")).status_code in (403, 404)


class TestHostileInput:
    def test_injection_attempts_are_harmless(self, client: TestClient, seed: Seed) -> None:
        from tests.integration.test_complaints import file
        from tests.integration.test_web import login

        evil = "<script>alert(1)</script>' OR 1=1; DROP TABLE complaints; --"
        r = file(client, seed, facts=evil * 2, request=evil)
        assert r.status_code == 201 and r.json()["facts"] == evil * 2  # stored as text, nothing executed
        lookup = client.get("/api/v1/customers", params={"phone": "' OR '1'='1"}, headers=seed.auth("agent_a"))
        assert lookup.status_code == 422
        listed = client.get("/api/v1/tickets", params={"status": "new' OR 1=1 --"}, headers=seed.auth("agent_a"))
        assert listed.status_code == 422
        login(client, "alice", PASSWORDS["alice"])
        page = client.get(f"/my/complaints/{r.json()['id']}")
        assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert len(client.get("/api/v1/complaints", headers=seed.auth("agent_a")).json()) == 1

    def test_no_password_or_token_reaches_the_logs(self, client: TestClient, seed: Seed,
                                                    capsys: object) -> None:
        secret_password = "correct-horse-battery-staple-9"
        token(client, "agent_a", secret_password)
        issued = token(client, "alice", PASSWORDS["alice"]).json()["token"]
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued}"})
        out = capsys.readouterr()  # type: ignore[attr-defined]
        logged = out.out + out.err
        assert "request" in logged  # the logs were captured
        for secret in (secret_password, PASSWORDS["alice"], issued, "agent_a"):
            assert secret not in logged

    def test_web_sessions_expire(self, client: TestClient, seed: Seed) -> None:
        from tests.integration.test_web import login

        login(client, "alice", PASSWORDS["alice"])
        cookie = next(c for c in client.cookies.jar if c.name == "fairdesk_session")
        assert cookie.expires is not None and cookie.expires - time.time() <= 8 * 3600 + 5
