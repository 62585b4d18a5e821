"""The real `fairdesk worker` process on SQLite and PostgreSQL: killed with SIGKILL in the middle of a batch
and restarted, it delivers every message at least once, and through a receiver that drops repeats by event
id, exactly once; it escalates a breached ticket into a real SMTP inbox."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from fairdesk.domain.people import Actor, Role
from fairdesk.services import identity
from fairdesk.services import webhooks as webhook_svc
from fairdesk.services.notify import Notifier
from tests.conftest import SECRET, Seed
from tests.integration.test_api_tickets import open_ticket
from tests.integration.test_escalations import smtp  # noqa: F401 - fixture
from tests.integration.test_processes import FAIRDESK

MESSAGES = 150


class SlowReceiver(BaseHTTPRequestHandler):
    received: list[str]
    lock: threading.Lock

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.02)  # a real endpoint takes a while: the kill lands mid-batch
        with self.lock:
            self.received.append(self.headers["X-Fairdesk-Event-Id"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_receiver() -> Iterator[tuple[list[str], str]]:
    handler = type("H", (SlowReceiver,), {"received": [], "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield handler.received, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()


def start_worker(db_url: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*FAIRDESK, "worker"], env=os.environ | {
        "FAIRDESK_DATABASE_URL": db_url, "FAIRDESK_SECRET_KEY": SECRET, "FAIRDESK_WORKER_LEASE_S": "2",
        "FAIRDESK_WORKER_POLL_S": "0.2", "FAIRDESK_WEBHOOK_ALLOW_PRIVATE": "true", **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_a_worker_killed_mid_batch_loses_nothing(wired: App, seed: Seed, db_url: str,
                                                 slow_receiver: tuple[list[str], str]) -> None:
    received, url = slow_receiver
    manager = Actor(seed.brand_a, Role.MANAGER, label="t")
    webhook_svc.add_webhook(wired.uows(), manager, url, [], wired.clock, allow_private=True)
    with wired.uows() as uow:
        notifier = Notifier(uow, wired.clock)
        for i in range(MESSAGES):
            notifier.webhook(seed.brand_a, "ticket.created", {"n": i})
        notifier.flush()
        uow.commit()
    with wired.engine.connect() as conn:
        expected = set(conn.execute(sa.select(t.outbox.c.event_id)).scalars())
    assert len(expected) == MESSAGES

    first = start_worker(db_url)
    wait_for(lambda: len(received) >= 40 or first.poll() is not None, 60, "the first deliveries")
    assert first.poll() is None, first.stderr.read().decode()[-2000:]
    first.kill()  # SIGKILL: no clean-up, a batch half sent and its lease still held
    first.wait()
    at_kill = len(set(received))
    assert at_kill < MESSAGES, "the kill came too late to test anything"

    second = start_worker(db_url)
    try:
        def all_sent() -> bool:
            with wired.engine.connect() as conn:
                return conn.execute(sa.select(sa.func.count()).select_from(t.outbox)
                                    .where(t.outbox.c.status != "sent")).scalar_one() == 0
        wait_for(all_sent, 90, "every message to be marked sent")
    finally:
        stop(second)
    assert set(received) == expected  # at least once: nothing lost
    assert len(set(received)) == MESSAGES  # a deduplicating receiver sees each exactly once
    repeats = len(received) - MESSAGES
    assert 0 <= repeats <= 50  # only what was in flight at the kill (one batch) can come twice


def test_a_worker_process_escalates_a_breach_into_a_real_smtp_inbox(client: TestClient, wired: App, seed: Seed,
                                                                    db_url: str, smtp: Any) -> None:  # noqa: F811
    inbox, port = smtp
    identity.create_user(identity.CreateUser("angu", "boss", "王经理", Role.MANAGER, email="boss@angu.example"),
                         wired.uows(), wired.clock)
    # Opened at the frozen clock's time (2026-11-24 10:00 Shanghai), long past by the worker's real clock.
    tid = open_ticket(client, seed).json()["id"]
    worker = start_worker(db_url, FAIRDESK_SMTP_HOST="127.0.0.1", FAIRDESK_SMTP_PORT=str(port))
    try:
        wait_for(lambda: any("已超时" in str(m["Subject"]) for m in inbox.messages) or worker.poll() is not None,
                 60, "the breach e-mail")
        assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
    finally:
        stop(worker)
    breach = next(m for m in inbox.messages if "已超时" in str(m["Subject"]))
    assert breach["To"] == "boss@angu.example" and f"/tickets/{tid}" in breach.get_content()
    kinds = [e["kind"] for e in client.get(f"/api/v1/tickets/{tid}/events", headers=seed.auth("agent_a")).json()]
    assert kinds.count("escalation") >= 2  # first response 75 % and 100 % at least
