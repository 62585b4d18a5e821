"""Faults with real processes: the API killed with SIGKILL in the middle of intake and restarted, the database
going away under a running server and coming back, SQLite's disk filling up.

What must hold: every request that got a 2xx is stored, none twice (the same Idempotency-Key answers with the
same ticket after the restart); an outage answers clean 503s with Retry-After and heals without a restart; a
full disk is a clear error, the database stays intact, and what was acknowledged is still there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from fairdesk.adapters.db import tables as t
from fairdesk.adapters.db.migrate import upgrade
from fairdesk.bootstrap import App
from tests.conftest import IN_CI, SECRET, Seed
from tests.integration.test_processes import FAIRDESK, free_port, wait_healthy


def serve(db_url: str, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    env = os.environ | {"FAIRDESK_DATABASE_URL": db_url, "FAIRDESK_SECRET_KEY": SECRET, "FAIRDESK_LOG_LEVEL": "ERROR"}
    return subprocess.Popen([*FAIRDESK, "serve", "--workers", str(workers), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def kill9(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the supervisor and its workers, no goodbyes
    proc.wait(timeout=30)


def ticket_count(wired: App) -> int:
    with wired.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t.tickets)).scalar_one()


def create(client: httpx.Client, base: str, seed: Seed, key: str) -> httpx.Response:
    return client.post(f"{base}/api/v1/tickets", headers=seed.auth("agent_a") | {"Idempotency-Key": key},
                       json={"customer_id": seed.alice, "category": "repair", "subject": f"fault {key}"})


def test_the_api_killed_mid_intake_loses_no_acknowledged_request_and_duplicates_none(
        db_url: str, wired: App, seed: Seed) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(db_url, port)
    wait_healthy(base, proc)
    acked: dict[str, str] = {}  # key -> ticket number, for every 2xx
    sent: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop(n: int) -> None:
        with httpx.Client(timeout=5) as c:
            for i in range(40):
                if stop.is_set():
                    return
                key = f"k-{n}-{i}"
                with lock:
                    sent.append(key)
                try:
                    r = create(c, base, seed, key)
                except httpx.TransportError:
                    return  # the server died under this request: its fate is unknown to the client
                if r.status_code in (200, 201):
                    with lock:
                        acked[key] = r.json()["number"]

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 60
    while len(acked) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    kill9(proc)
    stop.set()
    for th in threads:
        th.join(timeout=30)
    assert len(acked) >= 30, "the load never got going"
    before = dict(acked)
    proc = serve(db_url, port)
    try:
        wait_healthy(base, proc)
        with httpx.Client(timeout=10) as c:
            for key in sent:  # a client retries everything it sent, acknowledged or not
                r = create(c, base, seed, key)
                assert r.status_code in (200, 201), r.text
                if key in before:
                    assert r.status_code == 200 and r.json()["number"] == before[key]  # replayed, not new
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert ticket_count(wired) == len(set(sent))  # each key once: nothing lost, nothing twice
    with wired.engine.connect() as conn:
        numbers = set(conn.execute(sa.select(t.tickets.c.number)).scalars())
    assert set(before.values()) <= numbers


class Proxy:
    """A TCP forwarder standing in for the database's network: cut() drops every connection and refuses new
    ones (what a restarting PostgreSQL looks like to its clients); restore() listens again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.conns: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                down, _ = listener.accept()
            except OSError:
                return
            up = socket.create_connection(self.target)
            self.conns += [down, up]
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        assert self.listener is not None
        self.listener.close()
        for s in self.conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()
        self.conns = []


@pytest.mark.postgres
def test_a_database_outage_answers_503_with_retry_after_and_heals_without_a_restart(
        pg_database: str, wired_pg: tuple[App, Seed]) -> None:
    url = sa.make_url(pg_database)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    through = url.set(port=proxy.port).render_as_string(hide_password=False)
    _, seed = wired_pg
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(through, port, workers=1)
    try:
        wait_healthy(base, proc)
        with httpx.Client(timeout=10) as c:
            assert create(c, base, seed, "before").status_code == 201
            proxy.cut()
            for key in ("during-1", "during-2"):
                r = create(c, base, seed, key)
                assert r.status_code == 503 and r.headers["Retry-After"].isdigit(), r.text
                assert r.json()["code"] == "service.unavailable" and r.headers["content-type"] == \
                    "application/problem+json"
            assert c.get(base + "/healthz").status_code == 503
            proxy.restore()
            deadline, r = time.monotonic() + 20, None
            while time.monotonic() < deadline:
                r = create(c, base, seed, "during-1")  # the client retries, as Retry-After told it
                if r.status_code != 503:
                    break
                time.sleep(0.5)
            assert r is not None and r.status_code == 201, r.text if r is not None else "no answer"
            assert c.get(base + "/healthz").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proxy.cut()


@pytest.fixture
def wired_pg(pg_database: str) -> Iterator[tuple[App, Seed]]:
    """The seed (brand, users, tokens, customers) in the session's PostgreSQL database, truncated first."""
    from fairdesk.bootstrap import bootstrap
    from fairdesk.config import load_settings
    from tests.conftest import _truncate_pg, make_seed
    from tests.fakes import FrozenClock

    _truncate_pg(pg_database)
    app = bootstrap(load_settings(database_url=pg_database, secret_key=SECRET), clock=FrozenClock())
    try:
        yield app, make_seed(app)
    finally:
        app.dispose()


MOUNT, UMOUNT = shutil.which("mount") or "/bin/mount", shutil.which("umount") or "/bin/umount"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs: room for the migrated schema and a few hundred requests, then SQLITE_FULL."""
    where = tmp_path / "tiny"
    where.mkdir()
    done = subprocess.run([MOUNT, "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        reason = f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    try:
        yield where
    finally:
        subprocess.run([UMOUNT, "-l", str(where)], check=False)


def test_a_full_disk_under_sqlite_is_a_clean_error_and_corrupts_nothing(tiny_disk: Path) -> None:
    from fairdesk.bootstrap import bootstrap
    from fairdesk.config import load_settings
    from tests.conftest import make_seed
    from tests.fakes import FrozenClock

    url = f"sqlite:///{tiny_disk / 'fairdesk.db'}"
    upgrade(url)
    app = bootstrap(load_settings(database_url=url, secret_key=SECRET), clock=FrozenClock())
    seed = make_seed(app)
    app.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(url, port, workers=1)
    acked, full = [], None
    try:
        wait_healthy(base, proc)
        with httpx.Client(timeout=10) as c:
            for i in range(2000):
                r = create(c, base, seed, f"d-{i}")
                if r.status_code == 201:
                    acked.append(r.json()["number"])
                    continue
                full = r
                break
            assert full is not None, "the disk never filled"
            assert full.status_code == 503 and full.json()["code"] == "storage.full", full.text
            assert full.headers["Retry-After"] == "30" and full.json()["title"]
            reads = c.get(base + "/api/v1/tickets?limit=1", headers=seed.auth("agent_a"))
            assert reads.status_code == 200  # reads go on
            subprocess.run([MOUNT, "-o", "remount,size=8m", str(tiny_disk)], check=True)
            again = create(c, base, seed, "after-room")
            assert again.status_code == 201, again.text  # no restart, no repair
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
        stored = set(conn.execute(sa.select(t.tickets.c.number)).scalars())
    engine.dispose()
    assert len(acked) > 5 and set(acked) <= stored and len(stored) == len(acked) + 1
