"""Real processes: `fairdesk serve --workers 2`, `fairdesk demo`, `fairdesk db upgrade`, migrations."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fairdesk.adapters.db.migrate import upgrade
from fairdesk.adapters.db.tables import metadata
from tests.conftest import SECRET

FAIRDESK = [sys.executable, "-m", "fairdesk"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Until /healthz answers 200; the process's output in the error when it dies or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stderr or proc.stdout
            raise AssertionError(f"server exited with {proc.returncode}: {out.read().decode()[-3000:] if out else ''}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become healthy")


def test_migrations_produce_exactly_the_models_schema(db_url: str) -> None:
    """What `alembic check` checks in CI, on both databases, from an empty database."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDESK_")}
    env["FAIRDESK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    r = subprocess.run([*FAIRDESK, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "FAIRDESK_SECRET_KEY" in r.stderr and "Traceback" not in r.stderr


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = os.environ | {"FAIRDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "FAIRDESK_SECRET_KEY": SECRET}
    r = subprocess.run([*FAIRDESK, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "fairdesk db upgrade" in r.stderr


def test_serve_with_two_workers_answers_on_a_migrated_database(db_url: str) -> None:
    env = os.environ | {"FAIRDESK_DATABASE_URL": db_url, "FAIRDESK_SECRET_KEY": SECRET}
    up = subprocess.run([*FAIRDESK, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    port = free_port()
    proc = subprocess.Popen([*FAIRDESK, "serve", "--workers", "2", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        assert httpx.get(base + "/login").status_code == 200
        r = httpx.get(base + "/api/v1/tickets")
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("runs", [2])
def test_demo_creates_its_data_once_and_serves_it(tmp_path: Path, runs: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDESK_")}
    for _ in range(runs):  # a second run finds the data there and keeps it
        r = subprocess.run([*FAIRDESK, "demo", "--dir", str(tmp_path), "--no-serve"], env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    assert "already there" in r.stdout and "demo-agent" in r.stdout
    port = free_port()
    proc = subprocess.Popen([*FAIRDESK, "demo", "--dir", str(tmp_path), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        with httpx.Client(base_url=base) as web:
            token = web.post("/api/v1/auth/token", json={"username": "agent", "password": "demo-agent"}).json()
            tickets = web.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token['token']}"}).json()
            from fairdesk.entrypoints.cli.demo_data import _TICKETS

            assert len(tickets["items"]) == len(_TICKETS) == 7
            assert web.get("/docs").status_code == 200 and web.get("/login").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_db_upgrade_is_repeatable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    upgrade(url)  # already at head: nothing to do, no error
    engine = sa.create_engine(url)
    assert "tickets" in sa.inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
