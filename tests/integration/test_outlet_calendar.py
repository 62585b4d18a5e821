"""No window is offered that an outlet or a technician cannot keep: an outlet's opening hours and closure days
bound its technicians' visits; a leave entered over booked visits lists them for rebooking and tells the
customers (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from fairdesk.domain.errors import Conflict, InvalidInput
from fairdesk.entrypoints.cli.main import app as cli_app
from fairdesk.services import dispatch, network, workforce
from tests.conftest import SECRET, Seed
from tests.fakes import SHANGHAI
from tests.integration.field import Field, make_field


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def f(wired: App, seed: Seed) -> Field:
    return make_field(wired, seed)


def _days(wired: App, f: Field) -> dict[str, list[str]]:
    offered = dispatch.windows(wired.uows(readonly=True), f.dispatcher, f.ticket, wired.clock, days=5)
    out: dict[str, list[str]] = {}
    for w in offered:
        out.setdefault(w["starts_at"][:10], []).append(w["starts_at"][11:16] + "-" + w["ends_at"][11:16])
    return out


def test_no_window_is_offered_on_an_outlet_s_closure_day(wired: App, f: Field) -> None:
    assert "2026-11-25" in _days(wired, f)
    network.add_outlet_closure(f.manager, "ZP-01", date(2026, 11, 25), "盘点", wired.uows(), wired.clock)
    offered = _days(wired, f)
    assert "2026-11-25" not in offered and "2026-11-26" in offered
    with pytest.raises(Conflict):  # nor can one be booked there by naming it
        dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(25, 9), at(25, 11)), wired.uows, wired.clock)


def test_no_window_is_offered_outside_the_outlet_s_hours(wired: App, f: Field) -> None:
    network.set_outlet_hours(f.manager, "ZP-01", "13:00-17:00", "1-5", True, wired.uows(), wired.clock)
    offered = _days(wired, f)
    assert offered and all(w in ("13:00-15:00", "15:00-17:00") for ws in offered.values() for w in ws)
    assert "2026-11-28" not in offered  # a Saturday: the outlet is shut, though Wang works Saturdays
    network.set_outlet_hours(f.manager, "ZP-01", "", "1-7", True, wired.uows(), wired.clock)  # cleared
    assert "09:00-11:00" in _days(wired, f)["2026-11-25"]


def test_outlet_hours_are_checked(wired: App, f: Field) -> None:
    with pytest.raises(InvalidInput):
        network.set_outlet_hours(f.manager, "ZP-01", "18:00-09:00", "1-5", True, wired.uows(), wired.clock)
    with pytest.raises(InvalidInput):
        network.set_outlet_hours(f.manager, "ZP-01", "09:00-18:00", "0-9", True, wired.uows(), wired.clock)


def test_a_leave_over_a_booked_visit_lists_it_for_rebooking_and_tells_the_customer(wired: App, f: Field) -> None:
    visit = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(25, 9), at(25, 11)), wired.uows, wired.clock)
    found = workforce.add_leave(f.dispatcher, visit["technician_id"], at(25, 0), at(26, 0), "病假", wired.uows(),
                                wired.clock)
    [listed] = found["to_rebook"]
    assert listed["visit_id"] == visit["id"] and listed["starts_at"] == "2026-11-25T09:00:00+08:00"
    with wired.engine.connect() as conn:
        sms = conn.execute(sa.select(t.outbox.c.recipient, t.outbox.c.body).where(
            t.outbox.c.kind == "visit_rebooking")).all()
        status = conn.execute(sa.select(t.visits.c.status).where(
            t.visits.c.id == visit["id"])).scalar_one()
    assert [s.recipient for s in sms] == ["+8613800138000"] and "2026-11-25 09:00-11:00" in sms[0].body
    assert status == "booked"  # not cancelled behind anyone's back: the dispatcher rebooks it
    board = dispatch.board(wired.uows(readonly=True), f.dispatcher, date(2026, 11, 25), wired.clock)
    [row] = [r for r in board if r["id"] == visit["technician_id"]]
    assert row["visits"][0]["to_rebook"] is True


def test_the_api_sets_hours_and_closures_and_refuses_in_problem_json(client: TestClient, seed: Seed, wired: App,
                                                                     f: Field) -> None:
    bad = client.put("/api/v1/network/outlets/ZP-01/hours", json={"shifts": "9-18"}, headers=seed.auth("manager_a"))
    assert bad.status_code == 422 and bad.json()["code"] == "calendar.invalid_shift" and bad.json()["title"]
    agent = client.put("/api/v1/network/outlets/ZP-01/hours", json={"shifts": "09:00-18:00"},
                       headers=seed.auth("agent_a"))
    assert agent.status_code == 403
    ok = client.put("/api/v1/network/outlets/ZP-01/hours", json={"shifts": "09:00-12:00", "weekdays": "1-5"},
                    headers=seed.auth("manager_a"))
    assert ok.status_code == 200 and ok.json() == {"outlet": "ZP-01", "shifts": "09:00-12:00", "weekdays": "1,2,3,4,5",
                                                   "closed_on_holidays": True}
    closed = client.post("/api/v1/network/outlets/ZP-01/closures", json={"day": "2026-11-26", "reason": "搬迁"},
                         headers=seed.auth("manager_a"))
    assert closed.status_code == 204
    missing = client.post("/api/v1/network/outlets/NOPE/closures", json={"day": "2026-11-26", "reason": "x"},
                          headers=seed.auth("manager_a"))
    assert missing.status_code == 404 and missing.json()["code"] == "outlet.not_found"
    assert "2026-11-26" not in _days(wired, f)


def test_the_cli_sets_hours_and_refuses_bad_ones_with_exit_2(db_url: str, f: Field,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["network", "outlet-hours", "--brand", "angu", "--code", "ZP-01",
                                 "--shifts", "08:30-12:00,13:30-18:00", "--weekdays", "1-6"])
    assert ok.exit_code == 0 and "08:30-12:00,13:30-18:00" in ok.output
    bad = runner.invoke(cli_app, ["network", "outlet-closure", "--brand", "angu", "--code", "ZP-01",
                                  "--day", "tomorrow", "--reason", "x"])
    assert bad.exit_code == 2 and "not a day" in bad.stderr


@pytest.mark.parametrize("follow", [True, False])
def test_an_outlet_s_closure_stops_its_on_site_clock_when_the_policy_says_so(wired: App, f: Field,
                                                                             follow: bool) -> None:
    from fairdesk.domain.tickets import Category, Priority
    from fairdesk.services import sla

    sla.set_policy(f.manager, Category.REPAIR, Priority.NORMAL, 120, 27 * 60, False, wired.uows(),
                   onsite_min=2 * 9 * 60, clock_=wired.clock, uows=wired.uows, outlet_calendar=follow)
    dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(27, 13), at(27, 15)), wired.uows, wired.clock)
    network.add_outlet_closure(f.manager, "ZP-01", date(2026, 11, 25), "盘点", wired.uows(), wired.clock)
    clocks = sla.ticket_clocks(wired.uows(readonly=True), f.manager, f.ticket, wired.clock)
    # Two working days from Tuesday 10:00: Thursday 10:00 — or Friday, when the outlet's closed Wednesday counts.
    assert clocks["onsite"]["deadline"] == ("2026-11-27T10:00:00+08:00" if follow else "2026-11-26T10:00:00+08:00")
    assert clocks["policy"]["outlet_calendar"] is follow
    assert clocks["first_response"]["deadline"] == "2026-11-24T12:00:00+08:00"  # the hotline's clock: the brand's
