"""The official working-day calendar on SQLite and PostgreSQL: a year's arrangement imported (API, page, CLI),
checked line by line, previewed, applied as a version recorded in the evidence log; open deadlines then follow
it through the worker, labelled estimates before; deadlines already met never move."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from fairdesk.domain.people import Role
from fairdesk.entrypoints.cli.main import app as cli_app
from fairdesk.services import identity, runs
from tests.conftest import SECRET, Seed
from tests.fakes import FrozenClock
from tests.integration.test_api_tickets import open_ticket
from tests.integration.test_complaints import act, file
from tests.integration.test_web import csrf_of, login

FILE = Path(__file__).parents[1] / "data" / "calendars" / "2027-fabricated.txt"
TEXT = FILE.read_text("utf-8")
BAD = TEXT.replace("2027-02-20 makeup", "2027-02-19 makeup").replace("2027-06-09 holiday", "2028-06-09 holiday")


def _at(clock: FrozenClock, local: str) -> None:
    clock.at = datetime.fromisoformat(local).astimezone(UTC)


def _versions(wired: App) -> int:
    with wired.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t.calendar_versions)
                            .where(t.calendar_versions.c.applied_at.is_not(None))).scalar_one()


def _user(wired: App, username: str):  # type: ignore[no-untyped-def]
    with wired.uows(readonly=True) as uow:
        return uow.users.by_username(username)


def _stage(client: TestClient, seed: Seed, text: str = TEXT, who: str = "manager_a") -> int:
    r = client.post("/api/v1/calendar/drafts", json={"text": text, "filename": FILE.name}, headers=seed.auth(who))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


class TestImport:
    def test_an_invalid_file_is_refused_with_each_line_and_reason_and_changes_nothing(
            self, client: TestClient, seed: Seed, wired: App) -> None:
        r = client.post("/api/v1/calendar/drafts", json={"text": BAD}, headers=seed.auth("manager_a"))
        assert r.status_code == 422
        body = r.json()
        assert body["code"] == "calendar.invalid_file" and body["title"] == "放假安排文件有误，未作任何更改"
        assert [(e["line"], e["code"]) for e in body["errors"]] == [(17, "calendar.makeup_weekday"),
                                                                     (28, "calendar.wrong_year")]
        years = client.get("/api/v1/calendar", headers=seed.auth("manager_a")).json()
        assert {y["year"]: y["source"] for y in years["years"]}[2027] == "estimate"
        assert _versions(wired) == 0

    def test_only_a_manager_changes_the_calendar(self, client: TestClient, seed: Seed) -> None:
        r = client.post("/api/v1/calendar/drafts", json={"text": TEXT}, headers=seed.auth("agent_a"))
        assert r.status_code == 403 and r.json()["code"] == "access.role"
        draft = _stage(client, seed)
        assert client.post(f"/api/v1/calendar/drafts/{draft}/apply", headers=seed.auth("agent_a")).status_code == 403
        assert client.get("/api/v1/calendar/2027", headers=seed.auth("alice")).status_code == 403

    def test_applying_records_who_in_the_evidence_log_and_the_year_is_official_from_tomorrow(
            self, client: TestClient, seed: Seed, wired: App) -> None:
        draft = _stage(client, seed)
        r = client.post(f"/api/v1/calendar/drafts/{draft}/apply", headers=seed.auth("manager_a"))
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 1 and r.json()["year"] == 2027
        year = client.get("/api/v1/calendar/2027", headers=seed.auth("manager_a")).json()
        assert year["source"] == "official" and year["version"] == 1 and year["effective_from"] == "2026-11-25"
        assert year["applied_at"] == "2026-11-24T10:00+08:00"  # Shanghai time, never UTC
        assert {"day": "2027-02-14", "kind": "makeup", "festival": "春节"} in year["days"]
        with wired.engine.connect() as conn:
            logged = conn.execute(sa.select(t.evidence_entries.c.brand_id, t.evidence_entries.c.payload).where(
                t.evidence_entries.c.kind == "calendar.applied")).all()
        assert {row.brand_id for row in logged} == {seed.brand_a, seed.brand_b}  # every brand's deadlines follow
        assert all("2027" in row.payload and "applied_by" in row.payload for row in logged)
        again = client.post(f"/api/v1/calendar/drafts/{draft}/apply", headers=seed.auth("manager_a"))
        assert again.status_code == 409 and again.json()["code"] == "calendar.already_applied"


class TestDeadlinesFollow:
    def test_a_deadline_across_the_imported_holiday_and_make_up_day_moves_exactly_as_the_file_says(
            self, client: TestClient, seed: Seed, wired: App, clock: FrozenClock) -> None:
        _at(clock, "2027-02-04T10:00:00+08:00")  # the Thursday before Spring Festival 2027
        complaint = file(client, seed).json()
        # No official 2027 yet: 5-10 February off by rule, no make-up day known; labelled an estimate.
        assert complaint["deadlines"]["acceptance"] == "2027-02-20T00:00:00+08:00"
        assert complaint["estimated"]["acceptance"] is True
        ticket = open_ticket(client, seed).json()
        clocks = client.get(f"/api/v1/tickets/{ticket['id']}/sla", headers=seed.auth("agent_a")).json()
        assert clocks["resolution"]["estimate"] is True
        before = clocks["resolution"]["deadline"]

        draft = _stage(client, seed)
        preview = client.get(f"/api/v1/calendar/drafts/{draft}", headers=seed.auth("manager_a")).json()
        moved = {(m["number"], m["deadline"]): (m["before"], m["after"]) for m in preview["moves"]}
        assert moved[(complaint["number"], "acceptance")] == ("2027-02-20T00:00+08:00", "2027-02-21T00:00+08:00")
        assert (ticket["number"], "resolution") in moved
        assert {"day": "2027-02-14", "before": "normal", "after": "makeup"} in preview["changed_days"]

        applied = client.post(f"/api/v1/calendar/drafts/{draft}/apply", headers=seed.auth("manager_a")).json()
        # The open deadlines follow through the worker, not in the request.
        assert runs.run_next(wired.uows, clock)
        manager = identity.actor_for(_user(wired, "manager_a"))
        run = runs.get_run(wired.uows, manager, clock, applied["run_id"])
        assert run["status"] == "done" and run["result"]["complaints_moved"] == 1
        after = client.get(f"/api/v1/complaints/{complaint['id']}", headers=seed.auth("alice")).json()
        # 5-13 February off, Sunday 14 February worked (day 1), 15-19 February days 2-6, Saturday 20th day 7.
        assert after["deadlines"]["acceptance"] == "2027-02-21T00:00:00+08:00"
        assert after["estimated"]["acceptance"] is False
        clocks = client.get(f"/api/v1/tickets/{ticket['id']}/sla", headers=seed.auth("agent_a")).json()
        assert clocks["resolution"]["estimate"] is False and clocks["resolution"]["deadline"] != before
        with wired.engine.connect() as conn:
            events = conn.execute(sa.select(t.complaint_events.c.kind, t.complaint_events.c.note).where(
                t.complaint_events.c.complaint_id == complaint["id"])).all()
        assert ("deadline_moved", "acceptance: 2027-02-20 → 2027-02-21") in [tuple(e) for e in events]

    def test_a_deadline_already_met_never_moves(self, client: TestClient, seed: Seed, wired: App,
                                                 clock: FrozenClock) -> None:
        _at(clock, "2027-02-04T10:00:00+08:00")
        for channel, terms in (("green", (1, 24, 1)), ("standard", (7, 360, 3))):  # a short mediation
            r = client.put(f"/api/v1/complaints/terms/{channel}", headers=seed.auth("manager_a"),
                           json=dict(zip(("acceptance_wd", "first_response_h", "mediation_wd"), terms, strict=True)))
            assert r.status_code == 200, r.text
        complaint = file(client, seed).json()
        clock.advance(hours=1)
        assert act(client, seed, complaint["id"], "accept", note="已受理").status_code == 200
        accepted = client.get(f"/api/v1/complaints/{complaint['id']}", headers=seed.auth("alice")).json()
        draft = _stage(client, seed)
        preview = client.get(f"/api/v1/calendar/drafts/{draft}", headers=seed.auth("manager_a")).json()
        assert (complaint["number"], "acceptance") not in {(m["number"], m["deadline"]) for m in preview["moves"]}
        client.post(f"/api/v1/calendar/drafts/{draft}/apply", headers=seed.auth("manager_a"))
        assert runs.run_next(wired.uows, clock)
        after = client.get(f"/api/v1/complaints/{complaint['id']}", headers=seed.auth("alice")).json()
        assert after["deadlines"]["acceptance"] == accepted["deadlines"]["acceptance"]  # met: kept as it was
        # Running: follows. Estimate: 11, 12, 15 February; official: Sunday 14, 15, 16 February.
        assert accepted["deadlines"]["mediation_end"] == "2027-02-16T00:00:00+08:00"
        assert after["deadlines"]["mediation_end"] == "2027-02-17T00:00:00+08:00"


@pytest.fixture
def manager_page(client: TestClient, seed: Seed, wired: App) -> TestClient:
    identity.create_user(identity.CreateUser("angu", "boss", "王经理", Role.MANAGER, "boss-password-123"),
                         wired.uows(), wired.clock)
    login(client, "boss", "boss-password-123")
    return client


class TestPages:
    def test_the_dashboard_warns_sixty_days_ahead_until_the_year_is_imported(
            self, manager_page: TestClient, seed: Seed, clock: FrozenClock) -> None:
        _at(clock, "2026-12-02T10:00:00+08:00")
        page = manager_page.get("/dashboard").text
        assert 'id="calendar-warning"' in page and "2027-01-01" in page and "30 天后" in page
        draft = _stage(manager_page, seed)
        manager_page.post(f"/api/v1/calendar/drafts/{draft}/apply", headers=seed.auth("manager_a"))
        assert 'id="calendar-warning"' not in manager_page.get("/dashboard").text

    def test_a_wrong_file_comes_back_with_each_line_s_problem_in_chinese_and_the_text_kept(
            self, manager_page: TestClient, wired: App) -> None:
        token = csrf_of(manager_page.get("/calendar").text)
        r = manager_page.post("/calendar/drafts", data={"text": BAD, "csrf": token})
        assert r.status_code == 422
        assert "第 17 行：2027-02-19 是星期五；调休上班日只能是星期六或星期日" in r.text
        assert "第 28 行：2028-06-09 不在本文件的年份 2027 内" in r.text
        assert "2028-06-09 holiday 端午节" in r.text  # what was typed is still in the field
        assert _versions(wired) == 0

    def test_the_manager_previews_then_applies_and_follows_the_recomputation(
            self, manager_page: TestClient, wired: App, clock: FrozenClock) -> None:
        token = csrf_of(manager_page.get("/calendar").text)
        r = manager_page.post("/calendar/drafts", files={"file": (FILE.name, TEXT.encode(), "text/plain")},
                              data={"csrf": token}, follow_redirects=False)
        assert r.status_code == 303
        preview = manager_page.get(r.headers["location"]).text
        assert "调休上班" in preview and 'id="calendar-apply"' in preview
        r = manager_page.post(r.headers["location"] + "/apply", data={"csrf": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/runs/")
        assert runs.run_next(wired.uows, clock)
        assert "张未结服务单已重新计算" in manager_page.get(r.headers["location"]).text
        listing = manager_page.get("/calendar").text
        assert 'data-year="2027" data-source="official"' in listing and "王经理" in listing


class TestCli:
    @pytest.fixture
    def env(self, db_url: str, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
        monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
        monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)
        return CliRunner()

    def test_a_wrong_file_exits_2_with_each_line_and_nothing_changes(self, env: CliRunner, tmp_path: Path,
                                                                      wired: App) -> None:
        bad = tmp_path / "2027.txt"
        bad.write_text(BAD, "utf-8")
        result = env.invoke(cli_app, ["calendar", "import", str(bad), "--yes"])
        assert result.exit_code == 2
        assert "2027.txt:17: 2027-02-19 is a weekday" in result.stderr
        assert "2027.txt:28: 2028-06-09 is not in 2027" in result.stderr
        assert _versions(wired) == 0

    def test_import_previews_asks_and_show_says_where_the_year_came_from(self, env: CliRunner,
                                                                          wired: App) -> None:
        shown = env.invoke(cli_app, ["calendar", "show", "2027"])
        assert shown.exit_code == 0 and "ESTIMATE" in shown.output
        declined = env.invoke(cli_app, ["calendar", "import", str(FILE)], input="n\n")
        assert declined.exit_code == 1 and "days that change from tomorrow: 16" in declined.output
        assert _versions(wired) == 0
        done = env.invoke(cli_app, ["calendar", "import", str(FILE), "--yes"])
        assert done.exit_code == 0, done.output
        assert "applied: 2027 version 1" in done.output
        shown = env.invoke(cli_app, ["calendar", "show", "2027"])
        assert "official arrangement, version 1" in shown.output and "2027-02-14 makeup   春节" in shown.output
        assert env.invoke(cli_app, ["calendar", "show", "12"]).exit_code == 2
