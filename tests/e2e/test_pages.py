"""Each role's main journey in the web shell, in headless Chromium against a real server."""

from __future__ import annotations

import re

from tests.e2e.conftest import login, shot


def test_an_agent_moves_a_ticket_and_sees_it_in_the_history(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "agent", "demo-agent")
    page.wait_for_url("**/console")  # a hotline agent lands on the console
    page.get_by_role("link", name="工单").click()
    shot(page, "agent-ticket-list")
    page.get_by_role("link", name=re.compile(r"AG-\d{8}-000003")).click()  # 新购保险柜上门安装固定, triaged
    assert page.locator("#ticket-status").inner_text() == "已受理"
    page.select_option("#to", "scheduled")
    page.fill("#note", "已与客户约定周五上午上门")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    assert page.locator("#ticket-status").inner_text() == "已预约"
    assert "已与客户约定周五上午上门" in page.locator("ol.history").inner_text()
    shot(page, "agent-ticket-page")


def test_a_customer_sees_only_their_requests_on_a_phone(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    login(page, "customer", "demo-customer")
    page.wait_for_url("**/my")
    text = page.locator("main").inner_text()
    assert "我的服务请求" in text and "密码面板无反应" in text and "指纹识别失败率高" not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing breaks at 375 px
    shot(page, "customer-my-requests-375")
    context.close()


def test_the_language_switch_turns_the_shell_english(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "manager", "demo-manager")
    page.wait_for_url("**/dashboard")  # a manager lands on the dashboard
    page.goto("/tickets")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Tickets").is_visible()
    shot(page, "manager-tickets-english")


def test_anyone_can_check_an_official_number_without_logging_in(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/check")
    page.get_by_label("电话号码或网址").fill("４００－８８８－６６６６")
    page.get_by_role("button", name="查询").click()
    assert "安固保险柜" in page.locator("#check-result").inner_text()
    page.get_by_label("电话号码或网址").fill("400-1234-567")
    page.get_by_role("button", name="查询").click()
    assert "未登记" in page.locator("#check-result").inner_text()
    shot(page, "public-channel-check")


def test_a_wrong_password_is_refused_with_a_message(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "agent", "wrong-password")
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误"


def _clicks_to(page, subscription_choice: str) -> int:  # type: ignore[no-untyped-def]
    """From "My plans" to the receipt, counting every click the customer makes."""
    clicks = 0
    page.goto("/my/plans")
    page.get_by_role("link", name=re.compile(subscription_choice)).first.click()
    clicks += 1
    assert page.locator("#effective-at").is_visible() and page.locator("#net").is_visible()
    page.get_by_role("button", name="继续我的变更").click()
    clicks += 1
    assert page.locator("#receipt").is_visible()
    return clicks


def _tab_to(page, locator, limit: int = 80) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the element has the keyboard focus (a keyboard-only user's way there)."""
    target = locator.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("t => document.activeElement === t", target):
            return
    raise AssertionError("the element cannot be reached with the Tab key")


def _keys_to(page, subscription_choice: str) -> int:  # type: ignore[no-untyped-def]
    """The same two steps with the keyboard alone: Tab to the choice, Enter; Tab to the button, Enter."""
    presses = 0
    page.goto("/my/plans")
    _tab_to(page, page.get_by_role("link", name=re.compile(subscription_choice)).first)
    page.keyboard.press("Enter")
    presses += 1
    page.wait_for_selector("#effective-at")
    _tab_to(page, page.get_by_role("button", name="继续我的变更"))
    page.keyboard.press("Enter")
    presses += 1
    page.wait_for_selector("#receipt")
    return presses


def test_upgrade_downgrade_and_cancel_take_the_same_number_of_clicks(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "customer", "demo-customer")
    page.wait_for_url("**/my")
    page.get_by_role("link", name="我的服务计划").click()
    choices = page.locator(".choices a.choice")
    # Every change is offered with equal prominence: the same element, class and colour for up, down and out.
    styles = {choices.nth(i).evaluate("e => getComputedStyle(e).color + getComputedStyle(e).fontSize")
              for i in range(choices.count())}
    assert choices.count() == 3 and len(styles) == 1
    shot(page, "customer-my-plans")
    upgrade = _clicks_to(page, "尊享版")
    shot(page, "customer-plan-receipt")
    downgrade = _keys_to(page, "基础版")  # and a keyboard-only customer gets there in as many steps
    cancel = _clicks_to(page, "取消本计划")
    assert upgrade == downgrade == cancel == 2


def test_a_customer_rates_the_repair_from_the_sms_link_on_a_phone(browser, server, demo_dir) -> None:  # type: ignore[no-untyped-def]
    """The demo's worker process sent the survey SMS when the request was resolved; the link works once."""
    import json
    import time

    sms_file = demo_dir / "demo-sms.jsonl"
    deadline = time.monotonic() + 30
    link = None
    while link is None and time.monotonic() < deadline:
        if sms_file.exists():
            for line in sms_file.read_text("utf-8").splitlines():
                sms = json.loads(line)
                if sms["to"] == "+8613800138000" and "/s/" in sms["text"]:
                    link = re.search(r"https?://\S+/s/[\w-]+", sms["text"]).group(0)
        time.sleep(0.3)
    assert link, "the worker delivered no survey SMS"
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(link)
    assert "服务评价" in page.locator("h1").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "customer-survey-375")
    page.locator("label[for=csat-5]").click()  # the fifth star
    assert page.locator("#csat-5").is_checked()
    page.locator("fieldset").nth(1).get_by_label("10").check()
    page.get_by_label("还有其他想说的吗？（选填）").fill("师傅准时，很专业")
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    assert "感谢您的评价" in page.locator("h1").inner_text() and page.locator("#survey-done").is_visible()
    shot(page, "customer-survey-thanks-375")
    page.goto(link)
    assert "已使用" in page.locator("main").inner_text()
    context.close()


def test_a_customer_confirms_a_green_channel_complaint_on_a_phone(browser, server) -> None:  # type: ignore[no-untyped-def]
    """The demo's refund complaint waits for the customer: the settlement is proposed, only they confirm it."""
    context = browser.new_context(base_url=server, viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    login(page, "customer", "demo-customer")
    page.wait_for_url("**/my")
    page.get_by_role("link", name="投诉").click()
    page.wait_for_url("**/my/complaints")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "customer-complaints-375")
    row = page.locator("#complaints tbody tr").first
    assert "绿色通道" in row.inner_text() and "调解中" in row.inner_text()
    row.get_by_role("link").click()
    assert "3 个工作日内原路退回" in page.locator("#proposal").inner_text()
    shot(page, "customer-complaint-375")
    page.get_by_role("button", name="确认已解决").click()
    page.wait_for_load_state()
    assert page.locator("#complaint-status").inner_text() == "已解决"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


def test_anyone_reads_a_brands_credit_score_and_its_method(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/brands/angu/credit")
    assert re.fullmatch(r"\d+(\.\d)?", page.locator("#score-value").inner_text())
    assert "绿色通道" in page.locator("#complaint-stats").inner_text()
    shot(page, "public-credit")
    page.get_by_role("link", name="评分方法").click()
    assert "标准误" in page.locator("main").inner_text()
    shot(page, "public-credit-method")


def _visit(demo_dir, index: int) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """One of the demo technician's booked visits (0: the 08:30 repair, 1: the 10:30 maintenance): its local day
    and id, read from the demo's own database."""
    import sqlite3
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    with sqlite3.connect(demo_dir / "fairdesk-demo.db") as db:
        starts, visit_id = db.execute("SELECT starts_at, id FROM visits ORDER BY id LIMIT 1 OFFSET ?",
                                      (index,)).fetchone()
    at = datetime.fromisoformat(str(starts)).replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    return at.date().isoformat(), visit_id


def test_the_technician_checks_in_and_out_with_parts_and_sign_off_on_a_phone(browser, server, demo_dir) -> None:  # type: ignore[no-untyped-def]
    day, visit_id = _visit(demo_dir, 0)
    context = browser.new_context(base_url=server, viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    login(page, "technician", "demo-technician")
    page.get_by_role("link", name="我的今天").click()
    job = page.locator(f"#visit-{visit_id}")
    assert day in page.locator("h1").inner_text() and "08:30" in job.locator("h2").inner_text()
    assert "uri.amap.com" in job.locator("a.map").get_attribute("href")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "technician-my-day-375")
    clicks = 0
    job.get_by_role("button", name="到达签到").click()
    clicks += 1
    job = page.locator(f"#visit-{visit_id}")
    assert job.locator(".status").inner_text() == "已到达"
    job.get_by_label("完成的工作").fill("更换密码面板，测试开关锁 10 次正常")
    assert "PANEL-3050" in job.get_by_label(re.compile("使用的配件")).input_value()  # the reserved part, filled in
    job.get_by_label("客户签收姓名").fill("张伟")
    shot(page, "technician-check-out-375")
    job.get_by_role("button", name="完工签出").click()
    clicks += 1
    job = page.locator(f"#visit-{visit_id}")
    assert "更换密码面板" in job.inner_text() and job.get_by_role("button").count() == 0
    assert clicks == 2
    shot(page, "technician-done-375")
    context.close()


def test_a_dispatcher_reassigns_the_demo_visit_in_two_clicks(page, demo_dir) -> None:  # type: ignore[no-untyped-def]
    day, visit_id = _visit(demo_dir, 1)
    login(page, "dispatcher", "demo-dispatcher")
    page.goto(f"/dispatch?day={day}")
    assert "派工看板" in page.locator("h1").inner_text()
    row = page.locator(f"#visit-{visit_id}")
    assert "电池" in row.inner_text()  # the parts held for it, by name
    shot(page, "dispatcher-board")
    clicks = 0
    assert "陈师傅" in row.locator("xpath=ancestor::section[1]//h2").inner_text()
    row.locator("select").select_option(index=0)  # the outlet's other technician
    clicks += 1
    row.locator("input[name=reason]").fill("就近改派")
    row.get_by_role("button", name="改派").click()
    clicks += 1
    page.wait_for_load_state("networkidle")
    assert clicks == 2
    moved = page.locator(f"#visit-{visit_id}")
    assert moved.count() == 1
    owner = moved.locator("xpath=ancestor::section[1]//h2").inner_text()
    assert "陈师傅" not in owner
    shot(page, "dispatcher-board-reassigned")


def test_a_manager_reads_the_dashboard_charts(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "manager", "demo-manager")
    page.get_by_role("link", name="管理看板").click()
    page.wait_for_url("**/dashboard")
    for chart in ("volumes", "surveys", "fairness", "coverage"):
        page.wait_for_selector(f"#chart-{chart}[data-ready='1'] svg", timeout=15_000)
    assert int(page.locator("#kpi-opened").inner_text()) > 0
    assert page.locator("#chart-coverage svg path").count() > 300  # one dot per county
    for _ in range(30):  # the demo's worker computes the first attainment report as it starts
        if page.locator("#sla-attainment").count():
            break
        page.wait_for_timeout(500)
        page.reload()
        page.wait_for_selector("#chart-coverage[data-ready='1'] svg", timeout=15_000)
    assert re.search(r"\d+\.\d%|—", page.locator("#sla-attainment tbody").inner_text())
    page.wait_for_selector("#chart-sla[data-ready='1'] svg", timeout=15_000)  # met / missed / running per target
    shot(page, "manager-dashboard")


def test_an_agent_takes_a_call_in_one_screen_with_an_intent_hint(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "agent", "demo-agent")
    page.get_by_role("link", name="热线工作台").click()
    clicks = 0
    page.get_by_label("来电号码").fill("13800138000")
    page.get_by_role("button", name="查询").click()
    clicks += 1
    assert "张伟" in page.locator("#new-ticket").inner_text() and page.locator("#my-queue").is_visible()
    page.get_by_label("主题").fill("我要退订延保服务")
    page.wait_for_selector("#intent-hint strong", timeout=10_000)
    assert "不得劝阻" in page.locator("#intent-hint").inner_text()
    page.get_by_label("主题").fill("密码面板无反应")
    page.select_option("#category", "repair")
    clicks += 1
    shot(page, "agent-console")
    page.get_by_role("button", name="建立服务单").click()
    clicks += 1
    page.wait_for_url("**/tickets/*")
    assert "密码面板无反应" in page.locator("h1").inner_text() and clicks == 3


def test_a_customer_reports_a_repair_and_books_a_window_on_a_phone(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    login(page, "customer", "demo-customer")
    page.wait_for_url("**/my")
    clicks = 0
    page.get_by_role("link", name="我要报修").click()
    clicks += 1
    page.get_by_label("出了什么问题").fill("指纹识别经常失败")
    page.wait_for_selector("#resolved:has-text('漳浦县')", timeout=10_000)  # the address, resolved as typed
    photo = page.screenshot(clip={"x": 0, "y": 0, "width": 120, "height": 90})  # a real PNG, as a camera would give
    page.get_by_label(re.compile("故障照片")).set_input_files(
        files=[{"name": "fault.png", "mimeType": "image/png", "buffer": photo}])
    shot(page, "customer-repair-375")
    page.get_by_role("button", name="下一步：选择上门时间").click()
    clicks += 1
    page.locator("#windows button").first.click()
    clicks += 1
    page.wait_for_load_state()
    assert page.locator("#visit-window").count() == 1, page.locator("main").inner_text()[:500]
    assert "您的上门预约" in page.locator("#visit").inner_text() and clicks == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "customer-visit-375")
    page.get_by_role("link", name=re.compile(r"AG-\d{8}-\d{6}")).first.click()  # the request: photo, deadlines
    img = page.locator("#photos img")
    img.wait_for()
    assert img.get_attribute("alt") == "照片 1" and img.evaluate("i => i.complete && i.naturalWidth") == 120
    assert "工作小时" in page.locator("#resolution-due").inner_text()  # the deadline, counting down
    assert page.locator("#progress li[aria-current=step]").inner_text() == "已派单"
    assert "400-888-6666" in page.locator("#hotline").inner_text()
    assert "400-888-6666" in page.locator("#visit-phone").inner_text()  # whom to call about the visit
    shot(page, "customer-request-375")
    # Withdrawing asks first and says the booked visit goes with it; going back changes nothing.
    page.get_by_role("link", name="取消报修").click()
    assert "已预约的上门将一并取消" in page.locator("#what-happens").inner_text()
    shot(page, "customer-withdraw-confirm-375")
    page.get_by_role("link", name="返回，不做更改").click()
    assert page.locator("#ticket-status").inner_text() == "已预约"
    page.get_by_role("link", name="取消报修").click()
    page.get_by_role("button", name="确认取消报修").click()
    page.wait_for_selector("#progress-cancelled")
    assert page.locator("#ticket-status").inner_text() == "已取消"
    assert "取消了上门" in page.locator("#customer-history").inner_text()
    context.close()


def test_a_person_is_one_click_away_in_the_chat_on_a_phone(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    login(page, "customer", "demo-customer")
    page.wait_for_url("**/my")
    page.get_by_role("link", name="在线咨询").click()
    page.get_by_label("消息").fill("我想取消延保")
    page.get_by_role("button", name="提交").click()
    assert page.get_by_role("button", name="转人工").is_visible()  # always there, above the conversation
    page.get_by_role("button", name="转人工").click()
    status = page.locator("#chat-status").inner_text()
    assert status in ("人工服务中", "等待人工")  # the demo's agent takes it, or it waits in the published queue
    shot(page, "customer-chat-375")
    context.close()


def _technicians_csv(n: int) -> bytes:
    rows = ["username,display_name,outlet_code,weekdays,shifts"]
    rows += [f"import-{i:04d},导入师傅{i},AG-002,1-5,08:30-12:30" for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def test_a_manager_imports_technicians_and_watches_the_progress(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "manager", "demo-manager")
    clicks = 0
    page.get_by_role("link", name="导入与导出").click()
    clicks += 1
    page.select_option("#import-kind", "technicians")
    page.get_by_label(re.compile("文件（CSV")).set_input_files(
        files=[{"name": "技师名单.csv", "mimeType": "text/csv", "buffer": _technicians_csv(1500)}])
    clicks += 1
    shot(page, "manager-runs")
    page.get_by_role("button", name="开始导入").click()
    clicks += 1
    page.wait_for_url("**/runs/*")
    seen = []
    for _ in range(240):  # htmx refreshes the status every second until the run ends
        status = page.locator("#run-status").get_attribute("data-status")
        if not seen or seen[-1] != status:
            seen.append(status)
            if status == "running":
                shot(page, "manager-import-progress")
        if status in ("done", "failed"):
            break
        page.wait_for_timeout(250)
    assert seen[0] in ("queued", "running") and seen[-1] == "done", seen
    assert page.locator("#run-summary").inner_text() == "已导入 1500 / 1500 行" and clicks == 3
    shot(page, "manager-import-done")


def test_a_manager_exports_the_requests_from_the_dashboard(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "manager", "demo-manager")
    page.goto("/dashboard")
    page.get_by_role("button", name="导出服务单（CSV）").click()
    page.wait_for_url("**/runs/*")
    link = page.locator("#run-download")
    link.wait_for(timeout=60_000)  # appears when the worker has written the file
    with page.expect_download() as download:
        link.click()
    data = open(download.value.path(), "rb").read()  # noqa: SIM115 - read once in a test
    assert data.decode("utf-8-sig").startswith("服务单号,受理时间") and data.count(b"\nAG-") >= 6  # read in Excel
    shot(page, "manager-export-done")
