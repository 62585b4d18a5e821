"""The dispatcher's board and the technician's day in the browser's HTML: jobs per technician and window,
reassigning with a reason (certification never overridden), check-in and check-out with parts and sign-off."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from fairdesk.domain.people import Role
from fairdesk.services import dispatch, identity
from tests.conftest import Seed
from tests.fakes import FrozenClock
from tests.integration.field import make_field
from tests.integration.test_web import csrf_of, login


def password_for(wired: App, user_id: int, password: str) -> None:
    with wired.engine.begin() as conn:
        conn.execute(sa.update(t.users).where(t.users.c.id == user_id).values(
            password_hash=identity.hash_password(password)))


def test_a_dispatcher_reassigns_with_a_reason_and_the_technician_does_the_job(
        client: TestClient, seed: Seed, wired: App, clock: FrozenClock) -> None:
    f = make_field(wired, seed)
    visit = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket), wired.uows, wired.clock)
    assert visit["technician_id"] == f.wang
    day = visit["starts_at"][:10]
    identity.create_user(identity.CreateUser("angu", "disp", "调度员", Role.DISPATCHER, "disp-password"),
                         wired.uows(), wired.clock)
    login(client, "disp", "disp-password")
    board = client.get(f"/dispatch?day={day}")
    assert board.status_code == 200 and "派工看板" in board.text and "Wang" in board.text
    number = re.search(r"AG-\d{8}-\d{6}", board.text).group(0)
    page = client.get(f"/dispatch?day={day}&outlet=ZP-01")  # the outlet's whole team, Li included
    assert "Li" in page.text
    # Li's certificate lapsed: the board cannot give him the job, whatever the reason.
    refused = client.post(f"/dispatch/visits/{visit['id']}/reassign", data={
        "technician_id": f.li, "reason": "顺路", "day": day, "outlet": "ZP-01", "csrf": csrf_of(page.text)})
    assert refused.status_code in (409, 422) and "证" in refused.text
    moved = client.post(f"/dispatch/visits/{visit['id']}/reassign", data={
        "technician_id": f.zhao, "reason": "王师傅临时请假，赵师傅支援", "day": day, "outlet": "",
        "csrf": csrf_of(page.text)}, follow_redirects=True)
    assert moved.status_code == 200
    again = dispatch.visits_of_ticket(wired.uows(readonly=True), f.dispatcher, f.ticket, wired.clock)
    active = [v for v in again if v["status"] == "booked"]
    assert [v["technician_id"] for v in active] == [f.zhao] and active[0]["override_reason"].startswith("王师傅")
    assert number in moved.text and "Zhao" in moved.text

    # The technician's day, on the visit's day: check in at the window, check out with the part and a sign-off.
    password_for(wired, f.zhao, "zhao-password")
    client.cookies.clear()
    login(client, "zhao", "zhao-password")
    clock.at = wired.clock.now().__class__.fromisoformat(active[0]["starts_at"])
    mine = client.get(f"/my-day?day={day}")
    assert mine.status_code == 200 and number in mine.text and "uri.amap.com" in mine.text
    assert "福建省漳州市漳浦县府前街18号" in mine.text  # the technician on the job sees the address
    r = client.post(f"/my-day/visits/{active[0]['id']}/check-in", data={"csrf": csrf_of(mine.text)},
                    follow_redirects=True)
    assert r.status_code == 200 and "完工签出" in client.get(f"/my-day?day={day}").text
    no_sign = client.post(f"/my-day/visits/{active[0]['id']}/check-out", data={
        "work_done": "更换密码面板", "parts": "", "outcome": "resolved", "signed_by": " ", "csrf": csrf_of(mine.text)})
    assert no_sign.status_code == 422
    done = client.post(f"/my-day/visits/{active[0]['id']}/check-out", data={
        "work_done": "更换密码面板，测试开关 10 次正常", "parts": "", "outcome": "resolved", "signed_by": "张丽",
        "csrf": csrf_of(mine.text)}, follow_redirects=True)
    assert done.status_code == 200
    [v] = [v for v in dispatch.visits_of_ticket(wired.uows(readonly=True), f.dispatcher, f.ticket, wired.clock)
           if v["id"] == active[0]["id"]]
    assert v["status"] == "completed" and "张丽" in v["work_done"]


def test_the_managers_dashboard_has_every_figure(client: TestClient, seed: Seed, wired: App) -> None:
    import json

    from tests.integration.test_api_tickets import open_ticket

    make_field(wired, seed)
    for _ in range(3):
        open_ticket(client, seed)
    with wired.uows(readonly=True) as uow:
        manager_id = uow.users.by_username("manager_a").id
    password_for(wired, manager_id, "manager-password")
    login(client, "manager_a", "manager-password")
    page = client.get("/dashboard")
    assert page.status_code == 200 and "管理看板" in page.text
    data = json.loads(re.search(r'<script type="application/json" id="dash-data">(.*?)</script>', page.text,
                                re.S).group(1))
    assert data["volumes"]["total"] == 4 and data["volumes"]["tickets"] == [4]  # make_field opened one
    coverage = data["coverage"]
    assert sum(p["covered"] for p in coverage["by_province"]) == 2 == len(coverage["covered"])  # 漳浦县, 中原区
    assert len(coverage["uncovered"]) > 2600 and all(73 < x < 136 and 17 < y < 54 for x, y in coverage["covered"])
    assert "/static/vendor/echarts-5.6.0.min.js" in page.text and "<script>" not in page.text
    client.cookies.clear()
    login(client, "agent_a", "agent_a-password")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_the_board_lists_requests_waiting_for_a_visit_and_shows_a_refused_reassignment_in_place(
        client: TestClient, seed: Seed, wired: App) -> None:
    from datetime import datetime

    from tests.fakes import SHANGHAI
    from tests.integration.field import make_field
    from tests.integration.test_web import csrf_of, login

    f = make_field(wired, seed)
    identity.create_user(identity.CreateUser("angu", "disp", "吴调度", Role.DISPATCHER, "disp-password-123"),
                         wired.uows(), wired.clock)
    login(client, "disp", "disp-password-123")
    board = client.get("/dispatch", params={"day": "2026-11-25"}).text
    queue = board[board.index('id="unscheduled"'):board.index("</section>", board.index('id="unscheduled"'))]
    assert f'data-ticket="{f.ticket}"' in queue and "Wang" in queue  # what auto-dispatch would pick
    assert f'href="/tickets/{f.ticket}/visit"' in queue
    visit = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, datetime(2026, 11, 25, 9, tzinfo=SHANGHAI),
                                           datetime(2026, 11, 25, 11, tzinfo=SHANGHAI)), wired.uows, wired.clock)
    board = client.get("/dispatch", params={"day": "2026-11-25"}).text
    assert f'data-ticket="{f.ticket}"' not in board  # booked: no longer waiting
    # Li's certificate ended in October: refused, and the board says why beside the visit (it used to go blank).
    r = client.post(f"/dispatch/visits/{visit['id']}/reassign", data={
        "technician_id": str(f.li), "reason": "王师傅临时有事", "day": "2026-11-25", "csrf": csrf_of(board)},
        headers={"HX-Request": "true"})  # as the board's htmx form sends it: only a 2xx answer is swapped in
    assert r.status_code == 200
    assert re.search(rf'<p class="error" role="alert" id="refused-{visit["id"]}">未能改派：[^<]+</p>', r.text)
