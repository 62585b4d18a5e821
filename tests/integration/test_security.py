"""Authentication under attack and who sees what: login lockout with growing waits, rate limits on the public
endpoints, masked phone numbers and addresses, audited staff reads of customer data."""

from __future__ import annotations

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
