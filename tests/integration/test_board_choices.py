"""The board's reassign list (issue 19): every technician the dispatcher could pick for a booked visit is listed,
those who cannot take it disabled with the reason in words, by the rule auto-dispatch ranks with — and the
server still refuses them."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

from fastapi.testclient import TestClient

from fairdesk.bootstrap import App
from fairdesk.domain.dispatch import Unfit
from fairdesk.domain.people import Role
from fairdesk.entrypoints.web.field_pages import UNFIT_WORDS
from fairdesk.i18n import t
from fairdesk.services import dispatch, identity, workforce
from tests.conftest import Seed
from tests.fakes import SHANGHAI
from tests.integration.field import make_field
from tests.integration.test_web import csrf_of, login

DAY = "2026-11-25"  # a Wednesday
NINE, ELEVEN = datetime(2026, 11, 25, 9, tzinfo=SHANGHAI), datetime(2026, 11, 25, 11, tzinfo=SHANGHAI)


def options(page: str, visit_id: int) -> list[tuple[int, bool, str | None, str]]:
    """(technician id, disabled, reason code, text) of each option of the visit's reassign list, in order."""
    select = re.search(rf'<select id="to-{visit_id}"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the visit has a reassign list"
    return [(int(m[1]), bool(m[2]), m[3], html.unescape(m[4])) for m in re.finditer(
        r'<option value="(\d+)"( disabled data-unfit="([a-z_]+)")?>(.*?)</option>', select.group(1))]


def test_the_board_marks_who_cannot_take_a_visit_and_why_and_the_server_still_refuses_them(
        client: TestClient, seed: Seed, wired: App) -> None:
    f = make_field(wired, seed)  # Wang and Li (certificate ended in October) at ZP-01
    manager, uows, clock = f.manager, wired.uows, wired.clock
    visit = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, NINE, ELEVEN), uows, clock)
    assert visit["technician_id"] == f.wang
    ids = {}
    for username, weekdays in (("sun", "1-5"), ("qian", "1-5"), ("zhou", "1-5"), ("wu", "1-5"), ("zheng", "6-7")):
        ids[username] = workforce.add_technician(workforce.AddTechnician(
            manager, username, username.title(), "ZP-01", weekdays=weekdays), uows(), clock).user_id
        if username != "qian":  # Qian has no certificate at all
            workforce.add_certification(manager, ids[username], "home-safe", 1, date(2025, 1, 1), date(2027, 12, 31),
                                        f"CERT-{username}", uows(), clock)
    workforce.add_leave(manager, ids["zhou"], datetime(2026, 11, 25, 8, tzinfo=SHANGHAI),
                        datetime(2026, 11, 25, 12, tzinfo=SHANGHAI), "体检", uows())
    workforce.update_technician(manager, ids["wu"], {"active": False}, uows(), clock)

    identity.create_user(identity.CreateUser("angu", "disp", "吴调度", Role.DISPATCHER, "disp-password-123"),
                         uows(), clock)
    login(client, "disp", "disp-password-123")
    board = client.get("/dispatch", params={"day": DAY, "outlet": "ZP-01"}).text
    listed = options(board, visit["id"])
    by_id = {tech: (disabled, why, text) for tech, disabled, why, text in listed}
    assert f.wang not in by_id  # the visit's own technician
    assert listed[0][0] == ids["sun"] and not listed[0][1]  # who can take it comes first, and can be chosen
    expected = {f.li: Unfit.CERTIFICATE_EXPIRED, ids["qian"]: Unfit.NO_CERTIFICATE, ids["zhou"]: Unfit.ON_LEAVE,
                ids["wu"]: Unfit.INACTIVE, ids["zheng"]: Unfit.NOT_WORKING}
    for tech, reason in expected.items():
        disabled, why, text = by_id[tech]
        assert disabled and why == reason.value, (tech, why)
        assert t(UNFIT_WORDS[reason], "zh-CN") in text  # the reason in the page's language, beside the name
    assert "Li (漳浦服务网点)" in by_id[f.li][2]  # the outlet by name, not its code

    # Disabled in the list is not the only guard: Li posted by hand is refused, and the visit stays Wang's.
    refused = client.post(f"/dispatch/visits/{visit['id']}/reassign", data={
        "technician_id": str(f.li), "reason": "顺路", "day": DAY, "outlet": "ZP-01", "csrf": csrf_of(board)})
    assert refused.status_code == 422
    assert re.search(rf'<p class="error" role="alert" id="refused-{visit["id"]}">[^<]+</p>', refused.text)
    [still] = [v for v in dispatch.visits_of_ticket(uows(readonly=True), f.dispatcher, f.ticket, clock)
               if v["status"] == "booked"]
    assert still["technician_id"] == f.wang
    moved = client.post(f"/dispatch/visits/{visit['id']}/reassign", data={
        "technician_id": str(ids["sun"]), "reason": "王师傅临时有事", "day": DAY, "outlet": "ZP-01",
        "csrf": csrf_of(board)}, follow_redirects=False)
    assert moved.status_code == 303
    [now] = [v for v in dispatch.visits_of_ticket(uows(readonly=True), f.dispatcher, f.ticket, clock)
             if v["status"] == "booked"]
    assert now["technician_id"] == ids["sun"]


def test_a_refusal_says_why_by_the_same_rule(seed: Seed, wired: App) -> None:
    """The API's refusal of an expired certificate says expired; of a technician on leave, says on leave."""
    import pytest

    from fairdesk.domain.errors import Conflict, InvalidInput

    f = make_field(wired, seed)
    visit = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, NINE, ELEVEN), wired.uows, wired.clock)
    with pytest.raises(InvalidInput) as expired:
        dispatch.reschedule(f.dispatcher, visit["id"], NINE, ELEVEN, wired.uows(), wired.clock,
                            technician_id=f.li, reason="顺路")
    assert expired.value.code == "dispatch.not_certified" and "expired" in expired.value.detail
    sun = workforce.add_technician(workforce.AddTechnician(f.manager, "sun", "Sun", "ZP-01"), wired.uows(),
                                   wired.clock).user_id
    workforce.add_certification(f.manager, sun, "home-safe", 1, date(2025, 1, 1), date(2027, 12, 31), "CERT-S",
                                wired.uows(), wired.clock)
    workforce.add_leave(f.manager, sun, NINE, ELEVEN, "体检", wired.uows())
    with pytest.raises(Conflict) as on_leave:
        dispatch.reschedule(f.dispatcher, visit["id"], NINE, ELEVEN, wired.uows(), wired.clock,
                            technician_id=sun, reason="顺路")
    assert on_leave.value.code == "dispatch.technician_busy" and "on leave" in on_leave.value.detail
