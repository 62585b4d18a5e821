"""The year's official holiday arrangement, in headless Chromium against a demo running in early February 2027,
when no arrangement for 2027 is published yet: the customer's deadline is labelled an estimate; the manager
checks a wrong file (the problems beside the field, the text kept), previews the right one and applies it; the
worker moves the open deadlines; the customer's deadline follows the file and is no longer an estimate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import axe_violations, login, running_demo, shot

#: A working Wednesday two days before Spring Festival 2027 (the estimate has 5-10 February off).
AT = "2027-02-03T09:00:00+08:00"
FILE = Path(__file__).parents[1] / "data" / "calendars" / "2027-fabricated.txt"
ESTIMATE = "估算：该期间的官方放假安排尚未发布，可能调整"


@pytest.fixture(scope="module")
def server_2027(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with running_demo(tmp_path_factory.mktemp("demo-2027"), AT) as base:
        yield base


def _customer_request(browser, base: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base, viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    login(page, "customer", "demo-customer")
    page.locator("tr", has_text="密码面板无反应").get_by_role("link").first.click()
    page.wait_for_load_state()
    return context, page


def test_a_manager_imports_the_year_and_the_customer_s_estimated_deadline_follows_it(  # type: ignore[no-untyped-def]
        browser, server_2027) -> None:
    context, customer = _customer_request(browser, server_2027)
    due = customer.locator("#resolution-due")
    assert ESTIMATE in due.inner_text()
    estimated_due = due.inner_text().split(" ")[0]
    shot(customer, "customer-deadline-estimate-375")

    manager_context = browser.new_context(base_url=server_2027, viewport={"width": 1366, "height": 800},
                                          locale="zh-CN", bypass_csp=True)  # axe is the test's script
    manager = manager_context.new_page()
    login(manager, "manager", "demo-manager")
    assert "尚无官方放假安排" in manager.locator("#calendar-warning").inner_text()  # the dashboard warns
    manager.get_by_role("link", name="工作日日历").click()
    assert manager.locator('tr[data-year="2027"]').get_attribute("data-source") == "estimate"

    # A wrong file: nothing changes, each line's problem is beside the field, what was typed stays.
    wrong = FILE.read_text("utf-8").replace("2027-02-20 makeup", "2027-02-19 makeup")
    manager.get_by_label("或粘贴到这里").fill(wrong)
    manager.get_by_role("button", name="检查并预览").click()
    manager.wait_for_load_state()
    problems = manager.locator("#calendar-problems").inner_text()
    assert "第 17 行：2027-02-19 是星期五；调休上班日只能是星期六或星期日" in problems
    assert "2027-02-19 makeup 春节" in manager.get_by_label("或粘贴到这里").input_value()
    assert axe_violations(manager) == []
    shot(manager, "manager-calendar-problems")

    # The right file: preview, then apply.
    manager.get_by_label("或粘贴到这里").fill("")
    manager.get_by_label("文件（文本，UTF-8）").set_input_files(str(FILE))
    manager.get_by_role("button", name="检查并预览").click()
    manager.wait_for_url("**/calendar/drafts/*")
    changes = manager.locator("#calendar-changes").inner_text()
    assert "2027-02-14" in changes and "调休上班" in changes
    assert manager.locator("#calendar-moves tbody tr").count() >= 1
    assert axe_violations(manager) == []
    shot(manager, "manager-calendar-preview")
    manager.get_by_role("button", name="应用此安排").click()
    manager.wait_for_url("**/runs/*")
    manager.locator("#run-summary").wait_for(timeout=30_000)  # the worker moved the open deadlines
    assert "张未结服务单已重新计算" in manager.locator("#run-summary").inner_text()
    shot(manager, "manager-calendar-applied")
    manager.goto("/calendar")
    assert manager.locator('tr[data-year="2027"]').get_attribute("data-source") == "official"

    customer.reload()
    after = customer.locator("#resolution-due").inner_text()
    assert ESTIMATE not in after
    assert after.split(" ")[0] != estimated_due  # 11-13 February are now off as the file says
    shot(customer, "customer-deadline-official-375")
    manager_context.close()
    context.close()
