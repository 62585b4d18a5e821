"""A dispatcher's day, in Chromium against the demo: a new request waiting for a visit is scheduled from the
board's queue with the suggested technician and window, and a reassignment the server refuses — the technician
went on leave after the board was loaded — says why beside the visit, with the board still there."""

from __future__ import annotations

import re
import sqlite3

from tests.e2e.conftest import DEMO_AT, login, shot

DAY = DEMO_AT[:10]


def test_a_dispatcher_schedules_from_the_queue_and_sees_why_a_reassignment_is_refused(page, demo_dir) -> None:  # type: ignore[no-untyped-def]
    login(page, "dispatcher", "demo-dispatcher")
    page.goto(f"/dispatch?day={DAY}")
    queue = page.locator("#unscheduled tbody tr")
    waiting = queue.count()
    assert waiting >= 1
    first = queue.last  # the demo's maintenance request (the installation one is another journey's)
    number = first.locator("td").first.inner_text().split()[0]
    assert "师傅" in first.inner_text()  # what auto-dispatch would pick: a technician and a window
    clicks = 0
    first.get_by_role("link", name="选择上门时间").click()
    clicks += 1
    page.wait_for_url(re.compile(r".*/tickets/\d+/visit$"))
    page.locator("#windows button.choice").first.click()
    clicks += 1
    page.wait_for_load_state()
    assert "预约成功" in page.locator("#booked").inner_text()
    shot(page, "journey-dispatcher-booked")
    page.goto(f"/dispatch?day={DAY}")
    assert page.locator("#unscheduled tbody tr").count() == waiting - 1
    assert number not in page.locator("#unscheduled").inner_text()
    assert clicks == 2

    # A booked visit: hand it to a colleague — who, meanwhile, is put on leave by someone else.
    form = page.locator("form.reassign").first
    visit_id = int(re.search(r"/dispatch/visits/(\d+)/reassign", form.get_attribute("action")).group(1))
    option = form.locator("option:not([disabled])").first
    technician_id = int(option.get_attribute("value"))
    with sqlite3.connect(demo_dir / "fairdesk-demo.db") as db:
        brand_id, starts, ends = db.execute("SELECT brand_id, starts_at, ends_at FROM visits WHERE id = ?",
                                            (visit_id,)).fetchone()
        db.execute("INSERT INTO technician_leave (brand_id, technician_id, starts_at, ends_at, reason) "
                   "VALUES (?, ?, ?, ?, ?)", (brand_id, technician_id, starts, ends, "临时请假"))
    form.locator("select").select_option(str(technician_id))
    form.locator("input[name=reason]").fill("就近改派")
    form.get_by_role("button", name="改派").click()
    refused = page.locator(f"#refused-{visit_id}")
    refused.wait_for(timeout=10_000)
    assert "未能改派" in refused.inner_text() and "请假" in refused.inner_text(), refused.inner_text()
    assert page.locator(f"#visit-{visit_id}").count() == 1  # the board is still there, the visit unchanged
    shot(page, "journey-dispatcher-refused")
