"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL, a wired app, seeded brands.

PostgreSQL tests need a server at FAIRDESK_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
When none answers they are skipped with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fairdesk.adapters.db.migrate import upgrade
from fairdesk.adapters.db.tables import metadata
from fairdesk.bootstrap import App, bootstrap
from fairdesk.config import load_settings
from fairdesk.domain.people import Role
from fairdesk.entrypoints.app import create_app
from fairdesk.services import customers as customer_svc
from fairdesk.services import identity
from tests.fakes import FrozenClock

PG_ADMIN_URL = os.environ.get("FAIRDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _pg_reason() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"no PostgreSQL at {PG_ADMIN_URL}: {type(exc).__name__}"
    return None


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head, dropped at the end."""
    reason = _pg_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    name = f"fairdesk_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = sa.create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a new SQLite file, or the session's PostgreSQL database truncated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fairdesk.db'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def wired(db_url: str, clock: FrozenClock) -> Iterator[App]:
    app = bootstrap(load_settings(database_url=db_url, secret_key=SECRET), clock=clock)
    yield app
    app.dispose()


@dataclass
class Seed:
    """Two brands, staff of each with API tokens, and customers with units."""

    tokens: dict[str, str]
    brand_a: int
    brand_b: int
    alice: int  # customer of brand A, also a web user "alice"
    bob: int  # another customer of brand A
    carol: int  # customer of brand B
    alice_unit: int

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


# Only the users who log in with a password get one: argon2 is slow by design, tokens are not.
PASSWORDS = {name: f"{name}-password" for name in ("agent_a", "alice")}


@pytest.fixture
def seed(wired: App) -> Seed:
    return make_seed(wired)


def make_seed(wired: App) -> Seed:
    """The seed data in the wired app's database (also for tests that run their own servers)."""
    uows, clock = wired.uows, wired.clock
    a = identity.create_brand(uows(), clock, code="angu", name="安固保险柜", ticket_prefix="AG")
    b = identity.create_brand(uows(), clock, code="other", name="Other Brand", ticket_prefix="OB")
    from fairdesk.domain.people import Actor

    op_a = Actor(brand_id=a.id, role=Role.MANAGER, label="seed")
    op_b = Actor(brand_id=b.id, role=Role.MANAGER, label="seed")
    customer_svc.create_product(customer_svc.CreateProduct(op_a, "AG-3050", "家用保险柜", "home-safe"), uows())
    alice = customer_svc.create_customer(customer_svc.CreateCustomer(
        op_a, "张丽", ["13800138000"], ["福建省漳州市漳浦县府前街18号"]), uows(), clock)
    bob = customer_svc.create_customer(customer_svc.CreateCustomer(op_a, "李波", ["13912345678"]), uows(), clock)
    carol = customer_svc.create_customer(customer_svc.CreateCustomer(op_b, "Carol", ["15011112222"]),
                                         uows(), clock)
    unit = customer_svc.register_unit(customer_svc.RegisterUnit(op_a, alice.id, "AG-3050", "SN-0001"), uows())
    users = [("agent_a", "angu", Role.AGENT, None), ("manager_a", "angu", Role.MANAGER, None),
             ("tech_a", "angu", Role.TECHNICIAN, None), ("auditor_a", "angu", Role.AUDITOR, None),
             ("agent_b", "other", Role.AGENT, None), ("alice", "angu", Role.CUSTOMER, alice.id),
             ("bob", "angu", Role.CUSTOMER, bob.id)]
    tokens = {}
    for username, brand, role, customer_id in users:
        identity.create_user(identity.CreateUser(brand, username, username, role, PASSWORDS.get(username),
                                                 customer_id), uows(), clock)
        tokens[username] = identity.issue_token(uows(), clock, username)
    return Seed(tokens, a.id, b.id, alice.id, bob.id, carol.id, unit.id)


@pytest.fixture
def client(wired: App) -> Iterator[TestClient]:
    with TestClient(create_app(wired), raise_server_exceptions=False) as c:
        yield c
