"""Long-running work started from a page: queued by the web, run by a worker, its progress readable while it
runs; an import still all-or-nothing; an export as a file; who may start and see what; a dead worker's run
taken over; the real `fairdesk worker` process doing a run started from the page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from fairdesk.bootstrap import App
from fairdesk.domain.errors import Forbidden, InvalidInput, NotFound
from fairdesk.domain.people import Actor, Role
from fairdesk.services import identity, workforce
from fairdesk.services import runs as run_svc
from tests.conftest import Seed
from tests.integration.field import Field, make_field
from tests.integration.test_api_tickets import open_ticket
from tests.integration.test_web import csrf_of, login
from tests.integration.test_worker_process import start_worker, stop, wait_for

ROWS = 450  # three slices of CHUNK = 200


@pytest.fixture
def f(wired: App, seed: Seed) -> Field:
    return make_field(wired, seed)


def _manager(wired: App, seed: Seed, username: str = "boss", role: Role = Role.MANAGER) -> Actor:
    user = identity.create_user(identity.CreateUser("angu", username, username.title(), role, f"{username}-password"),
                                wired.uows(), wired.clock)
    return identity.actor_for(user)


def _usernames(wired: App, actor: Actor) -> set[str]:
    return {t["username"] for t in workforce.list_technicians(wired.uows(readonly=True), actor, wired.clock)}


def _technicians_csv(n: int, bad_rows: tuple[int, ...] = ()) -> bytes:
    lines = ["username,display_name,outlet_code,weekdays"]
    for i in range(n):
        outlet = "NOPE" if i in bad_rows else "ZP-01"
        lines.append(f"t{i:04d},师傅{i},{outlet},1-5")
    return ("\n".join(lines) + "\n").encode()


def _watch(monkeypatch: pytest.MonkeyPatch, wired: App, actor: Actor, run_id: int) -> list[tuple[str, int, int]]:
    """What the page would have read, from its own read-only transaction, after each progress write."""
    seen: list[tuple[str, int, int]] = []
    write = run_svc.Progress.__call__

    def spy(self: run_svc.Progress, phase: str, done: int, total: int, *, now: bool = False) -> None:
        write(self, phase, done, total, now=True)
        r = run_svc.get_run(wired.uows, actor, wired.clock, run_id)
        seen.append((r["phase"], r["done"], r["total"]))

    monkeypatch.setattr(run_svc.Progress, "__call__", spy)
    return seen


def test_an_import_shows_its_progress_and_is_applied_once_every_row_is_checked(
        wired: App, seed: Seed, f: Field, monkeypatch: pytest.MonkeyPatch) -> None:
    boss = _manager(wired, seed)
    run_id = run_svc.start(wired.uows, boss, wired.clock, "import.technicians", {"filename": "techs.csv"},
                           _technicians_csv(ROWS))
    queued = run_svc.get_run(wired.uows, boss, wired.clock, run_id)
    assert queued["status"] == "queued" and queued["params"] == {"partial": False, "filename": "techs.csv"}
    seen = _watch(monkeypatch, wired, boss, run_id)
    assert run_svc.run_next(wired.uows, wired.clock) is True
    assert seen == [("checking", 0, ROWS), ("checking", 200, ROWS), ("checking", 400, ROWS),
                    ("checking", ROWS, ROWS), ("saving", ROWS, ROWS)]
    done = run_svc.get_run(wired.uows, boss, wired.clock, run_id)
    assert done["status"] == "done" and done["percent"] == 100 and done["attempts"] == 1
    assert done["result"] == {"kind": "technicians", "rows": ROWS, "imported": ROWS, "applied": True, "errors": []}
    assert {"t0000", f"t{ROWS - 1:04d}"} <= _usernames(wired, boss)
    assert run_svc.run_next(wired.uows, wired.clock) is False  # nothing left; the file was dropped
    with wired.uows(readonly=True) as uow:
        from fairdesk.adapters.db import tables as t

        assert uow.session.execute(t.runs.select().where(t.runs.c.id == run_id)).first().input is None


def test_one_bad_row_in_a_later_slice_imports_nothing_unless_good_rows_are_kept(
        wired: App, seed: Seed, f: Field) -> None:
    boss = _manager(wired, seed)
    data = _technicians_csv(ROWS, bad_rows=(300,))
    run_id = run_svc.start(wired.uows, boss, wired.clock, "import.technicians", {}, data)
    run_svc.run_next(wired.uows, wired.clock)
    r = run_svc.get_run(wired.uows, boss, wired.clock, run_id)
    # Row 302 as the spreadsheet shows it: the header is row 1, the 301st data row (index 300) is row 302.
    assert r["status"] == "done" and r["result"]["applied"] is False and r["result"]["imported"] == 0
    assert [(e["row"], e["code"]) for e in r["result"]["errors"]] == [(302, "outlet.not_found")]
    assert not any(name.startswith("t0") for name in _usernames(wired, boss))
    kept = run_svc.start(wired.uows, boss, wired.clock, "import.technicians", {"partial": True}, data)
    run_svc.run_next(wired.uows, wired.clock)
    r = run_svc.get_run(wired.uows, boss, wired.clock, kept)
    assert r["result"]["applied"] is True and r["result"]["imported"] == ROWS - 1
    names = _usernames(wired, boss)
    assert "t0299" in names and "t0300" not in names


def test_an_export_writes_the_brands_requests_as_csv_without_contact_details(
        client: TestClient, wired: App, seed: Seed) -> None:
    for i in range(5):
        assert open_ticket(client, seed, subject=f"导出测试 {i}").status_code == 201
    auditor = _manager(wired, seed, "inspector", Role.AUDITOR)
    run_id = run_svc.start(wired.uows, auditor, wired.clock, "export.tickets", {"days": 7})
    run_svc.run_next(wired.uows, wired.clock)
    r = run_svc.get_run(wired.uows, auditor, wired.clock, run_id)
    assert r["status"] == "done" and r["result"] == {"tickets": 5, "days": 7}
    data, name, media_type = run_svc.output(wired.uows, auditor, run_id)
    assert data.startswith(b"\xef\xbb\xbf") and name.endswith(".csv") and media_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(r["主题"] for r in rows) == [f"导出测试 {i}" for i in range(5)]  # headers in words
    assert all(r["服务单号"].startswith("AG-") and r["状态"] == "新建" for r in rows)  # values in words
    assert not re.search(r"[a-z]+_[a-z]+|T\d\d:\d\d:\d\d", data.decode("utf-8-sig"))  # no codes, no ISO times
    assert "13800138000" not in data.decode("utf-8-sig") and "漳浦县" not in data.decode("utf-8-sig")
    wired.clock.advance(days=8)  # outside the period: an export of the last 7 days is empty
    later = run_svc.start(wired.uows, auditor, wired.clock, "export.tickets", {"days": 7})
    run_svc.run_next(wired.uows, wired.clock)
    assert run_svc.get_run(wired.uows, auditor, wired.clock, later)["result"]["tickets"] == 0


def test_who_may_start_and_see_a_run(wired: App, seed: Seed, f: Field) -> None:
    boss = _manager(wired, seed)
    agent = identity.actor_for(identity.authenticate(wired.uows, "agent_a", "agent_a-password", wired.clock))
    dispatcher = _manager(wired, seed, "disp", Role.DISPATCHER)
    with pytest.raises(Forbidden):
        run_svc.start(wired.uows, agent, wired.clock, "export.tickets", {"days": 30})
    with pytest.raises(Forbidden):
        run_svc.start(wired.uows, dispatcher, wired.clock, "import.technicians", {}, _technicians_csv(1))
    with pytest.raises(Forbidden):
        run_svc.start(wired.uows, dispatcher, wired.clock, "report.credit", {})
    mine = run_svc.start(wired.uows, dispatcher, wired.clock, "import.stock", {},
                         b"location,sku,qty\nWH-FJ,BAT-AA,10\n")
    theirs = run_svc.start(wired.uows, boss, wired.clock, "export.tickets", {"days": 30})
    assert run_svc.get_run(wired.uows, boss, wired.clock, mine)["kind"] == "import.stock"  # managers see all
    with pytest.raises(NotFound):
        run_svc.get_run(wired.uows, dispatcher, wired.clock, theirs)  # others only their own
    other_brand = Actor(brand_id=seed.brand_b, role=Role.MANAGER, user_id=boss.user_id, label="x")
    with pytest.raises(NotFound):
        run_svc.get_run(wired.uows, other_brand, wired.clock, theirs)
    for kind, params, data, code in (("export.tickets", {"days": 3}, None, "run.days"),
                                     ("erase.everything", {}, None, "run.kind"),
                                     ("import.stock", {}, b"", "import.empty"),
                                     ("import.stock", {}, b"PK\x03\x04not a workbook", "import.bad_xlsx")):
        with pytest.raises(InvalidInput) as err:
            run_svc.start(wired.uows, boss, wired.clock, kind, params, data)
        assert err.value.code == code
    with pytest.raises(Forbidden):  # a run is done later as the user who asked: a user it must be
        run_svc.start(wired.uows, Actor(seed.brand_a, Role.MANAGER, label="script"), wired.clock, "report.sla", {})
    assert len(run_svc.recent(wired.uows, boss, wired.clock)) == 2  # refused starts queued nothing


def test_a_run_whose_worker_died_is_taken_over_when_its_lease_runs_out(wired: App, seed: Seed, f: Field) -> None:
    boss = _manager(wired, seed)
    run_id = run_svc.start(wired.uows, boss, wired.clock, "export.tickets", {"days": 30})
    now = wired.clock.now()
    with wired.uows() as uow:  # a worker claims it and dies
        assert uow.runs.claim(now, now + timedelta(seconds=run_svc.LEASE_S)).id == run_id
        uow.commit()
    assert run_svc.run_next(wired.uows, wired.clock) is False  # its lease still runs
    wired.clock.advance(seconds=run_svc.LEASE_S + 1)
    assert run_svc.run_next(wired.uows, wired.clock) is True
    r = run_svc.get_run(wired.uows, boss, wired.clock, run_id)
    assert r["status"] == "done" and r["attempts"] == 2


def test_a_run_fails_with_its_reason_when_the_work_refuses(wired: App, seed: Seed, f: Field) -> None:
    boss = _manager(wired, seed)
    run_id = run_svc.start(wired.uows, boss, wired.clock, "import.technicians", {}, b"username,outlet_code\nx,ZP-01\n")
    run_svc.run_next(wired.uows, wired.clock)
    r = run_svc.get_run(wired.uows, boss, wired.clock, run_id)
    assert r["status"] == "failed" and r["error"].startswith("import.columns:") and "display_name" in r["error"]


def test_the_pages_start_a_run_poll_its_progress_and_offer_the_file(client: TestClient, wired: App, seed: Seed,
                                                                    f: Field) -> None:
    _manager(wired, seed)
    login(client, "boss", "boss-password")
    page = client.get("/runs")
    assert page.status_code == 200 and "导入表格" in page.text and "导出服务单（CSV）" in page.text
    started = client.post("/runs/import", data={"kind": "technicians", "csrf": csrf_of(page.text)},
                          files={"file": ("techs.csv", _technicians_csv(3), "text/csv")}, follow_redirects=False)
    assert started.status_code == 303
    run_url = started.headers["location"]
    queued = client.get(run_url + "/status")
    assert 'hx-trigger="every 1s"' in queued.text and "排队中" in queued.text  # the page keeps asking
    run_svc.run_next(wired.uows, wired.clock)
    finished = client.get(run_url + "/status")
    assert "hx-trigger" not in finished.text and "已导入 3 / 3 行" in finished.text  # and stops asking
    assert client.get(run_url).status_code == 200
    export = client.post("/runs/start", data={"kind": "export.tickets", "days": "30", "csrf": csrf_of(page.text)},
                         follow_redirects=False)
    run_svc.run_next(wired.uows, wired.clock)
    done = client.get(export.headers["location"])
    link = re.search(r'href="(/runs/\d+/output)"', done.text).group(1)
    file = client.get(link)
    assert file.status_code == 200 and file.headers["content-disposition"].startswith("attachment")
    assert file.content.decode("utf-8-sig").startswith("服务单号,受理时间,渠道,类别,优先级,状态")  # read in Excel
    # Bad input: a clear page, nothing queued.
    empty = client.post("/runs/import", data={"kind": "stock", "csrf": csrf_of(page.text)},
                        files={"file": ("empty.csv", b"", "text/csv")})
    assert empty.status_code == 422 and "文件为空" in empty.text
    too_big = client.post("/runs/import", data={"kind": "stock", "csrf": csrf_of(page.text)},
                          files={"file": ("big.csv", b"x" * (11 * 2**20), "text/csv")})
    assert too_big.status_code == 413
    assert client.post("/runs/start", data={"kind": "export.tickets", "days": "30"}).status_code == 403  # no CSRF
    assert len(run_svc.recent(wired.uows, identity.actor_for(
        identity.authenticate(wired.uows, "boss", "boss-password", wired.clock)), wired.clock)) == 2
    login(client, "alice", "alice-password")
    assert client.get(run_url).status_code == 404  # a customer sees no runs
    assert client.get("/runs", follow_redirects=False).headers["location"] == "/my"


def test_the_worker_process_does_the_run_a_page_started(client: TestClient, wired: App, seed: Seed, f: Field,
                                                        db_url: str) -> None:
    boss = _manager(wired, seed)
    run_id = run_svc.start(wired.uows, boss, wired.clock, "import.technicians", {}, _technicians_csv(ROWS))
    worker = start_worker(db_url)
    try:
        wait_for(lambda: run_svc.get_run(wired.uows, boss, wired.clock, run_id)["finished"], 60, "the run to end")
    finally:
        stop(worker)
    r = run_svc.get_run(wired.uows, boss, wired.clock, run_id)
    assert r["status"] == "done" and r["result"]["imported"] == ROWS


def test_sla_attainment_counts_every_clock_as_each_requests_page_shows_it(
        client: TestClient, wired: App, seed: Seed, f: Field) -> None:
    from fairdesk.services import sla
    from fairdesk.services import tickets as ticket_svc

    boss = _manager(wired, seed)
    ids = [open_ticket(client, seed, subject=f"时限 {i}").json()["id"] for i in range(4)]
    wired.clock.advance(minutes=20)
    client.post(f"/api/v1/tickets/{ids[0]}/comments", headers=seed.auth("agent_a"), json={"text": "已联系客户"})
    client.post(f"/api/v1/tickets/{ids[1]}/transitions", headers=seed.auth("agent_a"), json={"to": "triaged"})
    wired.clock.advance(days=4)  # the others' first response is long overdue; resolutions still run
    run_id = run_svc.start(wired.uows, boss, wired.clock, "report.sla", {"days": 30})
    run_svc.run_next(wired.uows, wired.clock)
    report = run_svc.get_run(wired.uows, boss, wired.clock, run_id)["result"]
    expected: dict[str, dict[str, int]] = {}
    for tk in ticket_svc.list_tickets(wired.uows(readonly=True), boss, ticket_svc.TicketFilter(), limit=100):
        _, _, clocks = sla.ticket_with_clocks(wired.uows(readonly=True), boss, tk.id, wired.clock)
        for name, c in clocks.items():
            if name in ("ticket_id", "policy"):
                continue
            outcome = "missed" if c["breached"] else "met" if c["met"] else "running"
            expected.setdefault(name, {"met": 0, "missed": 0, "running": 0})[outcome] += 1
    assert {k: {o: v[o] for o in ("met", "missed", "running")} for k, v in report["clocks"].items()} == expected
    first = report["clocks"]["first_response"]
    assert first["met"] == 2 and first["missed"] == 3 and first["rate"] == 0.4  # make_field's request too
    assert report["tickets"] == 5 and report["by_category"]["repair"]["first_response"]["missed"] >= 1
    login(client, "boss", "boss-password")
    page = client.get("/dashboard")
    assert "时限达成率" in page.text and "<strong>40.0%</strong>" in page.text
    assert 'value="report.sla"' in page.text  # and it can be recomputed from there
